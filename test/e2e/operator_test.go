//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/render"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// operatorProbePort is where the operator pod serves /healthz and /readyz.
const operatorProbePort = 8081

var _ = Describe("The operator", Ordered, func() {
	var (
		c  client.Client
		ns string
	)
	metallb := func() *metallbv1beta1.MetalLB {
		return &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.MetalLBName}}
	}
	BeforeAll(func(ctx SpecContext) {
		c = controllerRuntimeClient()
		installCRDs()
		ns = f.Namespace(ctx, "operator")
		deployOperator(ctx, c, ns)
		releaseAtCleanup(c, metallb())
	}, NodeTimeout(specTimeout))

	It("deploys the controller and a speaker on every node from the MetalLB resource, and reports Available", func(ctx SpecContext) {
		m := metallb()
		m.Spec.LogLevel = "info"
		Expect(c.Create(ctx, m)).To(Succeed())

		awaitAvailable(ctx, c, m)
		By("running the operands as real pods: one controller, one speaker per node, all Ready")
		Eventually(ctx, func(g Gomega) {
			for component, n := range map[string]int{"controller": 1, "speaker": f.Lab.Nodes} {
				pods := &corev1.PodList{}
				g.Expect(c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"component": component})).To(Succeed())
				g.Expect(readyPods(pods.Items)).To(HaveLen(n), "ready %s pods", component)
			}
		}).Should(Succeed())

		By("showing Available in kubectl get metallb")
		out, err := f.Lab.KubectlCommand(ctx, "get", "metallb", "-n", ns).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(MatchRegexp(`(?m)^NAME\s+AVAILABLE\s+DEGRADED\s+PROGRESSING\s+AGE\n` + controllers.MetalLBName + `\s+True\s+False\s+False\s`))
	}, SpecTimeout(specTimeout))

	It("announces a Service's address that the client reaches", func(ctx SpecContext) {
		ip := lab.L2VIPRange4[0]
		for range 30 {
			ip = ip.Next()
		}
		pool := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "operator"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{ip.String() + "/32"}}}
		adv := &metallbv1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "operator"},
			Spec: metallbv1beta1.L2AdvertisementSpec{IPAddressPools: []string{pool.Name}}}
		for _, o := range []client.Object{pool, adv} {
			Expect(c.Create(ctx, o)).To(Succeed())
		}
		apps := f.Namespace(ctx, "operator-apps")
		_, err := f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		svc := createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		Expect(awaitIngress(ctx, c, svc, 1)).To(ConsistOf(ip))
		owner := awaitOwner(ctx, c, ns, svc)

		By(fmt.Sprintf("answering ARP from %s and serving HTTP through %s", owner.Name, ip))
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(owner.MAC.String()))
		url := "http://" + netip.AddrPortFrom(ip, 80).String() + "/"
		Eventually(ctx, func() (string, error) { return f.Lab.HTTPGet(ctx, url) }).Should(MatchRegexp(`^pod=echo-\S+ node=node\d+ `), "GET %s", url)
	}, SpecTimeout(specTimeout))

	It("serves every speaker's metrics over HTTPS to a ServiceAccount allowed to get /metrics, and to no one else", func(ctx SpecContext) {
		token := func(name string) string {
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
			Expect(c.Create(ctx, sa)).To(Succeed())
			tr, err := f.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			return tr.Status.Token
		}
		scraper, stranger := token("scraper"), token("stranger")
		reader := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-metrics-reader"},
			Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: reader.Name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "scraper"}}}
		for _, o := range []client.Object{reader, binding} {
			Expect(c.Create(ctx, o)).To(Succeed())
			DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(c.Delete(ctx, o))).To(Succeed()) })
		}

		// The speakers run in the host network: the client scrapes each node, as a Prometheus outside the
		// cluster would.
		scrape := func(node lab.Host, token string) (string, error) {
			args := []string{"curl", "--silent", "--show-error", "--insecure", "--max-time", "5",
				"--write-out", "\n%{http_code}", fmt.Sprintf("https://%s/metrics", netip.AddrPortFrom(node.IPv4, uint16(render.DefaultSpeakerMetricsPort)))}
			if token != "" {
				args = append(args, "--header", "Authorization: Bearer "+token)
			}
			out, err := f.Lab.Exec(ctx, lab.Client(), args...)
			return string(out), err
		}
		for _, node := range f.Lab.NodeHosts() {
			By("scraping " + node.Name)
			Eventually(ctx, func() (string, error) { return scrape(node, scraper) }).Should(
				And(ContainSubstring("\nmetallb_k8s_client_config_loaded_bool 1\n"), HaveSuffix("\n200")), "with the reader's token")
			Expect(scrape(node, stranger)).To(HaveSuffix("\n403"), "with a token without the role")
			Expect(scrape(node, "")).To(HaveSuffix("\n401"), "without a token")
			Expect(scrape(node, "not-a-token")).To(HaveSuffix("\n401"), "with a token the API server refuses")
		}
	}, SpecTimeout(specTimeout))

	It("rolls out a logLevel change: Progressing, then Available again", func(ctx SpecContext) {
		seen := watchConditions(ctx, c, ns)
		m := metallb()
		Expect(c.Get(ctx, client.ObjectKeyFromObject(m), m)).To(Succeed())
		patch := client.MergeFrom(m.DeepCopy())
		m.Spec.LogLevel = "debug"
		Expect(c.Patch(ctx, m, patch)).To(Succeed())

		By("running every operand pod with --log-level=debug")
		Eventually(ctx, func(g Gomega) {
			pods := &corev1.PodList{}
			g.Expect(c.List(ctx, pods, client.InNamespace(ns), client.HasLabels{"component"})).To(Succeed())
			ready := readyPods(pods.Items)
			g.Expect(ready).To(HaveLen(1 + f.Lab.Nodes))
			for _, p := range ready {
				g.Expect(p.DeletionTimestamp).To(BeNil())
				g.Expect(slices.Concat(p.Spec.Containers[0].Command, p.Spec.Containers[0].Args)).To(ContainElement("--log-level=debug"), "pod %s", p.Name)
			}
		}).Should(Succeed())
		awaitAvailable(ctx, c, m)

		By("having reported Progressing=True on the way, then Available with Progressing=False")
		states := seen()
		Expect(states).To(ContainElement(HavePrefix("Progressing=True")), "condition states: %v", states)
		i := slices.IndexFunc(states, func(s string) bool { return strings.HasPrefix(s, "Progressing=True") })
		Expect(states[i:]).To(ContainElement("Progressing=False Available=True"), "condition states: %v", states)
	}, SpecTimeout(specTimeout))

	It("removes every operand when the MetalLB resource is deleted", func(ctx SpecContext) {
		Expect(c.Delete(ctx, metallb())).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			g.Expect(apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(metallb()), metallb()))).To(BeTrue(), "the MetalLB resource is gone")
			managed := client.MatchingLabels{"app.kubernetes.io/managed-by": "ferrolb-operator"}
			for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.DaemonSetList{}, &corev1.ServiceList{},
				&corev1.ServiceAccountList{}, &corev1.SecretList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{}} {
				g.Expect(c.List(ctx, list, client.InNamespace(ns), managed)).To(Succeed())
				g.Expect(meta.LenList(list)).To(BeZero(), "%T in %s", list, ns)
			}
			for _, list := range []client.ObjectList{&rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{}} {
				g.Expect(c.List(ctx, list, managed)).To(Succeed())
				items, err := meta.ExtractList(list)
				g.Expect(err).NotTo(HaveOccurred())
				for _, o := range items {
					g.Expect(o.(client.Object).GetName()).NotTo(HavePrefix(ns+":"), "%T", o)
				}
			}
			pods := &corev1.PodList{}
			g.Expect(c.List(ctx, pods, client.InNamespace(ns), client.HasLabels{"component"})).To(Succeed())
			g.Expect(pods.Items).To(BeEmpty(), "operand pods")
		}).Should(Succeed())
		By("keeping the operator itself running")
		d := &appsv1.Deployment{}
		Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ferrolb-operator"}, d)).To(Succeed())
		Expect(d.Status.AvailableReplicas).To(BeEquivalentTo(1))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("The operator with a legacy MetalLB ConfigMap", func() {
	It("converts it into resources and announces from them, leaving the ConfigMap as it was", func(ctx SpecContext) {
		c := controllerRuntimeClient()
		installCRDs()
		ns := f.Namespace(ctx, "migration")
		deployOperator(ctx, c, ns)
		ip := lab.L2VIPRange4[0]
		for range 35 {
			ip = ip.Next()
		}
		legacy := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "config"},
			Data: map[string]string{"config": "address-pools:\n- name: legacy\n  protocol: layer2\n  addresses:\n  - " + ip.String() + "/32\n"}}
		Expect(c.Create(ctx, legacy)).To(Succeed())
		m := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.MetalLBName}}
		Expect(c.Create(ctx, m)).To(Succeed())
		releaseAtCleanup(c, m)

		By("reporting Migrated with every converted resource in place")
		Eventually(ctx, func(g Gomega) {
			got := &metallbv1beta1.MetalLB{}
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			cond := meta.FindStatusCondition(got.Status.Conditions, metallbv1beta1.ConditionMigrated)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), "%s: %s", cond.Reason, cond.Message)
			g.Expect(cond.Reason).To(Equal(controllers.ReasonResourcesUpToDate))
		}).Should(Succeed())
		Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "legacy"}, &metallbv1beta1.IPAddressPool{})).To(Succeed())
		awaitAvailable(ctx, c, m)

		By(fmt.Sprintf("giving a Service %s from the legacy pool, answered from the client", ip))
		apps := f.Namespace(ctx, "migration-apps")
		_, err := f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		svc := createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		Expect(awaitIngress(ctx, c, svc, 1)).To(ConsistOf(ip))
		owner := awaitOwner(ctx, c, ns, svc)
		Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(owner.MAC.String()))
		url := "http://" + netip.AddrPortFrom(ip, 80).String() + "/"
		Eventually(ctx, func() (string, error) { return f.Lab.HTTPGet(ctx, url) }).Should(MatchRegexp(`^pod=echo-\S+ node=node\d+ `), "GET %s", url)

		By("leaving the legacy ConfigMap untouched")
		got := &corev1.ConfigMap{}
		Expect(c.Get(ctx, client.ObjectKeyFromObject(legacy), got)).To(Succeed())
		Expect(got.ResourceVersion).To(Equal(legacy.ResourceVersion))
		Expect(got.OwnerReferences).To(BeEmpty())
	}, SpecTimeout(specTimeout))
})

var _ = Describe("configmaptocrs", func() {
	It("converts every legacy configuration of the reference and the seeds into resources the API server accepts", func(ctx SpecContext) {
		installCRDs()
		ns := f.Namespace(ctx, "configmaptocrs")
		bin := filepath.Join(GinkgoT().TempDir(), "configmaptocrs")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/configmaptocrs")
		build.Dir = repoPath()
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		var inputs []string
		for _, dir := range []string{"cases", "seeds"} {
			goldens, err := filepath.Glob(repoPath("internal", "migrate", "testdata", dir, "*.golden"))
			Expect(err).NotTo(HaveOccurred())
			for _, g := range goldens {
				if !strings.HasSuffix(g, ".error.golden") {
					inputs = append(inputs, strings.TrimSuffix(g, ".golden")+".yaml")
				}
			}
		}
		Expect(len(inputs)).To(BeNumerically(">=", 7), "the reference's cases and the seeds' valid ConfigMaps")
		for _, in := range inputs {
			By("configmaptocrs < " + filepath.Base(in) + " | kubectl apply --dry-run=server -f -")
			crs, err := exec.CommandContext(ctx, bin, "-namespace", ns, in).Output()
			Expect(err).NotTo(HaveOccurred(), "converting %s", in)
			apply := f.Lab.KubectlCommand(ctx, "apply", "--dry-run=server", "-f", "-")
			apply.Stdin = strings.NewReader(string(crs))
			out, err := apply.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "%s:\n%s", in, out)
			Expect(string(out)).To(ContainSubstring("(server dry run)"))
		}
	}, SpecTimeout(specTimeout))
})

// deployOperator runs the operator (the project image's /manager) in ns as a Deployment, with the roles
// generated from the RBAC markers (and the kube-system Role its preflight reads kube-proxy's ConfigMap with),
// and waits until it is available. It deploys its operands into ns, without ferrolb's webhooks.
func deployOperator(ctx context.Context, c client.Client, ns string) {
	GinkgoHelper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ferrolb-operator"}}
	Expect(c.Create(ctx, sa)).To(Succeed())
	bindRoles(ctx, c, ns, sa, "kube-system")
	labels := map[string]string{"app.kubernetes.io/name": "ferrolb", "app.kubernetes.io/component": "operator"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa.Name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:            sa.Name,
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					Containers: []corev1.Container{{
						Name:            "manager",
						Image:           lab.ProjectImage,
						ImagePullPolicy: corev1.PullNever,
						Command:         []string{"/manager"},
						Args: []string{"--disable-operand-webhooks", "--metrics-bind-address=0",
							fmt.Sprintf("--health-probe-bind-address=:%d", operatorProbePort), "--zap-log-level=debug"},
						Env: []corev1.EnvVar{
							{Name: render.EnvNamespace, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
							{Name: render.EnvControllerImage, Value: lab.ProjectImage},
							{Name: render.EnvSpeakerImage, Value: lab.ProjectImage},
							// The image is imported into every node, never pulled.
							{Name: render.EnvImagePullPolicy, Value: string(corev1.PullNever)},
						},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(operatorProbePort)}},
							PeriodSeconds: 1,
						},
						SecurityContext: restricted(),
					}},
				},
			},
		},
	}
	Expect(c.Create(ctx, dep)).To(Succeed())
	Eventually(ctx, func(g Gomega) {
		got := &appsv1.Deployment{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(dep), got)).To(Succeed())
		g.Expect(got.Status.AvailableReplicas).To(BeEquivalentTo(1))
	}).Should(Succeed(), "the operator Deployment becomes available")
}

// releaseAtCleanup deletes the MetalLB resource when the node ends, whatever happened, and waits until the
// operator has released it: its finalizer removes the cluster-scoped operands, which the namespace's deletion
// would leave behind.
func releaseAtCleanup(c client.Client, m *metallbv1beta1.MetalLB) {
	key := client.ObjectKeyFromObject(m)
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(c.Delete(ctx, &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}))).To(Succeed())
		Eventually(ctx, func() bool { return apierrors.IsNotFound(c.Get(ctx, key, &metallbv1beta1.MetalLB{})) }).
			Should(BeTrue(), "the operator releases the MetalLB resource")
	}, NodeTimeout(specTimeout))
}

// awaitAvailable waits until the MetalLB resource reports its current generation Available and not
// Progressing.
func awaitAvailable(ctx context.Context, c client.Client, m *metallbv1beta1.MetalLB) {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		got := &metallbv1beta1.MetalLB{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, metallbv1beta1.ConditionAvailable)).To(BeTrue(), "Available: %+v", got.Status.Conditions)
		g.Expect(meta.IsStatusConditionFalse(got.Status.Conditions, metallbv1beta1.ConditionProgressing)).To(BeTrue(), "Progressing: %+v", got.Status.Conditions)
		g.Expect(meta.IsStatusConditionFalse(got.Status.Conditions, metallbv1beta1.ConditionDegraded)).To(BeTrue(), "Degraded: %+v", got.Status.Conditions)
	}).Should(Succeed(), "MetalLB %s becomes Available", client.ObjectKeyFromObject(m))
}

// watchConditions records every Progressing/Available state the MetalLB resources in ns go through until the
// spec ends, as "Progressing=<status> Available=<status>", and returns a function that reads them.
func watchConditions(ctx context.Context, c client.Client, ns string) func() []string {
	GinkgoHelper()
	cfg, err := f.Lab.RESTConfig()
	Expect(err).NotTo(HaveOccurred())
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: c.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx, &metallbv1beta1.MetalLBList{}, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(w.Stop)
	var mu sync.Mutex
	var states []string
	go func() {
		for ev := range w.ResultChan() {
			m, ok := ev.Object.(*metallbv1beta1.MetalLB)
			if !ok {
				continue
			}
			state := func(t string) string {
				if c := meta.FindStatusCondition(m.Status.Conditions, t); c != nil {
					return string(c.Status)
				}
				return "Unknown"
			}
			s := fmt.Sprintf("Progressing=%s Available=%s", state(metallbv1beta1.ConditionProgressing), state(metallbv1beta1.ConditionAvailable))
			mu.Lock()
			if len(states) == 0 || states[len(states)-1] != s {
				states = append(states, s)
			}
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(states)
	}
}
