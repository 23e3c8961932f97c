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

package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// orderWorkers is how many permutations are applied at once; each uses its own names and addresses.
const orderWorkers = 4

// A pool, a BFD profile, a community alias, a peer using the profile (and a password Secret that never
// exists), and L2 and BGP advertisements using the pool, the peer and the alias must be admitted in any order.
//
// The webhooks judge an object by the objects that exist when it is admitted, read from the API server, and
// not by the order they came in. So what an order tests is, for each object, the set of objects created
// before it: 6 objects × 2^5 sets = 192 cases. coveringOrders picks orders until every case is met (about 50
// orders, 600 requests, instead of the 8,640 of all 720). FERROLB_WEBHOOK_ALL_ORDERS=1 tries all 720.
var _ = Describe("Creation order", func() {
	It("admits a configuration applied in any order", func(ctx context.Context) {
		perms := coveringOrders(6)
		if os.Getenv("FERROLB_WEBHOOK_ALL_ORDERS") == "1" {
			perms = permutations(6)
		}
		GinkgoWriter.Printf("%d orders\n", len(perms))

		jobs := make(chan int)
		var mu sync.Mutex
		var failures []error
		var wg sync.WaitGroup
		for range orderWorkers {
			wg.Go(func() {
				for i := range jobs {
					if err := applyInOrder(ctx, i, perms[i]); err != nil {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
					}
				}
			})
		}
		for i := range perms {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		Expect(failures).To(BeEmpty())
	})
})

// applyInOrder creates the configuration number i in the order, then deletes it.
func applyInOrder(ctx context.Context, i int, order []int) error {
	objs := orderedConfiguration(i)
	var errs []error
	for _, j := range order {
		if err := k8s.Create(ctx, objs[j]); err != nil {
			errs = append(errs, fmt.Errorf("order %v: creating %T %s: %w", order, objs[j], objs[j].GetName(), err))
		}
	}
	// Peers before the BFD profile they use: deleting a profile in use is refused.
	for _, j := range []int{5, 4, 3, 2, 1, 0} {
		if err := client.IgnoreNotFound(k8s.Delete(ctx, objs[j])); err != nil {
			errs = append(errs, fmt.Errorf("deleting %T %s: %w", objs[j], objs[j].GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// orderedConfiguration returns configuration number i: objects that reference each other by name, with
// names and addresses of their own. The referenced objects come first.
func orderedConfiguration(i int) []client.Object {
	n := func(kind string) string { return fmt.Sprintf("order-%d-%s", i, kind) }
	return []client.Object{
		pool(n("pool"), fmt.Sprintf("10.%d.%d.0/24", 100+i/250, i%250)),
		bfd(n("bfd"), v1beta1.BFDProfileSpec{DetectMultiplier: new(uint32(3))}),
		community(n("community"), v1beta1.CommunityAlias{Name: n("alias"), Value: fmt.Sprintf("65000:%d", i)}),
		peer(n("peer"), func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = n("bfd"); s.PasswordSecret.Name = n("secret") }),
		l2Adv(n("l2"), v1beta1.L2AdvertisementSpec{IPAddressPools: []string{n("pool")}}),
		bgpAdv(n("bgp"), v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{n("pool")}, Peers: []string{n("peer")},
			Communities: []string{n("alias"), "65000:1"}, AggregationLength: new(int32(24)),
		}),
	}
}

// coveringOrders returns orders of 0..n-1 such that, for every element and every set of the other elements,
// some order has exactly that set before the element. It picks greedily the order that meets the most cases
// not met yet, so it is deterministic.
func coveringOrders(n int) [][]int {
	all := permutations(n)
	// met[x][set] records that x was created after exactly the elements of set (a bit mask).
	met := make([]map[int]bool, n)
	for x := range met {
		met[x] = map[int]bool{}
	}
	cases := func(order []int) (keys [][2]int) {
		set := 0
		for _, x := range order {
			keys = append(keys, [2]int{x, set})
			set |= 1 << x
		}
		return keys
	}
	missing := n << (n - 1)
	var chosen [][]int
	for missing > 0 {
		best, bestNew := -1, 0
		for i, order := range all {
			fresh := 0
			for _, c := range cases(order) {
				if !met[c[0]][c[1]] {
					fresh++
				}
			}
			if fresh > bestNew {
				best, bestNew = i, fresh
			}
		}
		for _, c := range cases(all[best]) {
			met[c[0]][c[1]] = true
		}
		missing -= bestNew
		chosen = append(chosen, all[best])
	}
	return chosen
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(append([]int{}, p[:pos]...), n-1), p[pos:]...)
			out = append(out, q)
		}
	}
	return out
}
