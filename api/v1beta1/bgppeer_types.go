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

package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BGPPeerSpec defines a BGP session that the speakers of the selected nodes open with a router (deprecated
// version: use metallb.io/v1beta2).
type BGPPeerSpec struct {
	// myASN is the AS number of the local (node) end of the session.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	MyASN uint32 `json:"myASN"`

	// peerASN is the AS number expected from the remote end of the session.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN"`

	// peerAddress is the address to dial when establishing the session.
	// +required
	Address string `json:"peerAddress"`

	// sourceAddress is the local address the session is opened from.
	// +optional
	SrcAddress string `json:"sourceAddress,omitempty"`

	// peerPort is the TCP port to dial.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16384
	Port uint16 `json:"peerPort,omitempty"`

	// holdTime is the BGP hold time proposed to the peer.
	// +optional
	HoldTime metav1.Duration `json:"holdTime,omitempty"`

	// keepaliveTime is the interval between BGP keepalives.
	// +optional
	KeepaliveTime metav1.Duration `json:"keepaliveTime,omitempty"`

	// routerID is the BGP router ID the speaker presents to this peer.
	// +optional
	RouterID string `json:"routerID,omitempty"`

	// nodeSelectors limit the nodes that open this session. Empty means every node.
	// +optional
	NodeSelectors []NodeSelector `json:"nodeSelectors,omitempty"`

	// password is the TCP MD5 authentication secret of the session.
	// +optional
	Password string `json:"password,omitempty"`

	// bfdProfile names the BFDProfile to run BFD with on this session.
	// +optional
	BFDProfile string `json:"bfdProfile,omitempty"`

	// ebgpMultiHop allows an eBGP peer that is more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`
}

// NodeSelector is the legacy label selector of v1beta1 BGPPeers.
type NodeSelector struct {
	// matchLabels selects the nodes that carry every one of these labels.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`

	// matchExpressions select the nodes that satisfy every one of these requirements.
	// +optional
	MatchExpressions []MatchExpression `json:"matchExpressions,omitempty"`
}

// MatchExpression is a label requirement of a legacy NodeSelector.
type MatchExpression struct {
	// key is the label key the requirement applies to.
	// +required
	Key string `json:"key"`

	// operator is the relation between the label and the values: In, NotIn, Exists or DoesNotExist.
	// +required
	Operator string `json:"operator"`

	// values are the label values the operator compares with.
	// +required
	// +kubebuilder:validation:MinItems=1
	Values []string `json:"values"`
}

// BGPPeerStatus defines the observed state of Peer.
type BGPPeerStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion:warning="v1beta1 is deprecated, please use v1beta2"
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="ASN",type=string,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="BFD Profile",type=string,JSONPath=`.spec.bfdProfile`
// +kubebuilder:printcolumn:name="Multi Hops",type=string,JSONPath=`.spec.ebgpMultiHop`

// BGPPeer is the Schema for the peers API (deprecated version: use metallb.io/v1beta2).
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the session's parameters.
	// +required
	Spec BGPPeerSpec `json:"spec"`

	// status is unused and kept for compatibility.
	// +optional
	Status BGPPeerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BGPPeerList contains a list of BGPPeer.
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BGPPeer{}, &BGPPeerList{})
}
