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
	"net/netip"
	"testing"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
)

// FuzzARPHandle feeds arbitrary frames to the ARP request path. It must never panic, and whatever it sends
// must be a reply from the interface for 192.0.2.10, the only address owned on eth0 (192.0.2.11 is owned on
// eth1 only).
func FuzzARPHandle(f *testing.F) {
	valid := func(target netip.Addr, mutate func(*ethernet.Frame, *arp.Packet)) []byte {
		p, _ := arp.NewPacket(arp.OperationRequest, macClient, client4, ethernet.Broadcast, target)
		fr := &ethernet.Frame{Destination: ethernet.Broadcast, Source: macClient, EtherType: ethernet.EtherTypeARP}
		if mutate != nil {
			mutate(fr, p)
		}
		fr.Payload, _ = p.MarshalBinary()
		b, _ := fr.MarshalBinary()
		return b
	}
	f.Add(valid(vip4, nil))
	f.Add(valid(vip4b, nil))
	f.Add(valid(vip4, func(_ *ethernet.Frame, p *arp.Packet) { p.SenderIP = netip.IPv4Unspecified() }))
	f.Add(valid(vip4, func(fr *ethernet.Frame, _ *arp.Packet) { fr.Destination = macEth0 }))
	f.Add(valid(vip4, func(fr *ethernet.Frame, _ *arp.Packet) { fr.VLAN = &ethernet.VLAN{ID: 7} }))
	f.Add(valid(vip4, nil)[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		r, sys, _ := newTestResponder(t)
		r.SetOwned(vip4, NamedInterfaces("eth0"), 0)
		r.SetOwned(vip4b, NamedInterfaces("eth1"), 0)
		conn := sys.arpConn("eth0")
		conn.take()
		l := linkOf(t, r, "eth0")
		r.handleARP(l, l.arp, frame)
		for _, s := range summarizeARP(t, conn.take()) {
			if s.Op != arp.OperationReply || s.SenderIP != vip4.String() || s.SenderMAC != macEth0.String() || s.Dst == bcast {
				t.Fatalf("answered %x with %+v", frame, s)
			}
		}
	})
}

// FuzzNDPHandle feeds arbitrary ICMPv6 messages, hop limits and sources to the Neighbor Solicitation path.
// It must never panic, and whatever it sends must be an advertisement of 2001:db8::1:10, the only address
// owned on eth0, to the source or to all-nodes.
func FuzzNDPHandle(f *testing.F) {
	ns := func(target netip.Addr, withSLLA bool) []byte {
		m := &ndp.NeighborSolicitation{TargetAddress: target}
		if withSLLA {
			m.Options = []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: macClient}}
		}
		b, _ := ndp.MarshalMessage(m)
		return b
	}
	client := llClient.As16()
	unspecified := netip.IPv6Unspecified().As16()
	f.Add(ns(vip6, true), 255, client[:])
	f.Add(ns(vip6, false), 255, unspecified[:])
	f.Add(ns(netip.MustParseAddr("2001:db8::2:20"), true), 255, client[:])
	f.Add(ns(vip6, true), 64, client[:])
	f.Add(ns(vip6, true)[:10], -1, client[:])
	f.Fuzz(func(t *testing.T, msg []byte, hopLimit int, src []byte) {
		srcAddr, _ := netip.AddrFromSlice(src)
		r, sys, _ := newTestResponder(t)
		r.SetOwned(vip6, NamedInterfaces("eth0"), 0)
		r.SetOwned(netip.MustParseAddr("2001:db8::2:20"), NamedInterfaces("eth1"), 0)
		conn := sys.ndpConn("eth0")
		conn.take()
		l := linkOf(t, r, "eth0")
		r.handleNDP(l, l.ndp, msg, hopLimit, srcAddr)
		for _, s := range summarizeNA(t, conn.take()) {
			if s.Target != vip6.String() || !s.Override || s.TargetMAC != macEth0.String() ||
				s.Dst != "ff02::1" && s.Dst != srcAddr.WithZone("").String() || s.Dst == "ff02::1" && s.Solicited {
				t.Fatalf("answered %x from %s with %+v", msg, srcAddr, s)
			}
		}
	})
}
