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
	"fmt"
	"net/netip"
	"strings"
)

// parseAddresses parses one entry of an IPAddressPool's spec.addresses: a CIDR ("192.168.1.0/24") or an
// inclusive range of addresses of one family ("192.168.1.10 - 192.168.1.20"), and returns the fewest prefixes
// that hold exactly those addresses. The messages are MetalLB's.
func parseAddresses(entry string) ([]netip.Prefix, error) {
	from, to, isRange := strings.Cut(entry, "-")
	if !isRange {
		prefix, err := netip.ParsePrefix(entry)
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR %q", entry)
		}
		// Like net.ParseCIDR, which MetalLB uses, accept host bits ("10.0.0.1/24" is 10.0.0.0/24).
		return []netip.Prefix{unmapPrefix(prefix).Masked()}, nil
	}

	start, ok := parseIP(strings.TrimSpace(from))
	if !ok {
		return nil, fmt.Errorf("invalid IP range %q: invalid start IP %q", entry, from)
	}
	end, ok := parseIP(strings.TrimSpace(to))
	if !ok {
		return nil, fmt.Errorf("invalid IP range %q: invalid end IP %q", entry, to)
	}
	if start.Is4() != end.Is4() {
		return nil, fmt.Errorf("invalid IP range %q: start IP %q and end IP %q are not of the same family", entry, start, end)
	}
	if start.Compare(end) > 0 {
		return nil, fmt.Errorf("invalid IP range %q: start IP %q is after the end IP %q", entry, start, end)
	}
	return summarize(start, end), nil
}

// parseIP parses an IP address as net.ParseIP does: no IPv6 zone, and IPv4-mapped IPv6 addresses
// (::ffff:10.0.0.1) are IPv4 addresses.
func parseIP(s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/120) into the IPv4 prefix it denotes
// (10.0.0.0/24), so that it is compared, and overlaps, as an IPv4 prefix.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	const mappedBits = 96 // ::ffff:0:0/96 holds the IPv4-mapped addresses (RFC 4291 §2.5.5.2)
	if !p.Addr().Is4In6() || p.Bits() < mappedBits {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-mappedBits)
}

// summarize returns the fewest prefixes that hold exactly the addresses from start to end, in ascending
// order. start and end are of the same family and start <= end.
func summarize(start, end netip.Addr) []netip.Prefix {
	var prefixes []netip.Prefix
	for {
		p := largestPrefixAt(start, end)
		prefixes = append(prefixes, p)
		last := lastAddr(p)
		// Stop on reaching end rather than when passing it: past the last address of the family there is
		// nothing to compare with (Next returns the zero Addr).
		if last == end {
			return prefixes
		}
		start = last.Next()
	}
}

// largestPrefixAt returns the largest prefix that starts at start and ends at or before end. The
// single-address prefix always qualifies, so the loop ends.
func largestPrefixAt(start, end netip.Addr) netip.Prefix {
	for bits := 0; ; bits++ {
		p := netip.PrefixFrom(start, bits).Masked()
		if p.Addr() == start && lastAddr(p).Compare(end) <= 0 {
			return p
		}
	}
}

// lastAddr returns the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	addr, _ := netip.AddrFromSlice(b)
	return addr
}
