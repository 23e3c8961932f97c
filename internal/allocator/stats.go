package allocator

// Counters are the address counts of one family of one pool, or of both families summed.
type Counters struct {
	// Total is the number of addresses in the pool, without those avoidBuggyIPs excludes.
	Total Uint128
	// Assigned is the number of distinct addresses in use; a shared address counts once.
	Assigned Uint128
	// Available is Total - Assigned.
	Available Uint128
}

// PoolStats are a pool's counters per family: IPAddressPool status assignedIPv4, availableIPv4, ... and the
// metallb_allocator_*addresses_* gauges.
type PoolStats struct {
	IPv4, IPv6 Counters
}

// Sum returns the counters of both families together (metallb_allocator_addresses_total and
// metallb_allocator_addresses_in_use_total).
func (s PoolStats) Sum() Counters {
	return Counters{
		Total:     s.IPv4.Total.addSat(s.IPv6.Total),
		Assigned:  s.IPv4.Assigned.addSat(s.IPv6.Assigned),
		Available: s.IPv4.Available.addSat(s.IPv6.Available),
	}
}

// Stats returns the counters of the named pool, in O(1).
func (a *Allocator) Stats(poolName string) (PoolStats, bool) {
	p := a.pools[poolName]
	if p == nil {
		return PoolStats{}, false
	}
	return PoolStats{IPv4: p.v4.counters(), IPv6: p.v6.counters()}, true
}

func (fp *familyPool) counters() Counters {
	assigned := Uint128{Lo: uint64(fp.inUse.len)}
	return Counters{Total: fp.size, Assigned: assigned, Available: fp.size.sub(assigned)}
}
