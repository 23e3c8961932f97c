package speaker_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/speaker"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// The ASNs of the specs' peers: iBGP peers are in the nodes' AS, eBGP peers in another.
const (
	nodeASN   = 64512
	remoteASN = 64513
)

var _ = Describe("BGP mode", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx SpecContext) {
		space = newNamespace(ctx)
		r = testenv.NewRange()
	})

	It("opens a session only on the nodes a peer's nodeSelectors select, and follows their labels", func(ctx SpecContext) {
		key := "bgp.test.ferrolb.io/" + r.Name("spec")
		labelNode(ctx, "node-b", key, "yes")
		selective := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1", func(p *metallbv1beta2.BGPPeer) {
			p.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{key: "yes"}}}
		})
		everywhere := createPeer(ctx, r.Name("core"), remoteASN, "10.0.0.2")
		expectSessions(selective.Name, "node-b")
		expectSessions(everywhere.Name, nodeNames...)
		Expect(running["node-b"].router.Sessions()[selective.Name]).To(And(
			HaveField("Address", netip.MustParseAddr("10.0.0.1")), HaveField("MyASN", uint32(nodeASN)),
			HaveField("PeerASN", uint32(remoteASN))))

		By("labelling node-c")
		labelNode(ctx, "node-c", key, "yes")
		expectSessions(selective.Name, "node-b", "node-c")

		By("removing node-b's label")
		updateNode(ctx, "node-b", func(n *corev1.Node) { delete(n.Labels, key) })
		expectSessions(selective.Name, "node-c")
		for _, node := range nodeNames {
			Expect(running[node].router.Created(everywhere.Name)).To(Equal(1), "the other session of %s was not touched", node)
		}
	})

	It("advertises a dual-stack Service from every node (ECMP), with the advertisement's attributes, a ServiceBGPStatus per node and one event per node", func(ctx SpecContext) {
		ibgp := createPeer(ctx, r.Name("ibgp"), nodeASN, "10.0.0.1")
		v6 := createPeer(ctx, r.Name("v6"), remoteASN, "fd00::1")
		pool := bgpPool(ctx, r, func(ad *metallbv1beta1.BGPAdvertisement) {
			ad.Spec.LocalPref = 150
			ad.Spec.Communities = []string{"65000:100", "large:64512:1:2"}
		})
		svc := createService(ctx, space, "web", dualStack())
		expectIPs(ctx, svc, r.IP(0), r.IP6(0))
		setEndpoints(ctx, svc, ready("node-a"))

		communities := []config.StandardCommunity{65000<<16 | 100}
		large := []config.LargeCommunity{{GlobalAdmin: 64512, LocalData1: 1, LocalData2: 2}}
		for _, node := range nodeNames {
			expectRoutes(node, ibgp.Name, advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32"), LocalPref: 150,
				Communities: communities, LargeCommunities: large})
			// LOCAL_PREF is for iBGP peers only.
			expectRoutes(node, v6.Name, advertise.Route{Prefix: netip.MustParsePrefix(r.IP6(0) + "/128"),
				Communities: communities, LargeCommunities: large})
		}
		expectBGPStatuses(ctx, svc, map[string][]string{
			"node-a": {ibgp.Name, v6.Name}, "node-b": {ibgp.Name, v6.Name}, "node-c": {ibgp.Name, v6.Name}})
		Eventually(func() map[string]map[string]float64 { return announcedSeriesOf(svc, "bgp") }).Should(Equal(map[string]map[string]float64{
			"node-a": {r.IP(0): 1, r.IP6(0): 1}, "node-b": {r.IP(0): 1, r.IP6(0): 1}, "node-c": {r.IP(0): 1, r.IP6(0): 1}}))
		var notes []any
		for _, node := range nodeNames {
			notes = append(notes, HaveField("Note", bgpAssignedNote(node)))
		}
		Eventually(func() []eventsv1.Event { return speakerEvents(ctx, svc, speaker.EventNodeAssigned) }).Should(ConsistOf(notes...))
		Expect(owners(r.IP(0))).To(BeEmpty(), "the pool has no L2Advertisement")

		By("changing the advertisement's communities: the routes change, the sessions and the events do not")
		updateBGPAdvertisement(ctx, pool, func(ad *metallbv1beta1.BGPAdvertisement) { ad.Spec.Communities = []string{"65000:200"} })
		for _, node := range nodeNames {
			expectRoutes(node, ibgp.Name, advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32"), LocalPref: 150,
				Communities: []config.StandardCommunity{65000<<16 | 200}})
		}
		Consistently(func(g Gomega) {
			g.Expect(speakerEvents(ctx, svc, speaker.EventNodeAssigned)).To(HaveLen(len(nodeNames)))
			for _, node := range nodeNames {
				g.Expect(running[node].router.Created(ibgp.Name)).To(Equal(1))
				g.Expect(running[node].router.Created(v6.Name)).To(Equal(1))
			}
		}).Should(Succeed())
	})

	It("advertises a Service with externalTrafficPolicy Local only from the nodes with a serving endpoint", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1")
		bgpPool(ctx, r, nil)
		svc := createService(ctx, space, "web", local())
		expectIPs(ctx, svc, r.IP(0))
		route := advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32")}

		setEndpoints(ctx, svc, ready("node-b"), notReady("node-c"))
		expectRoutes("node-b", peer.Name, route)
		expectRoutes("node-a", peer.Name)
		expectRoutes("node-c", peer.Name)
		expectBGPStatuses(ctx, svc, map[string][]string{"node-b": {peer.Name}})

		By("moving the endpoint to node-c")
		setEndpoints(ctx, svc, notReady("node-b"), ready("node-c"))
		expectRoutes("node-c", peer.Name, route)
		expectRoutes("node-b", peer.Name)
		expectBGPStatuses(ctx, svc, map[string][]string{"node-c": {peer.Name}})

		By("a terminating endpoint that still serves keeps its node advertising")
		setEndpoints(ctx, svc, terminatingServing("node-c"))
		Consistently(func() []advertise.Route { return running["node-c"].router.Routes()[peer.Name] }).Should(Equal([]advertise.Route{route}))
	})

	It("withdraws the routes, the gauge and the ServiceBGPStatus objects when the Service is deleted", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1")
		bgpPool(ctx, r, nil)
		svc := createService(ctx, space, "web")
		other := createService(ctx, space, "other")
		expectIPs(ctx, svc, r.IP(0))
		expectIPs(ctx, other, r.IP(1))
		setEndpoints(ctx, svc, ready("node-a"))
		setEndpoints(ctx, other, ready("node-a"))
		both := []advertise.Route{{Prefix: netip.MustParsePrefix(r.IP(0) + "/32")}, {Prefix: netip.MustParsePrefix(r.IP(1) + "/32")}}
		for _, node := range nodeNames {
			expectRoutes(node, peer.Name, both...)
		}
		expectBGPStatuses(ctx, svc, map[string][]string{"node-a": {peer.Name}, "node-b": {peer.Name}, "node-c": {peer.Name}})

		deleteObject(ctx, svc)
		for _, node := range nodeNames {
			expectRoutes(node, peer.Name, both[1])
		}
		expectBGPStatuses(ctx, svc, nil)
		Eventually(func() map[string]map[string]float64 { return announcedSeriesOf(svc, "bgp") }).Should(BeEmpty())

		By("removing the endpoints of the other Service")
		deleteEndpoints(ctx, other)
		for _, node := range nodeNames {
			expectRoutes(node, peer.Name)
		}
		expectBGPStatuses(ctx, other, nil)
	})

	It("advertises to the peers an advertisement names only, and names only those in the ServiceBGPStatus", func(ctx SpecContext) {
		named := createPeer(ctx, r.Name("named"), remoteASN, "10.0.0.1")
		unnamed := createPeer(ctx, r.Name("unnamed"), remoteASN, "10.0.0.2")
		bgpPool(ctx, r, func(ad *metallbv1beta1.BGPAdvertisement) { ad.Spec.Peers = []string{named.Name, "no-such-peer"} })
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		for _, node := range nodeNames {
			expectRoutes(node, named.Name, advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32")})
			expectRoutes(node, unnamed.Name)
		}
		expectBGPStatuses(ctx, svc, map[string][]string{"node-a": {named.Name}, "node-b": {named.Name}, "node-c": {named.Name}})
	})

	It("keeps every session and route while the configuration is invalid", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1")
		pool := bgpPool(ctx, r, nil)
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		route := advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32")}
		for _, node := range nodeNames {
			expectRoutes(node, peer.Name, route)
		}

		overlap := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.Name("overlap")},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{r.V4(31)}}}
		Expect(k8s.Create(ctx, overlap)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			deleteObject(ctx, overlap)
			expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)
		})
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultInvalid, "overlaps")
		// Changes that would withdraw everything if they were in force.
		updateBGPAdvertisement(ctx, pool, func(ad *metallbv1beta1.BGPAdvertisement) { ad.Spec.Peers = []string{"no-such-peer"} })
		updatePeer(ctx, peer, func(p *metallbv1beta2.BGPPeer) { p.Spec.PeerAddress = "10.0.0.9" })
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultInvalid, "overlaps")
		Consistently(func(g Gomega) {
			for _, node := range nodeNames {
				g.Expect(running[node].router.Routes()[peer.Name]).To(Equal([]advertise.Route{route}))
				g.Expect(running[node].router.Sessions()[peer.Name].Address).To(Equal(netip.MustParseAddr("10.0.0.1")))
				g.Expect(running[node].router.Created(peer.Name)).To(Equal(1))
			}
		}).Should(Succeed())

		deleteObject(ctx, overlap)
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)
		for _, node := range nodeNames {
			expectRoutes(node, peer.Name)
			Eventually(func() netip.Addr { return running[node].router.Sessions()[peer.Name].Address }).Should(Equal(netip.MustParseAddr("10.0.0.9")))
		}
	})

	It("never re-creates a session when Services come and go", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1")
		bgpPool(ctx, r, nil)
		expectSessions(peer.Name, nodeNames...)
		for i := range 5 {
			svc := createService(ctx, space, fmt.Sprintf("web-%d", i))
			expectIPs(ctx, svc, r.IP(0))
			setEndpoints(ctx, svc, ready("node-a"))
			for _, node := range nodeNames {
				expectRoutes(node, peer.Name, advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32")})
			}
			deleteObject(ctx, svc)
			deleteEndpoints(ctx, svc)
			for _, node := range nodeNames {
				expectRoutes(node, peer.Name)
			}
		}
		for _, node := range nodeNames {
			Expect(running[node].router.Created(peer.Name)).To(Equal(1), "the session of %s was never re-created", node)
		}
	})

	It("refuses a peer the BGP speaker cannot honour, naming the field, and keeps the sessions in force", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1")
		expectSessions(peer.Name, nodeNames...)

		bfd := &metallbv1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.Name("bfd")}}
		Expect(k8s.Create(ctx, bfd)).To(Succeed())
		DeferCleanup(deleteObject, bfd)
		withBFD := createPeer(ctx, r.Name("bfd"), remoteASN, "10.0.0.2", func(p *metallbv1beta2.BGPPeer) { p.Spec.BFDProfile = bfd.Name })
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultInvalid, withBFD.Name, "spec.bfdProfile", "not supported by the BGP speaker")
		deleteObject(ctx, withBFD)
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)

		holdZero := createPeer(ctx, r.Name("hold0"), remoteASN, "10.0.0.3", func(p *metallbv1beta2.BGPPeer) {
			p.Spec.HoldTime = &metav1.Duration{}
		})
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultInvalid, holdZero.Name, "holdTime 0", "not supported by the BGP speaker")
		Consistently(func(g Gomega) {
			for _, node := range nodeNames {
				g.Expect(running[node].router.Sessions()).To(HaveKey(peer.Name))
				g.Expect(running[node].router.Sessions()).NotTo(HaveKey(holdZero.Name))
				g.Expect(running[node].router.Created(peer.Name)).To(Equal(1))
			}
		}).Should(Succeed())
		deleteObject(ctx, holdZero)
		expectConfiguration(ctx, metallbv1beta1.ConfigurationResultValid)
	})

	It("records sessionUp and sessionDown on the BGPPeer when a session changes state, and only then", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1", func(p *metallbv1beta2.BGPPeer) {
			p.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{corev1.LabelHostname: "node-a"}}}
		})
		expectSessions(peer.Name, "node-a")
		up := fmt.Sprintf("BGP session from node %q to 10.0.0.1:179 established", "node-a")
		Eventually(func() []eventsv1.Event { return peerEvents(ctx, peer.Name, speaker.EventSessionUp) }).Should(ConsistOf(And(
			HaveField("Type", corev1.EventTypeNormal), HaveField("Note", up))))

		running["node-a"].router.SetDown(peer.Name, true)
		DeferCleanup(running["node-a"].router.SetDown, peer.Name, false)
		Eventually(func() []eventsv1.Event { return peerEvents(ctx, peer.Name, speaker.EventSessionDown) }).Should(ConsistOf(And(
			HaveField("Type", corev1.EventTypeWarning), HaveField("Note", ContainSubstring("to 10.0.0.1:179 down")))))
		Consistently(func() []eventsv1.Event { return peerEvents(ctx, peer.Name, speaker.EventSessionDown) }).Should(HaveLen(1))

		running["node-a"].router.SetDown(peer.Name, false)
		Eventually(func() []eventsv1.Event { return peerEvents(ctx, peer.Name, speaker.EventSessionUp) }).Should(
			ConsistOf(HaveField("Series", Not(BeNil()))), "the second sessionUp joins the first in a series")
	})

	It("keeps layer 2 and BGP independent when a pool has both advertisements", func(ctx SpecContext) {
		peer := createPeer(ctx, r.Name("tor"), remoteASN, "10.0.0.1")
		bgpPool(ctx, r, nil)
		createL2Advertisement(ctx, r.Name("l2"), r.Name("pool"))
		svc := createService(ctx, space, "web")
		expectIPs(ctx, svc, r.IP(0))
		setEndpoints(ctx, svc, ready("node-a"))
		winner := expectElected(ctx, svc, r.IP(0))
		expectL2Status(ctx, svc, winner)
		for _, node := range nodeNames {
			expectRoutes(node, peer.Name, advertise.Route{Prefix: netip.MustParsePrefix(r.IP(0) + "/32")})
		}
		expectBGPStatuses(ctx, svc, map[string][]string{"node-a": {peer.Name}, "node-b": {peer.Name}, "node-c": {peer.Name}})
		notes := []any{HaveField("Note", assignedNote(winner))}
		for _, node := range nodeNames {
			notes = append(notes, HaveField("Note", bgpAssignedNote(node)))
		}
		Eventually(func() []eventsv1.Event { return speakerEvents(ctx, svc, speaker.EventNodeAssigned) }).Should(ConsistOf(notes...))
	})
})

// createPeer creates a BGPPeer from the nodes' AS to peerASN at addr, in ferrolb's namespace; it is deleted
// after the spec.
func createPeer(ctx context.Context, name string, peerASN uint32, addr string, mutate ...func(*metallbv1beta2.BGPPeer)) *metallbv1beta2.BGPPeer {
	GinkgoHelper()
	p := &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: metallbv1beta2.BGPPeerSpec{MyASN: nodeASN, ASN: peerASN, PeerAddress: addr}}
	for _, m := range mutate {
		m(p)
	}
	Expect(k8s.Create(ctx, p)).To(Succeed())
	DeferCleanup(deleteObject, p)
	return p
}

// updatePeer changes a peer with f, retrying on conflicts.
func updatePeer(ctx context.Context, p *metallbv1beta2.BGPPeer, f func(*metallbv1beta2.BGPPeer)) {
	GinkgoHelper()
	Eventually(func() error {
		cur := &metallbv1beta2.BGPPeer{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), cur); err != nil {
			return err
		}
		f(cur)
		return k8s.Update(ctx, cur)
	}).Should(Succeed())
}

// bgpPool creates a pool of the range (a /30 and a /126) with one BGPAdvertisement, mutated by adv, both
// named after the range; it returns the advertisement.
func bgpPool(ctx context.Context, r testenv.AddrRange, adv func(*metallbv1beta1.BGPAdvertisement)) *metallbv1beta1.BGPAdvertisement {
	GinkgoHelper()
	pool := r.Name("pool")
	createPool(ctx, pool, r.V4(30), r.V6(126))
	ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.Name("bgp")},
		Spec: metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{pool}}}
	if adv != nil {
		adv(ad)
	}
	Expect(k8s.Create(ctx, ad)).To(Succeed())
	DeferCleanup(deleteObject, ad)
	return ad
}

// updateBGPAdvertisement changes an advertisement with f, retrying on conflicts.
func updateBGPAdvertisement(ctx context.Context, ad *metallbv1beta1.BGPAdvertisement, f func(*metallbv1beta1.BGPAdvertisement)) {
	GinkgoHelper()
	Eventually(func() error {
		cur := &metallbv1beta1.BGPAdvertisement{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ad), cur); err != nil {
			return err
		}
		f(cur)
		return k8s.Update(ctx, cur)
	}).Should(Succeed())
}

// expectSessions waits until exactly the named nodes have a session to the peer, and no other does.
func expectSessions(peer string, nodes ...string) {
	GinkgoHelper()
	Eventually(func() []string {
		var have []string
		for _, node := range nodeNames {
			if _, ok := running[node].router.Sessions()[peer]; ok {
				have = append(have, node)
			}
		}
		return have
	}).Should(ConsistOf(nodes), "the nodes with a session to %s", peer)
}

// expectRoutes waits until node's session to peer carries exactly routes (none: nothing), in prefix order.
func expectRoutes(node, peer string, routes ...advertise.Route) {
	GinkgoHelper()
	if len(routes) == 0 {
		routes = nil
	}
	Eventually(func() []advertise.Route { return running[node].router.Routes()[peer] }).Should(Equal(routes),
		"the routes of %s to %s", node, peer)
}

// bgpStatuses returns the ServiceBGPStatus objects about the Service.
func bgpStatuses(ctx context.Context, svc *corev1.Service) []metallbv1beta1.ServiceBGPStatus {
	GinkgoHelper()
	var list metallbv1beta1.ServiceBGPStatusList
	Expect(k8s.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{
		speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace,
	})).To(Succeed())
	return list.Items
}

// expectBGPStatuses waits until the Service has one ServiceBGPStatus per node of want, naming its peers,
// and no other.
func expectBGPStatuses(ctx context.Context, svc *corev1.Service, want map[string][]string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		got := map[string][]string{}
		for _, s := range bgpStatuses(ctx, svc) {
			g.Expect(s.GenerateName).To(Equal("bgp-"))
			g.Expect(s.Labels).To(Equal(map[string]string{speaker.LabelNode: s.Status.Node,
				speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace}))
			g.Expect(s.Status.ServiceName).To(Equal(svc.Name))
			g.Expect(s.Status.ServiceNamespace).To(Equal(svc.Namespace))
			g.Expect(got).NotTo(HaveKey(s.Status.Node), "one ServiceBGPStatus per node")
			got[s.Status.Node] = s.Status.Peers
		}
		if want == nil {
			want = map[string][]string{}
		}
		g.Expect(got).To(Equal(want))
	}).Should(Succeed(), "the ServiceBGPStatus objects of %s/%s", svc.Namespace, svc.Name)
}

// bgpAssignedNote is the note of the nodeAssigned event of node in BGP mode.
func bgpAssignedNote(node string) string {
	return fmt.Sprintf("announcing from node %q with protocol %q", node, "bgp")
}

// peerEvents returns the speakers' events about the BGPPeer with reason.
func peerEvents(ctx context.Context, peer, reason string) []eventsv1.Event {
	GinkgoHelper()
	var list eventsv1.EventList
	Expect(k8s.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool {
		return e.ReportingController != "metallb-speaker" || e.Reason != reason ||
			e.Regarding.Kind != "BGPPeer" || e.Regarding.Name != peer
	})
}

// announcedSeriesOf returns the metallb_speaker_announced series of the Service for protocol, by node and
// address.
func announcedSeriesOf(svc *corev1.Service, protocol string) map[string]map[string]float64 {
	GinkgoHelper()
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	series := map[string]map[string]float64{}
	for _, f := range families {
		if f.GetName() != "metallb_speaker_announced" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := labelMap(m)
			if l["service"] != svc.Namespace+"/"+svc.Name || l["protocol"] != protocol {
				continue
			}
			if series[l["node"]] == nil {
				series[l["node"]] = map[string]float64{}
			}
			series[l["node"]][l["ip"]] = m.GetGauge().GetValue()
		}
	}
	return series
}
