package allocator_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/ferrolb/ferrolb/internal/allocator"
)

// The benchmarks run each operation against a pool with n addresses already in use, n = 10k and 100k, in an
// IPv4 /8 and an IPv6 /64 pool. The addresses in use are every other address from the start of the pool, so
// the free space is n separate one-address gaps and no free address is near another. One op is the
// operation plus its inverse on the same service, so the number of addresses in use stays at n (steady
// state); Release and AssignSpecific visit positions spread over the whole pool, so each op starts with cold
// caches, as for a random Service in a large cluster.

const benchStride = 7919 // prime, so (i*benchStride)%n visits every position once per n visits

type benchPool struct {
	name  string
	first netip.Addr
	bits  int
	fam   allocator.Family
}

var benchPools = []benchPool{
	{"IPv4_8", netip.MustParseAddr("10.0.0.0"), 8, allocator.IPv4},
	{"IPv6_64", netip.MustParseAddr("fd00::"), 64, allocator.IPv6},
}

var benchSizes = []int{10_000, 100_000}

// benchState is an Allocator with n services holding every other address of its pool "p", and those
// services in visiting order: position (i*benchStride)%n comes i-th, so consecutive visits land far apart in
// the pool and in the allocator's structures. The harness reads its own slices sequentially, so its
// bookkeeping adds no cache misses, while the key strings were allocated in address order, so the allocator
// still meets each service's key cold, as a controller looking up a stored key would.
type benchState struct {
	a    *allocator.Allocator
	fam  allocator.Family
	keys []string     // keys[i] holds used[i]
	used []netip.Addr // addresses in use: first+2p for position p
	gaps []netip.Addr // gaps[i] = used[i]+1, free
}

func newBenchState(b *testing.B, bp benchPool, n int) *benchState {
	b.Helper()
	s := &benchState{a: allocator.New(), fam: bp.fam}
	p := allocator.Pool{Name: "p", CIDRs: []netip.Prefix{netip.PrefixFrom(bp.first, bp.bits)}, AutoAssign: true}
	if _, err := s.a.SetPools([]allocator.Pool{p}); err != nil {
		b.Fatal(err)
	}
	keys, used := make([]string, n), make([]netip.Addr, n)
	ip := bp.first
	for pos := range n {
		keys[pos], used[pos] = fmt.Sprintf("ns/svc-%d", pos), ip
		if _, err := s.a.Assign(svc(keys[pos], tcp(80)), []netip.Addr{ip}, nil); err != nil {
			b.Fatal(err)
		}
		ip = ip.Next().Next()
	}
	for i := range n {
		pos := i * benchStride % n
		s.keys = append(s.keys, keys[pos])
		s.used = append(s.used, used[pos])
		s.gaps = append(s.gaps, used[pos].Next())
	}
	return s
}

// benchEach runs fn as one sub-benchmark per pool and in-use count.
func benchEach(b *testing.B, fn func(b *testing.B, s *benchState)) {
	for _, bp := range benchPools {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/inuse=%dk", bp.name, n/1000), func(b *testing.B) {
				fn(b, newBenchState(b, bp, n))
			})
		}
	}
}

// BenchmarkAllocate measures Allocate of the lowest free address for a new service, then its Release.
func BenchmarkAllocate(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchState) {
		svc, pools := svc("ns/new", tcp(80)), []string{"p"}
		for b.Loop() {
			if _, err := s.a.Allocate(svc, s.fam, pools); err != nil {
				b.Fatal(err)
			}
			s.a.Release(svc.Key)
		}
	})
}

// BenchmarkRelease measures Release of a service holding an address spread over the pool, then assigning
// the address back to it.
func BenchmarkRelease(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchState) {
		for i := 0; b.Loop(); i++ {
			k := i % len(s.keys)
			if !s.a.Release(s.keys[k]) {
				b.Fatalf("%s held nothing", s.keys[k])
			}
			if _, err := s.a.Assign(svc(s.keys[k], tcp(80)), []netip.Addr{s.used[k]}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAssignSpecific measures Assign of a free address spread over the pool to a new service, then its
// Release.
func BenchmarkAssignSpecific(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchState) {
		svc := svc("ns/specific", tcp(80))
		for i := 0; b.Loop(); i++ {
			if _, err := s.a.Assign(svc, []netip.Addr{s.gaps[i%len(s.gaps)]}, nil); err != nil {
				b.Fatal(err)
			}
			s.a.Release(svc.Key)
		}
	})
}

// BenchmarkAllocateExhausted measures a failing Allocate on a pool of exactly n addresses, all in use; half
// of them are shared under the requester's sharing key but on its port, so none is shareable either.
func BenchmarkAllocateExhausted(b *testing.B) {
	for _, bp := range benchPools {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/inuse=%dk", bp.name, n/1000), func(b *testing.B) {
				a := exhaustedPool(b, bp, n)
				probe, pools := shared("ns/probe", "k", tcp(80)), []string{"p"}
				for b.Loop() {
					if _, err := a.Allocate(probe, bp.fam, pools); !errors.Is(err, allocator.ErrPoolExhausted) {
						b.Fatalf("Allocate on a full pool: %v", err)
					}
				}
			})
		}
	}
}

func exhaustedPool(b *testing.B, bp benchPool, n int) *allocator.Allocator {
	b.Helper()
	last := bp.first
	for range n - 1 {
		last = last.Next()
	}
	cidrs, err := allocator.RangeToPrefixes(bp.first, last)
	if err != nil {
		b.Fatal(err)
	}
	a := allocator.New()
	if _, err := a.SetPools([]allocator.Pool{{Name: "p", CIDRs: cidrs, AutoAssign: true}}); err != nil {
		b.Fatal(err)
	}
	for k := range n {
		s := svc(fmt.Sprintf("ns/svc-%d", k), tcp(80))
		if k%2 == 1 {
			s.SharingKey = "k"
		}
		if _, err := a.Allocate(s, bp.fam, []string{"p"}); err != nil {
			b.Fatal(err)
		}
	}
	return a
}

// BenchmarkLinearScanBaseline is MetalLB's allocation loop reduced to its core, for comparison: walk the CIDR
// from its first address and take the first address not in use, on a pool filled from the bottom (the usual
// state). Its cost grows with the number of addresses in use.
func BenchmarkLinearScanBaseline(b *testing.B) {
	for _, bp := range benchPools {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/inuse=%dk", bp.name, n/1000), func(b *testing.B) {
				prefix := netip.PrefixFrom(bp.first, bp.bits)
				inUse := map[netip.Addr]bool{}
				ip := bp.first
				for range n {
					inUse[ip] = true
					ip = ip.Next()
				}
				for b.Loop() {
					if got := firstFreeByScan(prefix, inUse); got != ip {
						b.Fatalf("scan found %s, want %s", got, ip)
					}
				}
			})
		}
	}
}

func firstFreeByScan(p netip.Prefix, inUse map[netip.Addr]bool) netip.Addr {
	for ip := p.Addr(); p.Contains(ip); ip = ip.Next() {
		if !inUse[ip] {
			return ip
		}
	}
	return netip.Addr{}
}
