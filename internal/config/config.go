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
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// Resources is what a configuration is made of: the metallb.io objects of ferrolb's namespace, the Secrets
// peers take their passwords from, and the cluster's Nodes and Namespaces that selectors are resolved
// against. A caller that needs part of the configuration fills only that part: the controller, for
// instance, needs pools, communities and namespaces.
type Resources struct {
	Pools             []v1beta1.IPAddressPool
	Peers             []v1beta2.BGPPeer
	BFDProfiles       []v1beta1.BFDProfile
	BGPAdvertisements []v1beta1.BGPAdvertisement
	L2Advertisements  []v1beta1.L2Advertisement
	Communities       []v1beta1.Community
	// PasswordSecrets are the Secrets of ferrolb's namespace, by name, that peers' passwordSecret refer to.
	PasswordSecrets map[string]corev1.Secret
	// Nodes are used to tell whether two BGPAdvertisements announce from a common node. Without Nodes, any
	// two are assumed to.
	Nodes []corev1.Node
	// Namespaces are matched against the pools' namespaceSelectors.
	Namespaces []corev1.Namespace
}

// Config is a validated configuration. Every map is keyed by object name, and every list is in an order
// that depends on the objects only, so two Configs parsed from the same objects are equal.
type Config struct {
	Pools             map[string]*Pool
	Peers             map[string]*Peer
	BFDProfiles       map[string]*BFDProfile
	L2Advertisements  map[string]*L2Advertisement
	BGPAdvertisements map[string]*BGPAdvertisement
	// Communities are the community aliases of all Community objects, by alias name.
	Communities map[string]Community
}

// Parse validates the resources and returns the configuration they make. It takes the metallb.io objects in
// name order, so the result and the order of the problems do not depend on the order of the inputs.
//
// On any problem Parse returns a nil Config and an ErrorList holding every problem it found, per object.
func Parse(res Resources, opts ...Option) (*Config, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := newParser(res, o)
	p.parseCommunityAliases()
	p.parseBFDProfiles()
	p.parsePools()
	p.parsePeers()
	p.parseL2Advertisements()
	p.parseBGPAdvertisements()
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// parser holds the state of one Parse call.
type parser struct {
	res  Resources
	objs sortedObjects
	opts options
	errs collector
	cfg  *Config
	// names holds the object names claimed so far, per kind.
	names map[string]map[string]bool
	// pools holds what pools are parsed from and advertisements are checked against.
	pools map[string]*poolSource
}

// sortedObjects are the metallb.io objects of the Resources, sorted by name. Nodes and Namespaces need no
// order: Parse only asks which of them a selector matches.
type sortedObjects struct {
	pools             []*v1beta1.IPAddressPool
	peers             []*v1beta2.BGPPeer
	bfdProfiles       []*v1beta1.BFDProfile
	bgpAdvertisements []*v1beta1.BGPAdvertisement
	l2Advertisements  []*v1beta1.L2Advertisement
	communities       []*v1beta1.Community
}

func newParser(res Resources, o options) *parser {
	return &parser{
		res: res,
		objs: sortedObjects{
			pools:             sortedByName(res.Pools),
			peers:             sortedByName(res.Peers),
			bfdProfiles:       sortedByName(res.BFDProfiles),
			bgpAdvertisements: sortedByName(res.BGPAdvertisements),
			l2Advertisements:  sortedByName(res.L2Advertisements),
			communities:       sortedByName(res.Communities),
		},
		opts:  o,
		errs:  collector{skipTransient: o.skipTransient},
		names: map[string]map[string]bool{},
		pools: map[string]*poolSource{},
		cfg: &Config{
			Pools:             map[string]*Pool{},
			Peers:             map[string]*Peer{},
			BFDProfiles:       map[string]*BFDProfile{},
			L2Advertisements:  map[string]*L2Advertisement{},
			BGPAdvertisements: map[string]*BGPAdvertisement{},
			Communities:       map[string]Community{},
		},
	}
}

// sortedByName returns pointers to the objects, sorted by name; Parse reads the objects and never changes
// them. The sort is stable, so objects of the same name, which only inputs that did not go through the API
// server can hold, keep their order.
func sortedByName[T any, PT interface {
	*T
	GetName() string
}](objs []T) []PT {
	sorted := make([]PT, len(objs))
	for i := range objs {
		sorted[i] = &objs[i]
	}
	slices.SortStableFunc(sorted, func(a, b PT) int { return strings.Compare(a.GetName(), b.GetName()) })
	return sorted
}

// claimName reports whether an object of the kind may be parsed under that name: it has one, and no other
// object of the kind had it before. The API server guarantees both; inputs that did not go through it may not.
func (p *parser) claimName(kind, name string) bool {
	path := field.NewPath("metadata", "name")
	if name == "" {
		p.errs.add(kind, name, field.Required(path, missingNameDetail(kind)))
		return false
	}
	if p.names[kind] == nil {
		p.names[kind] = map[string]bool{}
	}
	if p.names[kind][name] {
		p.errs.add(kind, name, duplicate(path, name, duplicateNameDetail(kind, name)))
		return false
	}
	p.names[kind][name] = true
	return true
}

// missingNameDetail is MetalLB's message for an object without a name, where it has one.
func missingNameDetail(kind string) string {
	switch kind {
	case kindPool:
		return "missing pool name"
	case kindBFDProfile:
		return "missing bfd profile name"
	}
	return fmt.Sprintf("missing %s name", kind)
}

// duplicateNameDetail is MetalLB's message for two objects of a kind with the same name, where it has one.
func duplicateNameDetail(kind, name string) string {
	switch kind {
	case kindPool:
		return fmt.Sprintf("duplicate definition of pool %q", name)
	case kindBFDProfile:
		return fmt.Sprintf("found duplicate bfd profile name %s", name)
	case kindPeer:
		return fmt.Sprintf("peer %s already exists", name)
	}
	return fmt.Sprintf("duplicate definition of %s %q", kind, name)
}
