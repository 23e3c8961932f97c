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
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// L2Advertisement is a validated L2Advertisement.
type L2Advertisement struct {
	Name string
	// Pools are the names of the pools the advertisement announces, sorted.
	Pools []string
	// NodeSelectors select the nodes that may announce; empty means every node.
	NodeSelectors []labels.Selector
	// Interfaces are the interfaces to announce on; empty means every interface that is not excluded.
	Interfaces []string
	// ServiceSelectors select the Services the advertisement applies to; empty means every Service.
	ServiceSelectors []labels.Selector
	// PreferredNodes weigh the nodes in the election of the node that announces.
	PreferredNodes []NodePreference
}

// NodePreference adds Weight to the election score of the nodes that Selector matches.
type NodePreference struct {
	Weight   int32
	Selector labels.Selector
}

// SelectsNode reports whether the node with the labels may announce through the advertisement.
func (a *L2Advertisement) SelectsNode(nodeLabels labels.Labels) bool {
	return matchesAny(a.NodeSelectors, nodeLabels)
}

// SelectsService reports whether the advertisement applies to the Service with the labels.
func (a *L2Advertisement) SelectsService(serviceLabels labels.Labels) bool {
	return matchesAny(a.ServiceSelectors, serviceLabels)
}

// Preference is the node's score in the layer 2 election under this advertisement: the sum of the weights of
// the preferences it matches, or 0 if the advertisement does not select the node, as a preference only ranks
// the nodes an advertisement allows (reference §5.4).
func (a *L2Advertisement) Preference(nodeLabels labels.Labels) int64 {
	if !a.SelectsNode(nodeLabels) {
		return 0
	}
	var score int64
	for _, pref := range a.PreferredNodes {
		if pref.Selector.Matches(nodeLabels) {
			score += int64(pref.Weight)
		}
	}
	return score
}

// BGPAdvertisement is a validated BGPAdvertisement.
type BGPAdvertisement struct {
	Name string
	// Pools are the names of the pools the advertisement announces, sorted.
	Pools []string
	// AggregationLength is the length of the IPv4 prefix announced for an address, 32 unless set.
	AggregationLength int
	// AggregationLengthV6 is the length of the IPv6 prefix announced for an address, 128 unless set.
	AggregationLengthV6 int
	// LocalPref is the LOCAL_PREF of the routes, for iBGP peers; 0 when unset.
	LocalPref uint32
	// Communities are the standard communities of the routes, aliases resolved, sorted and without repeats.
	Communities []StandardCommunity
	// LargeCommunities are the large communities of the routes, aliases resolved, sorted and without repeats.
	LargeCommunities []LargeCommunity
	// NodeSelectors select the nodes that announce; empty means every node.
	NodeSelectors []labels.Selector
	// Peers are the names of the BGPPeers to announce to, sorted; empty means every peer.
	Peers []string
	// ServiceSelectors select the Services the advertisement applies to; empty means every Service.
	ServiceSelectors []labels.Selector
}

// SelectsNode reports whether the node with the labels announces through the advertisement.
func (a *BGPAdvertisement) SelectsNode(nodeLabels labels.Labels) bool {
	return matchesAny(a.NodeSelectors, nodeLabels)
}

// SelectsService reports whether the advertisement applies to the Service with the labels.
func (a *BGPAdvertisement) SelectsService(serviceLabels labels.Labels) bool {
	return matchesAny(a.ServiceSelectors, serviceLabels)
}

// SelectsPeer reports whether the advertisement announces to the BGPPeer of that name.
func (a *BGPAdvertisement) SelectsPeer(name string) bool {
	_, found := slices.BinarySearch(a.Peers, name)
	return len(a.Peers) == 0 || found
}

// LocalPrefConflicts reports whether the two advertisements of the pool would announce a route of the pool to
// a peer with different LOCAL_PREF values, assuming they announce from a common node. They do not when their
// LOCAL_PREF values are equal, when their aggregation lengths differ for every address family of the pool
// (then their routes differ), or when they announce to disjoint sets of peers (reference §2.1). Parse refuses
// such advertisements unless one has serviceSelectors; for those, the speaker asks at announce time.
func (a *BGPAdvertisement) LocalPrefConflicts(b *BGPAdvertisement, pool *Pool) bool {
	if a.LocalPref == b.LocalPref || aggregationsDiffer(a, b, pool) {
		return false
	}
	disjointPeers := len(a.Peers) > 0 && len(b.Peers) > 0 &&
		!slices.ContainsFunc(a.Peers, b.SelectsPeer)
	return !disjointPeers
}

// aggregationsDiffer reports whether the two advertisements aggregate the addresses of every family the pool
// has to different lengths.
func aggregationsDiffer(a, b *BGPAdvertisement, pool *Pool) bool {
	for _, prefix := range pool.CIDRs {
		if prefix.Addr().Is4() && a.AggregationLength == b.AggregationLength ||
			prefix.Addr().Is6() && a.AggregationLengthV6 == b.AggregationLengthV6 {
			return false
		}
	}
	return true
}

func (p *parser) parseL2Advertisements() {
	for _, obj := range p.objs.l2Advertisements {
		if !p.claimName(kindL2Advertisement, obj.Name) {
			continue
		}
		adv, errs := p.parseL2Advertisement(obj)
		p.errs.add(kindL2Advertisement, obj.Name, errs...)
		p.cfg.L2Advertisements[adv.Name] = adv
		for _, name := range adv.Pools {
			pool := p.cfg.Pools[name]
			pool.L2Advertisements = append(pool.L2Advertisements, adv)
		}
	}
}

func (p *parser) parseL2Advertisement(obj *v1beta1.L2Advertisement) (*L2Advertisement, field.ErrorList) {
	s := &obj.Spec
	spec := field.NewPath("spec")
	adv := &L2Advertisement{Name: obj.Name, Interfaces: slices.Clone(s.Interfaces)}

	var errs, fieldErrs field.ErrorList
	adv.Pools, errs = p.parsePoolSelection(spec, s.IPAddressPools, s.IPAddressPoolSelectors)
	adv.NodeSelectors, fieldErrs = parseSelectors(spec, "nodeSelectors", s.NodeSelectors)
	errs = append(errs, fieldErrs...)
	adv.ServiceSelectors, fieldErrs = parseSelectors(spec, "serviceSelectors", s.ServiceSelectors)
	errs = append(errs, fieldErrs...)
	adv.PreferredNodes, fieldErrs = parsePreferredNodes(spec.Child("preferredNodeSelectors"), s.PreferredNodeSelectors)
	errs = append(errs, fieldErrs...)
	return adv, errs
}

func parsePreferredNodes(path *field.Path, prefs []v1beta1.PreferredNodeSelector) ([]NodePreference, field.ErrorList) {
	var parsed []NodePreference
	var errs field.ErrorList
	for i, pref := range prefs {
		if pref.Weight < 1 || pref.Weight > 100 {
			errs = append(errs, field.Invalid(path.Index(i).Child("weight"), pref.Weight, "must be in 1-100 range"))
		}
		sel, err := selectorFrom(pref.Preference)
		if err != nil {
			errs = append(errs, field.Invalid(path.Index(i).Child("preference"), canonicalSelector(pref.Preference), err.Error()))
			continue
		}
		parsed = append(parsed, NodePreference{Weight: pref.Weight, Selector: sel})
	}
	return parsed, errs
}

func (p *parser) parseBGPAdvertisements() {
	echoPeers := p.peersWithBFDEcho()
	for _, obj := range p.objs.bgpAdvertisements {
		if !p.claimName(kindBGPAdvertisement, obj.Name) {
			continue
		}
		adv, errs := p.parseBGPAdvertisement(obj)
		// Checking an advertisement that is invalid in itself against its pools would mostly repeat its
		// problems, e.g. an aggregation length of 0 against every address of every pool.
		if !hasPermanent(errs) {
			errs = append(errs, p.checkAgainstPools(adv, echoPeers)...)
		}
		p.errs.add(kindBGPAdvertisement, obj.Name, errs...)
		// Registered after the checks, which compare the advertisement with those registered before it.
		p.cfg.BGPAdvertisements[adv.Name] = adv
		for _, name := range adv.Pools {
			pool := p.cfg.Pools[name]
			pool.BGPAdvertisements = append(pool.BGPAdvertisements, adv)
		}
	}
}

func (p *parser) parseBGPAdvertisement(obj *v1beta1.BGPAdvertisement) (*BGPAdvertisement, field.ErrorList) {
	s := &obj.Spec
	spec := field.NewPath("spec")
	adv := &BGPAdvertisement{
		Name:      obj.Name,
		LocalPref: s.LocalPref,
		Peers:     slices.Sorted(slices.Values(s.Peers)),
	}

	var errs, fieldErrs field.ErrorList
	adv.Pools, errs = p.parsePoolSelection(spec, s.IPAddressPools, s.IPAddressPoolSelectors)
	adv.AggregationLength, fieldErrs = parseAggregationLength(spec.Child("aggregationLength"), s.AggregationLength, "IPv4", 32)
	errs = append(errs, fieldErrs...)
	adv.AggregationLengthV6, fieldErrs = parseAggregationLength(spec.Child("aggregationLengthV6"), s.AggregationLengthV6, "IPv6", 128)
	errs = append(errs, fieldErrs...)
	adv.Communities, adv.LargeCommunities, fieldErrs = p.parseAdvertisedCommunities(spec.Child("communities"), s.Communities)
	errs = append(errs, fieldErrs...)
	adv.NodeSelectors, fieldErrs = parseSelectors(spec, "nodeSelectors", s.NodeSelectors)
	errs = append(errs, fieldErrs...)
	errs = append(errs, duplicateStrings(spec.Child("peers"), "peers", s.Peers)...)
	adv.ServiceSelectors, fieldErrs = parseSelectors(spec, "serviceSelectors", s.ServiceSelectors)
	errs = append(errs, fieldErrs...)

	// An aggregate also covers the addresses of Services the selectors do not match. This is the API server's
	// CEL rule, with MetalLB's parser messages.
	if len(s.ServiceSelectors) > 0 {
		if adv.AggregationLength != 32 {
			errs = append(errs, field.Invalid(spec.Child("aggregationLength"), adv.AggregationLength,
				fmt.Sprintf("serviceSelectors and aggregationLength are mutually exclusive, both cannot be set in %s", obj.Name)))
		}
		if adv.AggregationLengthV6 != 128 {
			errs = append(errs, field.Invalid(spec.Child("aggregationLengthV6"), adv.AggregationLengthV6,
				fmt.Sprintf("serviceSelectors and aggregationLengthV6 are mutually exclusive, both cannot be set in %s", obj.Name)))
		}
	}
	return adv, errs
}

// parseAggregationLength returns the aggregation length of a family whose addresses have bits bits. Unset, it
// is bits: no aggregation.
func parseAggregationLength(path *field.Path, value *int32, family string, bits int) (int, field.ErrorList) {
	if value == nil {
		return bits, nil
	}
	length := int(*value)
	if length < 1 || length > bits {
		return length, field.ErrorList{field.Invalid(path, length, fmt.Sprintf("invalid aggregation length %d for %s", length, family))}
	}
	return length, nil
}

// parsePoolSelection returns the names of the pools an advertisement selects, sorted: the pools named (names
// of no pool are ignored, as MetalLB does) and the pools whose labels match a selector; with neither field
// set, every pool.
func (p *parser) parsePoolSelection(spec *field.Path, names []string, selectors []metav1.LabelSelector) ([]string, field.ErrorList) {
	errs := duplicateStrings(spec.Child("ipAddressPools"), "ipAddressPools", names)
	parsed, selErrs := parseSelectors(spec, "ipAddressPoolSelectors", selectors)
	errs = append(errs, selErrs...)
	if len(names) == 0 && len(selectors) == 0 {
		return slices.Sorted(maps.Keys(p.cfg.Pools)), errs
	}

	selected := map[string]bool{}
	for _, name := range names {
		if p.cfg.Pools[name] != nil {
			selected[name] = true
		}
	}
	if len(parsed) > 0 {
		for name, src := range p.pools {
			if matchesAny(parsed, src.labels) {
				selected[name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(selected)), errs
}

// parseAdvertisedCommunities resolves the communities of an advertisement: values, or alias names.
func (p *parser) parseAdvertisedCommunities(path *field.Path, values []string) ([]StandardCommunity, []LargeCommunity, field.ErrorList) {
	errs := duplicateStrings(path, "community", values)
	var standard []StandardCommunity
	var large []LargeCommunity
	for i, value := range values {
		c, fe := p.resolveCommunity(path.Index(i), value)
		if fe != nil {
			errs = append(errs, fe)
			continue
		}
		switch c := c.(type) {
		case StandardCommunity:
			standard = append(standard, c)
		case LargeCommunity:
			large = append(large, c)
		}
	}
	// An alias and a value, or two aliases, may stand for the same community.
	slices.Sort(standard)
	slices.SortFunc(large, compareLargeCommunities)
	return slices.Compact(standard), slices.Compact(large), errs
}

// resolveCommunity returns the community an alias names, or else the community a value is. A string of no
// community syntax may name an alias that does not exist yet: that is a transient error (reference §2.3).
func (p *parser) resolveCommunity(path *field.Path, value string) (Community, *field.Error) {
	if c, ok := p.cfg.Communities[value]; ok {
		return c, nil
	}
	c, err := parseCommunity(value)
	if err == nil {
		return c, nil
	}
	detail := fmt.Sprintf("invalid community %q in BGP advertisement: %s", value, err)
	if errors.Is(err, errCommunityFormat) {
		return nil, notFound(path, value, detail)
	}
	return nil, field.Invalid(path, value, detail)
}

func compareLargeCommunities(a, b LargeCommunity) int {
	return cmp.Or(
		cmp.Compare(a.GlobalAdmin, b.GlobalAdmin),
		cmp.Compare(a.LocalData1, b.LocalData1),
		cmp.Compare(a.LocalData2, b.LocalData2),
	)
}

// checkAgainstPools checks an advertisement against each pool it selects, against the advertisements
// registered before it and against the peers with BFD echo. A conflict with an advertisement or a peer is
// reported once, for the first pool it shows in.
func (p *parser) checkAgainstPools(adv *BGPAdvertisement, echoPeers []string) field.ErrorList {
	var errs field.ErrorList
	conflictingAdvs, reportedPeers := map[string]bool{}, map[string]bool{}
	for _, name := range adv.Pools {
		pool := p.cfg.Pools[name]
		errs = append(errs, checkAggregation(adv, pool.Name, p.pools[name].entries)...)
		errs = append(errs, p.checkLocalPref(adv, pool, conflictingAdvs)...)
		errs = append(errs, checkBFDEcho(adv, pool, echoPeers, reportedPeers)...)
	}
	return errs
}

// checkAggregation refuses an aggregation length shorter than an entry of the pool's addresses: the aggregate
// would cover addresses outside the entry.
func checkAggregation(adv *BGPAdvertisement, poolName string, entries []addressEntry) field.ErrorList {
	var errs field.ErrorList
	for _, entry := range entries {
		length, fieldName := adv.AggregationLength, "aggregationLength"
		if entry.prefixes[0].Addr().Is6() {
			length, fieldName = adv.AggregationLengthV6, "aggregationLengthV6"
		}
		// A range holds several prefixes; the aggregate must not be shorter than the largest of them.
		shortest := slices.MinFunc(entry.prefixes, func(a, b netip.Prefix) int { return cmp.Compare(a.Bits(), b.Bits()) }).Bits()
		if length < shortest {
			errs = append(errs, field.Invalid(field.NewPath("spec", fieldName), length, fmt.Sprintf(
				"invalid aggregation length %d: prefix %d in this pool is more specific than the aggregation length for addresses %s (pool %q)",
				length, shortest, entry.value, poolName)))
		}
	}
	return errs
}

// checkLocalPref refuses an advertisement that gives a route of the pool another LOCAL_PREF than an
// advertisement registered before it does. Whether two advertisements with serviceSelectors announce a
// common Service is only known at announce time: the speaker checks them then (reference §5.6).
func (p *parser) checkLocalPref(adv *BGPAdvertisement, pool *Pool, reported map[string]bool) field.ErrorList {
	if len(adv.ServiceSelectors) > 0 {
		return nil
	}
	var errs field.ErrorList
	for _, other := range pool.BGPAdvertisements {
		if len(other.ServiceSelectors) > 0 || reported[other.Name] ||
			!adv.LocalPrefConflicts(other, pool) || !p.shareNode(adv, other) {
			continue
		}
		reported[other.Name] = true
		// "preferernce" is MetalLB's text, kept as users and tests know it.
		errs = append(errs, field.Invalid(field.NewPath("spec", "localPref"), adv.LocalPref, fmt.Sprintf(
			"invalid local preference %d: local preferernce %d was already set for the same type of BGP update. "+
				"Check existing BGP advertisements with common pools and aggregation lengths (BGPAdvertisement %q, pool %q)",
			adv.LocalPref, other.LocalPref, other.Name, pool.Name)))
	}
	return errs
}

// shareNode reports whether some node announces through both advertisements. Without Nodes in the
// Resources, it cannot tell, and assumes one does.
func (p *parser) shareNode(a, b *BGPAdvertisement) bool {
	if len(p.res.Nodes) == 0 {
		return true
	}
	return slices.ContainsFunc(p.res.Nodes, func(n corev1.Node) bool {
		nodeLabels := labels.Set(n.Labels)
		return a.SelectsNode(nodeLabels) && b.SelectsNode(nodeLabels)
	})
}

// checkBFDEcho refuses announcing a pool with IPv6 addresses to a peer whose BFD profile enables echo mode,
// as MetalLB does: FRR, which MetalLB runs BFD with, has BFD echo for IPv4 only.
func checkBFDEcho(adv *BGPAdvertisement, pool *Pool, echoPeers []string, reported map[string]bool) field.ErrorList {
	if !slices.ContainsFunc(pool.CIDRs, func(prefix netip.Prefix) bool { return prefix.Addr().Is6() }) {
		return nil
	}
	var errs field.ErrorList
	for _, name := range echoPeers {
		if !adv.SelectsPeer(name) || reported[name] {
			continue
		}
		reported[name] = true
		errs = append(errs, field.Invalid(field.NewPath("spec", "peers"), name, fmt.Sprintf(
			"pool %s has bgpadvertisement %s which references peer %s which has bfd echo enabled, which is not possible",
			pool.Name, adv.Name, name)))
	}
	return errs
}

// peersWithBFDEcho returns the names of the peers whose BFD profile enables echo mode, sorted.
func (p *parser) peersWithBFDEcho() []string {
	var names []string
	for _, peer := range p.objs.peers {
		if profile := p.cfg.BFDProfiles[peer.Spec.BFDProfile]; profile != nil && profile.EchoMode {
			names = append(names, peer.Name)
		}
	}
	return names
}

// duplicateStrings refuses a value given twice in the list field name.
func duplicateStrings(path *field.Path, name string, values []string) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, v := range values {
		if seen[v] {
			errs = append(errs, duplicate(path.Index(i), v, fmt.Sprintf("duplicate definition of %s %q", name, v)))
		}
		seen[v] = true
	}
	return errs
}
