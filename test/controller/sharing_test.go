package controller_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Sharing an address", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
		createPool(ctx, "a", []string{r.V4(29)})
	})

	It("shares between Services with equal non-empty keys and distinct ports", func(ctx context.Context) {
		web := createService(ctx, space, "web", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 80))
		expectAssigned(ctx, web, "a", r.IP(0))
		dns := createService(ctx, space, "dns", annotate(assign.AnnotationAllowSharedIP, "k"), ports("UDP", 53, "TCP", 53))
		expectAssigned(ctx, dns, "a", r.IP(0))
	})

	It("reads the deprecated metallb.universe.tf/allow-shared-ip", func(ctx context.Context) {
		web := createService(ctx, space, "web", annotate("metallb.universe.tf/allow-shared-ip", "k"), ports("TCP", 80))
		expectAssigned(ctx, web, "a", r.IP(0))
		api := createService(ctx, space, "api", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 443))
		expectAssigned(ctx, api, "a", r.IP(0))
		expectEvent(ctx, web, corev1.EventTypeWarning, assign.EventDeprecatedAnnotation, "metallb.universe.tf/allow-shared-ip")
	})

	It("does not share a (protocol, port), but TCP and UDP on one port share", func(ctx context.Context) {
		tcp := createService(ctx, space, "tcp", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 53))
		expectAssigned(ctx, tcp, "a", r.IP(0))
		again := createService(ctx, space, "again", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 53))
		expectAssigned(ctx, again, "a", r.IP(1))
		udp := createService(ctx, space, "udp", annotate(assign.AnnotationAllowSharedIP, "k"), ports("UDP", 53))
		expectAssigned(ctx, udp, "a", r.IP(0))
	})

	It("does not share between different keys, nor without a key", func(ctx context.Context) {
		k := createService(ctx, space, "k", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 80))
		expectAssigned(ctx, k, "a", r.IP(0))
		other := createService(ctx, space, "other", annotate(assign.AnnotationAllowSharedIP, "other"), ports("TCP", 443))
		expectAssigned(ctx, other, "a", r.IP(1))
		none := createService(ctx, space, "none", ports("TCP", 8080))
		expectAssigned(ctx, none, "a", r.IP(2))
	})

	It("shares between externalTrafficPolicy Local Services only with the same selector", func(ctx context.Context) {
		one := createService(ctx, space, "one", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 80), local(map[string]string{"app": "one"}))
		expectAssigned(ctx, one, "a", r.IP(0))
		two := createService(ctx, space, "two", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 443), local(map[string]string{"app": "two"}))
		expectAssigned(ctx, two, "a", r.IP(1))
		same := createService(ctx, space, "same", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 8443), local(map[string]string{"app": "one"}))
		expectAssigned(ctx, same, "a", r.IP(0))
	})

	It("moves a Service whose new port collides on its shared address", func(ctx context.Context) {
		web := createService(ctx, space, "web", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 80))
		expectAssigned(ctx, web, "a", r.IP(0))
		api := createService(ctx, space, "api", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 443))
		expectAssigned(ctx, api, "a", r.IP(0))
		update(ctx, api, ports("TCP", 80))
		Eventually(func() []string { return ingressIPs(get(ctx, api)) }).ShouldNot(ContainElement(r.IP(0)))
		Expect(ingressIPs(get(ctx, web))).To(Equal([]string{r.IP(0)}))
		expectEvent(ctx, api, corev1.EventTypeNormal, assign.EventClearAssignment, "port TCP/80")
	})
})
