package speaker_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/speaker"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Electing the announcing node", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx SpecContext) {
		space = newNamespace(ctx)
		r = testenv.NewRange()
	})

	It("announces an externalTrafficPolicy Local Service only from a node with a local serving endpoint, and follows the endpoint", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web", local())
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"), ready("node-b"), ready("node-c"))
		first := expectElected(ctx, svc, r.IP(0))

		// Two moves: at least one of them goes to a node that would lose the election without the endpoint.
		for _, node := range others(first) {
			setEndpoints(ctx, svc, ready(node), notReady(first))
			expectAnnouncedBy(r.IP(0), node)
			expectL2Status(ctx, svc, node)
			expectEvent(ctx, svc, corev1.EventTypeNormal, speaker.EventNodeAssigned, assignedNote(node))
		}
	})

	It("lets only the nodes an L2Advertisement's nodeSelectors select win", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		ad := createL2Advertisement(ctx, r.Name("l2"), pool)
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))

		key := "l2.test.ferrolb.io/" + r.Name("spec")
		rest := others(winner)
		for _, node := range rest {
			labelNode(ctx, node, key, "yes")
		}
		updateL2Advertisement(ctx, ad, func(ad *metallbv1beta1.L2Advertisement) {
			ad.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{key: "yes"}}}
		})
		second := expectElected(ctx, svc, r.IP(0))
		Expect(rest).To(ContainElement(second))
		expectL2Status(ctx, svc, second)

		// Only the last node left is selected: it wins, though it lost to both others.
		last := others(winner, second)[0]
		updateNode(ctx, second, func(n *corev1.Node) { delete(n.Labels, key) })
		expectAnnouncedBy(r.IP(0), last)
		expectL2Status(ctx, svc, last)
	})

	It("never elects a node labelled exclude-from-external-load-balancers", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)

		labelNode(ctx, winner, corev1.LabelNodeExcludeBalancers, "")
		next := expectElected(ctx, svc, r.IP(0))
		Expect(next).NotTo(Equal(winner))
		expectL2Status(ctx, svc, next) // the old owner deleted its own
		expectEvent(ctx, svc, corev1.EventTypeNormal, speaker.EventNodeAssigned, assignedNote(next))
		Eventually(func() map[string]map[string]float64 { return announcedSeries(svc) }).Should(Equal(
			map[string]map[string]float64{next: {r.IP(0): 1}}), "the old owner's gauge should be deleted")
	})

	It("moves the address off a node whose Node object is deleted", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))

		deleteObject(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: winner}})
		DeferCleanup(func(ctx SpecContext) {
			Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: winner, Labels: baseLabels(winner)}})).To(Succeed())
		})
		next := expectElected(ctx, svc, r.IP(0))
		Expect(next).NotTo(Equal(winner))
		expectL2Status(ctx, svc, next)
	})

	It("still elects an excluded node when the speakers ignore the exclusion label", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))

		DeferCleanup(func() {
			for _, node := range nodeNames {
				restartSpeaker(node)
			}
		})
		for _, node := range nodeNames {
			restartSpeaker(node, ignoringExcludeLB())
		}
		expectAnnouncedBy(r.IP(0), winner)
		labelNode(ctx, winner, corev1.LabelNodeExcludeBalancers, "true")
		Expect(elect(ctx, svc, true).Node).To(Equal(winner))
		expectStaysWith(r.IP(0), winner)
		expectL2Status(ctx, svc, winner)
	})

	It("moves the address off a node whose network becomes unavailable, and back when it recovers", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))

		setNetworkUnavailable(ctx, winner, corev1.ConditionTrue)
		next := expectElected(ctx, svc, r.IP(0))
		Expect(next).NotTo(Equal(winner))
		expectL2Status(ctx, svc, next)

		setNetworkUnavailable(ctx, winner, corev1.ConditionFalse)
		expectAnnouncedBy(r.IP(0), winner)
		expectL2Status(ctx, svc, winner)
	})

	It("hands the address to another member when the owner leaves memberlist, and takes it back when it returns", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		for _, node := range others(winner) {
			_, _, owned := announcement(node, r.IP(0))
			Expect(owned).To(BeFalse())
		}

		// A node that does not announce leaving moves nothing.
		members.leave(others(winner)[0])
		expectStaysWith(r.IP(0), winner)
		takeovers, _, _ := announcement(winner, r.IP(0))
		Expect(takeovers).To(Equal(1))
		members.join(others(winner)[0])

		members.leave(winner)
		next := expectElected(ctx, svc, r.IP(0))
		Expect(next).NotTo(Equal(winner))
		takeovers, _, _ = announcement(next, r.IP(0))
		Expect(takeovers).To(Equal(1), "the new owner sends one gratuitous burst")
		expectL2Status(ctx, svc, next)

		members.join(winner)
		expectAnnouncedBy(r.IP(0), winner)
		takeovers, _, _ = announcement(winner, r.IP(0))
		Expect(takeovers).To(Equal(1), "the returning owner takes the address over anew")
		expectL2Status(ctx, svc, winner)
	})

	It("announces each of several Services from the node elected for its own address", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(29))
		var svcs []*corev1.Service
		for i := range 6 {
			svc := createService(ctx, space, fmt.Sprintf("web-%d", i))
			expectIPs(ctx, svc, r.IP(i))
			setEndpoints(ctx, svc, ready("node-a"))
			svcs = append(svcs, svc)
		}
		for i, svc := range svcs {
			winner := expectElected(ctx, svc, r.IP(i))
			expectL2Status(ctx, svc, winner)
		}
	})
})
