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
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	testingclock "k8s.io/utils/clock/testing"
)

// This file holds the fakes the responder tests run on: packet connections that record what is sent, and
// a system whose interfaces the test sets.

var (
	epoch     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	macEth0   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	macEth1   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	macClient = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xcc}
	llEth0    = netip.MustParseAddr("fe80::1")
	llEth1    = netip.MustParseAddr("fe80::2")
	llClient  = netip.MustParseAddr("fe80::cc")
	vip4      = netip.MustParseAddr("192.0.2.10")
	vip4b     = netip.MustParseAddr("192.0.2.11")
	vip6      = netip.MustParseAddr("2001:db8::1:10")
	client4   = netip.MustParseAddr("192.0.2.200")
)

var errClosed = errors.New("closed")

// sent is one packet a fake connection sent, at a time relative to epoch.
type sent struct {
	at    time.Duration
	frame []byte
	dst   string
	msg   ndp.Message
}

// fakeConn is both an arpConn and an ndpConn.
type fakeConn struct {
	clock *testingclock.FakeClock
	in    chan []byte

	mu     sync.Mutex
	sent   []sent
	groups []string
	closed bool
	done   chan struct{}
}

func newFakeConn(clk *testingclock.FakeClock) *fakeConn {
	return &fakeConn{clock: clk, in: make(chan []byte, 16), done: make(chan struct{})}
}

func (c *fakeConn) ReadFrame(b []byte) (int, error) {
	select {
	case f := <-c.in:
		return copy(b, f), nil
	case <-c.done:
		return 0, errClosed
	}
}

func (c *fakeConn) ReadFrom(b []byte) (int, int, netip.Addr, error) {
	select {
	case f := <-c.in:
		return copy(b, f), ndpHopLimit, llClient.WithZone("eth0"), nil
	case <-c.done:
		return 0, 0, netip.Addr{}, errClosed
	}
}

func (c *fakeConn) record(s sent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	s.at = c.clock.Since(epoch)
	c.sent = append(c.sent, s)
	return nil
}

func (c *fakeConn) WriteFrame(b []byte, dst net.HardwareAddr) error {
	return c.record(sent{frame: slices.Clone(b), dst: dst.String()})
}

func (c *fakeConn) WriteTo(m ndp.Message, dst netip.Addr) error {
	return c.record(sent{msg: m, dst: dst.String()})
}

func (c *fakeConn) JoinGroup(g netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups = append(c.groups, "join "+g.String())
	return nil
}

func (c *fakeConn) LeaveGroup(g netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups = append(c.groups, "leave "+g.String())
	return nil
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	return nil
}

// take returns and forgets what was sent.
func (c *fakeConn) take() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sent
	c.sent = nil
	return s
}

func (c *fakeConn) takeGroups() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups
	c.groups = nil
	return g
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// fakeSystem has the interfaces a test sets, and opens fakeConns.
type fakeSystem struct {
	clock *testingclock.FakeClock

	mu      sync.Mutex
	ifaces  []Link
	failARP map[string]bool
	arp     map[string]*fakeConn
	ndp     map[string]*fakeConn
}

func (s *fakeSystem) setLinks(links ...Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ifaces = links
}

func (s *fakeSystem) links() ([]Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ifaces), nil
}

func (s *fakeSystem) dialARP(l Link) (arpConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failARP[l.Name] {
		return nil, errors.New("permission denied")
	}
	c := newFakeConn(s.clock)
	s.arp[l.Name] = c
	return c, nil
}

func (s *fakeSystem) dialNDP(l Link) (ndpConn, netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := newFakeConn(s.clock)
	s.ndp[l.Name] = c
	return c, l.LinkLocal, nil
}

func (s *fakeSystem) arpConn(name string) *fakeConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arp[name]
}

func (s *fakeSystem) ndpConn(name string) *fakeConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ndp[name]
}

// ethLink is an up Ethernet interface with broadcast and a link-local address.
func ethLink(name string, index int, mac net.HardwareAddr, ll netip.Addr) Link {
	return Link{Name: name, Index: index, HardwareAddr: mac, Flags: net.FlagUp | net.FlagBroadcast | net.FlagMulticast, LinkLocal: ll}
}

// newTestResponder returns a Responder over eth0 and eth1, scanned, on a fake clock at epoch.
func newTestResponder(t testing.TB, opts ...Option) (*Responder, *fakeSystem, *testingclock.FakeClock) {
	t.Helper()
	clk := testingclock.NewFakeClock(epoch)
	sys := &fakeSystem{clock: clk, failARP: map[string]bool{}, arp: map[string]*fakeConn{}, ndp: map[string]*fakeConn{}}
	sys.setLinks(ethLink("eth0", 2, macEth0, llEth0), ethLink("eth1", 3, macEth1, llEth1))
	r, err := New(append([]Option{WithClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.sys = sys
	r.scan()
	t.Cleanup(r.closeAll)
	return r, sys, clk
}

// linkOf returns the Responder's link of that name.
func linkOf(t testing.TB, r *Responder, name string) *link {
	t.Helper()
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.links[name]
	if l == nil {
		t.Fatalf("no link %s", name)
	}
	return l
}

// arpRequestFrame is a broadcast ARP request from the client for target.
func arpRequestFrame(t testing.TB, target netip.Addr) []byte {
	t.Helper()
	f, err := arpFrame(arp.OperationRequest, macClient, client4, ethernet.Broadcast, target, ethernet.Broadcast)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// arpSummary is an ARP frame in words, for comparisons.
type arpSummary struct {
	At        time.Duration
	Dst       string
	Op        arp.Operation
	SenderMAC string
	SenderIP  string
	TargetMAC string
	TargetIP  string
}

func summarizeARP(t testing.TB, ss []sent) []arpSummary {
	t.Helper()
	var out []arpSummary
	for _, s := range ss {
		var f ethernet.Frame
		if err := f.UnmarshalBinary(s.frame); err != nil {
			t.Fatalf("sent frame does not parse: %v", err)
		}
		var p arp.Packet
		if err := p.UnmarshalBinary(f.Payload); err != nil {
			t.Fatalf("sent ARP packet does not parse: %v", err)
		}
		if f.Destination.String() != s.dst {
			t.Errorf("frame to %s sent to %s", f.Destination, s.dst)
		}
		out = append(out, arpSummary{At: s.at, Dst: s.dst, Op: p.Operation, SenderMAC: p.SenderHardwareAddr.String(),
			SenderIP: p.SenderIP.String(), TargetMAC: p.TargetHardwareAddr.String(), TargetIP: p.TargetIP.String()})
	}
	return out
}

// naSummary is a Neighbor Advertisement in words.
type naSummary struct {
	At        time.Duration
	Dst       string
	Target    string
	Solicited bool
	Override  bool
	TargetMAC string
}

func summarizeNA(t testing.TB, ss []sent) []naSummary {
	t.Helper()
	var out []naSummary
	for _, s := range ss {
		na, ok := s.msg.(*ndp.NeighborAdvertisement)
		if !ok {
			t.Fatalf("sent %T, want a neighbor advertisement", s.msg)
		}
		mac := ""
		for _, o := range na.Options {
			if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
				mac = lla.Addr.String()
			}
		}
		out = append(out, naSummary{At: s.at, Dst: s.dst, Target: na.TargetAddress.String(), Solicited: na.Solicited, Override: na.Override, TargetMAC: mac})
	}
	return out
}

// nsBytes is a Neighbor Solicitation for target, with a source link-layer address option unless mac is nil.
func nsBytes(t testing.TB, target netip.Addr, mac net.HardwareAddr) []byte {
	t.Helper()
	ns := &ndp.NeighborSolicitation{TargetAddress: target}
	if mac != nil {
		ns.Options = []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: mac}}
	}
	b, err := ndp.MarshalMessage(ns)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
