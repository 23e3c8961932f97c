//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// The layer 2 specs share one controller and one speaker DaemonSet (host network: one per lab at a time);
// every spec brings its own pool, advertisement, pods and Services, and removes them.
var _ = Describe("The speaker in layer 2 mode", Ordered, func() {
	var (
		c  client.Client
		ns string
	)
	BeforeAll(func(ctx SpecContext) {
		c = controllerRuntimeClient()
		installCRDs()
		ns = f.Namespace(ctx, "l2")
		deployController(ctx, c, ns, false)
		deploySpeaker(ctx, c, ns)
	}, NodeTimeout(specTimeout))

	// l2Setup configures a pool of n addresses of each family from the lab's layer 2 ranges, starting at
	// offset, with an L2Advertisement (mutated by adv), and deploys echo pods on every node.
	l2Setup := func(ctx SpecContext, name string, offset, n int, adv func(*metallbv1beta1.L2Advertisement)) (apps string) {
		GinkgoHelper()
		v4, v6 := lab.L2VIPRange4[0], lab.L2VIPRange6[0]
		for range offset {
			v4, v6 = v4.Next(), v6.Next()
		}
		last4, last6 := v4, v6
		for range n - 1 {
			last4, last6 = last4.Next(), last6.Next()
		}
		pool := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{v4.String() + "-" + last4.String(), v6.String() + "-" + last6.String()}}}
		ad := &metallbv1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: metallbv1beta1.L2AdvertisementSpec{IPAddressPools: []string{name}}}
		if adv != nil {
			adv(ad)
		}
		for _, o := range []client.Object{pool, ad} {
			Expect(c.Create(ctx, o)).To(Succeed())
			DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(c.Delete(ctx, o))).To(Succeed()) })
		}
		apps = f.Namespace(ctx, name)
		_, err := f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		return apps
	}

	It("answers ARP and NDP from the elected node, and the client reaches the pods through the address", func(ctx SpecContext) {
		apps := l2Setup(ctx, "basic", 0, 4, nil)
		svc := createLoadBalancer(ctx, c, apps, "web", nil)
		ips := awaitIngress(ctx, c, svc, 2)
		owner := awaitOwner(ctx, c, ns, svc)

		By(fmt.Sprintf("answering ARP for %s with %s's MAC", ips[0], owner.Name))
		Eventually(ctx, func() (string, error) {
			mac, err := f.Lab.Arping(ctx, ips[0])
			return mac.String(), err
		}).Should(Equal(owner.MAC.String()))

		By("serving HTTP through both addresses")
		reply := regexp.MustCompile(`^pod=echo-\S+ node=node\d+ `)
		for _, ip := range ips {
			url := "http://" + netip.AddrPortFrom(ip, 80).String() + "/"
			Eventually(ctx, func() (string, error) { return f.Lab.HTTPGet(ctx, url) }).Should(MatchRegexp(reply.String()), "GET %s", url)
		}

		By(fmt.Sprintf("resolving %s over NDP to %s's MAC", ips[1], owner.Name))
		Eventually(ctx, func() (string, error) { return neighbourMAC(ctx, ips[1]) }).Should(Equal(owner.MAC.String()))

		By("recording nodeAssigned once, from the owner")
		Eventually(ctx, func(g Gomega) {
			events, err := f.Client.EventsV1().Events(apps).List(ctx, metav1.ListOptions{FieldSelector: "reason=" + speaker.EventNodeAssigned})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(events.Items).To(HaveLen(1))
			g.Expect(events.Items[0].Note).To(Equal(fmt.Sprintf("announcing from node %q with protocol %q", owner.Name, "layer2")))
		}).Should(Succeed())
	}, SpecTimeout(specTimeout))

	It("moves the address and the client's neighbour entry when the owner's speaker stops answering, and back when it returns", func(ctx SpecContext) {
		apps := l2Setup(ctx, "hung", 4, 1, nil)
		svc := createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		ip := awaitIngress(ctx, c, svc, 1)[0]
		owner := awaitOwner(ctx, c, ns, svc)
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(owner.MAC.String()))
		probe, err := f.Lab.ProbeARP(ip, 20*time.Millisecond)
		Expect(err).NotTo(HaveOccurred())
		defer probe.Stop()

		By(fmt.Sprintf("stopping the speaker on %s (SIGSTOP: to the others it is dead)", owner.Name))
		stopped := time.Now()
		signalSpeaker(ctx, owner, "STOP")
		resumed := false
		defer func() {
			if !resumed {
				signalSpeaker(context.Background(), owner, "CONT")
			}
		}()
		var moved ARPReplyMatcher
		Eventually(ctx, func() bool { moved = firstReplyNotFrom(probe, owner, stopped); return moved.ok }).
			WithTimeout(10*time.Second).Should(BeTrue(), "another node answers")
		GinkgoWriter.Printf("first answer from %s %v after the speaker stopped\n", moved.mac, moved.at.Sub(stopped))
		Eventually(ctx, func() (string, error) { return neighbourMAC(ctx, ip) }).Should(Equal(moved.mac),
			"the client's neighbour entry follows the new owner's gratuitous ARP")

		By("resuming it: the elected node takes the address back, and only one node answers")
		signalSpeaker(ctx, owner, "CONT")
		resumed = true
		Eventually(ctx, func(g Gomega) {
			g.Expect(l2Statuses(ctx, c, ns, svc)).To(ConsistOf(HaveField("Status.Node", owner.Name)))
			mac, err := f.Lab.Arping(ctx, ip)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(mac.String()).To(Equal(owner.MAC.String()))
		}).Should(Succeed())
		settled := time.Now()
		time.Sleep(time.Second)
		for _, r := range probe.Replies() {
			Expect(r.At.Before(settled) || r.MAC == owner.MAC.String()).To(BeTrue(), "only %s answers once settled", owner.Name)
		}
	}, SpecTimeout(specTimeout))

	It("answers again within seconds when the owner's speaker is killed and restarted", func(ctx SpecContext) {
		apps := l2Setup(ctx, "kill", 8, 1, nil)
		svc := createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		ip := awaitIngress(ctx, c, svc, 1)[0]
		owner := awaitOwner(ctx, c, ns, svc)
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(owner.MAC.String()))
		probe, err := f.Lab.ProbeARP(ip, 20*time.Millisecond)
		Expect(err).NotTo(HaveOccurred())
		defer probe.Stop()

		By(fmt.Sprintf("killing the speaker on %s (SIGKILL: no hand-over)", owner.Name))
		killed := time.Now()
		signalSpeaker(ctx, owner, "KILL")
		Eventually(ctx, func(g Gomega) {
			pods, err := f.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "component=speaker",
				FieldSelector: "spec.nodeName=" + owner.Name})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods.Items).To(HaveLen(1))
			g.Expect(pods.Items[0].Status.ContainerStatuses).To(ConsistOf(And(
				HaveField("RestartCount", BeNumerically(">", 0)), HaveField("Ready", BeTrue()))))
		}).WithTimeout(time.Minute).Should(Succeed(), "the killed speaker restarts")
		time.Sleep(2 * time.Second)
		gaps := probe.Gaps(killed, 0)
		longest := time.Duration(0)
		for _, g := range gaps {
			longest = max(longest, g)
		}
		GinkgoWriter.Printf("longest time without an ARP answer after the kill: %v\n", longest)
		Expect(longest).To(BeNumerically("<", 3*time.Second), "the address is answered again (by another node or the restarted speaker)")
		Expect(probe.Replies()[len(probe.Replies())-1].At).To(BeTemporally(">", time.Now().Add(-time.Second)), "and answered now")
	}, SpecTimeout(specTimeout))

	It("does not answer for a Service without a ready endpoint", func(ctx SpecContext) {
		apps := l2Setup(ctx, "noendpoints", 5, 1, nil)
		svc := createLoadBalancer(ctx, c, apps, "nothing", ptr.To(corev1.IPFamilyPolicySingleStack), func(s *corev1.Service) {
			s.Spec.Selector = map[string]string{"app": "nothing"}
		})
		ip := awaitIngress(ctx, c, svc, 1)[0]
		Consistently(ctx, func() error { _, err := f.Lab.Arping(ctx, ip); return err }).
			WithTimeout(5*time.Second).WithPolling(time.Second).Should(HaveOccurred(), "no ARP answer for %s", ip)
	}, SpecTimeout(specTimeout))

	It("honours the advertisement's nodeSelectors and the exclusion label", func(ctx SpecContext) {
		target := f.Lab.NodeHosts()[len(f.Lab.NodeHosts())-1]
		apps := l2Setup(ctx, "selectors", 6, 1, func(ad *metallbv1beta1.L2Advertisement) {
			ad.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{corev1.LabelHostname: target.Name}}}
		})
		svc := createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		ip := awaitIngress(ctx, c, svc, 1)[0]
		Expect(awaitOwner(ctx, c, ns, svc).Name).To(Equal(target.Name))
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(target.MAC.String()))

		By(fmt.Sprintf("labelling %s %s", target.Name, corev1.LabelNodeExcludeBalancers))
		setNodeLabel(ctx, target.Name, corev1.LabelNodeExcludeBalancers, ptr.To("true"))
		DeferCleanup(func(ctx SpecContext) { setNodeLabel(ctx, target.Name, corev1.LabelNodeExcludeBalancers, nil) })
		Eventually(ctx, func() error { _, err := f.Lab.Arping(ctx, ip); return err }).Should(HaveOccurred(), "no node may answer")
		Eventually(ctx, func(g Gomega) { g.Expect(l2Statuses(ctx, c, ns, svc)).To(BeEmpty()) }).Should(Succeed())

		By("removing the label")
		setNodeLabel(ctx, target.Name, corev1.LabelNodeExcludeBalancers, nil)
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(target.MAC.String()))
	}, SpecTimeout(specTimeout))

	It("loses no ARP answer during a rolling restart of the speakers", func(ctx SpecContext) {
		apps := l2Setup(ctx, "rollout", 7, 1, nil)
		svc := createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		ip := awaitIngress(ctx, c, svc, 1)[0]
		owner := awaitOwner(ctx, c, ns, svc)
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(owner.MAC.String()))

		probe, err := f.Lab.ProbeARP(ip, 50*time.Millisecond)
		Expect(err).NotTo(HaveOccurred())
		defer probe.Stop()
		start := time.Now()
		restartSpeakers(ctx, c, ns)
		time.Sleep(2 * time.Second) // answers after the last pod became ready
		gaps := probe.Gaps(start, 500*time.Millisecond)
		GinkgoWriter.Printf("ARP requests sent %d, answers %d, gaps over 500 ms: %v\n", probe.Sent(), len(probe.Replies()), gaps)
		Expect(gaps).To(BeEmpty(), "no 500 ms without an answer while asking every 50 ms")
	}, SpecTimeout(specTimeout))
})

// deploySpeaker runs the speaker binary of the project image as a DaemonSet in ns, as the operator would:
// host network, NET_RAW only, memberlist with a key of its own, the ClusterRole generated from the RBAC
// markers. It waits until a speaker is ready on every node.
func deploySpeaker(ctx context.Context, c client.Client, ns string) {
	GinkgoHelper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "speaker"}}
	Expect(c.Create(ctx, sa)).To(Succeed())
	bindRoles(ctx, c, ns, sa)
	key := make([]byte, 128)
	_, _ = rand.Read(key)
	Expect(c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "memberlist"},
		Data: map[string][]byte{"secretkey": []byte(base64.StdEncoding.EncodeToString(key))}})).To(Succeed())
	labels := map[string]string{"app": "metallb", "component": "speaker"}
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "speaker"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork:                   true,
					ServiceAccountName:            sa.Name,
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Volumes: []corev1.Volume{{Name: "memberlist", VolumeSource: corev1.VolumeSource{
						Secret: &corev1.SecretVolumeSource{SecretName: "memberlist", DefaultMode: ptr.To[int32](0o444)}}}},
					Containers: []corev1.Container{{
						Name:            "speaker",
						Image:           lab.ProjectImage,
						ImagePullPolicy: corev1.PullNever,
						Command:         []string{"/speaker", "--namespace=" + ns, "--metrics-bind-address=0", "--log-level=debug"},
						Env: []corev1.EnvVar{
							field("METALLB_NODE_NAME", "spec.nodeName"), field("METALLB_POD_NAME", "metadata.name"),
							field("METALLB_ML_BIND_ADDR", "status.podIP"),
							{Name: "METALLB_ML_LABELS", Value: "app=metallb,component=speaker"},
							{Name: "METALLB_ML_SECRET_KEY_PATH", Value: "/etc/ml_secret_key"},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "memberlist", MountPath: "/etc/ml_secret_key", ReadOnly: true}},
						ReadinessProbe: &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
							Path: "/readyz", Port: intstr.FromInt32(17472)}}},
						// Raw ARP and NDP sockets need NET_RAW, which only root's processes get without file capabilities.
						SecurityContext: &corev1.SecurityContext{
							RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(false), AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities:           &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_RAW"}}},
					}},
				},
			},
		},
	}
	Expect(c.Create(ctx, ds)).To(Succeed())
	awaitSpeakers(ctx, c, ns)
}

// awaitSpeakers waits until the speaker DaemonSet has an up-to-date, ready pod on every node.
func awaitSpeakers(ctx context.Context, c client.Client, ns string) {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		ds := &appsv1.DaemonSet{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "speaker"}, ds)).To(Succeed())
		g.Expect(ds.Status.ObservedGeneration).To(Equal(ds.Generation))
		g.Expect(ds.Status.UpdatedNumberScheduled).To(BeEquivalentTo(f.Lab.Nodes))
		g.Expect(ds.Status.NumberReady).To(BeEquivalentTo(f.Lab.Nodes))
	}).Should(Succeed(), "a ready speaker on every node")
}

// restartSpeakers rolls the speaker DaemonSet, as an upgrade would, and waits until it is done.
func restartSpeakers(ctx context.Context, c client.Client, ns string) {
	GinkgoHelper()
	ds := &appsv1.DaemonSet{}
	Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "speaker"}, ds)).To(Succeed())
	patch := client.MergeFrom(ds.DeepCopy())
	if ds.Spec.Template.Annotations == nil {
		ds.Spec.Template.Annotations = map[string]string{}
	}
	ds.Spec.Template.Annotations["e2e.ferrolb.io/restarted"] = strconv.FormatInt(time.Now().UnixNano(), 10)
	Expect(c.Patch(ctx, ds, patch)).To(Succeed())
	awaitSpeakers(ctx, c, ns)
}

// createLoadBalancer creates a LoadBalancer Service in front of the echo pods.
func createLoadBalancer(ctx context.Context, c client.Client, ns, name string, policy *corev1.IPFamilyPolicy, mutate ...func(*corev1.Service)) *corev1.Service {
	GinkgoHelper()
	if policy == nil {
		policy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, IPFamilyPolicy: policy,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Selector:                      map[string]string{"app": "echo"},
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	for _, m := range mutate {
		m(svc)
	}
	Expect(c.Create(ctx, svc)).To(Succeed())
	return svc
}

// awaitIngress waits until the Service shows n addresses, and returns them.
func awaitIngress(ctx context.Context, c client.Client, svc *corev1.Service, n int) []netip.Addr {
	GinkgoHelper()
	var ips []netip.Addr
	Eventually(ctx, func(g Gomega) {
		got := &corev1.Service{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(svc), got)).To(Succeed())
		g.Expect(got.Status.LoadBalancer.Ingress).To(HaveLen(n))
		ips = nil
		for _, in := range got.Status.LoadBalancer.Ingress {
			ips = append(ips, netip.MustParseAddr(in.IP))
		}
	}).Should(Succeed(), "Service %s gets %d addresses", svc.Name, n)
	return ips
}

// awaitOwner waits until exactly one ServiceL2Status names the node announcing the Service, and returns it.
func awaitOwner(ctx context.Context, c client.Client, ns string, svc *corev1.Service) lab.Host {
	GinkgoHelper()
	var node string
	Eventually(ctx, func(g Gomega) {
		statuses := l2Statuses(ctx, c, ns, svc)
		g.Expect(statuses).To(HaveLen(1))
		node = statuses[0].Status.Node
		g.Expect(node).NotTo(BeEmpty())
	}).Should(Succeed(), "one node announces %s", svc.Name)
	h, err := f.Lab.Host(node)
	Expect(err).NotTo(HaveOccurred())
	return h
}

func l2Statuses(ctx context.Context, c client.Client, ns string, svc *corev1.Service) []metallbv1beta1.ServiceL2Status {
	GinkgoHelper()
	var list metallbv1beta1.ServiceL2StatusList
	Expect(c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{
		speaker.LabelServiceName: svc.Name, speaker.LabelServiceNamespace: svc.Namespace})).To(Succeed())
	return list.Items
}

// neighbourMAC makes the client talk to ip and returns the MAC of its neighbour entry.
func neighbourMAC(ctx context.Context, ip netip.Addr) (string, error) {
	_, _ = f.Lab.Exec(ctx, lab.Client(), "ping", "-c", "1", "-W", "1", ip.String())
	neighbours, err := f.Lab.Neighbours(ctx, lab.Client())
	if err != nil {
		return "", err
	}
	for _, n := range neighbours {
		if n.IP == ip && n.MAC != "" {
			return n.MAC, nil
		}
	}
	return "", fmt.Errorf("no neighbour entry for %s", ip)
}

// signalSpeaker sends a signal (kill's name for it: KILL, STOP, CONT) to the speaker process of the node.
func signalSpeaker(ctx context.Context, node lab.Host, signal string) {
	GinkgoHelper()
	_, err := f.Lab.Exec(ctx, node, "kill", "-"+signal, speakerPid(ctx, node))
	Expect(err).NotTo(HaveOccurred())
}

// speakerPid returns the pid of the speaker process of the node.
func speakerPid(ctx context.Context, node lab.Host) string {
	GinkgoHelper()
	out, err := f.Lab.Exec(ctx, node, "pgrep", "-x", "speaker")
	Expect(err).NotTo(HaveOccurred(), "finding the speaker processes")
	self, err := f.Lab.Exec(ctx, node, "readlink", "/proc/self/ns/net")
	Expect(err).NotTo(HaveOccurred())
	for _, pid := range strings.Fields(string(out)) {
		// pgrep sees every process of the machine; keep the one in the node's network namespace.
		if ns, err := f.Lab.Exec(ctx, node, "readlink", "/proc/"+pid+"/ns/net"); err == nil && string(ns) == string(self) {
			return pid
		}
	}
	Fail("no speaker process on " + node.Name)
	return ""
}

// ARPReplyMatcher is an answer found in a probe.
type ARPReplyMatcher struct {
	mac string
	at  time.Time
	ok  bool
}

// firstReplyNotFrom finds the probe's first answer after since from another MAC than node's.
func firstReplyNotFrom(p *lab.ARPProbe, node lab.Host, since time.Time) ARPReplyMatcher {
	for _, r := range p.Replies() {
		if r.At.After(since) && r.MAC != node.MAC.String() {
			return ARPReplyMatcher{mac: r.MAC, at: r.At, ok: true}
		}
	}
	return ARPReplyMatcher{}
}

// setNodeLabel sets, or with nil removes, a label of a node.
func setNodeLabel(ctx context.Context, node, key string, value *string) {
	GinkgoHelper()
	v := "null"
	if value != nil {
		v = strconv.Quote(*value)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, key, v)
	_, err := f.Client.CoreV1().Nodes().Patch(ctx, node, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
	Expect(err).NotTo(HaveOccurred())
}
