/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package layer2

import (
	"net"
	"net/netip"

	"github.com/mdlayher/ndp"
)

// ndpConn sends and receives NDP messages on one interface, from its link-local address.
type ndpConn interface {
	// ReadFrom reads one ICMPv6 message into b. hopLimit is the packet's hop limit, -1 when unknown.
	ReadFrom(b []byte) (n int, hopLimit int, src netip.Addr, err error)
	// WriteTo sends m to dst from the link-local address, with hop limit 255.
	WriteTo(m ndp.Message, dst netip.Addr) error
	JoinGroup(group netip.Addr) error
	LeaveGroup(group netip.Addr) error
	Close() error
}

// ndpResponder answers Neighbor Solicitations on one interface.
type ndpResponder struct {
	name      string
	mac       net.HardwareAddr
	linkLocal netip.Addr
	conn      ndpConn
	// groups counts the owned addresses behind each solicited-node multicast group joined: addresses that
	// share their low 24 bits share a group (RFC 4291 §2.7.1).
	groups map[netip.Addr]int
	// joined maps the owned addresses whose group was joined to that group.
	joined map[netip.Addr]netip.Addr
}

// RFC 4861 constants.
const (
	// ndpHopLimit is the hop limit of every NDP message; a received one with another value crossed a router
	// and must be dropped (RFC 4861 §7.1.1).
	ndpHopLimit = 255
	// icmpTypeNeighborSolicitation is the ICMPv6 type of a Neighbor Solicitation.
	icmpTypeNeighborSolicitation = 135
	// nsMinLen is the length of a Neighbor Solicitation without options.
	nsMinLen = 24
)

// allNodes is ff02::1, where Neighbor Advertisements without a unicast destination go.
var allNodes = netip.MustParseAddr("ff02::1")

// parseNS returns the target of a received Neighbor Solicitation and where the answer goes, if the message
// passes RFC 4861 §7.1.1 validation: hop limit 255 (when known), code 0, at least 24 bytes, a target that is
// not multicast, and no source link-layer address option when the source is unspecified (a duplicate
// address detection probe). A solicitation from a unicast source is answered to that source; one from the
// unspecified address (DAD) to all-nodes, with Solicited clear (RFC 4861 §7.2.4). Unlike MetalLB, a
// solicitation without a source link-layer address option is answered too: unicast NUD probes may omit it,
// and the kernel resolves the destination of the reply itself.
func parseNS(b []byte, hopLimit int, src netip.Addr) (target, dst netip.Addr, solicited, ok bool) {
	if hopLimit >= 0 && hopLimit != ndpHopLimit || len(b) < nsMinLen || b[0] != icmpTypeNeighborSolicitation || b[1] != 0 {
		return netip.Addr{}, netip.Addr{}, false, false
	}
	m, err := ndp.ParseMessage(b)
	if err != nil {
		return netip.Addr{}, netip.Addr{}, false, false
	}
	ns, isNS := m.(*ndp.NeighborSolicitation)
	if !isNS || !ns.TargetAddress.Is6() || ns.TargetAddress.Is4In6() || ns.TargetAddress.IsMulticast() {
		return netip.Addr{}, netip.Addr{}, false, false
	}
	src = src.WithZone("")
	switch {
	case src.IsUnspecified():
		for _, o := range ns.Options {
			if lla, isLLA := o.(*ndp.LinkLayerAddress); isLLA && lla.Direction == ndp.Source {
				return netip.Addr{}, netip.Addr{}, false, false
			}
		}
		return ns.TargetAddress.WithZone(""), allNodes, false, true
	case src.Is6() && !src.Is4In6() && !src.IsMulticast():
		return ns.TargetAddress.WithZone(""), src, true, true
	}
	return netip.Addr{}, netip.Addr{}, false, false
}

// neighborAdvertisement returns the advertisement of target at mac. Override is set because the node is
// the address's owner, not a proxy: after a failover the clients' cached entries must move to the new owner
// (RFC 4861 §7.2.6, §7.2.8 reserves a clear Override for proxies and anycast).
func neighborAdvertisement(target netip.Addr, mac net.HardwareAddr, solicited bool) *ndp.NeighborAdvertisement {
	return &ndp.NeighborAdvertisement{
		Solicited:     solicited,
		Override:      true,
		TargetAddress: target,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac}},
	}
}

// join joins the solicited-node multicast group of ip unless another owned address already did: NICs with
// multicast filtering drop solicitations for groups nobody joined (cilium#41952).
func (n *ndpResponder) join(ip netip.Addr) error {
	if _, ok := n.joined[ip]; ok {
		return nil
	}
	group, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		return err
	}
	if n.groups[group] == 0 {
		if err := n.conn.JoinGroup(group); err != nil {
			return err
		}
	}
	n.groups[group]++
	n.joined[ip] = group
	return nil
}

// leave drops ip's reference to its solicited-node group and leaves the group with the last one.
func (n *ndpResponder) leave(ip netip.Addr) error {
	group, ok := n.joined[ip]
	if !ok {
		return nil
	}
	delete(n.joined, ip)
	n.groups[group]--
	if n.groups[group] > 0 {
		return nil
	}
	delete(n.groups, group)
	return n.conn.LeaveGroup(group)
}
