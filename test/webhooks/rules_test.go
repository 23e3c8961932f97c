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
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

var _ = AfterEach(func(ctx context.Context) { wipe(ctx) })

// rule is one validation rule: with the existing objects, the refused object is refused as wanted and the
// accepted one, its closest valid variant, is admitted.
type rule struct {
	existing []client.Object
	refused  client.Object
	accepted client.Object
	want     refusal
}

// Every rule the webhooks enforce, and the per-object rules the API server enforces first (CEL, schema), each
// with one refused and one accepted object. References to objects that do not exist are accepted throughout:
// the accepted objects of many entries name pools, peers, profiles or aliases nobody created.
var _ = DescribeTable("Validation rules",
	func(ctx context.Context, r rule) {
		for _, obj := range r.existing {
			Expect(k8s.Create(ctx, obj)).To(Succeed())
		}
		expectRefused(k8s.Create(ctx, r.refused), r.want)
		Expect(k8s.Create(ctx, r.accepted)).To(Succeed())
	},

	// IPAddressPool: address syntax.
	Entry("pool: invalid CIDR", rule{
		refused: pool("p", "10.0.0.0/33"), accepted: pool("p", "10.0.0.0/24"),
		want: refusal{field: "spec.addresses[0]", message: `invalid CIDR "10.0.0.0/33" in pool "p"`},
	}),
	Entry("pool: range whose start is after its end", rule{
		refused: pool("p", "10.0.0.10-10.0.0.1"), accepted: pool("p", "10.0.0.1 - 10.0.0.10"),
		want: refusal{field: "spec.addresses[0]", message: `start IP "10.0.0.10" is after the end IP "10.0.0.1"`},
	}),
	Entry("pool: range with an invalid start", rule{
		refused: pool("p", "10.0.0.x-10.0.0.5"), accepted: pool("p", "10.0.0.1-10.0.0.5"),
		want: refusal{field: "spec.addresses[0]", message: `invalid start IP "10.0.0.x"`},
	}),
	Entry("pool: range across address families", rule{
		refused: pool("p", "10.0.0.1-fc00::1"), accepted: pool("p", "fc00::1-fc00::9"),
		want: refusal{field: "spec.addresses[0]", message: "are not of the same family"},
	}),
	Entry("pool: no addresses (CEL)", rule{
		refused: pool("p", []string{}...), accepted: pool("p", "10.0.0.0/24"),
		want: refusal{field: "spec.addresses", message: "should have at least 1 items"},
	}),

	// IPAddressPool: overlaps, within a pool and across pools, in either name order.
	Entry("pool: overlap within the pool", rule{
		refused: pool("p", "10.1.0.0/24", "10.1.0.128/25"), accepted: pool("p", "10.1.0.0/25", "10.1.0.128/25"),
		want: refusal{field: "spec.addresses[1]", message: `CIDR "10.1.0.128/25" in pool "p" overlaps with already defined CIDR "10.1.0.0/24"`},
	}),
	Entry("pool: overlap with an existing pool of a smaller name", rule{
		existing: []client.Object{pool("a", "10.2.0.0/24")},
		refused:  pool("b", "10.2.0.0/26"), accepted: pool("b", "10.2.1.0/24"),
		want: refusal{field: "spec.addresses[0]", message: `CIDR "10.2.0.0/26" in pool "b" overlaps with already defined CIDR "10.2.0.0/24"`},
	}),
	Entry("pool: overlap with an existing pool of a larger name", rule{
		existing: []client.Object{pool("z", "10.2.0.0/24")},
		refused:  pool("b", "10.2.0.0/16"), accepted: pool("b", "10.3.0.0/16"),
		want: refusal{field: "spec.addresses[0]", message: `makes IPAddressPool "z" invalid: CIDR "10.2.0.0/24" in pool "z" overlaps with already defined CIDR "10.2.0.0/16"`},
	}),
	Entry("pool: overlap through a range", rule{
		existing: []client.Object{pool("a", "10.2.0.0/24")},
		refused:  pool("b", "10.1.255.250-10.2.0.3"), accepted: pool("b", "10.1.255.250-10.1.255.255"),
		want: refusal{field: "spec.addresses[0]", message: `overlaps with already defined CIDR "10.2.0.0/24"`},
	}),
	Entry("pool: overlap through an IPv4-mapped IPv6 prefix", rule{
		existing: []client.Object{pool("a", "10.3.0.0/24")},
		refused:  pool("b", "::ffff:10.3.0.0/120"), accepted: pool("b", "::ffff:10.4.0.0/120"),
		want: refusal{field: "spec.addresses[0]", message: `overlaps with already defined CIDR "10.3.0.0/24"`},
	}),

	// IPAddressPool: service allocation.
	Entry("pool: namespace given twice", rule{
		refused:  poolWith("p", v1beta1.ServiceAllocation{Namespaces: []string{"a", "a"}}, "10.0.0.0/24"),
		accepted: poolWith("p", v1beta1.ServiceAllocation{Namespaces: []string{"a", "b"}}, "10.0.0.0/24"),
		want:     refusal{field: "spec.serviceAllocation.namespaces[1]", message: "duplicate definition in namespaces field"},
	}),
	Entry("pool: negative priority", rule{
		refused:  poolWith("p", v1beta1.ServiceAllocation{Priority: -1}, "10.0.0.0/24"),
		accepted: poolWith("p", v1beta1.ServiceAllocation{Priority: 1}, "10.0.0.0/24"),
		want:     refusal{field: "spec.serviceAllocation.priority", message: "must not be negative"},
	}),
	Entry("pool: service selector given twice", rule{
		refused:  poolWith("p", v1beta1.ServiceAllocation{ServiceSelectors: []metav1.LabelSelector{selector("a", "1"), selector("a", "1")}}, "10.0.0.0/24"),
		accepted: poolWith("p", v1beta1.ServiceAllocation{ServiceSelectors: []metav1.LabelSelector{selector("a", "1"), selector("a", "2")}}, "10.0.0.0/24"),
		want:     refusal{field: "spec.serviceAllocation.serviceSelectors[1]", message: `duplicate definition of serviceSelectors "a=1"`},
	}),
	Entry("pool: invalid namespace selector", rule{
		refused: poolWith("p", v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Bogus"}}}}}, "10.0.0.0/24"),
		accepted: poolWith("p", v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpExists}}}}},
			"10.0.0.0/24"),
		want: refusal{field: "spec.serviceAllocation.namespaceSelectors[0]", message: `"Bogus" is not a valid label selector operator`},
	}),
	Entry("pool: its prefixes more specific than an advertisement's aggregation", rule{
		existing: []client.Object{bgpAdv("adv", v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(24))})},
		refused:  pool("p", "10.4.0.0/28"), accepted: pool("p", "10.4.0.0/24"),
		want: refusal{field: "spec.aggregationLength", message: `makes BGPAdvertisement "adv" invalid: invalid aggregation length 24: prefix 28 in this pool is more specific than the aggregation length`},
	}),

	// L2Advertisement.
	Entry("L2 advertisement: pool named twice", rule{
		refused:  l2Adv("l2", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"a", "a"}}),
		accepted: l2Adv("l2", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"a", "b"}}),
		want:     refusal{field: "spec.ipAddressPools[1]", message: `duplicate definition of ipAddressPools "a"`},
	}),
	Entry("L2 advertisement: node selector given twice", rule{
		refused:  l2Adv("l2", v1beta1.L2AdvertisementSpec{NodeSelectors: []metav1.LabelSelector{selector("rack", "1"), selector("rack", "1")}}),
		accepted: l2Adv("l2", v1beta1.L2AdvertisementSpec{NodeSelectors: []metav1.LabelSelector{selector("rack", "1"), selector("rack", "2")}}),
		want:     refusal{field: "spec.nodeSelectors[1]", message: `duplicate definition of nodeSelectors "rack=1"`},
	}),
	Entry("L2 advertisement: match expression value given twice", rule{
		refused: l2Adv("l2", v1beta1.L2AdvertisementSpec{IPAddressPoolSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "a"}}}}}}),
		accepted: l2Adv("l2", v1beta1.L2AdvertisementSpec{IPAddressPoolSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}}}}),
		want: refusal{field: "spec.ipAddressPoolSelectors[0].matchExpressions[0].values[1]", message: `duplicate definition of match expression value in label selector "a"`},
	}),
	Entry("L2 advertisement: invalid label key in a node preference", rule{
		refused:  l2Adv("l2", v1beta1.L2AdvertisementSpec{PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{{Weight: 10, Preference: selector("bad key", "1")}}}),
		accepted: l2Adv("l2", v1beta1.L2AdvertisementSpec{PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{{Weight: 10, Preference: selector("rack", "1")}}}),
		want:     refusal{field: "spec.preferredNodeSelectors[0].preference", message: `name part must consist of alphanumeric characters`},
	}),

	// BGPAdvertisement: aggregation.
	Entry("BGP advertisement: aggregation shorter than a pool's prefix", rule{
		existing: []client.Object{pool("p", "10.5.0.0/24")},
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(16))}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(24))}),
		want:     refusal{field: "spec.aggregationLength", message: `invalid aggregation length 16: prefix 24 in this pool is more specific than the aggregation length for addresses 10.5.0.0/24`},
	}),
	Entry("BGP advertisement: IPv6 aggregation shorter than a pool's prefix", rule{
		existing: []client.Object{pool("p", "fc00:5::/64")},
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"p"}, AggregationLengthV6: new(int32(48))}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"p"}, AggregationLengthV6: new(int32(64))}),
		want:     refusal{field: "spec.aggregationLengthV6", message: `invalid aggregation length 48: prefix 64 in this pool is more specific`},
	}),
	Entry("BGP advertisement: serviceSelectors with an aggregation (CEL)", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{ServiceSelectors: []metav1.LabelSelector{selector("a", "b")}, AggregationLength: new(int32(24))}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{ServiceSelectors: []metav1.LabelSelector{selector("a", "b")}}),
		want:     refusal{field: "spec", message: "serviceSelectors and aggregationLength are mutually exclusive"},
	}),
	Entry("BGP advertisement: aggregation out of range (schema)", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(33))}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(32))}),
		want:     refusal{field: "spec.aggregationLength", message: "should be less than or equal to 32"},
	}),

	// BGPAdvertisement: communities.
	Entry("BGP advertisement: community number out of range", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"65536:1"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"65535:1", "not-yet-defined-alias"}}),
		want:     refusal{field: "spec.communities[0]", message: `invalid community "65536:1" in BGP advertisement: invalid community value: invalid section "65536"`},
	}),
	Entry("BGP advertisement: large community number out of range", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"large:1:2:4294967296"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"large:1:2:4294967295"}}),
		want:     refusal{field: "spec.communities[0]", message: `invalid section "4294967296"`},
	}),
	Entry("BGP advertisement: four-part community without the large marker", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"1:2:3:4"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"large:2:3:4"}}),
		want:     refusal{field: "spec.communities[0]", message: "invalid marker for large community"},
	}),
	Entry("BGP advertisement: community given twice", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"1:1", "1:1"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"1:1", "1:2"}}),
		want:     refusal{field: "spec.communities[1]", message: `duplicate definition of community "1:1"`},
	}),

	// BGPAdvertisement: peers, pools, local preference, BFD echo.
	Entry("BGP advertisement: peer named twice", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Peers: []string{"p", "p"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{Peers: []string{"p", "q"}}),
		want:     refusal{field: "spec.peers[1]", message: `duplicate definition of peers "p"`},
	}),
	Entry("BGP advertisement: pool named twice", rule{
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"p", "p"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"p"}}),
		want:     refusal{field: "spec.ipAddressPools[1]", message: `duplicate definition of ipAddressPools "p"`},
	}),
	Entry("BGP advertisement: local preference conflict", rule{
		existing: []client.Object{pool("p", "10.6.0.0/24"), bgpAdv("one", v1beta1.BGPAdvertisementSpec{LocalPref: 100})},
		refused:  bgpAdv("two", v1beta1.BGPAdvertisementSpec{LocalPref: 200}),
		accepted: bgpAdv("two", v1beta1.BGPAdvertisementSpec{LocalPref: 100}),
		want:     refusal{field: "spec.localPref", message: "invalid local preference 200: local preferernce 100 was already set"},
	}),
	Entry("BGP advertisement: local preference conflict only on common nodes", rule{
		existing: []client.Object{pool("p", "10.6.0.0/24"), bgpAdv("one", v1beta1.BGPAdvertisementSpec{LocalPref: 100, NodeSelectors: []metav1.LabelSelector{selector("rack", "1")}})},
		refused:  bgpAdv("two", v1beta1.BGPAdvertisementSpec{LocalPref: 200}),
		accepted: bgpAdv("two", v1beta1.BGPAdvertisementSpec{LocalPref: 200, NodeSelectors: []metav1.LabelSelector{selector("rack", "2")}}),
		want:     refusal{field: "spec.localPref", message: "invalid local preference 200"},
	}),
	Entry("BGP advertisement: IPv6 pool to a peer with BFD echo", rule{
		existing: []client.Object{
			bfd("echo", v1beta1.BFDProfileSpec{EchoMode: new(true)}), pool("v6", "fc00:7::/64"),
			peer("p", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "echo" }),
		},
		refused:  bgpAdv("adv", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v6"}, Peers: []string{"p"}}),
		accepted: bgpAdv("adv", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v6"}, Peers: []string{"not-yet-defined"}}),
		want:     refusal{field: "spec.peers", message: "pool v6 has bgpadvertisement adv which references peer p which has bfd echo enabled, which is not possible"},
	}),

	// BGPPeer v1beta2: rules the API server enforces (CEL).
	Entry("peer: no local ASN (CEL)", rule{
		refused: peer("p", func(s *v1beta2.BGPPeerSpec) { s.MyASN = 0 }), accepted: peer("p"),
		want: refusal{field: "spec.myASN", message: "missing local ASN"},
	}),
	Entry("peer: neither peer ASN nor dynamic ASN (CEL)", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.ASN = 0 }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.ASN = 0; s.DynamicASN = v1beta2.ExternalASNMode }),
		want:     refusal{field: "spec.peerASN", message: "missing peer ASN and dynamicASN"},
	}),
	Entry("peer: invalid address (CEL)", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "192.0.2.300" }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "2001:db8::1" }),
		want:     refusal{field: "spec.peerAddress", message: "invalid BGPPeer address"},
	}),
	Entry("peer: eBGP multi-hop on an iBGP session (CEL)", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.ASN = s.MyASN; s.EBGPMultiHop = true }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.EBGPMultiHop = true }),
		want:     refusal{field: "spec.ebgpMultiHop", message: "invalid ebgp-multihop parameter set for an ibgp peer"},
	}),
	Entry("peer: hold time under 3s (CEL)", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime = duration("2s") }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime = duration("3s") }),
		want:     refusal{field: "spec.holdTime", message: "invalid hold time, must be 0 or >=3s"},
	}),
	Entry("peer: keepalive above hold time (CEL)", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime = duration("9s"); s.KeepaliveTime = duration("10s") }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime = duration("9s"); s.KeepaliveTime = duration("3s") }),
		want:     refusal{field: "spec.keepaliveTime", message: "invalid keepaliveTime, must be lower than holdTime"},
	}),

	// BGPPeer v1beta2: rules of the webhook.
	Entry("peer: keepalive alone, deriving a hold time under 3s", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.KeepaliveTime = duration("500ms") }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.KeepaliveTime = duration("10s") }),
		want:     refusal{field: "spec.keepaliveTime", message: `invalid hold time "1.5s": must be 0 or >=3s`},
	}),
	Entry("peer: hold time beyond what BGP carries", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime = duration("70000s") }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime = duration("65535s") }),
		want:     refusal{field: "spec.holdTime", message: "must be at most 65535s"},
	}),
	Entry("peer: IPv6 router ID", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.RouterID = "fc00::1" }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.RouterID = "10.0.0.1" }),
		want:     refusal{field: "spec.routerID", message: `invalid router ID "fc00::1": must be a non-zero IPv4 address`},
	}),
	Entry("peer: line break in the interface name", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = ""; s.Interface = "eth0\nrouter bgp 1" }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = ""; s.Interface = "eth0" }),
		want:     refusal{field: "spec.interface", message: `interface for peer "metallb-system"/"p" contains invalid characters`},
	}),
	Entry("peer: line break in the password", rule{
		refused:  peer("p", func(s *v1beta2.BGPPeerSpec) { s.Password = "secret\n" }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.Password = "secret" }),
		want:     refusal{field: "spec.password", message: "contains invalid characters"},
	}),
	Entry("peer: node selector given twice", rule{
		refused: peer("p", func(s *v1beta2.BGPPeerSpec) {
			s.NodeSelectors = []metav1.LabelSelector{selector("rack", "1"), selector("rack", "1")}
		}),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) { s.NodeSelectors = []metav1.LabelSelector{selector("rack", "1")} }),
		want:     refusal{field: "spec.nodeSelectors[1]", message: `duplicate definition of nodeSelectors "rack=1"`},
	}),
	Entry("peer: BFD echo while IPv6 pools are announced to it", rule{
		existing: []client.Object{
			bfd("echo", v1beta1.BFDProfileSpec{EchoMode: new(true)}), pool("v6", "fc00:8::/64"),
			bgpAdv("adv", v1beta1.BGPAdvertisementSpec{}),
		},
		refused: peer("p", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "echo" }),
		accepted: peer("p", func(s *v1beta2.BGPPeerSpec) {
			s.BFDProfile = "not-yet-defined"
			s.PasswordSecret.Name = "not-yet-defined"
		}),
		want: refusal{field: "spec.peers", message: `makes BGPAdvertisement "adv" invalid: pool v6 has bgpadvertisement adv which references peer p which has bfd echo enabled`},
	}),
	Entry("peer v1beta1: keepalive without hold time, converted to a hold time of 0", rule{
		refused: &v1beta1.BGPPeer{ObjectMeta: meta("p"), Spec: v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "192.0.2.1", KeepaliveTime: metav1.Duration{Duration: 30e9}}},
		accepted: &v1beta1.BGPPeer{ObjectMeta: meta("p"), Spec: v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "192.0.2.1", KeepaliveTime: metav1.Duration{Duration: 30e9}, HoldTime: metav1.Duration{Duration: 90e9}}},
		want: refusal{field: "spec.keepaliveTime", message: `invalid keepaliveTime "30s", must be lower than holdTime "0s"`},
	}),

	// Community.
	Entry("community: alias defined in another Community", rule{
		existing: []client.Object{community("a", v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"})},
		refused:  community("b", v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"}),
		accepted: community("b", v1beta1.CommunityAlias{Name: "no-advertise", Value: "65535:65282"}),
		want:     refusal{field: "spec.communities[0].name", message: `duplicate definition of community "no-export"`},
	}),
	Entry("community: alias defined twice", rule{
		refused:  community("c", v1beta1.CommunityAlias{Name: "x", Value: "1:1"}, v1beta1.CommunityAlias{Name: "x", Value: "1:2"}),
		accepted: community("c", v1beta1.CommunityAlias{Name: "x", Value: "1:1"}, v1beta1.CommunityAlias{Name: "y", Value: "1:2"}),
		want:     refusal{field: "spec.communities[1].name", message: `duplicate definition of community "x"`},
	}),
	Entry("community: invalid value (CEL)", rule{
		refused:  community("c", v1beta1.CommunityAlias{Name: "x", Value: "65536:1"}),
		accepted: community("c", v1beta1.CommunityAlias{Name: "x", Value: "large:65536:1:1"}),
		want:     refusal{field: "spec.communities[0].value", message: "invalid community value"},
	}),

	// BFDProfile.
	Entry("BFD profile: detect multiplier out of range (schema)", rule{
		refused:  bfd("b", v1beta1.BFDProfileSpec{DetectMultiplier: new(uint32(1))}),
		accepted: bfd("b", v1beta1.BFDProfileSpec{DetectMultiplier: new(uint32(2))}),
		want:     refusal{field: "spec.detectMultiplier", message: "should be greater than or equal to 2"},
	}),

	// Namespace, for every kind.
	Entry("pool outside ferrolb's namespace", rule{
		refused: inNamespace(pool("p", "10.0.0.0/24"), "other"), accepted: pool("p", "10.0.0.0/24"),
		want: refusal{field: "metadata.namespace", message: "resource must be created in metallb-system namespace"},
	}),
	Entry("peer outside ferrolb's namespace", rule{
		refused: inNamespace(peer("p"), "other"), accepted: peer("p"),
		want: refusal{field: "metadata.namespace", message: "resource must be created in metallb-system namespace"},
	}),
	Entry("BGP advertisement outside ferrolb's namespace", rule{
		refused: inNamespace(bgpAdv("a", v1beta1.BGPAdvertisementSpec{}), "other"), accepted: bgpAdv("a", v1beta1.BGPAdvertisementSpec{}),
		want: refusal{field: "metadata.namespace", message: "resource must be created in metallb-system namespace"},
	}),
	Entry("L2 advertisement outside ferrolb's namespace", rule{
		refused: inNamespace(l2Adv("a", v1beta1.L2AdvertisementSpec{}), "other"), accepted: l2Adv("a", v1beta1.L2AdvertisementSpec{}),
		want: refusal{field: "metadata.namespace", message: "resource must be created in metallb-system namespace"},
	}),
	Entry("community outside ferrolb's namespace", rule{
		refused: inNamespace(community("c"), "other"), accepted: community("c"),
		want: refusal{field: "metadata.namespace", message: "resource must be created in metallb-system namespace"},
	}),
	Entry("BFD profile outside ferrolb's namespace", rule{
		refused: inNamespace(bfd("b", v1beta1.BFDProfileSpec{}), "other"), accepted: bfd("b", v1beta1.BFDProfileSpec{}),
		want: refusal{field: "metadata.namespace", message: "resource must be created in metallb-system namespace"},
	}),
)
