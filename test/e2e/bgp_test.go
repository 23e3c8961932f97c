//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// The BGP specs share one controller and one speaker DaemonSet, in their own namespace (host network: the
// layer 2 specs' DaemonSet must be gone first, which their namespace's deletion guarantees). Every node peers
// with the lab's router over IPv4 and IPv6 (eBGP, node AS → router AS); the router takes the nodes as dynamic
// neighbours and installs up to 8 equal paths per prefix.
var _ = Describe("The speaker in BGP mode", Ordered, func() {
	const (
		peer4 = "router-v4"
		peer6 = "router-v6"
		// The advertisement's attributes, as FRR prints them.
		community      = "64513:100"
		largeCommunity = "64513:1:2"
	)
	var (
		c    client.Client
		ns   string
		apps string // echo pods, one per node
	)
	BeforeAll(func(ctx SpecContext) {
		c = controllerRuntimeClient()
		installCRDs()
		ns = f.Namespace(ctx, "bgp")
		deployController(ctx, c, ns, false)
		deploySpeaker(ctx, c, ns)

		last4, last6 := lab.BGPVIPRange4.Addr(), lab.BGPVIPRange6.Addr()
		for range 15 {
			last4, last6 = last4.Next(), last6.Next()
		}
		objs := []client.Object{
			bgpPeer(ns, peer4, lab.Router().IPv4),
			bgpPeer(ns, peer6, lab.Router().IPv6),
			&metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgp"},
				Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{
					lab.BGPVIPRange4.Addr().String() + "-" + last4.String(), lab.BGPVIPRange6.Addr().String() + "-" + last6.String()}}},
			&metallbv1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgp"},
				Spec: metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bgp"}, LocalPref: 150,
					Communities: []string{community, "large:" + largeCommunity}}},
		}
		for _, o := range objs {
			Expect(c.Create(ctx, o)).To(Succeed())
		}
		apps = f.Namespace(ctx, "bgp-apps")
		_, err := f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		awaitSessions(ctx, f.Lab.NodeHosts()...)
	}, NodeTimeout(specTimeout))

	It("opens an IPv4 and an IPv6 session from every node to the router", func(ctx SpecContext) {
		summary, err := f.Lab.BGPSummary(ctx)
		Expect(err).NotTo(HaveOccurred())
		for _, n := range f.Lab.NodeHosts() {
			Expect(summary.IPv4Unicast.Peers).To(HaveKeyWithValue(n.IPv4.String(), HaveField("RemoteAS", f.Lab.NodeASN)))
			Expect(summary.IPv6Unicast.Peers).To(HaveKeyWithValue(n.IPv6.String(), HaveField("RemoteAS", f.Lab.NodeASN)))
		}
		By("recording sessionUp on the BGPPeers")
		Eventually(ctx, func(g Gomega) {
			for _, peer := range []string{peer4, peer6} {
				events, err := f.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{
					FieldSelector: "reason=" + speaker.EventSessionUp + ",regarding.name=" + peer})
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(events.Items).To(HaveLen(f.Lab.Nodes), "one sessionUp per node for %s", peer)
			}
		}).Should(Succeed())
	}, SpecTimeout(specTimeout))

	It("advertises a dual-stack Service from every node with endpoints, with its communities, and the client reaches it through the router", func(ctx SpecContext) {
		svc := createLoadBalancer(ctx, c, apps, "web", nil)
		ips := awaitIngress(ctx, c, svc, 2)
		for _, ip := range ips {
			By(fmt.Sprintf("one path per node for %s at the router", ip))
			Eventually(ctx, func(g Gomega) {
				paths := routerPaths(ctx, g, ip)
				g.Expect(nextHops(paths)).To(ConsistOf(nodeAddrs(ip.Is4(), f.Lab.NodeHosts()...)))
				for _, p := range paths {
					g.Expect(p.Community).NotTo(BeNil())
					g.Expect(p.Community.String).To(Equal(community))
					g.Expect(p.LargeCommunity).NotTo(BeNil())
					g.Expect(p.LargeCommunity.String).To(Equal(largeCommunity))
				}
				if f.Lab.Nodes > 1 {
					g.Expect(slices.ContainsFunc(paths, func(p frrPath) bool { return p.Multipath })).To(BeTrue(), "ECMP")
				}
			}).Should(Succeed())
			url := "http://" + netip.AddrPortFrom(ip, 80).String() + "/"
			Eventually(ctx, func() (string, error) { return f.Lab.HTTPGet(ctx, url) }).Should(MatchRegexp(`^pod=echo-\S+ node=node\d+ `), "GET %s", url)
		}

		By("writing a ServiceBGPStatus per node naming both peers")
		Eventually(ctx, func(g Gomega) {
			statuses := bgpStatuses(ctx, g, c, ns, svc)
			g.Expect(statuses).To(HaveLen(f.Lab.Nodes))
			for _, s := range statuses {
				g.Expect(s.Status.Peers).To(Equal([]string{peer4, peer6}))
			}
		}).Should(Succeed())

		By("withdrawing both prefixes when the Service is deleted")
		Expect(c.Delete(ctx, svc)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			for _, ip := range ips {
				g.Expect(routerPaths(ctx, g, ip)).To(BeEmpty(), "%s withdrawn", ip)
			}
			g.Expect(bgpStatuses(ctx, g, c, ns, svc)).To(BeEmpty())
		}).Should(Succeed())
	}, SpecTimeout(specTimeout))

	It("advertises a Service with externalTrafficPolicy Local only from the nodes with an endpoint", func(ctx SpecContext) {
		target := f.Lab.NodeHosts()[len(f.Lab.NodeHosts())-1]
		dep := echoDeployment(1)
		dep.Name = "echo-local"
		selector := map[string]string{"app": "echo-local"}
		dep.Spec.Selector.MatchLabels, dep.Spec.Template.Labels = selector, selector
		dep.Spec.Template.Spec.TopologySpreadConstraints = nil
		dep.Spec.Template.Spec.NodeSelector = map[string]string{corev1.LabelHostname: target.Name}
		_, err := f.Client.AppsV1().Deployments(apps).Create(ctx, dep, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(f.Client.AppsV1().Deployments(apps).Delete(ctx, dep.Name, metav1.DeleteOptions{})).To(Succeed())
		})
		svc := createLoadBalancer(ctx, c, apps, "local", ptr.To(corev1.IPFamilyPolicySingleStack), func(s *corev1.Service) {
			s.Spec.Selector = selector
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		})
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(c.Delete(ctx, svc))).To(Succeed()) })
		ip := awaitIngress(ctx, c, svc, 1)[0]
		Eventually(ctx, func(g Gomega) {
			g.Expect(nextHops(routerPaths(ctx, g, ip))).To(ConsistOf(target.IPv4))
		}).Should(Succeed(), "only %s advertises %s", target.Name, ip)
		Consistently(ctx, func(g Gomega) {
			g.Expect(nextHops(routerPaths(ctx, g, ip))).To(ConsistOf(target.IPv4))
		}).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		url := "http://" + netip.AddrPortFrom(ip, 80).String() + "/"
		Eventually(ctx, func() (string, error) { return f.Lab.HTTPGet(ctx, url) }).Should(
			MatchRegexp(`^pod=echo-local-\S+ node=`+regexp.QuoteMeta(target.Name)+` `), "GET %s", url)
	}, SpecTimeout(specTimeout))

	It("peers only from the nodes a BGPPeer's nodeSelectors select, without touching the other sessions", func(ctx SpecContext) {
		if f.Lab.Nodes < 2 {
			Skip("needs two nodes")
		}
		hosts := f.Lab.NodeHosts()
		kept, dropped := hosts[0], hosts[1:]
		before := routerNeighbours(ctx)
		setPeerNodes(ctx, c, ns, peer4, kept.Name)
		DeferCleanup(func(ctx SpecContext) {
			setPeerNodes(ctx, c, ns, peer4, "")
			awaitSessions(ctx, hosts...)
		})
		Eventually(ctx, func(g Gomega) {
			neighbours := routerNeighboursG(ctx, g)
			for _, h := range dropped {
				g.Expect(neighbours).NotTo(HaveKeyWithValue(h.IPv4.String(), HaveField("State", "Established")), "%s no longer peers over IPv4", h.Name)
				g.Expect(neighbours).To(HaveKeyWithValue(h.IPv6.String(), HaveField("State", "Established")), "%s still peers over IPv6", h.Name)
			}
		}).Should(Succeed())
		after := routerNeighbours(ctx)
		Expect(after).To(HaveKey(kept.IPv4.String()))
		Expect(after[kept.IPv4.String()].ConnectionsEstablished).To(Equal(before[kept.IPv4.String()].ConnectionsEstablished),
			"%s's IPv4 session was not reset", kept.Name)
		Expect(after[kept.IPv4.String()].EstablishedEpoch).To(BeNumerically("~", before[kept.IPv4.String()].EstablishedEpoch, 1),
			"%s's IPv4 session was not reset", kept.Name)
	}, SpecTimeout(specTimeout))

	It("withdraws a node's paths when its speaker is killed, and advertises them again once it is back", func(ctx SpecContext) {
		if f.Lab.Nodes < 2 {
			Skip("needs two nodes")
		}
		victim := f.Lab.NodeHosts()[1]
		svc := createLoadBalancer(ctx, c, apps, "kill", ptr.To(corev1.IPFamilyPolicySingleStack))
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(c.Delete(ctx, svc))).To(Succeed()) })
		ip := awaitIngress(ctx, c, svc, 1)[0]
		all := nodeAddrs(true, f.Lab.NodeHosts()...)
		Eventually(ctx, func(g Gomega) { g.Expect(nextHops(routerPaths(ctx, g, ip))).To(ConsistOf(all)) }).Should(Succeed())

		By(fmt.Sprintf("killing the speaker on %s (SIGKILL: no withdrawal sent)", victim.Name))
		killed := time.Now()
		signalSpeaker(ctx, victim, "KILL")
		Eventually(ctx, func(g Gomega) {
			g.Expect(nextHops(routerPaths(ctx, g, ip))).To(ConsistOf(slices.DeleteFunc(slices.Clone(all), func(a netip.Addr) bool { return a == victim.IPv4 })))
		}).WithPolling(100*time.Millisecond).Should(Succeed(), "the router drops %s's path", victim.Name)
		GinkgoWriter.Printf("%s's path withdrawn %v after the kill\n", victim.Name, time.Since(killed))

		By("the restarted speaker advertises again")
		Eventually(ctx, func(g Gomega) { g.Expect(nextHops(routerPaths(ctx, g, ip))).To(ConsistOf(all)) }).
			WithTimeout(time.Minute).Should(Succeed())
		GinkgoWriter.Printf("%s's path back %v after the kill\n", victim.Name, time.Since(killed))
		awaitSpeakers(ctx, c, ns)
	}, SpecTimeout(specTimeout))

	It("reconnects and advertises again within GoBGP's reconnect time when the router's bgpd restarts", func(ctx SpecContext) {
		hosts := f.Lab.NodeHosts()
		svc := createLoadBalancer(ctx, c, apps, "bgpd-restart", nil)
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(c.Delete(ctx, svc))).To(Succeed()) })
		ips := awaitIngress(ctx, c, svc, 2)
		routed := func(g Gomega) {
			for _, ip := range ips {
				g.Expect(nextHops(routerPaths(ctx, g, ip))).To(ConsistOf(nodeAddrs(ip.Is4(), hosts...)), "%s from every node", ip)
			}
		}
		awaitSessions(ctx, hosts...)
		Eventually(ctx, routed).Should(Succeed())

		By("restarting bgpd on the router")
		stopped := time.Now()
		Expect(f.Lab.RestartBGPD(ctx)).To(Succeed())
		answering := time.Now()
		// The sessions dropped when bgpd stopped: GoBGP rests its idle hold time from then, and dials from
		// the end of it; the router listens again from `answering`.
		dialFrom := stopped.Add(gobgpIdleHoldAfterDrop)
		if answering.After(dialFrom) {
			dialFrom = answering
		}
		deadline := dialFrom.Add(gobgpMaxDialInterval + reconnectMargin)
		Eventually(ctx, func(g Gomega) {
			summary, err := f.Lab.BGPSummary(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(summary.IPv4Unicast).NotTo(BeNil(), "IPv4 sessions")
			g.Expect(summary.IPv6Unicast).NotTo(BeNil(), "IPv6 sessions")
			for _, n := range hosts {
				g.Expect(summary.IPv4Unicast.Peers).To(HaveKeyWithValue(n.IPv4.String(), HaveField("State", "Established")), "%s over IPv4", n.Name)
				g.Expect(summary.IPv6Unicast.Peers).To(HaveKeyWithValue(n.IPv6.String(), HaveField("State", "Established")), "%s over IPv6", n.Name)
			}
			routed(g)
		}).WithTimeout(time.Until(deadline)).WithPolling(50*time.Millisecond).Should(Succeed(),
			"sessions established and both prefixes back from every node within %v of the restart", deadline.Sub(stopped).Round(time.Millisecond))
		back := time.Now()
		fmt.Fprintf(GinkgoWriter, "bgpd restarted in %v; sessions and routes back %v after the stop, %v after bgpd answered (bound %v after the stop)\n",
			answering.Sub(stopped).Round(time.Millisecond), back.Sub(stopped).Round(time.Millisecond),
			back.Sub(answering).Round(time.Millisecond), deadline.Sub(stopped).Round(time.Millisecond))
	}, SpecTimeout(specTimeout))

	It("never resets a session while Services come and go", func(ctx SpecContext) {
		const cycles = 100
		awaitSessions(ctx, f.Lab.NodeHosts()...)
		before := routerNeighbours(ctx)
		start := time.Now()
		for i := range cycles {
			svc := createLoadBalancer(ctx, c, apps, fmt.Sprintf("churn-%d", i), ptr.To(corev1.IPFamilyPolicySingleStack))
			var ip netip.Addr
			Eventually(ctx, func(g Gomega) {
				got := &corev1.Service{}
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(svc), got)).To(Succeed())
				g.Expect(got.Status.LoadBalancer.Ingress).To(HaveLen(1))
				ip = netip.MustParseAddr(got.Status.LoadBalancer.Ingress[0].IP)
			}).WithPolling(20*time.Millisecond).Should(Succeed(), "%s gets an address", svc.Name)
			if i%10 == 0 {
				Eventually(ctx, func(g Gomega) { g.Expect(routerPaths(ctx, g, ip)).NotTo(BeEmpty()) }).
					WithPolling(50*time.Millisecond).Should(Succeed(), "%s reaches the router", ip)
			}
			Expect(c.Delete(ctx, svc)).To(Succeed())
		}
		GinkgoWriter.Printf("%d Services created and deleted in %v\n", cycles, time.Since(start))
		Eventually(ctx, func(g Gomega) {
			summary, err := f.Lab.BGPSummary(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			for _, n := range f.Lab.NodeHosts() {
				g.Expect(summary.IPv4Unicast.Peers[n.IPv4.String()].PfxRcd).To(BeZero(), "every churn prefix withdrawn")
			}
		}).Should(Succeed())
		after := routerNeighbours(ctx)
		for addr, b := range before {
			Expect(after).To(HaveKey(addr))
			Expect(after[addr].State).To(Equal("Established"), "session with %s", addr)
			Expect(after[addr].ConnectionsEstablished).To(Equal(b.ConnectionsEstablished), "session with %s never re-established", addr)
			Expect(after[addr].ConnectionsDropped).To(Equal(b.ConnectionsDropped), "session with %s never dropped", addr)
			// FRR derives the epoch from the uptime: it may move by a second.
			Expect(after[addr].EstablishedEpoch).To(BeNumerically("~", b.EstablishedEpoch, 1), "session with %s up since the start", addr)
		}
	}, SpecTimeout(specTimeout))

	It("authenticates the sessions with TCP MD5 when the lab's router requires it", func(ctx SpecContext) {
		switch unsupported, err := md5Unsupported(); {
		case err != nil:
			Skip(fmt.Sprintf("probing TCP_MD5SIG failed (%v): TCP MD5 sessions cannot be tested here", err))
		case unsupported:
			Skip("the kernel refuses TCP_MD5SIG (ENOPROTOOPT): TCP MD5 sessions cannot be tested here")
		}
		if f.Lab.BGPPassword == "" {
			Skip("the lab's router runs without a password (FERROLB_LAB_BGP_PASSWORD)")
		}
		// The peers carry the lab's password from the start: the sessions being up is the proof.
		awaitSessions(ctx, f.Lab.NodeHosts()...)
	}, SpecTimeout(specTimeout))
})

// How GoBGP v3 (pkg/server/fsm.go) reconnects after the peer closed an established session. It ignores both
// of the adapter's timers there: the idle hold time after a drop is its fixed holdtimeIdle (5 s), not
// bgp.DefaultIdleHoldTime, which GoBGP applies after an administrative reset only; and its connect loop dials
// every 1 to 2 s (a random wait of one to two minConnectRetryInterval), whatever bgp.DefaultConnectTime says,
// which only bounds each dial.
const (
	gobgpIdleHoldAfterDrop = 5 * time.Second
	gobgpMaxDialInterval   = 2 * time.Second
	// reconnectMargin covers the OPEN exchange, the UPDATEs and FRR's best-path run on a loaded machine.
	reconnectMargin = 3 * time.Second
)

// bgpPeer is a BGPPeer from the lab's node AS to its router's AS at addr, with the lab's password if any.
func bgpPeer(ns, name string, addr netip.Addr) *metallbv1beta2.BGPPeer {
	return &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: metallbv1beta2.BGPPeerSpec{MyASN: f.Lab.NodeASN, ASN: f.Lab.RouterASN, PeerAddress: addr.String(),
			HoldTime: &metav1.Duration{Duration: 9 * time.Second}, Password: f.Lab.BGPPassword}}
}

// setPeerNodes restricts the BGPPeer to the named node, or with "" lifts the restriction.
func setPeerNodes(ctx context.Context, c client.Client, ns, name, node string) {
	GinkgoHelper()
	Eventually(ctx, func() error {
		p := &metallbv1beta2.BGPPeer{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			return err
		}
		p.Spec.NodeSelectors = nil
		if node != "" {
			p.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{corev1.LabelHostname: node}}}
		}
		return c.Update(ctx, p)
	}).Should(Succeed())
}

// awaitSessions waits until the router has an established IPv4 and IPv6 session with every node given.
func awaitSessions(ctx context.Context, nodes ...lab.Host) {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		summary, err := f.Lab.BGPSummary(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(summary.IPv4Unicast).NotTo(BeNil())
		g.Expect(summary.IPv6Unicast).NotTo(BeNil())
		for _, n := range nodes {
			g.Expect(summary.IPv4Unicast.Peers).To(HaveKeyWithValue(n.IPv4.String(), HaveField("State", "Established")), "%s over IPv4", n.Name)
			g.Expect(summary.IPv6Unicast.Peers).To(HaveKeyWithValue(n.IPv6.String(), HaveField("State", "Established")), "%s over IPv6", n.Name)
		}
	}).Should(Succeed(), "the router's sessions with the nodes are established")
}

// frrPath is one path of FRR's `show bgp <afi> unicast <prefix> json`.
type frrPath struct {
	Multipath bool `json:"multipath"`
	Community *struct {
		String string `json:"string"`
	} `json:"community"`
	LargeCommunity *struct {
		String string `json:"string"`
	} `json:"largeCommunity"`
	Nexthops []struct {
		IP string `json:"ip"`
	} `json:"nexthops"`
	Peer struct {
		PeerID string `json:"peerId"`
	} `json:"peer"`
}

// routerPaths returns the router's BGP paths to the host prefix of ip.
func routerPaths(ctx context.Context, g Gomega, ip netip.Addr) []frrPath {
	afi := "ipv4"
	if ip.Is6() {
		afi = "ipv6"
	}
	var out struct {
		Paths []frrPath `json:"paths"`
	}
	g.Expect(f.Lab.VtyshJSON(ctx, fmt.Sprintf("show bgp %s unicast %s json", afi, netip.PrefixFrom(ip, ip.BitLen())), &out)).To(Succeed())
	return out.Paths
}

// nextHops returns the first next hop of every path.
func nextHops(paths []frrPath) []netip.Addr {
	var hops []netip.Addr
	for _, p := range paths {
		if len(p.Nexthops) > 0 {
			if a, err := netip.ParseAddr(p.Nexthops[0].IP); err == nil {
				hops = append(hops, a)
			}
		}
	}
	return hops
}

// nodeAddrs returns the nodes' addresses of one family.
func nodeAddrs(v4 bool, nodes ...lab.Host) []netip.Addr {
	var addrs []netip.Addr
	for _, n := range nodes {
		if v4 {
			addrs = append(addrs, n.IPv4)
		} else {
			addrs = append(addrs, n.IPv6)
		}
	}
	return addrs
}

// frrNeighbour is one neighbour of FRR's `show bgp neighbors json`.
type frrNeighbour struct {
	State                  string `json:"bgpState"`
	ConnectionsEstablished int    `json:"connectionsEstablished"`
	ConnectionsDropped     int    `json:"connectionsDropped"`
	// EstablishedEpoch is when the session last became established (a dynamic neighbour's counters start
	// again when it reconnects, so this is what tells a reset).
	EstablishedEpoch int64 `json:"bgpTimerUpEstablishedEpoch"`
}

// routerNeighbours returns the router's neighbours by address.
func routerNeighbours(ctx context.Context) map[string]frrNeighbour {
	GinkgoHelper()
	return routerNeighboursG(ctx, Default)
}

func routerNeighboursG(ctx context.Context, g Gomega) map[string]frrNeighbour {
	var raw map[string]json.RawMessage
	g.Expect(f.Lab.VtyshJSON(ctx, "show bgp neighbors json", &raw)).To(Succeed())
	out := map[string]frrNeighbour{}
	for addr, v := range raw {
		var n frrNeighbour
		if _, err := netip.ParseAddr(addr); err == nil && json.Unmarshal(v, &n) == nil {
			out[addr] = n
		}
	}
	return out
}

func bgpStatuses(ctx context.Context, g Gomega, c client.Client, ns string, svc *corev1.Service) []metallbv1beta1.ServiceBGPStatus {
	var list metallbv1beta1.ServiceBGPStatusList
	g.Expect(c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{
		speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace})).To(Succeed())
	return list.Items
}
