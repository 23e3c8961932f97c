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

package config

// Option changes how Parse validates.
type Option func(*options)

type options struct {
	skipTransient bool
	// speaker is nil when Parse does not check peers against a BGP speaker.
	speaker *SpeakerCapabilities
}

// WithoutTransientReferences makes Parse accept references to BFDProfiles, password Secrets and Community
// aliases that are not among the Resources: they stay unresolved instead of being errors. Webhooks use it,
// as MetalLB's do by blanking those fields (reference §3): objects may be applied in any order, and refusing
// a BGPPeer because its BFDProfile does not exist yet would make the order matter. Referenced objects that
// are present are still validated and resolved.
func WithoutTransientReferences() Option {
	return func(o *options) { o.skipTransient = true }
}

// SpeakerCapabilities are the optional BGPPeer features a BGP speaker implements. The zero value implements
// none of them, which is what ferrolb's embedded speaker supports today.
type SpeakerCapabilities struct {
	// BFD allows peers to reference a BFDProfile (spec.bfdProfile).
	BFD bool
	// VRF allows sessions in a host VRF (spec.vrf).
	VRF bool
	// Unnumbered allows BGP unnumbered sessions over an interface (spec.interface).
	Unnumbered bool
	// LocalASN allows a per-peer local AS (spec.localASN).
	LocalASN bool
	// DynamicASN allows peers whose AS is detected from their OPEN (spec.dynamicASN).
	DynamicASN bool
}

// WithSpeakerCapabilities makes Parse refuse peers that use a feature the BGP speaker lacks, naming the field.
// The speaker sets it, so a configuration it cannot honour shows in its ConfigurationState; webhooks do not,
// so the API accepts everything MetalLB's does.
func WithSpeakerCapabilities(c SpeakerCapabilities) Option {
	return func(o *options) { o.speaker = &c }
}
