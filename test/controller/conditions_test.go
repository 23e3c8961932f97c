package controller_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// failure sets up a world in which the Service it returns gets no address, and returns how to fix it.
type failure func(ctx context.Context, space string, r testenv.AddrRange) (svc *corev1.Service, fix func(context.Context))

var _ = Describe("The Service condition", func() {
	DescribeTable("says why a Service has no address, and turns True once it has one",
		func(ctx context.Context, reason, message string, setup failure) {
			space, r := newNamespace(ctx, nil), testenv.NewRange()
			svc, fix := setup(ctx, space, r)
			got := expectPending(ctx, svc, reason)
			Expect(condition(got).Message).To(ContainSubstring(message))
			if reason != assign.ReasonClassNotHandled && reason != assign.ReasonInvalidRequest {
				expectEvent(ctx, svc, corev1.EventTypeWarning, assign.EventAllocationFailed, message)
			}
			fix(ctx)
			Eventually(func(g Gomega) {
				c := condition(get(ctx, svc))
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Reason).To(Equal(assign.ReasonAllocated))
				g.Expect(get(ctx, svc).Status.LoadBalancer.Ingress).To(HaveLen(1))
			}).Should(Succeed())
		},
		Entry("no pool at all", assign.ReasonNoPoolConfigured, "no IPAddressPool",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				return createService(ctx, space, "web"), func(ctx context.Context) { createPool(ctx, "a", []string{r.V4(30)}) }
			}),
		Entry("no matching pool", assign.ReasonNoMatchingPool, "serviceAllocation",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "elsewhere", []string{r.V4(30)}, allocateTo(metallbv1beta1.ServiceAllocation{Namespaces: []string{"elsewhere"}}))
				return createService(ctx, space, "web"), func(ctx context.Context) {
					createPool(ctx, "open", []string{testenv.NewRange().V4(30)})
				}
			}),
		Entry("pool exhausted", assign.ReasonPoolExhausted, "no available IPs",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(32)})
				holder := createService(ctx, space, "holder")
				expectAssigned(ctx, holder, "a", r.IP(0))
				return createService(ctx, space, "web"), func(ctx context.Context) { deleteAndWait(ctx, holder) }
			}),
		Entry("requested IP in no pool", assign.ReasonRequestedIPNotInPool, "not allowed in config",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(30)})
				wanted := testenv.NewRange()
				return createService(ctx, space, "web", annotate(assign.AnnotationLoadBalancerIPs, wanted.IP(3))), func(ctx context.Context) {
					createPool(ctx, "b", []string{wanted.V4(30)})
				}
			}),
		Entry("requested IP in use", assign.ReasonRequestedIPInUse, "in use by",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(30)})
				holder := createService(ctx, space, "holder")
				expectAssigned(ctx, holder, "a", r.IP(0))
				return createService(ctx, space, "web", loadBalancerIP(r.IP(0)), ports("TCP", 443)), func(ctx context.Context) {
					deleteAndWait(ctx, holder)
				}
			}),
		Entry("sharing conflict", assign.ReasonSharingConflict, "port TCP/80",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(30)})
				holder := createService(ctx, space, "holder", annotate(assign.AnnotationAllowSharedIP, "k"))
				expectAssigned(ctx, holder, "a", r.IP(0))
				svc := createService(ctx, space, "web", annotate(assign.AnnotationAllowSharedIP, "k"), loadBalancerIP(r.IP(0)))
				return svc, func(ctx context.Context) { update(ctx, svc, ports("TCP", 443)) }
			}),
		Entry("unknown pool", assign.ReasonUnknownPool, `unknown pool "later"`,
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(30)})
				return createService(ctx, space, "web", annotate(assign.AnnotationAddressPool, "later")), func(ctx context.Context) {
					createPool(ctx, "later", []string{testenv.NewRange().V4(30)})
				}
			}),
		Entry("requested pool not for this Service", assign.ReasonPoolNotCompatible, "not compatible",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "team", []string{r.V4(30)}, allocateTo(metallbv1beta1.ServiceAllocation{Namespaces: []string{"team"}}))
				return createService(ctx, space, "web", annotate(assign.AnnotationAddressPool, "team")), func(ctx context.Context) {
					Eventually(func() error {
						p := &metallbv1beta1.IPAddressPool{}
						if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "team"}, p); err != nil {
							return err
						}
						p.Spec.AllocateTo.Namespaces = append(p.Spec.AllocateTo.Namespaces, space)
						return k8s.Update(ctx, p)
					}).Should(Succeed())
				}
			}),
		Entry("invalid request", assign.ReasonInvalidRequest, "can not have both",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(30)})
				svc := createService(ctx, space, "web", annotate(assign.AnnotationLoadBalancerIPs, r.IP(1)), loadBalancerIP(r.IP(1)))
				return svc, func(ctx context.Context) {
					update(ctx, svc, func(s *corev1.Service) { delete(s.Annotations, assign.AnnotationLoadBalancerIPs) })
				}
			}),
		Entry("class not ours", assign.ReasonClassNotHandled, "example.com/other",
			func(ctx context.Context, space string, r testenv.AddrRange) (*corev1.Service, func(context.Context)) {
				createPool(ctx, "a", []string{r.V4(30)})
				return createService(ctx, space, "web", class("example.com/other")), func(context.Context) {
					restartController(withClass("example.com/other"))
					DeferCleanup(func() { restartController() })
				}
			}),
	)
})
