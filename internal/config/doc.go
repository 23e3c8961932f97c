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

// Package config turns ferrolb's metallb.io objects into one validated, normalised configuration.
//
// It decides, for the controller, the speaker and the webhooks alike, whether a set of IPAddressPools,
// BGPPeers, BFDProfiles, Communities and L2/BGP advertisements is a valid configuration, and what that
// configuration means in net/netip terms: the CIDRs of every pool (ranges summarised), which Services may
// take addresses from which pools and in which order, the resolved parameters of every BGP session, and
// which pools every advertisement announces with which attributes. Every rule exists here once, with
// MetalLB's message text, including the per-object rules the API server already enforces with CEL: objects
// can also arrive through paths that do not validate them, such as migration from the legacy ConfigMap.
//
// Parse reports every problem it finds as a field error of the object that has it, so a webhook can answer
// with the object's field path and the speaker can write the message into its ConfigurationState.
// References to objects that may simply not exist yet (a BFDProfile, a password Secret, a Community alias)
// are transient errors, distinguishable with errors.Is(err, ErrTransient).
//
// The package is pure: it imports the standard library, k8s.io/api and k8s.io/apimachinery types and
// ferrolb's api packages only. It must not import client-go, controller-runtime, GoBGP, netlink or anything
// that opens a socket; it does no I/O and keeps no state between calls.
package config
