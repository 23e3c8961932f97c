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

package election

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"maps"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/ferrolb/ferrolb/internal/config"
)

// Reasons a node does not announce a Service, MetalLB's strings. The speaker logs them and withdraws with them.
const (
	// ReasonNotOwner: the Service has no serving endpoint, no node can announce it, or another node won.
	ReasonNotOwner = "notOwner"
	// ReasonNoMatchingAdvertisement: no applicable L2Advertisement selects the node.
	ReasonNoMatchingAdvertisement = "noMatchingAdvertisement"
	// ReasonSharedIPWithServiceSelector: the Service may share its IP and an applicable L2Advertisement has
	// serviceSelectors, so the Services sharing the IP could elect different nodes.
	ReasonSharedIPWithServiceSelector = "sharedIPWithServiceSelector"
	// ReasonNoIPAllocated: the Service has no ingress IP yet.
	ReasonNoIPAllocated = "noIPAllocated"
	// ReasonInvalidIP: the Service's first ingress IP does not parse.
	ReasonInvalidIP = "invalidIP"
)

// Annotations and labels the election reads.
const (
	// AnnotationAllowSharedIP lets Services share an IP (the value is the sharing key).
	AnnotationAllowSharedIP = "metallb.io/allow-shared-ip"
	// AnnotationAllowSharedIPDeprecated is the pre-v0.13 spelling of AnnotationAllowSharedIP, still honoured.
	AnnotationAllowSharedIPDeprecated = "metallb.universe.tf/allow-shared-ip"
	// LabelExcludeFromExternalLB removes a node from the election, whatever its value, unless
	// Input.IgnoreExcludeLB is set.
	LabelExcludeFromExternalLB = corev1.LabelNodeExcludeBalancers
)

// Input is everything the election of one Service depends on. Every speaker must pass the same Input (apart
// from its own name) for the speakers to agree.
type Input struct {
	// Service is the LoadBalancer Service; status.loadBalancer.ingress[0].ip is the address hashed.
	Service *corev1.Service
	// EndpointSlices are the Service's EndpointSlices.
	EndpointSlices []discoveryv1.EndpointSlice
	// Nodes are the cluster's Nodes by name. A node without a Node object never wins: its labels and
	// conditions are unknown.
	Nodes map[string]*corev1.Node
	// Members are the nodes with a live speaker according to memberlist. Nil means memberlist is disabled, and
	// every node in Nodes is assumed to run a speaker; an empty non-nil set means no speaker is live.
	Members sets.Set[string]
	// Advertisements are the L2Advertisements that apply to the Service (see Advertisements).
	Advertisements []*config.L2Advertisement
	// IgnoreExcludeLB keeps nodes labelled LabelExcludeFromExternalLB in the election (--ignore-exclude-lb).
	IgnoreExcludeLB bool
	// Refresh is the period of gratuitous ARP/NDP refresh the speaker is configured with, 0 for none. The API
	// has no per-advertisement setting yet, so the election passes it through to the winner's Result.
	Refresh time.Duration
}

// Result is the outcome of an election.
type Result struct {
	// Node is the node that announces the Service's addresses, "" if none does.
	Node string
	// Reason is, for Elect, why no node announces ("" when Node is set); for ShouldAnnounce, why the asking
	// node does not announce ("" when it is the winner).
	Reason string
	// Interfaces are the winner's interfaces to announce on; zero unless Node is set.
	Interfaces Interfaces
	// Refresh is the period of gratuitous refresh for the winner, 0 for none.
	Refresh time.Duration
}

// Interfaces are the interfaces a node announces an address on: every interface that is not excluded, or
// only the named ones.
type Interfaces struct {
	// All means every interface; Names is then nil.
	All bool
	// Names are the interfaces, sorted, without repeats.
	Names []string
}

// Elect returns the node that announces the Service's addresses, with its interfaces, or the reason no node
// does.
func Elect(in Input) Result {
	return decide(in, "", false)
}

// ShouldAnnounce returns the election seen from node: Reason is "" if node announces the Service's
// addresses, and otherwise MetalLB's reason, checked in MetalLB's order (reference §5.4). Node, Interfaces
// and Refresh describe the winner, whoever it is.
func ShouldAnnounce(node string, in Input) Result {
	return decide(in, node, true)
}

// Advertisements returns the L2Advertisements of the pool that apply to the Service: those without
// serviceSelectors and those whose selectors match its labels, in name order. It returns nil for a pool the
// configuration does not have.
func Advertisements(cfg *config.Config, pool string, svc *corev1.Service) []*config.L2Advertisement {
	if cfg == nil || cfg.Pools[pool] == nil {
		return nil
	}
	svcLabels := labels.Set(svc.Labels)
	var ads []*config.L2Advertisement
	for _, ad := range cfg.Pools[pool].L2Advertisements {
		if ad.SelectsService(svcLabels) {
			ads = append(ads, ad)
		}
	}
	return ads
}

// decide runs the election; asNode makes it answer for node.
func decide(in Input, node string, asNode bool) Result {
	ip, reason := firstIP(in.Service)
	if reason != "" {
		return Result{Reason: reason}
	}
	// 1. Nothing to send traffic to.
	if !anyEndpointCanServe(in.EndpointSlices) {
		return Result{Reason: ReasonNotOwner}
	}
	// 2. Services sharing an IP must elect the same node; service selectors could make them differ.
	if sharesIP(in.Service) && slices.ContainsFunc(in.Advertisements, func(ad *config.L2Advertisement) bool {
		return len(ad.ServiceSelectors) > 0
	}) {
		return Result{Reason: ReasonSharedIPWithServiceSelector}
	}
	// 3. No advertisement applies, or none lets the asking node announce; the election still runs, so that
	// the node can tell who announces.
	if len(in.Advertisements) == 0 {
		return Result{Reason: ReasonNoMatchingAdvertisement}
	}
	nodeReason := ""
	if asNode && !selectedByAny(in.Advertisements, nodeLabels(in.Nodes[node])) {
		nodeReason = ReasonNoMatchingAdvertisement
	}

	// 4–7. The candidate with the highest preference wins, then the lowest hash.
	var local sets.Set[string]
	if in.Service.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		local = nodesWithServingEndpoint(in.EndpointSlices)
	}
	key := ip.String()
	var best candidate
	for name := range speakers(in) {
		n := in.Nodes[name]
		if n == nil || networkUnavailable(n) || !in.IgnoreExcludeLB && excluded(n) {
			continue
		}
		nodeLabels := labels.Set(n.Labels)
		if !selectedByAny(in.Advertisements, nodeLabels) {
			continue
		}
		if local != nil && !local.Has(name) {
			continue
		}
		c := candidate{name: name, preference: preference(in.Advertisements, nodeLabels), hash: sha256.Sum256([]byte(name + "#" + key))}
		if best.name == "" || c.before(&best) {
			best = c
		}
	}
	if best.name == "" {
		return Result{Reason: cmp.Or(nodeReason, ReasonNotOwner)}
	}

	res := Result{
		Node:       best.name,
		Interfaces: interfacesFor(in.Advertisements, labels.Set(in.Nodes[best.name].Labels)),
		Refresh:    in.Refresh,
	}
	if asNode && node != best.name {
		res.Reason = cmp.Or(nodeReason, ReasonNotOwner)
	}
	return res
}

// candidate is a node in the election.
type candidate struct {
	name       string
	preference int64
	hash       [sha256.Size]byte
}

// before reports whether c sorts before d: higher preference first, then lower hash. Names only break ties
// of hashes, which do not happen with distinct names; they make the order total all the same.
func (c *candidate) before(d *candidate) bool {
	if c.preference != d.preference {
		return c.preference > d.preference
	}
	if order := bytes.Compare(c.hash[:], d.hash[:]); order != 0 {
		return order < 0
	}
	return c.name < d.name
}

// firstIP returns the Service's first ingress IP, the one hashed: MetalLB hashes the first address so that
// both addresses of a dual-stack Service go to the same node. IPv4-mapped IPv6 addresses are unmapped, as
// MetalLB's net.IP.String does.
func firstIP(svc *corev1.Service) (netip.Addr, string) {
	if svc == nil || len(svc.Status.LoadBalancer.Ingress) == 0 || svc.Status.LoadBalancer.Ingress[0].IP == "" {
		return netip.Addr{}, ReasonNoIPAllocated
	}
	ip, err := netip.ParseAddr(svc.Status.LoadBalancer.Ingress[0].IP)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, ReasonInvalidIP
	}
	return ip.Unmap(), ""
}

// speakers returns the nodes running a speaker: memberlist's live members, or every known node when
// memberlist is disabled.
func speakers(in Input) sets.Set[string] {
	if in.Members != nil {
		return in.Members
	}
	return sets.KeySet(in.Nodes)
}

// canServe is the endpoint "can serve" rule (reference §5.3): ready unknown or true, or serving, so that
// terminating endpoints that still serve keep the address announced.
func canServe(c discoveryv1.EndpointConditions) bool {
	return c.Ready == nil || *c.Ready || c.Serving != nil && *c.Serving
}

func anyEndpointCanServe(slices []discoveryv1.EndpointSlice) bool {
	for i := range slices {
		for _, ep := range slices[i].Endpoints {
			if canServe(ep.Conditions) {
				return true
			}
		}
	}
	return false
}

// nodesWithServingEndpoint returns the nodes that host an endpoint that can serve; endpoints without a
// nodeName count nowhere.
func nodesWithServingEndpoint(slices []discoveryv1.EndpointSlice) sets.Set[string] {
	nodes := sets.New[string]()
	for i := range slices {
		for _, ep := range slices[i].Endpoints {
			if ep.NodeName != nil && canServe(ep.Conditions) {
				nodes.Insert(*ep.NodeName)
			}
		}
	}
	return nodes
}

func sharesIP(svc *corev1.Service) bool {
	return svc.Annotations[AnnotationAllowSharedIP] != "" || svc.Annotations[AnnotationAllowSharedIPDeprecated] != ""
}

func networkUnavailable(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func excluded(n *corev1.Node) bool {
	_, ok := n.Labels[LabelExcludeFromExternalLB]
	return ok
}

// nodeLabels returns the labels of a node, none for an unknown node.
func nodeLabels(n *corev1.Node) labels.Set {
	if n == nil {
		return nil
	}
	return labels.Set(n.Labels)
}

func selectedByAny(ads []*config.L2Advertisement, nodeLabels labels.Labels) bool {
	return slices.ContainsFunc(ads, func(ad *config.L2Advertisement) bool { return ad.SelectsNode(nodeLabels) })
}

// preference is the node's score: the sum over the applicable advertisements of the weights of the
// preferredNodeSelectors it matches, counting only advertisements that select it.
func preference(ads []*config.L2Advertisement, nodeLabels labels.Labels) int64 {
	var score int64
	for _, ad := range ads {
		score += ad.Preference(nodeLabels)
	}
	return score
}

// interfacesFor returns the interfaces a node announces on: all of them if an applicable advertisement that
// selects the node lists none, else the union of the lists of those advertisements (MetalLB's
// ipAdvertisementFor).
func interfacesFor(ads []*config.L2Advertisement, nodeLabels labels.Labels) Interfaces {
	names := map[string]bool{}
	for _, ad := range ads {
		if !ad.SelectsNode(nodeLabels) {
			continue
		}
		if len(ad.Interfaces) == 0 {
			return Interfaces{All: true}
		}
		for _, name := range ad.Interfaces {
			names[name] = true
		}
	}
	return Interfaces{Names: slices.Sorted(maps.Keys(names))}
}
