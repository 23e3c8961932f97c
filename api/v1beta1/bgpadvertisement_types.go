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

// BGPAdvertisementSpec defines which addresses are advertised over BGP, to which peers, from which nodes and
// with which attributes.
// +kubebuilder:validation:XValidation:rule="!has(self.serviceSelectors) || size(self.serviceSelectors) == 0 || ((!has(self.aggregationLength) || self.aggregationLength == 32) && (!has(self.aggregationLengthV6) || self.aggregationLengthV6 == 128))",message="serviceSelectors and aggregationLength are mutually exclusive, can only be used together with default aggregationLength (32) and aggregationLengthV6 (128)"
type BGPAdvertisementSpec struct {
	// aggregationLength is the length of the IPv4 prefix advertised for a Service address: the address is
	// masked to this length, so several addresses can share one route. It must not be shorter than any CIDR
	// of the selected pools.
	// +optional
	// +kubebuilder:default:=32
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32
	AggregationLength *int32 `json:"aggregationLength,omitempty"`

	// aggregationLengthV6 is the length of the IPv6 prefix advertised for a Service address, as
	// aggregationLength is for IPv4.
	// +optional
	// +kubebuilder:default:=128
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=128
	AggregationLengthV6 *int32 `json:"aggregationLengthV6,omitempty"`

	// localPref is the BGP LOCAL_PREF attribute of the advertised routes. It is only sent to iBGP peers,
	// as BGP carries it only inside an AS. 0 means not set.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	LocalPref uint32 `json:"localPref,omitempty"`

	// communities are the BGP communities attached to the advertised routes: standard communities
	// ("65535:65282"), large communities ("large:64512:1:2"), or the names of aliases defined in Community
	// objects.
	// +optional
	Communities []string `json:"communities,omitempty"`

	// ipAddressPools names the pools whose addresses this advertisement announces. With neither
	// ipAddressPools nor ipAddressPoolSelectors set, every pool is announced.
	// +optional
	IPAddressPools []string `json:"ipAddressPools,omitempty"`

	// ipAddressPoolSelectors select, by label, more pools whose addresses this advertisement announces.
	// +optional
	IPAddressPoolSelectors []metav1.LabelSelector `json:"ipAddressPoolSelectors,omitempty"`

	// nodeSelectors limit the nodes that advertise the addresses as next hops (any selector matching is
	// enough). Empty means every node.
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// peers names the BGPPeer objects the addresses are advertised to. Empty means every peer.
	// +optional
	Peers []string `json:"peers,omitempty"`

	// serviceSelectors limit the advertisement to the Services matching any of them. They cannot be combined
	// with a non-default aggregationLength or aggregationLengthV6.
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`
}

// BGPAdvertisementStatus defines the observed state of BGPAdvertisement.
type BGPAdvertisementStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="IPAddressPools",type=string,JSONPath=`.spec.ipAddressPools`
// +kubebuilder:printcolumn:name="IPAddressPool Selectors",type=string,JSONPath=`.spec.ipAddressPoolSelectors`
// +kubebuilder:printcolumn:name="Peers",type=string,JSONPath=`.spec.peers`
// +kubebuilder:printcolumn:name="Node Selectors",type=string,JSONPath=`.spec.nodeSelectors`,priority=10

// BGPAdvertisement allows advertising the addresses of pools over BGP, with the given attributes.
type BGPAdvertisement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec selects the pools, peers and nodes of the advertisement and the route attributes. An
	// advertisement without a spec announces every pool to every peer from every node.
	// +optional
	// +kubebuilder:default:={}
	Spec BGPAdvertisementSpec `json:"spec,omitempty"`

	// status is unused and kept for compatibility.
	// +optional
	Status BGPAdvertisementStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BGPAdvertisementList contains a list of BGPAdvertisement.
type BGPAdvertisementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPAdvertisement `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BGPAdvertisement{}, &BGPAdvertisementList{})
}
