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
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"net/netip"
)

// hostNetwork is what the adapter asks the host: which local address reaches an address, and which
// addresses share an interface with a local address.
type hostNetwork interface {
	routeSource(dst netip.Addr) (netip.Addr, error)
	interfaceAddrs(local netip.Addr) ([]netip.Addr, error)
}

type systemNetwork struct{}

// routeSource asks the kernel which address it would dial dst from: connecting a UDP socket runs the route
// lookup without sending anything.
func (systemNetwork) routeSource(dst netip.Addr) (netip.Addr, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 179)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("finding the local address towards %s: %w", dst, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// interfaceAddrs returns the addresses of the interface that holds local.
func (systemNetwork) interfaceAddrs(local netip.Addr) ([]netip.Addr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	for _, ifi := range ifaces {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		var all []netip.Addr
		holds := false
		for _, a := range addrs {
			ipnet, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			addr, ok := netip.AddrFromSlice(ipnet.IP)
			if !ok {
				continue
			}
			addr = addr.Unmap()
			holds = holds || addr == local
			all = append(all, addr)
		}
		if holds {
			return all, nil
		}
	}
	return nil, fmt.Errorf("no interface holds %s", local)
}

// routerIDFromName is MetalLB's last-resort router ID: the CRC32 of the node name, little-endian.
func routerIDFromName(name string) netip.Addr {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], crc32.ChecksumIEEE([]byte(name)))
	return netip.AddrFrom4(b)
}
