package speaker

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics with MetalLB's names and labels, on controller-runtime's metrics endpoint.
var (
	announced = register(prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "metallb", Subsystem: "speaker", Name: "announced",
		Help: "Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.",
	}, []string{"service", "protocol", "node", "ip"}))
	configLoaded = register(prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "metallb", Subsystem: "k8s_client", Name: "config_loaded_bool",
		Help: "1 once a valid configuration was loaded.",
	}))
	configStale = register(prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "metallb", Subsystem: "k8s_client", Name: "config_stale_bool",
		Help: "1 while the latest configuration is invalid and the previous one is in use.",
	}))
)

// register registers c on controller-runtime's registry, or returns the collector registered already under
// its name: the controller's package registers the metallb_k8s_client metrics too, and a test binary may
// hold both.
func register[C prometheus.Collector](c C) C {
	if err := metrics.Registry.Register(c); err != nil {
		var exists prometheus.AlreadyRegisteredError
		if errors.As(err, &exists) {
			if prev, ok := exists.ExistingCollector.(C); ok {
				return prev
			}
		}
		panic(err)
	}
	return c
}
