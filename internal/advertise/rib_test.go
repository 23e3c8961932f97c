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

package advertise

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/config"
)

func TestRIBChanges(t *testing.T) {
	c1, c2 := config.StandardCommunity(1<<16|1), config.StandardCommunity(1<<16|2)
	v4a, v4b := netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("192.0.2.11/32")
	v6 := netip.MustParsePrefix("2001:db8::10/128")
	ibgp := func(p *config.Peer) { p.PeerASN = p.MyASN }

	type step struct {
		peers    []*config.Peer // set when not nil
		service  string
		adverts  []Advertisement
		changed  bool
		want     Changes
		wantAll  bool
		wantLen  int
		noChange bool // Changes holds no prefix
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "the first Changes is everything, then only what a Service changed",
			steps: []step{
				{peers: []*config.Peer{peer("p1")}, wantAll: true},
				{service: "ns/a", adverts: []Advertisement{{Prefix: v4a, Communities: []config.StandardCommunity{c1}}}, changed: true,
					want: Changes{"p1": {v4a: {Prefix: v4a, Communities: []config.StandardCommunity{c1}}}}, wantLen: 1},
				{service: "ns/b", adverts: []Advertisement{{Prefix: v4b}}, changed: true,
					want: Changes{"p1": {v4b: {Prefix: v4b}}}, wantLen: 2},
				{service: "ns/a", adverts: nil, changed: true, want: Changes{"p1": {v4a: nil}}, wantLen: 1},
			},
		},
		{
			name: "the same advertisements again change nothing",
			steps: []step{
				{peers: []*config.Peer{peer("p1")}, wantAll: true},
				{service: "ns/a", adverts: []Advertisement{{Prefix: v4a}}, changed: true, want: Changes{"p1": {v4a: {Prefix: v4a}}}, wantLen: 1},
				{service: "ns/a", adverts: []Advertisement{{Prefix: v4a}}, changed: false, noChange: true, wantLen: 1},
				{service: "ns/ghost", adverts: nil, changed: false, noChange: true, wantLen: 1},
			},
		},
		{
			name: "a shared prefix stays while one of its Services advertises it, with the remaining attributes",
			steps: []step{
				{peers: []*config.Peer{peer("p1", ibgp)}, wantAll: true},
				{service: "ns/a", adverts: []Advertisement{{Prefix: v4a, LocalPref: 200, Communities: []config.StandardCommunity{c1}}}, changed: true,
					want: Changes{"p1": {v4a: {Prefix: v4a, LocalPref: 200, Communities: []config.StandardCommunity{c1}}}}, wantLen: 1},
				{service: "ns/b", adverts: []Advertisement{{Prefix: v4a, LocalPref: 100, Communities: []config.StandardCommunity{c2}}}, changed: true,
					want: Changes{"p1": {v4a: {Prefix: v4a, LocalPref: 200, Communities: []config.StandardCommunity{c1, c2}}}}, wantLen: 2},
				{service: "ns/a", adverts: nil, changed: true,
					want: Changes{"p1": {v4a: {Prefix: v4a, LocalPref: 100, Communities: []config.StandardCommunity{c2}}}}, wantLen: 1},
			},
		},
		{
			name: "a peer carries only its family and the advertisements addressed to it",
			steps: []step{
				{peers: []*config.Peer{peer("p1"), peer("p2")}, wantAll: true},
				{service: "ns/a", adverts: []Advertisement{{Prefix: v4a, Peers: []string{"p2"}}, {Prefix: v6}}, changed: true,
					want: Changes{"p1": {v4a: nil, v6: nil}, "p2": {v4a: {Prefix: v4a}, v6: nil}}, wantLen: 1},
			},
		},
		{
			name: "peers: a change of routing hands everything again, the same peers nothing",
			steps: []step{
				{peers: []*config.Peer{peer("p1")}, wantAll: true},
				{service: "ns/a", adverts: []Advertisement{{Prefix: v4a}}, changed: true, want: Changes{"p1": {v4a: {Prefix: v4a}}}, wantLen: 1},
				// A password is not routing.
				{peers: []*config.Peer{peer("p1", func(p *config.Peer) { p.Password = "x" })}, noChange: true, wantLen: 1},
				{peers: []*config.Peer{peer("p1", ibgp)}, wantAll: true, wantLen: 1},
				{peers: []*config.Peer{peer("p1", ibgp), peer("p2")}, wantAll: true, wantLen: 1},
				{peers: []*config.Peer{peer("p1", ibgp), peer("p2", func(p *config.Peer) { p.DualStackAddressFamily = true })}, wantAll: true, wantLen: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rib := NewRIB()
			for i, s := range tt.steps {
				if s.peers != nil {
					rib.SetPeers(s.peers)
				} else if got := rib.SetService(s.service, s.adverts); got != s.changed {
					t.Errorf("step %d: SetService = %v, want %v", i, got, s.changed)
				}
				got, all := rib.Changes()
				if all != s.wantAll {
					t.Errorf("step %d: all = %v, want %v", i, all, s.wantAll)
				}
				if s.noChange {
					for peer, routes := range got {
						if len(routes) > 0 {
							t.Errorf("step %d: changes for %s: %v, want none", i, peer, routes)
						}
					}
				} else if !s.wantAll {
					if diff := cmp.Diff(s.want, got, cmpOptions); diff != "" {
						t.Errorf("step %d: changes (-want +got):\n%s", i, diff)
					}
				}
				if rib.Len() != s.wantLen {
					t.Errorf("step %d: Len = %d, want %d", i, rib.Len(), s.wantLen)
				}
			}
		})
	}
}

// TestRIBMatchesTable applies random changes to a RIB and checks, after each, that the routes a receiver of
// Changes holds (starting from Routes when told all changed) are what Table computes from scratch.
func TestRIBMatchesTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("192.0.2.2/32"), netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("2001:db8::1/128"), netip.MustParsePrefix("2001:db8::/64"),
	}
	peerSets := [][]*config.Peer{
		{peer("p1"), peer("p2", func(p *config.Peer) { p.PeerASN = p.MyASN })},
		{peer("p1"), peer("p3", func(p *config.Peer) { p.DualStackAddressFamily = true })},
		{peer("p2", func(p *config.Peer) { p.Address = netip.MustParseAddr("2001:db8::ffff") })},
	}
	randomAdverts := func() []Advertisement {
		var adverts []Advertisement
		for range rng.IntN(3) {
			a := Advertisement{Prefix: prefixes[rng.IntN(len(prefixes))], LocalPref: uint32(rng.IntN(3) * 100)}
			for range rng.IntN(3) {
				a.Communities = append(a.Communities, config.StandardCommunity(rng.IntN(4)))
			}
			slices.Sort(a.Communities)
			a.Communities = slices.Compact(a.Communities)
			if rng.IntN(3) == 0 {
				a.Peers = []string{[]string{"p1", "p2", "p3"}[rng.IntN(3)]}
			}
			adverts = append(adverts, a)
		}
		return adverts
	}

	rib := NewRIB()
	services := map[string][]Advertisement{}
	peers := peerSets[0]
	rib.SetPeers(peers)
	held := map[string]map[netip.Prefix]Route{}
	for step := range 2000 {
		if rng.IntN(50) == 0 {
			peers = peerSets[rng.IntN(len(peerSets))]
			rib.SetPeers(peers)
		} else {
			key := fmt.Sprintf("ns/svc-%d", rng.IntN(8))
			adverts := randomAdverts()
			rib.SetService(key, adverts)
			if len(adverts) == 0 {
				delete(services, key)
			} else {
				services[key] = adverts
			}
		}
		changes, all := rib.Changes()
		if all {
			held = map[string]map[netip.Prefix]Route{}
			for name, routes := range rib.Routes() {
				held[name] = map[netip.Prefix]Route{}
				for _, r := range routes {
					held[name][r.Prefix] = r
				}
			}
		}
		for name, routes := range changes {
			if held[name] == nil {
				held[name] = map[netip.Prefix]Route{}
			}
			for p, r := range routes {
				if r == nil {
					delete(held[name], p)
				} else {
					held[name][p] = *r
				}
			}
		}
		got := map[string][]Route{}
		for name, routes := range held {
			got[name] = slices.SortedFunc(maps.Values(routes), func(a, b Route) int { return ComparePrefixes(a.Prefix, b.Prefix) })
			if len(got[name]) == 0 {
				got[name] = []Route{}
			}
		}
		want := Table(services, peers)
		for name, routes := range want {
			if routes == nil {
				want[name] = []Route{}
			}
		}
		if diff := cmp.Diff(want, got, cmpOptions); diff != "" {
			t.Fatalf("step %d: routes held from Changes (-Table +held):\n%s", step, diff)
		}
	}
}

// BenchmarkRIBChange is what one Service more costs the route table with 10,000 Services advertised to two
// peers: SetService and Changes (compare BenchmarkTable, which recomputes everything).
func BenchmarkRIBChange(b *testing.B) {
	peers := []*config.Peer{peer("p1"), peer("p2", func(p *config.Peer) { p.DualStackAddressFamily = true })}
	rib := NewRIB()
	rib.SetPeers(peers)
	advertsOf := func(i int) []Advertisement {
		v4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		return []Advertisement{
			{Prefix: netip.PrefixFrom(v4, 32), Communities: []config.StandardCommunity{1, 2}},
			{Prefix: netip.PrefixFrom(v4, 24), LocalPref: 100, Peers: []string{"p2"}},
		}
	}
	for i := range 10000 {
		rib.SetService(fmt.Sprintf("ns/svc-%d", i), advertsOf(i))
	}
	rib.Changes()
	extra := advertsOf(10000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if i%2 == 0 {
			rib.SetService("ns/extra", extra)
		} else {
			rib.SetService("ns/extra", nil)
		}
		rib.Changes()
	}
}

// BenchmarkRIBRoutes is what handing the whole table costs (the first time, and when the peers change) with
// 10,000 Services advertised to two peers.
func BenchmarkRIBRoutes(b *testing.B) {
	peers := []*config.Peer{peer("p1"), peer("p2", func(p *config.Peer) { p.DualStackAddressFamily = true })}
	rib := NewRIB()
	rib.SetPeers(peers)
	for i := range 10000 {
		v4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		rib.SetService(fmt.Sprintf("ns/svc-%d", i), []Advertisement{
			{Prefix: netip.PrefixFrom(v4, 32), Communities: []config.StandardCommunity{1, 2}},
			{Prefix: netip.PrefixFrom(v4, 24), LocalPref: 100, Peers: []string{"p2"}},
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		rib.Routes()
	}
}
