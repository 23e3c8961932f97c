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

package webhooks_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// generator makes random metallb.io objects, mostly invalid, from a small space of values so that objects
// collide: overlapping pools, aliases defined twice, conflicting local preferences, references between them.
// Values stay within the limits the schema sets and the parser does not know (lengths, name syntax), so that
// the API server and the parser judge the same thing.
type generator struct {
	r *rand.Rand
	// names are the names objects get; a small set, so updates and references meet existing objects.
	names []string
}

func newGenerator(seed, stream uint64) *generator {
	return &generator{
		r:     rand.New(rand.NewPCG(seed, stream)),
		names: []string{"a", "b", "c", "d", "e", "f", "g", "h"},
	}
}

// pick returns one of the values.
func pick[T any](g *generator, values ...T) T {
	return values[g.r.IntN(len(values))]
}

// some returns between min and max values made by f.
func some[T any](g *generator, minN, maxN int, f func() T) []T {
	n := minN + g.r.IntN(maxN-minN+1)
	out := make([]T, 0, n)
	for range n {
		out = append(out, f())
	}
	return out
}

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func (g *generator) name() string { return pick(g, g.names...) }

// object returns a random object of a random kind, named name, in ferrolb's namespace most of the time.
func (g *generator) object(name string) client.Object {
	var obj client.Object
	switch g.r.IntN(7) {
	case 0:
		obj = g.pool()
	case 1:
		obj = g.peer()
	case 2:
		obj = g.peerV1beta1()
	case 3:
		obj = g.bgpAdvertisement()
	case 4:
		obj = g.l2Advertisement()
	case 5:
		obj = g.community()
	default:
		obj = g.bfdProfile()
	}
	obj.SetName(name)
	obj.SetNamespace(ns)
	if g.chance(0.03) {
		obj.SetNamespace("other")
	}
	if g.chance(0.3) {
		obj.SetLabels(map[string]string{"team": pick(g, "a", "b")})
	}
	return obj
}

// respec gives obj, an existing object, a new random spec of its kind. enableGracefulRestart is kept, as the
// API server refuses changing it, which the parser cannot know.
func (g *generator) respec(obj client.Object) client.Object {
	obj = obj.DeepCopyObject().(client.Object)
	switch o := obj.(type) {
	case *v1beta1.IPAddressPool:
		o.Spec = g.pool().Spec
	case *v1beta2.BGPPeer:
		graceful := o.Spec.EnableGracefulRestart
		o.Spec = g.peer().Spec
		o.Spec.EnableGracefulRestart = graceful
	case *v1beta1.BGPAdvertisement:
		o.Spec = g.bgpAdvertisement().Spec
	case *v1beta1.L2Advertisement:
		o.Spec = g.l2Advertisement().Spec
	case *v1beta1.Community:
		o.Spec = g.community().Spec
	case *v1beta1.BFDProfile:
		o.Spec = g.bfdProfile().Spec
	}
	return obj
}

func (g *generator) address() string {
	octet := func() int { return g.r.IntN(4) }
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return fmt.Sprintf("10.%d.%d.0/%d", octet(), octet(), 22+g.r.IntN(9))
	case 3, 4:
		a, b := g.r.IntN(64), g.r.IntN(64)
		return fmt.Sprintf("10.%d.%d.%d%s10.%d.%d.%d", octet(), octet(), a, pick(g, "-", " - "), octet(), octet(), b)
	case 5:
		return fmt.Sprintf("fc00::%x/%d", g.r.IntN(4)*256, 118+g.r.IntN(9))
	case 6:
		return fmt.Sprintf("fc00::%x-fc00::%x", g.r.IntN(512), g.r.IntN(512))
	case 7:
		return fmt.Sprintf("::ffff:10.%d.%d.0/%d", octet(), octet(), 118+g.r.IntN(8))
	}
	return pick(g, "10.0.0.0/33", "300.1.1.1/24", "10.0.0.1-fc00::1", "garbage", "", "10.0.0.0", "fe80::1%eth0/64",
		"10.0.0.x-10.0.0.9", "10.0.0.1-", "-10.0.0.1", "10.0.0.1--10.0.0.2")
}

func (g *generator) selector() metav1.LabelSelector {
	switch g.r.IntN(5) {
	case 0:
		return metav1.LabelSelector{}
	case 1:
		return metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: pick(g, "team", "rack", "bad key"), Operator: pick[metav1.LabelSelectorOperator](g, "In", "NotIn", "Exists", "Bogus"),
			Values: some(g, 0, 2, func() string { return pick(g, "a", "b", "1") }),
		}}}
	}
	return metav1.LabelSelector{MatchLabels: map[string]string{pick(g, "team", "rack"): pick(g, "a", "b", "1", "2")}}
}

func (g *generator) selectors(maxN int) []metav1.LabelSelector {
	return some(g, 0, maxN, g.selector)
}

func (g *generator) pool() *v1beta1.IPAddressPool {
	p := &v1beta1.IPAddressPool{Spec: v1beta1.IPAddressPoolSpec{Addresses: some(g, 0, 3, g.address)}}
	if g.chance(0.1) {
		p.Spec.Addresses = []string{fmt.Sprintf("10.%d.%d.0/24", 10+g.r.IntN(200), g.r.IntN(250))}
	}
	if g.chance(0.3) {
		p.Spec.AllocateTo = &v1beta1.ServiceAllocation{
			Priority:         g.r.IntN(5) - 1,
			Namespaces:       some(g, 0, 2, func() string { return pick(g, "x", "y") }),
			ServiceSelectors: g.selectors(2),
		}
		if g.chance(0.3) {
			p.Spec.AllocateTo.NamespaceSelectors = g.selectors(2)
		}
	}
	return p
}

func (g *generator) duration() *metav1.Duration {
	if g.chance(0.5) {
		return nil
	}
	d := pick(g, 0, 500*time.Millisecond, time.Second, 2*time.Second, 3*time.Second, 3500*time.Millisecond,
		30*time.Second, 90*time.Second, 70000*time.Second, -time.Second, -500*time.Millisecond)
	return &metav1.Duration{Duration: d}
}

func (g *generator) peer() *v1beta2.BGPPeer {
	s := v1beta2.BGPPeerSpec{
		MyASN: pick[uint32](g, 0, 64512, 64512, 64513, 4294967295),
		ASN:   pick[uint32](g, 0, 64512, 64513, 64513, 65000),
		// No IPv4-mapped IPv6 address: CEL's isIP refuses it, the parser (like MetalLB's) accepts it.
		PeerAddress:   pick(g, "192.0.2.1", "192.0.2.2", "2001:db8::1", "", "bad", "192.0.2.300"),
		SrcAddress:    pick(g, "", "", "192.0.2.100", "nope"),
		Port:          pick[uint16](g, 0, 179, 179, 16384, 20000),
		HoldTime:      g.duration(),
		KeepaliveTime: g.duration(),
		RouterID:      pick(g, "", "", "10.0.0.1", "fc00::1", "0.0.0.0", "bad"),
		NodeSelectors: g.selectors(2),
		BFDProfile:    pick(g, "", "", "a", "b", "missing"),
		EBGPMultiHop:  g.chance(0.2),
	}
	if g.chance(0.2) {
		s.DynamicASN = pick[v1beta2.DynamicASNMode](g, "internal", "external")
	}
	if g.chance(0.1) {
		s.Interface = pick(g, "eth0", "eth0\n")
	}
	if g.chance(0.2) {
		s.Password = pick(g, "secret", "line\nbreak")
	}
	if g.chance(0.2) {
		s.PasswordSecret.Name = pick(g, "creds", "missing")
	}
	if g.chance(0.2) {
		s.ConnectTime = &metav1.Duration{Duration: pick(g, 0, time.Second, 1500*time.Millisecond, 10*time.Second, 70000*time.Second)}
	}
	if g.chance(0.1) {
		s.VRFName = pick(g, "red", "red\n")
	}
	s.LocalASN = pick[uint32](g, 0, 0, 0, 64600)
	s.DisableMP = g.chance(0.05)
	s.EnableGracefulRestart = g.chance(0.1)
	return &v1beta2.BGPPeer{Spec: s}
}

// peerV1beta1 returns a deprecated v1beta1 peer, which the API server converts to v1beta2 for the webhook.
// Its legacy node selectors always have values: v1beta1's schema requires them, and the parser cannot know.
func (g *generator) peerV1beta1() *v1beta1.BGPPeer {
	s := v1beta1.BGPPeerSpec{
		MyASN:        pick[uint32](g, 0, 64512, 64513),
		ASN:          pick[uint32](g, 0, 64512, 64513),
		Address:      pick(g, "192.0.2.1", "192.0.2.3", "", "bad"),
		Port:         pick[uint16](g, 0, 179, 16384),
		RouterID:     pick(g, "", "10.0.0.1", "fc00::1"),
		BFDProfile:   pick(g, "", "a", "missing"),
		EBGPMultiHop: g.chance(0.2),
	}
	if d := g.duration(); d != nil {
		s.HoldTime = *d
	}
	if d := g.duration(); d != nil {
		s.KeepaliveTime = *d
	}
	if g.chance(0.3) {
		s.NodeSelectors = []v1beta1.NodeSelector{{
			MatchLabels:      map[string]string{"rack": pick(g, "1", "2")},
			MatchExpressions: []v1beta1.MatchExpression{{Key: "team", Operator: pick(g, "In", "Bogus"), Values: []string{"a"}}},
		}}
	}
	return &v1beta1.BGPPeer{Spec: s}
}

func (g *generator) communityValue() string {
	return pick(g, "65000:1", "65000:2", "65535:65281", "65536:1", "1:70000", "large:1:2:3", "large:1:2:4294967296",
		"1:2:3:4", "1:2:3", "no-export", "missing", "a:b", "00001:1")
}

func (g *generator) bgpAdvertisement() *v1beta1.BGPAdvertisement {
	s := v1beta1.BGPAdvertisementSpec{
		LocalPref:      pick[uint32](g, 0, 0, 100, 200),
		Communities:    some(g, 0, 3, g.communityValue),
		IPAddressPools: some(g, 0, 2, g.name),
		Peers:          some(g, 0, 2, g.name),
		NodeSelectors:  g.selectors(2),
	}
	if g.chance(0.4) {
		s.AggregationLength = new(pick[int32](g, 0, 8, 16, 24, 26, 28, 30, 32, 33))
	}
	if g.chance(0.2) {
		s.AggregationLengthV6 = new(pick[int32](g, 48, 64, 120, 124, 128, 129))
	}
	if g.chance(0.2) {
		s.ServiceSelectors = g.selectors(2)
	}
	if g.chance(0.2) {
		s.IPAddressPoolSelectors = g.selectors(1)
	}
	return &v1beta1.BGPAdvertisement{Spec: s}
}

func (g *generator) l2Advertisement() *v1beta1.L2Advertisement {
	s := v1beta1.L2AdvertisementSpec{
		IPAddressPools:   some(g, 0, 2, g.name),
		NodeSelectors:    g.selectors(2),
		ServiceSelectors: g.selectors(1),
		Interfaces:       some(g, 0, 2, func() string { return pick(g, "eth0", "eth1") }),
	}
	if g.chance(0.3) {
		s.PreferredNodeSelectors = some(g, 1, 2, func() v1beta1.PreferredNodeSelector {
			return v1beta1.PreferredNodeSelector{Weight: pick[int32](g, 0, 1, 50, 100, 101), Preference: g.selector()}
		})
	}
	return &v1beta1.L2Advertisement{Spec: s}
}

func (g *generator) community() *v1beta1.Community {
	return &v1beta1.Community{Spec: v1beta1.CommunitySpec{Communities: some(g, 0, 3, func() v1beta1.CommunityAlias {
		return v1beta1.CommunityAlias{Name: pick(g, "no-export", "x", "y", "z"), Value: g.communityValue()}
	})}}
}

func (g *generator) bfdProfile() *v1beta1.BFDProfile {
	interval := func() *uint32 {
		if g.chance(0.6) {
			return nil
		}
		return new(pick[uint32](g, 9, 10, 300, 60000, 60001))
	}
	s := v1beta1.BFDProfileSpec{
		ReceiveInterval:  interval(),
		TransmitInterval: interval(),
		EchoInterval:     interval(),
	}
	if g.chance(0.3) {
		s.DetectMultiplier = new(pick[uint32](g, 1, 2, 3, 255, 256))
	}
	if g.chance(0.3) {
		s.MinimumTTL = new(pick[uint32](g, 0, 1, 254, 255))
	}
	if g.chance(0.3) {
		s.EchoMode = new(g.chance(0.5))
	}
	return &v1beta1.BFDProfile{Spec: s}
}
