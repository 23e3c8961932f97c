package controller_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// The suite runs the controller binary's reconcilers against a real kube-apiserver and etcd, as a user that
// holds only the generated role (config/rbac/role.yaml), so a write the role does not allow fails a spec.

const (
	ns = "metallb-system"
	// controllerUser is who the controller authenticates as.
	controllerUser = "system:serviceaccount:metallb-system:controller"
)

var (
	env *envtest.Environment
	cfg *rest.Config
	k8s client.Client
	// controllerCfg is the controller's connection: its user, and a transport that counts its writes.
	controllerCfg *rest.Config
	// kubeconfig is a kubeconfig file of the controller's user, for the controller binary.
	kubeconfig string
	// writes counts the controller's writes to Services and Events.
	writes = &writeCounter{}
	// stopController stops the running controller manager; startController starts a new one.
	stopController func()
	// binary is the controller binary, built in the background while the other specs run.
	binary struct {
		once sync.Once
		done chan struct{}
		path string
		err  error
		out  []byte
	}
)

func TestController(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller suite")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(20 * time.Second)
	SetDefaultEventuallyPollingInterval(20 * time.Millisecond)
	SetDefaultConsistentlyDuration(time.Second)
	SetDefaultConsistentlyPollingInterval(50 * time.Millisecond)
	buildBinary()

	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// Dual-stack Services need a cluster IP range of each family.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16,fd00:10:96::/112")
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())

	user, err := env.AddUser(envtest.User{Name: controllerUser, Groups: []string{"system:authenticated"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(testenv.GrantGeneratedRole(ctx, k8s, controllerUser)).To(Succeed())
	controllerCfg = rest.CopyConfig(user.Config())
	// cmd/controller's defaults.
	controllerCfg.QPS, controllerCfg.Burst = 500, 1000
	controllerCfg.Wrap(writes.wrap)
	kc, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(os.WriteFile(kubeconfig, kc, 0o600)).To(Succeed())

	startController()
	DeferCleanup(func() { stopController() })
})

// controllerOptions change how startController runs the controller.
type controllerOption func(*controllers.AllocationOptions)

// withClass runs the controller with --lb-class.
func withClass(class string) controllerOption {
	return func(o *controllers.AllocationOptions) { o.LoadBalancerClass = class }
}

// startController runs the controller binary's reconcilers in a fresh manager, as a restarted pod would,
// and returns once it has loaded the configuration.
func startController(opts ...controllerOption) {
	GinkgoHelper()
	loads := metric("controller_runtime_reconcile_total", map[string]string{"controller": "configurationstate"})
	mgr, err := ctrl.NewManager(controllerCfg, ctrl.Options{
		Scheme:  testenv.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Several managers run one after the other in one process.
		Controller: ctrlConfig(),
	})
	Expect(err).NotTo(HaveOccurred())
	o := controllers.AllocationOptions{Namespace: ns, MaxConcurrentReconciles: 8}
	for _, opt := range opts {
		opt(&o)
	}
	Expect(controllers.SetupAllocation(mgr, o)).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	stopController = func() { cancel(); <-done }
	Eventually(func() float64 {
		return metric("controller_runtime_reconcile_total", map[string]string{"controller": "configurationstate"})
	}).Should(BeNumerically(">", loads), "the controller should load its configuration")
}

// restartController stops the controller and starts a new one with opts.
func restartController(opts ...controllerOption) {
	GinkgoHelper()
	stopController()
	startController(opts...)
}

// buildBinary starts building cmd/controller in the background; awaitBinary waits for it.
func buildBinary() {
	binary.once.Do(func() {
		binary.done = make(chan struct{})
		dir, err := os.MkdirTemp("", "ferrolb-controller-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, dir)
		binary.path = filepath.Join(dir, "controller")
		go func() {
			defer close(binary.done)
			cmd := exec.Command("go", "build", "-o", binary.path, "./cmd/controller")
			cmd.Dir = testenv.RepoRoot()
			binary.out, binary.err = cmd.CombinedOutput()
		}()
	})
}

func awaitBinary() string {
	GinkgoHelper()
	<-binary.done
	Expect(binary.err).NotTo(HaveOccurred(), "go build ./cmd/controller: %s", binary.out)
	return binary.path
}

// writeCounter counts the write requests (POST, PUT, PATCH, DELETE) the controller sends: for Services and
// Events, the writes that must not happen when nothing changed, and apart from them the others (pool and
// ConfigurationState status).
type writeCounter struct {
	mu       sync.Mutex
	services int
	events   int
	other    int
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet {
			w.mu.Lock()
			switch p := req.URL.Path; {
			case strings.Contains(p, "/services"):
				w.services++
			case strings.Contains(p, "/events"):
				w.events++
			default:
				w.other++
			}
			w.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// count returns the Service and Event writes so far.
func (w *writeCounter) count() (services, events int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.services, w.events
}

// otherWrites returns the other writes so far.
func (w *writeCounter) otherWrites() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.other
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
