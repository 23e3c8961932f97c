//go:build e2e

package e2e

import (
	"context"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/hack/olm"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// Time the OLM specs allow. A cold machine builds OLM and opm first (minutes, then cached); OLM resolves a
// subscription and installs the CSV within a minute in the lab.
const (
	olmPrepareTimeout = 30 * time.Minute
	olmInstallTimeout = 4 * time.Minute
	olmRemoveTimeout  = 5 * time.Minute
)

// The OLM specs install ferrolb as OperatorHub users do: a real Operator Lifecycle Manager (built from the
// module proxy, hack/olm), a catalog served by opm that holds the bundle of bundle/, an OperatorGroup and a
// Subscription. They remove everything they created, OLM included, whatever the outcome, and check that no
// cluster-scoped object is left.
var _ = Describe("OLM", Label("olm"), Ordered, func() {
	var (
		c    client.Client
		a    *olm.Artifacts
		sub  olm.Subscription
		apps string // the namespace of the application behind the Service
		svc  *corev1.Service
		ip   netip.Addr
	)
	BeforeAll(func(ctx SpecContext) {
		c = controllerRuntimeClient()
		Expect(apierrors.IsNotFound(c.Get(ctx, client.ObjectKey{Name: olm.OperatorNamespace}, &corev1.Namespace{}))).To(BeTrue(),
			"namespace %s must not exist before the OLM specs: ferrolb is installed in the lab already", olm.OperatorNamespace)
		before, err := olm.ClusterObjects(ctx, c)
		Expect(err).NotTo(HaveOccurred())
		By("building OLM " + olm.Version + " (cached), the bundle and catalog images, and loading them into the nodes")
		a, err = olm.Prepare(ctx, f.Lab, repoPath("bundle"), lab.ProjectImage, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		sub = a.Subscription()
		DeferCleanup(func(ctx SpecContext) {
			By("removing the stack, ferrolb, OLM and the bundle's CRDs")
			Expect(olm.Remove(ctx, c, GinkgoWriter, a.Manifests, sub, a.Bundles[0].CRDs())).To(Succeed())
			after, err := olm.ClusterObjects(ctx, c)
			Expect(err).NotTo(HaveOccurred())
			Expect(olm.Added(before, after)).To(BeEmpty(), "cluster-scoped objects left behind")
		}, NodeTimeout(olmRemoveTimeout))
		apps = f.Namespace(ctx, "olm")
		By("installing OLM from its Helm chart")
		Expect(olm.Install(ctx, c, a.Manifests)).To(Succeed())
	}, NodeTimeout(olmPrepareTimeout))

	AfterEach(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			f.Dump(ctx, GinkgoWriter, []string{olm.Namespace, olm.OperatorNamespace})
			out, _ := f.Lab.KubectlCommand(ctx, "get", "catalogsources,subscriptions,installplans,csv,operatorgroups", "-A", "-o", "yaml").CombinedOutput()
			GinkgoWriter.Printf("\n==== OLM's objects\n%s\n", out)
		}
	})

	It("installs ferrolb from the catalog, with OLM's webhook certificates, and the MetalLB resource announces a Service", func(ctx SpecContext) {
		By("subscribing to " + sub.Package + " from the catalog")
		Expect(olm.Subscribe(ctx, c, sub)).To(Succeed())
		awaitCSV(ctx, c, sub, a.Bundles[0].CSVName())

		By("serving the webhooks with the certificate OLM mounted: a pool that overlaps another is refused")
		Expect(kubectlApply(ctx, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: olm, namespace: metallb-system}
spec: {addresses: [10.99.0.200-10.99.0.203]}
`)).To(Succeed())
		err := kubectlApply(ctx, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: overlapping, namespace: metallb-system}
spec: {addresses: [10.99.0.202/31]}
`)
		Expect(err).To(MatchError(ContainSubstring("overlaps with already defined CIDR")))
		var webhook appsv1.Deployment
		Expect(c.Get(ctx, client.ObjectKey{Namespace: olm.OperatorNamespace, Name: "ferrolb-webhook-server"}, &webhook)).To(Succeed())
		Expect(webhook.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("Secret.SecretName", "ferrolb-webhook-server-service-cert")),
			"OLM mounts the webhook server's certificate")

		By("creating the MetalLB resource; the operator deploys the controller and the speakers")
		mlb := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: olm.OperatorNamespace, Name: "metallb"}}
		Expect(c.Create(ctx, mlb)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(mlb), mlb)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(mlb.Status.Conditions, "Available")).To(BeTrue(), "conditions %v", mlb.Status.Conditions)
		}).Should(Succeed())

		By("announcing a LoadBalancer Service's address from the pool")
		adv := &metallbv1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: olm.OperatorNamespace, Name: "olm"},
			Spec: metallbv1beta1.L2AdvertisementSpec{IPAddressPools: []string{"olm"}}}
		Expect(c.Create(ctx, adv)).To(Succeed())
		_, err = f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		svc = createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		ip = awaitIngress(ctx, c, svc, 1)[0]
		Expect(lab.L2VIPRange4[0].Compare(ip) <= 0 && ip.Compare(lab.L2VIPRange4[0].Next().Next().Next()) <= 0).To(BeTrue(), "%s is in the pool", ip)
		awaitAnnounced(ctx, ip)
	}, SpecTimeout(olmInstallTimeout+specTimeout))

	It("upgrades to the next bundle through the catalog, and the Service keeps its address", func(ctx SpecContext) {
		first, second := a.Bundles[0].CSVName(), a.Bundles[1].CSVName()
		By("pointing the CatalogSource at a catalog where " + second + " replaces " + first + ", the Service keeping its address throughout")
		sub.CatalogImage = a.Catalogs[1]
		Expect(olm.SetCatalogImage(ctx, c, sub)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			got := &corev1.Service{}
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(svc), got)).To(Succeed())
			if len(got.Status.LoadBalancer.Ingress) != 1 || got.Status.LoadBalancer.Ingress[0].IP != ip.String() {
				StopTrying("the Service lost its address during the upgrade").Attach("ingress", got.Status.LoadBalancer.Ingress).Now()
			}
			st, err := olm.InstalledCSV(ctx, c, sub)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(st.Name).To(Equal(second), "installed CSV")
			g.Expect(st.Phase).To(Equal("Succeeded"), "%s", st)
		}).WithTimeout(olmInstallTimeout).Should(Succeed())
		Eventually(ctx, func() bool {
			return apierrors.IsNotFound(c.Get(ctx, client.ObjectKey{Namespace: olm.OperatorNamespace, Name: first}, &metav1.PartialObjectMetadata{
				TypeMeta: metav1.TypeMeta{APIVersion: olm.CSVKind.GroupVersion().String(), Kind: olm.CSVKind.Kind}}))
		}).Should(BeTrue(), "OLM removes %s once %s succeeded", first, second)

		By("keeping the Service's address, announced and reachable")
		Consistently(ctx, func(g Gomega) {
			got := &corev1.Service{}
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(svc), got)).To(Succeed())
			g.Expect(got.Status.LoadBalancer.Ingress).To(ConsistOf(HaveField("IP", ip.String())))
		}).WithTimeout(5 * time.Second).Should(Succeed())
		awaitAnnounced(ctx, ip)
	}, SpecTimeout(olmInstallTimeout+specTimeout))
})

// awaitCSV waits until the subscription installed csv and OLM reports it Succeeded.
func awaitCSV(ctx context.Context, c client.Client, sub olm.Subscription, csv string) {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		st, err := olm.InstalledCSV(ctx, c, sub)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(st.Name).To(Equal(csv), "installed CSV")
		g.Expect(st.Phase).To(Equal("Succeeded"), "%s", st)
	}).WithTimeout(olmInstallTimeout).Should(Succeed())
}

// awaitAnnounced waits until the client reaches ip over HTTP and a node answers ARP for it.
func awaitAnnounced(ctx context.Context, ip netip.Addr) {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		_, err := f.Lab.HTTPGet(ctx, "http://"+ip.String()+"/")
		g.Expect(err).NotTo(HaveOccurred())
		mac, err := f.Lab.Arping(ctx, ip)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(nodeMACs()).To(ContainElement(mac.String()))
	}).Should(Succeed(), "%s answers from the client, announced by a node", ip)
}

func nodeMACs() []string {
	var macs []string
	for _, h := range f.Lab.NodeHosts() {
		macs = append(macs, h.MAC.String())
	}
	return macs
}
