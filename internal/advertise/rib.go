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

package advertise

import (
	"net/netip"
	"slices"

	"github.com/ferrolb/ferrolb/internal/config"
)

// RIB is the node's route table (see Table) kept up to date one Service at a time: changing a Service costs
// in proportion to its advertisements, not to the number of Services, and the RIB records which prefixes
// changed so that only their routes are handed on. The zero value is not usable; NewRIB returns one. A RIB
// is not safe for concurrent use.
type RIB struct {
	peers    []*config.Peer
	services map[string][]Advertisement
	// byPrefix holds the Services that advertise each prefix: usually one, several when Services share an
	// address or when aggregation gathers several addresses into one prefix.
	byPrefix map[netip.Prefix][]string
	// dirty are the prefixes whose routes may have changed since Changes was last called; all means every
	// route may have (the peers changed).
	dirty map[netip.Prefix]struct{}
	all   bool
}

// Changes are the routes of some prefixes after a change, by peer name: the route the peer's session
// carries now for each prefix, nil when it carries none for it (the prefix is withdrawn from that peer).
type Changes map[string]map[netip.Prefix]*Route

// NewRIB returns a RIB without peers or Services.
func NewRIB() *RIB {
	return &RIB{services: map[string][]Advertisement{}, byPrefix: map[netip.Prefix][]string{},
		dirty: map[netip.Prefix]struct{}{}, all: true}
}

// SetPeers sets the sessions the routes are for. When that changes the routes (a peer added or removed, a
// session's address family or iBGP-ness changed), every route is handed on again by the next Changes.
func (r *RIB) SetPeers(peers []*config.Peer) {
	if !slices.EqualFunc(r.peers, peers, sameRouting) {
		r.all = true
	}
	r.peers = slices.Clone(peers)
}

// sameRouting reports whether two peers get the same routes from the same advertisements.
func sameRouting(a, b *config.Peer) bool {
	return a.Name == b.Name && isInternal(a) == isInternal(b) && a.DualStackAddressFamily == b.DualStackAddressFamily &&
		a.Address.IsValid() == b.Address.IsValid() && a.Address.Unmap().Is4() == b.Address.Unmap().Is4()
}

// SetService makes the RIB hold exactly these advertisements for the Service key; none withdraws the
// Service. It reports whether that changed anything. The RIB keeps its own copy of the slice, and never
// writes into the advertisements' community slices, which a Config shares between Services.
func (r *RIB) SetService(key string, adverts []Advertisement) bool {
	prev, had := r.services[key]
	if len(adverts) == 0 && !had || had && slices.EqualFunc(prev, adverts, equalAdvertisement) {
		return false
	}
	for i := range prev {
		p := prev[i].Prefix
		r.dirty[p] = struct{}{}
		if owners := slices.DeleteFunc(r.byPrefix[p], func(k string) bool { return k == key }); len(owners) > 0 {
			r.byPrefix[p] = owners
		} else {
			delete(r.byPrefix, p)
		}
	}
	if len(adverts) == 0 {
		delete(r.services, key)
		return true
	}
	r.services[key] = slices.Clone(adverts)
	for i := range adverts {
		p := adverts[i].Prefix
		r.dirty[p] = struct{}{}
		if owners := r.byPrefix[p]; !slices.Contains(owners, key) {
			r.byPrefix[p] = append(owners, key)
		}
	}
	return true
}

func equalAdvertisement(a, b Advertisement) bool {
	return a.Prefix == b.Prefix && a.LocalPref == b.LocalPref && a.Advertisement == b.Advertisement &&
		slices.Equal(a.Communities, b.Communities) && slices.Equal(a.LargeCommunities, b.LargeCommunities) &&
		slices.Equal(a.Peers, b.Peers)
}

// Len returns the number of Services the RIB holds.
func (r *RIB) Len() int { return len(r.services) }

// Service returns the advertisements the RIB holds for the Service key; the caller must not modify them.
func (r *RIB) Service(key string) []Advertisement { return r.services[key] }

// Routes returns every peer's routes, as Table does.
func (r *RIB) Routes() map[string][]Route {
	table := make(map[string][]Route, len(r.peers))
	for _, peer := range r.peers {
		merged := make(map[netip.Prefix]*Route, len(r.byPrefix))
		internal := isInternal(peer)
		for _, adverts := range r.services {
			for i := range adverts {
				a := &adverts[i]
				if !a.To(peer.Name) || !carries(peer, a.Prefix) {
					continue
				}
				route := merged[a.Prefix]
				if route == nil {
					route = &Route{Prefix: a.Prefix}
					merged[a.Prefix] = route
				}
				route.add(a, internal)
			}
		}
		var routes []Route
		for _, route := range merged {
			route.finish()
			routes = append(routes, *route)
		}
		slices.SortFunc(routes, func(a, b Route) int { return ComparePrefixes(a.Prefix, b.Prefix) })
		table[peer.Name] = routes
	}
	return table
}

// Changes returns the routes of the prefixes changed since the last call, for every peer, and forgets them.
// all is true when every route may have changed (the first call, or the peers changed): changes then hold
// nothing, and the caller takes Routes instead.
func (r *RIB) Changes() (changes Changes, all bool) {
	if r.all {
		r.all = false
		r.dirty = map[netip.Prefix]struct{}{}
		return nil, true
	}
	changes = make(Changes, len(r.peers))
	for _, peer := range r.peers {
		routes := make(map[netip.Prefix]*Route, len(r.dirty))
		for p := range r.dirty {
			if route, ok := r.route(peer, p); ok {
				routes[p] = &route
			} else {
				routes[p] = nil
			}
		}
		changes[peer.Name] = routes
	}
	// A new map rather than clear: clearing costs as much as the map once held, a whole table after a burst.
	r.dirty = map[netip.Prefix]struct{}{}
	return changes, false
}

// route merges the advertisements of the prefix to the peer into the route its session carries; false when
// it carries none.
func (r *RIB) route(peer *config.Peer, prefix netip.Prefix) (Route, bool) {
	route := Route{Prefix: prefix}
	if !carries(peer, prefix) {
		return route, false
	}
	found := false
	internal := isInternal(peer)
	for _, key := range r.byPrefix[prefix] {
		adverts := r.services[key]
		for i := range adverts {
			if a := &adverts[i]; a.Prefix == prefix && a.To(peer.Name) {
				found = true
				route.add(a, internal)
			}
		}
	}
	route.finish()
	return route, found
}

// add merges an advertisement of the route's prefix into it: the highest LOCAL_PREF, for iBGP sessions only,
// and every community. The community slices are appended to fresh ones: the Config shares them between
// Services.
func (r *Route) add(a *Advertisement, internal bool) {
	if internal {
		r.LocalPref = max(r.LocalPref, a.LocalPref)
	}
	r.Communities = append(r.Communities, a.Communities...)
	r.LargeCommunities = append(r.LargeCommunities, a.LargeCommunities...)
}

// finish sorts the merged communities and drops repeats.
func (r *Route) finish() {
	slices.Sort(r.Communities)
	r.Communities = slices.Clip(slices.Compact(r.Communities))
	slices.SortFunc(r.LargeCommunities, compareLarge)
	r.LargeCommunities = slices.Clip(slices.Compact(r.LargeCommunities))
}
