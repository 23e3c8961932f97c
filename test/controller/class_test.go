package controller_test

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Which Services the controller handles", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
		createPool(ctx, "a", []string{r.V4(30)})
	})

	It("by default handles only Services without a loadBalancerClass", func(ctx context.Context) {
		theirs := createService(ctx, space, "theirs", class("example.com/other"))
		ours := createService(ctx, space, "ours")
		expectAssigned(ctx, ours, "a", r.IP(0))
		got := expectPending(ctx, theirs, assign.ReasonClassNotHandled)
		Expect(condition(got).Message).To(ContainSubstring("example.com/other"))
	})

	It("with --lb-class handles only the Services of that class", func(ctx context.Context) {
		restartController(withClass("ferrolb.io/lab"))
		DeferCleanup(func() { restartController() })
		ours := createService(ctx, space, "ours", class("ferrolb.io/lab"))
		classless := createService(ctx, space, "classless")
		expectAssigned(ctx, ours, "a", r.IP(0))
		expectPending(ctx, classless, assign.ReasonClassNotHandled)
	})

	It("never overwrites the condition the controller of another class wrote", func(ctx context.Context) {
		theirs := createService(ctx, space, "theirs", class("example.com/other"))
		expectPending(ctx, theirs, assign.ReasonClassNotHandled)
		// Then another ferrolb, started with --lb-class example.com/other, allocates it.
		Eventually(func() error {
			cur := get(ctx, theirs)
			cur.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.7"}}
			meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: assign.ConditionType,
				Status: metav1.ConditionTrue, Reason: assign.ReasonAllocated, Message: "assigned 198.51.100.7 from pool other"})
			return k8s.Status().Update(ctx, cur)
		}).Should(Succeed())
		touchConfiguration(ctx, "touch")
		Consistently(func(g Gomega) {
			cur := get(ctx, theirs)
			g.Expect(ingressIPs(cur)).To(Equal([]string{"198.51.100.7"}))
			g.Expect(condition(cur).Reason).To(Equal(assign.ReasonAllocated))
		}).Should(Succeed())
	})

	It("clears what it wrote when a Service stops being a LoadBalancer, and gives the address to a pending one", func(ctx context.Context) {
		var svcs []*corev1.Service
		for i := range 4 {
			svcs = append(svcs, createService(ctx, space, fmt.Sprintf("s%d", i)))
			expectAssigned(ctx, svcs[i], "a", r.IP(i))
		}
		pending := createService(ctx, space, "pending")
		expectPending(ctx, pending, assign.ReasonPoolExhausted)

		update(ctx, svcs[1], func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeClusterIP
			s.Spec.AllocateLoadBalancerNodePorts = nil
		})
		Eventually(func(g Gomega) {
			cur := get(ctx, svcs[1])
			g.Expect(cur.Status.LoadBalancer.Ingress).To(BeEmpty())
			g.Expect(cur.Annotations).NotTo(HaveKey(assign.AnnotationAllocatedFromPool))
			g.Expect(condition(cur)).To(BeNil())
		}).Should(Succeed())
		expectAssigned(ctx, pending, "a", r.IP(1))
	})

	It("gives a Service that becomes a LoadBalancer an address", func(ctx context.Context) {
		svc := newService(space, "web")
		svc.Spec.Type, svc.Spec.AllocateLoadBalancerNodePorts = corev1.ServiceTypeClusterIP, nil
		Expect(k8s.Create(ctx, svc)).To(Succeed())
		DeferCleanup(deleteAndWait, svc)
		touchConfiguration(ctx, "touch")
		Expect(get(ctx, svc).Status.Conditions).To(BeEmpty())
		update(ctx, svc, func(s *corev1.Service) {
			s.Spec.Type, s.Spec.AllocateLoadBalancerNodePorts = corev1.ServiceTypeLoadBalancer, ptr.To(false)
		})
		expectAssigned(ctx, svc, "a", r.IP(0))
	})
})
