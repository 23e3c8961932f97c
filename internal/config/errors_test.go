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
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func TestEmptyResources(t *testing.T) {
	want := &Config{
		Pools:             map[string]*Pool{},
		Peers:             map[string]*Peer{},
		BFDProfiles:       map[string]*BFDProfile{},
		L2Advertisements:  map[string]*L2Advertisement{},
		BGPAdvertisements: map[string]*BGPAdvertisement{},
		Communities:       map[string]Community{},
	}
	if diff := cmp.Diff(want, mustParse(t, Resources{}), cmpOptions); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

// transientOnly references a BFD profile, a Secret and a Community alias that do not exist.
func transientOnly() Resources {
	return Resources{
		Pools: []v1beta1.IPAddressPool{ipPool("red", "10.0.0.0/24")},
		Peers: []v1beta2.BGPPeer{bgpPeer("tor", func(s *v1beta2.BGPPeerSpec) {
			s.BFDProfile = "later"
			s.PasswordSecret = corev1.SecretReference{Name: "later", Namespace: namespace}
		})},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdvertisement("adv", v1beta1.BGPAdvertisementSpec{
			Communities: []string{"later", "65000:1"},
		})},
	}
}

func TestErrorClassification(t *testing.T) {
	permanent := transientOnly()
	permanent.Pools = append(permanent.Pools, ipPool("blue", "10.0.0.0/25"))
	tests := []struct {
		name          string
		res           Resources
		wantTransient bool
		wantInvalid   bool
	}{
		{name: "only references to missing objects", res: transientOnly(), wantTransient: true},
		{name: "and a permanent problem", res: permanent, wantInvalid: true},
		{name: "only a permanent problem", res: Resources{Pools: []v1beta1.IPAddressPool{ipPool("red")}}, wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.res)
			if got := errors.Is(err, ErrTransient); got != tt.wantTransient {
				t.Errorf("errors.Is(err, ErrTransient) = %v, want %v", got, tt.wantTransient)
			}
			if got := errors.Is(err, ErrInvalid); got != tt.wantInvalid {
				t.Errorf("errors.Is(err, ErrInvalid) = %v, want %v", got, tt.wantInvalid)
			}
		})
	}
}

func TestObjectErrors(t *testing.T) {
	_, err := Parse(Resources{
		Pools: []v1beta1.IPAddressPool{ipPool("red", "10.0.0.0/24", "bad"), ipPool("blue", "10.0.1.0/24")},
		Peers: []v1beta2.BGPPeer{bgpPeer("tor", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "later" })},
	})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	// What a webhook needs to build its answer: the object, and field errors it can return as they are.
	type object struct {
		Kind, Name string
		Errs       field.ErrorList
		Transient  bool
	}
	var got []object
	for _, oe := range list {
		got = append(got, object{Kind: oe.Kind, Name: oe.Name, Errs: oe.Errs, Transient: errors.Is(oe, ErrTransient)})
	}
	want := []object{
		{Kind: "IPAddressPool", Name: "red", Errs: field.ErrorList{
			field.Invalid(field.NewPath("spec", "addresses").Index(1), "bad", `invalid CIDR "bad" in pool "red": invalid CIDR "bad"`),
		}},
		{Kind: "BGPPeer", Name: "tor", Transient: true, Errs: field.ErrorList{
			notFound(field.NewPath("spec", "bfdProfile"), "later", "peer tor referencing non existing bfd profile later"),
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("object errors (-want +got):\n%s", diff)
	}
}

func TestWithoutTransientReferences(t *testing.T) {
	cfg := mustParse(t, transientOnly(), WithoutTransientReferences())
	if got := cfg.BGPAdvertisements["adv"].Communities; !cmp.Equal(got, []StandardCommunity{65000<<16 | 1}) {
		t.Errorf("communities = %v, want the unknown alias left out", got)
	}
	if got := cfg.Peers["tor"]; got.BFDProfile != "later" || got.Password != "" {
		t.Errorf("peer BFDProfile %q, Password %q: want the profile kept unresolved and no password", got.BFDProfile, got.Password)
	}

	// Objects that are present are still validated.
	res := transientOnly()
	res.PasswordSecrets = map[string]corev1.Secret{"later": {ObjectMeta: objectMeta("later"), Type: corev1.SecretTypeOpaque}}
	got := parseErrors(t, res, WithoutTransientReferences())
	want := []string{`BGPPeer "tor": spec.passwordSecret: Invalid value: "later": secret type mismatch on "ferrolb-system"/"later", type "kubernetes.io/basic-auth" is expected`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// messy has problems in objects of every kind, and valid objects between them.
func messy() Resources {
	return Resources{
		Pools: []v1beta1.IPAddressPool{
			ipPool("a", "10.0.0.0/24"), ipPool("b", "10.0.0.128/25"), ipPool("c", "fc00::/64"), ipPool("d"),
			ipPool("e", "10.1.0.0/24"), ipPool("f", "10.2.0.0/24"),
		},
		Peers: []v1beta2.BGPPeer{
			bgpPeer("p1"), bgpPeer("p2", func(s *v1beta2.BGPPeerSpec) { s.MyASN = 0 }),
			bgpPeer("p3", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "missing" }), bgpPeer("p4"),
		},
		BFDProfiles: []v1beta1.BFDProfile{{ObjectMeta: objectMeta("x"), Spec: v1beta1.BFDProfileSpec{MinimumTTL: new(uint32(0))}}},
		Communities: []v1beta1.Community{community("c1", v1beta1.CommunityAlias{Name: "n", Value: "1:1"}), community("c2", v1beta1.CommunityAlias{Name: "n", Value: "1:2"})},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			bgpAdvertisement("b1", v1beta1.BGPAdvertisementSpec{LocalPref: 1, IPAddressPools: []string{"e"}}),
			bgpAdvertisement("b2", v1beta1.BGPAdvertisementSpec{LocalPref: 2, IPAddressPools: []string{"e"}}),
			bgpAdvertisement("b3", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"f"}, Communities: []string{"n", "unknown"}}),
		},
		L2Advertisements: []v1beta1.L2Advertisement{
			l2Advertisement("l1", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"a", "a"}}),
			l2Advertisement("l2", v1beta1.L2AdvertisementSpec{}),
		},
		Nodes:      []corev1.Node{node("n1", nil), node("n2", nil)},
		Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "ns1"}}},
	}
}

func TestParseIsDeterministic(t *testing.T) {
	want := []string{
		`Community "c2": spec.communities[0].name: Duplicate value: "n": duplicate definition of community "n"`,
		`BFDProfile "x": spec.minimumTtl: Invalid value: 0: invalid minimum ttl value: invalid value 0, must be in 1-254 range`,
		`IPAddressPool "b": spec.addresses[0]: Invalid value: "10.0.0.128/25": CIDR "10.0.0.128/25" in pool "b" overlaps with already defined CIDR "10.0.0.0/24"`,
		`IPAddressPool "d": spec.addresses: Required value: pool has no prefixes defined`,
		`BGPPeer "p2": spec.myASN: Required value: missing local ASN`,
		`BGPPeer "p3": spec.bfdProfile: Not found: "missing": peer p3 referencing non existing bfd profile missing`,
		`L2Advertisement "l1": spec.ipAddressPools[1]: Duplicate value: "a": duplicate definition of ipAddressPools "a"`,
		`BGPAdvertisement "b2": spec.localPref: Invalid value: 2: invalid local preference 2: local preferernce 1 was already set for the same type of BGP update. Check existing BGP advertisements with common pools and aggregation lengths (BGPAdvertisement "b1", pool "e")`,
		`BGPAdvertisement "b3": spec.communities[1]: Not found: "unknown": invalid community "unknown" in BGP advertisement: invalid community format: unknown`,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		res := messy()
		shuffle(rng, res.Pools)
		shuffle(rng, res.Peers)
		shuffle(rng, res.Communities)
		shuffle(rng, res.BGPAdvertisements)
		shuffle(rng, res.L2Advertisements)
		shuffle(rng, res.Nodes)
		if diff := cmp.Diff(want, parseErrors(t, res)); diff != "" {
			t.Fatalf("shuffle %d: errors (-want +got):\n%s", i, diff)
		}
	}
}

func TestConfigIsDeterministic(t *testing.T) {
	valid := func() Resources {
		res := Resources{Pools: colouredPools(), Peers: []v1beta2.BGPPeer{bgpPeer("p1"), bgpPeer("p2")}}
		for _, name := range []string{"a", "b", "c", "d"} {
			res.BGPAdvertisements = append(res.BGPAdvertisements, bgpAdvertisement(name, v1beta1.BGPAdvertisementSpec{}))
			res.L2Advertisements = append(res.L2Advertisements, l2Advertisement(name, v1beta1.L2AdvertisementSpec{}))
		}
		return res
	}
	want := mustParse(t, valid())
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		res := valid()
		shuffle(rng, res.Pools)
		shuffle(rng, res.BGPAdvertisements)
		shuffle(rng, res.L2Advertisements)
		if diff := cmp.Diff(want, mustParse(t, res), cmpOptions); diff != "" {
			t.Fatalf("shuffle %d: config (-want +got):\n%s", i, diff)
		}
	}
}

func shuffle[T any](rng *rand.Rand, s []T) {
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

func TestParseLeavesInputsAlone(t *testing.T) {
	res := messy()
	res.Pools[0].Spec.AllocateTo = &v1beta1.ServiceAllocation{ServiceSelectors: []metav1.LabelSelector{{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpIn, Values: []string{"z", "a"}}},
	}}}
	before := messy()
	before.Pools[0].Spec.AllocateTo = res.Pools[0].Spec.AllocateTo.DeepCopy()
	_, _ = Parse(res)
	if diff := cmp.Diff(before, res); diff != "" {
		t.Errorf("Parse changed its input (-before +after):\n%s", diff)
	}
}

func TestObjectNames(t *testing.T) {
	twice := func(name string) []metav1.ObjectMeta {
		return []metav1.ObjectMeta{objectMeta(name), objectMeta(name), objectMeta("")}
	}
	var res Resources
	for _, m := range twice("p") {
		res.Pools = append(res.Pools, v1beta1.IPAddressPool{ObjectMeta: m, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"10.0.0.0/24"}}})
		res.Peers = append(res.Peers, v1beta2.BGPPeer{ObjectMeta: m, Spec: bgpPeer("").Spec})
		res.BFDProfiles = append(res.BFDProfiles, v1beta1.BFDProfile{ObjectMeta: m})
		res.Communities = append(res.Communities, v1beta1.Community{ObjectMeta: m})
		res.L2Advertisements = append(res.L2Advertisements, v1beta1.L2Advertisement{ObjectMeta: m})
		res.BGPAdvertisements = append(res.BGPAdvertisements, v1beta1.BGPAdvertisement{ObjectMeta: m})
	}
	want := []string{
		`Community "": metadata.name: Required value: missing Community name`,
		`Community "p": metadata.name: Duplicate value: "p": duplicate definition of Community "p"`,
		`BFDProfile "": metadata.name: Required value: missing bfd profile name`,
		`BFDProfile "p": metadata.name: Duplicate value: "p": found duplicate bfd profile name p`,
		`IPAddressPool "": metadata.name: Required value: missing pool name`,
		`IPAddressPool "p": metadata.name: Duplicate value: "p": duplicate definition of pool "p"`,
		`BGPPeer "": metadata.name: Required value: missing BGPPeer name`,
		`BGPPeer "p": metadata.name: Duplicate value: "p": peer p already exists`,
		`L2Advertisement "": metadata.name: Required value: missing L2Advertisement name`,
		`L2Advertisement "p": metadata.name: Duplicate value: "p": duplicate definition of L2Advertisement "p"`,
		`BGPAdvertisement "": metadata.name: Required value: missing BGPAdvertisement name`,
		`BGPAdvertisement "p": metadata.name: Duplicate value: "p": duplicate definition of BGPAdvertisement "p"`,
	}
	if diff := cmp.Diff(want, parseErrors(t, res)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestErrorIsOnlyItsSentinels(t *testing.T) {
	_, err := Parse(Resources{Pools: []v1beta1.IPAddressPool{ipPool("empty")}})
	if errors.Is(err, errors.New("invalid configuration")) {
		t.Errorf("errors.Is matched an error that is not a sentinel of the package")
	}
}
