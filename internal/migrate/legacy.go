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

package migrate

// Legacy is MetalLB's legacy configuration, the `config` key of the ConfigMap MetalLB read up to v0.12. The
// JSON names are the legacy keys. Decode fills it; only keys of this schema are accepted.
type Legacy struct {
	// Peers are the BGP routers to peer with.
	Peers []Peer `json:"peers,omitempty"`
	// BGPCommunities maps community aliases to their value (AS:VALUE or large:A:B:C).
	BGPCommunities map[string]string `json:"bgp-communities,omitempty"`
	// Pools are the address pools.
	Pools []Pool `json:"address-pools,omitempty"`
	// BFDProfiles are the BFD profiles peers may refer to.
	BFDProfiles []BFDProfile `json:"bfd-profiles,omitempty"`
}

// Peer is one entry of peers.
type Peer struct {
	MyASN         uint32 `json:"my-asn,omitempty"`
	PeerASN       uint32 `json:"peer-asn,omitempty"`
	PeerAddress   string `json:"peer-address,omitempty"`
	SourceAddress string `json:"source-address,omitempty"`
	PeerPort      uint16 `json:"peer-port,omitempty"`
	// HoldTime and KeepaliveTime are Go durations as written ("90s"); empty when absent.
	HoldTime      string         `json:"hold-time,omitempty"`
	KeepaliveTime string         `json:"keepalive-time,omitempty"`
	RouterID      string         `json:"router-id,omitempty"`
	NodeSelectors []NodeSelector `json:"node-selectors,omitempty"`
	Password      string         `json:"password,omitempty"`
	BFDProfile    string         `json:"bfd-profile,omitempty"`
	EBGPMultiHop  bool           `json:"ebgp-multihop,omitempty"`
}

// NodeSelector is one entry of a peer's node-selectors.
type NodeSelector struct {
	MatchLabels      map[string]string     `json:"match-labels,omitempty"`
	MatchExpressions []SelectorRequirement `json:"match-expressions,omitempty"`
}

// SelectorRequirement is one entry of a node selector's match-expressions.
type SelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Pool is one entry of address-pools.
type Pool struct {
	Name string `json:"name"`
	// Protocol is "bgp" or "layer2"; Convert refuses anything else.
	Protocol          string             `json:"protocol"`
	Addresses         []string           `json:"addresses,omitempty"`
	AutoAssign        *bool              `json:"auto-assign,omitempty"`
	AvoidBuggyIPs     *bool              `json:"avoid-buggy-ips,omitempty"`
	BGPAdvertisements []BGPAdvertisement `json:"bgp-advertisements,omitempty"`
}

// Legacy protocols of a pool.
const (
	ProtocolBGP    = "bgp"
	ProtocolLayer2 = "layer2"
)

// BGPAdvertisement is one entry of a pool's bgp-advertisements.
type BGPAdvertisement struct {
	AggregationLength   *int32 `json:"aggregation-length,omitempty"`
	AggregationLengthV6 *int32 `json:"aggregation-length-v6,omitempty"`
	// LocalPref is 0 when absent, as in MetalLB.
	LocalPref   uint32   `json:"localpref,omitempty"`
	Communities []string `json:"communities,omitempty"`
}

// BFDProfile is one entry of bfd-profiles.
type BFDProfile struct {
	Name             string  `json:"name"`
	ReceiveInterval  *uint32 `json:"receive-interval,omitempty"`
	TransmitInterval *uint32 `json:"transmit-interval,omitempty"`
	DetectMultiplier *uint32 `json:"detect-multiplier,omitempty"`
	EchoInterval     *uint32 `json:"echo-interval,omitempty"`
	EchoMode         bool    `json:"echo-mode,omitempty"`
	PassiveMode      bool    `json:"passive-mode,omitempty"`
	MinimumTTL       *uint32 `json:"minimum-ttl,omitempty"`
}

// empty reports whether the configuration defines nothing.
func (l *Legacy) empty() bool {
	return len(l.Peers) == 0 && len(l.BGPCommunities) == 0 && len(l.Pools) == 0 && len(l.BFDProfiles) == 0
}
