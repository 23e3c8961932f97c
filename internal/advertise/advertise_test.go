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
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

var cmpOptions = cmp.Options{
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

const nodeName = "node-a"

func node(mutate ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"zone": "a"}}}
	for _, m := range mutate {
		m(n)
	}
	return n
}

func service(mutate ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeLoadBalancer,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
			{IP: "192.0.2.10"}, {IP: "2001:db8::10"},
		}}},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

type endpoint struct {
	node             string
	ready, serving   *bool
	withoutAddresses bool
}

func endpoints(eps ...endpoint) []discoveryv1.EndpointSlice {
	slice := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1"}}
	for i, ep := range eps {
		e := discoveryv1.Endpoint{Conditions: discoveryv1.EndpointConditions{Ready: ep.ready, Serving: ep.serving}}
		if !ep.withoutAddresses {
			e.Addresses = []string{fmt.Sprintf("10.0.0.%d", i+1)}
		}
		if ep.node != "" {
			e.NodeName = new(ep.node)
		}
		slice.Endpoints = append(slice.Endpoints, e)
	}
	return []discoveryv1.EndpointSlice{slice}
}

func sel(set map[string]string) labels.Selector { return labels.SelectorFromSet(set) }

// ad returns a BGPAdvertisement with no aggregation and no attributes.
func ad(name string, mutate ...func(*config.BGPAdvertisement)) *config.BGPAdvertisement {
	a := &config.BGPAdvertisement{Name: name, Pools: []string{"pool"}, AggregationLength: 32, AggregationLengthV6: 128}
	for _, m := range mutate {
		m(a)
	}
	return a
}

func cfgWith(ads ...*config.BGPAdvertisement) *config.Config {
	pool := &config.Pool{
		Name:              "pool",
		CIDRs:             []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/64")},
		BGPAdvertisements: ads,
	}
	cfg := &config.Config{Pools: map[string]*config.Pool{"pool": pool}, BGPAdvertisements: map[string]*config.BGPAdvertisement{}}
	for _, a := range ads {
		cfg.BGPAdvertisements[a.Name] = a
	}
	return cfg
}

func TestForServiceReasons(t *testing.T) {
	tests := []struct {
		name   string
		node   *corev1.Node
		svc    *corev1.Service
		slices []discoveryv1.EndpointSlice
		cfg    *config.Config
		pool   string
		opts   []Option
		want   string
	}{
		{
			name: "announces", node: node(), svc: service(), slices: endpoints(endpoint{node: "other"}),
			cfg: cfgWith(ad("a")), want: "",
		},
		{
			name: "unknown pool", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(ad("a")), pool: "other", want: ReasonNotOwner,
		},
		{
			name: "pool without advertisements", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(), want: ReasonNotOwner,
		},
		{
			name: "no advertisement selects the node", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(ad("a", func(a *config.BGPAdvertisement) {
				a.NodeSelectors = []labels.Selector{sel(map[string]string{"zone": "b"})}
			})),
			want: ReasonNotOwner,
		},
		{
			name: "node selector matches", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(ad("a", func(a *config.BGPAdvertisement) {
				a.NodeSelectors = []labels.Selector{sel(map[string]string{"zone": "b"}), sel(map[string]string{"zone": "a"})}
			})),
			want: "",
		},
		{
			name: "no advertisement selects the service", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(ad("a", func(a *config.BGPAdvertisement) {
				a.ServiceSelectors = []labels.Selector{sel(map[string]string{"app": "db"})}
			})),
			want: ReasonNoMatchingAdvertisement,
		},
		{
			name: "service selected by one advertisement, node by the other", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(
				ad("a", func(a *config.BGPAdvertisement) {
					a.ServiceSelectors = []labels.Selector{sel(map[string]string{"app": "web"})}
					a.NodeSelectors = []labels.Selector{sel(map[string]string{"zone": "b"})}
				}),
				ad("b", func(a *config.BGPAdvertisement) {
					a.ServiceSelectors = []labels.Selector{sel(map[string]string{"app": "db"})}
				}),
			),
			want: ReasonNoMatchingAdvertisement,
		},
		{
			name: "conflicting local preferences", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(
				ad("a", func(a *config.BGPAdvertisement) { a.LocalPref = 100 }),
				ad("b", func(a *config.BGPAdvertisement) {
					a.LocalPref = 200
					a.ServiceSelectors = []labels.Selector{sel(map[string]string{"app": "web"})}
				}),
			),
			want: ReasonConflictingAdvertisements,
		},
		{
			name: "different local preferences to disjoint peers", node: node(), svc: service(), slices: endpoints(endpoint{}),
			cfg: cfgWith(
				ad("a", func(a *config.BGPAdvertisement) { a.LocalPref, a.Peers = 100, []string{"p1"} }),
				ad("b", func(a *config.BGPAdvertisement) { a.LocalPref, a.Peers = 200, []string{"p2"} }),
			),
			want: "",
		},
		{
			name: "network unavailable", slices: endpoints(endpoint{}), svc: service(), cfg: cfgWith(ad("a")),
			node: node(func(n *corev1.Node) {
				n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue}}
			}),
			want: ReasonNodeNetworkUnavailable,
		},
		{
			name: "network available again", slices: endpoints(endpoint{}), svc: service(), cfg: cfgWith(ad("a")),
			node: node(func(n *corev1.Node) {
				n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse}}
			}),
			want: "",
		},
		{
			name: "exclusion label, any value", slices: endpoints(endpoint{}), svc: service(), cfg: cfgWith(ad("a")),
			node: node(func(n *corev1.Node) { n.Labels[ExcludeBalancersLabel] = "" }),
			want: ReasonNodeLabeledExcludeBalancers,
		},
		{
			name: "exclusion label ignored", slices: endpoints(endpoint{}), svc: service(), cfg: cfgWith(ad("a")),
			node: node(func(n *corev1.Node) { n.Labels[ExcludeBalancersLabel] = "true" }),
			opts: []Option{WithIgnoreExcludeLB()},
			want: "",
		},
		{
			name: "network unavailable comes before exclusion", slices: endpoints(endpoint{}), svc: service(), cfg: cfgWith(ad("a")),
			node: node(func(n *corev1.Node) {
				n.Labels[ExcludeBalancersLabel] = "true"
				n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue}}
			}),
			want: ReasonNodeNetworkUnavailable,
		},
		{
			name: "no endpoints", node: node(), svc: service(), cfg: cfgWith(ad("a")), want: ReasonNoEndpoints,
		},
		{
			name: "no ready endpoints", node: node(), svc: service(), cfg: cfgWith(ad("a")),
			slices: endpoints(endpoint{ready: new(false)}, endpoint{ready: new(false), serving: new(false)}),
			want:   ReasonNoEndpoints,
		},
		{
			name: "ready endpoint without addresses", node: node(), svc: service(), cfg: cfgWith(ad("a")),
			slices: endpoints(endpoint{withoutAddresses: true}),
			want:   ReasonNoEndpoints,
		},
		{
			name: "terminating but serving endpoint", node: node(), svc: service(), cfg: cfgWith(ad("a")),
			slices: endpoints(endpoint{ready: new(false), serving: new(true)}),
			want:   "",
		},
		{
			name: "ready endpoint", node: node(), svc: service(), cfg: cfgWith(ad("a")),
			slices: endpoints(endpoint{ready: new(true)}),
			want:   "",
		},
		{
			name: "local policy, endpoint elsewhere", node: node(), cfg: cfgWith(ad("a")),
			svc: service(func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			}),
			slices: endpoints(endpoint{node: "other"}, endpoint{}),
			want:   ReasonNoLocalEndpoints,
		},
		{
			name: "local policy, local endpoint not serving", node: node(), cfg: cfgWith(ad("a")),
			svc: service(func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			}),
			slices: endpoints(endpoint{node: nodeName, ready: new(false)}),
			want:   ReasonNoLocalEndpoints,
		},
		{
			name: "local policy, no endpoint at all", node: node(), cfg: cfgWith(ad("a")),
			svc: service(func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			}),
			want: ReasonNoLocalEndpoints,
		},
		{
			name: "local policy, local serving endpoint", node: node(), cfg: cfgWith(ad("a")),
			svc: service(func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			}),
			slices: endpoints(endpoint{node: "other"}, endpoint{node: nodeName, ready: new(false), serving: new(true)}),
			want:   "",
		},
		{
			name: "excluded node with no endpoints reports the exclusion", svc: service(), cfg: cfgWith(ad("a")),
			node: node(func(n *corev1.Node) { n.Labels[ExcludeBalancersLabel] = "" }),
			want: ReasonNodeLabeledExcludeBalancers,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := tt.pool
			if pool == "" {
				pool = "pool"
			}
			adverts, reason := ForService(tt.node, tt.svc, tt.slices, tt.cfg, pool, tt.opts...)
			if reason != tt.want {
				t.Fatalf("reason = %q, want %q", reason, tt.want)
			}
			if (reason == "") != (len(adverts) > 0) {
				t.Errorf("reason %q with %d advertisements", reason, len(adverts))
			}
		})
	}
}

func TestForServiceAdvertisements(t *testing.T) {
	c1, c2 := config.StandardCommunity(65000<<16|1), config.StandardCommunity(65000<<16|2)
	l1 := config.LargeCommunity{GlobalAdmin: 65000, LocalData1: 1, LocalData2: 2}
	tests := []struct {
		name string
		svc  *corev1.Service
		ads  []*config.BGPAdvertisement
		want []Advertisement
	}{
		{
			name: "host routes for both families",
			svc:  service(),
			ads:  []*config.BGPAdvertisement{ad("a")},
			want: []Advertisement{
				{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Advertisement: "a"},
				{Prefix: netip.MustParsePrefix("2001:db8::10/128"), Advertisement: "a"},
			},
		},
		{
			name: "aggregation per family",
			svc:  service(),
			ads: []*config.BGPAdvertisement{ad("a", func(a *config.BGPAdvertisement) {
				a.AggregationLength, a.AggregationLengthV6 = 24, 64
			})},
			want: []Advertisement{
				{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Advertisement: "a"},
				{Prefix: netip.MustParsePrefix("2001:db8::/64"), Advertisement: "a"},
			},
		},
		{
			name: "attributes and peers of every matching advertisement",
			svc: service(func(s *corev1.Service) {
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
			}),
			ads: []*config.BGPAdvertisement{
				ad("a", func(a *config.BGPAdvertisement) {
					a.LocalPref, a.Communities, a.LargeCommunities, a.Peers = 150, []config.StandardCommunity{c1, c2}, []config.LargeCommunity{l1}, []string{"p1"}
				}),
				ad("b", func(a *config.BGPAdvertisement) {
					a.AggregationLength, a.LocalPref, a.Communities = 30, 150, []config.StandardCommunity{c2}
				}),
				ad("c", func(a *config.BGPAdvertisement) {
					a.ServiceSelectors = []labels.Selector{sel(map[string]string{"app": "db"})}
				}),
			},
			want: []Advertisement{
				{Prefix: netip.MustParsePrefix("192.0.2.10/32"), LocalPref: 150, Communities: []config.StandardCommunity{c1, c2},
					LargeCommunities: []config.LargeCommunity{l1}, Peers: []string{"p1"}, Advertisement: "a"},
				{Prefix: netip.MustParsePrefix("192.0.2.8/30"), LocalPref: 150, Communities: []config.StandardCommunity{c2}, Advertisement: "b"},
			},
		},
		{
			name: "unparsable and mapped addresses",
			svc: service(func(s *corev1.Service) {
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example"}, {IP: "::ffff:192.0.2.11"}}
			}),
			ads:  []*config.BGPAdvertisement{ad("a")},
			want: []Advertisement{{Prefix: netip.MustParsePrefix("192.0.2.11/32"), Advertisement: "a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := ForService(node(), tt.svc, endpoints(endpoint{}), cfgWith(tt.ads...), "pool")
			if reason != "" {
				t.Fatalf("reason = %q", reason)
			}
			if diff := cmp.Diff(tt.want, got, cmpOptions); diff != "" {
				t.Errorf("advertisements (-want +got):\n%s", diff)
			}
		})
	}
}

func peer(name string, mutate ...func(*config.Peer)) *config.Peer {
	p := &config.Peer{Name: name, MyASN: 64500, PeerASN: 64501, Address: netip.MustParseAddr("198.51.100.1"), Port: 179}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func TestTable(t *testing.T) {
	c1, c2, c3 := config.StandardCommunity(1<<16|1), config.StandardCommunity(1<<16|2), config.StandardCommunity(2<<16|1)
	l1 := config.LargeCommunity{GlobalAdmin: 1, LocalData1: 1, LocalData2: 1}
	l2 := config.LargeCommunity{GlobalAdmin: 1, LocalData1: 1, LocalData2: 2}
	v4, v4agg := netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("192.0.2.0/24")
	v6 := netip.MustParsePrefix("2001:db8::10/128")
	ibgp := func(p *config.Peer) { p.PeerASN = p.MyASN }

	tests := []struct {
		name     string
		services map[string][]Advertisement
		peers    []*config.Peer
		want     map[string][]Route
		wantSvc  map[string][]string
	}{
		{
			name:     "no services",
			services: nil,
			peers:    []*config.Peer{peer("p1")},
			want:     map[string][]Route{"p1": nil},
			wantSvc:  map[string][]string{},
		},
		{
			name: "peers named and all",
			services: map[string][]Advertisement{
				"ns/a": {{Prefix: v4, Peers: []string{"ghost", "p2"}}},
				"ns/b": {{Prefix: v4agg}},
			},
			peers: []*config.Peer{peer("p1"), peer("p2")},
			want: map[string][]Route{
				"p1": {{Prefix: v4agg}},
				"p2": {{Prefix: v4agg}, {Prefix: v4}},
			},
			wantSvc: map[string][]string{"ns/a": {"p2"}, "ns/b": {"p1", "p2"}},
		},
		{
			name: "same prefix merged across services and advertisements",
			services: map[string][]Advertisement{
				"ns/a": {{Prefix: v4, LocalPref: 100, Communities: []config.StandardCommunity{c2, c3}, LargeCommunities: []config.LargeCommunity{l2}}},
				"ns/b": {
					{Prefix: v4, LocalPref: 100, Communities: []config.StandardCommunity{c1, c2}, LargeCommunities: []config.LargeCommunity{l1, l2}},
					{Prefix: v4},
				},
			},
			peers: []*config.Peer{peer("ibgp", ibgp), peer("ebgp")},
			want: map[string][]Route{
				"ibgp": {{Prefix: v4, LocalPref: 100, Communities: []config.StandardCommunity{c1, c2, c3}, LargeCommunities: []config.LargeCommunity{l1, l2}}},
				"ebgp": {{Prefix: v4, Communities: []config.StandardCommunity{c1, c2, c3}, LargeCommunities: []config.LargeCommunity{l1, l2}}},
			},
			wantSvc: map[string][]string{"ns/a": {"ebgp", "ibgp"}, "ns/b": {"ebgp", "ibgp"}},
		},
		{
			name: "attributes differ per peer",
			services: map[string][]Advertisement{
				"ns/a": {
					{Prefix: v4, LocalPref: 200, Communities: []config.StandardCommunity{c1}, Peers: []string{"p1"}},
					{Prefix: v4, LocalPref: 300, Communities: []config.StandardCommunity{c2}, Peers: []string{"p2"}},
				},
			},
			peers: []*config.Peer{peer("p1", ibgp), peer("p2", ibgp)},
			want: map[string][]Route{
				"p1": {{Prefix: v4, LocalPref: 200, Communities: []config.StandardCommunity{c1}}},
				"p2": {{Prefix: v4, LocalPref: 300, Communities: []config.StandardCommunity{c2}}},
			},
			wantSvc: map[string][]string{"ns/a": {"p1", "p2"}},
		},
		{
			name: "local preference by session type",
			services: map[string][]Advertisement{
				"ns/a": {{Prefix: v4, LocalPref: 50}},
			},
			peers: []*config.Peer{
				peer("internal-dynamic", func(p *config.Peer) { p.PeerASN, p.DynamicASN = 0, v1beta2.InternalASNMode }),
				peer("external-dynamic", func(p *config.Peer) { p.PeerASN, p.DynamicASN = 0, v1beta2.ExternalASNMode }),
				peer("local-asn", func(p *config.Peer) { p.LocalASN = p.PeerASN }),
			},
			want: map[string][]Route{
				"internal-dynamic": {{Prefix: v4, LocalPref: 50}},
				"external-dynamic": {{Prefix: v4}},
				"local-asn":        {{Prefix: v4, LocalPref: 50}},
			},
			wantSvc: map[string][]string{"ns/a": {"external-dynamic", "internal-dynamic", "local-asn"}},
		},
		{
			name: "address families",
			services: map[string][]Advertisement{
				"ns/a": {{Prefix: v6}, {Prefix: v4}},
				"ns/b": {{Prefix: v6}},
			},
			peers: []*config.Peer{
				peer("v4"),
				peer("v6", func(p *config.Peer) { p.Address = netip.MustParseAddr("2001:db8:1::1") }),
				peer("dual", func(p *config.Peer) { p.DualStackAddressFamily = true }),
				peer("unnumbered", func(p *config.Peer) { p.Address, p.Interface = netip.Addr{}, "eth0" }),
			},
			want: map[string][]Route{
				"v4":         {{Prefix: v4}},
				"v6":         {{Prefix: v6}},
				"dual":       {{Prefix: v4}, {Prefix: v6}},
				"unnumbered": {{Prefix: v4}, {Prefix: v6}},
			},
			wantSvc: map[string][]string{"ns/a": {"dual", "unnumbered", "v4", "v6"}, "ns/b": {"dual", "unnumbered", "v6"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Table(tt.services, tt.peers)
			if diff := cmp.Diff(tt.want, got, cmpOptions); diff != "" {
				t.Errorf("Table (-want +got):\n%s", diff)
			}
			gotSvc := map[string][]string{}
			for key, adverts := range tt.services {
				if peers := ServicePeers(adverts, tt.peers); peers != nil {
					gotSvc[key] = peers
				}
			}
			if diff := cmp.Diff(tt.wantSvc, gotSvc); diff != "" {
				t.Errorf("ServicePeers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTableDoesNotAlias checks that merging never writes into the advertisements' community slices, which
// the Config shares between Services.
func TestTableDoesNotAlias(t *testing.T) {
	shared := make([]config.StandardCommunity, 1, 4)
	shared[0] = 5
	services := map[string][]Advertisement{
		"a": {{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Communities: shared}},
		"b": {{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Communities: []config.StandardCommunity{1}}},
	}
	Table(services, []*config.Peer{peer("p")})
	if got := shared[:cap(shared)]; got[0] != 5 || got[1] != 0 {
		t.Errorf("shared slice modified: %v", got)
	}
}

func BenchmarkTable(b *testing.B) {
	peers := []*config.Peer{peer("p1"), peer("p2", func(p *config.Peer) { p.DualStackAddressFamily = true })}
	services := map[string][]Advertisement{}
	for i := range 10000 {
		v4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		services[fmt.Sprintf("ns/svc-%d", i)] = []Advertisement{
			{Prefix: netip.PrefixFrom(v4, 32), Communities: []config.StandardCommunity{1, 2}},
			{Prefix: netip.PrefixFrom(v4, 24), LocalPref: 100, Peers: []string{"p2"}},
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		Table(services, peers)
	}
}
