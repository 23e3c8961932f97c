package speaker_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/internal/election"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/speaker/bgp"
	"github.com/ferrolb/ferrolb/speaker/layer2"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// Every spec gets its own namespace (and testenv.NewRange its own addresses and object names), so that
// what one spec leaves behind cannot change what the next one sees.
var nsSeq atomic.Int32

// newNamespace creates a namespace for the spec's Services. envtest has no namespace controller, so
// namespaces are never deleted; each spec simply uses a new one.
func newNamespace(ctx context.Context) string {
	GinkgoHelper()
	name := fmt.Sprintf("spec-%d", nsSeq.Add(1))
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	return name
}

// createPool creates a pool in ferrolb's namespace and waits until the controller has loaded it, so that the
// Services a spec creates next get their addresses at once. It is deleted after the spec.
func createPool(ctx context.Context, name string, addresses ...string) *metallbv1beta1.IPAddressPool {
	GinkgoHelper()
	p := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: addresses}}
	Expect(k8s.Create(ctx, p)).To(Succeed())
	DeferCleanup(deleteObject, p)
	Eventually(func() bool {
		_, ok := metricValue("metallb_allocator_addresses_total", map[string]string{"pool": name})
		return ok
	}).Should(BeTrue(), "the controller should load pool %s", name)
	return p
}

type adOption func(*metallbv1beta1.L2Advertisement)

// nodeSelector restricts the advertisement to the nodes with the label.
func nodeSelector(key, value string) adOption {
	return func(ad *metallbv1beta1.L2Advertisement) {
		ad.Spec.NodeSelectors = append(ad.Spec.NodeSelectors, metav1.LabelSelector{MatchLabels: map[string]string{key: value}})
	}
}

// interfaces restricts the advertisement to the named interfaces.
func interfaces(names ...string) adOption {
	return func(ad *metallbv1beta1.L2Advertisement) { ad.Spec.Interfaces = names }
}

// createL2Advertisement creates an L2Advertisement of pool in ferrolb's namespace; it is deleted after the
// spec.
func createL2Advertisement(ctx context.Context, name, pool string, opts ...adOption) *metallbv1beta1.L2Advertisement {
	GinkgoHelper()
	ad := &metallbv1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: metallbv1beta1.L2AdvertisementSpec{IPAddressPools: []string{pool}}}
	for _, o := range opts {
		o(ad)
	}
	Expect(k8s.Create(ctx, ad)).To(Succeed())
	DeferCleanup(deleteObject, ad)
	return ad
}

// updateL2Advertisement changes an advertisement with f, retrying on conflicts.
func updateL2Advertisement(ctx context.Context, ad *metallbv1beta1.L2Advertisement, f func(*metallbv1beta1.L2Advertisement)) {
	GinkgoHelper()
	Eventually(func() error {
		cur := &metallbv1beta1.L2Advertisement{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ad), cur); err != nil {
			return err
		}
		f(cur)
		return k8s.Update(ctx, cur)
	}).Should(Succeed())
}

// layer2Pool creates a pool with an L2Advertisement without restrictions, named after the range.
func layer2Pool(ctx context.Context, r testenv.AddrRange, addresses ...string) string {
	GinkgoHelper()
	pool := r.Name("pool")
	createPool(ctx, pool, addresses...)
	createL2Advertisement(ctx, r.Name("l2"), pool)
	return pool
}

// deleteObject deletes an object, if it still exists, and waits until it is gone.
func deleteObject(ctx context.Context, obj client.Object) {
	GinkgoHelper()
	Expect(client.IgnoreNotFound(k8s.Delete(ctx, obj))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue())
}

type serviceOption func(*corev1.Service)

func annotate(key, value string) serviceOption {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[key] = value
	}
}

// port sets the Service's only port.
func port(protocol corev1.Protocol, number int32) serviceOption {
	return func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: "p", Protocol: protocol, Port: number}}
	}
}

// local sets externalTrafficPolicy Local.
func local() serviceOption {
	return func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal }
}

func dualStack() serviceOption {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	}
}

// createService creates a LoadBalancer Service on TCP/80 without node ports; it is deleted after the spec.
func createService(ctx context.Context, namespace, name string, opts ...serviceOption) *corev1.Service {
	GinkgoHelper()
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Ports:                         []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		}}
	for _, o := range opts {
		o(s)
	}
	Expect(k8s.Create(ctx, s)).To(Succeed())
	DeferCleanup(deleteObject, s)
	return s
}

// updateService changes a Service with f, retrying on conflicts.
func updateService(ctx context.Context, svc *corev1.Service, f func(*corev1.Service)) {
	GinkgoHelper()
	Eventually(func() error {
		cur := getService(ctx, svc)
		f(cur)
		return k8s.Update(ctx, cur)
	}).Should(Succeed())
}

func getService(ctx context.Context, svc *corev1.Service) *corev1.Service {
	GinkgoHelper()
	cur := &corev1.Service{}
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), cur)).To(Succeed())
	return cur
}

// expectIPs waits until the controller has given the Service exactly ips, in order.
func expectIPs(ctx context.Context, svc *corev1.Service, ips ...string) {
	GinkgoHelper()
	Eventually(func() []string { return ingressIPs(getService(ctx, svc)) }).Should(Equal(ips),
		"Service %s/%s should get %v", svc.Namespace, svc.Name, ips)
}

func ingressIPs(svc *corev1.Service) []string {
	var ips []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	return ips
}

// endpoint is one endpoint of an EndpointSlice: its node and conditions.
type endpoint struct {
	node                        string
	ready, serving, terminating bool
}

// ready is a ready endpoint on node.
func ready(node string) endpoint { return endpoint{node: node, ready: true, serving: true} }

// notReady is an endpoint on node that neither is ready nor serves.
func notReady(node string) endpoint { return endpoint{node: node} }

// terminatingServing is an endpoint on node that is terminating and not ready, but still serving.
func terminatingServing(node string) endpoint {
	return endpoint{node: node, serving: true, terminating: true}
}

// setEndpoints creates or replaces the Service's one EndpointSlice, as the EndpointSlice controller would
// (envtest runs none).
func setEndpoints(ctx context.Context, svc *corev1.Service, eps ...endpoint) {
	GinkgoHelper()
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "test.ferrolb.io"}},
		AddressType: discoveryv1.AddressTypeIPv4}
	for i, ep := range eps {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{fmt.Sprintf("10.244.0.%d", i+1)},
			NodeName:  ptr.To(ep.node),
			Conditions: discoveryv1.EndpointConditions{
				Ready: ptr.To(ep.ready), Serving: ptr.To(ep.serving), Terminating: ptr.To(ep.terminating),
			},
		})
	}
	cur := &discoveryv1.EndpointSlice{}
	err := k8s.Get(ctx, client.ObjectKeyFromObject(slice), cur)
	if apierrors.IsNotFound(err) {
		Expect(k8s.Create(ctx, slice)).To(Succeed())
		DeferCleanup(deleteObject, slice)
		return
	}
	Expect(err).NotTo(HaveOccurred())
	cur.Endpoints = slice.Endpoints
	Expect(k8s.Update(ctx, cur)).To(Succeed())
}

// deleteEndpoints deletes the Service's EndpointSlice.
func deleteEndpoints(ctx context.Context, svc *corev1.Service) {
	GinkgoHelper()
	deleteObject(ctx, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-1"}})
}

// owners returns the nodes whose Announcer owns ip.
func owners(ip string) []string {
	addr := netip.MustParseAddr(ip)
	var nodes []string
	for _, name := range nodeNames {
		if slices.Contains(running[name].fake.Owned(), addr) {
			nodes = append(nodes, name)
		}
	}
	return nodes
}

// expectOwner waits until exactly one node announces ip, and returns it.
func expectOwner(ip string) string {
	GinkgoHelper()
	Eventually(func() []string { return owners(ip) }).Should(HaveLen(1), "exactly one node should announce %s", ip)
	return owners(ip)[0]
}

// expectAnnouncedBy waits until node, and no other, announces ip.
func expectAnnouncedBy(ip, node string) {
	GinkgoHelper()
	Eventually(func() []string { return owners(ip) }).Should(Equal([]string{node}), "only %s should announce %s", node, ip)
}

// expectStaysWith checks that node, and no other, announces ip for a while.
func expectStaysWith(ip, node string) {
	GinkgoHelper()
	Consistently(func() []string { return owners(ip) }).Should(Equal([]string{node}), "only %s should go on announcing %s", node, ip)
}

// expectNotAnnounced waits until no node announces ip, and checks that none starts to.
func expectNotAnnounced(ip string) {
	GinkgoHelper()
	Eventually(func() []string { return owners(ip) }).Should(BeEmpty(), "no node should announce %s", ip)
	Consistently(func() []string { return owners(ip) }).Should(BeEmpty(), "no node should announce %s", ip)
}

// announcement returns what node's Announcer holds for ip.
func announcement(node, ip string) (takeovers int, ifaces layer2.InterfaceSet, owned bool) {
	a, ok := running[node].fake.Announcement(netip.MustParseAddr(ip))
	return a.Takeovers, a.Interfaces, ok
}

// l2Statuses returns the ServiceL2Status objects about the Service.
func l2Statuses(ctx context.Context, svc *corev1.Service) []metallbv1beta1.ServiceL2Status {
	GinkgoHelper()
	var list metallbv1beta1.ServiceL2StatusList
	Expect(k8s.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{
		speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace,
	})).To(Succeed())
	return list.Items
}

// expectL2Status waits until the Service has exactly one ServiceL2Status, saying that node announces it on
// ifaces (none: every interface), and returns it.
func expectL2Status(ctx context.Context, svc *corev1.Service, node string, ifaces ...string) metallbv1beta1.ServiceL2Status {
	GinkgoHelper()
	var want []metallbv1beta1.InterfaceInfo
	for _, name := range ifaces {
		want = append(want, metallbv1beta1.InterfaceInfo{Name: name})
	}
	var status metallbv1beta1.ServiceL2Status
	Eventually(func(g Gomega) {
		list := l2Statuses(ctx, svc)
		g.Expect(list).To(HaveLen(1))
		status = list[0]
		g.Expect(status.GenerateName).To(Equal("l2-"))
		g.Expect(status.Labels).To(Equal(map[string]string{speaker.LabelNode: node,
			speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace}))
		g.Expect(status.Status).To(Equal(metallbv1beta1.MetalLBServiceL2Status{
			Node: node, ServiceName: svc.Name, ServiceNamespace: svc.Namespace, Interfaces: want}))
	}).Should(Succeed(), "Service %s/%s should have one ServiceL2Status for %s", svc.Namespace, svc.Name, node)
	return status
}

// expectNoL2Status waits until the Service has no ServiceL2Status.
func expectNoL2Status(ctx context.Context, svc *corev1.Service) {
	GinkgoHelper()
	Eventually(func() []metallbv1beta1.ServiceL2Status { return l2Statuses(ctx, svc) }).Should(BeEmpty(),
		"Service %s/%s should have no ServiceL2Status", svc.Namespace, svc.Name)
}

// speakerEvents returns the speakers' events.k8s.io Events about the Service with reason.
func speakerEvents(ctx context.Context, svc *corev1.Service, reason string) []eventsv1.Event {
	GinkgoHelper()
	var list eventsv1.EventList
	Expect(k8s.List(ctx, &list, client.InNamespace(svc.Namespace))).To(Succeed())
	return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool {
		return e.ReportingController != "metallb-speaker" || e.Reason != reason ||
			e.Regarding.Kind != "Service" || e.Regarding.Name != svc.Name
	})
}

// assignedNote is the note of the nodeAssigned event of node.
func assignedNote(node string) string {
	return fmt.Sprintf("announcing from node %q with protocol %q", node, "layer2")
}

// expectEvent waits for a speaker event about the Service of type and reason whose note is note.
func expectEvent(ctx context.Context, svc *corev1.Service, typ, reason, note string) {
	GinkgoHelper()
	Eventually(func() []eventsv1.Event { return speakerEvents(ctx, svc, reason) }).Should(ContainElement(And(
		HaveField("Type", typ), HaveField("Note", note),
	)), "Service %s/%s should have a %s event %q", svc.Namespace, svc.Name, reason, note)
}

// elect runs the election on what the API server holds now, as the speakers see it: the oracle the
// speakers' choice is checked against.
func elect(ctx context.Context, svc *corev1.Service, ignoreExcludeLB bool) election.Result {
	GinkgoHelper()
	return electService(ctx, getService(ctx, svc), ignoreExcludeLB)
}

// electService is elect for the Service as given.
func electService(ctx context.Context, cur *corev1.Service, ignoreExcludeLB bool) election.Result {
	GinkgoHelper()
	Expect(cur.Status.LoadBalancer.Ingress).NotTo(BeEmpty())
	cfg, err := config.Parse(configResources(ctx), config.WithSpeakerCapabilities(bgp.Capabilities))
	Expect(err).NotTo(HaveOccurred())
	pool := cfg.PoolFor(netip.MustParseAddr(cur.Status.LoadBalancer.Ingress[0].IP))
	Expect(pool).NotTo(BeNil())
	var slices discoveryv1.EndpointSliceList
	Expect(k8s.List(ctx, &slices, client.InNamespace(cur.Namespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: cur.Name})).To(Succeed())
	return election.Elect(election.Input{
		Service: cur, EndpointSlices: slices.Items, Nodes: nodes(ctx), Members: members.snapshot(),
		Advertisements: election.Advertisements(cfg, pool.Name, cur), IgnoreExcludeLB: ignoreExcludeLB,
	})
}

// expectElected waits until the election on the API server's state names a node, and until that node, and
// no other, announces ip; it returns the node.
func expectElected(ctx context.Context, svc *corev1.Service, ip string) string {
	GinkgoHelper()
	var winner string
	Eventually(func(g Gomega) {
		res := elect(ctx, svc, false)
		g.Expect(res.Reason).To(BeEmpty())
		winner = res.Node
		g.Expect(owners(ip)).To(Equal([]string{winner}))
	}).Should(Succeed(), "the elected node, and no other, should announce %s", ip)
	return winner
}

// configResources lists the configuration the way the speaker's ConfigReconciler does.
func configResources(ctx context.Context) config.Resources {
	GinkgoHelper()
	var (
		pools       metallbv1beta1.IPAddressPoolList
		l2          metallbv1beta1.L2AdvertisementList
		bgpAds      metallbv1beta1.BGPAdvertisementList
		peers       metallbv1beta2.BGPPeerList
		bfd         metallbv1beta1.BFDProfileList
		communities metallbv1beta1.CommunityList
		secrets     corev1.SecretList
		nodeList    corev1.NodeList
	)
	for _, l := range []client.ObjectList{&pools, &l2, &bgpAds, &peers, &bfd, &communities, &secrets} {
		Expect(k8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
	}
	Expect(k8s.List(ctx, &nodeList)).To(Succeed())
	byName := map[string]corev1.Secret{}
	for _, s := range secrets.Items {
		byName[s.Name] = s
	}
	return config.Resources{Pools: pools.Items, L2Advertisements: l2.Items, BGPAdvertisements: bgpAds.Items,
		Peers: peers.Items, BFDProfiles: bfd.Items, Communities: communities.Items, PasswordSecrets: byName,
		Nodes: nodeList.Items}
}

// nodes returns the Nodes by name.
func nodes(ctx context.Context) map[string]*corev1.Node {
	GinkgoHelper()
	var list corev1.NodeList
	Expect(k8s.List(ctx, &list)).To(Succeed())
	byName := map[string]*corev1.Node{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	return byName
}

// labelNode adds a label to a node; the spec's cleanup restores the node's base labels.
func labelNode(ctx context.Context, node, key, value string) {
	GinkgoHelper()
	updateNode(ctx, node, func(n *corev1.Node) { n.Labels[key] = value })
	DeferCleanup(updateNode, node, func(n *corev1.Node) { n.Labels = baseLabels(node) })
}

func updateNode(ctx context.Context, node string, f func(*corev1.Node)) {
	GinkgoHelper()
	Eventually(func() error {
		n := &corev1.Node{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: node}, n); err != nil {
			return err
		}
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		f(n)
		return k8s.Update(ctx, n)
	}).Should(Succeed())
}

// setNetworkUnavailable sets the node's NetworkUnavailable condition, as a CNI plugin does, through the
// status subresource; the spec's cleanup sets it back to False.
func setNetworkUnavailable(ctx context.Context, node string, status corev1.ConditionStatus) {
	GinkgoHelper()
	Eventually(func() error {
		n := &corev1.Node{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: node}, n); err != nil {
			return err
		}
		n.Status.Conditions = slices.DeleteFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeNetworkUnavailable
		})
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable,
			Status: status, Reason: "Test", LastTransitionTime: metav1.Now()})
		return k8s.Status().Update(ctx, n)
	}).Should(Succeed())
	if status == corev1.ConditionTrue {
		DeferCleanup(setNetworkUnavailable, node, corev1.ConditionFalse)
	}
}

// others returns the nodes other than those named.
func others(names ...string) []string {
	return slices.DeleteFunc(slices.Clone(nodeNames), func(n string) bool { return slices.Contains(names, n) })
}

// configurationState returns the speaker's ConfigurationState on node.
func configurationState(ctx context.Context, node string) (*metallbv1beta1.ConfigurationState, error) {
	state := &metallbv1beta1.ConfigurationState{}
	err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: speaker.StateName(node)}, state)
	return state, err
}

// expectConfiguration waits until every speaker's ConfigurationState reports result, with a message
// containing each of messages (none: the empty message of a valid configuration).
func expectConfiguration(ctx context.Context, result metallbv1beta1.ConfigurationResult, messages ...string) {
	GinkgoHelper()
	for _, node := range nodeNames {
		Eventually(func(g Gomega) {
			state, err := configurationState(ctx, node)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(state.Status.Result).To(Equal(result))
			g.Expect(state.Status.Conditions).To(HaveLen(1))
			c := state.Status.Conditions[0]
			g.Expect(c.Type).To(Equal(metallbv1beta1.ConditionConfigReconcilerValid))
			if result == metallbv1beta1.ConfigurationResultValid {
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(c.Reason).To(Equal(metallbv1beta1.ReasonReconciled))
				g.Expect(state.Status.ErrorSummary).To(BeEmpty())
				return
			}
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(metallbv1beta1.ReasonConfigurationError))
			g.Expect(c.Message).To(HavePrefix("configuration error: "))
			g.Expect(state.Status.ErrorSummary).To(Equal(c.Message))
			for _, m := range messages {
				g.Expect(c.Message).To(ContainSubstring(m))
			}
		}).Should(Succeed(), "the ConfigurationState of %s should be %s", node, result)
	}
}

// announcedSeries returns the metallb_speaker_announced series of the Service by node, with their values.
func announcedSeries(svc *corev1.Service) map[string]map[string]float64 {
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
			if l["service"] != svc.Namespace+"/"+svc.Name {
				continue
			}
			Expect(l["protocol"]).To(Equal("layer2"))
			if series[l["node"]] == nil {
				series[l["node"]] = map[string]float64{}
			}
			series[l["node"]][l["ip"]] = m.GetGauge().GetValue()
		}
	}
	return series
}

func labelMap(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// metricValue returns the sum of the series of metric name whose labels include labels, and whether there is
// any, from controller-runtime's registry.
func metricValue(name string, labels map[string]string) (float64, bool) {
	GinkgoHelper()
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	var (
		sum   float64
		found bool
	)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			l := labelMap(m)
			if containsAll(l, labels) {
				found = true
				sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return sum, found
}

func containsAll(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
