package speaker_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"
	"github.com/ferrolb/ferrolb/internal/election"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/speaker/layer2"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Configuration changes", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx SpecContext) {
		space = newNamespace(ctx)
		r = testenv.NewRange()
	})

	It("keeps every announcement while the configuration is invalid, reports why for every node, and applies the fix", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		ad := createL2Advertisement(ctx, r.Name("l2"), pool)
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		status := expectL2Status(ctx, svc, winner)

		// The webhook is not running: the admin client creates what it would refuse.
		overlap := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.Name("overlap")},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{r.V4(31)}}}
		Expect(k8s.Create(ctx, overlap)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			deleteObject(ctx, overlap)
			expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)
		})
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultInvalid, "overlaps", r.V4(30), r.V4(31))

		// A change that would move the address if it were in force: only the other nodes are selected.
		key := "l2.test.ferrolb.io/" + r.Name("spec")
		for _, node := range others(winner) {
			labelNode(ctx, node, key, "yes")
		}
		updateL2Advertisement(ctx, ad, nodeSelector(key, "yes"))
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultInvalid, "overlaps")
		takeovers, _, _ := announcement(winner, r.IP(0))
		Consistently(func(g Gomega) {
			g.Expect(owners(r.IP(0))).To(Equal([]string{winner}))
			t, _, _ := announcement(winner, r.IP(0))
			g.Expect(t).To(Equal(takeovers))
			statuses := l2Statuses(ctx, svc)
			g.Expect(statuses).To(HaveLen(1))
			g.Expect(statuses[0].Name).To(Equal(status.Name))
		}).Should(Succeed())

		deleteObject(ctx, overlap)
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)
		next := expectElected(ctx, svc, r.IP(0))
		Expect(others(winner)).To(ContainElement(next))
		expectL2Status(ctx, svc, next)
	})

	It("moves nothing and records no event on a valid change that does not concern the Service", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectEvent(ctx, svc, corev1.EventTypeNormal, speaker.EventNodeAssigned, assignedNote(winner))
		takeovers, _, _ := announcement(winner, r.IP(0))

		// The new pool's Service is announced once the speakers have the new configuration.
		other := testenv.NewRange()
		layer2Pool(ctx, other, other.V4(30))
		probe := createService(ctx, space, "probe", annotate(assign.AnnotationAddressPool, other.Name("pool")))
		expectIPs(ctx, probe, other.IP(0))
		setEndpoints(ctx, probe, ready("node-a"))
		expectElected(ctx, probe, other.IP(0))

		Consistently(func(g Gomega) {
			g.Expect(owners(r.IP(0))).To(Equal([]string{winner}))
			t, _, _ := announcement(winner, r.IP(0))
			g.Expect(t).To(Equal(takeovers), "no new gratuitous burst")
			events := speakerEvents(ctx, svc, speaker.EventNodeAssigned)
			g.Expect(events).To(HaveLen(1))
			g.Expect(events[0].Series).To(BeNil(), "the event was not repeated: %v", seriesOf(events[0]))
		}).Should(Succeed())
	})
	It("moves the announcement to the named interfaces when the L2Advertisement starts naming them, without a new event", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		ad := createL2Advertisement(ctx, r.Name("l2"), pool)
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)
		expectEvent(ctx, svc, corev1.EventTypeNormal, speaker.EventNodeAssigned, assignedNote(winner))

		updateL2Advertisement(ctx, ad, interfaces("eth0"))
		expectL2Status(ctx, svc, winner, "eth0")
		Eventually(func(g Gomega) {
			takeovers, ifaces, _ := announcement(winner, r.IP(0))
			g.Expect(ifaces).To(Equal(layer2.NamedInterfaces("eth0")))
			g.Expect(takeovers).To(Equal(2), "a burst on the new interfaces")
		}).Should(Succeed())
		expectStaysWith(r.IP(0), winner)
		Expect(speakerEvents(ctx, svc, speaker.EventNodeAssigned)).To(HaveLen(1))
	})

	It("elects the node an L2Advertisement prefers over the one the hash would", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		ad := createL2Advertisement(ctx, r.Name("l2"), pool)
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))

		preferred := others(winner)[0]
		key := "l2.test.ferrolb.io/" + r.Name("spec")
		labelNode(ctx, preferred, key, "yes")
		updateL2Advertisement(ctx, ad, func(ad *metallbv1beta1.L2Advertisement) {
			ad.Spec.PreferredNodeSelectors = []metallbv1beta1.PreferredNodeSelector{
				{Weight: 50, Preference: metav1.LabelSelector{MatchLabels: map[string]string{key: "yes"}}}}
		})
		Expect(expectElected(ctx, svc, r.IP(0))).To(Equal(preferred))
		expectL2Status(ctx, svc, preferred)
	})

	It("does not announce a Service that may share its address when an applicable L2Advertisement selects Services", func(ctx SpecContext) {
		pool := r.Name("pool")
		createPool(ctx, pool, r.V4(30))
		createL2Advertisement(ctx, r.Name("l2"), pool, func(ad *metallbv1beta1.L2Advertisement) {
			ad.Spec.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "web"}}}
		})
		svc := createService(ctx, space, "web", annotate(election.AnnotationAllowSharedIP, "k"), func(s *corev1.Service) {
			s.Labels = map[string]string{"app": "web"}
		})
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		Expect(elect(ctx, svc, false).Reason).To(Equal(election.ReasonSharedIPWithServiceSelector))
		expectNotAnnounced(r.IP(0))

		updateService(ctx, svc, func(s *corev1.Service) { delete(s.Annotations, election.AnnotationAllowSharedIP) })
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)
	})
})

func seriesOf(e eventsv1.Event) string {
	if e.Series == nil {
		return "no series"
	}
	return fmt.Sprintf("series of %d", e.Series.Count)
}
