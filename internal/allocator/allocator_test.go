package allocator_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/allocator"
)

var (
	v4   = allocator.IPv4
	v6   = allocator.IPv6
	dual = allocator.DualStack
)

func TestAllocateLowestFirst(t *testing.T) {
	tests := []struct {
		name  string
		pools []allocator.Pool
		steps []step
	}{
		{
			name:  "CIDR: lowest address first, network and broadcast included, then exhausted",
			pools: []allocator.Pool{pool("p", "10.0.0.0/30")},
			steps: []step{
				counts("p", [2]uint64{4, 0}, [2]uint64{}),
				allocate(svc("a"), v4, "p").gets("p", "10.0.0.0"),
				allocate(svc("b"), v4, "p").gets("p", "10.0.0.1"),
				allocate(svc("c"), v4, "p").gets("p", "10.0.0.2"),
				counts("p", [2]uint64{4, 3}, [2]uint64{}),
				allocate(svc("d"), v4, "p").gets("p", "10.0.0.3"),
				counts("p", [2]uint64{4, 4}, [2]uint64{}),
				allocate(svc("e"), v4, "p").fails(allocator.ErrPoolExhausted, "no available IPs"),
				allocateFrom(svc("e"), v4, "p").fails(allocator.ErrPoolExhausted,
					"no available IPs in pool p for ipv4 IPFamily"),
				counts("p", [2]uint64{4, 4}, [2]uint64{}),
			},
		},
		{
			name:  "range 10.0.0.5-10.0.0.20 as prefixes: lowest first across prefix boundaries",
			pools: []allocator.Pool{{Name: "r", CIDRs: addrRange(t, "10.0.0.5", "10.0.0.20"), AutoAssign: true}},
			steps: []step{
				counts("r", [2]uint64{16, 0}, [2]uint64{}),
				allocate(svc("a"), v4, "r").gets("r", "10.0.0.5"),
				allocate(svc("b"), v4, "r").gets("r", "10.0.0.6"),
				allocate(svc("c"), v4, "r").gets("r", "10.0.0.7"),
				allocate(svc("d"), v4, "r").gets("r", "10.0.0.8"),
				counts("r", [2]uint64{16, 4}, [2]uint64{}),
			},
		},
		{
			name:  "CIDRs of a pool are tried in the given order, not address order",
			pools: []allocator.Pool{pool("p", "10.0.1.0/31", "10.0.0.0/31")},
			steps: []step{
				allocate(svc("a"), v4, "p").gets("p", "10.0.1.0"),
				allocate(svc("b"), v4, "p").gets("p", "10.0.1.1"),
				allocate(svc("c"), v4, "p").gets("p", "10.0.0.0"),
			},
		},
		{
			name:  "release then reuse: the freed address is the lowest free again",
			pools: []allocator.Pool{pool("p", "10.0.0.0/29")},
			steps: []step{
				allocate(svc("a"), v4, "p").gets("p", "10.0.0.0"),
				allocate(svc("b"), v4, "p").gets("p", "10.0.0.1"),
				allocate(svc("c"), v4, "p").gets("p", "10.0.0.2"),
				release("b", true),
				counts("p", [2]uint64{8, 2}, [2]uint64{}),
				holds("b", ""),
				allocate(svc("d"), v4, "p").gets("p", "10.0.0.1"),
				allocate(svc("e"), v4, "p").gets("p", "10.0.0.3"),
				release("b", false),
				release("a", true),
				allocate(svc("f"), v4, "p").gets("p", "10.0.0.0"),
				counts("p", [2]uint64{8, 4}, [2]uint64{}),
			},
		},
		{
			name: "pools in the caller's order; full and autoAssign=false pools are skipped",
			pools: []allocator.Pool{
				pool("full", "10.0.0.0/32"),
				{Name: "manual", CIDRs: prefixes("10.0.1.0/24")},
				pool("next", "10.0.2.0/24"),
			},
			steps: []step{
				allocate(svc("a"), v4, "full", "next").gets("full", "10.0.0.0"),
				allocate(svc("b"), v4, "manual", "full", "next").gets("next", "10.0.2.0"),
				allocate(svc("c"), v4, "manual").fails(allocator.ErrPoolExhausted, "no available IPs"),
				allocateFrom(svc("c"), v4, "manual").gets("manual", "10.0.1.0"),
				allocate(svc("d"), v4, "next", "nope").fails(allocator.ErrUnknownPool, `unknown pool "nope"`),
				allocateFrom(svc("d"), v4, "nope").fails(allocator.ErrUnknownPool, `unknown pool "nope"`),
				allocate(svc("d"), v4).fails(allocator.ErrPoolExhausted, "no available IPs"),
			},
		},
		{
			name:  "a service that holds addresses keeps them",
			pools: []allocator.Pool{pool("p", "10.0.0.0/24"), pool("q", "10.0.1.0/24")},
			steps: []step{
				allocate(svc("a"), v4, "p").gets("p", "10.0.0.0"),
				allocate(svc("a"), v4, "q").gets("p", "10.0.0.0"),
				allocateFrom(svc("a"), v4, "q").gets("p", "10.0.0.0"),
				counts("p", [2]uint64{256, 1}, [2]uint64{}),
				counts("q", [2]uint64{256, 0}, [2]uint64{}),
			},
		},
		{
			name:  "family missing from the pool",
			pools: []allocator.Pool{pool("p4", "10.0.0.0/24")},
			steps: []step{
				allocate(svc("a"), v6, "p4").fails(allocator.ErrPoolExhausted, "no available IPs"),
				allocateFrom(svc("a"), v6, "p4").fails(allocator.ErrPoolExhausted,
					"no available IPs in pool p4 for ipv6 IPFamily"),
				allocateFrom(svc("a"), dual, "p4").fails(allocator.ErrPoolExhausted,
					"no available IPs in pool p4 for dual IPFamily"),
			},
		},
		{
			name:  "invalid requests",
			pools: []allocator.Pool{pool("p", "10.0.0.0/24")},
			steps: []step{
				allocate(svc(""), v4, "p").fails(allocator.ErrInvalidRequest, "service key must not be empty"),
				allocate(svc("a"), 0, "p").fails(allocator.ErrInvalidRequest, "unknown address family 0"),
				assign(svc("a")).fails(allocator.ErrInvalidRequest, `no addresses requested for "a"`),
				assign(svc(""), "10.0.0.1").fails(allocator.ErrInvalidRequest, "service key must not be empty"),
				allocateFrom(svc("a"), 7, "p").fails(allocator.ErrInvalidRequest, "unknown address family 7"),
				preferDualStack(svc("a"), dual, "p").fails(allocator.ErrInvalidRequest,
					"primary family must be ipv4 or ipv6, not dual"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.pools, tt.steps) })
	}
}

func TestAssign(t *testing.T) {
	dualPool := pool("d", "10.0.0.0/24", "fd00::/120")
	other := pool("o", "10.0.1.0/24", "fd00:1::/120")
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "specific address in a pool, then the lowest free skips it",
			steps: []step{
				assign(svc("a"), "10.0.0.0").gets("d", "10.0.0.0"),
				assign(svc("b"), "10.0.0.2").gets("d", "10.0.0.2"),
				allocate(svc("c"), v4, "d").gets("d", "10.0.0.1"),
				allocate(svc("e"), v4, "d").gets("d", "10.0.0.3"),
				counts("d", [2]uint64{256, 4}, [2]uint64{256, 0}),
			},
		},
		{
			name: "address in no pool",
			steps: []step{
				assign(svc("a"), "10.9.0.1").fails(allocator.ErrNotInPool, `["10.9.0.1"] is not allowed in config`),
				assign(svc("a"), "10.0.0.1", "fd00:1::1").fails(allocator.ErrNotInPool,
					`["10.0.0.1" "fd00:1::1"] is not allowed in config`),
				assign(svc("a"), "fe80::1%eth0").fails(allocator.ErrNotInPool, `["fe80::1%eth0"] is not allowed in config`),
				counts("d", [2]uint64{256, 0}, [2]uint64{256, 0}),
			},
		},
		{
			name: "dual-stack assignment from one pool",
			steps: []step{
				assign(svc("a"), "fd00::5", "10.0.0.5").gets("d", "fd00::5", "10.0.0.5"),
				counts("d", [2]uint64{256, 1}, [2]uint64{256, 1}),
			},
		},
		{
			name: "more than two addresses, or two of one family",
			steps: []step{
				assign(svc("a"), "10.0.0.1", "fd00::1", "10.0.0.2").fails(allocator.ErrInvalidRequest,
					`more than two addresses ["10.0.0.1" "fd00::1" "10.0.0.2"]`),
				assign(svc("a"), "10.0.0.1", "10.0.0.2").fails(allocator.ErrInvalidRequest,
					`"10.0.0.1" "10.0.0.2" has the same family`),
				holds("a", ""),
			},
		},
		{
			name: "pool filter",
			steps: []step{
				assignIn(svc("a"), []string{"o"}, "10.0.0.1").fails(allocator.ErrPoolNotCompatible,
					"pool d not compatible for ip assignment"),
				assignIn(svc("a"), []string{"o", "d"}, "10.0.0.1").gets("d", "10.0.0.1"),
			},
		},
		{
			name: "assigning again replaces the allocation and frees the old address",
			steps: []step{
				assign(svc("a"), "10.0.0.7").gets("d", "10.0.0.7"),
				assign(svc("a"), "10.0.0.7").gets("d", "10.0.0.7"),
				counts("d", [2]uint64{256, 1}, [2]uint64{256, 0}),
				assign(svc("a"), "10.0.1.9").gets("o", "10.0.1.9"),
				counts("d", [2]uint64{256, 0}, [2]uint64{256, 0}),
				counts("o", [2]uint64{256, 1}, [2]uint64{256, 0}),
				assign(svc("b"), "10.0.0.7").gets("d", "10.0.0.7"),
			},
		},
		{
			name: "a failed assignment keeps the old allocation",
			steps: []step{
				assign(svc("a"), "10.0.0.1").gets("d", "10.0.0.1"),
				assign(svc("b", tcp(80)), "10.0.0.2").gets("d", "10.0.0.2"),
				assign(svc("a"), "10.0.0.2").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "a", address also in use by b`),
				holds("a", "d", "10.0.0.1"),
				counts("d", [2]uint64{256, 2}, [2]uint64{256, 0}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, []allocator.Pool{dualPool, other}, tt.steps) })
	}
}

func TestSharing(t *testing.T) {
	p := pool("p", "10.0.0.0/29")
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "same key, different ports: shared, counted once",
			steps: []step{
				assign(shared("a", "k", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("b", "k", tcp(443)), "10.0.0.0").gets("p", "10.0.0.0"),
				counts("p", [2]uint64{8, 1}, [2]uint64{}),
				release("a", true),
				counts("p", [2]uint64{8, 1}, [2]uint64{}),
				release("b", true),
				counts("p", [2]uint64{8, 0}, [2]uint64{}),
			},
		},
		{
			name: "TCP/80 and UDP/80 do not conflict",
			steps: []step{
				assign(shared("a", "k", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("b", "k", udp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
			},
		},
		{
			name: "same port and protocol conflict",
			steps: []step{
				assign(shared("a", "k", tcp(80), tcp(443)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("b", "k", udp(53), tcp(443)), "10.0.0.0").fails(allocator.ErrSharingConflict,
					`port TCP/443 is already in use on "10.0.0.0"`),
			},
		},
		{
			name: "existing service does not allow sharing",
			steps: []step{
				assign(svc("a", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("b", "k", tcp(443)), "10.0.0.0").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "b", address also in use by a`),
			},
		},
		{
			name: "new service does not allow sharing",
			steps: []step{
				assign(shared("a", "k", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(svc("b", tcp(443)), "10.0.0.0").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "b", address also in use by a`),
			},
		},
		{
			name: "sharing keys differ",
			steps: []step{
				assign(shared("a", "k", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("b", "x", tcp(443)), "10.0.0.0").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "b", address also in use by a`),
			},
		},
		{
			name: "backend keys differ (externalTrafficPolicy Local selectors)",
			steps: []step{
				assign(withBackend(shared("a", "k", tcp(80)), "app=x"), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(withBackend(shared("b", "k", tcp(443)), "app=y"), "10.0.0.0").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "b", address also in use by a`),
				assign(withBackend(shared("c", "k", tcp(443)), "app=x"), "10.0.0.0").gets("p", "10.0.0.0"),
			},
		},
		{
			name: "sole user may change its key; not once the address is shared; users listed sorted",
			steps: []step{
				assign(svc("a", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("a", "k", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("c", "k", tcp(443)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("b", "k", tcp(8080)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("a", "other", tcp(80)), "10.0.0.0").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "a", address also in use by b,c`),
				allocate(shared("a", "other", tcp(80)), v4, "p").fails(allocator.ErrSharingConflict,
					`can't change sharing key for "a", address also in use by b,c`),
				assign(shared("a", "k", tcp(81)), "10.0.0.0").gets("p", "10.0.0.0"),
				assign(shared("d", "k", tcp(80)), "10.0.0.0").gets("p", "10.0.0.0"),
				counts("p", [2]uint64{8, 1}, [2]uint64{}),
			},
		},
		{
			name: "automatic allocation takes the lowest free or shareable address",
			steps: []step{
				allocate(shared("a", "k", tcp(80)), v4, "p").gets("p", "10.0.0.0"),
				allocate(shared("b", "k", udp(53)), v4, "p").gets("p", "10.0.0.0"),
				allocate(shared("c", "k", tcp(80)), v4, "p").gets("p", "10.0.0.1"),
				allocate(shared("d", "x", tcp(22)), v4, "p").gets("p", "10.0.0.2"),
				allocate(svc("e", tcp(22)), v4, "p").gets("p", "10.0.0.3"),
				allocate(shared("f", "k", tcp(80), udp(53)), v4, "p").gets("p", "10.0.0.4"),
				allocate(shared("g", "k", tcp(443)), v4, "p").gets("p", "10.0.0.0"),
				allocate(shared("h", "x", tcp(23)), v4, "p").gets("p", "10.0.0.2"),
				counts("p", [2]uint64{8, 5}, [2]uint64{}),
				release("e", true),
				allocate(shared("i", "k", udp(53)), v4, "p").gets("p", "10.0.0.1"),
				allocate(shared("j", "k", udp(53), tcp(80)), v4, "p").gets("p", "10.0.0.3"),
				counts("p", [2]uint64{8, 5}, [2]uint64{}),
			},
		},
		{
			name: "a free address below every shareable one wins",
			steps: []step{
				allocate(svc("a"), v4, "p").gets("p", "10.0.0.0"),
				allocate(shared("b", "k", tcp(80)), v4, "p").gets("p", "10.0.0.1"),
				release("a", true),
				allocate(shared("c", "k", tcp(443)), v4, "p").gets("p", "10.0.0.0"),
			},
		},
		{
			name: "exhausted except for a shareable address",
			steps: []step{
				assign(shared("a", "k", tcp(80)), "10.0.0.6").gets("p", "10.0.0.6"),
				allocate(svc("b"), v4, "p").gets("p", "10.0.0.0"),
				allocate(svc("c"), v4, "p").gets("p", "10.0.0.1"),
				allocate(svc("d"), v4, "p").gets("p", "10.0.0.2"),
				allocate(svc("e"), v4, "p").gets("p", "10.0.0.3"),
				allocate(svc("f"), v4, "p").gets("p", "10.0.0.4"),
				allocate(svc("g"), v4, "p").gets("p", "10.0.0.5"),
				allocate(svc("h"), v4, "p").gets("p", "10.0.0.7"),
				allocate(svc("i"), v4, "p").fails(allocator.ErrPoolExhausted, "no available IPs"),
				allocate(shared("i", "k", tcp(80)), v4, "p").fails(allocator.ErrPoolExhausted, "no available IPs"),
				allocate(shared("i", "k", tcp(8080)), v4, "p").gets("p", "10.0.0.6"),
				counts("p", [2]uint64{8, 8}, [2]uint64{}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, []allocator.Pool{p}, tt.steps) })
	}
}

func TestAvoidBuggyIPs(t *testing.T) {
	buggy := func(name string, cidrs ...string) allocator.Pool {
		p := pool(name, cidrs...)
		p.AvoidBuggyIPs = true
		return p
	}
	tests := []struct {
		name  string
		pools []allocator.Pool
		steps []step
	}{
		{
			name:  "/24: 254 addresses, .0 and .255 never allocated nor assignable",
			pools: []allocator.Pool{buggy("p", "192.168.10.0/24", "fd00::/126")},
			steps: []step{
				counts("p", [2]uint64{254, 0}, [2]uint64{4, 0}),
				allocate(svc("a"), v4, "p").gets("p", "192.168.10.1"),
				assign(svc("b"), "192.168.10.0").fails(allocator.ErrNotInPool, `["192.168.10.0"] is not allowed in config`),
				assign(svc("b"), "192.168.10.255").fails(allocator.ErrNotInPool, `["192.168.10.255"] is not allowed in config`),
				assign(svc("b"), "192.168.10.254").gets("p", "192.168.10.254"),
				allocate(svc("c"), v6, "p").gets("p", "fd00::"),
				counts("p", [2]uint64{254, 2}, [2]uint64{4, 1}),
			},
		},
		{
			name:  "/23: allocation jumps from .254 over .255 and .0",
			pools: []allocator.Pool{buggy("p", "10.0.0.0/23")},
			steps: []step{
				counts("p", [2]uint64{508, 0}, [2]uint64{}),
				assign(svc("x"), "10.0.0.253").gets("p", "10.0.0.253"),
				allocate(svc("a"), v4, "p").gets("p", "10.0.0.1"),
				release("a", true),
				assignRange("f", "10.0.0.1", 252),
				allocate(svc("b"), v4, "p").gets("p", "10.0.0.254"),
				allocate(svc("c"), v4, "p").gets("p", "10.0.1.1"),
				counts("p", [2]uint64{508, 255}, [2]uint64{}),
			},
		},
		{
			name:  "small CIDRs at /24 edges count one excluded address each",
			pools: []allocator.Pool{buggy("p", "10.0.0.0/30", "10.0.0.252/30", "10.0.1.4/30", "10.0.2.0/32")},
			steps: []step{
				counts("p", [2]uint64{3 + 3 + 4, 0}, [2]uint64{}),
				allocate(svc("a"), v4, "p").gets("p", "10.0.0.1"),
			},
		},
		{
			name:  "MetalLB e2e: 192.168.10.0/30 counts 4 without avoidBuggyIPs",
			pools: []allocator.Pool{pool("p", "192.168.10.0/30")},
			steps: []step{counts("p", [2]uint64{4, 0}, [2]uint64{})},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.pools, tt.steps) })
	}
}

// assignRange assigns n consecutive addresses from first to services prefix-0, prefix-1, ... as one step.
func assignRange(prefix, first string, n int) step {
	return step{
		desc: "assign range from " + first,
		do: func(a *allocator.Allocator) (outcome, error) {
			ip := addrs(first)[0]
			for range n {
				if _, err := a.Assign(svc(prefix+"-"+ip.String()), []netip.Addr{ip}, nil); err != nil {
					return outcome{}, err
				}
				ip = ip.Next()
			}
			return outcome{}, nil
		},
	}
}

func TestIPv6LargePools(t *testing.T) {
	two64 := allocator.Uint128{Hi: 1}
	two80 := allocator.Uint128{Hi: 1 << 16}
	minus := func(u allocator.Uint128, n uint64) allocator.Uint128 {
		if u.Lo < n {
			u.Hi--
		}
		u.Lo -= n
		return u
	}
	v6Counters := func(total allocator.Uint128, assigned uint64) allocator.Counters {
		return allocator.Counters{Total: total, Assigned: allocator.Uint128{Lo: assigned}, Available: minus(total, assigned)}
	}
	tests := []struct {
		name  string
		pools []allocator.Pool
		steps []step
	}{
		{
			name:  "/64: 2^64 addresses, exact",
			pools: []allocator.Pool{pool("p", "2001:db8::/64")},
			steps: []step{
				countsExact("p", allocator.Counters{}, v6Counters(two64, 0)),
				allocate(svc("a"), v6, "p").gets("p", "2001:db8::"),
				assign(svc("b"), "2001:db8::ffff:ffff:ffff:ffff").gets("p", "2001:db8::ffff:ffff:ffff:ffff"),
				allocate(svc("c"), v6, "p").gets("p", "2001:db8::1"),
				countsExact("p", allocator.Counters{}, v6Counters(two64, 3)),
			},
		},
		{
			name:  "/48: 2^80 addresses, exact",
			pools: []allocator.Pool{pool("p", "2001:db8:1::/48")},
			steps: []step{
				countsExact("p", allocator.Counters{}, v6Counters(two80, 0)),
				assign(svc("a"), "2001:db8:1::").gets("p", "2001:db8:1::"),
				allocate(svc("b"), v6, "p").gets("p", "2001:db8:1::1"),
				countsExact("p", allocator.Counters{}, v6Counters(two80, 2)),
			},
		},
		{
			name: "lowest free crosses a 64-bit boundary",
			pools: []allocator.Pool{{
				Name:       "p",
				CIDRs:      addrRange(t, "2001:db8::ffff:ffff:ffff:fffe", "2001:db8:0:1::1"),
				AutoAssign: true,
			}},
			steps: []step{
				countsExact("p", allocator.Counters{}, v6Counters(allocator.Uint128{Lo: 4}, 0)),
				allocate(svc("a"), v6, "p").gets("p", "2001:db8::ffff:ffff:ffff:fffe"),
				allocate(svc("b"), v6, "p").gets("p", "2001:db8::ffff:ffff:ffff:ffff"),
				allocate(svc("c"), v6, "p").gets("p", "2001:db8:0:1::"),
			},
		},
		{
			name:  "::/0 saturates at 2^128-1; nothing else can",
			pools: []allocator.Pool{pool("all", "::/0")},
			steps: []step{
				countsExact("all", allocator.Counters{}, allocator.Counters{
					Total:     allocator.Uint128{Hi: ^uint64(0), Lo: ^uint64(0)},
					Available: allocator.Uint128{Hi: ^uint64(0), Lo: ^uint64(0)},
				}),
				allocate(svc("a"), v6, "all").gets("all", "::"),
			},
		},
		{
			name:  "the top of the address space",
			pools: []allocator.Pool{pool("p", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", "255.255.255.254/31")},
			steps: []step{
				allocate(svc("a"), dual, "p").gets("p", "255.255.255.254", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
				allocate(svc("b"), dual, "p").gets("p", "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
				allocate(svc("c"), v6, "p").fails(allocator.ErrPoolExhausted, "no available IPs"),
				release("a", true),
				allocate(svc("c"), v6, "p").gets("p", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.pools, tt.steps) })
	}
}

func TestDualStack(t *testing.T) {
	pools := []allocator.Pool{
		pool("v4only", "10.0.0.0/30"),
		pool("v6only", "fd00:6::/126"),
		pool("both", "10.1.0.0/30", "fd00:1::/126"),
		{Name: "manual", CIDRs: prefixes("10.2.0.0/30", "fd00:2::/126")},
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "RequireDualStack: both families from the first pool that has both, IPv4 listed first",
			steps: []step{
				allocate(svc("a"), dual, "v4only", "v6only", "both").gets("both", "10.1.0.0", "fd00:1::"),
				counts("both", [2]uint64{4, 1}, [2]uint64{4, 1}),
				allocate(svc("b"), dual, "v4only", "v6only").fails(allocator.ErrPoolExhausted, "no available IPs"),
				allocateFrom(svc("b"), dual, "manual").gets("manual", "10.2.0.0", "fd00:2::"),
				allocateFrom(svc("c"), dual, "v4only").fails(allocator.ErrPoolExhausted,
					"no available IPs in pool v4only for dual IPFamily"),
			},
		},
		{
			name: "MetalLB e2e: pool counters through a dual-stack service and a pool expansion",
			steps: []step{
				setPools(pool("e2e", "192.168.10.0/30", "fc00:f853:ccd:e799::/126")),
				counts("e2e", [2]uint64{4, 0}, [2]uint64{4, 0}),
				allocate(svc("s"), dual, "e2e").gets("e2e", "192.168.10.0", "fc00:f853:ccd:e799::"),
				counts("e2e", [2]uint64{4, 1}, [2]uint64{4, 1}),
				setPools(pool("e2e", "192.168.10.0/29", "fc00:f853:ccd:e799::/125")),
				counts("e2e", [2]uint64{8, 1}, [2]uint64{8, 1}),
				release("s", true),
				counts("e2e", [2]uint64{8, 0}, [2]uint64{8, 0}),
			},
		},
		{
			name: "PreferDualStack: a pool with both families wins over the order of single-family pools",
			steps: []step{
				preferDualStack(svc("a"), v6, "v4only", "v6only", "both").gets("both", "10.1.0.0", "fd00:1::"),
			},
		},
		{
			name: "PreferDualStack: else the primary family, else the other",
			steps: []step{
				preferDualStack(svc("a"), v6, "v4only", "v6only").gets("v6only", "fd00:6::"),
				preferDualStack(svc("b"), v4, "v6only", "v4only").gets("v4only", "10.0.0.0"),
				preferDualStack(svc("c"), v6, "v4only").gets("v4only", "10.0.0.1"),
				preferDualStack(svc("d"), v4, "manual").fails(allocator.ErrPoolExhausted, "no available IPs"),
			},
		},
		{
			name: "AddFamily upgrades a single address from the same pool and keeps it first",
			steps: []step{
				allocate(svc("a"), v6, "both").gets("both", "fd00:1::"),
				allocate(svc("b"), v4, "both").gets("both", "10.1.0.0"),
				addFamily(svc("a"), v4).gets("both", "fd00:1::", "10.1.0.1"),
				counts("both", [2]uint64{4, 2}, [2]uint64{4, 1}),
				addFamily(svc("a"), v4).fails(allocator.ErrInvalidRequest, `service "a" already has an ipv4 address`),
				addFamily(svc("z"), v4).fails(allocator.ErrNotAllocated, `service "z" has no addresses`),
				addFamily(svc("b"), dual).fails(allocator.ErrInvalidRequest, "family must be ipv4 or ipv6, not dual"),
				allocate(svc("c"), v4, "v4only").gets("v4only", "10.0.0.0"),
				addFamily(svc("c"), v6).fails(allocator.ErrPoolExhausted, "no available IPs in pool v4only for ipv6 IPFamily"),
				holds("c", "v4only", "10.0.0.0"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, pools, tt.steps) })
	}
}

func TestSetPools(t *testing.T) {
	initial := []allocator.Pool{pool("a", "10.0.0.0/24", "fd00::/120"), pool("b", "10.0.1.0/24")}
	setup := []step{
		allocate(svc("s1"), v4, "a").gets("a", "10.0.0.0"),
		assign(svc("s2"), "10.0.0.200").gets("a", "10.0.0.200"),
		allocate(svc("s3"), dual, "a").gets("a", "10.0.0.1", "fd00::"),
		allocate(svc("s4"), v4, "b").gets("b", "10.0.1.0"),
	}
	buggy := pool("a", "10.0.0.0/24", "fd00::/120")
	buggy.AvoidBuggyIPs = true
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "pool shrunk: services outside it lose their addresses",
			steps: []step{
				setPools(pool("a", "10.0.0.0/25", "fd00::/120"), pool("b", "10.0.1.0/24")).loses("s2"),
				holds("s2", ""),
				holds("s1", "a", "10.0.0.0"),
				counts("a", [2]uint64{128, 2}, [2]uint64{256, 1}),
				allocate(svc("s5"), v4, "a").gets("a", "10.0.0.2"),
			},
		},
		{
			name: "a dual-stack service loses both addresses when one leaves the pool",
			steps: []step{
				setPools(pool("a", "10.0.0.0/24"), pool("b", "10.0.1.0/24")).loses("s3"),
				holds("s3", ""),
				counts("a", [2]uint64{256, 2}, [2]uint64{0, 0}),
			},
		},
		{
			name: "pool renamed: addresses kept under the new name",
			steps: []step{
				setPools(pool("renamed", "10.0.0.0/24", "fd00::/120"), pool("b", "10.0.1.0/24")).loses(),
				holds("s3", "renamed", "10.0.0.1", "fd00::"),
				counts("renamed", [2]uint64{256, 3}, [2]uint64{256, 1}),
				noStats("a"),
				allocate(svc("s5"), v4, "a").fails(allocator.ErrUnknownPool, `unknown pool "a"`),
				allocate(svc("s5"), v4, "renamed").gets("renamed", "10.0.0.2"),
			},
		},
		{
			name: "CIDR moved to another pool: kept, counted there",
			steps: []step{
				setPools(pool("a", "fd00::/120"), pool("b", "10.0.1.0/24", "10.0.0.0/24")).loses("s3"),
				holds("s1", "b", "10.0.0.0"),
				holds("s2", "b", "10.0.0.200"),
				counts("b", [2]uint64{512, 3}, [2]uint64{}),
				counts("a", [2]uint64{}, [2]uint64{256, 0}),
				allocate(svc("s5"), v4, "b").gets("b", "10.0.1.1"),
			},
		},
		{
			name: "avoidBuggyIPs switched on: a service on .0 loses it, the others stay",
			steps: []step{
				setPools(buggy, pool("b", "10.0.1.0/24")).loses("s1"),
				counts("a", [2]uint64{254, 2}, [2]uint64{256, 1}),
				allocate(svc("s1"), v4, "a").gets("a", "10.0.0.2"),
			},
		},
		{
			name: "pool grown over another pool's old CIDR: nothing lost, the address follows its CIDR",
			steps: []step{
				setPools(pool("a", "10.0.0.0/23", "fd00::/119"), pool("b", "10.0.2.0/24")).loses(),
				holds("s4", "a", "10.0.1.0"),
				counts("a", [2]uint64{512, 4}, [2]uint64{512, 1}),
				counts("b", [2]uint64{256, 0}, [2]uint64{}),
				allocate(svc("s5"), v4, "a").gets("a", "10.0.0.2"),
			},
		},
		{
			name: "all pools removed: every service loses its addresses",
			steps: []step{
				setPools().loses("s1", "s2", "s3", "s4"),
				setPools(initial...).loses(),
				counts("a", [2]uint64{256, 0}, [2]uint64{256, 0}),
				allocate(svc("s1"), v4, "a").gets("a", "10.0.0.0"),
			},
		},
		{
			name: "shared address survives a rename with its sharing state",
			steps: []step{
				release("s1", true),
				assign(shared("x", "k", tcp(80)), "10.0.0.0").gets("a", "10.0.0.0"),
				setPools(pool("c", "10.0.0.0/24", "fd00::/120"), pool("b", "10.0.1.0/24")).loses(),
				allocate(shared("y", "k", tcp(443)), v4, "c").gets("c", "10.0.0.0"),
				allocate(shared("z", "k", tcp(80)), v4, "c").gets("c", "10.0.0.2"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, initial, append(append([]step{}, setup...), tt.steps...)) })
	}
}

func TestSetPoolsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		pools []allocator.Pool
		want  string
	}{
		{"empty name", []allocator.Pool{pool("", "10.0.0.0/24")}, "pool name must not be empty"},
		{"duplicate name", []allocator.Pool{pool("a", "10.0.0.0/24"), pool("a", "10.0.1.0/24")}, `duplicate pool name "a"`},
		{
			"invalid prefix",
			[]allocator.Pool{{Name: "a", CIDRs: []netip.Prefix{{}}}},
			`pool "a": invalid CIDR "invalid Prefix"`,
		},
		{
			"overlap between pools",
			[]allocator.Pool{pool("a", "10.0.0.0/24"), pool("b", "10.0.0.128/25")},
			`CIDR 10.0.0.128/25 of pool "b" overlaps with CIDR 10.0.0.0/24 of pool "a"`,
		},
		{
			"overlap inside a pool",
			[]allocator.Pool{pool("a", "fd00::/64", "fd00::1/128")},
			`CIDR fd00::1/128 of pool "a" overlaps with CIDR fd00::/64 of pool "a"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, []allocator.Pool{pool("keep", "10.9.0.0/24")}, []step{
				allocate(svc("s"), v4, "keep").gets("keep", "10.9.0.0"),
				setPools(tt.pools...).fails(allocator.ErrInvalidPools, tt.want),
				holds("s", "keep", "10.9.0.0"),
				counts("keep", [2]uint64{256, 1}, [2]uint64{}),
			})
		})
	}
}

func TestPoolFor(t *testing.T) {
	a := allocator.New()
	buggy := pool("b", "10.0.1.0/24")
	buggy.AvoidBuggyIPs = true
	if _, err := a.SetPools([]allocator.Pool{pool("a", "10.0.0.0/24", "fd00::/64"), buggy}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ips  []string
		want string
	}{
		{[]string{"10.0.0.0"}, "a"},
		{[]string{"10.0.0.255", "fd00::ffff"}, "a"},
		{[]string{"10.0.1.1"}, "b"},
		{[]string{"10.0.1.0"}, ""},
		{[]string{"10.0.0.1", "10.0.1.1"}, ""},
		{[]string{"10.0.2.0"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		got, ok := a.PoolFor(addrs(tt.ips...)...)
		if diff := cmp.Diff(tt.want, got); diff != "" || ok != (tt.want != "") {
			t.Errorf("PoolFor(%v) = %q, %v (-want +got):\n%s", tt.ips, got, ok, diff)
		}
	}
}

func TestStatsSum(t *testing.T) {
	got := allocator.PoolStats{IPv4: counters(256, 3), IPv6: allocator.Counters{
		Total:     allocator.Uint128{Hi: 1},
		Assigned:  allocator.Uint128{Lo: 2},
		Available: allocator.Uint128{Lo: ^uint64(0) - 1},
	}}.Sum()
	want := allocator.Counters{
		Total:     allocator.Uint128{Hi: 1, Lo: 256},
		Assigned:  allocator.Uint128{Lo: 5},
		Available: allocator.Uint128{Hi: 1, Lo: 253 - 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sum (-want +got):\n%s", diff)
	}
}
