// Package allocator decides which load-balancer IP addresses a Service gets.
//
// It owns the address pools (CIDRs, avoidBuggyIPs, autoAssign), the addresses in use, the sharing rules of
// MetalLB's metallb.io/allow-shared-ip annotation and the per-pool, per-family address counters. It answers:
// which address is the lowest one a Service may take from a pool, may a Service take this specific address,
// which Services lose their addresses when the pools change.
//
// Observable choices match MetalLB: candidate pools are tried in the caller's order, the CIDRs of a pool in
// their given order, and within a CIDR the lowest address that is free or shareable wins (network and
// broadcast addresses included unless avoidBuggyIPs excludes .0 and .255). Error texts are MetalLB's, and
// every error wraps one of the Err* sentinels so callers can branch with errors.Is.
//
// Unlike MetalLB it never scans addresses. Each pool and family keeps its addresses in use, with their users,
// in an order-statistic B-tree keyed by address, so "who uses this address" is one lookup and "lowest free
// address" is two descents (rank, then the first gap after it); its shareable addresses sit in a second B-tree
// per (sharing key, backend key, port set), so "lowest shareable address" is one lookup per port set under the
// requester's keys. An exhausted pool fails just as fast. Allocate, AllocateFromPool, Assign and Release are
// O(log n) in the number of addresses in use, whatever the pool size, so an IPv6 /64 (or /48) pool works, and
// it is counted exactly with 128-bit counters.
//
// The package is pure and imports the standard library only. It must not import client-go,
// controller-runtime, netlink, sockets or GoBGP, nor internal/config: the controller converts configuration
// pools into Pool values (RangeToPrefixes turns an address range into prefixes) and Services into Service
// values, and it decides which pools a Service may use. An Allocator is not safe for concurrent use; the
// caller serialises access, as MetalLB does with one lock around all of its handlers.
package allocator
