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
	"errors"
	"maps"
	"net/netip"
	"slices"
	"sync"

	"github.com/ferrolb/ferrolb/internal/advertise"
)

// Fake is an in-memory Router for unit tests of the speaker's glue. Sessions are up as soon as they are set,
// unless SetDown marks them down; it records how many times each session was (re-)created, so a test can check that
// a change did not reset a session.
type Fake struct {
	mu       sync.Mutex
	sessions map[string]Session
	routes   map[string][]advertise.Route
	created  map[string]int
	down     map[string]bool
	updates  map[string]uint64
	closed   bool
	// Err, when set, is returned by every call.
	Err error
}

var _ Router = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{
		sessions: map[string]Session{},
		routes:   map[string][]advertise.Route{},
		created:  map[string]int{},
		down:     map[string]bool{},
		updates:  map[string]uint64{},
	}
}

func (f *Fake) SetPeers(_ context.Context, sessions []Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return err
	}
	var errs []error
	desired := map[string]Session{}
	for _, s := range sessions {
		if err := s.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		desired[s.Name] = s
	}
	for name, old := range f.sessions {
		if s, ok := desired[name]; !ok || s.Key() != old.Key() {
			delete(f.sessions, name)
		}
	}
	for name, s := range desired {
		if _, ok := f.sessions[name]; !ok {
			f.created[name]++
		}
		f.sessions[name] = s
	}
	return errors.Join(errs...)
}

func (f *Fake) SetRoutes(_ context.Context, routes map[string][]advertise.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return err
	}
	for name, rs := range routes {
		if !slices.EqualFunc(f.routes[name], rs, routeEqual) {
			f.updates[name]++
		}
	}
	f.routes = make(map[string][]advertise.Route, len(routes))
	for name, rs := range routes {
		f.routes[name] = slices.SortedFunc(slices.Values(rs), func(a, b advertise.Route) int {
			return advertise.ComparePrefixes(a.Prefix, b.Prefix)
		})
	}
	return nil
}

func (f *Fake) UpdateRoutes(_ context.Context, changes advertise.Changes) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return err
	}
	for name, routes := range changes {
		rs := f.routes[name]
		changed := false
		for prefix, route := range routes {
			i, found := slices.BinarySearchFunc(rs, prefix, func(r advertise.Route, p netip.Prefix) int {
				return advertise.ComparePrefixes(r.Prefix, p)
			})
			switch {
			case route == nil && found:
				rs = slices.Delete(rs, i, i+1)
			case route == nil:
				continue
			case found && routeEqual(rs[i], *route):
				continue
			case found:
				rs[i] = *route
			default:
				rs = slices.Insert(rs, i, *route)
			}
			changed = true
		}
		if changed {
			f.updates[name]++
		}
		f.routes[name] = rs
	}
	return nil
}

// usable returns why the Fake refuses calls: Err, or Close; f.mu must be held.
func (f *Fake) usable() error {
	if f.Err != nil {
		return f.Err
	}
	if f.closed {
		return errors.New("BGP router closed")
	}
	return nil
}

func routeEqual(a, b advertise.Route) bool {
	return a.Prefix == b.Prefix && a.LocalPref == b.LocalPref &&
		slices.Equal(a.Communities, b.Communities) && slices.Equal(a.LargeCommunities, b.LargeCommunities)
}

func (f *Fake) Peers(context.Context) []PeerState {
	f.mu.Lock()
	defer f.mu.Unlock()
	var states []PeerState
	for _, name := range slices.Sorted(maps.Keys(f.sessions)) {
		s := f.sessions[name]
		up := !f.down[name]
		st := PeerState{Name: name, Peer: s.PeerAddrPort(), Up: up, State: "active", PeerASN: s.peerASN(), UpdatesSent: f.updates[name]}
		for _, r := range f.routes[name] {
			if s.Carries(r.Prefix) {
				st.Desired++
			}
		}
		if up {
			st.State, st.Advertised = "established", st.Desired
		}
		states = append(states, st)
	}
	return states
}

func (f *Fake) Close(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	f.routes = map[string][]advertise.Route{}
	f.sessions = map[string]Session{}
	return f.Err
}

// Sessions returns the current sessions by name.
func (f *Fake) Sessions() map[string]Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.sessions)
}

// Routes returns the routes each session carries, by name, of the families it carries.
func (f *Fake) Routes() map[string][]advertise.Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]advertise.Route{}
	for name, s := range f.sessions {
		for _, r := range f.routes[name] {
			if s.Carries(r.Prefix) {
				out[name] = append(out[name], r)
			}
		}
	}
	return out
}

// Created returns how many times the named session was created: 1 if it was never reset.
func (f *Fake) Created(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created[name]
}

// SetDown marks the named session down (or up again), as seen by Peers and the metrics.
func (f *Fake) SetDown(name string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[name] = down
}

// Closed reports whether Close was called.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
