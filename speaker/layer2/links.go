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
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
)

// DefaultExcludePatterns are MetalLB's default announcedInterfacesToExclude: container, bridge and tunnel
// interfaces on which announcing a load-balancer address would at best be useless (reference §5.1).
var DefaultExcludePatterns = []string{
	`^docker.*`, `^cbr.*`, `^dummy.*`, `^virbr.*`, `^lxcbr.*`, `^veth.*`, `^lo$`, `^cali.*`, `^tunl.*`,
	`^flannel.*`, `^kube-ipvs.*`, `^cni.*`, `^nodelocaldns.*`, `^lxc.*`,
}

// Link is what a scan learns about one network interface.
type Link struct {
	Name         string
	Index        int
	HardwareAddr net.HardwareAddr
	// Flags are the interface flags; FlagUp and FlagBroadcast matter.
	Flags net.Flags
	// NoARP is the IFF_NOARP flag (0x80 in /sys/class/net/<if>/flags), which net.Flags lacks.
	NoARP bool
	// Enslaved is true when the interface has a master (/sys/class/net/<if>/master): a bond or bridge
	// port, whose master answers instead.
	Enslaved bool
	// LinkLocal is the interface's first IPv6 link-local unicast address, invalid if it has none.
	LinkLocal netip.Addr
}

// roles says which responders a link gets.
type roles struct {
	arp, ndp bool
}

// qualify returns the responders a link gets: none unless it is up, not excluded, not enslaved and without
// NOARP; ARP if it has the BROADCAST flag; NDP if it has an IPv6 link-local address. Both need a 6-byte
// Ethernet address, the only link layer whose replies we know how to build.
func qualify(l Link, exclude []*regexp.Regexp) roles {
	if l.Flags&net.FlagUp == 0 || l.NoARP || l.Enslaved || len(l.HardwareAddr) != 6 {
		return roles{}
	}
	if slices.ContainsFunc(exclude, func(re *regexp.Regexp) bool { return re.MatchString(l.Name) }) {
		return roles{}
	}
	return roles{
		arp: l.Flags&net.FlagBroadcast != 0,
		ndp: l.LinkLocal.IsValid() && l.LinkLocal.Is6() && l.LinkLocal.IsLinkLocalUnicast(),
	}
}

// compilePatterns compiles exclude patterns.
func compilePatterns(patterns []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("compiling interface exclude pattern %q: %w", p, err)
		}
		res = append(res, re)
	}
	return res, nil
}
