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

package layer2test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/speaker/layer2"
)

func TestFake(t *testing.T) {
	f := New("eth1", "eth0")
	ip := netip.MustParseAddr("192.0.2.10")
	f.SetOwned(ip, layer2.AllInterfaces(), 0)
	f.SetOwned(ip, layer2.AllInterfaces(), time.Minute)
	f.SetOwned(netip.MustParseAddr("2001:db8::1"), layer2.NamedInterfaces("eth0"), 0)
	f.Withdraw(netip.MustParseAddr("2001:db8::1"))
	a, ok := f.Announcement(ip)
	got := struct {
		Owned      []netip.Addr
		Interfaces []string
		Takeovers  int
		Refresh    time.Duration
		OK         bool
	}{f.Owned(), f.Interfaces(), a.Takeovers, a.Refresh, ok}
	want := got
	want.Owned, want.Interfaces, want.Takeovers, want.Refresh, want.OK = []netip.Addr{ip}, []string{"eth0", "eth1"}, 1, time.Minute, true
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Fake state mismatch (-want +got):\n%s", diff)
	}
}
