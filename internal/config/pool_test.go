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
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

func TestParsePools(t *testing.T) {
	tests := []struct {
		name  string
		pools []v1beta1.IPAddressPool
		want  map[string]*Pool
	}{
		{
			name:  "defaults: auto-assigned, buggy IPs allowed, unrestricted",
			pools: []v1beta1.IPAddressPool{ipPool("blue", "192.168.1.0/24")},
			want: map[string]*Pool{
				"blue": {Name: "blue", CIDRs: prefixes("192.168.1.0/24"), AutoAssign: true},
			},
		},
		{
			name: "IPv4 and IPv6, CIDRs and ranges, in the order of spec.addresses",
			pools: []v1beta1.IPAddressPool{func() v1beta1.IPAddressPool {
				p := ipPool("dual", "fc00::/124", "10.0.0.1-10.0.0.3", "10.0.1.0/24")
				p.Spec.AutoAssign = new(false)
				p.Spec.AvoidBuggyIPs = true
				return p
			}()},
			want: map[string]*Pool{
				"dual": {
					Name:          "dual",
					CIDRs:         prefixes("fc00::/124", "10.0.0.1/32", "10.0.0.2/31", "10.0.1.0/24"),
					AvoidBuggyIPs: true,
				},
			},
		},
		{
			name: "adjacent pools do not overlap",
			pools: []v1beta1.IPAddressPool{
				ipPool("a", "10.0.0.0-10.0.0.127"),
				ipPool("b", "10.0.0.128/25"),
			},
			want: map[string]*Pool{
				"a": {Name: "a", CIDRs: prefixes("10.0.0.0/25"), AutoAssign: true},
				"b": {Name: "b", CIDRs: prefixes("10.0.0.128/25"), AutoAssign: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, Resources{Pools: tt.pools})
			if diff := cmp.Diff(tt.want, cfg.Pools, cmpOptions); diff != "" {
				t.Errorf("pools (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoolErrors(t *testing.T) {
	tests := []struct {
		name  string
		pools []v1beta1.IPAddressPool
		want  []string
	}{
		{
			name:  "no addresses",
			pools: []v1beta1.IPAddressPool{ipPool("empty")},
			want:  []string{`IPAddressPool "empty": spec.addresses: Required value: pool has no prefixes defined`},
		},
		{
			name:  "missing name",
			pools: []v1beta1.IPAddressPool{ipPool("", "10.0.0.0/24")},
			want:  []string{`IPAddressPool "": metadata.name: Required value: missing pool name`},
		},
		{
			name:  "duplicate name",
			pools: []v1beta1.IPAddressPool{ipPool("blue", "10.0.0.0/24"), ipPool("blue", "10.0.1.0/24")},
			want:  []string{`IPAddressPool "blue": metadata.name: Duplicate value: "blue": duplicate definition of pool "blue"`},
		},
		{
			name:  "every invalid entry is reported",
			pools: []v1beta1.IPAddressPool{ipPool("blue", "10.0.0.0/24", "10.0.1.300/24", "10.0.2.9-10.0.2.1")},
			want: []string{
				`IPAddressPool "blue": spec.addresses[1]: Invalid value: "10.0.1.300/24": invalid CIDR "10.0.1.300/24" in pool "blue": invalid CIDR "10.0.1.300/24"`,
				`IPAddressPool "blue": spec.addresses[2]: Invalid value: "10.0.2.9-10.0.2.1": invalid CIDR "10.0.2.9-10.0.2.1" in pool "blue": invalid IP range "10.0.2.9-10.0.2.1": start IP "10.0.2.9" is after the end IP "10.0.2.1"`,
			},
		},
		{
			name:  "overlap within a pool",
			pools: []v1beta1.IPAddressPool{ipPool("blue", "10.0.0.0/16", "10.0.3.0/24")},
			want:  []string{`IPAddressPool "blue": spec.addresses[1]: Invalid value: "10.0.3.0/24": CIDR "10.0.3.0/24" in pool "blue" overlaps with already defined CIDR "10.0.0.0/16"`},
		},
		{
			name:  "overlap across pools is reported on the pool that sorts last",
			pools: []v1beta1.IPAddressPool{ipPool("red", "10.0.0.5-10.0.0.9"), ipPool("blue", "10.0.0.0/29")},
			want:  []string{`IPAddressPool "red": spec.addresses[0]: Invalid value: "10.0.0.5-10.0.0.9": CIDR "10.0.0.5/32" in pool "red" overlaps with already defined CIDR "10.0.0.0/29"`},
		},
		{
			name:  "the same IPv6 CIDR twice",
			pools: []v1beta1.IPAddressPool{ipPool("blue", "fc00::/64", "fc00::/64")},
			want:  []string{`IPAddressPool "blue": spec.addresses[1]: Invalid value: "fc00::/64": CIDR "fc00::/64" in pool "blue" overlaps with already defined CIDR "fc00::/64"`},
		},
		{
			name: "duplicate namespace",
			pools: []v1beta1.IPAddressPool{allocated(ipPool("blue", "10.0.0.0/24"),
				v1beta1.ServiceAllocation{Namespaces: []string{"a", "b", "a"}})},
			want: []string{`IPAddressPool "blue": spec.serviceAllocation.namespaces[2]: Duplicate value: "a": duplicate definition in namespaces field`},
		},
		{
			name: "negative priority",
			pools: []v1beta1.IPAddressPool{allocated(ipPool("blue", "10.0.0.0/24"),
				v1beta1.ServiceAllocation{Priority: -1})},
			want: []string{`IPAddressPool "blue": spec.serviceAllocation.priority: Invalid value: -1: must not be negative (0 means no priority)`},
		},
		{
			name: "duplicate selectors",
			pools: []v1beta1.IPAddressPool{allocated(ipPool("blue", "10.0.0.0/24"), v1beta1.ServiceAllocation{
				NamespaceSelectors: []metav1.LabelSelector{selector(map[string]string{"team": "a"}), selector(map[string]string{"team": "a"})},
				ServiceSelectors:   []metav1.LabelSelector{selector(map[string]string{"app": "web"}), selector(map[string]string{"app": "web"})},
			})},
			want: []string{
				`IPAddressPool "blue": spec.serviceAllocation.namespaceSelectors[1]: Duplicate value: "team=a": duplicate definition of namespaceSelectors "team=a"`,
				`IPAddressPool "blue": spec.serviceAllocation.serviceSelectors[1]: Duplicate value: "app=web": duplicate definition of serviceSelectors "app=web"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, Resources{Pools: tt.pools})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceAllocation(t *testing.T) {
	namespaces := []corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "web-prod", Labels: map[string]string{"team": "web", "env": "prod"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "web-dev", Labels: map[string]string{"team": "web", "env": "dev"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: map[string]string{"team": "db"}}},
	}
	tests := []struct {
		name       string
		allocation v1beta1.ServiceAllocation
		want       *ServiceAllocation
	}{
		{
			name:       "priority only: every Service",
			allocation: v1beta1.ServiceAllocation{Priority: 3},
			want:       &ServiceAllocation{Priority: 3, AllNamespaces: true},
		},
		{
			name:       "namespaces, sorted",
			allocation: v1beta1.ServiceAllocation{Namespaces: []string{"z", "a"}},
			want:       &ServiceAllocation{Namespaces: []string{"a", "z"}},
		},
		{
			name: "namespace selectors resolved and merged with namespaces",
			allocation: v1beta1.ServiceAllocation{
				Namespaces: []string{"db", "other"},
				NamespaceSelectors: []metav1.LabelSelector{{
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}},
				}},
			},
			want: &ServiceAllocation{Namespaces: []string{"db", "other", "web-dev", "web-prod"}},
		},
		{
			name:       "namespace selector matching no namespace: no namespace at all",
			allocation: v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{selector(map[string]string{"team": "none"})}},
			want:       &ServiceAllocation{},
		},
		{
			name:       "service selectors only: every namespace",
			allocation: v1beta1.ServiceAllocation{ServiceSelectors: []metav1.LabelSelector{selector(map[string]string{"app": "web"})}},
			want:       &ServiceAllocation{AllNamespaces: true, ServiceSelectors: []labels.Selector{mustSelector(t, "app=web")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ipPool("blue", "10.0.0.0/24")
			p.Spec.AllocateTo = &tt.allocation
			cfg := mustParse(t, Resources{Pools: []v1beta1.IPAddressPool{p}, Namespaces: namespaces})
			if diff := cmp.Diff(tt.want, cfg.Pools["blue"].ServiceAllocation, cmpOptions); diff != "" {
				t.Errorf("service allocation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	pools := []v1beta1.IPAddressPool{
		withAddresses(ipPool("open-b"), "10.0.1.0/24"),
		withAddresses(ipPool("open-a"), "10.0.2.0/24"),
		manual(withAddresses(ipPool("manual"), "10.0.3.0/24")),
		allocated(withAddresses(ipPool("everyone-p0"), "10.0.4.0/24"), v1beta1.ServiceAllocation{}),
		allocated(withAddresses(ipPool("everyone-p2"), "10.0.5.0/24"), v1beta1.ServiceAllocation{Priority: 2}),
		allocated(withAddresses(ipPool("web-p1"), "10.0.6.0/24"), v1beta1.ServiceAllocation{
			Priority: 1, Namespaces: []string{"web"},
		}),
		allocated(withAddresses(ipPool("web-frontend-p1"), "10.0.7.0/24"), v1beta1.ServiceAllocation{
			Priority: 1, Namespaces: []string{"web"}, ServiceSelectors: []metav1.LabelSelector{selector(map[string]string{"tier": "frontend"})},
		}),
		allocated(withAddresses(ipPool("labelled-ns"), "10.0.8.0/24"), v1beta1.ServiceAllocation{
			NamespaceSelectors: []metav1.LabelSelector{selector(map[string]string{"pool": "labelled"})},
		}),
		allocated(withAddresses(ipPool("no-ns-yet"), "10.0.9.0/24"), v1beta1.ServiceAllocation{
			NamespaceSelectors: []metav1.LabelSelector{selector(map[string]string{"pool": "none"})},
		}),
		manual(allocated(withAddresses(ipPool("web-manual"), "10.0.10.0/24"), v1beta1.ServiceAllocation{Namespaces: []string{"web"}})),
	}
	namespaces := []corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "labelled", Labels: map[string]string{"pool": "labelled"}}},
	}
	cfg := mustParse(t, Resources{Pools: pools, Namespaces: namespaces})

	tests := []struct {
		name          string
		namespace     string
		serviceLabels labels.Set
		want          [2][]string
	}{
		{
			name:      "pinned by priority, then 0, then name; unrestricted by name",
			namespace: "web",
			want: [2][]string{
				{"web-p1", "everyone-p2", "everyone-p0"},
				{"open-a", "open-b"},
			},
		},
		{
			name:          "service selectors add a pool of the same priority, ordered by name",
			namespace:     "web",
			serviceLabels: labels.Set{"tier": "frontend"},
			want: [2][]string{
				{"web-frontend-p1", "web-p1", "everyone-p2", "everyone-p0"},
				{"open-a", "open-b"},
			},
		},
		{
			name:      "namespace matched by selector",
			namespace: "labelled",
			want: [2][]string{
				{"everyone-p2", "everyone-p0", "labelled-ns"},
				{"open-a", "open-b"},
			},
		},
		{
			name:      "other namespace",
			namespace: "default",
			want: [2][]string{
				{"everyone-p2", "everyone-p0"},
				{"open-a", "open-b"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cfg.Candidates(tt.namespace, tt.serviceLabels)
			if diff := cmp.Diff(tt.want, [2][]string{poolNames(got.Pinned), poolNames(got.Unrestricted)}); diff != "" {
				t.Errorf("candidates [pinned, unrestricted] (-want +got):\n%s", diff)
			}
		})
	}
}

func withAddresses(p v1beta1.IPAddressPool, addresses ...string) v1beta1.IPAddressPool {
	p.Spec.Addresses = addresses
	return p
}

func manual(p v1beta1.IPAddressPool) v1beta1.IPAddressPool {
	p.Spec.AutoAssign = new(false)
	return p
}

func allocated(p v1beta1.IPAddressPool, a v1beta1.ServiceAllocation) v1beta1.IPAddressPool {
	p.Spec.AllocateTo = &a
	return p
}

func poolNames(pools []*Pool) []string {
	var names []string
	for _, p := range pools {
		names = append(names, p.Name)
	}
	return names
}

func TestPoolAllows(t *testing.T) {
	cfg := mustParse(t, Resources{Pools: []v1beta1.IPAddressPool{
		withAddresses(ipPool("open"), "10.0.1.0/24"),
		allocated(withAddresses(ipPool("web"), "10.0.2.0/24"), v1beta1.ServiceAllocation{
			Namespaces: []string{"web"}, ServiceSelectors: []metav1.LabelSelector{selector(map[string]string{"app": "shop"})},
		}),
		allocated(withAddresses(ipPool("no-ns-yet"), "10.0.3.0/24"), v1beta1.ServiceAllocation{
			NamespaceSelectors: []metav1.LabelSelector{selector(map[string]string{"pool": "none"})},
		}),
	}})
	tests := []struct {
		pool, namespace string
		serviceLabels   labels.Set
		want            bool
	}{
		{pool: "open", namespace: "any", want: true},
		{pool: "web", namespace: "web", serviceLabels: labels.Set{"app": "shop"}, want: true},
		{pool: "web", namespace: "web", serviceLabels: labels.Set{"app": "blog"}, want: false},
		{pool: "web", namespace: "other", serviceLabels: labels.Set{"app": "shop"}, want: false},
		// MetalLB lets any namespace ask for such a pool; a namespace restriction stays one.
		{pool: "no-ns-yet", namespace: "any", want: false},
	}
	for _, tt := range tests {
		if got := cfg.Pools[tt.pool].Allows(tt.namespace, tt.serviceLabels); got != tt.want {
			t.Errorf("pool %q Allows(%q, %v) = %v, want %v", tt.pool, tt.namespace, tt.serviceLabels, got, tt.want)
		}
	}
}

func TestPoolFor(t *testing.T) {
	buggy := withAddresses(ipPool("buggy"), "10.0.2.0/23")
	buggy.Spec.AvoidBuggyIPs = true
	cfg := mustParse(t, Resources{Pools: []v1beta1.IPAddressPool{
		withAddresses(ipPool("v4"), "10.0.0.0/24"),
		buggy,
		withAddresses(ipPool("v6"), "fc00::/120", "fc00::1:0-fc00::1:ff"),
	}})
	tests := []struct {
		addr string
		want string
	}{
		{addr: "10.0.0.0", want: "v4"},
		{addr: "10.0.0.255", want: "v4"},
		{addr: "::ffff:10.0.0.7", want: "v4"},
		{addr: "10.0.2.1", want: "buggy"},
		{addr: "10.0.3.254", want: "buggy"},
		{addr: "10.0.2.0", want: ""},
		{addr: "10.0.2.255", want: ""},
		{addr: "10.0.3.0", want: ""},
		{addr: "fc00::ff", want: "v6"},
		{addr: "fc00::1:ff", want: "v6"},
		{addr: "fc00::2:0", want: ""},
		{addr: "192.0.2.1", want: ""},
	}
	for _, tt := range tests {
		got := ""
		if pool := cfg.PoolFor(netip.MustParseAddr(tt.addr)); pool != nil {
			got = pool.Name
		}
		if got != tt.want {
			t.Errorf("PoolFor(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestPrefixSet(t *testing.T) {
	// Against a linear scan, over random prefixes of both families crowded into small spaces.
	rng := rand.New(rand.NewPCG(5, 6))
	randomPrefix := func() netip.Prefix {
		if rng.IntN(2) == 0 {
			addr := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
			return netip.PrefixFrom(addr, 22+rng.IntN(11)).Masked()
		}
		addr := netip.AddrFrom16([16]byte{0xfc, 15: byte(rng.IntN(256))})
		return netip.PrefixFrom(addr, 118+rng.IntN(11)).Masked()
	}
	var set prefixSet
	var added []netip.Prefix
	for range 3000 {
		p := randomPrefix()
		other, found := set.overlapping(p)
		wantFound := slices.ContainsFunc(added, p.Overlaps)
		if found != wantFound || (found && !other.Overlaps(p)) {
			t.Fatalf("overlapping(%v) = %v, %v; a scan of %v finds an overlap: %v", p, other, found, added, wantFound)
		}
		if !found {
			set.add(p)
			added = append(added, p)
		}
	}
}
