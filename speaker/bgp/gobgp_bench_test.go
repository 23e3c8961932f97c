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
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
)

// BenchmarkSetRoutesOneChange is what one Service more costs the adapter when n routes are already announced
// and the whole table is handed: each op hands it with one route added, or removed again. The session's
// peer never answers: the RIB work is the same without a session.
func BenchmarkSetRoutesOneChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			ctx := context.Background()
			r, routes := benchAdapter(b, n)
			tables := []map[string][]advertise.Route{{"bench": routes[:n]}, {"bench": routes}}
			i := 0
			for b.Loop() {
				i++
				if err := r.SetRoutes(ctx, tables[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdateRoutesOneChange is the same change handed as the speaker hands it, the changed prefix only.
func BenchmarkUpdateRoutesOneChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			ctx := context.Background()
			r, routes := benchAdapter(b, n)
			extra := &routes[n]
			changes := []advertise.Changes{{"bench": {extra.Prefix: nil}}, {"bench": {extra.Prefix: extra}}}
			i := 0
			for b.Loop() {
				i++
				if err := r.UpdateRoutes(ctx, changes[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchAdapter returns an adapter with one session announcing n routes, and n+1 routes.
func benchAdapter(b *testing.B, n int) (*gobgpRouter, []advertise.Route) {
	ctx := context.Background()
	r := New(WithLogger(logr.Discard()), WithWithdrawWait(time.Millisecond)).(*gobgpRouter)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	// TEST-NET-1 on a closed port: GoBGP dials and fails, the RIB is all there is.
	s := session("bench", 64512, 64513, "192.0.2.1", 1)
	if err := r.SetPeers(ctx, []Session{s}); err != nil {
		b.Fatal(err)
	}
	routes := make([]advertise.Route, n+1)
	base := netip.MustParseAddr("10.0.0.0").As4()
	for i := range routes {
		a := base
		a[1], a[2], a[3] = byte(i>>16), byte(i>>8), byte(i)
		routes[i] = advertise.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4(a), 32), Communities: []config.StandardCommunity{0xfde80064}}
	}
	if err := r.SetRoutes(ctx, map[string][]advertise.Route{"bench": routes[:n]}); err != nil {
		b.Fatal(err)
	}
	return r, routes
}
