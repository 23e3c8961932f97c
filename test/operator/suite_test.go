// Package operator_test checks ferrolb's operator (controllers.MetalLBReconciler and the MetalLB webhook)
// against a real kube-apiserver and etcd. The operator runs as a user holding only the generated role
// (config/rbac/role.yaml), so a missing +kubebuilder:rbac marker, or a permission it grants the operands
// without holding it (the API server's escalation check), fails a spec. envtest runs no controller-manager:
// the specs play the Deployment and DaemonSet controllers by writing the operands' status themselves, and
// there is no garbage collector.
package operator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ferrolb/ferrolb/api"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/render"
	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

const (
	// ns is the operator's namespace, MetalLB's default (the generated Role is for it).
	ns = "metallb-system"
	// otherNS is a namespace where MetalLB resources are not deployed from.
	otherNS = "elsewhere"
	// operatorUser is who the operator authenticates as.
	operatorUser    = "system:serviceaccount:metallb-system:ferrolb-operator"
	controllerImage = "quay.io/ferrolb/ferrolb:controller-test"
	speakerImage    = "quay.io/ferrolb/ferrolb:speaker-test"
)

var (
	env *envtest.Environment
	k8s client.Client
	// writes counts the operator's write requests.
	writes   = &writeCounter{}
	settings = render.Settings{Namespace: ns, ControllerImage: controllerImage, SpeakerImage: speakerImage}
	// operatorCfg is the operator's connection; stopOperator stops the running operator.
	operatorCfg  *rest.Config
	stopOperator func()
)

func TestOperator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Operator suite")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(20 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	SetDefaultConsistentlyDuration(2 * time.Second)
	SetDefaultConsistentlyPollingInterval(100 * time.Millisecond)

	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// The operator's webhook configuration, as its manifests would declare it.
	env.WebhookInstallOptions = envtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: "ferrolb-operator-webhook-configuration"},
			Webhooks:   []admissionregistrationv1.ValidatingWebhook{webhook.MetalLBWebhook(ns, "ferrolb-operator-webhook-service")},
		}},
	}
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	// The specs' client also creates CRDs (the ServiceMonitor one).
	scheme := api.NewScheme()
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	for _, name := range []string{ns, otherNS} {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	}
	for _, name := range []string{"node-1", "node-2"} {
		Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{"kubernetes.io/os": "linux", "kubernetes.io/hostname": name}}})).To(Succeed())
	}

	user, err := env.AddUser(envtest.User{Name: operatorUser, Groups: []string{"system:authenticated"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(testenv.GrantGeneratedRole(ctx, k8s, operatorUser)).To(Succeed())
	operatorCfg = rest.CopyConfig(user.Config())
	operatorCfg.Wrap(writes.wrap)
	startOperator(operatorCfg, false)
	// Registered after env.Stop, so it runs first.
	DeferCleanup(func() { stopOperator() })
})

// restartOperator stops the operator and starts it again, rendering the controller with or without its
// webhooks (--disable-operand-webhooks). envtest cannot reach the webhooks of the controller the operator
// deploys, so specs that create configuration resources run the operator without them.
func restartOperator(disableOperandWebhooks bool) {
	GinkgoHelper()
	stopOperator()
	startOperator(operatorCfg, disableOperandWebhooks)
}

// startOperator runs the operator's reconciler and MetalLB webhook in a manager set up as main.go does,
// with envtest's webhook certificate (as OLM's would be), until stopOperator.
func startOperator(cfg *rest.Config, disableOperandWebhooks bool) {
	wo := env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testenv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.MetalLBCacheOptions(ns),
		Controller:             config.Controller{SkipNameValidation: ptrTo(true)},
		WebhookServer: crwebhook.NewServer(crwebhook.Options{Host: wo.LocalServingHost, Port: wo.LocalServingPort,
			CertDir: wo.LocalServingCertDir}),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect((&controllers.MetalLBReconciler{Client: mgr.GetClient(), Settings: settings,
		DisableOperandWebhooks: disableOperandWebhooks}).SetupWithManager(mgr)).To(Succeed())
	certsReady, err := webhook.SetupCertificates(mgr, webhook.CertOptions{CertDir: wo.LocalServingCertDir, Disabled: true})
	Expect(err).NotTo(HaveOccurred())
	ready, err := webhook.RegisterMetalLB(mgr, certsReady)
	Expect(err).NotTo(HaveOccurred())
	// The configuration resources' webhooks too, which the migration's specs install (installConfigWebhooks):
	// what the operator creates must pass them.
	configReady, err := webhook.Register(mgr, webhook.Options{Namespace: ns, CertsReady: certsReady})
	Expect(err).NotTo(HaveOccurred())

	stopOperator = run(mgr)
	Eventually(func() error { return errors.Join(ready(&http.Request{}), configReady(&http.Request{})) }).
		WithTimeout(30 * time.Second).Should(Succeed())
}

// run starts mgr and returns the function that stops it and waits until it has.
func run(mgr ctrl.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	return func() { cancel(); <-done }
}

// writeCounter counts the write requests (anything but GET) the operator sends, by resource path.
type writeCounter struct {
	mu    sync.Mutex
	paths []string
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet && !strings.HasPrefix(req.URL.Path, "/apis/authorization") {
			w.mu.Lock()
			w.paths = append(w.paths, req.Method+" "+req.URL.Path)
			w.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// count returns the number of writes so far.
func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.paths)
}

// since returns the writes after the first n.
func (w *writeCounter) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.paths[n:]...)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func ptrTo[T any](v T) *T { return &v }
