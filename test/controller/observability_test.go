package controller_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// poolStatus reads a pool's status.
func poolStatus(ctx context.Context, name string) metallbv1beta1.IPAddressPoolStatus {
	GinkgoHelper()
	p := poolNamed(name)
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
	return p.Status
}

// freeAddress returns a loopback address with a port nobody listens on.
func freeAddress() string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}

// httpGet returns the status code and body of GET url.
func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

var _ = Describe("Observability", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
	})

	It("exports MetalLB's allocator metrics per pool and family, a shared address counted once", func(ctx context.Context) {
		createPool(ctx, "dual", []string{r.V4(30), r.V6(126)})
		web := createService(ctx, space, "web", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 80),
			families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectAssigned(ctx, web, "dual", r.IP(0), r.IP6(0))
		api := createService(ctx, space, "api", annotate(assign.AnnotationAllowSharedIP, "k"), ports("TCP", 443),
			families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectAssigned(ctx, api, "dual", r.IP(0), r.IP6(0))
		v6 := createService(ctx, space, "v6", families(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol))
		expectAssigned(ctx, v6, "dual", r.IP6(1))

		pool := map[string]string{"pool": "dual"}
		Eventually(func(g Gomega) {
			for name, want := range map[string]float64{
				"metallb_allocator_addresses_total":             8,
				"metallb_allocator_addresses_in_use_total":      3,
				"metallb_allocator_ipv4_addresses_total":        4,
				"metallb_allocator_ipv4_addresses_in_use_total": 1,
				"metallb_allocator_ipv6_addresses_total":        4,
				"metallb_allocator_ipv6_addresses_in_use_total": 2,
			} {
				got, ok := metricValue(name, pool)
				g.Expect(ok).To(BeTrue(), name)
				g.Expect(got).To(Equal(want), name)
			}
		}).Should(Succeed())
		Expect(metric("metallb_k8s_client_config_loaded_bool", nil)).To(Equal(1.0))
		Expect(metric("metallb_k8s_client_updates_total", nil)).To(BeNumerically(">", 0))
		_, ok := metricValue("metallb_k8s_client_update_errors_total", nil)
		Expect(ok).To(BeTrue())
	})

	It("keeps the pool status counters current, and reverts manual edits", func(ctx context.Context) {
		createPool(ctx, "dual", []string{r.V4(30), r.V6(126)})
		Eventually(func() metallbv1beta1.IPAddressPoolStatus { return poolStatus(ctx, "dual") }).Should(Equal(
			metallbv1beta1.IPAddressPoolStatus{AvailableIPv4: 4, AvailableIPv6: 4}))
		svc := createService(ctx, space, "web", families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectAssigned(ctx, svc, "dual", r.IP(0), r.IP6(0))
		Eventually(func() metallbv1beta1.IPAddressPoolStatus { return poolStatus(ctx, "dual") }).Should(Equal(
			metallbv1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AssignedIPv6: 1, AvailableIPv4: 3, AvailableIPv6: 3}))

		Eventually(func() error {
			p := poolNamed("dual")
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			p.Spec.Addresses = []string{r.V4(29), r.V6(125)}
			return k8s.Update(ctx, p)
		}).Should(Succeed())
		Eventually(func() metallbv1beta1.IPAddressPoolStatus { return poolStatus(ctx, "dual") }).Should(Equal(
			metallbv1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AssignedIPv6: 1, AvailableIPv4: 7, AvailableIPv6: 7}))

		Eventually(func() error {
			p := poolNamed("dual")
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			p.Status.AvailableIPv4 = 1000
			return k8s.Status().Update(ctx, p)
		}).Should(Succeed())
		deleteAndWait(ctx, svc)
		Eventually(func() metallbv1beta1.IPAddressPoolStatus { return poolStatus(ctx, "dual") }).Should(Equal(
			metallbv1beta1.IPAddressPoolStatus{AvailableIPv4: 8, AvailableIPv6: 8}))
	})

	It("runs as a binary that serves health, readiness and metrics, and honours --lb-class", func(ctx context.Context) {
		path := awaitBinary()
		createPool(ctx, "a", []string{r.V4(30)})
		stopController()
		DeferCleanup(func() { startController() })

		metrics, probes := freeAddress(), freeAddress()
		cmd := exec.Command(path, "--kubeconfig", kubeconfig, "--namespace", ns, "--lb-class", "ferrolb.io/lab",
			"--metrics-secure=false", "--metrics-bind-address", metrics, "--health-probe-bind-address", probes)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { session.Terminate().Wait() })

		for _, endpoint := range []string{"/healthz", "/readyz"} {
			Eventually(func() (int, error) {
				code, _, err := httpGet("http://" + probes + endpoint)
				return code, err
			}).Should(Equal(http.StatusOK), endpoint)
		}
		ours := createService(ctx, space, "ours", class("ferrolb.io/lab"))
		classless := createService(ctx, space, "classless")
		expectAssigned(ctx, ours, "a", r.IP(0))
		expectPending(ctx, classless, assign.ReasonClassNotHandled)
		Eventually(func(g Gomega) {
			code, body, err := httpGet("http://" + metrics + "/metrics")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(code).To(Equal(http.StatusOK))
			lines := strings.Split(body, "\n")
			g.Expect(lines).To(ContainElements(
				`metallb_allocator_addresses_in_use_total{pool="a"} 1`,
				`metallb_allocator_addresses_total{pool="a"} 4`,
				`metallb_allocator_ipv4_addresses_in_use_total{pool="a"} 1`,
				`metallb_allocator_ipv4_addresses_total{pool="a"} 4`,
				`metallb_allocator_ipv6_addresses_total{pool="a"} 0`,
				`metallb_k8s_client_config_loaded_bool 1`,
				`metallb_k8s_client_config_stale_bool 0`,
			))
			g.Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="service",result="success"}`))
		}).Should(Succeed())
	})
})
