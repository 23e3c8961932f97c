package assign

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/internal/allocator"
)

// Annotations ferrolb reads and writes on Services, with MetalLB's names.
const (
	AnnotationAddressPool       = "metallb.io/address-pool"
	AnnotationLoadBalancerIPs   = "metallb.io/loadBalancerIPs"
	AnnotationAllowSharedIP     = "metallb.io/allow-shared-ip"
	AnnotationAllocatedFromPool = "metallb.io/ip-allocated-from-pool"

	// deprecatedPrefix is the annotation prefix of MetalLB before v0.13; ferrolb reads it and warns.
	deprecatedPrefix = "metallb.universe.tf/"
	currentPrefix    = "metallb.io/"
)

// Request is what a Service asks of the allocator.
type Request struct {
	// Service carries the key, sharing key, backend key and ports the allocator checks sharing with.
	Service allocator.Service
	// Namespace and Labels are matched against the pools' serviceAllocation.
	Namespace string
	Labels    labels.Set
	// Family is the families to allocate: one per cluster IP family.
	Family allocator.Family
	// PreferDualStack: with two cluster IPs, both families are wanted but one is enough.
	PreferDualStack bool
	// Primary is the family of spec.ipFamilies[0], tried first when only one family can be had.
	Primary allocator.Family
	// IPs are the addresses the Service requests (annotation or spec.loadBalancerIP), if any.
	IPs []netip.Addr
	// Pool is the pool the Service requests (annotation), if any.
	Pool string
	// Deprecated lists the metallb.universe.tf annotations the Service uses, sorted.
	Deprecated []string
}

// NewRequest reads what svc asks for. An error means the Service asks for something impossible; its text
// is meant for the user (MetalLB's where MetalLB has one).
func NewRequest(svc *corev1.Service) (Request, error) {
	req := Request{
		Namespace:  svc.Namespace,
		Labels:     labels.Set(svc.Labels),
		Deprecated: deprecatedAnnotations(svc.Annotations),
		Pool:       annotation(svc.Annotations, AnnotationAddressPool),
		Service: allocator.Service{
			Key:        svc.Namespace + "/" + svc.Name,
			SharingKey: annotation(svc.Annotations, AnnotationAllowSharedIP),
			BackendKey: backendKey(svc),
			Ports:      ports(svc),
		},
	}
	if err := req.readFamilies(svc); err != nil {
		return Request{}, err
	}
	ips, err := requestedIPs(svc)
	if err != nil {
		return Request{}, err
	}
	for _, ip := range ips {
		if req.Family&familyOf(ip) == 0 {
			return Request{}, fmt.Errorf("requested loadBalancer IP(s) %q does not match the ipFamily of the service", ips)
		}
	}
	req.IPs = ips
	return req, nil
}

// readFamilies derives the families to allocate from the cluster IPs, which the API server has already
// made consistent with spec.ipFamilyPolicy and spec.ipFamilies.
func (r *Request) readFamilies(svc *corev1.Service) error {
	clusterIPs := svc.Spec.ClusterIPs
	if len(clusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		clusterIPs = []string{svc.Spec.ClusterIP}
	}
	for _, s := range clusterIPs {
		if s == corev1.ClusterIPNone {
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("invalid cluster IP %q", s)
		}
		if r.Primary == 0 {
			r.Primary = familyOf(ip)
		}
		r.Family |= familyOf(ip)
	}
	if r.Family == 0 {
		return ErrNoClusterIP
	}
	if len(svc.Spec.IPFamilies) > 0 {
		r.Primary = allocator.IPv4
		if svc.Spec.IPFamilies[0] == corev1.IPv6Protocol {
			r.Primary = allocator.IPv6
		}
	}
	policy := svc.Spec.IPFamilyPolicy
	if policy != nil && *policy == corev1.IPFamilyPolicyRequireDualStack && r.Family != allocator.DualStack {
		return fmt.Errorf("not enough clusterips: RequireDualStack needs an IPv4 and an IPv6 cluster IP")
	}
	r.PreferDualStack = policy != nil && *policy == corev1.IPFamilyPolicyPreferDualStack && r.Family == allocator.DualStack
	return nil
}

// ErrNoClusterIP is returned for a Service without a cluster IP to derive address families from.
var ErrNoClusterIP = fmt.Errorf("service has no cluster IP to derive the address family from")

func requestedIPs(svc *corev1.Service) ([]netip.Addr, error) {
	fromAnnotation := annotation(svc.Annotations, AnnotationLoadBalancerIPs)
	if fromAnnotation != "" && svc.Spec.LoadBalancerIP != "" {
		return nil, fmt.Errorf("service can not have both %s and svc.Spec.LoadBalancerIP", AnnotationLoadBalancerIPs)
	}
	if svc.Spec.LoadBalancerIP != "" {
		ip, err := netip.ParseAddr(svc.Spec.LoadBalancerIP)
		if err != nil {
			return nil, fmt.Errorf("invalid spec.loadBalancerIP %q", svc.Spec.LoadBalancerIP)
		}
		return []netip.Addr{ip.Unmap()}, nil
	}
	if fromAnnotation == "" {
		return nil, nil
	}
	var ips []netip.Addr
	for _, s := range strings.Split(fromAnnotation, ",") {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("invalid IP %q in %s", s, AnnotationLoadBalancerIPs)
		}
		ips = append(ips, ip.Unmap())
	}
	if len(ips) > 2 || (len(ips) == 2 && familyOf(ips[0]) == familyOf(ips[1])) {
		return nil, fmt.Errorf("%s must hold one address, or one IPv4 and one IPv6 address, not %q", AnnotationLoadBalancerIPs, fromAnnotation)
	}
	return ips, nil
}

// annotation returns the value of a metallb.io annotation, or of its deprecated metallb.universe.tf form.
func annotation(annotations map[string]string, name string) string {
	if v, ok := annotations[name]; ok {
		return v
	}
	return annotations[deprecatedPrefix+strings.TrimPrefix(name, currentPrefix)]
}

func deprecatedAnnotations(annotations map[string]string) []string {
	var names []string
	for name := range annotations {
		if strings.HasPrefix(name, deprecatedPrefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// backendKey is what Services sharing an address must have in common: with externalTrafficPolicy Local the
// address is announced only from nodes with ready endpoints, so they must have the same endpoints (selector).
func backendKey(svc *corev1.Service) string {
	if svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		return ""
	}
	return labels.Set(svc.Spec.Selector).String()
}

func ports(svc *corev1.Service) []allocator.Port {
	ps := make([]allocator.Port, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		ps = append(ps, allocator.Port{Protocol: proto, Port: p.Port})
	}
	return ps
}

func familyOf(ip netip.Addr) allocator.Family {
	if ip.Unmap().Is4() {
		return allocator.IPv4
	}
	return allocator.IPv6
}

// IngressIPs returns the addresses of a Service's status.loadBalancer.ingress, skipping hostname entries and
// anything unparsable (which Converge then replaces).
func IngressIPs(svc *corev1.Service) []netip.Addr {
	var ips []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(in.IP); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	return ips
}

func sameAddrs(a, b []netip.Addr) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, netip.Addr.Compare)
	slices.SortFunc(b, netip.Addr.Compare)
	return slices.Equal(a, b)
}

// HasClass reports whether the Service is of the given loadBalancerClass; the empty class means the Services
// without one (the --lb-class flag of the controller and the speaker).
func HasClass(svc *corev1.Service, class string) bool {
	if svc.Spec.LoadBalancerClass == nil {
		return class == ""
	}
	return *svc.Spec.LoadBalancerClass == class
}
