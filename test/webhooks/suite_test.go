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

// Package webhooks_test checks ferrolb's admission and conversion webhooks through a real kube-apiserver:
// the API server calls internal/webhook's handlers over TLS, as in a cluster, with the webhook configuration
// that `make manifests` generates into config/webhook.
package webhooks_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// ns is ferrolb's namespace in the suite, MetalLB's default.
const ns = "metallb-system"

var (
	env      *envtest.Environment
	cfg      *rest.Config
	k8s      client.Client
	warnings = &warningRecorder{}
	// ready is the webhooks' readiness check.
	ready healthz.Checker
)

func TestWebhooks(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Webhook suite")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	env.WebhookInstallOptions = envtest.WebhookInstallOptions{
		Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml")},
	}
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)

	withWarnings := rest.CopyConfig(cfg)
	withWarnings.WarningHandlerWithContext = warnings
	// The generator test sends thousands of requests from parallel clients.
	withWarnings.QPS, withWarnings.Burst = -1, 0
	k8s, err = client.New(withWarnings, client.Options{Scheme: testenv.Scheme})
	Expect(err).NotTo(HaveOccurred())
	for _, name := range []string{ns, "other"} {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	}
	// Two racks of nodes, for the local preference rule between advertisements of disjoint nodes.
	for name, rack := range map[string]string{"node-1": "1", "node-2": "2"} {
		Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"rack": rack}}})).To(Succeed())
	}
	startManager()
})

// startManager runs the webhooks the way the controller binary does, with certificates from outside
// (envtest's, as OLM's would be: rotation disabled); test/webhooks/certs covers rotation.
func startManager() {
	wo := env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testenv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          crwebhook.NewServer(crwebhook.Options{Host: wo.LocalServingHost, Port: wo.LocalServingPort, CertDir: wo.LocalServingCertDir}),
	})
	Expect(err).NotTo(HaveOccurred())
	certsReady, err := webhook.SetupCertificates(mgr, webhook.CertOptions{Namespace: ns, CertDir: wo.LocalServingCertDir, Disabled: true})
	Expect(err).NotTo(HaveOccurred())
	ready, err = webhook.Register(mgr, webhook.Options{Namespace: ns, CertsReady: certsReady})
	Expect(err).NotTo(HaveOccurred())
	Expect(mgr.AddReadyzCheck("webhook", ready)).To(Succeed())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	// Registered after env.Stop, so it runs first: the manager stops before envtest removes its certificates.
	DeferCleanup(func() { cancel(); <-done })
	Eventually(func() error { return ready(&http.Request{}) }).WithTimeout(30 * time.Second).Should(Succeed())
}

// warningRecorder keeps the API server's warnings.
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

// since returns the warnings after the first n.
func (w *warningRecorder) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs[n:]...)
}

func (w *warningRecorder) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.msgs)
}
