package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ferrolb/ferrolb/internal/allocator"
)

// Metrics with MetalLB's names and labels, on controller-runtime's metrics endpoint.
var (
	addressesInUse = poolGauge("addresses_in_use_total", "Number of IP addresses in use, per pool (a shared address counts once).")
	addressesTotal = poolGauge("addresses_total", "Number of usable IP addresses, per pool.")
	ipv4InUse      = poolGauge("ipv4_addresses_in_use_total", "Number of IPv4 addresses in use, per pool.")
	ipv4Total      = poolGauge("ipv4_addresses_total", "Number of usable IPv4 addresses, per pool.")
	ipv6InUse      = poolGauge("ipv6_addresses_in_use_total", "Number of IPv6 addresses in use, per pool.")
	ipv6Total      = poolGauge("ipv6_addresses_total", "Number of usable IPv6 addresses, per pool.")
	configLoaded   = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "metallb", Subsystem: "k8s_client", Name: "config_loaded_bool",
		Help: "1 once a valid configuration was loaded.",
	})
	configStale = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "metallb", Subsystem: "k8s_client", Name: "config_stale_bool",
		Help: "1 while the latest configuration is invalid and the previous one is in use.",
	})
	updates = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "metallb", Subsystem: "k8s_client", Name: "updates_total",
		Help: "Number of Service and configuration reconciliations.",
	})
	updateErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "metallb", Subsystem: "k8s_client", Name: "update_errors_total",
		Help: "Number of reconciliations that failed.",
	})
)

// poolGauge is a metallb_allocator_* gauge with MetalLB's "pool" label.
func poolGauge(name, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "metallb", Subsystem: "allocator", Name: name, Help: help},
		[]string{"pool"})
}

func init() {
	metrics.Registry.MustRegister(addressesInUse, addressesTotal, ipv4InUse, ipv4Total, ipv6InUse, ipv6Total,
		configLoaded, configStale, updates, updateErrors)
}

// recordPoolMetrics sets the allocator gauges of one pool.
func recordPoolMetrics(pool string, s allocator.PoolStats) {
	sum := s.Sum()
	addressesInUse.WithLabelValues(pool).Set(sum.Assigned.Float64())
	addressesTotal.WithLabelValues(pool).Set(sum.Total.Float64())
	ipv4InUse.WithLabelValues(pool).Set(s.IPv4.Assigned.Float64())
	ipv4Total.WithLabelValues(pool).Set(s.IPv4.Total.Float64())
	ipv6InUse.WithLabelValues(pool).Set(s.IPv6.Assigned.Float64())
	ipv6Total.WithLabelValues(pool).Set(s.IPv6.Total.Float64())
}

// forgetPoolMetrics removes the gauges of a deleted pool.
func forgetPoolMetrics(pool string) {
	for _, g := range []*prometheus.GaugeVec{addressesInUse, addressesTotal, ipv4InUse, ipv4Total, ipv6InUse, ipv6Total} {
		g.DeleteLabelValues(pool)
	}
}
