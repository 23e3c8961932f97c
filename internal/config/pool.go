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

package config

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Pool is a validated IPAddressPool.
type Pool struct {
	Name string
	// CIDRs are the pool's addresses in the order of spec.addresses, each range summarised into the fewest
	// prefixes. No two prefixes of any two pools overlap.
	CIDRs []netip.Prefix
	// AutoAssign lets the controller pick addresses from the pool for Services that do not ask for it.
	AutoAssign bool
	// AvoidBuggyIPs keeps IPv4 addresses ending in .0 and .255 out of the pool.
	AvoidBuggyIPs bool
	// ServiceAllocation restricts the pool to some Services and orders it; nil means any Service may use it.
	ServiceAllocation *ServiceAllocation
	// L2Advertisements are the layer 2 advertisements that announce the pool, sorted by name.
	L2Advertisements []*L2Advertisement
	// BGPAdvertisements are the BGP advertisements that announce the pool, sorted by name.
	BGPAdvertisements []*BGPAdvertisement
}

// ServiceAllocation is a pool's spec.serviceAllocation, with namespaceSelectors resolved.
type ServiceAllocation struct {
	// Priority orders the pools that match a Service: lower positive values first, then 0 (no priority).
	Priority int
	// AllNamespaces is true when neither namespaces nor namespaceSelectors is set.
	AllNamespaces bool
	// Namespaces are, unless AllNamespaces, the only namespaces whose Services may use the pool: the namespaces
	// listed and those matching a namespaceSelector, sorted. It is empty when the selectors match no namespace
	// yet; the pool then serves no Service, where MetalLB lets any namespace ask for it (reference §10.1).
	Namespaces []string
	// ServiceSelectors, when not empty, restrict the pool to the Services matching one of them.
	ServiceSelectors []labels.Selector
}

// Allows reports whether a Service of the namespace with the labels may use the pool.
func (a *ServiceAllocation) Allows(namespace string, serviceLabels labels.Labels) bool {
	if !a.AllNamespaces {
		if _, found := slices.BinarySearch(a.Namespaces, namespace); !found {
			return false
		}
	}
	return matchesAny(a.ServiceSelectors, serviceLabels)
}

// Allows reports whether a Service of the namespace with the labels may take addresses from the pool, be it
// automatically or by asking for the pool or for an address. AutoAssign does not matter here.
func (p *Pool) Allows(namespace string, serviceLabels labels.Labels) bool {
	return p.ServiceAllocation == nil || p.ServiceAllocation.Allows(namespace, serviceLabels)
}

// Contains reports whether the address belongs to the pool. With AvoidBuggyIPs, IPv4 addresses ending in .0
// or .255 do not: some consumer devices drop traffic to them, mistaking them for network or broadcast
// addresses.
func (p *Pool) Contains(addr netip.Addr) bool {
	addr = addr.Unmap()
	if p.AvoidBuggyIPs && confusesBuggyDevices(addr) {
		return false
	}
	for _, prefix := range p.CIDRs {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

func confusesBuggyDevices(addr netip.Addr) bool {
	if !addr.Is4() {
		return false
	}
	last := addr.As4()[3]
	return last == 0 || last == 255
}

// PoolFor returns the pool the address belongs to, or nil. Pools do not overlap, so there is at most one.
func (c *Config) PoolFor(addr netip.Addr) *Pool {
	for _, pool := range c.Pools {
		if pool.Contains(addr) {
			return pool
		}
	}
	return nil
}

// Candidates are the pools the controller may pick addresses from for a Service that asks for no pool and no
// address, in the order to try them (reference §4.4, steps 1 and 2). A Service gets addresses from Pinned if
// any of them can give some, and only otherwise from Unrestricted.
type Candidates struct {
	// Pinned are the pools with a serviceAllocation that allows the Service, by priority (lower positive
	// values first, then 0), then by name.
	Pinned []*Pool
	// Unrestricted are the pools without serviceAllocation, by name.
	Unrestricted []*Pool
}

// Candidates returns the pools with AutoAssign a Service of the namespace with the labels may get addresses
// from. Unlike MetalLB, which leaves pools of equal priority in map order, the order is always the same.
func (c *Config) Candidates(namespace string, serviceLabels labels.Labels) Candidates {
	var candidates Candidates
	for _, pool := range c.Pools {
		switch {
		case !pool.AutoAssign:
			// Only Services asking for the pool or one of its addresses use it.
		case pool.ServiceAllocation == nil:
			candidates.Unrestricted = append(candidates.Unrestricted, pool)
		case pool.ServiceAllocation.Allows(namespace, serviceLabels):
			candidates.Pinned = append(candidates.Pinned, pool)
		}
	}
	slices.SortFunc(candidates.Pinned, func(a, b *Pool) int {
		return cmp.Or(
			comparePriorities(a.ServiceAllocation.Priority, b.ServiceAllocation.Priority),
			cmp.Compare(a.Name, b.Name),
		)
	})
	slices.SortFunc(candidates.Unrestricted, func(a, b *Pool) int { return cmp.Compare(a.Name, b.Name) })
	return candidates
}

// comparePriorities orders pool priorities: lower first, except 0, which means none and comes last.
func comparePriorities(a, b int) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	}
	return cmp.Compare(a, b)
}

// poolSource is what a pool was parsed from, kept to check the advertisements that select it.
type poolSource struct {
	labels  labels.Set
	entries []addressEntry
}

// addressEntry is one valid entry of spec.addresses and the prefixes it holds.
type addressEntry struct {
	index    int
	value    string
	prefixes []netip.Prefix
}

// parsePools parses the pools and checks that no two CIDRs overlap, within a pool or across pools.
func (p *parser) parsePools() {
	var defined prefixSet
	for _, obj := range p.objs.pools {
		if !p.claimName(kindPool, obj.Name) {
			continue
		}
		pool, src, errs := p.parsePool(obj)
		errs = append(errs, checkOverlaps(pool.Name, src.entries, &defined)...)
		p.errs.add(kindPool, obj.Name, errs...)
		p.cfg.Pools[obj.Name] = pool
		p.pools[obj.Name] = src
	}
}

func (p *parser) parsePool(obj *v1beta1.IPAddressPool) (*Pool, *poolSource, field.ErrorList) {
	spec := field.NewPath("spec")
	pool := &Pool{
		Name:          obj.Name,
		AutoAssign:    obj.Spec.AutoAssign == nil || *obj.Spec.AutoAssign,
		AvoidBuggyIPs: obj.Spec.AvoidBuggyIPs,
	}
	src := &poolSource{labels: labels.Set(obj.Labels)}
	var errs field.ErrorList

	if len(obj.Spec.Addresses) == 0 {
		errs = append(errs, field.Required(spec.Child("addresses"), "pool has no prefixes defined"))
	}
	for i, value := range obj.Spec.Addresses {
		prefixes, err := parseAddresses(value)
		if err != nil {
			errs = append(errs, field.Invalid(spec.Child("addresses").Index(i), value,
				fmt.Sprintf("invalid CIDR %q in pool %q: %s", value, obj.Name, err)))
			continue
		}
		pool.CIDRs = append(pool.CIDRs, prefixes...)
		src.entries = append(src.entries, addressEntry{index: i, value: value, prefixes: prefixes})
	}

	if obj.Spec.AllocateTo != nil {
		var allocErrs field.ErrorList
		pool.ServiceAllocation, allocErrs = p.parseServiceAllocation(spec.Child("serviceAllocation"), obj.Spec.AllocateTo)
		errs = append(errs, allocErrs...)
	}
	return pool, src, errs
}

// checkOverlaps refuses the entries with a prefix that overlaps a prefix defined before, reporting each entry
// once, and adds the other prefixes to defined.
func checkOverlaps(poolName string, entries []addressEntry, defined *prefixSet) field.ErrorList {
	var errs field.ErrorList
	for _, entry := range entries {
		reported := false
		for _, prefix := range entry.prefixes {
			other, overlaps := defined.overlapping(prefix)
			if !overlaps {
				defined.add(prefix)
				continue
			}
			if !reported {
				errs = append(errs, field.Invalid(field.NewPath("spec", "addresses").Index(entry.index), entry.value,
					fmt.Sprintf("CIDR %q in pool %q overlaps with already defined CIDR %q", prefix, poolName, other)))
				reported = true
			}
		}
	}
	return errs
}

// prefixSet is a set of disjoint prefixes, sorted by first address (IPv4 before IPv6), that finds the prefix
// overlapping another in logarithmic time: the speaker and the controller parse on every change of a
// watched object, and ranges can hold hundreds of prefixes each.
type prefixSet struct {
	sorted []netip.Prefix
}

// overlapping returns a prefix of the set that overlaps p, if any. Two prefixes overlap when one holds the
// other. As the set's prefixes are disjoint, only two candidates need a look: the last one starting before p,
// which may hold p, and the first one starting at or after p, which holds p or is held by p if any is.
func (s *prefixSet) overlapping(p netip.Prefix) (netip.Prefix, bool) {
	i := s.search(p)
	for _, j := range []int{i - 1, i} {
		if j >= 0 && j < len(s.sorted) && s.sorted[j].Overlaps(p) {
			return s.sorted[j], true
		}
	}
	return netip.Prefix{}, false
}

// add adds a prefix that overlaps none of the set.
func (s *prefixSet) add(p netip.Prefix) {
	s.sorted = slices.Insert(s.sorted, s.search(p), p)
}

// search returns the index of the first prefix of the set starting at or after p.
func (s *prefixSet) search(p netip.Prefix) int {
	i, _ := slices.BinarySearchFunc(s.sorted, p.Addr(), func(q netip.Prefix, a netip.Addr) int { return q.Addr().Compare(a) })
	return i
}

func (p *parser) parseServiceAllocation(path *field.Path, spec *v1beta1.ServiceAllocation) (*ServiceAllocation, field.ErrorList) {
	alloc := &ServiceAllocation{
		Priority:      spec.Priority,
		AllNamespaces: len(spec.Namespaces) == 0 && len(spec.NamespaceSelectors) == 0,
	}
	var errs field.ErrorList
	// MetalLB gives negative priorities no meaning: its sort is then inconsistent.
	if spec.Priority < 0 {
		errs = append(errs, field.Invalid(path.Child("priority"), spec.Priority, "must not be negative (0 means no priority)"))
	}

	namespaces := map[string]bool{}
	for i, ns := range spec.Namespaces {
		if namespaces[ns] {
			errs = append(errs, duplicate(path.Child("namespaces").Index(i), ns, "duplicate definition in namespaces field"))
		}
		namespaces[ns] = true
	}
	nsSelectors, selErrs := parseSelectors(path, "namespaceSelectors", spec.NamespaceSelectors)
	errs = append(errs, selErrs...)
	if len(nsSelectors) > 0 {
		for _, ns := range p.res.Namespaces {
			if matchesAny(nsSelectors, labels.Set(ns.Labels)) {
				namespaces[ns.Name] = true
			}
		}
	}
	alloc.Namespaces = slices.Sorted(maps.Keys(namespaces))

	var svcErrs field.ErrorList
	alloc.ServiceSelectors, svcErrs = parseSelectors(path, "serviceSelectors", spec.ServiceSelectors)
	errs = append(errs, svcErrs...)
	return alloc, errs
}
