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
	"bytes"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// arpConn sends and receives raw Ethernet frames of the ARP EtherType on one interface.
type arpConn interface {
	// ReadFrame reads one frame into b.
	ReadFrame(b []byte) (int, error)
	// WriteFrame sends a whole Ethernet frame to dst.
	WriteFrame(b []byte, dst net.HardwareAddr) error
	Close() error
}

// arpResponder answers ARP on one interface.
type arpResponder struct {
	name string
	mac  net.HardwareAddr
	conn arpConn
}

// Fields of an ARP packet over Ethernet for IPv4 (RFC 826).
const (
	arpHardwareEthernet = 1
	arpHeaderLen        = 8
)

// parseARPRequest returns the ARP request a received frame carries, if it is one a responder may answer:
// an Ethernet/IPv4 request, untagged (a tagged frame belongs to the VLAN interface's own responder), sent
// to broadcast or to mac and not by mac itself (AF_PACKET sockets also see outgoing frames), asking for an
// IPv4 address other than the sender's own. Requests whose sender and target are the same address are
// gratuitous announcements, not questions; requests from 0.0.0.0 are RFC 5227 probes, which the owner
// answers to defend the address.
func parseARPRequest(frame []byte, mac net.HardwareAddr) (*arp.Packet, bool) {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil {
		return nil, false
	}
	if f.EtherType != ethernet.EtherTypeARP || f.VLAN != nil || bytes.Equal(f.Source, mac) ||
		!bytes.Equal(f.Destination, ethernet.Broadcast) && !bytes.Equal(f.Destination, mac) {
		return nil, false
	}
	// Packet.UnmarshalBinary sizes addresses by the lengths in the header; check them first.
	if len(f.Payload) < arpHeaderLen || f.Payload[4] != 6 || f.Payload[5] != 4 {
		return nil, false
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(f.Payload); err != nil {
		return nil, false
	}
	if p.Operation != arp.OperationRequest || p.HardwareType != arpHardwareEthernet ||
		p.ProtocolType != uint16(ethernet.EtherTypeIPv4) || !p.TargetIP.Is4() || p.SenderIP == p.TargetIP ||
		isGroupAddr(p.SenderHardwareAddr) {
		return nil, false
	}
	return &p, true
}

// isGroupAddr reports whether a hardware address is multicast or broadcast: no request comes from one,
// and replying to one would flood the link.
func isGroupAddr(mac net.HardwareAddr) bool {
	return len(mac) > 0 && mac[0]&0x01 != 0
}

// arpFrame returns an Ethernet frame from mac to dst carrying an ARP packet.
func arpFrame(op arp.Operation, mac net.HardwareAddr, senderIP netip.Addr, targetMAC net.HardwareAddr, targetIP netip.Addr, dst net.HardwareAddr) ([]byte, error) {
	p, err := arp.NewPacket(op, mac, senderIP, targetMAC, targetIP)
	if err != nil {
		return nil, err
	}
	payload, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	f := ethernet.Frame{Destination: dst, Source: mac, EtherType: ethernet.EtherTypeARP, Payload: payload}
	return f.MarshalBinary()
}

// arpReply returns the reply to a request for ip, unicast to the requester, as RFC 826 has it.
func arpReply(req *arp.Packet, mac net.HardwareAddr) ([]byte, error) {
	return arpFrame(arp.OperationReply, mac, req.TargetIP, req.SenderHardwareAddr, req.SenderIP, req.SenderHardwareAddr)
}

// gratuitousARP returns the two frames of one gratuitous round for ip: a request and a reply, both with
// sender and target address ip, to broadcast. Some hosts update their caches only on requests, others only
// on replies (metallb#172, kube-vip#80), so both go out.
func gratuitousARP(ip netip.Addr, mac net.HardwareAddr) ([][]byte, error) {
	var frames [][]byte
	for _, op := range []arp.Operation{arp.OperationRequest, arp.OperationReply} {
		f, err := arpFrame(op, mac, ip, ethernet.Broadcast, ip, ethernet.Broadcast)
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
	return frames, nil
}
