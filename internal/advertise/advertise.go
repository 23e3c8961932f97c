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
	"cmp"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

// Reasons a node does not announce a Service over BGP, MetalLB's strings (reference §5.6). The speaker
// reports them in logs and in the withdrawal of ServiceBGPStatus; the empty reason means "announce".
const (
	// ReasonNotOwner: no BGPAdvertisement of the Service's pool selects this node.
	ReasonNotOwner = "notOwner"
	// ReasonNoMatchingAdvertisement: advertisements select this node, but none selects the Service.
	ReasonNoMatchingAdvertisement = "noMatchingAdvertisement"
	// ReasonConflictingAdvertisements: the advertisements that select the Service would announce a route
	// with two LOCAL_PREF values.
	ReasonConflictingAdvertisements = "conflictingAdvertisements"
	// ReasonNodeNetworkUnavailable: the node has the condition NetworkUnavailable=True.
	ReasonNodeNetworkUnavailable = "nodeNetworkUnavailable"
	// ReasonNodeLabeledExcludeBalancers: the node carries ExcludeBalancersLabel.
	ReasonNodeLabeledExcludeBalancers = "nodeLabeledExcludeBalancers"
	// ReasonNoLocalEndpoints: externalTrafficPolicy is Local and no endpoint on this node can serve.
	ReasonNoLocalEndpoints = "noLocalEndpoints"
	// ReasonNoEndpoints: no endpoint anywhere can serve.
	ReasonNoEndpoints = "noEndpoints"
)

// ExcludeBalancersLabel, with any value, keeps a node from announcing unless WithIgnoreExcludeLB is given.
const ExcludeBalancersLabel = corev1.LabelNodeExcludeBalancers

// Advertisement is the announcement of one address of a Service under one BGPAdvertisement.
type Advertisement struct {
	// Prefix is the Service address masked to the advertisement's aggregation length for its family.
	Prefix netip.Prefix
	// LocalPref is the LOCAL_PREF for iBGP peers; 0 leaves it to the speaker.
	LocalPref uint32
	// Communities and LargeCommunities are sorted and without repeats.
	Communities      []config.StandardCommunity
	LargeCommunities []config.LargeCommunity
	// Peers are the names of the BGPPeers to announce to, sorted; empty means every peer.
	Peers []string
	// Advertisement is the name of the BGPAdvertisement, for logs.
	Advertisement string
}

// To reports whether the advertisement goes to the peer of that name.
func (a *Advertisement) To(peer string) bool {
	_, found := slices.BinarySearch(a.Peers, peer)
	return len(a.Peers) == 0 || found
}

// Route is a prefix as one peer session carries it: the attributes of every Advertisement of the prefix to
// that peer, merged.
type Route struct {
	Prefix netip.Prefix
	// LocalPref is set for iBGP sessions only (RFC 4271 §5.1.5); 0 leaves it to the speaker.
	LocalPref        uint32
	Communities      []config.StandardCommunity
	LargeCommunities []config.LargeCommunity
}

// Option changes how ForService decides.
type Option func(*options)

type options struct {
	ignoreExcludeLB bool
}

// WithIgnoreExcludeLB lets nodes labelled ExcludeBalancersLabel announce (the speaker's --ignore-exclude-lb).
func WithIgnoreExcludeLB() Option {
	return func(o *options) { o.ignoreExcludeLB = true }
}

// ForService decides whether the node announces the Service, whose addresses belong to the named pool, over
// BGP, and returns what it announces: one Advertisement per address of status.loadBalancer.ingress per
// BGPAdvertisement of the pool that selects both the node and the Service. When the node must not announce,
// it returns no advertisements and the reason, checked in MetalLB's order (reference §5.6).
//
// The caller has done the checks every protocol shares (reference §5.3): the Service is a LoadBalancer of
// ferrolb's class, its addresses parse and belong to the pool. Ingress entries without a valid IP are
// skipped. slices are the Service's EndpointSlices.
func ForService(node *corev1.Node, svc *corev1.Service, slices []discoveryv1.EndpointSlice, cfg *config.Config, pool string, opts ...Option) ([]Advertisement, string) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := cfg.Pools[pool]
	if p == nil {
		return nil, ReasonNotOwner
	}
	nodeLabels := labels.Set(node.Labels)
	selectsNode := false
	for _, ad := range p.BGPAdvertisements {
		if ad.SelectsNode(nodeLabels) {
			selectsNode = true
			break
		}
	}
	if !selectsNode {
		return nil, ReasonNotOwner
	}

	svcLabels := labels.Set(svc.Labels)
	var ads []*config.BGPAdvertisement
	for _, ad := range p.BGPAdvertisements {
		if ad.SelectsNode(nodeLabels) && ad.SelectsService(svcLabels) {
			ads = append(ads, ad)
		}
	}
	if len(ads) == 0 {
		return nil, ReasonNoMatchingAdvertisement
	}
	// Parse refuses conflicting advertisements unless serviceSelectors make the conflict depend on the
	// Service: this is where such a conflict shows.
	for i := range ads {
		for _, other := range ads[i+1:] {
			if ads[i].LocalPrefConflicts(other, p) {
				return nil, ReasonConflictingAdvertisements
			}
		}
	}

	if networkUnavailable(node) {
		return nil, ReasonNodeNetworkUnavailable
	}
	if _, excluded := node.Labels[ExcludeBalancersLabel]; excluded && !o.ignoreExcludeLB {
		return nil, ReasonNodeLabeledExcludeBalancers
	}
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		if !canServe(slices, node.Name) {
			return nil, ReasonNoLocalEndpoints
		}
	} else if !canServe(slices, "") {
		return nil, ReasonNoEndpoints
	}

	var adverts []Advertisement
	for _, ingress := range svc.Status.LoadBalancer.Ingress {
		addr, err := netip.ParseAddr(ingress.IP)
		if err != nil {
			continue
		}
		addr = addr.Unmap()
		for _, ad := range ads {
			length := ad.AggregationLength
			if addr.Is6() {
				length = ad.AggregationLengthV6
			}
			prefix, err := addr.Prefix(length)
			if err != nil {
				continue // config.Parse bounds the lengths; this cannot happen with a parsed Config
			}
			adverts = append(adverts, Advertisement{
				Prefix:           prefix,
				LocalPref:        ad.LocalPref,
				Communities:      ad.Communities,
				LargeCommunities: ad.LargeCommunities,
				Peers:            ad.Peers,
				Advertisement:    ad.Name,
			})
		}
	}
	return adverts, ""
}

// networkUnavailable reports whether the node has NetworkUnavailable=True: its routes are not set up, so
// traffic sent to it would be lost.
func networkUnavailable(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// canServe reports whether an endpoint with an address can serve, on the named node or, with nodeName empty,
// anywhere. An endpoint can serve when its ready condition is unset or true, or when it is serving: a
// terminating endpoint that still serves keeps its node announcing, so connections drain (reference §5.3).
func canServe(slices []discoveryv1.EndpointSlice, nodeName string) bool {
	for i := range slices {
		for _, ep := range slices[i].Endpoints {
			if len(ep.Addresses) == 0 || !endpointServes(ep.Conditions) {
				continue
			}
			if nodeName == "" || ep.NodeName != nil && *ep.NodeName == nodeName {
				return true
			}
		}
	}
	return false
}

func endpointServes(c discoveryv1.EndpointConditions) bool {
	return c.Ready == nil || *c.Ready || c.Serving != nil && *c.Serving
}

// Table merges the advertisements of every Service, by Service key, into the routes of every peer session,
// by peer name: a peer carries the prefixes of the advertisements addressed to it (Advertisement.To) in the
// address families the session carries. A prefix advertised several times, by several Services or several
// BGPAdvertisements, becomes one route with the union of the communities and the highest LOCAL_PREF
// (config.Parse refuses advertisements that would disagree, save for Services sharing an address under
// advertisements with serviceSelectors). LOCAL_PREF is kept for iBGP peers only. Every peer has an entry,
// nil when it carries nothing; routes are sorted by prefix.
func Table(services map[string][]Advertisement, peers []*config.Peer) map[string][]Route {
	rib := NewRIB()
	rib.SetPeers(peers)
	for key, adverts := range services {
		rib.SetService(key, adverts)
	}
	return rib.Routes()
}

// ServicePeers returns the names of the peers that carry at least one of the Service's advertisements,
// sorted: the peers of its ServiceBGPStatus. A name in a BGPAdvertisement's peers that is not among the
// peers never shows.
func ServicePeers(adverts []Advertisement, peers []*config.Peer) []string {
	var names []string
	for _, peer := range peers {
		if slices.ContainsFunc(adverts, func(a Advertisement) bool { return a.To(peer.Name) && carries(peer, a.Prefix) }) {
			names = append(names, peer.Name)
		}
	}
	slices.Sort(names)
	return names
}

// carries reports whether the peer's session carries the prefix's address family: the family of the peer's
// address, or both with dualStackAddressFamily or an unnumbered (interface) session, as MetalLB activates
// them (reference §5.8).
func carries(peer *config.Peer, prefix netip.Prefix) bool {
	if peer.DualStackAddressFamily || !peer.Address.IsValid() {
		return true
	}
	return peer.Address.Unmap().Is4() == prefix.Addr().Is4()
}

// isInternal reports whether the session is iBGP: the peer's AS is the local one towards it, or dynamicASN
// is internal.
func isInternal(peer *config.Peer) bool {
	if peer.DynamicASN != "" {
		return peer.DynamicASN == v1beta2.InternalASNMode
	}
	return peer.PeerASN == cmp.Or(peer.LocalASN, peer.MyASN)
}

// ComparePrefixes orders prefixes by address (IPv4 first), then by length.
func ComparePrefixes(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

func compareLarge(a, b config.LargeCommunity) int {
	return cmp.Or(
		cmp.Compare(a.GlobalAdmin, b.GlobalAdmin),
		cmp.Compare(a.LocalData1, b.LocalData1),
		cmp.Compare(a.LocalData2, b.LocalData2),
	)
}
