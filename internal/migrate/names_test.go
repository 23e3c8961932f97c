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

package migrate

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "valid name kept", in: "default", want: "default"},
		{name: "valid with digits and dashes", in: "pool-1-a", want: "pool-1-a"},
		{name: "leading digits dropped", in: "01-numbered-addresspool", want: "numbered-addresspool"},
		{name: "capitals lowered", in: "Capitalized-AddressPool", want: "capitalized-addresspool"},
		{name: "underscores become dashes", in: "underscored_bfd_profile", want: "underscored-bfd-profile"},
		{name: "truncated to 63", in: "tooLongBFDProfileName01-tooLongBFDProfileName02-tooLongBFDProfileName03-tooLongBFDProfileName04",
			want: "toolongbfdprofilename01-toolongbfdprofilename02-toolongbfdprofi"},
		{name: "truncated before leading characters are dropped", in: "0123456789-" + strings.Repeat("a", 60), want: strings.Repeat("a", 52)},
		{name: "single letter", in: "a", want: "a"},
		{name: "single capital", in: "A", want: "a"},
		{name: "dots kept as MetalLB keeps them", in: "Pool.Example", want: "pool.example"},
		{name: "leading dash dropped", in: "-pool", want: "pool"},
		{name: "no letter", in: "1234", wantErr: `name "1234" has no letter`},
		{name: "only underscores and digits", in: "_1_", wantErr: "has no letter"},
		{name: "space left invalid", in: "my pool", wantErr: `name "my pool" becomes "my pool", which is not a valid object name`},
		{name: "trailing dash after truncation", in: strings.Repeat("a", 62) + "_b", wantErr: "which is not a valid object name"},
		{name: "trailing underscore", in: "pool_", wantErr: `becomes "pool-", which is not a valid object name`},
		{name: "slash", in: "team/pool", wantErr: "not a valid object name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NormalizeName(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Normalising is idempotent.
			if again, err := NormalizeName(got); err != nil || again != got {
				t.Errorf("NormalizeName(%q) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestGeneratedNames(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "first peer", got: peerName(0), want: "peer1"},
		{name: "tenth peer", got: peerName(9), want: "peer10"},
		{name: "first L2Advertisement", got: l2AdvertisementName(1), want: "l2advertisement1"},
		{name: "twelfth BGPAdvertisement", got: bgpAdvertisementName(12), want: "bgpadvertisement12"},
		{name: "community", got: communityName, want: "communities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
