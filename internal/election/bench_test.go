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

package election

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/config"
)

// BenchmarkElect elects among 100 live nodes, with two advertisements (one with node selectors and
// preferences), for Services with externalTrafficPolicy Cluster and Local (endpoints on 10 nodes).
func BenchmarkElect(b *testing.B) {
	for _, policy := range []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal} {
		b.Run(fmt.Sprintf("nodes=100/etp=%s", policy), func(b *testing.B) {
			in := clusterInput(b, 100, "198.51.100.7")
			in.Service.Spec.ExternalTrafficPolicy = policy
			in.Advertisements = []*config.L2Advertisement{
				ad(b, "all", adOpts{}),
				ad(b, "zones", adOpts{nodes: []string{"zone in (z0,z1)"}, preferred: map[string]int32{"zone=z1": 10}}),
			}
			in.EndpointSlices = nil
			for i := range 10 {
				in.EndpointSlices = append(in.EndpointSlices, slicesOf(ready(fmt.Sprintf("node-%03d", i*7)))...)
			}
			b.ReportAllocs()
			for b.Loop() {
				if Elect(in).Node == "" {
					b.Fatal("no winner")
				}
			}
		})
	}
}
