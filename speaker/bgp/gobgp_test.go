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
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"

	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
)

// These tests peer the adapter with a second, in-process GoBGP server playing the router: it listens on a
// loopback port with passive neighbours. Timers are short so each test takes a few seconds.

const establishTimeout = 15 * time.Second

// testRouter is the far end: a GoBGP server listening on loopback.
type testRouter struct {
	t    *testing.T
	srv  *server.BgpServer
	port uint16
	asn  uint32
}

func freePort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func newTestRouter(t *testing.T, asn uint32) *testRouter {
	t.Helper()
	ctx := context.Background()
	srv := server.NewBgpServer(server.LoggerOption(newLogger(testLogger(t))))
	go srv.Serve()
	port := freePort(t)
	err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: asn, RouterId: "10.255.255.254", ListenPort: int32(port), ListenAddresses: []string{"127.0.0.1", "::1"},
	}})
	if err != nil {
		t.Fatalf("starting router: %v", err)
	}
	t.Cleanup(func() { _ = srv.StopBgp(context.Background(), &api.StopBgpRequest{}) })
	return &testRouter{t: t, srv: srv, port: port, asn: asn}
}

// addNeighbor configures a passive neighbour for the address.
func (tr *testRouter) addNeighbor(addr string, peerASN uint32, password string) {
	tr.t.Helper()
	err := tr.srv.AddPeer(context.Background(), &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: addr, PeerAsn: peerASN, AuthPassword: password},
		Transport: &api.Transport{PassiveMode: true},
		Timers:    &api.Timers{Config: &api.TimersConfig{HoldTime: 9, KeepaliveInterval: 3, ConnectRetry: 1, IdleHoldTimeAfterReset: 1}},
		AfiSafis: []*api.AfiSafi{
			{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, Enabled: true}},
			{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}, Enabled: true}},
		},
	}})
	if err != nil {
		tr.t.Fatalf("adding neighbour %s: %v", addr, err)
	}
}

func (tr *testRouter) neighbor(addr string) *api.Peer {
	tr.t.Helper()
	var peer *api.Peer
	err := tr.srv.ListPeer(context.Background(), &api.ListPeerRequest{Address: addr}, func(p *api.Peer) { peer = p })
	if err != nil || peer == nil {
		tr.t.Fatalf("router neighbour %s: %v", addr, err)
	}
	return peer
}

// receivedRoute is a route as the router's RIB holds it.
type receivedRoute struct {
	NextHop     string
	LocalPref   string
	ASPath      string
	Communities string
	Large       string
}

// routes returns the routes the router learnt, by prefix.
func (tr *testRouter) routes() map[string]receivedRoute {
	tr.t.Helper()
	out := map[string]receivedRoute{}
	for _, f := range []*api.Family{
		{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
	} {
		err := tr.srv.ListPath(context.Background(), &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: f}, func(d *api.Destination) {
			for _, p := range d.Paths {
				if a, err := netip.ParseAddr(p.NeighborIp); err != nil || a.IsUnspecified() {
					continue // the router's own
				}
				attrs, err := apiutil.GetNativePathAttributes(p)
				if err != nil {
					tr.t.Errorf("decoding %s: %v", d.Prefix, err)
					continue
				}
				var rr receivedRoute
				for _, a := range attrs {
					switch a := a.(type) {
					case *bgp.PathAttributeNextHop:
						rr.NextHop = a.Value.String()
					case *bgp.PathAttributeMpReachNLRI:
						rr.NextHop = a.Nexthop.String()
					case *bgp.PathAttributeLocalPref:
						rr.LocalPref = fmt.Sprint(a.Value)
					case *bgp.PathAttributeAsPath:
						var asns []string
						for _, seg := range a.Value {
							for _, as := range seg.GetAS() {
								asns = append(asns, fmt.Sprint(as))
							}
						}
						rr.ASPath = strings.Join(asns, " ")
					case *bgp.PathAttributeCommunities:
						var cs []string
						for _, c := range a.Value {
							cs = append(cs, config.StandardCommunity(c).String())
						}
						rr.Communities = strings.Join(cs, " ")
					case *bgp.PathAttributeLargeCommunities:
						var cs []string
						for _, c := range a.Values {
							cs = append(cs, fmt.Sprintf("%d:%d:%d", c.ASN, c.LocalData1, c.LocalData2))
						}
						rr.Large = strings.Join(cs, " ")
					}
				}
				out[d.Prefix] = rr
			}
		})
		if err != nil {
			tr.t.Fatal(err)
		}
	}
	return out
}

// announce makes the router originate a route towards its neighbours.
func (tr *testRouter) announce(prefix string) {
	tr.t.Helper()
	p := netip.MustParsePrefix(prefix)
	attrs, _ := buildAttrs(&advertise.Route{Prefix: p}, netip.MustParseAddr("0.0.0.0"), false)
	path, err := apiutil.NewPath(bgp.NewIPAddrPrefix(uint8(p.Bits()), p.Addr().String()), false, attrs, time.Now())
	if err != nil {
		tr.t.Fatal(err)
	}
	if _, err := tr.srv.AddPath(context.Background(), &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: path}); err != nil {
		tr.t.Fatal(err)
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func peerState(t *testing.T, r Router, name string) PeerState {
	t.Helper()
	for _, p := range r.Peers(context.Background()) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no session %q", name)
	return PeerState{}
}

func waitUp(t *testing.T, r Router, name string) {
	t.Helper()
	eventually(t, establishTimeout, "session "+name+" established", func() bool { return peerState(t, r, name).Up })
}

func newTestAdapter(t *testing.T) *gobgpRouter {
	t.Helper()
	r := New(WithLogger(testLogger(t)), WithIdleHoldTime(time.Second), WithWithdrawWait(time.Second)).(*gobgpRouter)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

func session(name string, myASN, peerASN uint32, addr string, port uint16) Session {
	return Session{
		Name: name, MyASN: myASN, PeerASN: peerASN, Address: netip.MustParseAddr(addr), Port: port,
		RouterID: netip.MustParseAddr("10.0.0.1"), HoldTime: 9 * time.Second, ConnectTime: time.Second,
	}
}

func TestAdapterIBGPDualStack(t *testing.T) {
	ctx := context.Background()
	tr := newTestRouter(t, 64512)
	tr.addNeighbor("127.0.0.1", 64512, "")
	r := newTestAdapter(t)

	s := session("tor", 64512, 64512, "127.0.0.1", tr.port)
	s.DualStack = true
	if err := r.SetPeers(ctx, []Session{s}); err != nil {
		t.Fatal(err)
	}
	v4, v6 := netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::10/128")
	large := config.LargeCommunity{GlobalAdmin: 4200000000, LocalData1: 1, LocalData2: 2}
	routes := map[string][]advertise.Route{"tor": {
		{Prefix: v4, LocalPref: 200, Communities: []config.StandardCommunity{65000<<16 | 1, 65000<<16 | 2}, LargeCommunities: []config.LargeCommunity{large}},
		{Prefix: v6, Communities: []config.StandardCommunity{65000<<16 | 3}},
	}}
	if err := r.SetRoutes(ctx, routes); err != nil {
		t.Fatal(err)
	}
	waitUp(t, r, "tor")

	want := map[string]receivedRoute{
		"192.0.2.10/32": {NextHop: "127.0.0.1", LocalPref: "200", ASPath: "", Communities: "65000:1 65000:2", Large: "4200000000:1:2"},
		// The IPv6 next hop over an IPv4 session is the IPv6 address of the session's interface (lo), not
		// ::ffff:127.0.0.1. GoBGP adds its default LOCAL_PREF 100 for iBGP.
		"2001:db8::10/128": {NextHop: "::1", LocalPref: "100", ASPath: "", Communities: "65000:3"},
	}
	eventually(t, 5*time.Second, "routes at the router", func() bool { return len(tr.routes()) == 2 })
	if got := tr.routes(); !equalRoutes(got, want) {
		t.Fatalf("router routes:\n got %+v\nwant %+v", got, want)
	}
	before := tr.neighbor("127.0.0.1")
	adapterBefore := peerState(t, r, "tor")
	if adapterBefore.Advertised != 2 || adapterBefore.Desired != 2 || adapterBefore.LocalAddress != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("adapter state %+v: want 2 advertised, 2 desired, local 127.0.0.1", adapterBefore)
	}

	t.Run("attribute change keeps the session", func(t *testing.T) {
		routes["tor"][0].LocalPref = 300
		routes["tor"][0].Communities = []config.StandardCommunity{65000<<16 | 9}
		routes["tor"][0].LargeCommunities = nil
		if err := r.SetRoutes(ctx, routes); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "updated route", func() bool {
			rr := tr.routes()["192.0.2.10/32"]
			return rr.LocalPref == "300" && rr.Communities == "65000:9" && rr.Large == ""
		})
		assertNoReset(t, before, tr.neighbor("127.0.0.1"))
		if got := tr.routes()["2001:db8::10/128"]; got != want["2001:db8::10/128"] {
			t.Errorf("untouched IPv6 route changed: %+v", got)
		}
	})

	t.Run("unchanged routes send nothing", func(t *testing.T) {
		sent := peerState(t, r, "tor").UpdatesSent
		if err := r.SetRoutes(ctx, routes); err != nil {
			t.Fatal(err)
		}
		if err := r.SetPeers(ctx, []Session{s}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if now := peerState(t, r, "tor").UpdatesSent; now != sent {
			t.Errorf("UPDATEs sent went from %d to %d with nothing changed", sent, now)
		}
	})

	t.Run("withdraw one prefix", func(t *testing.T) {
		routes["tor"] = routes["tor"][:1]
		if err := r.SetRoutes(ctx, routes); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "IPv6 route withdrawn", func() bool {
			got := tr.routes()
			_, v6 := got["2001:db8::10/128"]
			_, v4 := got["192.0.2.10/32"]
			return !v6 && v4
		})
		assertNoReset(t, before, tr.neighbor("127.0.0.1"))
	})

	t.Run("inbound routes are rejected", func(t *testing.T) {
		received := peerState(t, r, "tor").UpdatesReceived
		tr.announce("198.51.100.0/24")
		eventually(t, 5*time.Second, "the router's UPDATE at the adapter", func() bool {
			return peerState(t, r, "tor").UpdatesReceived > received
		})
		inst := r.sessions["tor"]
		have, err := listLocalPaths(ctx, inst.srv)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := have[netip.MustParsePrefix("198.51.100.0/24")]; ok || len(have) != 1 {
			t.Errorf("adapter RIB holds %v, want only its own route", have)
		}
		// GoBGP keeps what peers send in its Adj-RIB-In; the import policy marks it filtered there.
		var adjIn, filtered int
		err = inst.srv.ListPath(ctx, &api.ListPathRequest{
			TableType: api.TableType_ADJ_IN, Name: "127.0.0.1", EnableFiltered: true,
			Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		}, func(d *api.Destination) {
			for _, p := range d.Paths {
				adjIn++
				if p.Filtered {
					filtered++
				}
			}
		})
		if err != nil || adjIn != 1 || filtered != adjIn {
			t.Errorf("adapter Adj-RIB-In: %d paths, %d filtered (err %v), want 1 filtered", adjIn, filtered, err)
		}
	})

	t.Run("close withdraws before shutting down", func(t *testing.T) {
		withdrawnBefore := tr.neighbor("127.0.0.1").State.Messages.Received.WithdrawPrefix
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := r.Close(cctx); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "session down at the router", func() bool {
			return tr.neighbor("127.0.0.1").State.SessionState != api.PeerState_ESTABLISHED
		})
		after := tr.neighbor("127.0.0.1").State.Messages.Received
		if after.WithdrawPrefix <= withdrawnBefore {
			t.Errorf("router received %d withdrawn prefixes before the session closed, want more than %d: routes went with the session only",
				after.WithdrawPrefix, withdrawnBefore)
		}
		if got := tr.routes(); len(got) != 0 {
			t.Errorf("router still holds %v", got)
		}
	})
}

func equalRoutes(a, b map[string]receivedRoute) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// assertNoReset checks, at the router, that the session did not go down between the two observations.
func assertNoReset(t *testing.T, before, after *api.Peer) {
	t.Helper()
	if after.State.SessionState != api.PeerState_ESTABLISHED {
		t.Fatalf("session is %s", after.State.SessionState)
	}
	if before.State.Flops != after.State.Flops ||
		!before.Timers.State.Uptime.AsTime().Equal(after.Timers.State.Uptime.AsTime()) ||
		after.State.Messages.Received.Open != before.State.Messages.Received.Open {
		t.Errorf("session reset: flops %d -> %d, up since %s -> %s, OPENs %d -> %d",
			before.State.Flops, after.State.Flops, before.Timers.State.Uptime.AsTime(), after.Timers.State.Uptime.AsTime(),
			before.State.Messages.Received.Open, after.State.Messages.Received.Open)
	}
}

// TestAdapterUpdateRoutes checks the incremental path: only the named prefixes change, attributes are replaced
// in place, withdrawals are explicit, routes for a session that does not exist yet wait for it, and the
// session never resets.
func TestAdapterUpdateRoutes(t *testing.T) {
	ctx := context.Background()
	tr := newTestRouter(t, 64513)
	tr.addNeighbor("127.0.0.1", 64512, "")
	r := newTestAdapter(t)

	a, b, c := netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("192.0.2.2/32"), netip.MustParsePrefix("192.0.2.3/32")
	// Routes first: the session does not exist yet.
	err := r.UpdateRoutes(ctx, advertise.Changes{"tor": {
		a: {Prefix: a, Communities: []config.StandardCommunity{65000<<16 | 1}},
		b: {Prefix: b},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetPeers(ctx, []Session{session("tor", 64512, 64513, "127.0.0.1", tr.port)}); err != nil {
		t.Fatal(err)
	}
	waitUp(t, r, "tor")
	eventually(t, 5*time.Second, "both routes at the router", func() bool { return len(tr.routes()) == 2 })
	before := tr.neighbor("127.0.0.1")

	steps := []struct {
		name    string
		changes advertise.Changes
		want    map[string]receivedRoute
	}{
		{
			name:    "add one, change another",
			changes: advertise.Changes{"tor": {b: {Prefix: b, Communities: []config.StandardCommunity{65000<<16 | 2}}, c: {Prefix: c}}},
			want: map[string]receivedRoute{
				"192.0.2.1/32": {NextHop: "127.0.0.1", ASPath: "64512", Communities: "65000:1"},
				"192.0.2.2/32": {NextHop: "127.0.0.1", ASPath: "64512", Communities: "65000:2"},
				"192.0.2.3/32": {NextHop: "127.0.0.1", ASPath: "64512"},
			},
		},
		{
			name:    "withdraw one; a withdrawal of a prefix never announced and a session that does not exist change nothing",
			changes: advertise.Changes{"tor": {a: nil, netip.MustParsePrefix("192.0.2.9/32"): nil}, "ghost": {c: nil}},
			want: map[string]receivedRoute{
				"192.0.2.2/32": {NextHop: "127.0.0.1", ASPath: "64512", Communities: "65000:2"},
				"192.0.2.3/32": {NextHop: "127.0.0.1", ASPath: "64512"},
			},
		},
	}
	for _, step := range steps {
		if err := r.UpdateRoutes(ctx, step.changes); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		eventually(t, 5*time.Second, step.name, func() bool { return equalRoutes(tr.routes(), step.want) })
		assertNoReset(t, before, tr.neighbor("127.0.0.1"))
	}
	if st := peerState(t, r, "tor"); st.Desired != 2 || st.Advertised != 2 {
		t.Errorf("state %+v: want 2 desired, 2 advertised", st)
	}

	// A full table afterwards agrees with what the updates left: nothing is sent.
	sent := peerState(t, r, "tor").UpdatesSent
	err = r.SetRoutes(ctx, map[string][]advertise.Route{"tor": {
		{Prefix: b, Communities: []config.StandardCommunity{65000<<16 | 2}}, {Prefix: c},
	}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if now := peerState(t, r, "tor").UpdatesSent; now != sent {
		t.Errorf("UPDATEs sent went from %d to %d with nothing changed", sent, now)
	}
}

func TestAdapterEBGPIPv6FourByteASN(t *testing.T) {
	ctx := context.Background()
	tr := newTestRouter(t, 64513)
	tr.addNeighbor("::1", 4200000001, "")
	r := newTestAdapter(t)

	s := session("tor6", 4200000001, 64513, "::1", tr.port)
	if err := r.SetPeers(ctx, []Session{s}); err != nil {
		t.Fatal(err)
	}
	err := r.SetRoutes(ctx, map[string][]advertise.Route{"tor6": {
		{Prefix: netip.MustParsePrefix("192.0.2.20/32")}, // IPv4 on an IPv6-only session: not carried
		{Prefix: netip.MustParsePrefix("2001:db8::20/128"), LocalPref: 300, Communities: []config.StandardCommunity{65000<<16 | 7}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitUp(t, r, "tor6")
	eventually(t, 5*time.Second, "route at the router", func() bool { return len(tr.routes()) == 1 })
	want := map[string]receivedRoute{
		// No LOCAL_PREF to an external peer (RFC 4271 §5.1.5); AS_PATH holds the 4-byte local AS.
		"2001:db8::20/128": {NextHop: "::1", ASPath: "4200000001", Communities: "65000:7"},
	}
	if got := tr.routes(); !equalRoutes(got, want) {
		t.Fatalf("router routes:\n got %+v\nwant %+v", got, want)
	}
	if st := peerState(t, r, "tor6"); st.PeerASN != 64513 || st.Peer.String() != fmt.Sprintf("[::1]:%d", tr.port) {
		t.Errorf("state %+v", st)
	}
}

func TestAdapterSessionChanges(t *testing.T) {
	ctx := context.Background()
	tr := newTestRouter(t, 64512)
	tr.addNeighbor("127.0.0.1", 64500, "")
	tr.addNeighbor("127.0.0.2", 64500, "")
	r := newTestAdapter(t)

	a := session("a", 64500, 64512, "127.0.0.1", tr.port)
	a.SourceAddress = netip.MustParseAddr("127.0.0.1")
	b := session("b", 64500, 64512, "127.0.0.1", tr.port)
	b.SourceAddress, b.RouterID = netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("10.0.0.2")
	routes := map[string][]advertise.Route{
		"a": {{Prefix: netip.MustParsePrefix("192.0.2.1/32")}},
		"b": {{Prefix: netip.MustParsePrefix("192.0.2.2/32")}},
	}
	if err := r.SetRoutes(ctx, routes); err != nil {
		t.Fatal(err)
	}
	if err := r.SetPeers(ctx, []Session{a}); err != nil {
		t.Fatal(err)
	}
	waitUp(t, r, "a")
	eventually(t, 5*time.Second, "a's route", func() bool { return len(tr.routes()) == 1 })
	aBefore, aInst := tr.neighbor("127.0.0.1"), r.sessions["a"]

	t.Run("adding a peer leaves the first alone", func(t *testing.T) {
		if err := r.SetPeers(ctx, []Session{a, b}); err != nil {
			t.Fatal(err)
		}
		waitUp(t, r, "b")
		eventually(t, 5*time.Second, "b's route", func() bool { return len(tr.routes()) == 2 })
		assertNoReset(t, aBefore, tr.neighbor("127.0.0.1"))
		if r.sessions["a"] != aInst {
			t.Error("session a re-created")
		}
	})

	t.Run("changing a session parameter re-creates that session only", func(t *testing.T) {
		bBefore, bInst := tr.neighbor("127.0.0.2"), r.sessions["b"]
		b.HoldTime = 12 * time.Second
		if err := r.SetPeers(ctx, []Session{a, b}); err != nil {
			t.Fatal(err)
		}
		if r.sessions["b"] == bInst {
			t.Fatal("session b not re-created")
		}
		waitUp(t, r, "b")
		eventually(t, 5*time.Second, "b re-established at the router", func() bool {
			n := tr.neighbor("127.0.0.2")
			return n.State.SessionState == api.PeerState_ESTABLISHED && n.State.Messages.Received.Open > bBefore.State.Messages.Received.Open
		})
		eventually(t, 5*time.Second, "b's route back", func() bool { return len(tr.routes()) == 2 })
		assertNoReset(t, aBefore, tr.neighbor("127.0.0.1"))
		if r.sessions["a"] != aInst {
			t.Error("session a re-created")
		}
	})

	t.Run("changing a next hop override re-announces without a reset", func(t *testing.T) {
		bBefore, bInst := tr.neighbor("127.0.0.2"), r.sessions["b"]
		b.NextHopIPv4 = netip.MustParseAddr("192.0.2.254")
		if err := r.SetPeers(ctx, []Session{a, b}); err != nil {
			t.Fatal(err)
		}
		if r.sessions["b"] != bInst {
			t.Fatal("session b re-created")
		}
		eventually(t, 5*time.Second, "new next hop", func() bool { return tr.routes()["192.0.2.2/32"].NextHop == "192.0.2.254" })
		assertNoReset(t, bBefore, tr.neighbor("127.0.0.2"))
	})

	t.Run("removing a peer withdraws its routes and leaves the other alone", func(t *testing.T) {
		if err := r.SetPeers(ctx, []Session{a}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "b's route withdrawn", func() bool { return len(tr.routes()) == 1 })
		assertNoReset(t, aBefore, tr.neighbor("127.0.0.1"))
		if got := r.Peers(ctx); len(got) != 1 || got[0].Name != "a" {
			t.Errorf("peers %+v", got)
		}
	})

	t.Run("a changed router ID reuses a stopped server", func(t *testing.T) {
		b.RouterID = netip.MustParseAddr("10.0.0.3")
		if err := r.SetPeers(ctx, []Session{a, b}); err != nil {
			t.Fatal(err)
		}
		waitUp(t, r, "b")
		eventually(t, 5*time.Second, "b's route", func() bool { return len(tr.routes()) == 2 })
		if id := tr.neighbor("127.0.0.2").State.RouterId; id != "10.0.0.3" {
			t.Errorf("router ID %s, want 10.0.0.3", id)
		}
	})
}

func TestAdapterMD5(t *testing.T) {
	ctx := context.Background()
	if unsupported, err := md5Unsupported(); err != nil || unsupported {
		t.Skipf("the kernel refuses TCP_MD5SIG here (err %v): cannot test MD5 sessions", err)
	}
	tr := newTestRouter(t, 64512)
	tr.addNeighbor("127.0.0.1", 64500, "s3cret")
	r := newTestAdapter(t)
	s := session("md5", 64500, 64512, "127.0.0.1", tr.port)
	s.Password = "s3cret"
	if err := r.SetPeers(ctx, []Session{s}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(establishTimeout)
	for !peerState(t, r, "md5").Up {
		if time.Now().After(deadline) {
			t.Skip("TCP MD5 session did not come up on loopback (TCP_MD5SIG may need privileges or kernel support here)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(s.Key(), "s3cret") {
		t.Error("the session key holds the password")
	}
}

func TestAdapterDynamicASNExternalRefusesInternalPeer(t *testing.T) {
	ctx := context.Background()
	tr := newTestRouter(t, 64500)
	tr.addNeighbor("127.0.0.1", 64500, "")
	r := newTestAdapter(t)
	s := session("dyn", 64500, 0, "127.0.0.1", tr.port)
	s.DynamicASN = DynamicASNExternal
	if err := r.SetPeers(ctx, []Session{s}); err != nil {
		t.Fatal(err)
	}
	eventually(t, establishTimeout, "the session refused", func() bool {
		st := peerState(t, r, "dyn")
		return !st.Up && strings.Contains(st.Error, "dynamicASN is external")
	})
}

func TestAdapterDynamicASNExternal(t *testing.T) {
	ctx := context.Background()
	tr := newTestRouter(t, 64512)
	tr.addNeighbor("127.0.0.1", 64500, "")
	r := newTestAdapter(t)
	s := session("dyn", 64500, 0, "127.0.0.1", tr.port)
	s.DynamicASN = DynamicASNExternal
	if err := r.SetPeers(ctx, []Session{s}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetRoutes(ctx, map[string][]advertise.Route{"dyn": {{Prefix: netip.MustParsePrefix("192.0.2.5/32"), LocalPref: 100}}}); err != nil {
		t.Fatal(err)
	}
	waitUp(t, r, "dyn")
	eventually(t, 5*time.Second, "route at the router", func() bool { return len(tr.routes()) == 1 })
	if got := tr.routes()["192.0.2.5/32"]; got.ASPath != "64500" || got.LocalPref != "" {
		t.Errorf("route %+v, want AS path 64500 and no LOCAL_PREF", got)
	}
	if st := peerState(t, r, "dyn"); st.PeerASN != 64512 || st.Error != "" {
		t.Errorf("state %+v", st)
	}
}
