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

package bgp

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/ferrolb/ferrolb/internal/advertise"
)

// gracefulRestartTime is the restart time announced with graceful restart (RFC 4724 §3, at most 4095 s):
// FRR's default.
const gracefulRestartTime = 120

// Key is the session's canonical form: two Sessions with the same Key open the same session, so SetPeers
// re-creates a session exactly when its Key changes. It holds a digest of the password, never the password,
// and leaves the next hop overrides out: they change routes, not the session.
func (s Session) Key() string {
	var pw string
	if s.Password != "" {
		sum := sha256.Sum256([]byte(s.Password))
		pw = hex.EncodeToString(sum[:8])
	}
	return fmt.Sprintf("name=%s as=%d local-as=%d peer-as=%d dynamic=%s addr=%s port=%d src=%s rid=%s "+
		"hold=%d keepalive=%d connect=%d md5=%s multihop=%t gr=%t dual=%t",
		s.Name, s.MyASN, s.LocalASN, s.PeerASN, s.DynamicASN, addrString(s.Address), cmp.Or(s.Port, 179),
		addrString(s.SourceAddress), addrString(s.RouterID), seconds(s.holdTime()), seconds(s.keepaliveTime()),
		seconds(s.connectTime()), pw, s.EBGPMultiHop, s.GracefulRestart, s.DualStack)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	return a.Unmap().String()
}

func (s *Session) holdTime() time.Duration { return cmp.Or(s.HoldTime, DefaultHoldTime) }

func (s *Session) keepaliveTime() time.Duration { return cmp.Or(s.KeepaliveTime, s.holdTime()/3) }

func (s *Session) connectTime() time.Duration { return cmp.Or(s.ConnectTime, DefaultConnectTime) }

// seconds is the whole seconds of d, at least 1: GoBGP's timers are in seconds and take 0 as "unset".
func seconds(d time.Duration) uint64 {
	return max(1, uint64(d/time.Second))
}

// families are the GoBGP address families the session carries.
func (s *Session) families() []*api.Family {
	v4 := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	v6 := &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	switch {
	case s.DualStack:
		return []*api.Family{v4, v6}
	case s.Address.Unmap().Is4():
		return []*api.Family{v4}
	}
	return []*api.Family{v6}
}

// peerASN is the AS GoBGP expects from the peer; 0 makes it accept any AS in the OPEN.
func (s *Session) peerASN() uint32 {
	switch s.DynamicASN {
	case DynamicASNInternal:
		return s.localASN()
	case DynamicASNExternal:
		return 0
	}
	return s.PeerASN
}

// apiPeer is GoBGP's neighbour configuration for the session.
func apiPeer(s *Session, idleHold time.Duration) *api.Peer {
	// Cilium's lesson: leaving the local address empty lets GoBGP fill in defaults that differ between calls.
	local := s.SourceAddress.Unmap()
	if !local.IsValid() {
		local = netip.IPv4Unspecified()
		if s.Address.Unmap().Is6() {
			local = netip.IPv6Unspecified()
		}
	}
	p := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: s.Address.Unmap().String(),
			PeerAsn:         s.peerASN(),
			LocalAsn:        s.localASN(),
			AuthPassword:    s.Password,
			Description:     s.Name,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:           seconds(s.connectTime()),
			HoldTime:               seconds(s.holdTime()),
			KeepaliveInterval:      seconds(s.keepaliveTime()),
			IdleHoldTimeAfterReset: seconds(idleHold),
		}},
		Transport: &api.Transport{
			LocalAddress: local.String(),
			RemotePort:   uint32(cmp.Or(s.Port, 179)),
		},
	}
	if s.EBGPMultiHop {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: 255}
	}
	if s.GracefulRestart {
		p.GracefulRestart = &api.GracefulRestart{Enabled: true, RestartTime: gracefulRestartTime}
	}
	for _, f := range s.families() {
		af := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}}
		if s.GracefulRestart {
			af.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
		p.AfiSafis = append(p.AfiSafis, af)
	}
	return p
}

// nextHopFor chooses the next hop of a route of the prefix's family on the session.
//
//   - An override of the family wins.
//   - A route of the session's own family gets the unspecified address: GoBGP replaces it, when it builds
//     each UPDATE, with the session's actual local address (the source address, or the one the kernel chose).
//     That is the address the router reaches the node on, and it stays right across reconnects.
//   - A route of the other family (dual-stack sessions) needs an address of that family that the router can
//     reach: the node's address of that family on the interface holding the session's local address
//     (ifaceAddrs), global unicast first, never link-local. GoBGP would otherwise put an IPv4-mapped IPv6
//     address in MP_REACH_NLRI, which routers reject or blackhole.
//
// It returns an error when no such address is known (yet).
func nextHopFor(prefix netip.Prefix, s *Session, ifaceAddrs []netip.Addr) (netip.Addr, error) {
	v4 := prefix.Addr().Is4()
	if v4 && s.NextHopIPv4.IsValid() {
		return s.NextHopIPv4, nil
	}
	if !v4 && s.NextHopIPv6.IsValid() {
		return s.NextHopIPv6, nil
	}
	if s.Address.Unmap().Is4() == v4 {
		if v4 {
			return netip.IPv4Unspecified(), nil
		}
		return netip.IPv6Unspecified(), nil
	}
	var fallback netip.Addr
	for _, a := range ifaceAddrs {
		if a.Is4() != v4 || a.Is4In6() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsMulticast() {
			continue
		}
		if a.IsGlobalUnicast() {
			return a, nil
		}
		if !fallback.IsValid() {
			fallback = a
		}
	}
	if fallback.IsValid() {
		return fallback, nil
	}
	family := "IPv6"
	if v4 {
		family = "IPv4"
	}
	return netip.Addr{}, fmt.Errorf("no %s next hop for %s: no %s address next to the session's local address", family, prefix, family)
}

// buildAttrs returns the path attributes of the route: ORIGIN IGP, the next hop (NEXT_HOP for IPv4,
// MP_REACH_NLRI for IPv6), LOCAL_PREF for iBGP (RFC 4271 §5.1.5: never to external peers; GoBGP adds its
// default 100 to iBGP routes without one), COMMUNITIES and LARGE_COMMUNITY. AS_PATH is left to GoBGP, which
// prepends the local AS towards external peers and sends it empty to internal ones.
func buildAttrs(r *advertise.Route, nextHop netip.Addr, internal bool) ([]bgp.PathAttributeInterface, bgp.AddrPrefixInterface) {
	var nlri bgp.AddrPrefixInterface
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	prefix := r.Prefix.Masked()
	if prefix.Addr().Is4() {
		nlri = bgp.NewIPAddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
		attrs = append(attrs, bgp.NewPathAttributeNextHop(nextHop.String()))
	} else {
		nlri = bgp.NewIPv6AddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
		attrs = append(attrs, bgp.NewPathAttributeMpReachNLRI(nextHop.String(), []bgp.AddrPrefixInterface{nlri}))
	}
	if internal && r.LocalPref > 0 {
		attrs = append(attrs, bgp.NewPathAttributeLocalPref(r.LocalPref))
	}
	if len(r.Communities) > 0 {
		values := make([]uint32, len(r.Communities))
		for i, c := range r.Communities {
			values[i] = uint32(c)
		}
		attrs = append(attrs, bgp.NewPathAttributeCommunities(values))
	}
	if len(r.LargeCommunities) > 0 {
		values := make([]*bgp.LargeCommunity, len(r.LargeCommunities))
		for i, c := range r.LargeCommunities {
			values[i] = bgp.NewLargeCommunity(c.GlobalAdmin, c.LocalData1, c.LocalData2)
		}
		attrs = append(attrs, bgp.NewPathAttributeLargeCommunities(values))
	}
	return attrs, nlri
}

// buildPath is the GoBGP path announcing the route.
func buildPath(r *advertise.Route, nextHop netip.Addr, internal bool) (*api.Path, error) {
	attrs, nlri := buildAttrs(r, nextHop, internal)
	return apiutil.NewPath(nlri, false, attrs, time.Now())
}

// fingerprint describes what a path announces, so that a path listed from GoBGP's RIB compares with the one
// that should be there: next hop, origin, LOCAL_PREF, communities and large communities, each sorted.
func fingerprint(attrs []bgp.PathAttributeInterface) string {
	var nh, origin, lp string
	var comms, large []string
	for _, a := range attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeNextHop:
			nh = a.Value.String()
		case *bgp.PathAttributeMpReachNLRI:
			nh = a.Nexthop.String()
		case *bgp.PathAttributeOrigin:
			origin = fmt.Sprint(a.Value)
		case *bgp.PathAttributeLocalPref:
			lp = fmt.Sprint(a.Value)
		case *bgp.PathAttributeCommunities:
			for _, v := range a.Value {
				comms = append(comms, fmt.Sprintf("%d:%d", v>>16, v&0xffff))
			}
		case *bgp.PathAttributeLargeCommunities:
			for _, v := range a.Values {
				large = append(large, fmt.Sprintf("%d:%d:%d", v.ASN, v.LocalData1, v.LocalData2))
			}
		}
	}
	slices.Sort(comms)
	slices.Sort(large)
	return fmt.Sprintf("nh=%s origin=%s lp=%s c=%s lc=%s", nh, origin, lp, strings.Join(comms, ","), strings.Join(large, ","))
}

// prefixOf returns the prefix a GoBGP unicast NLRI announces.
func prefixOf(nlri bgp.AddrPrefixInterface) (netip.Prefix, error) {
	switch n := nlri.(type) {
	case *bgp.IPAddrPrefix:
		addr, ok := netip.AddrFromSlice(n.Prefix.To4())
		if !ok {
			return netip.Prefix{}, fmt.Errorf("bad IPv4 NLRI %s", n)
		}
		return netip.PrefixFrom(addr, int(n.Length)), nil
	case *bgp.IPv6AddrPrefix:
		addr, ok := netip.AddrFromSlice(n.Prefix.To16())
		if !ok {
			return netip.Prefix{}, fmt.Errorf("bad IPv6 NLRI %s", n)
		}
		return netip.PrefixFrom(addr, int(n.Length)), nil
	}
	return netip.Prefix{}, errors.New("not a unicast NLRI")
}

// sessionState names GoBGP's FSM states as FRR and MetalLB do.
func sessionState(s api.PeerState_SessionState) string {
	switch s {
	case api.PeerState_IDLE:
		return "idle"
	case api.PeerState_CONNECT:
		return "connect"
	case api.PeerState_ACTIVE:
		return "active"
	case api.PeerState_OPENSENT:
		return "opensent"
	case api.PeerState_OPENCONFIRM:
		return "openconfirm"
	case api.PeerState_ESTABLISHED:
		return "established"
	}
	return "unknown"
}
