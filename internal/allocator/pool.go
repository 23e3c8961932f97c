package allocator

import (
	"net/netip"
	"slices"
)

// Pool is an address pool as the allocator sees it; the controller converts each IPAddressPool into one.
type Pool struct {
	// Name identifies the pool (the IPAddressPool's metadata.name).
	Name string
	// CIDRs are the pool's addresses, tried in this order, lowest address first within each. A range "a-b"
	// is given as RangeToPrefixes(a, b), whose ascending prefixes keep MetalLB's lowest-first order.
	CIDRs []netip.Prefix
	// AvoidBuggyIPs removes IPv4 addresses ending in .0 or .255 from the pool: they are never allocated,
	// cannot be assigned and are not counted.
	AvoidBuggyIPs bool
	// AutoAssign lets Allocate use the pool. AllocateFromPool and Assign ignore it, as MetalLB does for the
	// address-pool annotation and for explicitly requested IPs.
	AutoAssign bool
}

type pool struct {
	name       string
	autoAssign bool
	v4, v6     *familyPool
}

func (p *pool) family(f Family) *familyPool {
	if f == IPv4 {
		return p.v4
	}
	return p.v6
}

// familyPool is one address family of one pool: its ranges and the state of its addresses in use.
//
// Addresses are handled as ordinals. For IPv4 with avoidBuggyIPs an ordinal counts only the addresses that do
// not end in .0 or .255, so the excluded addresses vanish: .254 and the next .1 are consecutive, the lowest
// free ordinal is never one of them and a range's size is last-first+1. Otherwise the ordinal is the address.
//
// The addresses in use live in one order-statistic tree keyed by ordinal, which answers both "who uses this
// address" and "lowest free address" (tree.lowestAbsent), so an operation touches one place per address.
type familyPool struct {
	family    Family
	skipBuggy bool
	ranges    []ordinalRange // the CIDRs in the caller's order, adjacent ones merged, empty ones dropped
	size      Uint128
	inUse     tree[ipUse]                      // addresses in use, by ordinal, with their users
	shareable map[shareKey]map[string]*portSet // addresses open to sharing, by key and then by port signature
}

type ordinalRange struct{ first, last Uint128 }

func newFamilyPool(f Family, skipBuggy bool, prefixes []netip.Prefix) *familyPool {
	fp := &familyPool{family: f, skipBuggy: skipBuggy, shareable: map[shareKey]map[string]*portSet{}}
	for _, p := range prefixes {
		r, ok := fp.toOrdinals(prefixBounds(p))
		if !ok {
			continue
		}
		fp.size = fp.size.addSat(r.size())
		if n := len(fp.ranges); n > 0 && fp.ranges[n-1].last != maxUint128 && fp.ranges[n-1].last.inc() == r.first {
			fp.ranges[n-1].last = r.last
			continue
		}
		fp.ranges = append(fp.ranges, r)
	}
	return fp
}

// toOrdinals maps the addresses [first, last] to ordinals; false if none of them belongs to the pool.
func (fp *familyPool) toOrdinals(first, last Uint128) (ordinalRange, bool) {
	if !fp.skipBuggy {
		return ordinalRange{first, last}, true
	}
	lo, end := nonBuggyBelow(first.Lo), nonBuggyBelow(last.Lo+1)
	if end == lo {
		return ordinalRange{}, false
	}
	return ordinalRange{Uint128{Lo: lo}, Uint128{Lo: end - 1}}, true
}

func (r ordinalRange) size() Uint128 {
	d := r.last.sub(r.first)
	if d == maxUint128 {
		return maxUint128
	}
	return d.inc()
}

func (fp *familyPool) ordinal(a netip.Addr) Uint128 {
	v := addrValue(a)
	if fp.skipBuggy {
		return Uint128{Lo: nonBuggyBelow(v.Lo)}
	}
	return v
}

func (fp *familyPool) addr(ordinal Uint128) netip.Addr {
	if fp.skipBuggy {
		return addrFrom(fp.family, Uint128{Lo: nonBuggyAt(ordinal.Lo)})
	}
	return addrFrom(fp.family, ordinal)
}

// lowest returns the lowest address svc may take from fp: free, or in use and shareable with svc. It costs
// O(log n) per range, plus O(log n) per distinct port set among the addresses shareable under svc's keys.
func (fp *familyPool) lowest(svc Service) (netip.Addr, bool) {
	for _, r := range fp.ranges {
		best, found := fp.inUse.lowestAbsent(r.first, r.last)
		if svc.SharingKey != "" && (!found || best != r.first) {
			hi := r.last
			if found {
				hi = best.dec()
			}
			if s, ok := fp.lowestShareable(svc, r.first, hi); ok {
				best, found = s, true
			}
		}
		if found {
			return fp.addr(best), true
		}
	}
	return netip.Addr{}, false
}

// span is one CIDR in the address lookup index.
type span struct {
	first, last Uint128
	cidr        netip.Prefix
	pool        *pool
}

// poolIndex finds the pool of an address in O(log CIDRs).
type poolIndex struct {
	v4, v6 []span // sorted by first, disjoint
}

func (ix *poolIndex) spans(f Family) []span {
	if f == IPv4 {
		return ix.v4
	}
	return ix.v6
}

// lookup returns the pool that owns a, honouring avoidBuggyIPs, or nil.
func (ix *poolIndex) lookup(a netip.Addr) *pool {
	if !a.IsValid() || a.Zone() != "" {
		return nil
	}
	f, v := familyOf(a), addrValue(a)
	spans := ix.spans(f)
	i, _ := slices.BinarySearchFunc(spans, v, func(s span, v Uint128) int {
		if s.last.less(v) {
			return -1
		}
		if v.less(s.first) {
			return 1
		}
		return 0
	})
	if i == len(spans) || v.less(spans[i].first) {
		return nil
	}
	p := spans[i].pool
	if p.family(f).skipBuggy && isBuggy(a) {
		return nil
	}
	return p
}

// buildPools validates pools and builds their state and the lookup index.
func buildPools(pools []Pool) (map[string]*pool, poolIndex, error) {
	byName := make(map[string]*pool, len(pools))
	var ix poolIndex
	for _, in := range pools {
		if in.Name == "" {
			return nil, poolIndex{}, errorf(ErrInvalidPools, "pool name must not be empty")
		}
		if byName[in.Name] != nil {
			return nil, poolIndex{}, errorf(ErrInvalidPools, "duplicate pool name %q", in.Name)
		}
		var v4, v6 []netip.Prefix
		p := &pool{name: in.Name, autoAssign: in.AutoAssign}
		for _, c := range in.CIDRs {
			if !c.IsValid() {
				return nil, poolIndex{}, errorf(ErrInvalidPools, "pool %q: invalid CIDR %q", in.Name, c)
			}
			c = c.Masked()
			first, last := prefixBounds(c)
			if c.Addr().Is4() {
				v4 = append(v4, c)
				ix.v4 = append(ix.v4, span{first, last, c, p})
			} else {
				v6 = append(v6, c)
				ix.v6 = append(ix.v6, span{first, last, c, p})
			}
		}
		p.v4 = newFamilyPool(IPv4, in.AvoidBuggyIPs, v4)
		p.v6 = newFamilyPool(IPv6, false, v6)
		byName[in.Name] = p
	}
	for _, spans := range [][]span{ix.v4, ix.v6} {
		if err := sortDisjoint(spans); err != nil {
			return nil, poolIndex{}, err
		}
	}
	return byName, ix, nil
}

// sortDisjoint sorts spans by first address and rejects overlaps: an address must belong to one pool only.
func sortDisjoint(spans []span) error {
	slices.SortFunc(spans, func(a, b span) int { return a.first.cmp(b.first) })
	for i := 1; i < len(spans); i++ {
		if prev, cur := spans[i-1], spans[i]; !prev.last.less(cur.first) {
			return errorf(ErrInvalidPools, "CIDR %s of pool %q overlaps with CIDR %s of pool %q",
				cur.cidr, cur.pool.name, prev.cidr, prev.pool.name)
		}
	}
	return nil
}
