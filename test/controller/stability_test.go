package controller_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// snapshot maps each Service to the addresses it shows.
func snapshot(ctx context.Context, space string) map[string][]string {
	GinkgoHelper()
	var list corev1.ServiceList
	Expect(k8s.List(ctx, &list, client.InNamespace(space))).To(Succeed())
	out := map[string][]string{}
	for _, s := range list.Items {
		out[s.Name] = ingressIPs(&s)
	}
	return out
}

// expectNoDuplicates fails if two Services show the same address.
func expectNoDuplicates(g Gomega, shown map[string][]string) {
	owner := map[string]string{}
	for name, ips := range shown {
		for _, ip := range ips {
			g.Expect(owner).NotTo(HaveKey(ip), "%s and %s both show %s", owner[ip], name, ip)
			owner[ip] = name
		}
	}
}

var _ = Describe("Address stability", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
	})

	It("moves no address, duplicates none and writes nothing across restarts with a full pool and pending Services", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(29)})
		var all []*corev1.Service
		for i := range 8 {
			all = append(all, createService(ctx, space, fmt.Sprintf("held-%d", i)))
		}
		for _, s := range all {
			Eventually(func() []string { return ingressIPs(get(ctx, s)) }).Should(HaveLen(1))
		}
		var pending []*corev1.Service
		for i := range 4 {
			p := createService(ctx, space, fmt.Sprintf("a-pending-%d", i))
			expectPending(ctx, p, assign.ReasonPoolExhausted)
			pending = append(pending, p)
		}
		before := snapshot(ctx, space)
		Eventually(func(g Gomega) { expectNoDuplicates(g, before) }).Should(Succeed())
		awaitQuiet()

		for range 3 {
			stopController()
			services, events := writes.count()
			since := serviceReconciles()
			startController()
			awaitServiceReconciles(since, len(all)+len(pending))
			Expect(snapshot(ctx, space)).To(Equal(before))
			for _, p := range pending {
				Expect(condition(get(ctx, p)).Reason).To(Equal(assign.ReasonPoolExhausted))
			}
			Consistently(func(g Gomega) {
				s, e := writes.count()
				g.Expect(s-services).To(BeZero(), "Service writes after a restart")
				g.Expect(e-events).To(BeZero(), "events after a restart")
			}).Should(Succeed())
		}

		// The pending Services still get the addresses that are freed.
		deleteAndWait(ctx, all[0])
		Eventually(func(g Gomega) {
			shown := snapshot(ctx, space)
			assigned := 0
			for _, p := range pending {
				assigned += len(shown[p.Name])
			}
			g.Expect(assigned).To(Equal(1))
			expectNoDuplicates(g, shown)
		}).Should(Succeed())
	})

	It("restores every valid address before it gives any new one after a restart", func(ctx context.Context) {
		// old shows an address of pool b; young an address of pool a. While the controller is down, pool b
		// goes: old needs a new address, and must not get the one young shows.
		b := testenv.NewRange()
		createPool(ctx, "b", []string{b.V4(32)})
		old := createService(ctx, space, "a-old")
		expectAssigned(ctx, old, "b", b.IP(0))
		createPool(ctx, "a", []string{r.V4(30)})
		// The controller restores Services oldest first: make old older than young by the API's one-second
		// resolution of creationTimestamp.
		Eventually(func() bool { return time.Since(get(ctx, old).CreationTimestamp.Time) > time.Second }).Should(BeTrue())
		young := createService(ctx, space, "b-young")
		expectAssigned(ctx, young, "a", r.IP(0))

		stopController()
		Expect(k8s.Delete(ctx, poolNamed("b"))).To(Succeed())
		startController()

		expectAssigned(ctx, old, "a", r.IP(1))
		expectEvent(ctx, old, corev1.EventTypeNormal, assign.EventClearAssignment, b.IP(0))
		expectAssigned(ctx, young, "a", r.IP(0))
		Expect(reasons(eventsOf(ctx, young))).NotTo(ContainElement(assign.EventClearAssignment))
	})

	It("moves no address on an unrelated configuration change", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		svc := createService(ctx, space, "web")
		expectAssigned(ctx, svc, "a", r.IP(0))
		// A new pool that sorts first, and the pool growing.
		createPool(ctx, "0-first", []string{testenv.NewRange().V4(30)})
		Eventually(func() error {
			p := poolNamed("a")
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			p.Spec.Addresses = []string{r.V4(29)}
			return k8s.Update(ctx, p)
		}).Should(Succeed())
		Eventually(func() float64 {
			return metric("metallb_allocator_addresses_total", map[string]string{"pool": "a"})
		}).Should(Equal(8.0))
		Consistently(func() []string { return ingressIPs(get(ctx, svc)) }).Should(Equal([]string{r.IP(0)}))
		expectEvent(ctx, svc, corev1.EventTypeNormal, assign.EventIPAllocated, r.IP(0))
		Expect(reasons(eventsOf(ctx, svc))).To(Equal([]string{assign.EventIPAllocated}))
	})

	It("gives a Service whose address left every pool a new one", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		var svcs []*corev1.Service
		for i := range 4 {
			svcs = append(svcs, createService(ctx, space, fmt.Sprintf("s%d", i)))
			expectAssigned(ctx, svcs[i], "a", r.IP(i))
		}
		// The pool shrinks to its first half and gains another range.
		more := testenv.NewRange()
		Eventually(func() error {
			p := poolNamed("a")
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			p.Spec.Addresses = []string{r.V4(31), more.V4(31)}
			return k8s.Update(ctx, p)
		}).Should(Succeed())
		expectAssigned(ctx, svcs[0], "a", r.IP(0))
		expectAssigned(ctx, svcs[1], "a", r.IP(1))
		Eventually(func() []string {
			return append(ingressIPs(get(ctx, svcs[2])), ingressIPs(get(ctx, svcs[3]))...)
		}).Should(ConsistOf(more.IP(0), more.IP(1)))
		expectEvent(ctx, svcs[2], corev1.EventTypeNormal, assign.EventClearAssignment, r.IP(2))
	})

	It("removes every address when no pool is left", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		one := createService(ctx, space, "one")
		expectAssigned(ctx, one, "a", r.IP(0))
		two := createService(ctx, space, "two")
		expectAssigned(ctx, two, "a", r.IP(1))
		deletePool(ctx, "a")
		expectPending(ctx, one, assign.ReasonNoPoolConfigured)
		expectPending(ctx, two, assign.ReasonNoPoolConfigured)
	})

	It("keeps the previous configuration, and every address, when the new one is invalid", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		svc := createService(ctx, space, "web")
		expectAssigned(ctx, svc, "a", r.IP(0))
		// Overlapping pools: the configuration is refused.
		createPoolNoWait(ctx, "overlap", []string{r.V4(31)})
		Eventually(func(g Gomega) {
			state := &metallbv1beta1.ConfigurationState{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "controller"}, state)).To(Succeed())
			g.Expect(state.Status.Result).To(Equal(metallbv1beta1.ConfigurationResultInvalid))
			g.Expect(state.Status.ErrorSummary).To(ContainSubstring("overlap"))
		}).Should(Succeed())
		Expect(metric("metallb_k8s_client_config_stale_bool", nil)).To(Equal(1.0))
		late := createService(ctx, space, "late")
		expectAssigned(ctx, late, "a", r.IP(1))
		expectAssigned(ctx, svc, "a", r.IP(0))

		deletePool(ctx, "overlap")
		Eventually(func(g Gomega) {
			state := &metallbv1beta1.ConfigurationState{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "controller"}, state)).To(Succeed())
			g.Expect(state.Status.Result).To(Equal(metallbv1beta1.ConfigurationResultValid))
		}).Should(Succeed())
		Expect(metric("metallb_k8s_client_config_stale_bool", nil)).To(BeZero())
	})
})

func poolNamed(name string) *metallbv1beta1.IPAddressPool {
	p := &metallbv1beta1.IPAddressPool{}
	p.Namespace, p.Name = ns, name
	return p
}
