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
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
)

func baseSession() Session {
	return Session{Name: "p", MyASN: 64500, PeerASN: 64501, Address: netip.MustParseAddr("192.0.2.1"), Port: 179}
}

func TestSessionKey(t *testing.T) {
	base := baseSession()
	tests := []struct {
		name    string
		mutate  func(*Session)
		changes bool
	}{
		{name: "same", mutate: func(*Session) {}, changes: false},
		{name: "default port spelled out", mutate: func(s *Session) { s.Port = 0 }, changes: false},
		{name: "default hold time spelled out", mutate: func(s *Session) { s.HoldTime = DefaultHoldTime }, changes: false},
		{name: "keepalive derived from the hold time", mutate: func(s *Session) { s.KeepaliveTime = DefaultHoldTime / 3 }, changes: false},
		{name: "next hop overrides", mutate: func(s *Session) {
			s.NextHopIPv4, s.NextHopIPv6 = netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8::9")
		}, changes: false},
		{name: "my ASN", mutate: func(s *Session) { s.MyASN = 64502 }, changes: true},
		{name: "local ASN", mutate: func(s *Session) { s.LocalASN = 64502 }, changes: true},
		{name: "peer ASN", mutate: func(s *Session) { s.PeerASN = 4200000000 }, changes: true},
		{name: "dynamic ASN", mutate: func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNExternal }, changes: true},
		{name: "address", mutate: func(s *Session) { s.Address = netip.MustParseAddr("192.0.2.2") }, changes: true},
		{name: "port", mutate: func(s *Session) { s.Port = 1179 }, changes: true},
		{name: "source", mutate: func(s *Session) { s.SourceAddress = netip.MustParseAddr("192.0.2.100") }, changes: true},
		{name: "router ID", mutate: func(s *Session) { s.RouterID = netip.MustParseAddr("10.0.0.1") }, changes: true},
		{name: "hold time", mutate: func(s *Session) { s.HoldTime = 9 * time.Second }, changes: true},
		{name: "keepalive", mutate: func(s *Session) { s.KeepaliveTime = time.Second }, changes: true},
		{name: "connect time", mutate: func(s *Session) { s.ConnectTime = 5 * time.Second }, changes: true},
		{name: "password", mutate: func(s *Session) { s.Password = "x" }, changes: true},
		{name: "multihop", mutate: func(s *Session) { s.EBGPMultiHop = true }, changes: true},
		{name: "graceful restart", mutate: func(s *Session) { s.GracefulRestart = true }, changes: true},
		{name: "dual stack", mutate: func(s *Session) { s.DualStack = true }, changes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mutate(&s)
			if got := s.Key() != base.Key(); got != tt.changes {
				t.Errorf("key changed = %t, want %t\n%s\n%s", got, tt.changes, base.Key(), s.Key())
			}
		})
	}
	s := base
	s.Password = "hunter2"
	if strings.Contains(s.Key(), "hunter2") {
		t.Error("the key holds the password")
	}
}

func TestSessionFromPeer(t *testing.T) {
	hold, keepalive, connect := 9*time.Second, 3*time.Second, 5*time.Second
	zero := time.Duration(0)
	tests := []struct {
		name    string
		peer    config.Peer
		want    Session
		wantErr string
	}{
		{
			name: "every parameter",
			peer: config.Peer{
				Name: "p", MyASN: 64500, PeerASN: 4200000000, Address: netip.MustParseAddr("2001:db8::1"), Port: 1179,
				SourceAddress: netip.MustParseAddr("2001:db8::2"), RouterID: netip.MustParseAddr("10.0.0.1"),
				HoldTime: &hold, KeepaliveTime: &keepalive, ConnectTime: &connect, Password: "pw",
				EBGPMultiHop: true, EnableGracefulRestart: true, DualStackAddressFamily: true, LocalASN: 64510,
			},
			want: Session{
				Name: "p", MyASN: 64500, LocalASN: 64510, PeerASN: 4200000000, Address: netip.MustParseAddr("2001:db8::1"), Port: 1179,
				SourceAddress: netip.MustParseAddr("2001:db8::2"), RouterID: netip.MustParseAddr("10.0.0.1"),
				HoldTime: hold, KeepaliveTime: keepalive, ConnectTime: connect, Password: "pw",
				EBGPMultiHop: true, GracefulRestart: true, DualStack: true,
			},
		},
		{
			name: "dynamic ASN",
			peer: config.Peer{Name: "p", MyASN: 64500, DynamicASN: v1beta2.ExternalASNMode, Address: netip.MustParseAddr("192.0.2.1"), Port: 179},
			want: Session{Name: "p", MyASN: 64500, DynamicASN: DynamicASNExternal, Address: netip.MustParseAddr("192.0.2.1"), Port: 179},
		},
		{name: "BFD", peer: config.Peer{Name: "p", BFDProfile: "fast"}, wantErr: "bfdProfile"},
		{name: "VRF", peer: config.Peer{Name: "p", VRF: "red"}, wantErr: "vrf"},
		{name: "unnumbered", peer: config.Peer{Name: "p", Interface: "eth0"}, wantErr: "interface"},
		{name: "hold time 0", peer: config.Peer{Name: "p", HoldTime: &zero, KeepaliveTime: &zero}, wantErr: "holdTime 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SessionFromPeer(&tt.peer)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrUnsupported about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("session (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Session)
		want   error
	}{
		{name: "valid", mutate: func(*Session) {}},
		{name: "no name", mutate: func(s *Session) { s.Name = "" }, want: ErrInvalidSession},
		{name: "no ASN", mutate: func(s *Session) { s.MyASN = 0 }, want: ErrInvalidSession},
		{name: "no peer ASN", mutate: func(s *Session) { s.PeerASN = 0 }, want: ErrInvalidSession},
		{name: "both ASN and dynamic", mutate: func(s *Session) { s.DynamicASN = DynamicASNInternal }, want: ErrInvalidSession},
		{name: "no address", mutate: func(s *Session) { s.Address = netip.Addr{} }, want: ErrInvalidSession},
		{name: "source of another family", mutate: func(s *Session) { s.SourceAddress = netip.MustParseAddr("::1") }, want: ErrInvalidSession},
		{name: "IPv6 router ID", mutate: func(s *Session) { s.RouterID = netip.MustParseAddr("::1") }, want: ErrInvalidSession},
		{name: "short hold time", mutate: func(s *Session) { s.HoldTime = time.Second }, want: ErrInvalidSession},
		{name: "keepalive above hold", mutate: func(s *Session) { s.HoldTime, s.KeepaliveTime = 3*time.Second, 4*time.Second }, want: ErrInvalidSession},
		{name: "mapped IPv6 next hop", mutate: func(s *Session) { s.NextHopIPv6 = netip.MustParseAddr("::ffff:192.0.2.1") }, want: ErrInvalidSession},
		{name: "IPv6 next hop for IPv4", mutate: func(s *Session) { s.NextHopIPv4 = netip.MustParseAddr("2001:db8::1") }, want: ErrInvalidSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSession()
			tt.mutate(&s)
			if err := s.validate(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAPIPeer(t *testing.T) {
	s := baseSession()
	s.DynamicASN, s.PeerASN = DynamicASNInternal, 0
	s.DualStack, s.GracefulRestart, s.Password = true, true, "pw"
	p := apiPeer(&s, 3*time.Second)
	if p.Conf.PeerAsn != 64500 || p.Conf.LocalAsn != 64500 || p.Conf.AuthPassword != "pw" || p.Conf.NeighborAddress != "192.0.2.1" {
		t.Errorf("conf %v", p.Conf)
	}
	tc := p.Timers.Config
	if tc.HoldTime != 90 || tc.KeepaliveInterval != 30 || tc.ConnectRetry != 2 || tc.IdleHoldTimeAfterReset != 3 {
		t.Errorf("timers %v", tc)
	}
	if p.Transport.LocalAddress != "0.0.0.0" || p.Transport.RemotePort != 179 || p.Transport.PassiveMode {
		t.Errorf("transport %v", p.Transport)
	}
	if len(p.AfiSafis) != 2 || p.AfiSafis[1].MpGracefulRestart == nil || !p.GracefulRestart.Enabled {
		t.Errorf("families %v, graceful restart %v", p.AfiSafis, p.GracefulRestart)
	}
	if p.EbgpMultihop != nil {
		t.Errorf("multihop %v", p.EbgpMultihop)
	}

	s = baseSession()
	s.Address, s.DynamicASN, s.PeerASN, s.EBGPMultiHop = netip.MustParseAddr("2001:db8::1"), DynamicASNExternal, 0, true
	p = apiPeer(&s, time.Second)
	if p.Conf.PeerAsn != 0 || p.Transport.LocalAddress != "::" || len(p.AfiSafis) != 1 ||
		p.AfiSafis[0].Config.Family.Afi.String() != "AFI_IP6" || p.EbgpMultihop.MultihopTtl != 255 {
		t.Errorf("peer %v", p)
	}
}

func TestNextHopFor(t *testing.T) {
	v4route, v6route := netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::10/128")
	v4session := baseSession()
	v6session := baseSession()
	v6session.Address = netip.MustParseAddr("2001:db8::1")
	overridden := v4session
	overridden.NextHopIPv4, overridden.NextHopIPv6 = netip.MustParseAddr("192.0.2.250"), netip.MustParseAddr("2001:db8::250")
	lo := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	eth := []netip.Addr{
		netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fd00::5"),
		netip.MustParseAddr("2001:db8::100"), netip.MustParseAddr("::ffff:192.0.2.100"),
	}
	tests := []struct {
		name    string
		prefix  netip.Prefix
		session Session
		addrs   []netip.Addr
		want    string
	}{
		{name: "IPv4 on IPv4: the session's local address, filled in by GoBGP", prefix: v4route, session: v4session, want: "0.0.0.0"},
		{name: "IPv6 on IPv6: the session's local address", prefix: v6route, session: v6session, want: "::"},
		{name: "override", prefix: v4route, session: overridden, want: "192.0.2.250"},
		{name: "IPv6 override", prefix: v6route, session: overridden, want: "2001:db8::250"},
		{name: "IPv6 on IPv4: first global (ULA included) address of the interface", prefix: v6route, session: v4session, addrs: eth, want: "fd00::5"},
		{name: "IPv6 on IPv4: any but link-local", prefix: v6route, session: v4session, addrs: lo, want: "::1"},
		{name: "IPv4 on IPv6: the interface's IPv4", prefix: v4route, session: v6session, addrs: eth, want: "192.0.2.100"},
		{name: "IPv6 on IPv4, link-local only", prefix: v6route, session: v4session, addrs: []netip.Addr{netip.MustParseAddr("fe80::1")}, want: "error"},
		{name: "IPv6 on IPv4, nothing known", prefix: v6route, session: v4session, want: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nextHopFor(tt.prefix, &tt.session, tt.addrs)
			gotS := got.String()
			if err != nil {
				gotS = "error"
			}
			if gotS != tt.want {
				t.Errorf("next hop = %s (%v), want %s", gotS, err, tt.want)
			}
		})
	}
}

func TestBuildAttrs(t *testing.T) {
	route := advertise.Route{
		Prefix: netip.MustParsePrefix("192.0.2.10/32"), LocalPref: 150,
		Communities:      []config.StandardCommunity{65000<<16 | 2, 65000<<16 | 1},
		LargeCommunities: []config.LargeCommunity{{GlobalAdmin: 1, LocalData1: 2, LocalData2: 3}},
	}
	v6 := advertise.Route{Prefix: netip.MustParsePrefix("2001:db8::/64"), LocalPref: 150}
	tests := []struct {
		name     string
		route    advertise.Route
		nextHop  string
		internal bool
		want     string
	}{
		{name: "iBGP IPv4", route: route, nextHop: "0.0.0.0", internal: true,
			want: "nh=0.0.0.0 origin=0 lp=150 c=65000:1,65000:2 lc=1:2:3"},
		{name: "eBGP drops LOCAL_PREF", route: route, nextHop: "0.0.0.0",
			want: "nh=0.0.0.0 origin=0 lp= c=65000:1,65000:2 lc=1:2:3"},
		{name: "IPv6 next hop in MP_REACH_NLRI", route: v6, nextHop: "2001:db8::100", internal: true,
			want: "nh=2001:db8::100 origin=0 lp=150 c= lc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs, nlri := buildAttrs(&tt.route, netip.MustParseAddr(tt.nextHop), tt.internal)
			if got := fingerprint(attrs); got != tt.want {
				t.Errorf("fingerprint = %q, want %q", got, tt.want)
			}
			prefix, err := prefixOf(nlri)
			if err != nil || prefix != tt.route.Prefix {
				t.Errorf("NLRI prefix %s (%v), want %s", prefix, err, tt.route.Prefix)
			}
			if _, err := buildPath(&tt.route, netip.MustParseAddr(tt.nextHop), tt.internal); err != nil {
				t.Errorf("buildPath: %v", err)
			}
		})
	}
}

func TestRouterIDFromName(t *testing.T) {
	a, b := routerIDFromName("node-a"), routerIDFromName("node-b")
	if !a.Is4() || a == b || a != routerIDFromName("node-a") {
		t.Errorf("router IDs %s, %s", a, b)
	}
}

func TestFakeAndMetrics(t *testing.T) {
	ctx := t.Context()
	f := NewFake()
	a, b := baseSession(), baseSession()
	a.Name, b.Name = "a", "b"
	b.Address = netip.MustParseAddr("2001:db8::1")
	if err := f.SetPeers(ctx, []Session{a, b}); err != nil {
		t.Fatal(err)
	}
	routes := map[string][]advertise.Route{
		"a": {{Prefix: netip.MustParsePrefix("192.0.2.1/32")}, {Prefix: netip.MustParsePrefix("2001:db8::1/128")}},
		"b": {{Prefix: netip.MustParsePrefix("2001:db8::1/128")}},
	}
	if err := f.SetRoutes(ctx, routes); err != nil {
		t.Fatal(err)
	}
	f.SetDown("b", true)
	a.NextHopIPv4 = netip.MustParseAddr("192.0.2.99")
	b.HoldTime = 30 * time.Second
	if err := f.SetPeers(ctx, []Session{a, b}); err != nil {
		t.Fatal(err)
	}
	if f.Created("a") != 1 || f.Created("b") != 2 {
		t.Errorf("created a %d times, b %d times; want 1 and 2", f.Created("a"), f.Created("b"))
	}
	if got := f.Routes(); len(got["a"]) != 1 || len(got["b"]) != 1 {
		t.Errorf("routes %v", got)
	}

	reg := prometheus.NewPedanticRegistry()
	if err := RegisterMetrics(reg, f); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			got[mf.GetName()+" "+m.GetLabel()[0].GetValue()] = v
		}
	}
	want := map[string]float64{
		"metallb_bgp_session_up 192.0.2.1:179":                   1,
		"metallb_bgp_session_up [2001:db8::1]:179":               0,
		"metallb_bgp_updates_total 192.0.2.1:179":                1,
		"metallb_bgp_updates_total [2001:db8::1]:179":            1,
		"metallb_bgp_announced_prefixes_total 192.0.2.1:179":     1,
		"metallb_bgp_announced_prefixes_total [2001:db8::1]:179": 0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if err := f.Close(ctx); err != nil || !f.Closed() || len(f.Peers(ctx)) != 0 {
		t.Errorf("close: %v", err)
	}
}
