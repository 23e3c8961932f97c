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

package memberlist

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	ml "github.com/hashicorp/memberlist"
	"k8s.io/apimachinery/pkg/util/sets"
)

// partition decides which addresses can talk to each other: when split, only addresses in the same
// group can. It is shared by the filterTransports of one test cluster.
type partition struct {
	mu     sync.Mutex
	groups map[string]int // "ip:port" → group
	split  bool
	muted  string // "ip:port" whose packets and dials all fail, as if its process were frozen
}

func (p *partition) assign(addr string, group int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.groups == nil {
		p.groups = make(map[string]int)
	}
	p.groups[addr] = group
}

func (p *partition) setSplit(split bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.split = split
}

func (p *partition) mute(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.muted = addr
}

func (p *partition) blocked(from, to string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (p.split && p.groups[from] != p.groups[to]) || (p.muted != "" && from == p.muted)
}

// filterTransport is memberlist's NetTransport with a partition in front of its outgoing packets and
// stream dials. Dropping on the sending side of both ends cuts both directions, relays included
// (an indirect probe is sent by the relay's own transport).
type filterTransport struct {
	*ml.NetTransport
	self string
	part *partition
}

var _ ml.NodeAwareTransport = (*filterTransport)(nil)

func (t *filterTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.part.blocked(t.self, addr) {
		return time.Now(), nil // lost on the wire: UDP senders never know
	}
	return t.NetTransport.WriteTo(b, addr)
}

func (t *filterTransport) WriteToAddress(b []byte, a ml.Address) (time.Time, error) {
	if t.part.blocked(t.self, a.Addr) {
		return time.Now(), nil
	}
	return t.NetTransport.WriteToAddress(b, a)
}

func (t *filterTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.part.blocked(t.self, addr) {
		return nil, fmt.Errorf("dial %s: partitioned", addr)
	}
	return t.NetTransport.DialTimeout(addr, timeout)
}

func (t *filterTransport) DialAddressTimeout(a ml.Address, timeout time.Duration) (net.Conn, error) {
	if t.part.blocked(t.self, a.Addr) {
		return nil, fmt.Errorf("dial %s: partitioned", a.Addr)
	}
	return t.NetTransport.DialAddressTimeout(a, timeout)
}

// protocolLog counts the memberlist log lines that reveal the failure detector's work, to report how
// often a live member was suspected.
type protocolLog struct {
	suspects atomic.Int64
	refutes  atomic.Int64
}

func (p *protocolLog) logger() logr.Logger {
	return funcr.New(func(_, args string) {
		switch {
		case strings.Contains(args, "Suspect "):
			p.suspects.Add(1)
		case strings.Contains(args, "Refuting a suspect"):
			p.refutes.Add(1)
		}
	}, funcr.Options{Verbosity: 1})
}

// node is one List under test with what it observed.
type node struct {
	name string
	addr string
	list *List

	mu     sync.Mutex
	leaves map[string]int // member name → NotifyLeave count
}

func (n *node) observe(kind eventKind, member string) {
	if kind != eventLeave || member == n.name {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.leaves[member]++
}

func (n *node) leaveCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, c := range n.leaves {
		total += c
	}
	return total
}

// cluster builds Lists on 127.0.0.1 with ephemeral ports, all behind one partition.
type cluster struct {
	tb     testing.TB
	part   partition
	log    protocolLog
	tuning Tuning
	secret []byte
	// starting leaves the members it adds not ready (SetReady not called).
	starting bool
}

func newCluster(tb testing.TB) *cluster {
	return &cluster{tb: tb, tuning: FastTimers()}
}

// add starts a member; it is shut down when the test ends, whatever happens.
func (c *cluster) add(name string, mods ...func(*Options)) *node {
	c.tb.Helper()
	nt, err := listenEphemeral()
	if err != nil {
		c.tb.Fatalf("listening for %s: %v", name, err)
	}
	port := nt.GetAutoBindPort()
	n := &node{
		name:   name,
		addr:   net.JoinHostPort("127.0.0.1", fmt.Sprint(port)),
		leaves: make(map[string]int),
	}
	opts := Options{
		Name:      name,
		BindAddr:  "127.0.0.1",
		BindPort:  port,
		SecretKey: c.secret,
		Tuning:    c.tuning,
		Logger:    c.log.logger(),
		transport: &filterTransport{NetTransport: nt, self: n.addr, part: &c.part},
		onEvent:   n.observe,
	}
	for _, mod := range mods {
		mod(&opts)
	}
	l, err := New(opts)
	if err != nil {
		_ = nt.Shutdown()
		c.tb.Fatalf("starting %s: %v", name, err)
	}
	n.list = l
	c.tb.Cleanup(func() { _ = l.Shutdown() })
	if !c.starting {
		if err := l.SetReady(time.Second); err != nil {
			c.tb.Fatalf("%s ready: %v", name, err)
		}
	}
	return n
}

// listenEphemeral binds UDP and TCP on the same free port, retrying the (rare) race where the TCP
// port's UDP twin is taken, like memberlist does for BindPort 0.
func listenEphemeral() (*ml.NetTransport, error) {
	var err error
	for range 10 {
		var nt *ml.NetTransport
		nt, err = ml.NewNetTransport(&ml.NetTransportConfig{BindAddrs: []string{"127.0.0.1"}})
		if err == nil {
			return nt, nil
		}
	}
	return nil, err
}

// addrs lists the members' addresses, as the glue's pod lister would.
func addrs(nodes ...*node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.addr)
	}
	return out
}

func names(nodes ...*node) sets.Set[string] {
	s := sets.New[string]()
	for _, n := range nodes {
		s.Insert(n.name)
	}
	return s
}

// joinAll joins every node to the first and waits until all agree.
func joinAll(tb testing.TB, nodes ...*node) {
	tb.Helper()
	for _, n := range nodes[1:] {
		if _, err := n.list.Join([]string{nodes[0].addr}); err != nil {
			tb.Fatalf("%s joining %s: %v", n.name, nodes[0].name, err)
		}
	}
	waitMembers(tb, 10*time.Second, names(nodes...), nodes...)
}

// waitMembers waits until every one of nodes sees exactly want.
func waitMembers(tb testing.TB, timeout time.Duration, want sets.Set[string], nodes ...*node) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		agree := true
		for _, n := range nodes {
			if !n.list.Members().Equal(want) {
				agree = false
				break
			}
		}
		if agree {
			return
		}
		if time.Now().After(deadline) {
			for _, n := range nodes {
				tb.Logf("%s sees %v", n.name, sets.List(n.list.Members()))
			}
			tb.Fatalf("members did not converge to %v within %s", sets.List(want), timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
