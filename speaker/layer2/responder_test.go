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
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const bcast = "ff:ff:ff:ff:ff:ff"

func TestHandleARP(t *testing.T) {
	frame := func(mutate func(f *ethernet.Frame, p *arp.Packet)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			p, err := arp.NewPacket(arp.OperationRequest, macClient, client4, ethernet.Broadcast, vip4)
			if err != nil {
				t.Fatal(err)
			}
			f := &ethernet.Frame{Destination: ethernet.Broadcast, Source: macClient, EtherType: ethernet.EtherTypeARP}
			if mutate != nil {
				mutate(f, p)
			}
			if f.Payload, err = p.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
			b, err := f.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	reply := []arpSummary{{Dst: macClient.String(), Op: arp.OperationReply, SenderMAC: macEth0.String(), SenderIP: vip4.String(),
		TargetMAC: macClient.String(), TargetIP: client4.String()}}
	tests := []struct {
		name   string
		ifaces InterfaceSet
		frame  func(t *testing.T) []byte
		want   []arpSummary
	}{
		{name: "broadcast request for an owned address", ifaces: AllInterfaces(), frame: frame(nil), want: reply},
		{name: "owned on this interface by name", ifaces: NamedInterfaces("eth0"), frame: frame(nil), want: reply},
		{name: "owned on another interface only", ifaces: NamedInterfaces("eth1"), frame: frame(nil)},
		{name: "owned on no interface", ifaces: InterfaceSet{}, frame: frame(nil)},
		{
			name: "address not owned", ifaces: AllInterfaces(),
			frame: frame(func(_ *ethernet.Frame, p *arp.Packet) { p.TargetIP = vip4b }),
		},
		{
			name: "unicast to our MAC", ifaces: AllInterfaces(),
			frame: frame(func(f *ethernet.Frame, _ *arp.Packet) { f.Destination = macEth0 }),
			want:  reply,
		},
		{
			name: "unicast to another MAC", ifaces: AllInterfaces(),
			frame: frame(func(f *ethernet.Frame, _ *arp.Packet) { f.Destination = macEth1 }),
		},
		{
			name: "reply, not a request", ifaces: AllInterfaces(),
			frame: frame(func(_ *ethernet.Frame, p *arp.Packet) { p.Operation = arp.OperationReply }),
		},
		{
			name: "gratuitous request from another owner", ifaces: AllInterfaces(),
			frame: frame(func(_ *ethernet.Frame, p *arp.Packet) { p.SenderIP = vip4 }),
		},
		{
			name: "our own frame looped back", ifaces: AllInterfaces(),
			frame: frame(func(f *ethernet.Frame, p *arp.Packet) { f.Source, p.SenderHardwareAddr = macEth0, macEth0 }),
		},
		{
			name: "VLAN-tagged frame", ifaces: AllInterfaces(),
			frame: frame(func(f *ethernet.Frame, _ *arp.Packet) { f.VLAN = &ethernet.VLAN{ID: 10} }),
		},
		{
			name: "broadcast sender hardware address", ifaces: AllInterfaces(),
			frame: frame(func(_ *ethernet.Frame, p *arp.Packet) { p.SenderHardwareAddr = ethernet.Broadcast }),
		},
		{
			name: "RFC 5227 probe is answered to defend the address", ifaces: AllInterfaces(),
			frame: frame(func(_ *ethernet.Frame, p *arp.Packet) { p.SenderIP = netip.IPv4Unspecified() }),
			want: []arpSummary{{Dst: macClient.String(), Op: arp.OperationReply, SenderMAC: macEth0.String(), SenderIP: vip4.String(),
				TargetMAC: macClient.String(), TargetIP: "0.0.0.0"}},
		},
		{name: "truncated", ifaces: AllInterfaces(), frame: func(t *testing.T) []byte { return frame(nil)(t)[:30] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, sys, _ := newTestResponder(t)
			r.SetOwned(vip4, tt.ifaces, 0)
			sys.arpConn("eth0").take() // gratuitous
			l := linkOf(t, r, "eth0")
			r.handleARP(l, l.arp, tt.frame(t))
			if diff := cmp.Diff(tt.want, summarizeARP(t, sys.arpConn("eth0").take())); diff != "" {
				t.Errorf("sent mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandleNDP(t *testing.T) {
	// The zone goes: the socket sends on its own interface anyway.
	client := llClient.WithZone("eth0")
	solicitedNA := []naSummary{{Dst: llClient.String(), Target: vip6.String(), Solicited: true, Override: true, TargetMAC: macEth0.String()}}
	tests := []struct {
		name     string
		ifaces   InterfaceSet
		msg      func(t *testing.T) []byte
		hopLimit int
		src      netip.Addr
		want     []naSummary
	}{
		{
			name: "solicitation for an owned address", ifaces: AllInterfaces(), hopLimit: 255, src: client,
			msg: func(t *testing.T) []byte { return nsBytes(t, vip6, macClient) }, want: solicitedNA,
		},
		{
			name: "hop limit unknown", ifaces: AllInterfaces(), hopLimit: -1, src: client,
			msg: func(t *testing.T) []byte { return nsBytes(t, vip6, macClient) }, want: solicitedNA,
		},
		{
			name: "without source link-layer address (unicast NUD)", ifaces: AllInterfaces(), hopLimit: 255, src: client,
			msg: func(t *testing.T) []byte { return nsBytes(t, vip6, nil) }, want: solicitedNA,
		},
		{
			name: "hop limit below 255 crossed a router", ifaces: AllInterfaces(), hopLimit: 254, src: client,
			msg: func(t *testing.T) []byte { return nsBytes(t, vip6, macClient) },
		},
		{
			name: "address not owned", ifaces: AllInterfaces(), hopLimit: 255, src: client,
			msg: func(t *testing.T) []byte { return nsBytes(t, netip.MustParseAddr("2001:db8::99"), macClient) },
		},
		{
			name: "owned on another interface", ifaces: NamedInterfaces("eth1"), hopLimit: 255, src: client,
			msg: func(t *testing.T) []byte { return nsBytes(t, vip6, macClient) },
		},
		{
			name: "duplicate address detection is answered to all-nodes, not solicited", ifaces: AllInterfaces(), hopLimit: 255,
			src: netip.IPv6Unspecified(), msg: func(t *testing.T) []byte { return nsBytes(t, vip6, nil) },
			want: []naSummary{{Dst: "ff02::1", Target: vip6.String(), Override: true, TargetMAC: macEth0.String()}},
		},
		{
			name: "unspecified source with a source link-layer option is invalid", ifaces: AllInterfaces(), hopLimit: 255,
			src: netip.IPv6Unspecified(), msg: func(t *testing.T) []byte { return nsBytes(t, vip6, macClient) },
		},
		{
			name: "our own solicitation", ifaces: AllInterfaces(), hopLimit: 255, src: llEth0.WithZone("eth0"),
			msg: func(t *testing.T) []byte { return nsBytes(t, vip6, macEth0) },
		},
		{
			name: "non-zero ICMP code", ifaces: AllInterfaces(), hopLimit: 255, src: client,
			msg: func(t *testing.T) []byte { b := nsBytes(t, vip6, macClient); b[1] = 1; return b },
		},
		{
			name: "advertisement, not a solicitation", ifaces: AllInterfaces(), hopLimit: 255, src: client,
			msg: func(t *testing.T) []byte {
				b, err := ndp.MarshalMessage(neighborAdvertisement(vip6, macClient, false))
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, sys, _ := newTestResponder(t)
			r.SetOwned(vip6, tt.ifaces, 0)
			sys.ndpConn("eth0").take()
			l := linkOf(t, r, "eth0")
			r.handleNDP(l, l.ndp, tt.msg(t), tt.hopLimit, tt.src)
			if diff := cmp.Diff(tt.want, summarizeNA(t, sys.ndpConn("eth0").take())); diff != "" {
				t.Errorf("sent mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWithdrawStopsAtOnce checks that once Withdraw returns, neither replies nor the rest of the burst go
// out.
func TestWithdrawStopsAtOnce(t *testing.T) {
	r, sys, clk := newTestResponder(t)
	r.SetOwned(vip4, AllInterfaces(), time.Minute)
	r.SetOwned(vip6, AllInterfaces(), time.Minute)
	l := linkOf(t, r, "eth0")
	r.handleARP(l, l.arp, arpRequestFrame(t, vip4))
	r.handleNDP(l, l.ndp, nsBytes(t, vip6, macClient), 255, llClient)
	if got := len(sys.arpConn("eth0").take()) + len(sys.ndpConn("eth0").take()); got != 2+1+1+1 {
		t.Fatalf("sent %d packets before Withdraw, want 5 (gratuitous ARP request and reply, NA, ARP reply, solicited NA)", got)
	}
	sys.arpConn("eth1").take()
	sys.ndpConn("eth1").take()
	r.Withdraw(vip4)
	r.Withdraw(vip6)
	r.handleARP(l, l.arp, arpRequestFrame(t, vip4))
	r.handleNDP(l, l.ndp, nsBytes(t, vip6, macClient), 255, llClient)
	for range 100 {
		clk.Step(time.Second)
		r.runDue()
	}
	for _, name := range []string{"eth0", "eth1"} {
		if got := append(sys.arpConn(name).take(), sys.ndpConn(name).take()...); len(got) != 0 {
			t.Errorf("%s sent %d packets after Withdraw", name, len(got))
		}
	}
	if diff := cmp.Diff([]netip.Addr(nil), r.Owned(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Owned() mismatch (-want +got):\n%s", diff)
	}
}

// TestGratuitousBurst checks the takeover burst: three rounds at 0, 1.1 s and 2.2 s, the first sent before
// SetOwned returns, on every interface of the address and only those.
func TestGratuitousBurst(t *testing.T) {
	r, sys, clk := newTestResponder(t)
	r.SetOwned(vip4, NamedInterfaces("eth0"), 0)
	r.SetOwned(vip6, AllInterfaces(), 0)
	for range 50 {
		clk.Step(100 * time.Millisecond)
		r.runDue()
	}
	var wantARP []arpSummary
	var wantNA []naSummary
	for _, at := range []time.Duration{0, 1100 * time.Millisecond, 2200 * time.Millisecond} {
		for _, op := range []arp.Operation{arp.OperationRequest, arp.OperationReply} {
			wantARP = append(wantARP, arpSummary{At: at, Dst: bcast, Op: op, SenderMAC: macEth0.String(), SenderIP: vip4.String(),
				TargetMAC: bcast, TargetIP: vip4.String()})
		}
		wantNA = append(wantNA, naSummary{At: at, Dst: "ff02::1", Target: vip6.String(), Override: true, TargetMAC: macEth0.String()})
	}
	if diff := cmp.Diff(wantARP, summarizeARP(t, sys.arpConn("eth0").take())); diff != "" {
		t.Errorf("eth0 ARP mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]arpSummary(nil), summarizeARP(t, sys.arpConn("eth1").take())); diff != "" {
		t.Errorf("eth1 ARP mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantNA, summarizeNA(t, sys.ndpConn("eth0").take())); diff != "" {
		t.Errorf("eth0 NA mismatch (-want +got):\n%s", diff)
	}
	if got := len(sys.ndpConn("eth1").take()); got != 3 {
		t.Errorf("eth1 sent %d NAs, want 3", got)
	}

	// The same ownership again sends nothing; new interfaces start a new burst.
	r.SetOwned(vip4, NamedInterfaces("eth0"), 0)
	if got := len(sys.arpConn("eth0").take()); got != 0 {
		t.Errorf("SetOwned with unchanged arguments sent %d packets", got)
	}
	r.SetOwned(vip4, NamedInterfaces("eth0", "eth1"), 0)
	if got := []int{len(sys.arpConn("eth0").take()), len(sys.arpConn("eth1").take())}; !cmp.Equal(got, []int{2, 2}) {
		t.Errorf("SetOwned with new interfaces sent %v packets on eth0, eth1, want [2 2] at once", got)
	}
}

// TestRefreshPacing checks that refresh rounds come once per period per address, that addresses taken over
// together spread their refreshes over the period, and that withdrawn addresses stop refreshing.
func TestRefreshPacing(t *testing.T) {
	r, sys, clk := newTestResponder(t)
	const period = time.Minute
	var ips []netip.Addr
	for i := range 30 {
		ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
		ips = append(ips, ip)
		r.SetOwned(ip, NamedInterfaces("eth0"), period)
	}
	r.SetOwned(vip4, NamedInterfaces("eth0"), time.Second) // raised to MinRefresh
	r.Withdraw(vip4)
	conn := sys.arpConn("eth0")
	const step = 100 * time.Millisecond
	for clk.Since(epoch) < 3*period {
		clk.Step(step)
		r.runDue()
	}
	times := map[string][]time.Duration{}
	for _, s := range summarizeARP(t, conn.take()) {
		if s.Op == arp.OperationRequest {
			times[s.SenderIP] = append(times[s.SenderIP], s.At)
		}
	}
	if got := times[vip4.String()]; len(got) != 1 {
		t.Errorf("withdrawn %s sent requests at %v, want only the first burst round", vip4, got)
	}
	// Burst rounds end at 2.2 s; a refresh due earlier is indistinguishable from them, so only later
	// packets are looked at.
	const afterBurst = 2500 * time.Millisecond
	phases := map[time.Duration]bool{}
	for _, ip := range ips {
		var refreshes []time.Duration
		for _, at := range times[ip.String()] {
			if at > afterBurst {
				refreshes = append(refreshes, at)
			}
		}
		if len(refreshes) < 2 {
			t.Fatalf("%s sent requests at %v, want refreshes", ip, times[ip.String()])
		}
		if first := refreshes[0]; first > period+afterBurst {
			t.Errorf("%s: first refresh after the burst at %v, want by %v", ip, first, period+afterBurst)
		}
		for i := 1; i < len(refreshes); i++ {
			if d := refreshes[i] - refreshes[i-1]; d != period {
				t.Errorf("%s: refreshes %v apart, want %v", ip, d, period)
			}
		}
		phases[(refreshes[0] % period).Truncate(time.Second)] = true
	}
	// 30 addresses over 60 one-second slots: a hash puts them in well over a third of distinct slots.
	if len(phases) < 15 {
		t.Errorf("refreshes of 30 addresses fell in %d distinct seconds of the period, want them spread", len(phases))
	}
	// Turning refresh off stops it.
	r.SetOwned(ips[0], NamedInterfaces("eth0"), 0)
	for range 2 * int(period/step) {
		clk.Step(step)
		r.runDue()
	}
	for _, s := range summarizeARP(t, conn.take()) {
		if s.SenderIP == ips[0].String() {
			t.Fatalf("%s refreshed at %v after refresh was turned off", ips[0], s.At)
		}
	}
}

// TestSolicitedNodeGroups checks the reference counting of solicited-node multicast groups: addresses
// sharing their low 24 bits share a group, which is left with the last of them.
func TestSolicitedNodeGroups(t *testing.T) {
	r, sys, _ := newTestResponder(t)
	a := netip.MustParseAddr("2001:db8::1:10")
	b := netip.MustParseAddr("2001:db8:ffff::1:10") // same low 24 bits
	c := netip.MustParseAddr("2001:db8::2:20")
	type step struct {
		do         func()
		eth0, eth1 []string
	}
	steps := []step{
		{do: func() { r.SetOwned(a, AllInterfaces(), 0) }, eth0: []string{"join ff02::1:ff01:10"}, eth1: []string{"join ff02::1:ff01:10"}},
		{do: func() { r.SetOwned(b, NamedInterfaces("eth0"), 0) }},
		{do: func() { r.SetOwned(c, NamedInterfaces("eth1"), 0) }, eth1: []string{"join ff02::1:ff02:20"}},
		{do: func() { r.SetOwned(vip4, AllInterfaces(), 0) }},
		{do: func() { r.Withdraw(a) }, eth1: []string{"leave ff02::1:ff01:10"}},
		{do: func() { r.Withdraw(b) }, eth0: []string{"leave ff02::1:ff01:10"}},
		{do: func() { r.SetOwned(c, NamedInterfaces("eth0"), 0) }, eth0: []string{"join ff02::1:ff02:20"}, eth1: []string{"leave ff02::1:ff02:20"}},
		{do: func() { r.Withdraw(c); r.Withdraw(c) }, eth0: []string{"leave ff02::1:ff02:20"}},
	}
	for i, s := range steps {
		s.do()
		got := [][]string{sys.ndpConn("eth0").takeGroups(), sys.ndpConn("eth1").takeGroups()}
		if diff := cmp.Diff([][]string{s.eth0, s.eth1}, got); diff != "" {
			t.Errorf("step %d: group operations [eth0 eth1] mismatch (-want +got):\n%s", i, diff)
		}
	}
}

func TestQualify(t *testing.T) {
	exclude, err := compilePatterns(DefaultExcludePatterns)
	if err != nil {
		t.Fatal(err)
	}
	eth := func(mutate func(*Link)) Link {
		l := ethLink("eth0", 2, macEth0, llEth0)
		if mutate != nil {
			mutate(&l)
		}
		return l
	}
	tests := []struct {
		name string
		link Link
		want roles
	}{
		{name: "ethernet with link-local", link: eth(nil), want: roles{arp: true, ndp: true}},
		{name: "no link-local: ARP only", link: eth(func(l *Link) { l.LinkLocal = netip.Addr{} }), want: roles{arp: true}},
		{name: "global IPv6 is not link-local", link: eth(func(l *Link) { l.LinkLocal = vip6 }), want: roles{arp: true}},
		{name: "no broadcast: NDP only", link: eth(func(l *Link) { l.Flags &^= net.FlagBroadcast }), want: roles{ndp: true}},
		{name: "down", link: eth(func(l *Link) { l.Flags &^= net.FlagUp })},
		{name: "NOARP", link: eth(func(l *Link) { l.NoARP = true })},
		{name: "enslaved to a bond", link: eth(func(l *Link) { l.Enslaved = true })},
		{name: "no Ethernet address", link: eth(func(l *Link) { l.HardwareAddr = nil })},
		{name: "excluded veth", link: eth(func(l *Link) { l.Name = "veth1234" })},
		{name: "excluded lo", link: eth(func(l *Link) { l.Name = "lo" })},
		{name: "lo prefix is not lo", link: eth(func(l *Link) { l.Name = "loop0" }), want: roles{arp: true, ndp: true}},
		{name: "excluded kube-ipvs0", link: eth(func(l *Link) { l.Name = "kube-ipvs0" })},
		{name: "excluded cilium lxc", link: eth(func(l *Link) { l.Name = "lxc_health" })},
		{name: "bond itself qualifies", link: eth(func(l *Link) { l.Name = "bond0" }), want: roles{arp: true, ndp: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, qualify(tt.link, exclude), cmp.AllowUnexported(roles{})); diff != "" {
				t.Errorf("qualify() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := New(WithExcludePatterns("(")); err == nil {
		t.Error("New accepted an invalid exclude pattern")
	}
	custom, err := compilePatterns([]string{"^eth1$"})
	if err != nil {
		t.Fatal(err)
	}
	if got := qualify(eth(func(l *Link) { l.Name = "veth0" }), custom); got != (roles{arp: true, ndp: true}) {
		t.Errorf("custom patterns replace the defaults: got %+v for veth0", got)
	}
}

// TestScan checks that scans follow the interfaces, and that a newly opened interface announces the
// addresses it carries at once.
func TestScan(t *testing.T) {
	r, sys, _ := newTestResponder(t)
	if diff := cmp.Diff([]string{"eth0", "eth1"}, r.Interfaces()); diff != "" {
		t.Errorf("Interfaces() mismatch (-want +got):\n%s", diff)
	}
	r.SetOwned(vip4, AllInterfaces(), 0)
	r.SetOwned(vip6, NamedInterfaces("eth0", "eth2"), 0)
	eth1 := sys.arpConn("eth1")

	// eth1 goes down, eth2 and excluded veth0 appear, eth3 fails to open its ARP socket.
	down := ethLink("eth1", 3, macEth1, llEth1)
	down.Flags &^= net.FlagUp
	sys.failARP["eth3"] = true
	sys.setLinks(ethLink("eth0", 2, macEth0, llEth0), down, ethLink("eth2", 4, macEth1, llEth1),
		ethLink("veth0", 5, macEth1, netip.Addr{}), Link{Name: "eth3", Index: 6, HardwareAddr: macEth1, Flags: net.FlagUp | net.FlagBroadcast})
	r.scan()
	if diff := cmp.Diff([]string{"eth0", "eth2"}, r.Interfaces()); diff != "" {
		t.Errorf("Interfaces() mismatch (-want +got):\n%s", diff)
	}
	if !eth1.isClosed() {
		t.Error("eth1 sockets left open after it went down")
	}
	if got := []int{len(sys.arpConn("eth2").take()), len(sys.ndpConn("eth2").take())}; !cmp.Equal(got, []int{2, 1}) {
		t.Errorf("new eth2 sent [ARP NA] %v gratuitous packets at once, want [2 1]", got)
	}
	if diff := cmp.Diff([]string{"join ff02::1:ff01:10"}, sys.ndpConn("eth2").takeGroups()); diff != "" {
		t.Errorf("eth2 groups mismatch (-want +got):\n%s", diff)
	}

	// eth3 opens once its socket does.
	sys.failARP["eth3"] = false
	r.scan()
	if diff := cmp.Diff([]string{"eth0", "eth2", "eth3"}, r.Interfaces()); diff != "" {
		t.Errorf("Interfaces() after retry mismatch (-want +got):\n%s", diff)
	}
	// A link whose address changed is reopened; an unchanged one is kept.
	eth0 := sys.arpConn("eth0")
	sys.setLinks(ethLink("eth0", 2, macEth0, llEth0), ethLink("eth2", 4, macEth0, llEth1))
	eth2 := sys.arpConn("eth2")
	r.scan()
	if eth0.isClosed() || !eth2.isClosed() || sys.arpConn("eth2") == eth2 {
		t.Error("scan kept a changed link or reopened an unchanged one")
	}
}

// TestRun drives a Responder through Run: requests arriving on the sockets are answered, and cancelling
// the context closes everything.
func TestRun(t *testing.T) {
	r, sys, clk := newTestResponder(t, WithRescanInterval(time.Second))
	r.closeAll()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "interfaces opened", func() bool { return len(r.Interfaces()) == 2 })
	r.SetOwned(vip4, AllInterfaces(), 0)
	conn := sys.arpConn("eth0")
	conn.take()
	conn.in <- arpRequestFrame(t, vip4)
	waitFor(t, "ARP reply", func() bool {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return len(conn.sent) > 0
	})
	// The scheduler sends the next burst round when the clock gets there.
	conn.take()
	waitFor(t, "burst round", func() bool {
		clk.Step(GratuitousInterval)
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return len(conn.sent) > 0
	})
	r.Rescan()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !conn.isClosed() || !sys.ndpConn("eth1").isClosed() {
		t.Error("Run left sockets open")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err != nil {
		t.Fatalf("registering twice: %v", err)
	}
	r, _, _ := newTestResponder(t, WithMetrics(m))
	r.SetOwned(vip4, NamedInterfaces("eth0"), 0)
	l := linkOf(t, r, "eth0")
	r.handleARP(l, l.arp, arpRequestFrame(t, vip4))
	r.handleARP(l, l.arp, arpRequestFrame(t, vip4b))
	got := map[string]float64{
		"requests":   counterValue(t, m.requests.WithLabelValues(vip4.String())),
		"responses":  counterValue(t, m.responses.WithLabelValues(vip4.String())),
		"gratuitous": counterValue(t, m.gratuitous.WithLabelValues(vip4.String())),
	}
	if diff := cmp.Diff(map[string]float64{"requests": 1, "responses": 1, "gratuitous": 2}, got); diff != "" {
		t.Errorf("counters mismatch (-want +got):\n%s", diff)
	}
	names, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var gathered []string
	for _, mf := range names {
		gathered = append(gathered, mf.GetName())
	}
	want := []string{"metallb_layer2_gratuitous_sent", "metallb_layer2_requests_received", "metallb_layer2_responses_sent"}
	if diff := cmp.Diff(want, gathered); diff != "" {
		t.Errorf("gathered metrics mismatch (-want +got):\n%s", diff)
	}
}

func TestInterfaceSet(t *testing.T) {
	names := []string{"eth0", "eth1", "bond0"}
	tests := []struct {
		name   string
		set    InterfaceSet
		want   []string
		str    string
		asList []string
	}{
		{name: "all", set: AllInterfaces(), want: names, str: "*"},
		{name: "named", set: NamedInterfaces("eth1", "bond0", "eth1"), want: []string{"eth1", "bond0"}, str: "bond0,eth1", asList: []string{"bond0", "eth1"}},
		{name: "empty", set: InterfaceSet{}, str: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []any{tt.set.Select(names), tt.set.String(), tt.set.Names()}
			if diff := cmp.Diff([]any{tt.want, tt.str, tt.asList}, got); diff != "" {
				t.Errorf("mismatch [Select String Names] (-want +got):\n%s", diff)
			}
		})
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
