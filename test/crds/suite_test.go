package crds_test

import (
	"context"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// The suite runs against a real kube-apiserver and etcd with every ferrolb CRD installed: what is checked here
// is what the API server itself enforces (schema, defaults, CEL), before any webhook exists.

var (
	env      *envtest.Environment
	cfg      *rest.Config
	k8s      client.Client
	warnings = &warningRecorder{}
)

func TestCRDs(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "CRD suite")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	serveConversion()

	withWarnings := rest.CopyConfig(cfg)
	withWarnings.WarningHandlerWithContext = warnings
	k8s, err = client.New(withWarnings, client.Options{Scheme: testenv.Scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "metallb-system"}})).To(Succeed())
})

// serveConversion serves BGPPeer's hub/spoke conversion (api/v1beta1 ↔ api/v1beta2) at /convert, where envtest
// pointed the CRD's conversion webhook, so v1beta1 peers go through the real API server's conversion path.
func serveConversion() {
	wo := env.WebhookInstallOptions
	srv := webhook.NewServer(webhook.Options{Host: wo.LocalServingHost, Port: wo.LocalServingPort, CertDir: wo.LocalServingCertDir})
	srv.Register("/convert", conversion.NewWebhookHandler(testenv.Scheme, conversion.NewRegistry()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(srv.Start(ctx)).To(Succeed())
	}()
	// Registered after env.Stop, so it runs first: the server must stop before envtest removes its certificates.
	DeferCleanup(func() { cancel(); <-done })
	Eventually(func() error { return srv.StartedChecker()(nil) }).Should(Succeed())
}

// warningRecorder keeps the API server's warnings (deprecation of v1beta1 BGPPeer).
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}
