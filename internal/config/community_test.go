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
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

func TestParseCommunity(t *testing.T) {
	tests := []struct {
		in      string
		want    Community
		wantErr string
	}{
		{in: "65535:65282", want: StandardCommunity(0xffff_ff02)},
		{in: "0:0", want: StandardCommunity(0)},
		{in: "007:1", want: StandardCommunity(7<<16 | 1)},
		{in: "large:4294967295:0:1", want: LargeCommunity{GlobalAdmin: 4294967295, LocalData1: 0, LocalData2: 1}},
		{in: "65536:1", wantErr: `invalid community value: invalid section "65536" of community "65536:1", err: "strconv.ParseUint: parsing \"65536\": value out of range"`},
		{in: "1:-1", wantErr: `invalid community value: invalid section "-1" of community "1:-1", err: "strconv.ParseUint: parsing \"-1\": invalid syntax"`},
		{in: "1:", wantErr: `invalid community value: invalid section "" of community "1:", err: "strconv.ParseUint: parsing \"\": invalid syntax"`},
		{in: "large:1:2:4294967296", wantErr: `invalid community value: invalid section "4294967296" of community "large:1:2:4294967296", err: "strconv.ParseUint: parsing \"4294967296\": value out of range"`},
		{in: "big:1:2:3", wantErr: `invalid community value: invalid marker for large community, expected community to be of format large:<uint32>:<uint32>:<uint32> but got "big:1:2:3" instead`},
		{in: "1:2:3", wantErr: `invalid community format: 1:2:3`},
		{in: "no-export", wantErr: `invalid community format: no-export`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCommunity(tt.in)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("community (-want +got):\n%s", diff)
			}
			if err == nil && got.String() != canonicalCommunity(tt.in) {
				t.Errorf("String() = %q, want %q", got.String(), canonicalCommunity(tt.in))
			}
		})
	}
}

// canonicalCommunity is how the communities of TestParseCommunity print.
func canonicalCommunity(s string) string {
	if s == "007:1" {
		return "7:1"
	}
	return s
}

func community(name string, aliases ...v1beta1.CommunityAlias) v1beta1.Community {
	return v1beta1.Community{ObjectMeta: objectMeta(name), Spec: v1beta1.CommunitySpec{Communities: aliases}}
}

func TestCommunityAliases(t *testing.T) {
	tests := []struct {
		name        string
		communities []v1beta1.Community
		want        map[string]Community
		wantErr     []string
	}{
		{
			name: "aliases of several objects",
			communities: []v1beta1.Community{
				community("b", v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"}),
				community("a", v1beta1.CommunityAlias{Name: "big", Value: "large:1:2:3"}),
			},
			want: map[string]Community{"no-export": StandardCommunity(0xffff_ff01), "big": LargeCommunity{1, 2, 3}},
		},
		{
			name: "alias defined twice across objects, reported on the object that sorts last",
			communities: []v1beta1.Community{
				community("b", v1beta1.CommunityAlias{Name: "x", Value: "1:1"}),
				community("a", v1beta1.CommunityAlias{Name: "x", Value: "1:2"}),
			},
			wantErr: []string{`Community "b": spec.communities[0].name: Duplicate value: "x": duplicate definition of community "x"`},
		},
		{
			name: "invalid values, and a duplicate of an invalid alias",
			communities: []v1beta1.Community{community("a",
				v1beta1.CommunityAlias{Name: "x", Value: "1:99999"},
				v1beta1.CommunityAlias{Name: "y", Value: "oops"},
				v1beta1.CommunityAlias{Name: "x", Value: "1:1"},
			)},
			wantErr: []string{
				`Community "a": spec.communities[0].value: Invalid value: "1:99999": parsing community "x": invalid community value: invalid section "99999" of community "1:99999", err: "strconv.ParseUint: parsing \"99999\": value out of range"`,
				`Community "a": spec.communities[1].value: Invalid value: "oops": parsing community "y": invalid community format: oops`,
				`Community "a": spec.communities[2].name: Duplicate value: "x": duplicate definition of community "x"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(Resources{Communities: tt.communities})
			if diff := cmp.Diff(tt.wantErr, errorLines(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, cfg.Communities); diff != "" {
				t.Errorf("aliases (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdvertisedCommunities(t *testing.T) {
	aliases := community("aliases",
		v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"},
		v1beta1.CommunityAlias{Name: "big", Value: "large:1:2:3"},
		// An alias may look like a value: the alias wins, as in MetalLB.
		v1beta1.CommunityAlias{Name: "1:1", Value: "2:2"},
	)
	tests := []struct {
		name          string
		communities   []string
		wantStandard  []StandardCommunity
		wantLarge     []LargeCommunity
		wantErr       []string
		wantTransient bool
	}{
		{
			name:         "values and aliases, sorted, repeats removed",
			communities:  []string{"65535:65281", "large:9:9:9", "no-export", "big", "100:1", "1:1"},
			wantStandard: []StandardCommunity{2<<16 | 2, 100<<16 | 1, 0xffff_ff01},
			wantLarge:    []LargeCommunity{{1, 2, 3}, {9, 9, 9}},
		},
		{
			name:          "unknown alias is transient",
			communities:   []string{"later"},
			wantTransient: true,
			wantErr:       []string{`BGPAdvertisement "adv": spec.communities[0]: Not found: "later": invalid community "later" in BGP advertisement: invalid community format: later`},
		},
		{
			name:        "bad value is permanent",
			communities: []string{"1:70000", "later"},
			wantErr: []string{
				`BGPAdvertisement "adv": spec.communities[0]: Invalid value: "1:70000": invalid community "1:70000" in BGP advertisement: invalid community value: invalid section "70000" of community "1:70000", err: "strconv.ParseUint: parsing \"70000\": value out of range"`,
				`BGPAdvertisement "adv": spec.communities[1]: Not found: "later": invalid community "later" in BGP advertisement: invalid community format: later`,
			},
		},
		{
			name:        "duplicate",
			communities: []string{"1:2", "1:2"},
			wantErr:     []string{`BGPAdvertisement "adv": spec.communities[1]: Duplicate value: "1:2": duplicate definition of community "1:2"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(Resources{
				Communities:       []v1beta1.Community{aliases},
				BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdvertisement("adv", v1beta1.BGPAdvertisementSpec{Communities: tt.communities})},
			})
			if diff := cmp.Diff(tt.wantErr, errorLines(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				if got := errors.Is(err, ErrTransient); got != tt.wantTransient {
					t.Errorf("errors.Is(err, ErrTransient) = %v, want %v", got, tt.wantTransient)
				}
				return
			}
			adv := cfg.BGPAdvertisements["adv"]
			if diff := cmp.Diff(tt.wantStandard, adv.Communities); diff != "" {
				t.Errorf("standard communities (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLarge, adv.LargeCommunities); diff != "" {
				t.Errorf("large communities (-want +got):\n%s", diff)
			}
		})
	}
}
