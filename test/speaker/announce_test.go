package speaker_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"
	"github.com/ferrolb/ferrolb/internal/election"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/speaker/layer2"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Announcing a Service", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx SpecContext) {
		space = newNamespace(ctx)
		r = testenv.NewRange()
	})

	It("reports a valid configuration in every speaker's ConfigurationState", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)
		for _, node := range nodeNames {
			state, err := configurationState(ctx, node)
			Expect(err).NotTo(HaveOccurred())
			Expect(state.Labels).To(Equal(map[string]string{"metallb.io/component-type": "speaker", "metallb.io/node-name": node}))
		}
	})

	It("announces a Service with a ready endpoint from the elected node only, with one ServiceL2Status, one event and the gauge", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))

		winner := expectElected(ctx, svc, r.IP(0))
		status := expectL2Status(ctx, svc, winner)
		expectEvent(ctx, svc, corev1.EventTypeNormal, speaker.EventNodeAssigned, assignedNote(winner))
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(Equal(
			map[string]map[string]float64{winner: {r.IP(0): 1}}))
		Consistently(func(g Gomega) {
			g.Expect(owners(r.IP(0))).To(Equal([]string{winner}))
			statuses := l2Statuses(ctx, svc)
			g.Expect(statuses).To(HaveLen(1), "one ServiceL2Status, not one per reconciliation")
			g.Expect(statuses[0].Name).To(Equal(status.Name))
			g.Expect(speakerEvents(ctx, svc, speaker.EventNodeAssigned)).To(ConsistOf(HaveField("Note", assignedNote(winner))))
		}).Should(Succeed())
		takeovers, ifaces, _ := announcement(winner, r.IP(0))
		Expect(takeovers).To(Equal(1), "one gratuitous burst")
		Expect(ifaces).To(Equal(layer2.AllInterfaces()))
	})

	It("announces nothing while no endpoint is ready or serving, then announces once one is ready", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, notReady("node-a"), notReady("node-b"))
		expectNotAnnounced(r.IP(0))
		Expect(l2Statuses(ctx, svc)).To(BeEmpty())

		setEndpoints(ctx, svc, notReady("node-a"), ready("node-b"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)
	})

	It("keeps announcing while the only endpoint terminates but still serves, and withdraws when it stops serving", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-c"))
		winner := expectElected(ctx, svc, r.IP(0))

		setEndpoints(ctx, svc, terminatingServing("node-c"))
		expectStaysWith(r.IP(0), winner)
		expectL2Status(ctx, svc, winner)

		setEndpoints(ctx, svc, notReady("node-c"))
		expectNotAnnounced(r.IP(0))
		expectNoL2Status(ctx, svc)
	})

	It("does not announce an address whose pool has no L2Advertisement, though it stays allocated", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"), ready("node-b"), ready("node-c"))
		expectNotAnnounced(r.IP(0))
		Expect(l2Statuses(ctx, svc)).To(BeEmpty())
		Expect(speakerEvents(ctx, svc, speaker.EventNodeAssigned)).To(BeEmpty())
		Expect(elect(ctx, svc, false).Reason).To(Equal(election.ReasonNoMatchingAdvertisement))

		// The same Service is announced as soon as the pool gets an advertisement.
		ad := createL2Advertisement(ctx, r.Name("l2"), pool)
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)

		// And withdrawn once it has none again.
		deleteObject(ctx, ad)
		Eventually(func() []string { return owners(r.IP(0)) }).Should(BeEmpty())
		expectNoL2Status(ctx, svc)
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(BeEmpty())
		expectIPs(ctx, svc, r.IP(0))
	})

	It("withdraws a deleted Service everywhere, with its ServiceL2Status and gauge", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(HaveKey(winner))

		deleteObject(ctx, svc)
		Eventually(func() []string { return owners(r.IP(0)) }).Should(BeEmpty())
		expectNoL2Status(ctx, svc)
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(BeEmpty())
	})

	It("withdraws a Service changed to ClusterIP", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-b"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)

		updateService(ctx, svc, func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeClusterIP
			s.Spec.AllocateLoadBalancerNodePorts = nil
			s.Spec.ExternalTrafficPolicy = ""
		})
		expectNotAnnounced(r.IP(0))
		expectNoL2Status(ctx, svc)
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(BeEmpty())
	})

	It("announces on, and reports, the interfaces the L2Advertisement names", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		createL2Advertisement(ctx, r.Name("l2"), pool, interfaces("eth0"))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner, "eth0")
		_, ifaces, _ := announcement(winner, r.IP(0))
		Expect(ifaces).To(Equal(layer2.NamedInterfaces("eth0")))
	})

	It("reports announceFailed and announces nothing when the named interface does not exist on the elected node", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		createL2Advertisement(ctx, r.Name("l2"), pool, interfaces("doesnotexist"))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		res := elect(ctx, svc, false)
		Expect(res.Reason).To(BeEmpty())

		expectEvent(ctx, svc, corev1.EventTypeWarning, speaker.EventAnnounceFailed, fmt.Sprintf(
			"the interfaces specified by LB IP %q doesn't exist in assigned node %q with protocol %q", r.IP(0), res.Node, "layer2"))
		expectNotAnnounced(r.IP(0))
		Expect(l2Statuses(ctx, svc)).To(BeEmpty())
		Expect(speakerEvents(ctx, svc, speaker.EventNodeAssigned)).To(BeEmpty())
	})

	It("announces an address two Services share from one node until the last of them is deleted", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		web := createService(ctx, space, "web", annotate(election.AnnotationAllowSharedIP, "k"), port(corev1.ProtocolTCP, 80))
		api := createService(ctx, space, "api", annotate(election.AnnotationAllowSharedIP, "k"), port(corev1.ProtocolTCP, 443))
		expectIPs(ctx, web, r.IP(0))
		expectIPs(ctx, api, r.IP(0))
		setEndpoints(ctx, web, ready("node-a"))
		setEndpoints(ctx, api, ready("node-b"))

		winner := expectElected(ctx, web, r.IP(0))
		Expect(elect(ctx, api, false).Node).To(Equal(winner))
		expectL2Status(ctx, web, winner)
		expectL2Status(ctx, api, winner)

		deleteObject(ctx, web)
		expectNoL2Status(ctx, web)
		expectStaysWith(r.IP(0), winner)
		expectL2Status(ctx, api, winner)

		deleteObject(ctx, api)
		Eventually(func() []string { return owners(r.IP(0)) }).Should(BeEmpty())
		expectNoL2Status(ctx, api)
	})

	It("announces both addresses of a dual-stack Service from one node", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30), r.V6(126))
		svc := createService(ctx, space, "web", dualStack())
		expectIPs(ctx, svc, r.IP(0), r.IP6(0))
		setEndpoints(ctx, svc, ready("node-a"))

		winner := expectElected(ctx, svc, r.IP(0))
		expectAnnouncedBy(r.IP6(0), winner)
		expectL2Status(ctx, svc, winner)
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(Equal(
			map[string]map[string]float64{winner: {r.IP(0): 1, r.IP6(0): 1}}))
		Expect(speakerEvents(ctx, svc, speaker.EventNodeAssigned)).To(HaveLen(1))
	})
	It("moves the announcement to the Service's new address, leaving nothing of the old one", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(29))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(Equal(
			map[string]map[string]float64{winner: {r.IP(0): 1}}))

		// An address the same node wins, so that the node itself must drop the old one.
		cur := getService(ctx, svc)
		next := ""
		for i := 1; i < 8 && next == ""; i++ {
			cur.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: r.IP(i)}}
			if electService(ctx, cur, false).Node == winner {
				next = r.IP(i)
			}
		}
		Expect(next).NotTo(BeEmpty(), "no other address of the pool is won by %s", winner)
		updateService(ctx, svc, annotate(assign.AnnotationLoadBalancerIPs, next))
		expectIPs(ctx, svc, next)

		expectAnnouncedBy(next, winner)
		Eventually(func() []string { return owners(r.IP(0)) }).Should(BeEmpty())
		expectL2Status(ctx, svc, winner)
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(Equal(
			map[string]map[string]float64{winner: {next: 1}}), "the gauge of the old address should be deleted")
	})

	It("ignores a Service of another loadBalancerClass", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web", func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To("example.com/other") })
		// The controller does not handle the class either: the address is written as its own controller would.
		Eventually(func() error {
			cur := getService(ctx, svc)
			cur.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: r.IP(0)}}
			return k8s.Status().Update(ctx, cur)
		}).Should(Succeed())
		setEndpoints(ctx, svc, ready("node-a"))
		Expect(elect(ctx, svc, false).Node).NotTo(BeEmpty(), "only the class keeps the speakers from announcing")
		expectNotAnnounced(r.IP(0))
		Expect(l2Statuses(ctx, svc)).To(BeEmpty())
	})

	It("keeps one ServiceL2Status through a burst of changes to an announced Service", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))

		var most atomic.Int32
		pollCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			for pollCtx.Err() == nil {
				var list metallbv1beta1.ServiceL2StatusList
				if err := k8s.List(pollCtx, &list, client.InNamespace(ns), client.MatchingLabels{
					speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace}); err == nil {
					if n := int32(len(list.Items)); n > most.Load() {
						most.Store(n)
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
		setEndpoints(ctx, svc, ready("node-a"))
		for i := range 10 {
			updateService(ctx, svc, annotate("test.ferrolb.io/touch", strconv.Itoa(i)))
		}
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)
		Consistently(func() []metallbv1beta1.ServiceL2Status { return l2Statuses(ctx, svc) }).Should(HaveLen(1))
		stop()
		<-done
		Expect(most.Load()).To(BeNumerically("<=", 1), "a second ServiceL2Status existed for a while")
	})
})
