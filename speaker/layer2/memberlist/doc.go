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

// Package memberlist decides which speakers are alive, for the layer-2 election: a node that is not in
// Members must not be chosen to announce an address, and every change of Members is signalled on Changes
// so the glue re-runs the election.
//
// It wraps hashicorp/memberlist (SWIM with the Lifeguard extensions) and is wire-compatible with MetalLB's
// speakers: same member names (node names), same port (7946, TCP and UDP), same encryption key derivation
// (DeriveKey reproduces MetalLB's quirk) and the same /etc/metallb/memberlist/config.json override format
// (LoadConfigFile). What differs is the default timer profile: FastTimers detects a crashed speaker in
// about one second instead of MetalLB's four to five, while a live speaker has to stay silent for most of
// a second, and be unconfirmed by a second prober, before it is declared dead; see FastTimers for the
// arithmetic. A graceful Leave is seen by the others at gossip speed, without any suspicion period.
//
// memberlist by itself never re-contacts a member it has declared dead, so after a network partition
// heals the two halves stay apart. Discover closes that gap: it periodically joins every listed speaker
// address that is not a live member, which also picks up new speakers and restarted ones.
//
// The package must not import client-go, controller-runtime or anything Kubernetes-specific beyond
// apimachinery's sets: the glue lists speaker pods and passes their addresses in. Time for the Discover
// loop comes from an injected k8s.io/utils/clock; memberlist's own timers run on the wall clock.
package memberlist
