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

package layer2

import (
	"errors"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are MetalLB's layer 2 counters (reference §7.1), labelled with the address.
type Metrics struct {
	requests   *prometheus.CounterVec
	responses  *prometheus.CounterVec
	gratuitous *prometheus.CounterVec
}

// NewMetrics returns the layer 2 counters, registered on reg unless reg is nil. Counters already registered
// on reg (a second Responder in the same process) are reused.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "metallb",
			Subsystem: "layer2",
			Name:      "requests_received",
			Help:      "Number of layer2 requests received for owned IPs",
		}, []string{"ip"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "metallb",
			Subsystem: "layer2",
			Name:      "responses_sent",
			Help:      "Number of layer2 responses sent for owned IPs in response to requests",
		}, []string{"ip"}),
		gratuitous: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "metallb",
			Subsystem: "layer2",
			Name:      "gratuitous_sent",
			Help:      "Number of gratuitous layer2 packets sent for owned IPs as a result of failovers",
		}, []string{"ip"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []**prometheus.CounterVec{&m.requests, &m.responses, &m.gratuitous} {
		if err := reg.Register(*c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, err
			}
			existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, err
			}
			*c = existing
		}
	}
	return m, nil
}

func (m *Metrics) requestReceived(ip netip.Addr) { m.requests.WithLabelValues(ip.String()).Inc() }

func (m *Metrics) responseSent(ip netip.Addr) { m.responses.WithLabelValues(ip.String()).Inc() }

func (m *Metrics) gratuitousSent(ip netip.Addr) { m.gratuitous.WithLabelValues(ip.String()).Inc() }
