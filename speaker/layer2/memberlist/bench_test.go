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

package memberlist

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkDetection measures how long a crashed member (Shutdown, no Leave) stays in the other
// members' view with FastTimers: the time from the crash until the last survivor has dropped it, which
// is when every speaker agrees on the new layer-2 election. Each iteration builds a fresh cluster on
// 127.0.0.1, so run it with a fixed count:
//
//	go test -run '^$' -bench BenchmarkDetection -benchtime 20x ./speaker/layer2/memberlist/
//
// It reports p50-ms and p99-ms over the iterations (with 20 runs, p99 is the maximum); ns/op is
// setup included and meaningless.
func BenchmarkDetection(b *testing.B) {
	for _, size := range []int{3, 5} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			var samples []time.Duration
			for range b.N {
				samples = append(samples, detectOnce(b, size))
			}
			slices.Sort(samples)
			b.ReportMetric(ms(percentile(samples, 0.50)), "p50-ms")
			b.ReportMetric(ms(percentile(samples, 0.99)), "p99-ms")
			b.ReportMetric(ms(samples[0]), "min-ms")
		})
	}
}

// detectOnce crashes a random member of a fresh, converged cluster and times its removal everywhere.
func detectOnce(b *testing.B, size int) time.Duration {
	c := newCluster(b)
	nodes := make([]*node, size)
	for i := range nodes {
		nodes[i] = c.add(fmt.Sprintf("n%d", i))
	}
	joinAll(b, nodes...)
	// Crash at a random phase of the probe cycle, after the cluster has settled.
	time.Sleep(500*time.Millisecond + rand.N(c.tuning.ProbeInterval))

	victim := rand.N(size)
	survivors := slices.Delete(slices.Clone(nodes), victim, victim+1)
	start := time.Now()
	if err := nodes[victim].list.Shutdown(); err != nil {
		b.Fatal(err)
	}
	waitMembers(b, 15*time.Second, names(survivors...), survivors...)
	d := time.Since(start)
	for _, n := range nodes {
		_ = n.list.Shutdown()
	}
	return d
}

// percentile picks the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
