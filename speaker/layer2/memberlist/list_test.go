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
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestNewValidates(t *testing.T) {
	bad := FastTimers()
	bad.ProbeInterval = 0
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "no name", opts: Options{BindAddr: "127.0.0.1"}, wantErr: "node name is required"},
		{name: "no address", opts: Options{Name: "a"}, wantErr: "bind address"},
		{name: "wildcard address", opts: Options{Name: "a", BindAddr: "0.0.0.0"}, wantErr: "not an address peers can reach"},
		{name: "bad port", opts: Options{Name: "a", BindAddr: "127.0.0.1", BindPort: 70000}, wantErr: "out of range"},
		{name: "bad tuning", opts: Options{Name: "a", BindAddr: "127.0.0.1", Tuning: bad}, wantErr: "ProbeInterval must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.opts)
			if err == nil {
				_ = l.Shutdown()
				t.Fatal("New() succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestJoinNeedsTheSameSecret(t *testing.T) {
	tests := []struct {
		name       string
		secretA    string
		secretB    string
		wantJoined bool
	}{
		{name: "same secret", secretA: "s3cret", secretB: "s3cret", wantJoined: true},
		{name: "no secret anywhere", wantJoined: true},
		{name: "different secrets", secretA: "s3cret", secretB: "other"},
		{name: "encrypted and plaintext", secretA: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			a := c.add("a", func(o *Options) { o.SecretKey = []byte(tt.secretA) })
			b := c.add("b", func(o *Options) { o.SecretKey = []byte(tt.secretB) })

			n, err := b.list.Join([]string{a.addr})
			if tt.wantJoined {
				if err != nil || n != 1 {
					t.Fatalf("Join() = %d, %v; want 1, nil", n, err)
				}
				waitMembers(t, 5*time.Second, names(a, b), a, b)
				return
			}
			if err == nil {
				t.Fatalf("Join() = %d, nil; want an error", n)
			}
			if !errors.Is(err, ErrKeyMismatch) {
				t.Errorf("Join() error = %v, want ErrKeyMismatch", err)
			}
			t.Logf("Join() error: %v", err)
			for _, x := range []*node{a, b} {
				if got := x.list.Members(); !got.Equal(names(x)) {
					t.Errorf("%s sees %v, want only itself", x.name, sets.List(got))
				}
			}
		})
	}
}

func TestJoinSkipsMembers(t *testing.T) {
	c := newCluster(t)
	a, b := c.add("a"), c.add("b")
	joinAll(t, a, b)

	n, err := b.list.Join([]string{a.addr, b.addr, "127.0.0.1:" + strings.Split(a.addr, ":")[1]})
	if err != nil || n != 0 {
		t.Fatalf("Join(members) = %d, %v; want 0, nil (nothing to join)", n, err)
	}
}

func TestDiscoverConverges(t *testing.T) {
	c := newCluster(t)
	nodes := []*node{c.add("a"), c.add("b"), c.add("c"), c.add("d")}
	list := func(context.Context) ([]string, error) { return addrs(nodes...), nil }
	runDiscover(t, list, nodes...)

	waitMembers(t, 10*time.Second, names(nodes...), nodes...)
	for _, n := range nodes {
		select {
		case <-n.list.Changes():
		default:
			t.Errorf("%s: no signal on Changes after the others joined", n.name)
		}
	}
}

// runDiscover runs Discover on every node until the test ends (stopped before the lists shut down).
func runDiscover(t *testing.T, list func(context.Context) ([]string, error), nodes ...*node) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.list.Discover(ctx, list, 100*time.Millisecond)
		}()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func TestDiscoverJoinsAtOnceAndRetries(t *testing.T) {
	c := newCluster(t)
	clk := clocktesting.NewFakeClock(time.Now())
	a := c.add("a")
	b := c.add("b", func(o *Options) { o.Clock = clk })

	calls := make(chan struct{}, 10)
	var mu sync.Mutex
	fail := true
	list := func(context.Context) ([]string, error) {
		defer func() { calls <- struct{}{} }()
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, errors.New("API server unavailable")
		}
		return []string{a.addr}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.list.Discover(ctx, list, time.Minute)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	// The first round runs before any tick, and fails.
	waitCall(t, calls)
	if got := b.list.Members().Len(); got != 1 {
		t.Fatalf("members after a failed list = %d, want 1", got)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	// Nothing happens until the next tick.
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(time.Minute)
	waitCall(t, calls)
	waitMembers(t, 5*time.Second, names(a, b), a, b)
}

func waitCall(t *testing.T, calls <-chan struct{}) {
	t.Helper()
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("Discover did not call list")
	}
}

// TestCrashIsDetected checks that a member that vanishes without a word is dropped by all the others.
// How fast is BenchmarkDetection's business; the bound here only catches a detector that never fires.
func TestCrashIsDetected(t *testing.T) {
	c := newCluster(t)
	a, b, v := c.add("a"), c.add("b"), c.add("victim")
	joinAll(t, a, b, v)

	start := time.Now()
	if err := v.list.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, 10*time.Second, names(a, b), a, b)
	t.Logf("crash detected by every survivor after %s (%d suspicion log lines)", time.Since(start), c.log.suspects.Load())
	if c.log.suspects.Load() == 0 {
		t.Error("no suspicion logged: the counter TestNoFalseDeathUnderLoad reports is broken")
	}
	for _, n := range []*node{a, b} {
		if n.leaveCount() == 0 {
			t.Errorf("%s dropped the victim without a leave notification", n.name)
		}
	}
}

// TestLeaveIsImmediate checks that a graceful Leave takes the leaver out of the others' view without
// going through suspicion. To tell the two paths apart without timing races, the cluster runs with a
// suspicion period of 50 × 200 ms = 10 s: the crash path cannot drop anybody within the 5 s allowed
// here, so a member gone by then can only have been removed by the leave message.
func TestLeaveIsImmediate(t *testing.T) {
	c := newCluster(t)
	c.tuning.SuspicionMult = 50
	a, b, v := c.add("a"), c.add("b"), c.add("leaver")
	joinAll(t, a, b, v)

	start := time.Now()
	if err := v.list.Leave(time.Second); err != nil {
		t.Fatalf("Leave() = %v", err)
	}
	waitMembers(t, 5*time.Second, names(a, b), a, b)
	t.Logf("leave seen by every member after %s", time.Since(start))
	if err := v.list.Leave(time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("second Leave() = %v, want ErrClosed", err)
	}
	if _, err := v.list.Join([]string{a.addr}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join() after Leave = %v, want ErrClosed", err)
	}
}

// TestPartitionHeals splits four members into two halves, waits until each half has dropped the
// other, heals the network and checks that Discover merges the halves again.
func TestPartitionHeals(t *testing.T) {
	c := newCluster(t)
	a, b, x, y := c.add("a"), c.add("b"), c.add("x"), c.add("y")
	all := []*node{a, b, x, y}
	for i, n := range all {
		c.part.assign(n.addr, i/2)
	}
	list := func(context.Context) ([]string, error) { return addrs(all...), nil }
	runDiscover(t, list, all...)
	waitMembers(t, 10*time.Second, names(all...), all...)

	c.part.setSplit(true)
	start := time.Now()
	waitMembers(t, 10*time.Second, names(a, b), a, b)
	waitMembers(t, 10*time.Second, names(x, y), x, y)
	t.Logf("halves separated after %s", time.Since(start))

	c.part.setSplit(false)
	start = time.Now()
	waitMembers(t, 10*time.Second, names(all...), all...)
	t.Logf("halves merged after %s", time.Since(start))
}

// TestSilentMemberIsNotEvicted freezes one member's output for 400 ms, twice the probe interval and
// hundreds of times a Go GC pause, as a stalled process would look to its peers. It may be suspected,
// but it refutes as soon as it can send again, long before the earliest possible death: a probe
// window (200 ms) plus the minimum suspicion (600 ms) after the freeze began.
func TestSilentMemberIsNotEvicted(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 3.4 s for suspicions to expire")
	}
	c := newCluster(t)
	nodes := []*node{c.add("a"), c.add("b"), c.add("frozen")}
	joinAll(t, nodes...)

	c.part.mute(nodes[2].addr)
	time.Sleep(400 * time.Millisecond)
	c.part.mute("")
	// Let any suspicion run out: 2.4 s is the longest (unconfirmed) suspicion.
	time.Sleep(3 * time.Second)

	t.Logf("%d suspicions, %d refutations", c.log.suspects.Load(), c.log.refutes.Load())
	for _, n := range nodes {
		if got := n.leaveCount(); got != 0 {
			t.Errorf("%s declared %d members dead: %v", n.name, got, n.leaves)
		}
	}
	waitMembers(t, time.Second, names(nodes...), nodes...)
}

// TestNoFalseDeathUnderLoad runs a cluster while every core is busy allocating and the garbage
// collector is forced every 10 ms, and checks that nobody is declared dead. Suspicions that are
// refuted in time are allowed (and reported).
func TestNoFalseDeathUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("burns CPU for 3 s")
	}
	c := newCluster(t)
	nodes := []*node{c.add("a"), c.add("b"), c.add("c")}
	joinAll(t, nodes...)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			burn(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	wg.Wait()

	t.Logf("under load: %d suspicions, %d refutations", c.log.suspects.Load(), c.log.refutes.Load())
	for _, n := range nodes {
		if got := n.leaveCount(); got != 0 {
			t.Errorf("%s declared %d members dead under load: %v", n.name, got, n.leaves)
		}
		if got := n.list.Members(); !got.Equal(names(nodes...)) {
			t.Errorf("%s sees %v after the load", n.name, sets.List(got))
		}
	}
}

// sink keeps burn's allocations on the heap, so that the collector has work to do.
var sink atomic.Pointer[[][]byte]

// burn spins on the CPU and allocates until ctx is done.
func burn(ctx context.Context) {
	local := make([][]byte, 64)
	for i := 0; ctx.Err() == nil; i++ {
		local[i%len(local)] = make([]byte, 4096)
		for j := range 2000 {
			local[i%len(local)][j%4096] ^= byte(j)
		}
	}
	sink.Store(&local)
}

// TestStartingMembersAreLeftOut checks that a member that has not called SetReady is a member for itself
// only: the others keep it out of their elections until it is ready, then count it at once.
func TestStartingMembersAreLeftOut(t *testing.T) {
	c := newCluster(t)
	a, b := c.add("a"), c.add("b")
	c.starting = true
	n := c.add("new")
	joinAll(t, a, b)
	if _, err := n.list.Join([]string{a.addr}); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, 5*time.Second, names(a, b), a, b)
	waitMembers(t, 5*time.Second, names(a, b, n), n)
	if err := n.list.SetReady(time.Second); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, 5*time.Second, names(a, b, n), a, b, n)
}
