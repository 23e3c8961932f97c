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
	"context"
	"time"
)

// DefaultDiscoverInterval is how often Discover re-lists speakers. Joining skips live members, so a
// round costs one list call plus one TCP connect per listed speaker that is not a member (new,
// restarted, partitioned away or dead); 2 s bounds how long two halves of a healed partition stay
// apart (memberlist alone never reconnects them; MetalLB rejoins every minute).
const DefaultDiscoverInterval = 2 * time.Second

// Discover joins the speakers that list returns, now and then every interval, until ctx is done. list
// returns their addresses ("ip" or "ip:port"), typically the IPs of the speaker pods selected by label
// from an informer cache: it runs every interval on every node, so it must not call the API server.
// Errors from list and from Join are logged and retried on the next tick; addresses that are already
// live members cost nothing.
func (l *List) Discover(ctx context.Context, list func(context.Context) ([]string, error), interval time.Duration) {
	if interval <= 0 {
		interval = DefaultDiscoverInterval
	}
	t := l.clock.NewTicker(interval)
	defer t.Stop()
	for {
		l.discoverOnce(ctx, list)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

func (l *List) discoverOnce(ctx context.Context, list func(context.Context) ([]string, error)) {
	if ctx.Err() != nil || l.closed() {
		return
	}
	addrs, err := list(ctx)
	if err != nil {
		l.log.Error(err, "Listing speakers for memberlist failed, will retry")
		return
	}
	n, err := l.Join(addrs)
	if err != nil {
		// Routine while a listed speaker is down (its pod outlives the node for minutes), so V(1).
		l.log.V(1).Info("Joining speakers failed, will retry", "error", err.Error())
		return
	}
	if n > 0 {
		l.log.V(1).Info("Joined speakers", "count", n, "members", l.Members().Len())
	}
}
