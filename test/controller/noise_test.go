package controller_test

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// createServices creates n Services named svc-<i> in parallel.
func createServices(ctx context.Context, space string, n int) {
	GinkgoHelper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				errs <- k8s.Create(ctx, newService(space, fmt.Sprintf("svc-%d", i)))
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		Expect(err).NotTo(HaveOccurred())
	}
	DeferCleanup(func(ctx context.Context) {
		Expect(k8s.DeleteAllOf(ctx, &corev1.Service{}, client.InNamespace(space))).To(Succeed())
	})
}

// resourceVersions maps each Service of the namespace to its resourceVersion, once all n show an address.
func resourceVersions(ctx context.Context, space string, n int) map[string]string {
	GinkgoHelper()
	versions := map[string]string{}
	Eventually(func(g Gomega) {
		var list corev1.ServiceList
		g.Expect(k8s.List(ctx, &list, client.InNamespace(space))).To(Succeed())
		clear(versions)
		for _, s := range list.Items {
			g.Expect(s.Status.LoadBalancer.Ingress).To(HaveLen(1), "Service %s", s.Name)
			versions[s.Name] = s.ResourceVersion
		}
		g.Expect(versions).To(HaveLen(n))
	}).Should(Succeed())
	return versions
}

var _ = Describe("API writes and events", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
	})

	It("writes nothing and records no event when it converges assigned Services again", func(ctx context.Context) {
		const n = 200
		createPool(ctx, "a", []string{r.V4(24)})
		createServices(ctx, space, n)
		before := resourceVersions(ctx, space, n)
		// Let the events of the allocations reach the API server before counting.
		Eventually(func() int { return len(namespaceEvents(ctx, space)) }).Should(Equal(n))
		awaitQuiet()
		services, events := writes.count()
		since := serviceReconciles()

		touchConfiguration(ctx, "touch")
		awaitServiceReconciles(since, n)
		Consistently(func(g Gomega) {
			s, e := writes.count()
			g.Expect(s-services).To(BeZero(), "Service writes")
			g.Expect(e-events).To(BeZero(), "Event writes")
		}).Should(Succeed())
		Expect(resourceVersions(ctx, space, n)).To(Equal(before))
	})

	It("writes nothing and records no event for a change that changes no outcome", func(ctx context.Context) {
		createPool(ctx, "a", []string{r.V4(30)})
		svc := createService(ctx, space, "web")
		expectAssigned(ctx, svc, "a", r.IP(0))
		expectEvent(ctx, svc, corev1.EventTypeNormal, assign.EventIPAllocated, r.IP(0))
		awaitQuiet()
		services, events := writes.count()
		since := serviceReconciles()
		for i := range 10 {
			update(ctx, svc, labelled(map[string]string{"touched": fmt.Sprint(i)}))
		}
		awaitServiceReconciles(since, 1)
		Consistently(func(g Gomega) {
			s, e := writes.count()
			g.Expect(s-services).To(BeZero(), "Service writes")
			g.Expect(e-events).To(BeZero(), "Event writes")
		}).Should(Succeed())
	})

	It("aggregates the events of a flapping Service instead of recording one per flap", func(ctx context.Context) {
		other := testenv.NewRange()
		createPool(ctx, "a", []string{r.V4(30)})
		createPool(ctx, "b", []string{other.V4(30)})
		svc := createService(ctx, space, "web", annotate(assign.AnnotationAddressPool, "a"))
		expectAssigned(ctx, svc, "a", r.IP(0))
		expectEvent(ctx, svc, corev1.EventTypeNormal, assign.EventIPAllocated, r.IP(0))
		awaitQuiet()
		_, events := writes.count()

		const flaps = 20
		for i := range flaps {
			pool, ip := "b", other.IP(0)
			if i%2 == 1 {
				pool, ip = "a", r.IP(0)
			}
			update(ctx, svc, annotate(assign.AnnotationAddressPool, pool))
			expectAssigned(ctx, svc, pool, ip)
		}
		// Each flap is a ClearAssignment and an IPAllocated. The recorder aggregates repeated events into one
		// Event with a series: at most a create and a series patch per reason.
		Eventually(func(g Gomega) {
			evs := eventsOf(ctx, svc)
			g.Expect(reasons(evs)).To(ConsistOf(assign.EventIPAllocated, assign.EventClearAssignment))
			for _, e := range evs {
				g.Expect(e.Series).NotTo(BeNil(), "%s repeated %d times", e.Reason, flaps)
			}
		}).Should(Succeed())
		_, after := writes.count()
		Expect(after - events).To(BeNumerically("<=", 4))
	})
})
