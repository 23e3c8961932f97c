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
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/config"
)

// The expected winners in these tests were computed outside Go, with
//
//	for n in node-a node-b node-c; do printf %s "$n#192.0.2.10" | sha256sum; done
//
// which orders node-c (39f2…) < node-b (6e9f…) < node-a (d4b8…) for 192.0.2.10.
const vip = "192.0.2.10"

func node(name string, mutators ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	for _, mutate := range mutators {
		mutate(n)
	}
	return n
}

func withLabel(key, value string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[key] = value }
}

func withNetworkUnavailable(status corev1.ConditionStatus) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: status})
	}
}

func nodes(ns ...*corev1.Node) map[string]*corev1.Node {
	m := map[string]*corev1.Node{}
	for _, n := range ns {
		m[n.Name] = n
	}
	return m
}

func threeNodes(mutate map[string][]func(*corev1.Node)) map[string]*corev1.Node {
	return nodes(node("node-a", mutate["node-a"]...), node("node-b", mutate["node-b"]...), node("node-c", mutate["node-c"]...))
}

func service(mutators ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
			Ingress: []corev1.LoadBalancerIngress{{IP: vip}},
		}},
	}
	for _, mutate := range mutators {
		mutate(s)
	}
	return s
}

func withIngress(ips ...string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = nil
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
	}
}

func withLocal(s *corev1.Service) {
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
}

func withAnnotation(key, value string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Annotations = map[string]string{key: value} }
}

// endpoint is an endpoint on a node ("" for none) with the given ready and serving conditions (nil = unset).
func endpoint(nodeName string, ready, serving *bool) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{Addresses: []string{"10.244.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ready, Serving: serving}}
	if nodeName != "" {
		ep.NodeName = ptr.To(nodeName)
	}
	return ep
}

func ready(nodeName string) discoveryv1.Endpoint {
	return endpoint(nodeName, ptr.To(true), ptr.To(true))
}

func slicesOf(eps ...discoveryv1.Endpoint) []discoveryv1.EndpointSlice {
	return []discoveryv1.EndpointSlice{{ObjectMeta: metav1.ObjectMeta{Name: "web-1"}, Endpoints: eps}}
}

func mustSelector(t testing.TB, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// adOpts describes an L2Advertisement in selector strings.
type adOpts struct {
	nodes      []string
	services   []string
	interfaces []string
	// preferred maps a node selector to its weight.
	preferred map[string]int32
}

func ad(t testing.TB, name string, o adOpts) *config.L2Advertisement {
	a := &config.L2Advertisement{Name: name, Pools: []string{"default"}, Interfaces: o.interfaces}
	for _, s := range o.nodes {
		a.NodeSelectors = append(a.NodeSelectors, mustSelector(t, s))
	}
	for _, s := range o.services {
		a.ServiceSelectors = append(a.ServiceSelectors, mustSelector(t, s))
	}
	for _, s := range slices.Sorted(maps.Keys(o.preferred)) {
		a.PreferredNodes = append(a.PreferredNodes, config.NodePreference{Weight: o.preferred[s], Selector: mustSelector(t, s)})
	}
	return a
}

func TestElect(t *testing.T) {
	all := func(t *testing.T) []*config.L2Advertisement { return []*config.L2Advertisement{ad(t, "all", adOpts{})} }
	tests := []struct {
		name string
		// in is completed with defaults: three nodes, one ready endpoint on node-a, one advertisement for all.
		in   func(t *testing.T) Input
		want Result
	}{
		{
			name: "hash order decides among equals",
			in:   func(t *testing.T) Input { return Input{} },
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "no endpoints",
			in: func(t *testing.T) Input {
				return Input{EndpointSlices: []discoveryv1.EndpointSlice{{}}}
			},
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "ready unset can serve",
			in: func(t *testing.T) Input {
				return Input{EndpointSlices: slicesOf(endpoint("node-a", nil, nil))}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "terminating but serving endpoint can serve",
			in: func(t *testing.T) Input {
				return Input{EndpointSlices: slicesOf(endpoint("node-a", ptr.To(false), ptr.To(true)))}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "not ready and serving unset cannot serve",
			in: func(t *testing.T) Input {
				return Input{EndpointSlices: slicesOf(endpoint("node-a", ptr.To(false), nil))}
			},
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "not ready and not serving cannot serve",
			in: func(t *testing.T) Input {
				return Input{EndpointSlices: slicesOf(endpoint("node-a", ptr.To(false), ptr.To(false)))}
			},
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "memberlist members only",
			in:   func(t *testing.T) Input { return Input{Members: sets.New("node-a", "node-b")} },
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "memberlist enabled with no live member",
			in:   func(t *testing.T) Input { return Input{Members: sets.New[string]()} },
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "member without a Node object never wins",
			in: func(t *testing.T) Input {
				return Input{Members: sets.New("node-a", "node-b", "node-0")}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "memberlist disabled uses every known node",
			in: func(t *testing.T) Input {
				return Input{Nodes: nodes(node("node-a"), node("node-b"))}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "network unavailable node is excluded",
			in: func(t *testing.T) Input {
				return Input{Nodes: threeNodes(map[string][]func(*corev1.Node){"node-c": {withNetworkUnavailable(corev1.ConditionTrue)}})}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "network available node stays",
			in: func(t *testing.T) Input {
				return Input{Nodes: threeNodes(map[string][]func(*corev1.Node){"node-c": {withNetworkUnavailable(corev1.ConditionFalse)}})}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "exclude-from-external-load-balancers label, any value",
			in: func(t *testing.T) Input {
				return Input{Nodes: threeNodes(map[string][]func(*corev1.Node){"node-c": {withLabel(LabelExcludeFromExternalLB, "")}})}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "exclude label ignored",
			in: func(t *testing.T) Input {
				return Input{
					Nodes:           threeNodes(map[string][]func(*corev1.Node){"node-c": {withLabel(LabelExcludeFromExternalLB, "true")}}),
					IgnoreExcludeLB: true,
				}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "externalTrafficPolicy Local keeps nodes with a serving endpoint",
			in: func(t *testing.T) Input {
				return Input{Service: service(withLocal), EndpointSlices: slicesOf(ready("node-a"), ready("node-b"))}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "externalTrafficPolicy Local ignores endpoints that cannot serve",
			in: func(t *testing.T) Input {
				return Input{
					Service:        service(withLocal),
					EndpointSlices: slicesOf(ready("node-a"), endpoint("node-b", ptr.To(false), ptr.To(false))),
				}
			},
			want: Result{Node: "node-a", Interfaces: Interfaces{All: true}},
		},
		{
			name: "externalTrafficPolicy Local counts terminating serving endpoints",
			in: func(t *testing.T) Input {
				return Input{
					Service:        service(withLocal),
					EndpointSlices: slicesOf(ready("node-a"), endpoint("node-c", ptr.To(false), ptr.To(true))),
				}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "externalTrafficPolicy Local with endpoints on no node",
			in: func(t *testing.T) Input {
				return Input{Service: service(withLocal), EndpointSlices: slicesOf(ready(""))}
			},
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "externalTrafficPolicy Local with endpoints on an excluded node",
			in: func(t *testing.T) Input {
				return Input{
					Service:        service(withLocal),
					Nodes:          threeNodes(map[string][]func(*corev1.Node){"node-a": {withNetworkUnavailable(corev1.ConditionTrue)}}),
					EndpointSlices: slicesOf(ready("node-a")),
				}
			},
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "no applicable advertisement",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{}}
			},
			want: Result{Reason: ReasonNoMatchingAdvertisement},
		},
		{
			name: "advertisement node selectors",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "ab", adOpts{nodes: []string{"kubernetes.io/hostname=node-a", "kubernetes.io/hostname=node-b"}}),
				}}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "advertisement selecting no node",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{ad(t, "none", adOpts{nodes: []string{"role=edge"}})}}
			},
			want: Result{Reason: ReasonNotOwner},
		},
		{
			name: "preference beats hash",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "all", adOpts{preferred: map[string]int32{"kubernetes.io/hostname=node-a": 10}}),
				}}
			},
			want: Result{Node: "node-a", Interfaces: Interfaces{All: true}},
		},
		{
			name: "preferences add up across advertisements",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "one", adOpts{preferred: map[string]int32{"kubernetes.io/hostname=node-a": 10, "kubernetes.io/hostname=node-b": 6}}),
					ad(t, "two", adOpts{preferred: map[string]int32{"kubernetes.io/hostname=node-b": 5}}),
				}}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "a preference counts only where its advertisement selects the node",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "all", adOpts{}),
					ad(t, "only-c", adOpts{nodes: []string{"kubernetes.io/hostname=node-c"}, preferred: map[string]int32{"kubernetes.io/hostname=node-a": 50}}),
				}}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "equal preferences fall back to the hash",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "all", adOpts{preferred: map[string]int32{"kubernetes.io/hostname=node-a": 10, "kubernetes.io/hostname=node-b": 10}}),
				}}
			},
			want: Result{Node: "node-b", Interfaces: Interfaces{All: true}},
		},
		{
			name: "shared IP with a service selector",
			in: func(t *testing.T) Input {
				return Input{
					Service:        service(withAnnotation(AnnotationAllowSharedIP, "key")),
					Advertisements: []*config.L2Advertisement{ad(t, "web", adOpts{services: []string{"app=web"}})},
				}
			},
			want: Result{Reason: ReasonSharedIPWithServiceSelector},
		},
		{
			name: "shared IP with a service selector, deprecated annotation",
			in: func(t *testing.T) Input {
				return Input{
					Service:        service(withAnnotation(AnnotationAllowSharedIPDeprecated, "key")),
					Advertisements: []*config.L2Advertisement{ad(t, "all", adOpts{}), ad(t, "web", adOpts{services: []string{"app=web"}})},
				}
			},
			want: Result{Reason: ReasonSharedIPWithServiceSelector},
		},
		{
			name: "shared IP without service selectors",
			in: func(t *testing.T) Input {
				return Input{Service: service(withAnnotation(AnnotationAllowSharedIP, "key"))}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "no ingress",
			in:   func(t *testing.T) Input { return Input{Service: service(withIngress())} },
			want: Result{Reason: ReasonNoIPAllocated},
		},
		{
			name: "hostname ingress only",
			in: func(t *testing.T) Input {
				return Input{Service: service(func(s *corev1.Service) {
					s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
				})}
			},
			want: Result{Reason: ReasonNoIPAllocated},
		},
		{
			name: "unparsable ingress IP",
			in:   func(t *testing.T) Input { return Input{Service: service(withIngress("192.0.2.300"))} },
			want: Result{Reason: ReasonInvalidIP},
		},
		{
			name: "zoned ingress IP",
			in:   func(t *testing.T) Input { return Input{Service: service(withIngress("fe80::1%eth0"))} },
			want: Result{Reason: ReasonInvalidIP},
		},
		{
			name: "dual-stack hashes the first IP only",
			in:   func(t *testing.T) Input { return Input{Service: service(withIngress(vip, "2001:db8::10"))} },
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "IPv4-mapped IPv6 ingress hashes as IPv4",
			in:   func(t *testing.T) Input { return Input{Service: service(withIngress("::ffff:" + vip))} },
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "interfaces: union of the lists of advertisements selecting the winner",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "c", adOpts{nodes: []string{"kubernetes.io/hostname=node-c"}, interfaces: []string{"eth1", "eth0"}}),
					ad(t, "all", adOpts{interfaces: []string{"eth0", "bond0"}}),
					ad(t, "a", adOpts{nodes: []string{"kubernetes.io/hostname=node-a"}}),
				}}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{Names: []string{"bond0", "eth0", "eth1"}}},
		},
		{
			name: "interfaces: one advertisement without a list means all",
			in: func(t *testing.T) Input {
				return Input{Advertisements: []*config.L2Advertisement{
					ad(t, "one", adOpts{interfaces: []string{"eth0"}}),
					ad(t, "two", adOpts{nodes: []string{"kubernetes.io/hostname=node-c"}}),
				}}
			},
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}},
		},
		{
			name: "refresh passes through to the winner",
			in:   func(t *testing.T) Input { return Input{Refresh: time.Minute} },
			want: Result{Node: "node-c", Interfaces: Interfaces{All: true}, Refresh: time.Minute},
		},
		{
			name: "no refresh without a winner",
			in: func(t *testing.T) Input {
				return Input{Refresh: time.Minute, Members: sets.New[string]()}
			},
			want: Result{Reason: ReasonNotOwner},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in(t)
			if in.Service == nil {
				in.Service = service()
			}
			if in.Nodes == nil {
				in.Nodes = threeNodes(nil)
			}
			if in.EndpointSlices == nil {
				in.EndpointSlices = slicesOf(ready("node-a"))
			}
			if in.Advertisements == nil {
				in.Advertisements = all(t)
			}
			if diff := cmp.Diff(tt.want, Elect(in)); diff != "" {
				t.Errorf("Elect() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShouldAnnounce(t *testing.T) {
	onlyA := func(t *testing.T) []*config.L2Advertisement {
		return []*config.L2Advertisement{ad(t, "a", adOpts{nodes: []string{"kubernetes.io/hostname=node-a"}})}
	}
	tests := []struct {
		name       string
		node       string
		ads        func(t *testing.T) []*config.L2Advertisement
		mutate     func(*Input)
		wantReason string
		wantNode   string
	}{
		{name: "winner", node: "node-c", wantNode: "node-c"},
		{name: "loser", node: "node-a", wantReason: ReasonNotOwner, wantNode: "node-c"},
		{name: "node not selected by any advertisement", node: "node-c", ads: onlyA, wantReason: ReasonNoMatchingAdvertisement, wantNode: "node-a"},
		{name: "selected node wins", node: "node-a", ads: onlyA, wantNode: "node-a"},
		{name: "unknown node", node: "node-z", ads: onlyA, wantReason: ReasonNoMatchingAdvertisement, wantNode: "node-a"},
		{
			name: "no endpoints comes before no matching advertisement", node: "node-c", ads: onlyA,
			mutate:     func(in *Input) { in.EndpointSlices = nil },
			wantReason: ReasonNotOwner,
		},
		{
			name: "shared IP with service selector comes before no matching advertisement", node: "node-c",
			ads: func(t *testing.T) []*config.L2Advertisement {
				return []*config.L2Advertisement{ad(t, "a", adOpts{nodes: []string{"kubernetes.io/hostname=node-a"}, services: []string{"app=web"}})}
			},
			mutate:     func(in *Input) { in.Service = service(withAnnotation(AnnotationAllowSharedIP, "k")) },
			wantReason: ReasonSharedIPWithServiceSelector,
		},
		{
			name: "excluded node does not announce", node: "node-c",
			mutate: func(in *Input) {
				in.Nodes = threeNodes(map[string][]func(*corev1.Node){"node-c": {withLabel(LabelExcludeFromExternalLB, "")}})
			},
			wantReason: ReasonNotOwner, wantNode: "node-b",
		},
		{
			name: "node without a live speaker does not announce", node: "node-c",
			mutate:     func(in *Input) { in.Members = sets.New("node-a", "node-b") },
			wantReason: ReasonNotOwner, wantNode: "node-b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{
				Service:        service(),
				Nodes:          threeNodes(nil),
				EndpointSlices: slicesOf(ready("node-a")),
				Advertisements: []*config.L2Advertisement{ad(t, "all", adOpts{})},
			}
			if tt.ads != nil {
				in.Advertisements = tt.ads(t)
			}
			if tt.mutate != nil {
				tt.mutate(&in)
			}
			got := ShouldAnnounce(tt.node, in)
			if diff := cmp.Diff([]string{tt.wantReason, tt.wantNode}, []string{got.Reason, got.Node}); diff != "" {
				t.Errorf("ShouldAnnounce(%q) [reason node] mismatch (-want +got):\n%s", tt.node, diff)
			}
		})
	}
}

// TestHashStability pins winners computed independently of this package with coreutils' sha256sum, as
// `printf %s "$node#$ip" | sha256sum`, lowest digest first. A change here moves live addresses on upgrade.
func TestHashStability(t *testing.T) {
	tests := []struct {
		ip    string
		nodes []string
		want  string
	}{
		{ip: "192.0.2.10", nodes: []string{"node-a", "node-b", "node-c"}, want: "node-c"},
		{ip: "192.0.2.10", nodes: []string{"node-a", "node-b"}, want: "node-b"},
		{ip: "192.0.2.11", nodes: []string{"node-a", "node-b", "node-c"}, want: "node-a"},
		{ip: "198.51.100.7", nodes: []string{"worker-1", "worker-2", "worker-3", "worker-4", "worker-5"}, want: "worker-4"},
		{ip: "198.51.100.7", nodes: []string{"worker-1", "worker-2", "worker-4", "worker-5"}, want: "worker-4"},
		{ip: "198.51.100.7", nodes: []string{"worker-1", "worker-2", "worker-3", "worker-5"}, want: "worker-5"},
		{ip: "2001:db8::10", nodes: []string{"node-a", "node-b", "node-c"}, want: "node-b"},
		{ip: "2001:db8::10", nodes: []string{"node-a", "node-c"}, want: "node-a"},
		{ip: "2001:db8::1:10", nodes: []string{"worker-1", "worker-2", "worker-3", "worker-4", "worker-5"}, want: "worker-5"},
		{ip: "203.0.113.200", nodes: []string{"cp-0", "cp-1", "cp-2", "w-0", "w-1", "w-2"}, want: "cp-0"},
		{ip: "203.0.113.200", nodes: []string{"cp-1", "cp-2", "w-0", "w-1", "w-2"}, want: "cp-1"},
		{ip: "10.0.0.1", nodes: []string{"kind-control-plane", "kind-worker", "kind-worker2"}, want: "kind-worker2"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.ip, len(tt.nodes)), func(t *testing.T) {
			ns := map[string]*corev1.Node{}
			for _, name := range tt.nodes {
				ns[name] = node(name)
			}
			got := Elect(Input{
				Service:        service(withIngress(tt.ip)),
				Nodes:          ns,
				EndpointSlices: slicesOf(ready("")),
				Advertisements: []*config.L2Advertisement{ad(t, "all", adOpts{})},
			})
			if diff := cmp.Diff(tt.want, got.Node); diff != "" {
				t.Errorf("winner mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// clusterInput returns an Input for a Service at ip over n nodes, with memberlist enabled and every node live.
func clusterInput(t testing.TB, n int, ip string) Input {
	ns := map[string]*corev1.Node{}
	for i := range n {
		name := fmt.Sprintf("node-%03d", i)
		ns[name] = node(name, withLabel("zone", fmt.Sprintf("z%d", i%3)))
	}
	return Input{
		Service:        service(withIngress(ip)),
		Nodes:          ns,
		Members:        sets.KeySet(ns),
		EndpointSlices: slicesOf(ready("")),
		Advertisements: []*config.L2Advertisement{ad(t, "all", adOpts{})},
	}
}

// TestRemovingNonOwnerNeverMovesTheIP checks the property that keeps failover minimal: whichever node other
// than the winner leaves (memberlist) or disappears (Node deleted), the winner stays; only the winner leaving
// moves the IP. Adding a node moves the IP only to that node.
func TestRemovingNonOwnerNeverMovesTheIP(t *testing.T) {
	for i := range 64 {
		ip := fmt.Sprintf("198.51.100.%d", i)
		in := clusterInput(t, 12, ip)
		winner := Elect(in).Node
		if winner == "" {
			t.Fatalf("%s: no winner", ip)
		}
		for name := range in.Nodes {
			if name == winner {
				continue
			}
			left := in
			left.Members = in.Members.Clone().Delete(name)
			if got := Elect(left).Node; got != winner {
				t.Errorf("%s: %s left memberlist, winner moved from %s to %s", ip, name, winner, got)
			}
			gone := left
			gone.Members = nil
			gone.Nodes = maps.Clone(in.Nodes)
			delete(gone.Nodes, name)
			if got := Elect(gone).Node; got != winner {
				t.Errorf("%s: node %s deleted, winner moved from %s to %s", ip, name, winner, got)
			}
		}
		joined := in
		joined.Nodes = maps.Clone(in.Nodes)
		joined.Nodes["node-new"] = node("node-new")
		joined.Members = in.Members.Clone().Insert("node-new")
		if got := Elect(joined).Node; got != winner && got != "node-new" {
			t.Errorf("%s: node-new joined, winner moved from %s to %s", ip, winner, got)
		}
	}
}

// TestSharedIPServicesLandTogether checks that Services sharing an address, whatever their other
// addresses, ports, labels or endpoints, elect the same node, and that every node agrees on it.
func TestSharedIPServicesLandTogether(t *testing.T) {
	for i := range 32 {
		ip := fmt.Sprintf("203.0.113.%d", i)
		in := clusterInput(t, 7, ip)
		in.Service = service(withIngress(ip), withAnnotation(AnnotationAllowSharedIP, "shared"))
		other := in
		other.Service = service(withIngress(ip, "2001:db8::1"), withAnnotation(AnnotationAllowSharedIP, "shared"), func(s *corev1.Service) {
			s.Name, s.Labels = "api", map[string]string{"app": "api"}
			s.Spec.Ports = []corev1.ServicePort{{Port: 8443}}
		})
		other.EndpointSlices = slicesOf(ready(""), ready(""))
		a, b := Elect(in), Elect(other)
		if a.Node == "" || a.Node != b.Node {
			t.Errorf("%s: services sharing the IP elected %q and %q", ip, a.Node, b.Node)
		}
		var announcers []string
		for name := range in.Nodes {
			if ShouldAnnounce(name, other).Reason == "" {
				announcers = append(announcers, name)
			}
		}
		if diff := cmp.Diff([]string{a.Node}, announcers); diff != "" {
			t.Errorf("%s: announcing nodes mismatch (-want +got):\n%s", ip, diff)
		}
	}
}

func TestAdvertisements(t *testing.T) {
	all := ad(t, "all", adOpts{})
	web := ad(t, "web", adOpts{services: []string{"app=web"}})
	api := ad(t, "api", adOpts{services: []string{"app=api"}})
	cfg := &config.Config{Pools: map[string]*config.Pool{
		"default": {Name: "default", L2Advertisements: []*config.L2Advertisement{all, api, web}},
		"bgp":     {Name: "bgp"},
	}}
	names := func(ads []*config.L2Advertisement) []string {
		var n []string
		for _, a := range ads {
			n = append(n, a.Name)
		}
		return n
	}
	tests := []struct {
		name string
		cfg  *config.Config
		pool string
		want []string
	}{
		{name: "service selectors filter", cfg: cfg, pool: "default", want: []string{"all", "web"}},
		{name: "pool without L2 advertisements", cfg: cfg, pool: "bgp"},
		{name: "unknown pool", cfg: cfg, pool: "nope"},
		{name: "no configuration", pool: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(Advertisements(tt.cfg, tt.pool, service()))); diff != "" {
				t.Errorf("Advertisements() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
