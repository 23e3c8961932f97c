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

// Package bgp announces Service prefixes to BGP peers for the speaker.
//
// The speaker's glue talks to a Router: SetPeers gives it the sessions the node opens, SetRoutes the routes
// each session carries (advertise.Table decides them), Peers reports the sessions for status and metrics,
// and Close withdraws every route before it shuts the sessions down. New returns the Router that embeds
// GoBGP v3; Fake is an in-memory Router for the glue's unit tests.
//
// GoBGP types never leave this package. The adapter runs one GoBGP BgpServer per session: each session then
// has its own RIB, so two peers can carry the same prefix with different communities or LOCAL_PREF without
// per-neighbour export policies (which GoBGP only offers to route-server clients), different routerIDs and
// ASNs per peer come for free, and re-creating one session cannot disturb another. Every server dials only
// (ListenPort -1: no listener on :179) and rejects every inbound route.
//
// The package may import GoBGP, the Prometheus client and ferrolb's internal packages; it must not import
// client-go or controller-runtime: the glue in speaker/ watches the cluster.
package bgp
