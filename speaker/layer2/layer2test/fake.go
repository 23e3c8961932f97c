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

// Package layer2test provides an in-memory layer2.Announcer for the unit tests of the speaker glue. It
// opens no socket and sends nothing; it records what it is told.
package layer2test

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ferrolb/ferrolb/speaker/layer2"
)

// Announcement is what a Fake holds for an owned address.
type Announcement struct {
	Interfaces layer2.InterfaceSet
	Refresh    time.Duration
	// Takeovers counts the SetOwned calls that would have sent a gratuitous burst: the first, and those
	// that changed the interfaces.
	Takeovers int
}

// Fake is an in-memory layer2.Announcer. The zero value is ready to use and has no interfaces.
type Fake struct {
	mu         sync.Mutex
	owned      map[netip.Addr]Announcement
	interfaces []string
	rescans    int
}

var _ layer2.Announcer = (*Fake)(nil)

// New returns a Fake whose Interfaces are the given names.
func New(interfaces ...string) *Fake {
	f := &Fake{}
	f.SetInterfaces(interfaces...)
	return f
}

// SetInterfaces sets what Interfaces returns.
func (f *Fake) SetInterfaces(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.interfaces = slices.Sorted(slices.Values(names))
}

// SetOwned implements layer2.Announcer.
func (f *Fake) SetOwned(ip netip.Addr, ifaces layer2.InterfaceSet, refresh time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owned == nil {
		f.owned = map[netip.Addr]Announcement{}
	}
	ip = ip.Unmap().WithZone("")
	a, known := f.owned[ip]
	if !known || !a.Interfaces.Equal(ifaces) {
		a.Takeovers++
	}
	a.Interfaces, a.Refresh = ifaces, refresh
	f.owned[ip] = a
}

// Withdraw implements layer2.Announcer.
func (f *Fake) Withdraw(ip netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.owned, ip.Unmap().WithZone(""))
}

// Owned implements layer2.Announcer.
func (f *Fake) Owned() []netip.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.SortedFunc(maps.Keys(f.owned), netip.Addr.Compare)
}

// Announcement returns what the Fake holds for ip, and whether it owns it.
func (f *Fake) Announcement(ip netip.Addr) (Announcement, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.owned[ip.Unmap().WithZone("")]
	return a, ok
}

// Interfaces implements layer2.Announcer.
func (f *Fake) Interfaces() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.interfaces)
}

// Rescan implements layer2.Announcer; Rescans counts the calls.
func (f *Fake) Rescan() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rescans++
}

// Rescans returns how many times Rescan was called.
func (f *Fake) Rescans() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rescans
}

// Run implements layer2.Announcer: it blocks until ctx is done.
func (f *Fake) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
