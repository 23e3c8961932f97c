package assign

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/allocator"
	"github.com/ferrolb/ferrolb/internal/config"
)

func pool(name string, autoAssign bool, addrs ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs, AutoAssign: ptr.To(autoAssign)},
	}
}

func pinned(p v1beta1.IPAddressPool, priority int, namespaces ...string) v1beta1.IPAddressPool {
	p.Spec.AllocateTo = &v1beta1.ServiceAllocation{Priority: priority, Namespaces: namespaces}
	return p
}

type svcOpt func(*corev1.Service)

func service(name string, opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeLoadBalancer,
			ClusterIPs: []string{"10.96.0.10"},
			Ports:      []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func annotate(k, v string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func inNamespace(ns string) svcOpt { return func(s *corev1.Service) { s.Namespace = ns } }

func port(p int32) svcOpt {
	return func(s *corev1.Service) { s.Spec.Ports = []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: p}} }
}

func dualStack(policy corev1.IPFamilyPolicy, families ...corev1.IPFamily) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = &policy
		s.Spec.IPFamilies = families
		s.Spec.ClusterIPs = nil
		for _, f := range families {
			if f == corev1.IPv6Protocol {
				s.Spec.ClusterIPs = append(s.Spec.ClusterIPs, "fd00:96::10")
			} else {
				s.Spec.ClusterIPs = append(s.Spec.ClusterIPs, "10.96.0.10")
			}
		}
	}
}

func local(app string) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Selector = map[string]string{"app": app}
	}
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// world is a configuration and an allocator, as the controller holds them.
type world struct {
	cfg   *config.Config
	alloc *allocator.Allocator
}

func newWorld(t *testing.T, pools ...v1beta1.IPAddressPool) *world {
	t.Helper()
	cfg, err := config.Parse(config.Resources{Pools: pools})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{cfg: cfg, alloc: allocator.New()}
	if _, err := w.alloc.SetPools(AllocatorPools(cfg)); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) converge(svc *corev1.Service, current ...netip.Addr) Outcome {
	req, err := NewRequest(svc)
	return Converge(w.cfg, w.alloc, req, err, current)
}

// result is what the tests compare: addresses, pool, reason and event reasons.
type result struct {
	IPs    []netip.Addr
	Pool   string
	Reason string
	Events []string
}

func summarise(o Outcome) result {
	r := result{IPs: o.IPs, Pool: o.Pool, Reason: o.Reason}
	for _, e := range o.Events {
		r.Events = append(r.Events, e.Reason)
	}
	return r
}

func TestConverge(t *testing.T) {
	tests := []struct {
		name    string
		pools   []v1beta1.IPAddressPool
		before  []*corev1.Service // converged first, in order, without current addresses
		svc     *corev1.Service
		current []netip.Addr
		want    result
	}{
		{
			name:  "lowest free address of the only pool",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			svc:   service("web"),
			want:  result{IPs: addrs("192.168.10.0"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:   "next service gets the next address",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one")},
			svc:    service("two"),
			want:   result{IPs: addrs("192.168.10.1"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:    "the current address is kept without an event",
			pools:   []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			svc:     service("web"),
			current: addrs("192.168.10.3"),
			want:    result{IPs: addrs("192.168.10.3"), Pool: "a", Reason: ReasonAllocated},
		},
		{
			name:    "a current address outside every pool is replaced",
			pools:   []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			svc:     service("web"),
			current: addrs("10.0.0.1"),
			want:    result{IPs: addrs("192.168.10.0"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventClearAssignment, EventIPAllocated}},
		},
		{
			name:  "no pools at all",
			pools: nil,
			svc:   service("web"),
			want:  result{Reason: ReasonNoPoolConfigured, Events: []string{EventAllocationFailed}},
		},
		{
			name:   "exhausted pool",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/32")},
			before: []*corev1.Service{service("one")},
			svc:    service("two"),
			want:   result{Reason: ReasonPoolExhausted, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "autoAssign false pools are not used automatically",
			pools: []v1beta1.IPAddressPool{pool("manual", false, "192.168.10.0/30")},
			svc:   service("web"),
			want:  result{Reason: ReasonNoMatchingPool, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "autoAssign false pool on request",
			pools: []v1beta1.IPAddressPool{pool("manual", false, "192.168.10.0/30")},
			svc:   service("web", annotate(AnnotationAddressPool, "manual")),
			want:  result{IPs: addrs("192.168.10.0"), Pool: "manual", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "deprecated pool annotation",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30"), pool("b", true, "192.168.20.0/30")},
			svc:   service("web", annotate("metallb.universe.tf/address-pool", "b")),
			want:  result{IPs: addrs("192.168.20.0"), Pool: "b", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "unknown requested pool",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			svc:   service("web", annotate(AnnotationAddressPool, "nope")),
			want:  result{Reason: ReasonUnknownPool, Events: []string{EventAllocationFailed}},
		},
		{
			name:    "a change of requested pool moves the service",
			pools:   []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30"), pool("b", true, "192.168.20.0/30")},
			svc:     service("web", annotate(AnnotationAddressPool, "b")),
			current: addrs("192.168.10.0"),
			want:    result{IPs: addrs("192.168.20.0"), Pool: "b", Reason: ReasonAllocated, Events: []string{EventClearAssignment, EventIPAllocated}},
		},
		{
			name:  "requested address",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/24")},
			svc:   service("web", annotate(AnnotationLoadBalancerIPs, "192.168.10.42")),
			want:  result{IPs: addrs("192.168.10.42"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "requested address through spec.loadBalancerIP",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/24")},
			svc:   service("web", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "192.168.10.7" }),
			want:  result{IPs: addrs("192.168.10.7"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "requested address outside every pool",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/24")},
			svc:   service("web", annotate(AnnotationLoadBalancerIPs, "10.1.1.1")),
			want:  result{Reason: ReasonRequestedIPNotInPool, Events: []string{EventAllocationFailed}},
		},
		{
			name:   "requested address in use by a service that does not share",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/24")},
			before: []*corev1.Service{service("one", annotate(AnnotationLoadBalancerIPs, "192.168.10.9"))},
			svc:    service("two", annotate(AnnotationLoadBalancerIPs, "192.168.10.9"), port(443)),
			want:   result{Reason: ReasonRequestedIPInUse, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "both the annotation and spec.loadBalancerIP",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/24")},
			svc: service("web", annotate(AnnotationLoadBalancerIPs, "192.168.10.9"),
				func(s *corev1.Service) { s.Spec.LoadBalancerIP = "192.168.10.8" }),
			want: result{Reason: ReasonInvalidRequest, Events: []string{EventLoadBalancerFailed}},
		},
		{
			name:  "requested address of the wrong family",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/24", "fc00::/120")},
			svc:   service("web", annotate(AnnotationLoadBalancerIPs, "fc00::5")),
			want:  result{Reason: ReasonInvalidRequest, Events: []string{EventLoadBalancerFailed}},
		},
		{
			name:  "sharing with equal keys and distinct ports",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{
				service("one", annotate(AnnotationAllowSharedIP, "k"), port(80)),
			},
			svc:  service("two", annotate(AnnotationAllowSharedIP, "k"), port(443)),
			want: result{IPs: addrs("192.168.10.0"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:   "deprecated sharing annotation",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one", annotate("metallb.universe.tf/allow-shared-ip", "k"), port(80))},
			svc:    service("two", annotate(AnnotationAllowSharedIP, "k"), port(443)),
			want:   result{IPs: addrs("192.168.10.0"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:   "sharing refused on the same port: the next address",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one", annotate(AnnotationAllowSharedIP, "k"), port(80))},
			svc:    service("two", annotate(AnnotationAllowSharedIP, "k"), port(80)),
			want:   result{IPs: addrs("192.168.10.1"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			// The Service asks to share: the sharing rules, not mere use, refuse it.
			name:   "sharing a requested address with another key",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one", annotate(AnnotationAllowSharedIP, "k"), port(80))},
			svc: service("two", annotate(AnnotationAllowSharedIP, "other"), annotate(AnnotationLoadBalancerIPs, "192.168.10.0"),
				port(443)),
			want: result{Reason: ReasonSharingConflict, Events: []string{EventAllocationFailed}},
		},
		{
			name:   "sharing a requested address on a port in use",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one", annotate(AnnotationAllowSharedIP, "k"), port(80))},
			svc:    service("two", annotate(AnnotationAllowSharedIP, "k"), annotate(AnnotationLoadBalancerIPs, "192.168.10.0"), port(80)),
			want:   result{Reason: ReasonSharingConflict, Events: []string{EventAllocationFailed}},
		},
		{
			name:   "sharing a requested address with another selector under externalTrafficPolicy Local",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one", annotate(AnnotationAllowSharedIP, "k"), port(80), local("one"))},
			svc: service("two", annotate(AnnotationAllowSharedIP, "k"), annotate(AnnotationLoadBalancerIPs, "192.168.10.0"),
				port(443), local("two")),
			want: result{Reason: ReasonSharingConflict, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "ETP Local services share only with the same selector",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			before: []*corev1.Service{service("one", annotate(AnnotationAllowSharedIP, "k"), port(80), func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.Selector = map[string]string{"app": "one"}
			})},
			svc: service("two", annotate(AnnotationAllowSharedIP, "k"), port(443), func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.Selector = map[string]string{"app": "two"}
			}),
			want: result{IPs: addrs("192.168.10.1"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name: "a pool pinned to the namespace wins over unrestricted pools",
			pools: []v1beta1.IPAddressPool{
				pool("a", true, "192.168.10.0/30"),
				pinned(pool("team", true, "192.168.30.0/30"), 10, "team"),
			},
			svc:  service("web", inNamespace("team")),
			want: result{IPs: addrs("192.168.30.0"), Pool: "team", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name: "pinned pools by priority",
			pools: []v1beta1.IPAddressPool{
				pinned(pool("low", true, "192.168.40.0/30"), 20, "team"),
				pinned(pool("high", true, "192.168.30.0/30"), 10, "team"),
			},
			svc:  service("web", inNamespace("team")),
			want: result{IPs: addrs("192.168.30.0"), Pool: "high", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:   "an exhausted pinned pool falls back to unrestricted pools",
			pools:  []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30"), pinned(pool("team", true, "192.168.30.0/32"), 10, "team")},
			before: []*corev1.Service{service("first", inNamespace("team"))},
			svc:    service("web", inNamespace("team")),
			want:   result{IPs: addrs("192.168.10.0"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "a pool pinned to another namespace is not used",
			pools: []v1beta1.IPAddressPool{pinned(pool("team", true, "192.168.30.0/30"), 10, "team")},
			svc:   service("web"),
			want:  result{Reason: ReasonNoMatchingPool, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "a requested pool pinned to another namespace",
			pools: []v1beta1.IPAddressPool{pinned(pool("team", true, "192.168.30.0/30"), 10, "team")},
			svc:   service("web", annotate(AnnotationAddressPool, "team")),
			want:  result{Reason: ReasonPoolNotCompatible, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "IPv6 single stack",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30", "fc00::/64")},
			svc:   service("web", dualStack(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol)),
			want:  result{IPs: addrs("fc00::"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "RequireDualStack from one pool",
			pools: []v1beta1.IPAddressPool{pool("v4", true, "192.168.20.0/30"), pool("dual", true, "192.168.10.0/30", "fc00::/126")},
			svc:   service("web", dualStack(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)),
			want:  result{IPs: addrs("192.168.10.0", "fc00::"), Pool: "dual", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:  "RequireDualStack without a dual-stack pool",
			pools: []v1beta1.IPAddressPool{pool("v4", true, "192.168.20.0/30")},
			svc:   service("web", dualStack(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)),
			want:  result{Reason: ReasonPoolExhausted, Events: []string{EventAllocationFailed}},
		},
		{
			name:  "PreferDualStack takes the primary family when no pool has both",
			pools: []v1beta1.IPAddressPool{pool("v4", true, "192.168.20.0/30"), pool("v6", true, "fc00::/126")},
			svc:   service("web", dualStack(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol)),
			want:  result{IPs: addrs("fc00::"), Pool: "v6", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:    "PreferDualStack adds the missing family from the same pool",
			pools:   []v1beta1.IPAddressPool{pool("dual", true, "192.168.10.0/30", "fc00::/126")},
			svc:     service("web", dualStack(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)),
			current: addrs("192.168.10.2"),
			want:    result{IPs: addrs("192.168.10.2", "fc00::"), Pool: "dual", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
		{
			name:    "RequireDualStack showing one address gets both families again",
			pools:   []v1beta1.IPAddressPool{pool("a-v4", true, "192.168.20.0/30"), pool("b-dual", true, "192.168.10.0/30", "fc00::/126")},
			svc:     service("web", dualStack(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)),
			current: addrs("192.168.20.0"),
			want: result{IPs: addrs("192.168.10.0", "fc00::"), Pool: "b-dual", Reason: ReasonAllocated,
				Events: []string{EventClearAssignment, EventIPAllocated}},
		},
		{
			name:    "RequireDualStack keeps the one address it requests",
			pools:   []v1beta1.IPAddressPool{pool("dual", true, "192.168.10.0/30", "fc00::/126")},
			svc:     service("web", dualStack(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol), annotate(AnnotationLoadBalancerIPs, "192.168.10.1")),
			current: addrs("192.168.10.1"),
			want:    result{IPs: addrs("192.168.10.1"), Pool: "dual", Reason: ReasonAllocated},
		},
		{
			name:  "no cluster IP",
			pools: []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30")},
			svc:   service("web", func(s *corev1.Service) { s.Spec.ClusterIPs = nil }),
			want:  result{Reason: ReasonNoClusterIP, Events: []string{EventLoadBalancerFailed}},
		},
		{
			name: "avoidBuggyIPs skips .0",
			pools: []v1beta1.IPAddressPool{func() v1beta1.IPAddressPool {
				p := pool("a", true, "192.168.10.0/24")
				p.Spec.AvoidBuggyIPs = true
				return p
			}()},
			svc:  service("web"),
			want: result{IPs: addrs("192.168.10.1"), Pool: "a", Reason: ReasonAllocated, Events: []string{EventIPAllocated}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.pools...)
			for _, b := range tt.before {
				if out := w.converge(b); !out.Allocated() {
					t.Fatalf("setup: %s not allocated: %s", b.Name, out.Message)
				}
			}
			got := summarise(w.converge(tt.svc, tt.current...))
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRestartKeepsAddresses replays what a restarted controller does: services that show addresses are
// converged first, so a pending service cannot take an address another service shows.
func TestRestartKeepsAddresses(t *testing.T) {
	pools := []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/31")}
	w := newWorld(t, pools...)
	first, second := service("first"), service("second")
	a1 := w.converge(first).IPs
	a2 := w.converge(second).IPs
	pending := service("pending")
	if out := w.converge(pending); out.Reason != ReasonPoolExhausted {
		t.Fatalf("pending: %s", out.Reason)
	}

	restarted := newWorld(t, pools...)
	for _, s := range []struct {
		svc *corev1.Service
		ips []netip.Addr
	}{{second, a2}, {first, a1}} {
		if got := restarted.converge(s.svc, s.ips...); !sameAddrs(got.IPs, s.ips) || len(got.Events) != 0 {
			t.Fatalf("%s moved: %v → %v (events %v)", s.svc.Name, s.ips, got.IPs, got.Events)
		}
	}
	if out := restarted.converge(pending); out.Reason != ReasonPoolExhausted {
		t.Fatalf("pending after restart: %s %v", out.Reason, out.IPs)
	}
}

// TestRestore checks that restoring keeps what Services show when it is still allowed, and never allocates.
func TestRestore(t *testing.T) {
	pools := []v1beta1.IPAddressPool{pool("a", true, "192.168.10.0/30"), pool("dual", true, "192.168.20.0/30", "fc00::/126")}
	tests := []struct {
		name    string
		svc     *corev1.Service
		current []netip.Addr
		want    bool
		held    []netip.Addr // what the allocator holds for the Service afterwards
	}{
		{name: "a valid address", svc: service("web"), current: addrs("192.168.10.3"), want: true, held: addrs("192.168.10.3")},
		{name: "nothing shown", svc: service("web"), want: false},
		{name: "an address outside every pool", svc: service("web"), current: addrs("10.0.0.1"), want: false},
		{name: "an address of another pool than requested", svc: service("web", annotate(AnnotationAddressPool, "dual")),
			current: addrs("192.168.10.3"), want: false},
		{
			name:    "PreferDualStack with one address: restored as is, the other family is not added",
			svc:     service("web", dualStack(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)),
			current: addrs("192.168.20.1"), want: true, held: addrs("192.168.20.1"),
		},
		{
			name:    "RequireDualStack with one address",
			svc:     service("web", dualStack(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)),
			current: addrs("192.168.20.1"), want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, pools...)
			req, err := NewRequest(tt.svc)
			if err != nil {
				t.Fatal(err)
			}
			if got := Restore(w.cfg, w.alloc, req, tt.current); got != tt.want {
				t.Errorf("Restore = %v, want %v", got, tt.want)
			}
			al, _ := w.alloc.Allocation(req.Service.Key)
			if diff := cmp.Diff(tt.held, al.IPs, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeprecatedAnnotations(t *testing.T) {
	req, err := NewRequest(service("web", annotate("metallb.universe.tf/allow-shared-ip", "k"), annotate("metallb.universe.tf/address-pool", "p")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"metallb.universe.tf/address-pool", "metallb.universe.tf/allow-shared-ip"}
	if diff := cmp.Diff(want, req.Deprecated); diff != "" {
		t.Error(diff)
	}
	if req.Service.SharingKey != "k" || req.Pool != "p" {
		t.Errorf("deprecated annotations not read: %+v", req)
	}
}
