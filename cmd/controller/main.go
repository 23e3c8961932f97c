// Command controller is ferrolb's controller: it gives LoadBalancer Services their addresses from the
// IPAddressPools of ferrolb's namespace, and serves the validating and conversion webhooks of every ferrolb
// kind. It runs as a Deployment with one replica.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/api"
	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/controllers"
)

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

type options struct {
	namespace, lbClass, logLevel, podName string
	metricsAddr, probeAddr                string
	metricsSecure                         bool
	qps                                   float64
	burst, workers                        int
	webhook                               webhookOptions // cmd/controller/webhook.go
}

func main() {
	var o options
	flag.StringVar(&o.namespace, "namespace", envOr("METALLB_NAMESPACE", podNamespace()), "The namespace of ferrolb's configuration objects.")
	flag.StringVar(&o.lbClass, "lb-class", "", "The spec.loadBalancerClass of the Services to handle; empty handles the Services without a class.")
	flag.StringVar(&o.logLevel, "log-level", "info", "Log level: all, debug, info, warn, error or none.")
	flag.StringVar(&o.podName, "pod-name", os.Getenv("METALLB_POD_NAME"), "The controller's pod, owner of its ConfigurationState.")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":9120", "The address the metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&o.metricsSecure, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":17472", "The address of /healthz and /readyz.")
	flag.Float64Var(&o.qps, "kube-api-qps", 500, "Client-side limit of API requests per second.")
	flag.IntVar(&o.burst, "kube-api-burst", 1000, "Client-side burst of API requests.")
	flag.IntVar(&o.workers, "max-concurrent-reconciles", 16, "Services written in parallel.")
	addWebhookFlags(&o.webhook)
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	level, err := zapLevel(o.logLevel)
	if err != nil {
		return err
	}
	if err := o.webhook.validate(); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.Level(level)))
	log := ctrl.Log.WithName("setup")

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	metricsOpts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure}
	if o.metricsSecure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 api.NewScheme(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: o.probeAddr,
		WebhookServer:          o.webhook.server(),
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// Configuration objects are only read in ferrolb's namespace.
			&metallbv1beta1.IPAddressPool{}:      {Namespaces: map[string]cache.Config{o.namespace: {}}},
			&metallbv1beta1.Community{}:          {Namespaces: map[string]cache.Config{o.namespace: {}}},
			&metallbv1beta1.ConfigurationState{}: {Namespaces: map[string]cache.Config{o.namespace: {}}},
		}},
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	owner, err := podOwner(ctx, mgr, o)
	if err != nil {
		return err
	}
	if o.webhook.allocates() {
		if err := controllers.SetupAllocation(mgr, controllers.AllocationOptions{
			Namespace: o.namespace, LoadBalancerClass: o.lbClass, MaxConcurrentReconciles: o.workers, Owner: owner,
		}); err != nil {
			return err
		}
	}
	if err := setupWebhooks(mgr, o.namespace, o.webhook); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("Starting controller", "namespace", o.namespace, "loadBalancerClass", o.lbClass)
	return mgr.Start(ctx)
}

// +kubebuilder:rbac:groups="",resources=pods,verbs=get

// podOwner returns an owner reference to the controller's pod, read once at start-up with the uncached
// reader, or nil when the pod name is not known (running outside a cluster).
func podOwner(ctx context.Context, mgr ctrl.Manager, o options) (*metav1.OwnerReference, error) {
	if o.podName == "" {
		return nil, nil
	}
	pod := &corev1.Pod{}
	if err := mgr.GetAPIReader().Get(ctx, types.NamespacedName{Namespace: o.namespace, Name: o.podName}, pod); err != nil {
		return nil, fmt.Errorf("reading the controller's pod %s/%s: %w", o.namespace, o.podName, err)
	}
	return metav1.NewControllerRef(pod, corev1.SchemeGroupVersion.WithKind("Pod")), nil
}

func zapLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "all", "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	case "none":
		return zapcore.FatalLevel, nil
	}
	return 0, fmt.Errorf("invalid --log-level %q: must be one of all, debug, info, warn, error, none", s)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// podNamespace is the namespace of the pod's service account, or metallb-system outside a cluster.
func podNamespace() string {
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "metallb-system"
}
