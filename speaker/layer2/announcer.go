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
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Announcer is what the speaker glue drives. Its state is per address: a caller that maps several Services
// to one address (shared IPs, dual-stack) calls SetOwned for each and Withdraw only when the last goes.
type Announcer interface {
	// SetOwned makes the node the owner of ip on the interfaces of ifaces. Taking an address over, or
	// changing its interfaces, sends a burst of gratuitous ARP or unsolicited NAs, the first packet at once.
	// refresh > 0 also re-sends one gratuitous round every refresh while the node owns ip; 0 turns it off.
	// Calling it again with the same arguments changes nothing and sends nothing.
	SetOwned(ip netip.Addr, ifaces InterfaceSet, refresh time.Duration)
	// Withdraw gives ip up. Once it returns, no reply or gratuitous packet for ip is sent. No "goodbye"
	// packet is sent either: the new owner's gratuitous packets move the clients.
	Withdraw(ip netip.Addr)
	// Owned returns the addresses the node owns, sorted.
	Owned() []netip.Addr
	// Interfaces returns the names of the interfaces that have a responder, as of the last scan, sorted. The
	// glue intersects them with an address's InterfaceSet (InterfaceSet.Select) for ServiceL2Status, and
	// reports announceFailed when the intersection is empty.
	Interfaces() []string
	// Rescan asks for an interface scan now, without waiting for the periodic one.
	Rescan()
	// Run runs the responders until ctx is done, then closes every socket.
	Run(ctx context.Context) error
}

// InterfaceSet is the set of interfaces an address is announced on: every qualifying interface, or only
// the named ones. The zero value is the empty set.
type InterfaceSet struct {
	all   bool
	names []string
}

// AllInterfaces is the set of every qualifying interface: an L2Advertisement without an interfaces list.
func AllInterfaces() InterfaceSet { return InterfaceSet{all: true} }

// NamedInterfaces is the set of the named interfaces, in any order, repeats ignored.
func NamedInterfaces(names ...string) InterfaceSet {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	return InterfaceSet{names: slices.Compact(sorted)}
}

// All reports whether the set holds every interface.
func (s InterfaceSet) All() bool { return s.all }

// Names returns the named interfaces, sorted; nil when All.
func (s InterfaceSet) Names() []string { return slices.Clone(s.names) }

// Contains reports whether the interface is in the set.
func (s InterfaceSet) Contains(name string) bool {
	if s.all {
		return true
	}
	_, found := slices.BinarySearch(s.names, name)
	return found
}

// Select returns the names that are in the set, in their order.
func (s InterfaceSet) Select(names []string) []string {
	var in []string
	for _, name := range names {
		if s.Contains(name) {
			in = append(in, name)
		}
	}
	return in
}

// Equal reports whether the two sets are the same.
func (s InterfaceSet) Equal(t InterfaceSet) bool {
	return s.all == t.all && slices.Equal(s.names, t.names)
}

// String returns "*" for every interface, else the names separated by commas.
func (s InterfaceSet) String() string {
	if s.all {
		return "*"
	}
	return strings.Join(s.names, ",")
}
