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

// Package election decides which node announces a Service's addresses in layer 2 mode.
//
// The rule is MetalLB's (reference §5.4, ShouldAnnounce steps 1–7): among the nodes that run a live speaker,
// are not network-unavailable, are not excluded from external load balancers, are selected by one of the
// L2Advertisements that apply to the Service and, for externalTrafficPolicy Local, host a serving endpoint,
// the node with the highest preference score wins, ties broken by sha256(nodeName + "#" + firstIP) in
// ascending byte order. The first IP is status.loadBalancer.ingress[0], so both addresses of a dual-stack
// Service, and all Services sharing an address, land on the same node. Every speaker evaluates the same
// function on the same inputs, so no coordination is needed: removing a node that does not announce never
// moves an address, and adding one moves it only if the new node sorts first.
//
// Elect names the winner and, for it, the interfaces to announce on; ShouldAnnounce gives one node's view,
// with MetalLB's reason strings (notOwner, noMatchingAdvertisement, sharedIPWithServiceSelector, ...) that
// the speaker puts in its logs and withdraws with. Advertisements computes which L2Advertisements apply to a
// Service from the parsed configuration.
//
// The package is pure: it imports the standard library, k8s.io/api and k8s.io/apimachinery types and
// internal/config only. It must not import client-go, controller-runtime, memberlist, netlink or anything
// that opens a socket; it does no I/O and keeps no state between calls, so it is safe for concurrent use.
package election
