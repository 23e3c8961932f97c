package speaker_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Speaker lifecycle", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx SpecContext) {
		space = newNamespace(ctx)
		r = testenv.NewRange()
	})

	It("goes on announcing, frozen for the hand-over, after leaving memberlist while another node takes over", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))

		running[winner].speaker.Freeze()
		DeferCleanup(func() { restartSpeaker(winner) })
		members.leave(winner)
		res := elect(ctx, svc, false)
		Expect(res.Node).NotTo(Equal(winner))
		Eventually(func() []string { return owners(r.IP(0)) }).Should(ConsistOf(winner, res.Node))
		Consistently(func() []string { return owners(r.IP(0)) }).Should(ConsistOf(winner, res.Node))
	})

	It("announces the same addresses again after a restart, with the ServiceL2Status it had", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(29))
		svc := createService(ctx, space, "web")
		api := createService(ctx, space, "api")
		expectIPs(ctx, svc, r.IP(0))
		expectIPs(ctx, api, r.IP(1))
		setEndpoints(ctx, svc, ready("node-a"))
		setEndpoints(ctx, api, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		status := expectL2Status(ctx, svc, winner)

		restarted := restartSpeaker(winner)
		Expect(restarted.fake.Owned()).To(BeEmpty())
		expectAnnouncedBy(r.IP(0), winner)
		expectElected(ctx, api, r.IP(1))
		Consistently(func(g Gomega) {
			statuses := l2Statuses(ctx, svc)
			g.Expect(statuses).To(HaveLen(1))
			g.Expect(statuses[0].Name).To(Equal(status.Name))
		}).Should(Succeed())
	})
	It("deletes the ServiceL2Status of a Service deleted while its announcing speaker was down", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)

		down := true
		running[winner].stop()
		DeferCleanup(func() {
			if down {
				startSpeaker(winner)
			}
		})
		// The garbage collector deletes the Service's EndpointSlices with it.
		deleteObject(ctx, svc)
		deleteEndpoints(ctx, svc)
		startSpeaker(winner)
		down = false
		expectNoL2Status(ctx, svc)
	})

	It("recreates the ServiceL2Status of an announced Service when it is deleted", func(ctx SpecContext) {
		layer2Pool(ctx, r, r.V4(30))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		status := expectL2Status(ctx, svc, winner)
		// Let the reconciliations the creation of the Service and its endpoints caused pass.
		Consistently(func() []metallbv1beta1.ServiceL2Status { return l2Statuses(ctx, svc) }).Should(HaveLen(1))

		deleteObject(ctx, &status)
		recreated := expectL2Status(ctx, svc, winner)
		Expect(recreated.Name).NotTo(Equal(status.Name))
	})
})
