package controller_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("What a Service asks for", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
	})

	It("gets the lowest free address, shown in status, annotation, condition and an IPAllocated event", func(ctx context.Context) {
		createPool(ctx, "first", []string{r.V4(30)})
		one := createService(ctx, space, "one")
		expectAssigned(ctx, one, "first", r.IP(0))
		expectEvent(ctx, one, corev1.EventTypeNormal, assign.EventIPAllocated, r.IP(0))
		two := createService(ctx, space, "two")
		expectAssigned(ctx, two, "first", r.IP(1))
	})

	It("takes the address from the pool metallb.io/address-pool names", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		other := testenv.NewRange()
		createPool(ctx, "b", []string{other.V4(30)})
		svc := createService(ctx, space, "web", annotate(assign.AnnotationAddressPool, "b"))
		expectAssigned(ctx, svc, "b", other.IP(0))
	})

	It("reads the deprecated metallb.universe.tf/address-pool and warns with a deprecatedAnnotation event", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		other := testenv.NewRange()
		createPool(ctx, "b", []string{other.V4(30)})
		svc := createService(ctx, space, "web", annotate("metallb.universe.tf/address-pool", "b"))
		expectAssigned(ctx, svc, "b", other.IP(0))
		expectEvent(ctx, svc, corev1.EventTypeWarning, assign.EventDeprecatedAnnotation, "metallb.universe.tf/address-pool")
	})

	It("gets the address metallb.io/loadBalancerIPs requests", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(24)})
		svc := createService(ctx, space, "web", annotate(assign.AnnotationLoadBalancerIPs, r.IP(42)))
		expectAssigned(ctx, svc, "a", r.IP(42))
	})

	It("reads the deprecated metallb.universe.tf/loadBalancerIPs and warns", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(24)})
		svc := createService(ctx, space, "web", annotate("metallb.universe.tf/loadBalancerIPs", r.IP(7)))
		expectAssigned(ctx, svc, "a", r.IP(7))
		expectEvent(ctx, svc, corev1.EventTypeWarning, assign.EventDeprecatedAnnotation, "metallb.universe.tf/loadBalancerIPs")
	})

	It("gets the address spec.loadBalancerIP requests", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(24)})
		svc := createService(ctx, space, "web", loadBalancerIP(r.IP(9)))
		expectAssigned(ctx, svc, "a", r.IP(9))
	})

	It("gets an address of each family metallb.io/loadBalancerIPs requests for a dual-stack Service", func(ctx context.Context) {
		createPool(ctx, "dual", []string{r.V4(24), r.V6(120)})
		svc := createService(ctx, space, "web",
			families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol),
			annotate(assign.AnnotationLoadBalancerIPs, r.IP(5)+","+r.IP6(5)))
		expectAssigned(ctx, svc, "dual", r.IP(5), r.IP6(5))
	})

	It("refuses both metallb.io/loadBalancerIPs and spec.loadBalancerIP with a LoadBalancerFailed event", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(24)})
		svc := createService(ctx, space, "web", annotate(assign.AnnotationLoadBalancerIPs, r.IP(1)), loadBalancerIP(r.IP(2)))
		got := expectPending(ctx, svc, assign.ReasonInvalidRequest)
		Expect(condition(got).Message).To(ContainSubstring("can not have both"))
		expectEvent(ctx, svc, corev1.EventTypeWarning, assign.EventLoadBalancerFailed, "can not have both")
	})

	It("moves a Service to the pool its annotation names, with ClearAssignment and IPAllocated events", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		other := testenv.NewRange()
		createPool(ctx, "b", []string{other.V4(30)})
		svc := createService(ctx, space, "web", annotate(assign.AnnotationAddressPool, "a"))
		expectAssigned(ctx, svc, "a", r.IP(0))
		update(ctx, svc, annotate(assign.AnnotationAddressPool, "b"))
		expectAssigned(ctx, svc, "b", other.IP(0))
		expectEvent(ctx, svc, corev1.EventTypeNormal, assign.EventClearAssignment, `requests pool "b"`)
		Eventually(func() []string { return reasons(eventsOf(ctx, svc)) }).Should(ContainElement(assign.EventIPAllocated))
	})
})
