// Command controller is ferrolb's controller: it gives LoadBalancer Services their addresses from the
// IPAddressPools of ferrolb's namespace, and serves the validating and conversion webhooks of every ferrolb
// kind. It runs as a Deployment with one replica. With --webhook-mode=onlywebhook it is an install's webhook
// server (config/webhook-server): it allocates nothing and validates the MetalLB resource too.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/api"
	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/cli"
	"github.com/ferrolb/ferrolb/internal/metricsauth"
)

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

type options struct {
	namespace, lbClass, logLevel, podName string
	metricsAddr, probeAddr                string
	metricsSecure                         bool
	qps, eventQPS                         float64
	burst, workers, eventBurst            int
	webhook                               webhookOptions // cmd/controller/webhook.go
}

func main() {
	var o options
	flag.StringVar(&o.namespace, "namespace", cli.EnvOr("METALLB_NAMESPACE", cli.PodNamespace()), "The namespace of ferrolb's configuration objects.")
	flag.StringVar(&o.lbClass, "lb-class", "", "The spec.loadBalancerClass of the Services to handle; empty handles the Services without a class.")
	flag.StringVar(&o.logLevel, "log-level", "info", "Log level: all, debug, info, warn, error or none.")
	flag.StringVar(&o.podName, "pod-name", os.Getenv("METALLB_POD_NAME"), "The controller's pod, owner of its ConfigurationState.")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":9120", "The address the metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&o.metricsSecure, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":17472", "The address of /healthz and /readyz.")
	flag.Float64Var(&o.qps, "kube-api-qps", 1000, "Client-side limit of API requests per second (the API server's priority and fairness limits too).")
	flag.IntVar(&o.burst, "kube-api-burst", 2000, "Client-side burst of API requests.")
	flag.IntVar(&o.workers, "max-concurrent-reconciles", 16, "Services written in parallel.")
	flag.Float64Var(&o.eventQPS, "event-qps", controllers.DefaultEventQPS, "Events written per second at most: a burst of allocations writes its Services first, its Events after.")
	flag.IntVar(&o.eventBurst, "event-burst", controllers.DefaultEventBurst, "Events written at once before event-qps applies.")
	addWebhookFlags(&o.webhook)
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	level, err := cli.LogLevel(o.logLevel)
	if err != nil {
		return err
	}
	if err := o.webhook.validate(); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.Level(level)))
	log := ctrl.Log.WithName("setup")
	cli.SetMemoryLimit(log)

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	metricsOpts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure}
	if o.metricsSecure {
		metricsOpts.FilterProvider = metricsauth.WithAuthenticationAndAuthorization
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
	if o.webhook.allocates() {
		// The pod owns the ConfigurationState the allocation writes; the webhook-only server writes none.
		owner, err := cli.PodOwner(ctx, mgr.GetAPIReader(), o.namespace, o.podName)
		if err != nil {
			return err
		}
		if err := controllers.SetupAllocation(mgr, controllers.AllocationOptions{
			Namespace: o.namespace, LoadBalancerClass: o.lbClass, MaxConcurrentReconciles: o.workers, Owner: owner,
			EventQPS: float32(o.eventQPS), EventBurst: o.eventBurst,
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
