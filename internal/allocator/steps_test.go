package allocator_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/allocator"
)

// A step is one call on the Allocator and what it must return. Table tests are lists of steps run in order
// against one Allocator, so state-dependent behaviour (release then reuse, counters after each operation)
// reads top to bottom.
type step struct {
	desc string
	do   func(a *allocator.Allocator) (outcome, error)
	want outcome
	is   error // the sentinel a failing step's error must wrap
}

// outcome is everything a step can observe; fields a step does not produce stay zero.
type outcome struct {
	Pool     string
	IPs      []netip.Addr
	Err      string
	Lost     []string
	Released bool
	Stats    *allocator.PoolStats
}

func fromAllocation(al allocator.Allocation, err error) (outcome, error) {
	return outcome{Pool: al.Pool, IPs: al.IPs}, err
}

// gets sets the allocation a step must return.
func (s step) gets(pool string, ips ...string) step {
	s.want = outcome{Pool: pool, IPs: addrs(ips...)}
	return s
}

// fails sets the error a step must return: MetalLB's text and the sentinel it wraps.
func (s step) fails(sentinel error, msg string) step {
	s.want, s.is = outcome{Err: msg}, sentinel
	return s
}

// loses sets the services SetPools must report as having lost their addresses.
func (s step) loses(keys ...string) step {
	s.want = outcome{Lost: keys}
	return s
}

func allocate(svc allocator.Service, fam allocator.Family, pools ...string) step {
	return step{
		desc: fmt.Sprintf("Allocate(%s, %s, %v)", svc.Key, fam, pools),
		do:   func(a *allocator.Allocator) (outcome, error) { return fromAllocation(a.Allocate(svc, fam, pools)) },
	}
}

func preferDualStack(svc allocator.Service, primary allocator.Family, pools ...string) step {
	return step{
		desc: fmt.Sprintf("AllocatePreferDualStack(%s, %s, %v)", svc.Key, primary, pools),
		do: func(a *allocator.Allocator) (outcome, error) {
			return fromAllocation(a.AllocatePreferDualStack(svc, primary, pools))
		},
	}
}

func allocateFrom(svc allocator.Service, fam allocator.Family, pool string) step {
	return step{
		desc: fmt.Sprintf("AllocateFromPool(%s, %s, %s)", svc.Key, fam, pool),
		do: func(a *allocator.Allocator) (outcome, error) {
			return fromAllocation(a.AllocateFromPool(svc, fam, pool))
		},
	}
}

func addFamily(svc allocator.Service, fam allocator.Family) step {
	return step{
		desc: fmt.Sprintf("AddFamily(%s, %s)", svc.Key, fam),
		do:   func(a *allocator.Allocator) (outcome, error) { return fromAllocation(a.AddFamily(svc, fam)) },
	}
}

func assign(svc allocator.Service, ips ...string) step {
	return assignIn(svc, nil, ips...)
}

// assignIn is Assign with a pool filter accepting only the pools in allowed.
func assignIn(svc allocator.Service, allowed []string, ips ...string) step {
	var filter func(string) bool
	if allowed != nil {
		filter = func(p string) bool {
			for _, ok := range allowed {
				if p == ok {
					return true
				}
			}
			return false
		}
	}
	return step{
		desc: fmt.Sprintf("Assign(%s, %v, allowed %v)", svc.Key, ips, allowed),
		do: func(a *allocator.Allocator) (outcome, error) {
			return fromAllocation(a.Assign(svc, addrs(ips...), filter))
		},
	}
}

func release(key string, held bool) step {
	return step{
		desc: fmt.Sprintf("Release(%s)", key),
		do:   func(a *allocator.Allocator) (outcome, error) { return outcome{Released: a.Release(key)}, nil },
		want: outcome{Released: held},
	}
}

func setPools(pools ...allocator.Pool) step {
	return step{
		desc: fmt.Sprintf("SetPools(%d pools)", len(pools)),
		do: func(a *allocator.Allocator) (outcome, error) {
			lost, err := a.SetPools(pools)
			return outcome{Lost: lost}, err
		},
	}
}

// holds checks what Allocation reports for a service; no pool means no allocation.
func holds(key, pool string, ips ...string) step {
	return step{
		desc: fmt.Sprintf("Allocation(%s)", key),
		do: func(a *allocator.Allocator) (outcome, error) {
			al, ok := a.Allocation(key)
			if !ok {
				return outcome{}, nil
			}
			return outcome{Pool: al.Pool, IPs: al.IPs}, nil
		},
		want: outcome{Pool: pool, IPs: addrs(ips...)},
	}
}

// counts checks a pool's counters: v4 and v6 are {total, assigned} pairs.
func counts(pool string, v4, v6 [2]uint64) step {
	return countsExact(pool, counters(v4[0], v4[1]), counters(v6[0], v6[1]))
}

// noStats checks that Stats does not know the pool.
func noStats(pool string) step {
	s := countsExact(pool, allocator.Counters{}, allocator.Counters{})
	s.want = outcome{}
	return s
}

func countsExact(pool string, v4, v6 allocator.Counters) step {
	return step{
		desc: fmt.Sprintf("Stats(%s)", pool),
		do: func(a *allocator.Allocator) (outcome, error) {
			s, ok := a.Stats(pool)
			if !ok {
				return outcome{}, nil
			}
			return outcome{Stats: &s}, nil
		},
		want: outcome{Stats: &allocator.PoolStats{IPv4: v4, IPv6: v6}},
	}
}

func counters(total, assigned uint64) allocator.Counters {
	return allocator.Counters{
		Total:     allocator.Uint128{Lo: total},
		Assigned:  allocator.Uint128{Lo: assigned},
		Available: allocator.Uint128{Lo: total - assigned},
	}
}

func run(t *testing.T, pools []allocator.Pool, steps []step) {
	t.Helper()
	a := allocator.New()
	if _, err := a.SetPools(pools); err != nil {
		t.Fatalf("SetPools: %v", err)
	}
	for i, s := range steps {
		got, err := s.do(a)
		if err != nil {
			got.Err = err.Error()
			if s.is == nil || !errors.Is(err, s.is) {
				t.Errorf("step %d %s: error %q does not wrap %v", i, s.desc, err, s.is)
			}
		}
		if diff := cmp.Diff(s.want, got, addrComparer); diff != "" {
			t.Fatalf("step %d %s (-want +got):\n%s", i, s.desc, diff)
		}
	}
}

// addrComparer compares netip.Addr values, whose fields cmp cannot see.
var addrComparer = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// addrRange is RangeToPrefixes for tests, on text.
func addrRange(t testing.TB, first, last string) []netip.Prefix {
	ps, err := allocator.RangeToPrefixes(netip.MustParseAddr(first), netip.MustParseAddr(last))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func pool(name string, cidrs ...string) allocator.Pool {
	return allocator.Pool{Name: name, CIDRs: prefixes(cidrs...), AutoAssign: true}
}

func svc(key string, ports ...allocator.Port) allocator.Service {
	return allocator.Service{Key: key, Ports: ports}
}

func shared(key, sharingKey string, ports ...allocator.Port) allocator.Service {
	return allocator.Service{Key: key, SharingKey: sharingKey, Ports: ports}
}

func withBackend(s allocator.Service, backendKey string) allocator.Service {
	s.BackendKey = backendKey
	return s
}

func tcp(port int32) allocator.Port { return allocator.Port{Protocol: "TCP", Port: port} }
func udp(port int32) allocator.Port { return allocator.Port{Protocol: "UDP", Port: port} }
