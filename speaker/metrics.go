package speaker

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics with MetalLB's names and labels, on controller-runtime's metrics endpoint.
var (
	announcedDesc = prometheus.NewDesc("metallb_speaker_announced",
		"Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.",
		[]string{"service", "protocol", "node", "ip"}, nil)
	announced    = register(&announcedCollector{speakers: map[*Speaker]struct{}{}})
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

// announcedCollector reports metallb_speaker_announced at scrape time, from what the running speakers announce
// (a test binary runs several): a series per Service, protocol, node and address then costs nothing between
// scrapes, where a GaugeVec kept about 700 bytes per series, 7 MB at 10,000 Services.
type announcedCollector struct {
	mu       sync.Mutex
	speakers map[*Speaker]struct{}
}

func (c *announcedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- announcedDesc }

func (c *announcedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	speakers := make([]*Speaker, 0, len(c.speakers))
	for s := range c.speakers {
		speakers = append(speakers, s)
	}
	c.mu.Unlock()
	for _, s := range speakers {
		// Copied under the lock, sent without it: the scrape must not hold the reconcilers back.
		type series struct {
			key      types.NamespacedName
			protocol string
			ip       netip.Addr
		}
		var all []series
		s.mu.Lock()
		for key, a := range s.announced {
			for _, ip := range a.ips {
				all = append(all, series{key, "layer2", ip})
			}
		}
		for key, ips := range s.bgpAnnounced {
			for _, ip := range ips {
				all = append(all, series{key, "bgp", ip})
			}
		}
		s.mu.Unlock()
		for _, m := range all {
			ch <- prometheus.MustNewConstMetric(announcedDesc, prometheus.GaugeValue, 1, m.key.String(), m.protocol, s.o.NodeName, m.ip.String())
		}
	}
}

// metricsRunnable reports the speaker's announcements while its manager runs.
type metricsRunnable struct{ s *Speaker }

func (m metricsRunnable) Start(ctx context.Context) error {
	announced.mu.Lock()
	announced.speakers[m.s] = struct{}{}
	announced.mu.Unlock()
	<-ctx.Done()
	announced.mu.Lock()
	delete(announced.speakers, m.s)
	announced.mu.Unlock()
	return nil
}

// NeedLeaderElection is false: every speaker reports its own announcements.
func (metricsRunnable) NeedLeaderElection() bool { return false }
