package allocator

import (
	"errors"
	"net/netip"
	"slices"
)

// Allocator assigns addresses from pools to services. Create it with New.
type Allocator struct {
	pools    map[string]*pool
	index    poolIndex
	services map[string]allocation // by service key
}

// Allocation is the addresses a service holds and the pool they belong to. A dual-stack allocation made by
// Allocate or AllocateFromPool lists the IPv4 address first.
type Allocation struct {
	Pool string
	IPs  []netip.Addr
}

// allocation is one service's addresses and what sharing them depends on. It is stored by value in the
// services map (120 bytes, within the map's 128-byte limit for inline values), so looking a service up
// touches one place in memory: at 100k services an operation costs its cache and TLB misses more than its
// comparisons. Per-address state (ipUse) holds service keys and looks the rest up here.
type allocation struct {
	pool       *pool
	addrs      [2]netip.Addr
	n          int
	sharingKey string
	backendKey string
	ports      []Port
}

func (al *allocation) ips() []netip.Addr { return al.addrs[:al.n] }

func (al *allocation) key() shareKey { return shareKey{sharing: al.sharingKey, backend: al.backendKey} }

func (al *allocation) public() Allocation {
	return Allocation{Pool: al.pool.name, IPs: slices.Clone(al.ips())}
}

// New returns an Allocator with no pools.
func New() *Allocator {
	return &Allocator{
		pools:    map[string]*pool{},
		services: map[string]allocation{},
	}
}

// SetPools replaces the pools. A service keeps its addresses when one pool still holds all of them, even if
// that pool was renamed or the addresses moved to another pool: a valid address is never moved. The other
// services lose their addresses; SetPools returns their keys, sorted, so the caller can allocate again. Pools
// must have unique non-empty names and no two CIDRs may overlap; otherwise SetPools returns an error wrapping
// ErrInvalidPools and changes nothing. It rebuilds the per-pool state: O((services + CIDRs) · log).
func (a *Allocator) SetPools(pools []Pool) (lost []string, err error) {
	byName, index, err := buildPools(pools)
	if err != nil {
		return nil, err
	}
	for key, al := range a.services {
		p := index.poolFor(al.ips())
		if p == nil {
			lost = append(lost, key)
			continue
		}
		al.pool = p
		a.services[key] = al
	}
	for _, key := range lost {
		a.Release(key)
	}
	old := a.pools
	a.pools, a.index = byName, index
	// Every address still in use is held by kept services only, whose pools are now the new ones: move it
	// into its new pool's state.
	for _, p := range old {
		for _, fp := range []*familyPool{p.v4, p.v6} {
			fp.inUse.each(func(ord Uint128, u ipUse) {
				ip, al := fp.addr(ord), a.services[u.first]
				nfp := al.pool.family(fp.family)
				nord := nfp.ordinal(ip)
				nfp.inUse.insert(nord, u)
				a.addShareable(nfp, nord, al.key(), u)
			})
		}
	}
	slices.Sort(lost)
	return lost, nil
}

// Allocate gives svc addresses of family fam from the first of pools that has them; pools whose AutoAssign
// is false are skipped. Within a pool the lowest address that is free or shareable with svc wins, per family;
// DualStack takes both families from the same pool. The caller orders pools (MetalLB: pools pinned to the
// service by priority in one call, then the unrestricted pools in a second call). If svc already holds
// addresses Allocate keeps them, re-checking sharing with svc's current ports and keys, as MetalLB does;
// Release first to get new ones. Errors wrap ErrPoolExhausted ("no available IPs"), ErrUnknownPool,
// ErrSharingConflict or ErrInvalidRequest.
func (a *Allocator) Allocate(svc Service, fam Family, pools []string) (Allocation, error) {
	if err := validate(svc, fam); err != nil {
		return Allocation{}, err
	}
	svc = svc.normalized()
	if cur, ok := a.services[svc.Key]; ok {
		return a.assign(svc, cur.ips(), nil)
	}
	candidates := make([]*pool, 0, len(pools))
	for _, name := range pools {
		p := a.pools[name]
		if p == nil {
			return Allocation{}, errorf(ErrUnknownPool, "unknown pool %q", name)
		}
		if p.autoAssign {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if ips, ok := p.pick(fam, svc); ok {
			return a.commit(svc, p, ips), nil
		}
	}
	return Allocation{}, errorf(ErrPoolExhausted, "no available IPs")
}

// AllocatePreferDualStack is Allocate for spec.ipFamilyPolicy PreferDualStack with two cluster IPs: both
// families from the first pool that has both, else the primary family (spec.ipFamilies[0]) from the first
// pool that has it, else the other family.
func (a *Allocator) AllocatePreferDualStack(svc Service, primary Family, pools []string) (Allocation, error) {
	if primary != IPv4 && primary != IPv6 {
		return Allocation{}, errorf(ErrInvalidRequest, "primary family must be ipv4 or ipv6, not %s", primary)
	}
	for _, fam := range []Family{DualStack, primary, primary.other()} {
		al, err := a.Allocate(svc, fam, pools)
		if !errors.Is(err, ErrPoolExhausted) {
			return al, err
		}
	}
	return Allocation{}, errorf(ErrPoolExhausted, "no available IPs")
}

// AllocateFromPool is Allocate restricted to the named pool, whatever its AutoAssign (the
// metallb.io/address-pool annotation). Exhaustion reads "no available IPs in pool <name> for <family> IPFamily".
func (a *Allocator) AllocateFromPool(svc Service, fam Family, poolName string) (Allocation, error) {
	if err := validate(svc, fam); err != nil {
		return Allocation{}, err
	}
	svc = svc.normalized()
	if cur, ok := a.services[svc.Key]; ok {
		return a.assign(svc, cur.ips(), nil)
	}
	p := a.pools[poolName]
	if p == nil {
		return Allocation{}, errorf(ErrUnknownPool, "unknown pool %q", poolName)
	}
	ips, ok := p.pick(fam, svc)
	if !ok {
		return Allocation{}, errorf(ErrPoolExhausted, "no available IPs in pool %s for %s IPFamily", poolName, fam)
	}
	return a.commit(svc, p, ips), nil
}

// AddFamily adds one address of family fam, from the pool of svc's current single address, keeping that
// address (MetalLB's PreferDualStack upgrade). The existing address stays first in the result.
func (a *Allocator) AddFamily(svc Service, fam Family) (Allocation, error) {
	if fam != IPv4 && fam != IPv6 {
		return Allocation{}, errorf(ErrInvalidRequest, "family must be ipv4 or ipv6, not %s", fam)
	}
	if err := validate(svc, fam); err != nil {
		return Allocation{}, err
	}
	svc = svc.normalized()
	cur, ok := a.services[svc.Key]
	if !ok {
		return Allocation{}, errorf(ErrNotAllocated, "service %q has no addresses", svc.Key)
	}
	if cur.n != 1 || familyOf(cur.addrs[0]) == fam {
		return Allocation{}, errorf(ErrInvalidRequest, "service %q already has an %s address", svc.Key, fam)
	}
	ip, ok := cur.pool.family(fam).lowest(svc)
	if !ok {
		return Allocation{}, errorf(ErrPoolExhausted, "no available IPs in pool %s for %s IPFamily", cur.pool.name, fam)
	}
	return a.assign(svc, []netip.Addr{cur.addrs[0], ip}, nil)
}

// Assign gives svc exactly ips (one address, or one of each family), replacing what it held. The addresses
// must lie in one pool and not be excluded by avoidBuggyIPs; allowed, if not nil, must accept that pool (the
// caller's namespace and service-selector rules); each address must be free or shareable with svc. Assigning
// a service its own addresses again is how callers re-validate them and update ports or keys; a service that
// alone uses an address may change its sharing key. Errors wrap ErrNotInPool, ErrPoolNotCompatible,
// ErrInvalidRequest or ErrSharingConflict, with MetalLB's texts; on error nothing changes.
func (a *Allocator) Assign(svc Service, ips []netip.Addr, allowed func(pool string) bool) (Allocation, error) {
	if err := validate(svc, DualStack); err != nil {
		return Allocation{}, err
	}
	if len(ips) == 0 {
		return Allocation{}, errorf(ErrInvalidRequest, "no addresses requested for %q", svc.Key)
	}
	return a.assign(svc.normalized(), ips, allowed)
}

// assign checks in MetalLB's order: pool, pool filter, address count and families, sharing.
func (a *Allocator) assign(svc Service, ips []netip.Addr, allowed func(string) bool) (Allocation, error) {
	p := a.index.poolFor(ips)
	if p == nil {
		return Allocation{}, errorf(ErrNotInPool, "%q is not allowed in config", ips)
	}
	if allowed != nil && !allowed(p.name) {
		return Allocation{}, errorf(ErrPoolNotCompatible, "pool %s not compatible for ip assignment", p.name)
	}
	if len(ips) > 2 {
		return Allocation{}, errorf(ErrInvalidRequest, "more than two addresses %q", ips)
	}
	if len(ips) == 2 && familyOf(ips[0]) == familyOf(ips[1]) {
		return Allocation{}, errorf(ErrInvalidRequest, "%q %q has the same family", ips[0], ips[1])
	}
	for _, ip := range ips {
		fp := p.family(familyOf(ip))
		if u, inUse := fp.inUse.get(fp.ordinal(ip)); inUse {
			if err := a.checkSharing(ip, u, svc); err != nil {
				return Allocation{}, err
			}
		}
	}
	return a.commit(svc, p, ips), nil
}

// commit makes svc hold ips from p, dropping what it held before; the caller has checked everything.
func (a *Allocator) commit(svc Service, p *pool, ips []netip.Addr) Allocation {
	a.Release(svc.Key)
	al := allocation{pool: p, n: len(ips), sharingKey: svc.SharingKey, backendKey: svc.BackendKey, ports: svc.Ports}
	copy(al.addrs[:], ips)
	a.services[svc.Key] = al // first: indexing the addresses reads the ports of all their users
	for _, ip := range ips {
		a.use(svc.Key, &al, ip)
	}
	return al.public()
}

func (a *Allocator) use(svcKey string, al *allocation, ip netip.Addr) {
	fp := al.pool.family(familyOf(ip))
	ord := fp.ordinal(ip)
	u, inUse := fp.inUse.get(ord)
	if inUse {
		a.removeShareable(fp, ord, al.key(), u)
		u.more = append(u.more, svcKey)
		fp.inUse.put(ord, u)
	} else {
		u = ipUse{first: svcKey}
		fp.inUse.insert(ord, u)
	}
	a.addShareable(fp, ord, al.key(), u)
}

func (a *Allocator) unuse(svcKey string, al *allocation, ip netip.Addr) {
	fp := al.pool.family(familyOf(ip))
	ord := fp.ordinal(ip)
	u, _ := fp.inUse.get(ord)
	a.removeShareable(fp, ord, al.key(), u)
	if u = u.without(svcKey); u.first == "" {
		fp.inUse.delete(ord)
		return
	}
	fp.inUse.put(ord, u)
	a.addShareable(fp, ord, al.key(), u)
}

// Release frees the addresses of the service with key svcKey and reports whether it held any.
func (a *Allocator) Release(svcKey string) bool {
	al, ok := a.services[svcKey]
	if !ok {
		return false
	}
	for _, ip := range al.ips() {
		a.unuse(svcKey, &al, ip)
	}
	delete(a.services, svcKey)
	return true
}

// Allocation returns the addresses the service with key svcKey holds.
func (a *Allocator) Allocation(svcKey string) (Allocation, bool) {
	al, ok := a.services[svcKey]
	if !ok {
		return Allocation{}, false
	}
	return al.public(), true
}

// PoolFor returns the pool that holds all of ips (honouring avoidBuggyIPs), in O(log CIDRs).
func (a *Allocator) PoolFor(ips ...netip.Addr) (string, bool) {
	p := a.index.poolFor(ips)
	if p == nil {
		return "", false
	}
	return p.name, true
}

// poolFor returns the one pool holding all of ips, or nil.
func (ix *poolIndex) poolFor(ips []netip.Addr) *pool {
	if len(ips) == 0 {
		return nil
	}
	p := ix.lookup(ips[0])
	for _, ip := range ips[1:] {
		if ix.lookup(ip) != p {
			return nil
		}
	}
	return p
}

// pick returns the lowest address of each family in fam that svc may take from p.
func (p *pool) pick(fam Family, svc Service) ([]netip.Addr, bool) {
	ips := make([]netip.Addr, 0, 2)
	for _, f := range []Family{IPv4, IPv6} {
		if fam&f == 0 {
			continue
		}
		ip, ok := p.family(f).lowest(svc)
		if !ok {
			return nil, false
		}
		ips = append(ips, ip)
	}
	return ips, true
}

func validate(svc Service, fam Family) error {
	if svc.Key == "" {
		return errorf(ErrInvalidRequest, "service key must not be empty")
	}
	if !fam.valid() {
		return errorf(ErrInvalidRequest, "unknown address family %d", fam)
	}
	return nil
}
