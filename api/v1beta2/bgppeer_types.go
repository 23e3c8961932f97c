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

package v1beta2

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DynamicASNMode says which kind of AS a peer with a dynamically detected AS number must be in.
// +kubebuilder:validation:Enum=internal;external
type DynamicASNMode string

const (
	// InternalASNMode expects the peer's AS to equal myASN (iBGP).
	InternalASNMode DynamicASNMode = "internal"
	// ExternalASNMode expects the peer's AS to differ from myASN (eBGP).
	ExternalASNMode DynamicASNMode = "external"
)

// BGPPeerSpec defines a BGP session that the speakers of the selected nodes open with a router.
// +kubebuilder:validation:XValidation:rule="!((has(self.peerASN) && self.peerASN != 0) && has(self.dynamicASN))",message="both peer ASN and dynamicASN specified",fieldPath=".dynamicASN"
// +kubebuilder:validation:XValidation:rule="(has(self.peerASN) && self.peerASN != 0) || has(self.dynamicASN)",message="missing peer ASN and dynamicASN",fieldPath=".peerASN"
// +kubebuilder:validation:XValidation:rule="!(has(self.peerAddress) && size(self.peerAddress) != 0 && has(self.interface) && size(self.interface) != 0)",message="peer has both Address and Interface specified",fieldPath=".interface"
// +kubebuilder:validation:XValidation:rule="(has(self.peerAddress) && size(self.peerAddress) != 0) || (has(self.interface) && size(self.interface) != 0)",message="peer has no Address or Interface specified",fieldPath=".peerAddress"
// +kubebuilder:validation:XValidation:rule="!(has(self.ebgpMultiHop) && self.ebgpMultiHop && ((has(self.peerASN) && self.peerASN == self.myASN) || (has(self.dynamicASN) && self.dynamicASN == 'internal')))",message="invalid ebgp-multihop parameter set for an ibgp peer",fieldPath=".ebgpMultiHop"
// +kubebuilder:validation:XValidation:rule="!(has(self.password) && size(self.password) != 0 && has(self.passwordSecret) && has(self.passwordSecret.name) && size(self.passwordSecret.name) != 0)",message="can not have both password and secret ref set",fieldPath=".passwordSecret"
// +kubebuilder:validation:XValidation:rule="!has(self.holdTime) || !has(self.keepaliveTime) || duration(self.keepaliveTime) <= duration(self.holdTime)",message="invalid keepaliveTime, must be lower than holdTime",fieldPath=".keepaliveTime"
// +kubebuilder:validation:XValidation:rule="(has(self.enableGracefulRestart) && self.enableGracefulRestart) == (has(oldSelf.enableGracefulRestart) && oldSelf.enableGracefulRestart)",message="EnableGracefulRestart cannot be changed after creation",fieldPath=".enableGracefulRestart"
type BGPPeerSpec struct {
	// myASN is the AS number of the local (node) end of the session.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	// +kubebuilder:validation:XValidation:rule="self != 0",message="missing local ASN"
	MyASN uint32 `json:"myASN"`

	// peerASN is the AS number expected from the remote end of the session. Exactly one of peerASN and
	// dynamicASN must be set.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN,omitempty"`

	// dynamicASN accepts whatever AS number the peer opens the session with, as long as it is internal
	// (equal to myASN) or external (different). Exactly one of peerASN and dynamicASN must be set.
	// +optional
	DynamicASN DynamicASNMode `json:"dynamicASN,omitempty"`

	// localASN replaces myASN towards this peer only (FRR's local-as). ferrolb's embedded BGP speaker does not
	// support it and reports a configuration error.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	LocalASN uint32 `json:"localASN,omitempty"`

	// peerAddress is the address to dial when establishing the session. Exactly one of peerAddress and
	// interface must be set.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || isIP(self) || (self.startsWith('::ffff:') && isIP(self.substring(7)))",message="invalid BGPPeer address"
	PeerAddress string `json:"peerAddress,omitempty"`

	// interface is the node interface to peer over, BGP unnumbered style (IPv6 link-local). ferrolb's
	// embedded BGP speaker does not support it and reports a configuration error.
	// +optional
	Interface string `json:"interface,omitempty"`

	// sourceAddress is the local address the session is opened from. It must exist on the node.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || isIP(self) || (self.startsWith('::ffff:') && isIP(self.substring(7)))",message="invalid source IP"
	SrcAddress string `json:"sourceAddress,omitempty"`

	// peerPort is the TCP port to dial, in the range 1-16384.
	// +optional
	// +kubebuilder:default:=179
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16384
	Port uint16 `json:"peerPort,omitempty"`

	// holdTime is the BGP hold time proposed to the peer: 0, or at least 3s. With only keepaliveTime set it
	// defaults to three times keepaliveTime; with neither, to the speaker's default (90s).
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self).getSeconds() == 0 || duration(self).getSeconds() >= 3",message="invalid hold time, must be 0 or >=3s"
	HoldTime *metav1.Duration `json:"holdTime,omitempty"`

	// keepaliveTime is the interval between BGP keepalives. It must not exceed holdTime; with only
	// holdTime set it defaults to a third of it.
	// +optional
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`

	// connectTime is how long to wait between attempts to connect to the peer, in whole seconds
	// between 1s and 65535s.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self).getSeconds() >= 1 && duration(self).getSeconds() <= 65535",message="connect time should be between 1 seconds to 65535"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="connect time should contain a whole number of seconds"
	ConnectTime *metav1.Duration `json:"connectTime,omitempty"`

	// routerID is the BGP router ID the speaker presents to this peer. Empty means the node's address.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || isIP(self)",message="invalid router ID"
	RouterID string `json:"routerID,omitempty"`

	// nodeSelectors limit the nodes that open this session (any selector matching is enough). Empty means
	// every node.
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// password is the TCP MD5 authentication secret of the session, in clear. Mutually exclusive with
	// passwordSecret.
	// +optional
	Password string `json:"password,omitempty"`

	// passwordSecret references a Secret of type kubernetes.io/basic-auth, in the ferrolb namespace, whose
	// "password" key is the TCP MD5 authentication secret. Mutually exclusive with password.
	// +optional
	PasswordSecret corev1.SecretReference `json:"passwordSecret,omitempty"`

	// bfdProfile names the BFDProfile to run BFD with on this session.
	// +optional
	BFDProfile string `json:"bfdProfile,omitempty"`

	// enableGracefulRestart negotiates BGP graceful restart (RFC 4724), so the peer keeps the routes while
	// the speaker restarts. It cannot be changed after creation.
	// +optional
	EnableGracefulRestart bool `json:"enableGracefulRestart,omitempty"`

	// ebgpMultiHop allows an eBGP peer that is more than one hop away. Invalid for iBGP peers.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`

	// vrf is the host VRF the session is opened in. ferrolb's embedded BGP speaker does not support it and
	// reports a configuration error.
	// +optional
	VRFName string `json:"vrf,omitempty"`

	// disableMP is deprecated and has no effect: each address family has its own session setting.
	// +optional
	// +kubebuilder:default:=false
	DisableMP bool `json:"disableMP,omitempty"`

	// dualStackAddressFamily activates both the IPv4 and the IPv6 address family on the session, so IPv4
	// routes can be advertised over an IPv6 session and the reverse.
	// +optional
	// +kubebuilder:default:=false
	DualStackAddressFamily bool `json:"dualStackAddressFamily,omitempty"`
}

// BGPPeerStatus defines the observed state of Peer.
type BGPPeerStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="ASN",type=string,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="BFD Profile",type=string,JSONPath=`.spec.bfdProfile`
// +kubebuilder:printcolumn:name="Multi Hops",type=string,JSONPath=`.spec.ebgpMultiHop`

// BGPPeer is the Schema for the peers API.
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
