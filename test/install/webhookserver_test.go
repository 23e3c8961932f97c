package install_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// webhookServerUser is the webhook server's ServiceAccount: RBAC grants a ServiceAccount subject to this user
// name, so the binary holds exactly the permissions dist/install.yaml gives the Deployment.
const webhookServerUser = "system:serviceaccount:" + ns + ":ferrolb-webhook-server"

var _ = Describe("The webhook server of dist/install.yaml", func() {
	It("runs with its ServiceAccount's RBAC, injects its CA and validates every kind, the MetalLB resource too", func(ctx context.Context) {
		binary := buildController()
		objs := installObjects()
		for _, o := range objs {
			Expect(apply(ctx, o, false)).To(Succeed(), "%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
		}
		user, err := env.AddUser(envtest.User{Name: webhookServerUser,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		kc, err := user.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		kubeconfig := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(os.WriteFile(kubeconfig, kc, 0o600)).To(Succeed())

		By("running /controller with the Deployment's arguments, on free local ports")
		dep := &appsv1.Deployment{}
		convert(find(objs, "Deployment", ns, "ferrolb-webhook-server"), dep)
		args := dep.Spec.Template.Spec.Containers[0].Args
		for i := range args { // the kubelet expands $(VAR) from the container's environment
			args[i] = strings.ReplaceAll(args[i], "$(METALLB_NAMESPACE)", ns)
		}
		port, probes, metrics := freePort(), freePort(), freePort()
		args = append(args, "--kubeconfig="+kubeconfig, fmt.Sprintf("--webhook-port=%d", port),
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probes),
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics), "--cert-dir="+GinkgoT().TempDir())
		session, err := gexec.Start(exec.Command(binary, args...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { session.Terminate().Wait() })
		Eventually(func() (int, error) {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probes))
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}).Should(Equal(http.StatusOK), "the webhook server becomes ready")
		Consistently(session).ShouldNot(gexec.Exit())

		By("serving metrics over HTTPS to authenticated and authorized scrapers only (its TokenReviews)")
		insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a self-signed certificate
		resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/metrics", metrics))
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))

		By("keeping its certificate in the Secret and its CA in the webhook configuration and the BGPPeer CRD")
		secret := &corev1.Secret{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: webhook.DefaultSecretName}, secret)).To(Succeed())
		ca := secret.Data["ca.crt"]
		Expect(ca).NotTo(BeEmpty())
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: webhook.DefaultWebhookConfigName}, vwc)).To(Succeed())
		for _, w := range vwc.Webhooks {
			Expect(w.ClientConfig.CABundle).To(Equal(ca), w.Name)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "bgppeers.metallb.io"}, crd)).To(Succeed())
		Expect(crd.Spec.Conversion.Webhook.ClientConfig.CABundle).To(Equal(ca))

		By("answering the API server's reviews under the Service's name, with its RBAC reading the configuration")
		pool := &v1beta1.IPAddressPool{TypeMeta: metav1.TypeMeta{APIVersion: "metallb.io/v1beta1", Kind: "IPAddressPool"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "first"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/28"}}}
		verdict := review(ctx, port, ca, webhook.PathIPAddressPool, "ipaddresspools", pool)
		Expect(verdict.Allowed).To(BeTrue(), "%+v", verdict.Result)

		valid := &v1beta1.MetalLB{TypeMeta: metav1.TypeMeta{APIVersion: "metallb.io/v1beta1", Kind: "MetalLB"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "metallb"}}
		verdict = review(ctx, port, ca, webhook.PathMetalLB, "metallbs", valid)
		Expect(verdict.Allowed).To(BeTrue(), "%+v", verdict.Result)
		invalid := valid.DeepCopy()
		invalid.Spec.LogLevel = "loud"
		verdict = review(ctx, port, ca, webhook.PathMetalLB, "metallbs", invalid)
		Expect(verdict.Allowed).To(BeFalse())
		Expect(verdict.Result.Message).To(ContainSubstring("spec.logLevel"))
	})
})

// review sends an AdmissionReview for creating obj to the webhook server, trusting only its CA and checking
// the certificate is for the webhook Service, as the API server does.
func review(ctx context.Context, port int, ca []byte, path, resource string, obj runtime.Object) *admissionv1.AdmissionResponse {
	GinkgoHelper()
	raw, err := json.Marshal(obj)
	Expect(err).NotTo(HaveOccurred())
	gvk := obj.GetObjectKind().GroupVersionKind()
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "review", Operation: admissionv1.Create, Namespace: ns,
			Kind:     metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Resource: metav1.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: resource},
			Object:   runtime.RawExtension{Raw: raw}},
	})
	Expect(err).NotTo(HaveOccurred())
	roots := x509.NewCertPool()
	Expect(roots.AppendCertsFromPEM(ca)).To(BeTrue())
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots,
		ServerName: webhook.DefaultServiceName + "." + ns + ".svc", MinVersion: tls.VersionTLS13}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("https://127.0.0.1:%d%s", port, path), bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	var out admissionv1.AdmissionReview
	Expect(json.NewDecoder(resp.Body).Decode(&out)).To(Succeed())
	Expect(out.Response).NotTo(BeNil())
	return out.Response
}

// buildController builds cmd/controller, the webhook server's binary.
func buildController() string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "controller")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/controller")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build ./cmd/controller: %s", out)
	return path
}

func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
