/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package certs_test checks the webhooks' self-managed certificates against a real API server: the rotator
// creates the Secret, the CA bundle reaches the webhook configuration and the BGPPeer CRD, the API server
// trusts the webhook server with it, and a rotated CA takes over without a restart. It has its own API
// server: the rotator replaces the CA bundles envtest installs, which the other suites rely on.
package certs_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

const ns = "metallb-system"

var (
	env     *envtest.Environment
	cfg     *rest.Config
	k8s     client.Client
	scheme  = runtime.NewScheme()
	certDir string
	ready   healthz.Checker
	// vwcName is the webhook configuration envtest installs from config/webhook/manifests.yaml, under
	// controller-gen's name (the kustomize patch renames it in real installs).
	vwcName = "validating-webhook-configuration"
)

func TestCertificates(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Webhook certificate suite")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	utilruntime.Must(v1beta1.AddToScheme(scheme))
	utilruntime.Must(v1beta2.AddToScheme(scheme))

	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// The API server reaches the webhooks as https://localhost:<port>: the rotator's certificate is for
	// names, not addresses.
	env.WebhookInstallOptions = envtest.WebhookInstallOptions{
		Paths:                        []string{filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml")},
		LocalServingHostExternalName: "localhost",
	}
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	certDir = GinkgoT().TempDir()
})

// caOf returns the CA certificate the rotator keeps in its Secret.
func caOf(ctx context.Context) []byte {
	secret := &corev1.Secret{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: webhook.DefaultSecretName}, secret)).To(Succeed())
	return secret.Data["ca.crt"]
}

// injectedCAs returns the CA bundles of every webhook of the configuration and of the BGPPeer CRD.
func injectedCAs(ctx context.Context) [][]byte {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	Expect(k8s.Get(ctx, client.ObjectKey{Name: vwcName}, vwc)).To(Succeed())
	var bundles [][]byte
	for _, w := range vwc.Webhooks {
		bundles = append(bundles, w.ClientConfig.CABundle)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	Expect(k8s.Get(ctx, client.ObjectKey{Name: "bgppeers.metallb.io"}, crd)).To(Succeed())
	return append(bundles, crd.Spec.Conversion.Webhook.ClientConfig.CABundle)
}

// webhooksAnswer checks that the API server reaches both kinds of webhook over TLS: an overlapping pool is
// refused by the validating webhook, and a v1beta1 peer converts.
func webhooksAnswer(ctx context.Context) error {
	if err := k8s.Create(ctx, &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p"},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"10.0.0.0/24", "10.0.0.0/25"}}}); !apierrors.IsInvalid(err) {
		return fmt.Errorf("overlapping pool: got %v, want a refusal by the webhook", err)
	}
	peer := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tor"}, Spec: v1beta1.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "192.0.2.1"}}
	if err := k8s.Create(ctx, peer); err != nil {
		return err
	}
	defer func() { _ = k8s.Delete(ctx, peer) }()
	return k8s.Get(ctx, client.ObjectKeyFromObject(peer), &v1beta1.BGPPeer{})
}

var _ = Describe("Self-managed certificates", Ordered, func() {
	BeforeAll(func() {
		wo := env.WebhookInstallOptions
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                 scheme,
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
			WebhookServer:          crwebhook.NewServer(crwebhook.Options{Host: wo.LocalServingHost, Port: wo.LocalServingPort, CertDir: certDir}),
		})
		Expect(err).NotTo(HaveOccurred())
		certsReady, err := webhook.SetupCertificates(mgr, webhook.CertOptions{
			Namespace: ns, CertDir: certDir, WebhookConfigName: vwcName,
			ExtraDNSNames: []string{"localhost"}, SyncPeriod: time.Second,
		})
		Expect(err).NotTo(HaveOccurred())
		ready, err = webhook.Register(mgr, webhook.Options{Namespace: ns, CertsReady: certsReady})
		Expect(err).NotTo(HaveOccurred())
		Expect(ready(&http.Request{})).NotTo(Succeed(), "ready before the manager started")

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			Expect(mgr.Start(ctx)).To(Succeed())
		}()
		DeferCleanup(func() { cancel(); <-done })
	})

	It("creates the Secret and becomes ready", func(ctx context.Context) {
		Eventually(func() error { return ready(&http.Request{}) }).WithTimeout(time.Minute).Should(Succeed())
		secret := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: webhook.DefaultSecretName}, secret)).To(Succeed())
		Expect(secret.Data).To(HaveKey("ca.crt"))
		block, _ := pem.Decode(secret.Data["tls.crt"])
		Expect(block).NotTo(BeNil())
		cert, err := x509.ParseCertificate(block.Bytes)
		Expect(err).NotTo(HaveOccurred())
		Expect(cert.DNSNames).To(ContainElement("metallb-webhook-service.metallb-system.svc"))

		By("copying the certificate to the webhook server's directory")
		for file, key := range map[string]string{"tls.crt": "tls.crt", "tls.key": "tls.key"} {
			data, err := os.ReadFile(filepath.Join(certDir, file))
			Expect(err).NotTo(HaveOccurred())
			Expect(data).To(Equal(secret.Data[key]))
		}
	})

	It("injects the CA bundle into the webhook configuration and the BGPPeer CRD", func(ctx context.Context) {
		ca := caOf(ctx)
		Eventually(func() [][]byte { return injectedCAs(ctx) }).Should(HaveEach(Equal(ca)))
		Expect(injectedCAs(ctx)).To(HaveLen(7))
	})

	It("is trusted by the API server", func(ctx context.Context) {
		Eventually(func() error { return webhooksAnswer(ctx) }).Should(Succeed())
	})

	It("takes a new CA into use without a restart", func(ctx context.Context) {
		old := caOf(ctx)
		secret := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: webhook.DefaultSecretName}, secret)).To(Succeed())
		secret.Data = nil // as if the CA expired: the rotator makes a new one
		Expect(k8s.Update(ctx, secret)).To(Succeed())

		Eventually(func() bool {
			ca := caOf(ctx)
			return len(ca) > 0 && !bytes.Equal(ca, old)
		}).WithTimeout(time.Minute).Should(BeTrue())
		ca := caOf(ctx)
		Eventually(func() [][]byte { return injectedCAs(ctx) }).WithTimeout(time.Minute).Should(HaveEach(Equal(ca)))
		Eventually(func() error { return webhooksAnswer(ctx) }).WithTimeout(time.Minute).Should(Succeed())
		Expect(ready(&http.Request{})).To(Succeed())
	})
})
