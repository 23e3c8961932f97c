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
	"net/netip"
	"strings"
	"testing"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// FuzzParsePoolAddresses checks that Parse does not panic on any pool addresses, and that whatever it accepts
// is a set of canonical, non-overlapping prefixes, each range summarised exactly.
func FuzzParsePoolAddresses(f *testing.F) {
	for _, seed := range [][3]string{
		{"10.0.0.0/24", "10.0.1.1-10.0.1.6", "fc00::1 - fc00::10"},
		{"::ffff:10.0.0.0/120", "10.0.0.0/24", "10.0.0.255-10.0.1.0"},
		{"0.0.0.0-255.255.255.255", "::/0", "fe80::1%eth0-fe80::2"},
		{"10.0.0.5-10.0.0.1", "10.0.0.1-fc00::1", "1.2.3.4/33"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		cfg, err := Parse(Resources{Pools: []v1beta1.IPAddressPool{ipPool("one", a, b), ipPool("two", c)}})
		if err != nil {
			return
		}
		var all []netip.Prefix
		for _, pool := range cfg.Pools {
			for _, p := range pool.CIDRs {
				if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
					t.Fatalf("pool %q has a non-canonical prefix %v", pool.Name, p)
				}
				for _, q := range all {
					if p.Overlaps(q) {
						t.Fatalf("accepted overlapping prefixes %v and %v", p, q)
					}
				}
				all = append(all, p)
			}
		}
		for _, entry := range []string{a, b, c} {
			checkSummary(t, entry)
		}
	})
}

// checkSummary checks that the prefixes of a range entry are contiguous, ascending, and cover exactly the range.
func checkSummary(t *testing.T, entry string) {
	from, to, isRange := strings.Cut(entry, "-")
	if !isRange {
		return
	}
	prefixes, err := parseAddresses(entry)
	if err != nil {
		return
	}
	start, _ := parseIP(strings.TrimSpace(from))
	end, _ := parseIP(strings.TrimSpace(to))
	if prefixes[0].Addr() != start || lastAddr(prefixes[len(prefixes)-1]) != end {
		t.Fatalf("%q: prefixes %v do not span %v to %v", entry, prefixes, start, end)
	}
	for i := 1; i < len(prefixes); i++ {
		if prefixes[i].Addr() != lastAddr(prefixes[i-1]).Next() {
			t.Fatalf("%q: prefixes %v are not contiguous", entry, prefixes)
		}
	}
}

// FuzzParseCommunities checks that Parse does not panic on any community alias or advertised community, and
// that every community it accepts prints in a form that parses back to it.
func FuzzParseCommunities(f *testing.F) {
	for _, seed := range [][3]string{
		{"no-export", "65535:65281", "no-export"},
		{"big", "large:1:2:3", "65000:100"},
		{"x", "1:2:3", "large:4294967295:0:0"},
		{"1:1", "2:2", "1:1"},
		{"", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], false)
	}
	f.Fuzz(func(t *testing.T, aliasName, aliasValue, advertised string, withoutTransient bool) {
		var opts []Option
		if withoutTransient {
			opts = append(opts, WithoutTransientReferences())
		}
		cfg, err := Parse(Resources{
			Communities:       []v1beta1.Community{community("c", v1beta1.CommunityAlias{Name: aliasName, Value: aliasValue})},
			BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdvertisement("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{advertised}})},
		}, opts...)
		if err != nil {
			return
		}
		adv := cfg.BGPAdvertisements["adv"]
		var parsed []Community
		for _, c := range adv.Communities {
			parsed = append(parsed, c)
		}
		for _, c := range adv.LargeCommunities {
			parsed = append(parsed, c)
		}
		if len(parsed) > 1 {
			t.Fatalf("one community string gave %v", parsed)
		}
		for _, c := range parsed {
			again, err := parseCommunity(c.String())
			if err != nil || again != c {
				t.Fatalf("%v prints as %q, which parses to %v, %v", c, c.String(), again, err)
			}
		}
	})
}
