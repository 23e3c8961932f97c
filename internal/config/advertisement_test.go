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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// colouredPools are three pools, two of them labelled by colour.
func colouredPools() []v1beta1.IPAddressPool {
	red, blue := ipPool("red", "10.0.1.0/24"), ipPool("blue", "10.0.2.0/24", "fc00::/120")
	red.Labels, blue.Labels = map[string]string{"color": "red"}, map[string]string{"color": "blue"}
	return []v1beta1.IPAddressPool{red, blue, ipPool("plain", "10.0.3.0/24")}
}

func TestL2Advertisements(t *testing.T) {
	cfg := mustParse(t, Resources{
		Pools: colouredPools(),
		L2Advertisements: []v1beta1.L2Advertisement{
			l2Advertisement("everything", v1beta1.L2AdvertisementSpec{}),
			l2Advertisement("named", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"plain", "no-such-pool"}}),
			l2Advertisement("detailed", v1beta1.L2AdvertisementSpec{
				IPAddressPools:         []string{"plain"},
				IPAddressPoolSelectors: []metav1.LabelSelector{selector(map[string]string{"color": "red"})},
				NodeSelectors:          []metav1.LabelSelector{selector(map[string]string{"rack": "r1"})},
				Interfaces:             []string{"eth1", "bond0"},
				ServiceSelectors:       []metav1.LabelSelector{selector(map[string]string{"app": "web"})},
				PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
					{Weight: 10, Preference: selector(map[string]string{"zone": "a"})},
					{Weight: 5, Preference: selector(map[string]string{"ssd": "true"})},
				},
			}),
		},
	})
	want := map[string]*L2Advertisement{
		"everything": {Name: "everything", Pools: []string{"blue", "plain", "red"}},
		"named":      {Name: "named", Pools: []string{"plain"}},
		"detailed": {
			Name:             "detailed",
			Pools:            []string{"plain", "red"},
			NodeSelectors:    []labels.Selector{mustSelector(t, "rack=r1")},
			Interfaces:       []string{"eth1", "bond0"},
			ServiceSelectors: []labels.Selector{mustSelector(t, "app=web")},
			PreferredNodes: []NodePreference{
				{Weight: 10, Selector: mustSelector(t, "zone=a")},
				{Weight: 5, Selector: mustSelector(t, "ssd=true")},
			},
		},
	}
	if diff := cmp.Diff(want, cfg.L2Advertisements, cmpOptions); diff != "" {
		t.Errorf("advertisements (-want +got):\n%s", diff)
	}
	wantByPool := map[string][]string{
		"blue":  {"everything"},
		"plain": {"detailed", "everything", "named"},
		"red":   {"detailed", "everything"},
	}
	for pool, wantAds := range wantByPool {
		var got []string
		for _, adv := range cfg.Pools[pool].L2Advertisements {
			got = append(got, adv.Name)
		}
		if diff := cmp.Diff(wantAds, got); diff != "" {
			t.Errorf("advertisements of pool %q (-want +got):\n%s", pool, diff)
		}
	}
}

func TestL2AdvertisementNodes(t *testing.T) {
	cfg := mustParse(t, Resources{L2Advertisements: []v1beta1.L2Advertisement{
		l2Advertisement("rack1", v1beta1.L2AdvertisementSpec{
			NodeSelectors: []metav1.LabelSelector{selector(map[string]string{"rack": "r1"})},
			PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
				{Weight: 10, Preference: selector(map[string]string{"zone": "a"})},
				{Weight: 5, Preference: selector(map[string]string{"ssd": "true"})},
			},
		}),
		l2Advertisement("anywhere", v1beta1.L2AdvertisementSpec{}),
	}})
	tests := []struct {
		adv        string
		node       labels.Set
		wantSelect bool
		wantScore  int64
	}{
		{adv: "rack1", node: labels.Set{"rack": "r1"}, wantSelect: true},
		{adv: "rack1", node: labels.Set{"rack": "r1", "zone": "a", "ssd": "true"}, wantSelect: true, wantScore: 15},
		{adv: "rack1", node: labels.Set{"rack": "r1", "ssd": "true"}, wantSelect: true, wantScore: 5},
		// A preference only ranks the nodes the advertisement allows.
		{adv: "rack1", node: labels.Set{"rack": "r2", "zone": "a"}},
		{adv: "anywhere", node: labels.Set{}, wantSelect: true},
	}
	if !cfg.L2Advertisements["rack1"].SelectsService(labels.Set{"app": "any"}) {
		t.Errorf("an advertisement without serviceSelectors must apply to every Service")
	}
	for _, tt := range tests {
		adv := cfg.L2Advertisements[tt.adv]
		if got := adv.SelectsNode(tt.node); got != tt.wantSelect {
			t.Errorf("%s.SelectsNode(%v) = %v, want %v", tt.adv, tt.node, got, tt.wantSelect)
		}
		if got := adv.Preference(tt.node); got != tt.wantScore {
			t.Errorf("%s.Preference(%v) = %d, want %d", tt.adv, tt.node, got, tt.wantScore)
		}
	}
}

func TestL2AdvertisementErrors(t *testing.T) {
	twice := []metav1.LabelSelector{selector(map[string]string{"a": "b"}), selector(map[string]string{"a": "b"})}
	got := parseErrors(t, Resources{
		Pools: colouredPools(),
		L2Advertisements: []v1beta1.L2Advertisement{l2Advertisement("l2", v1beta1.L2AdvertisementSpec{
			IPAddressPools:         []string{"red", "red"},
			IPAddressPoolSelectors: twice,
			NodeSelectors:          twice,
			ServiceSelectors:       twice,
			PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
				{Weight: 0, Preference: selector(map[string]string{"zone": "a"})},
				{Weight: 101, Preference: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Near"}}}},
			},
		})},
	})
	want := []string{
		`L2Advertisement "l2": spec.ipAddressPools[1]: Duplicate value: "red": duplicate definition of ipAddressPools "red"`,
		`L2Advertisement "l2": spec.ipAddressPoolSelectors[1]: Duplicate value: "a=b": duplicate definition of ipAddressPoolSelectors "a=b"`,
		`L2Advertisement "l2": spec.nodeSelectors[1]: Duplicate value: "a=b": duplicate definition of nodeSelectors "a=b"`,
		`L2Advertisement "l2": spec.serviceSelectors[1]: Duplicate value: "a=b": duplicate definition of serviceSelectors "a=b"`,
		`L2Advertisement "l2": spec.preferredNodeSelectors[0].weight: Invalid value: 0: must be in 1-100 range`,
		`L2Advertisement "l2": spec.preferredNodeSelectors[1].weight: Invalid value: 101: must be in 1-100 range`,
		`L2Advertisement "l2": spec.preferredNodeSelectors[1].preference: Invalid value: "k Near []": "Near" is not a valid label selector operator`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestBGPAdvertisements(t *testing.T) {
	cfg := mustParse(t, Resources{
		Pools: colouredPools(),
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			bgpAdvertisement("defaults", v1beta1.BGPAdvertisementSpec{}),
			bgpAdvertisement("detailed", v1beta1.BGPAdvertisementSpec{
				IPAddressPoolSelectors: []metav1.LabelSelector{selector(map[string]string{"color": "blue"})},
				AggregationLength:      new(int32(24)),
				AggregationLengthV6:    new(int32(120)),
				LocalPref:              100,
				Communities:            []string{"65000:2", "65000:1"},
				NodeSelectors:          []metav1.LabelSelector{selector(map[string]string{"rack": "r1"})},
				Peers:                  []string{"tor2", "tor1"},
			}),
			bgpAdvertisement("selective", v1beta1.BGPAdvertisementSpec{
				IPAddressPools:   []string{"red"},
				ServiceSelectors: []metav1.LabelSelector{selector(map[string]string{"app": "web"})},
			}),
		},
	})
	want := map[string]*BGPAdvertisement{
		"defaults": {Name: "defaults", Pools: []string{"blue", "plain", "red"}, AggregationLength: 32, AggregationLengthV6: 128},
		"detailed": {
			Name:                "detailed",
			Pools:               []string{"blue"},
			AggregationLength:   24,
			AggregationLengthV6: 120,
			LocalPref:           100,
			Communities:         []StandardCommunity{65000<<16 | 1, 65000<<16 | 2},
			NodeSelectors:       []labels.Selector{mustSelector(t, "rack=r1")},
			Peers:               []string{"tor1", "tor2"},
		},
		"selective": {
			Name: "selective", Pools: []string{"red"}, AggregationLength: 32, AggregationLengthV6: 128,
			ServiceSelectors: []labels.Selector{mustSelector(t, "app=web")},
		},
	}
	if diff := cmp.Diff(want, cfg.BGPAdvertisements, cmpOptions); diff != "" {
		t.Errorf("advertisements (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*BGPAdvertisement{want["defaults"], want["detailed"]}, cfg.Pools["blue"].BGPAdvertisements, cmpOptions); diff != "" {
		t.Errorf("advertisements of pool blue (-want +got):\n%s", diff)
	}

	detailed := cfg.BGPAdvertisements["detailed"]
	for peer, want := range map[string]bool{"tor1": true, "tor2": true, "tor3": false} {
		if got := detailed.SelectsPeer(peer); got != want {
			t.Errorf("SelectsPeer(%q) = %v, want %v", peer, got, want)
		}
	}
	if !cfg.BGPAdvertisements["defaults"].SelectsPeer("any") {
		t.Errorf("an advertisement without peers must announce to every peer")
	}
	if cfg.BGPAdvertisements["selective"].SelectsService(labels.Set{"app": "db"}) {
		t.Errorf("selective.SelectsService(app=db) = true, want false")
	}
}

func TestBGPAdvertisementErrors(t *testing.T) {
	tests := []struct {
		name string
		spec v1beta1.BGPAdvertisementSpec
		want []string
	}{
		{
			name: "duplicates",
			spec: v1beta1.BGPAdvertisementSpec{
				IPAddressPools: []string{"red", "red"},
				Peers:          []string{"tor", "tor"},
				NodeSelectors:  []metav1.LabelSelector{selector(map[string]string{"a": "b"}), selector(map[string]string{"a": "b"})},
			},
			want: []string{
				`BGPAdvertisement "adv": spec.ipAddressPools[1]: Duplicate value: "red": duplicate definition of ipAddressPools "red"`,
				`BGPAdvertisement "adv": spec.nodeSelectors[1]: Duplicate value: "a=b": duplicate definition of nodeSelectors "a=b"`,
				`BGPAdvertisement "adv": spec.peers[1]: Duplicate value: "tor": duplicate definition of peers "tor"`,
			},
		},
		{
			name: "aggregation lengths out of range are not also checked against pools",
			spec: v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(0)), AggregationLengthV6: new(int32(129))},
			want: []string{
				`BGPAdvertisement "adv": spec.aggregationLength: Invalid value: 0: invalid aggregation length 0 for IPv4`,
				`BGPAdvertisement "adv": spec.aggregationLengthV6: Invalid value: 129: invalid aggregation length 129 for IPv6`,
			},
		},
		{
			name: "serviceSelectors with aggregation",
			spec: v1beta1.BGPAdvertisementSpec{
				IPAddressPools:      []string{"red"},
				AggregationLength:   new(int32(30)),
				AggregationLengthV6: new(int32(126)),
				ServiceSelectors:    []metav1.LabelSelector{selector(map[string]string{"app": "web"})},
			},
			want: []string{
				`BGPAdvertisement "adv": spec.aggregationLength: Invalid value: 30: serviceSelectors and aggregationLength are mutually exclusive, both cannot be set in adv`,
				`BGPAdvertisement "adv": spec.aggregationLengthV6: Invalid value: 126: serviceSelectors and aggregationLengthV6 are mutually exclusive, both cannot be set in adv`,
			},
		},
		{
			name: "serviceSelectors with default aggregation given explicitly",
			spec: v1beta1.BGPAdvertisementSpec{
				AggregationLength:   new(int32(32)),
				AggregationLengthV6: new(int32(128)),
				ServiceSelectors:    []metav1.LabelSelector{selector(map[string]string{"app": "web"})},
			},
		},
		{
			name: "aggregation shorter than a pool's CIDR, per family",
			spec: v1beta1.BGPAdvertisementSpec{
				IPAddressPools:    []string{"red", "blue", "plain"},
				AggregationLength: new(int32(16)), AggregationLengthV6: new(int32(64)),
			},
			want: []string{
				`BGPAdvertisement "adv": spec.aggregationLength: Invalid value: 16: invalid aggregation length 16: prefix 24 in this pool is more specific than the aggregation length for addresses 10.0.2.0/24 (pool "blue")`,
				`BGPAdvertisement "adv": spec.aggregationLengthV6: Invalid value: 64: invalid aggregation length 64: prefix 120 in this pool is more specific than the aggregation length for addresses fc00::/120 (pool "blue")`,
				`BGPAdvertisement "adv": spec.aggregationLength: Invalid value: 16: invalid aggregation length 16: prefix 24 in this pool is more specific than the aggregation length for addresses 10.0.3.0/24 (pool "plain")`,
				`BGPAdvertisement "adv": spec.aggregationLength: Invalid value: 16: invalid aggregation length 16: prefix 24 in this pool is more specific than the aggregation length for addresses 10.0.1.0/24 (pool "red")`,
			},
		},
		{
			name: "aggregation equal to the CIDRs",
			spec: v1beta1.BGPAdvertisementSpec{
				IPAddressPools:    []string{"red", "blue", "plain"},
				AggregationLength: new(int32(24)), AggregationLengthV6: new(int32(120)),
			},
		},
		{
			name: "a range is checked against its largest prefix",
			spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"range"}, AggregationLength: new(int32(27))},
			want: []string{
				`BGPAdvertisement "adv": spec.aggregationLength: Invalid value: 27: invalid aggregation length 27: prefix 28 in this pool is more specific than the aggregation length for addresses 10.0.4.1-10.0.4.31 (pool "range")`,
			},
		},
		{
			name: "a range is accepted at the length of its largest prefix",
			spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"range"}, AggregationLength: new(int32(28))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, Resources{
				// range holds 10.0.4.1/32, .2/31, .4/30, .8/29 and .16/28.
				Pools:             append(colouredPools(), ipPool("range", "10.0.4.1-10.0.4.31")),
				BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdvertisement("adv", tt.spec)},
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocalPrefConflicts(t *testing.T) {
	nodes := []corev1.Node{node("n1", map[string]string{"rack": "r1"}), node("n2", map[string]string{"rack": "r2"})}
	onRack := func(rack string) []metav1.LabelSelector {
		return []metav1.LabelSelector{selector(map[string]string{"rack": rack})}
	}
	const conflict = `BGPAdvertisement "b": spec.localPref: Invalid value: 200: invalid local preference 200: local preferernce 100 ` +
		`was already set for the same type of BGP update. Check existing BGP advertisements with common pools and ` +
		`aggregation lengths (BGPAdvertisement "a", pool "%s")`
	tests := []struct {
		name  string
		pool  string // pool both advertisements select
		a, b  v1beta1.BGPAdvertisementSpec
		nodes []corev1.Node
		want  []string
	}{
		{
			name: "different local preferences for the same routes",
			pool: "red", a: v1beta1.BGPAdvertisementSpec{LocalPref: 100}, b: v1beta1.BGPAdvertisementSpec{LocalPref: 200},
			nodes: nodes,
			want:  []string{fmtConflict(conflict, "red")},
		},
		{
			name: "equal local preferences",
			pool: "red", a: v1beta1.BGPAdvertisementSpec{LocalPref: 100}, b: v1beta1.BGPAdvertisementSpec{LocalPref: 100},
		},
		{
			name: "different IPv4 aggregation on an IPv4 pool",
			pool: "red", a: v1beta1.BGPAdvertisementSpec{LocalPref: 100}, b: v1beta1.BGPAdvertisementSpec{LocalPref: 200, AggregationLength: new(int32(31))},
		},
		{
			name: "different IPv4 but equal IPv6 aggregation on a dual-stack pool",
			pool: "blue", a: v1beta1.BGPAdvertisementSpec{LocalPref: 100}, b: v1beta1.BGPAdvertisementSpec{LocalPref: 200, AggregationLength: new(int32(31))},
			want: []string{fmtConflict(conflict, "blue")},
		},
		{
			name: "different aggregation for both families on a dual-stack pool",
			pool: "blue",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200, AggregationLength: new(int32(31)), AggregationLengthV6: new(int32(127))},
		},
		{
			name: "disjoint peers",
			pool: "red",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100, Peers: []string{"tor1"}},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200, Peers: []string{"tor2"}},
		},
		{
			name: "a common peer",
			pool: "red",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100, Peers: []string{"tor1", "tor2"}},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200, Peers: []string{"tor2"}},
			want: []string{fmtConflict(conflict, "red")},
		},
		{
			name: "all peers and some peers",
			pool: "red",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200, Peers: []string{"tor2"}},
			want: []string{fmtConflict(conflict, "red")},
		},
		{
			name:  "disjoint nodes",
			pool:  "red",
			a:     v1beta1.BGPAdvertisementSpec{LocalPref: 100, NodeSelectors: onRack("r1")},
			b:     v1beta1.BGPAdvertisementSpec{LocalPref: 200, NodeSelectors: onRack("r2")},
			nodes: nodes,
		},
		{
			name: "disjoint node selectors without nodes are assumed to share one",
			pool: "red",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100, NodeSelectors: onRack("r1")},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200, NodeSelectors: onRack("r2")},
			want: []string{fmtConflict(conflict, "red")},
		},
		{
			name: "service selectors defer the check to the speaker",
			pool: "red",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200, ServiceSelectors: []metav1.LabelSelector{selector(map[string]string{"app": "web"})}},
		},
		{
			name: "a conflict is reported once, for the first common pool",
			a:    v1beta1.BGPAdvertisementSpec{LocalPref: 100},
			b:    v1beta1.BGPAdvertisementSpec{LocalPref: 200},
			want: []string{fmtConflict(conflict, "blue")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pool != "" {
				tt.a.IPAddressPools, tt.b.IPAddressPools = []string{tt.pool}, []string{tt.pool}
			}
			got := parseErrors(t, Resources{
				Pools:             colouredPools(),
				BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdvertisement("b", tt.b), bgpAdvertisement("a", tt.a)},
				Nodes:             tt.nodes,
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func fmtConflict(format, pool string) string {
	return fmt.Sprintf(format, pool)
}

func TestLocalPrefConflictsAtAnnounceTime(t *testing.T) {
	web := []metav1.LabelSelector{selector(map[string]string{"app": "web"})}
	cfg := mustParse(t, Resources{
		Pools: colouredPools(),
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			bgpAdvertisement("a", v1beta1.BGPAdvertisementSpec{LocalPref: 100, ServiceSelectors: web}),
			bgpAdvertisement("b", v1beta1.BGPAdvertisementSpec{LocalPref: 200}),
		},
	})
	a, b, red := cfg.BGPAdvertisements["a"], cfg.BGPAdvertisements["b"], cfg.Pools["red"]
	if !a.LocalPrefConflicts(b, red) || !b.LocalPrefConflicts(a, red) {
		t.Errorf("LocalPrefConflicts = false, want true both ways")
	}
}

func TestBFDEcho(t *testing.T) {
	echo := v1beta1.BFDProfile{ObjectMeta: objectMeta("echo"), Spec: v1beta1.BFDProfileSpec{EchoMode: new(true)}}
	noEcho := v1beta1.BFDProfile{ObjectMeta: objectMeta("no-echo")}
	peers := []v1beta2.BGPPeer{
		bgpPeer("echoing", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "echo" }),
		bgpPeer("quiet", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "no-echo" }),
	}
	tests := []struct {
		name string
		spec v1beta1.BGPAdvertisementSpec
		want []string
	}{
		{name: "IPv4 pool", spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"red"}}},
		{name: "IPv6 pool to a peer without echo", spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"blue"}, Peers: []string{"quiet"}}},
		{
			name: "IPv6 pool to every peer, reported once",
			spec: v1beta1.BGPAdvertisementSpec{},
			want: []string{`BGPAdvertisement "adv": spec.peers: Invalid value: "echoing": pool blue has bgpadvertisement adv which references peer echoing which has bfd echo enabled, which is not possible`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, Resources{
				Pools:             colouredPools(),
				Peers:             peers,
				BFDProfiles:       []v1beta1.BFDProfile{echo, noEcho},
				BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdvertisement("adv", tt.spec)},
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
