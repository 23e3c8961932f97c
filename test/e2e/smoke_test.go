//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// The smoke specs check the lab itself: the topology, the cluster's pod and Service networking, the project image
// and the router. Every later spec relies on them.
var _ = Describe("The lab", func() {
	It("has every node Ready with its IPv4 and IPv6 lab addresses", func(ctx SpecContext) {
		nodes, err := f.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(nodes.Items).To(HaveLen(f.Lab.Nodes))
		for _, n := range nodes.Items {
			host, err := f.Lab.Host(n.Name)
			Expect(err).NotTo(HaveOccurred())
			Expect(n.Status.Conditions).To(ContainElement(And(
				HaveField("Type", corev1.NodeReady), HaveField("Status", corev1.ConditionTrue))), "node %s Ready", n.Name)
			Expect(internalIPs(n)).To(ConsistOf(host.IPv4, host.IPv6), "node %s addresses", n.Name)
		}
	}, SpecTimeout(specTimeout))

	It("connects the client to the router and every node over IPv4 and IPv6", func(ctx SpecContext) {
		hosts := append([]lab.Host{lab.Router()}, f.Lab.NodeHosts()...)
		for _, h := range hosts {
			for _, ip := range []netip.Addr{h.IPv4, h.IPv6} {
				_, err := f.Lab.Exec(ctx, lab.Client(), "ping", "-c", "1", "-W", "2", ip.String())
				Expect(err).NotTo(HaveOccurred(), "ping %s (%s)", ip, h.Name)
			}
			mac, err := f.Lab.Arping(ctx, h.IPv4)
			Expect(err).NotTo(HaveOccurred())
			Expect(mac).To(Equal(h.MAC), "the MAC that answers ARP for %s", h.Name)
		}

		By("resolving every address to its host's MAC in the client's neighbour table")
		neighbours, err := f.Lab.Neighbours(ctx, lab.Client())
		Expect(err).NotTo(HaveOccurred())
		macs := map[netip.Addr]string{}
		for _, n := range neighbours {
			macs[n.IP] = n.MAC
		}
		for _, h := range hosts {
			Expect(macs).To(HaveKeyWithValue(h.IPv4, h.MAC.String()), "IPv4 neighbour %s", h.Name)
			Expect(macs).To(HaveKeyWithValue(h.IPv6, h.MAC.String()), "IPv6 neighbour %s", h.Name)
		}
	}, SpecTimeout(specTimeout))

	It("keeps the root namespace out of the lab: no lab address, no route to a lab prefix", func(ctx SpecContext) {
		labPrefixes := []netip.Prefix{lab.NodeSubnet4, lab.NodeSubnet6, lab.ClusterCIDR4, lab.ClusterCIDR6,
			lab.ServiceCIDR4, lab.ServiceCIDR6, lab.BGPVIPRange4, lab.BGPVIPRange6, lab.BGPBenchRange4}
		overlapsLab := func(p netip.Prefix) bool {
			for _, l := range labPrefixes {
				if l.Overlaps(p) {
					return true
				}
			}
			return false
		}
		for _, p := range rootAddresses(ctx) {
			Expect(overlapsLab(p)).To(BeFalse(), "root namespace address %s is in the lab", p)
		}
		for _, p := range rootRoutes(ctx) {
			Expect(overlapsLab(p)).To(BeFalse(), "root namespace route to %s leads into the lab", p)
		}
	}, SpecTimeout(specTimeout))

	It("serves HTTP from a Deployment spread across the nodes through a NodePort reachable from the client", func(ctx SpecContext) {
		ns := f.Namespace(ctx, "echo")
		nodes := f.Lab.NodeHosts()
		_, err := f.Client.AppsV1().Deployments(ns).Create(ctx, echoDeployment(int32(len(nodes))), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		svc, err := f.Client.CoreV1().Services(ns).Create(ctx, echoService(), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		nodePort := svc.Spec.Ports[0].NodePort

		By("running one ready echo pod on every node")
		var pods []string
		Eventually(ctx, func(g Gomega) {
			list, err := f.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=echo"})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(readyPods(list.Items)).To(HaveLen(len(nodes)))
			pods = nil
			onNodes := map[string]bool{}
			for _, p := range list.Items {
				pods = append(pods, p.Name)
				onNodes[p.Spec.NodeName] = true
			}
			g.Expect(onNodes).To(HaveLen(len(nodes)), "pods spread across the nodes")
		}).Should(Succeed())

		By("answering on every node's IPv4 and IPv6 address")
		reply := regexp.MustCompile(`^pod=(echo-\S+) node=node\d+ `)
		for _, n := range nodes {
			for _, ip := range []netip.Addr{n.IPv4, n.IPv6} {
				url := "http://" + netip.AddrPortFrom(ip, uint16(nodePort)).String() + "/"
				Eventually(ctx, func() (string, error) { return f.Lab.HTTPGet(ctx, url) }).Should(MatchRegexp(reply.String()), "GET %s", url)
			}
		}

		By("balancing one node's NodePort across the pods of every node")
		url := "http://" + netip.AddrPortFrom(nodes[0].IPv4, uint16(nodePort)).String() + "/"
		seen := map[string]bool{}
		Eventually(ctx, func(g Gomega) {
			body, err := f.Lab.HTTPGet(ctx, url)
			g.Expect(err).NotTo(HaveOccurred())
			m := reply.FindStringSubmatch(body)
			g.Expect(m).NotTo(BeNil(), "reply %q", body)
			seen[m[1]] = true
			g.Expect(seen).To(HaveLen(len(pods)), "pods that answered")
		}).WithPolling(100 * time.Millisecond).Should(Succeed())
	}, SpecTimeout(specTimeout))

	It("runs the project image as a hostNetwork DaemonSet with one Ready pod per node", func(ctx SpecContext) {
		ns := f.Namespace(ctx, "manager")
		// The operator reads its kinds with the generated role, so that it stays up and ready.
		c := controllerRuntimeClient()
		installCRDs()
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ferrolb-manager"}}
		Expect(c.Create(ctx, sa)).To(Succeed())
		bindRoles(ctx, c, ns, sa)
		_, err := f.Client.AppsV1().DaemonSets(ns).Create(ctx, managerDaemonSet("ferrolb-manager"), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		nodes := f.Lab.NodeHosts()
		Eventually(ctx, func(g Gomega) {
			list, err := f.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=ferrolb-manager"})
			g.Expect(err).NotTo(HaveOccurred())
			ready := readyPods(list.Items)
			g.Expect(ready).To(HaveLen(len(nodes)))
			for _, p := range ready {
				host, err := f.Lab.Host(p.Spec.NodeName)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(p.Status.PodIP).To(Equal(host.IPv4.String()), "pod %s shares %s's network", p.Name, host.Name)
			}
		}).Should(Succeed())

		By("answering health probes on every node's address, from the client")
		for _, n := range nodes {
			url := "http://" + netip.AddrPortFrom(n.IPv4, managerProbePort).String() + "/readyz"
			Expect(f.Lab.HTTPGet(ctx, url)).To(Equal("ok"), "GET %s", url)
		}
	}, SpecTimeout(specTimeout))

	It("runs FRR with zebra, bfdd and bgpd, listening for the nodes of both families", func(ctx SpecContext) {
		daemons, err := f.Lab.Vtysh(ctx, "show daemons")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(string(daemons))).To(ContainElements("zebra", "bfdd", "bgpd"))

		var bgp struct {
			RouterID string `json:"routerId"`
			LocalAS  uint32 `json:"localAS"`
		}
		Expect(f.Lab.VtyshJSON(ctx, "show bgp ipv4 unicast json", &bgp)).To(Succeed())
		Expect(bgp.RouterID).To(Equal(lab.Router().IPv4.String()))
		Expect(bgp.LocalAS).To(Equal(f.Lab.RouterASN))

		var groups map[string]struct {
			RemoteAS      uint32 `json:"remoteAs"`
			DynamicRanges map[string]struct {
				Ranges []string `json:"ranges"`
			} `json:"dynamicRanges"`
		}
		Expect(f.Lab.VtyshJSON(ctx, "show bgp peer-group json", &groups)).To(Succeed())
		Expect(groups).To(HaveKey("nodes"))
		Expect(groups["nodes"].RemoteAS).To(Equal(f.Lab.NodeASN))
		Expect(groups["nodes"].DynamicRanges["IPv4"].Ranges).To(ConsistOf(lab.NodeSubnet4.String()))
		Expect(groups["nodes"].DynamicRanges["IPv6"].Ranges).To(ConsistOf(lab.NodeSubnet6.String()))

		_, err = f.Lab.BGPSummary(ctx)
		Expect(err).NotTo(HaveOccurred())
	}, SpecTimeout(specTimeout))
})

// specTimeout bounds each smoke spec, waits and cleanups included.
const specTimeout = 5 * time.Minute

// managerProbePort is where the manager serves /healthz and /readyz in the DaemonSet spec.
const managerProbePort = 18081

func echoDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "echo"}
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew: 1, TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.DoNotSchedule,
						LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
					}},
					Containers: []corev1.Container{{
						Name:            "echo",
						Image:           lab.EchoImage,
						ImagePullPolicy: corev1.PullNever,
						Env:             []corev1.EnvVar{fieldEnv("POD_NAME", "metadata.name"), fieldEnv("NODE_NAME", "spec.nodeName")},
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}},
							PeriodSeconds: 1,
						},
						SecurityContext: restricted(),
					}},
				},
			},
		},
	}
}

// echoService is a dual-stack NodePort Service in front of the echo pods.
func echoService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: corev1.ServiceSpec{
			Type:           corev1.ServiceTypeNodePort,
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyPreferDualStack),
			Selector:       map[string]string{"app": "echo"},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
}

// managerDaemonSet runs the operator manager on every node's network with only what it needs: the API server's
// address from the in-cluster config and a port for its probes.
func managerDaemonSet(serviceAccount string) *appsv1.DaemonSet {
	labels := map[string]string{"app": "ferrolb-manager"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "ferrolb-manager"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork:                   true,
					ServiceAccountName:            serviceAccount,
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers: []corev1.Container{{
						Name:            "manager",
						Image:           lab.ProjectImage,
						ImagePullPolicy: corev1.PullNever,
						Args:            []string{"--metrics-bind-address=0", fmt.Sprintf("--health-probe-bind-address=:%d", managerProbePort)},
						// The operator's environment contract: it refuses to start without it.
						Env: []corev1.EnvVar{
							{Name: "OPERATOR_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
							{Name: "CONTROLLER_IMAGE", Value: lab.ProjectImage},
							{Name: "SPEAKER_IMAGE", Value: lab.ProjectImage},
						},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(managerProbePort)}},
							PeriodSeconds: 1,
						},
						SecurityContext: restricted(),
					}},
				},
			},
		},
	}
}

// restricted is the Pod Security "restricted" container profile, which the project image must run under.
func restricted() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func readyPods(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

func internalIPs(n corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			out = append(out, netip.MustParseAddr(a.Address))
		}
	}
	return out
}

// rootAddresses lists the root namespace's interface addresses (as prefixes of one address).
func rootAddresses(ctx context.Context) []netip.Prefix {
	var links []struct {
		AddrInfo []struct {
			Local string `json:"local"`
		} `json:"addr_info"`
	}
	Expect(json.Unmarshal(rootIP(ctx, "-j", "addr", "show"), &links)).To(Succeed())
	var out []netip.Prefix
	for _, l := range links {
		for _, a := range l.AddrInfo {
			addr := netip.MustParseAddr(a.Local)
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
		}
	}
	return out
}

// rootRoutes lists the destinations of the root namespace's routes in every table, default routes excepted.
func rootRoutes(ctx context.Context) []netip.Prefix {
	var out []netip.Prefix
	for _, family := range []string{"-4", "-6"} {
		var routes []struct {
			Dst string `json:"dst"`
		}
		Expect(json.Unmarshal(rootIP(ctx, family, "-j", "route", "show", "table", "all"), &routes)).To(Succeed())
		for _, r := range routes {
			if r.Dst == "default" {
				continue
			}
			p, err := netip.ParsePrefix(r.Dst)
			if err != nil {
				addr, aerr := netip.ParseAddr(r.Dst)
				if aerr != nil {
					continue // "multicast ff00::/8"-like keys are not lab prefixes
				}
				p = netip.PrefixFrom(addr, addr.BitLen())
			}
			out = append(out, p)
		}
	}
	return out
}

func rootIP(ctx context.Context, args ...string) []byte {
	out, err := exec.CommandContext(ctx, "ip", args...).Output()
	Expect(err).NotTo(HaveOccurred(), "ip %s", strings.Join(args, " "))
	return out
}
