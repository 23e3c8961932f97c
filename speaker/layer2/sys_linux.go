//go:build linux

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
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv6"
)

const (
	// etherTypeARP is the EtherType the ARP socket binds to.
	etherTypeARP = 0x0806
	// iffNoARP is IFF_NOARP in /sys/class/net/<if>/flags.
	iffNoARP = 0x80
	// packetOutgoing is PACKET_OUTGOING, the skb->pkt_type of frames the host sends.
	packetOutgoing = 4
	// arpOpOffset is the offset of the ARP operation in an untagged Ethernet frame.
	arpOpOffset = 14 + 6
)

func defaultSystem() system { return linuxSystem{sysfs: "/sys/class/net"} }

// linuxSystem reads interfaces from net.Interfaces and sysfs, and opens raw sockets.
type linuxSystem struct {
	sysfs string
}

func (s linuxSystem) links() ([]Link, error) {
	ifis, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	links := make([]Link, 0, len(ifis))
	for _, ifi := range ifis {
		l := Link{Name: ifi.Name, Index: ifi.Index, HardwareAddr: ifi.HardwareAddr, Flags: ifi.Flags}
		dir := filepath.Join(s.sysfs, ifi.Name)
		if raw, err := os.ReadFile(filepath.Join(dir, "flags")); err == nil {
			if flags, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 0, 32); err == nil {
				l.NoARP = flags&iffNoARP != 0
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, "master")); err == nil {
			l.Enslaved = true
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, fmt.Errorf("listing addresses of %s: %w", ifi.Name, err)
		}
		for _, a := range addrs {
			ipNet, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if ip, ok := netip.AddrFromSlice(ipNet.IP); ok && ip.Is6() && !ip.Is4In6() && ip.IsLinkLocalUnicast() {
				l.LinkLocal = ip
				break
			}
		}
		links = append(links, l)
	}
	return links, nil
}

// arpFilter keeps, in the kernel, only the ARP requests the host did not send itself: every AF_PACKET
// socket otherwise receives every ARP frame on the link, replies and our own gratuitous packets included,
// which under ARP storms queues requests behind noise (metallb PR #765).
var arpFilter = func() []bpf.RawInstruction {
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 3},
		bpf.LoadAbsolute{Off: arpOpOffset, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(fmt.Sprintf("assembling ARP filter: %v", err))
	}
	return prog
}()

// dialARP opens the AF_PACKET socket mdlayher/arp's Dial opens, without Dial's requirement of an IPv4
// address on the interface: replies are sent from the owned address, never from the interface's own, so
// underlay-only interfaces can answer too (metallb PR #2939). It needs CAP_NET_RAW.
func (linuxSystem) dialARP(l Link) (arpConn, error) {
	ifi, err := net.InterfaceByIndex(l.Index)
	if err != nil {
		return nil, fmt.Errorf("looking up interface %s: %w", l.Name, err)
	}
	conn, err := packet.Listen(ifi, packet.Raw, etherTypeARP, &packet.Config{Filter: arpFilter})
	if err != nil {
		return nil, fmt.Errorf("opening ARP socket on %s: %w", l.Name, err)
	}
	return packetConn{conn}, nil
}

type packetConn struct {
	c *packet.Conn
}

func (p packetConn) ReadFrame(b []byte) (int, error) {
	n, _, err := p.c.ReadFrom(b)
	return n, err
}

func (p packetConn) WriteFrame(b []byte, dst net.HardwareAddr) error {
	_, err := p.c.WriteTo(b, &packet.Addr{HardwareAddr: dst})
	return err
}

func (p packetConn) Close() error { return p.c.Close() }

// dialNDP opens a raw ICMPv6 socket bound to the interface's link-local address (mdlayher/ndp; it needs
// CAP_NET_RAW), receiving Neighbor Solicitations only. Binding fails while the address is tentative (DAD);
// the next scan retries.
func (linuxSystem) dialNDP(l Link) (ndpConn, netip.Addr, error) {
	ifi, err := net.InterfaceByIndex(l.Index)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("looking up interface %s: %w", l.Name, err)
	}
	conn, src, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("opening NDP socket on %s: %w", l.Name, err)
	}
	var filter ipv6.ICMPFilter
	filter.SetAll(true)
	filter.Accept(ipv6.ICMPTypeNeighborSolicitation)
	if err := conn.SetICMPFilter(&filter); err != nil {
		return nil, netip.Addr{}, errors.Join(fmt.Errorf("filtering ICMPv6 on %s: %w", l.Name, err), conn.Close())
	}
	// The hop limit is needed to validate solicitations (RFC 4861 §7.1.1).
	hopLimit := conn.SetControlMessage(ipv6.FlagHopLimit, true) == nil
	return &ndpSocket{c: conn, hopLimit: hopLimit}, src, nil
}

type ndpSocket struct {
	c        *ndp.Conn
	hopLimit bool
}

func (s *ndpSocket) ReadFrom(b []byte) (int, int, netip.Addr, error) {
	n, cm, src, err := s.c.ReadRaw(b)
	if err != nil {
		return 0, 0, netip.Addr{}, err
	}
	hop := -1
	if s.hopLimit && cm != nil {
		hop = cm.HopLimit
	}
	return n, hop, src, nil
}

func (s *ndpSocket) WriteTo(m ndp.Message, dst netip.Addr) error { return s.c.WriteTo(m, nil, dst) }

func (s *ndpSocket) JoinGroup(group netip.Addr) error { return s.c.JoinGroup(group) }

func (s *ndpSocket) LeaveGroup(group netip.Addr) error { return s.c.LeaveGroup(group) }

func (s *ndpSocket) Close() error { return s.c.Close() }
