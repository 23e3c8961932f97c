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

package config

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// BenchmarkParse parses a large cluster's configuration, which the speaker and the controller do on every
// change of a watched object: 200 pools (half of them ranges, a quarter IPv6), 50 peers, 40 advertisements,
// 2000 nodes and 500 namespaces.
func BenchmarkParse(b *testing.B) {
	var res Resources
	for i := range 200 {
		entry := fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		switch i % 4 {
		case 1:
			entry = fmt.Sprintf("10.%d.%d.7-10.%d.%d.250", i/256, i%256, i/256, i%256)
		case 3:
			entry = fmt.Sprintf("fc00:%x::/120", i)
		}
		pool := ipPool(fmt.Sprintf("pool-%03d", i), entry)
		pool.Labels = map[string]string{"tier": fmt.Sprint(i % 5)}
		if i%10 == 0 {
			pool.Spec.AllocateTo = &v1beta1.ServiceAllocation{
				Priority:           i % 3,
				NamespaceSelectors: []metav1.LabelSelector{selector(map[string]string{"team": fmt.Sprint(i % 7)})},
			}
		}
		res.Pools = append(res.Pools, pool)
	}
	for i := range 50 {
		res.Peers = append(res.Peers, bgpPeer(fmt.Sprintf("peer-%02d", i), func(s *v1beta2.BGPPeerSpec) {
			s.PeerAddress = fmt.Sprintf("192.0.2.%d", i+1)
			s.NodeSelectors = []metav1.LabelSelector{selector(map[string]string{"rack": fmt.Sprint(i % 10)})}
		}))
	}
	for i := range 20 {
		tier := []metav1.LabelSelector{selector(map[string]string{"tier": fmt.Sprint(i % 5)})}
		res.BGPAdvertisements = append(res.BGPAdvertisements, bgpAdvertisement(fmt.Sprintf("bgp-%02d", i), v1beta1.BGPAdvertisementSpec{
			IPAddressPoolSelectors: tier,
			LocalPref:              100,
			Communities:            []string{"65000:1", "large:65000:1:2"},
			NodeSelectors:          []metav1.LabelSelector{selector(map[string]string{"rack": fmt.Sprint(i % 10)})},
		}))
		res.L2Advertisements = append(res.L2Advertisements, l2Advertisement(fmt.Sprintf("l2-%02d", i), v1beta1.L2AdvertisementSpec{
			IPAddressPoolSelectors: tier,
		}))
	}
	for i := range 2000 {
		res.Nodes = append(res.Nodes, node(fmt.Sprintf("node-%04d", i), map[string]string{"rack": fmt.Sprint(i % 10)}))
	}
	for i := range 500 {
		res.Namespaces = append(res.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("ns-%03d", i), Labels: map[string]string{"team": fmt.Sprint(i % 7)},
		}})
	}
	if _, err := Parse(res); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(res); err != nil {
			b.Fatal(err)
		}
	}
}
