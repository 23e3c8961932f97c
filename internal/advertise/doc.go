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

// Package advertise decides what a node announces over BGP: whether it announces a Service at all (and if
// not, MetalLB's reason), which prefix each of the Service's addresses becomes, with which LOCAL_PREF and
// communities, and to which peers (reference §5.6).
//
// ForService answers for one Service on one node; Table merges the answers for every Service into the set of
// routes each peer session carries, and ServicePeers names the peers a Service is announced to, for its
// ServiceBGPStatus. Every node that may announce does (ECMP): unlike layer 2 there is no election.
//
// The package is pure: it imports the standard library, k8s.io/api and k8s.io/apimachinery types and
// internal/config only. It must not import client-go, controller-runtime, GoBGP, netlink or anything that
// opens a socket; it does no I/O and keeps no state between calls.
package advertise
