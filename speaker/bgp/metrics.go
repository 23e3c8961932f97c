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

package bgp

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MetalLB's BGP metrics (reference §7.1), labelled peer="addr:port".
var (
	sessionUpDesc = prometheus.NewDesc("metallb_bgp_session_up",
		"BGP session state (1 is up, 0 is down)", []string{"peer"}, nil)
	updatesDesc = prometheus.NewDesc("metallb_bgp_updates_total",
		"Number of BGP UPDATE messages sent", []string{"peer"}, nil)
	announcedDesc = prometheus.NewDesc("metallb_bgp_announced_prefixes_total",
		"Number of prefixes currently being advertised on the BGP session", []string{"peer"}, nil)
)

// collector reads the metrics from the Router at scrape time, so they are GoBGP's own counters and never
// drift from them.
type collector struct {
	router Router
}

// RegisterMetrics registers MetalLB's BGP session metrics for the router on reg: metallb_bgp_session_up,
// metallb_bgp_updates_total and metallb_bgp_announced_prefixes_total. Sessions to the same address and port
// (with different ASNs) share one series: up only if all are, counts summed.
func RegisterMetrics(reg prometheus.Registerer, r Router) error {
	return reg.Register(&collector{router: r})
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionUpDesc
	ch <- updatesDesc
	ch <- announcedDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type series struct {
		up                 bool
		updates, announced float64
	}
	byPeer := map[string]*series{}
	var order []string
	for _, p := range c.router.Peers(ctx) {
		label := p.Peer.String()
		s := byPeer[label]
		if s == nil {
			s = &series{up: true}
			byPeer[label] = s
			order = append(order, label)
		}
		s.up = s.up && p.Up
		s.updates += float64(p.UpdatesSent)
		s.announced += float64(p.Advertised)
	}
	for _, label := range order {
		s := byPeer[label]
		up := 0.0
		if s.up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(sessionUpDesc, prometheus.GaugeValue, up, label)
		ch <- prometheus.MustNewConstMetric(updatesDesc, prometheus.CounterValue, s.updates, label)
		ch <- prometheus.MustNewConstMetric(announcedDesc, prometheus.GaugeValue, s.announced, label)
	}
}
