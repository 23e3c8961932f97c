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

// Package layer2 announces a node's load-balancer addresses on the local link: it answers ARP requests
// (RFC 826) and IPv6 Neighbor Solicitations (RFC 4861) for the addresses the node owns, and sends gratuitous
// ARP and unsolicited Neighbor Advertisements when it takes an address over.
//
// The speaker glue decides ownership (internal/election) and tells an Announcer: SetOwned when the node wins
// an address, Withdraw when it loses it. Ownership changes take effect at once: once Withdraw returns, no
// reply or gratuitous packet for the address leaves the node. The Announcer runs one ARP responder per
// interface that has the BROADCAST flag and one NDP responder per interface that has an IPv6 link-local
// address, among the interfaces that qualify: up, not matching an exclude pattern, not enslaved to a bond
// or bridge, without NOARP. Interfaces are rescanned every 10 s and on demand.
//
// It answers from user space over raw sockets, like MetalLB: ARP over an AF_PACKET socket bound to the ARP
// EtherType (mdlayher/packet, the socket mdlayher/arp dials) and NDP over a raw ICMPv6 socket
// (mdlayher/ndp), so it needs CAP_NET_RAW only, leaves nothing behind on a crash, and never adds the
// addresses to an interface. The socket code is Linux-only (sys_linux.go); elsewhere New works and Run
// reports that no interface can be opened, so the module builds and vets anywhere.
//
// Decisions about single packets (is this a request we answer, what is the reply) are pure functions over
// bytes, fuzzed by FuzzARPHandle and FuzzNDPHandle. Time comes from an injected k8s.io/utils/clock.
//
// The package must not import client-go, controller-runtime or internal/election: it knows addresses and
// interfaces, not Services or Nodes. layer2test holds an in-memory Announcer for the glue's unit tests.
package layer2
