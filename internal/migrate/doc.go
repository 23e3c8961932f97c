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

// Package migrate converts MetalLB's legacy configuration, the ConfigMap `config` that MetalLB read before
// v0.13, into the metallb.io custom resources that replaced it.
//
// It decides what a legacy configuration means as custom resources, with the mapping of MetalLB's own
// converter (configmaptocrs): one IPAddressPool per address pool, an L2Advertisement per layer2 pool, a
// BGPAdvertisement per bgp-advertisements entry (or an empty one for a bgp pool without any), a v1beta2
// BGPPeer per peer, one Community for bgp-communities and a BFDProfile per BFD profile, with MetalLB's names
// (peerN, l2advertisementN, bgpadvertisementN, communities) and its name normalisation. Where MetalLB's
// converter is silently wrong, migrate refuses: an unknown key, an unknown protocol, a name collision after
// normalisation or a value MetalLB v0.12 itself refused is an error naming the pool or peer and the key, and
// the converted objects must pass config.Parse.
//
// It also finds the legacy configuration in what users have at hand: a ConfigMap manifest, a bare `config`
// payload, or Helm values with configInline (ReadInput).
//
// For the operator's in-cluster migration it converts a ConfigMap read from the cluster, marking the resources
// with their origin (ConvertConfigMap), and decides what to do with each converted resource given the one of
// its name in the cluster (Decide): create it, leave it (the same spec once the CRD's defaults are applied), or
// report a conflict — an existing resource is never overwritten.
//
// The package is pure: it imports the standard library, k8s.io/api, k8s.io/apimachinery, sigs.k8s.io/yaml,
// ferrolb's api packages and internal/config only. It must not import client-go, controller-runtime or
// anything that does I/O beyond the io.Writer it is given.
package migrate
