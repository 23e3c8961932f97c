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
	"testing"

	"github.com/google/go-cmp/cmp"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestParseAddresses(t *testing.T) {
	tests := []struct {
		name    string
		entry   string
		want    []netip.Prefix
		wantErr string
	}{
		{name: "IPv4 CIDR", entry: "192.168.1.0/24", want: prefixes("192.168.1.0/24")},
		{name: "host bits are masked, as net.ParseCIDR does", entry: "192.168.1.7/24", want: prefixes("192.168.1.0/24")},
		{name: "single IPv4 address", entry: "192.168.1.7/32", want: prefixes("192.168.1.7/32")},
		{name: "IPv6 CIDR", entry: "fc00:f853:ccd:e799::/124", want: prefixes("fc00:f853:ccd:e799::/124")},
		{name: "IPv4-mapped IPv6 CIDR is IPv4", entry: "::ffff:10.0.0.0/120", want: prefixes("10.0.0.0/24")},
		{name: "range that is a CIDR", entry: "10.0.0.0-10.0.0.255", want: prefixes("10.0.0.0/24")},
		{
			name:  "unaligned range, spaces around the dash",
			entry: "10.0.0.1 - 10.0.0.6",
			want:  prefixes("10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"),
		},
		{
			name:  "range across an octet",
			entry: "192.168.1.250-192.168.2.3",
			want:  prefixes("192.168.1.250/31", "192.168.1.252/30", "192.168.2.0/30"),
		},
		{name: "one-address range", entry: "10.0.0.5-10.0.0.5", want: prefixes("10.0.0.5/32")},
		{name: "whole IPv4 space", entry: "0.0.0.0-255.255.255.255", want: prefixes("0.0.0.0/0")},
		{name: "range ending at the last IPv4 address", entry: "255.255.255.253-255.255.255.255", want: prefixes("255.255.255.253/32", "255.255.255.254/31")},
		{name: "IPv6 range", entry: "fc00::1-fc00::10", want: prefixes("fc00::1/128", "fc00::2/127", "fc00::4/126", "fc00::8/125", "fc00::10/128")},
		{name: "whole IPv6 space", entry: "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: prefixes("::/0")},
		{name: "IPv4-mapped range is IPv4", entry: "::ffff:10.0.0.0-::ffff:10.0.0.3", want: prefixes("10.0.0.0/30")},

		{name: "not an address", entry: "foo", wantErr: `invalid CIDR "foo"`},
		{name: "prefix too long", entry: "10.0.0.0/33", wantErr: `invalid CIDR "10.0.0.0/33"`},
		{name: "address without length", entry: "10.0.0.1", wantErr: `invalid CIDR "10.0.0.1"`},
		{name: "spaces around a CIDR", entry: " 10.0.0.0/24", wantErr: `invalid CIDR " 10.0.0.0/24"`},
		{name: "bad start", entry: "10.0.0.300-10.0.0.5", wantErr: `invalid IP range "10.0.0.300-10.0.0.5": invalid start IP "10.0.0.300"`},
		{name: "bad end", entry: "10.0.0.1- x", wantErr: `invalid IP range "10.0.0.1- x": invalid end IP " x"`},
		{name: "missing end", entry: "10.0.0.1-", wantErr: `invalid IP range "10.0.0.1-": invalid end IP ""`},
		{name: "zone", entry: "fe80::1%eth0-fe80::2", wantErr: `invalid IP range "fe80::1%eth0-fe80::2": invalid start IP "fe80::1%eth0"`},
		{name: "start after end", entry: "10.0.0.5-10.0.0.1", wantErr: `invalid IP range "10.0.0.5-10.0.0.1": start IP "10.0.0.5" is after the end IP "10.0.0.1"`},
		{
			name:    "families differ",
			entry:   "10.0.0.1-fc00::1",
			wantErr: `invalid IP range "10.0.0.1-fc00::1": start IP "10.0.0.1" and end IP "fc00::1" are not of the same family`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAddresses(tt.entry)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmpOptions); diff != "" {
				t.Errorf("prefixes (-want +got):\n%s", diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
