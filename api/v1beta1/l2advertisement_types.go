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

// L2AdvertisementSpec defines which addresses are announced in layer 2 mode (ARP for IPv4, NDP for IPv6),
// from which nodes and on which interfaces.
type L2AdvertisementSpec struct {
	// ipAddressPools names the pools whose addresses this advertisement announces. With neither
	// ipAddressPools nor ipAddressPoolSelectors set, every pool is announced.
	// +optional
	IPAddressPools []string `json:"ipAddressPools,omitempty"`

	// ipAddressPoolSelectors select, by label, more pools whose addresses this advertisement announces.
	// +optional
	IPAddressPoolSelectors []metav1.LabelSelector `json:"ipAddressPoolSelectors,omitempty"`

	// nodeSelectors limit the nodes that may answer for the addresses (any selector matching is enough).
	// Empty means every node.
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// interfaces lists the node interfaces on which addresses are announced (ARP and NDP answers, gratuitous
	// announcements). Empty means every interface that is not excluded.
	// +optional
	Interfaces []string `json:"interfaces,omitempty"`

	// serviceSelectors limit the advertisement to the Services matching any of them. Services that share an
	// address (metallb.io/allow-shared-ip) cannot be announced through advertisements with serviceSelectors.
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`

	// preferredNodeSelectors give nodes a weighted preference in the election of the node that announces an
	// address, among the nodes this advertisement allows. Weights of all matching terms are summed.
	// +optional
	PreferredNodeSelectors []PreferredNodeSelector `json:"preferredNodeSelectors,omitempty"`
}

// PreferredNodeSelector is a weighted preference for the nodes matching a label selector.
type PreferredNodeSelector struct {
	// weight is added to the score of every node that matches preference, in the range 1-100.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight"`

	// preference selects the nodes that get the weight.
	// +required
	Preference metav1.LabelSelector `json:"preference"`
}

// L2AdvertisementStatus defines the observed state of L2Advertisement.
type L2AdvertisementStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="IPAddressPools",type=string,JSONPath=`.spec.ipAddressPools`
// +kubebuilder:printcolumn:name="IPAddressPool Selectors",type=string,JSONPath=`.spec.ipAddressPoolSelectors`
// +kubebuilder:printcolumn:name="Interfaces",type=string,JSONPath=`.spec.interfaces`
// +kubebuilder:printcolumn:name="Node Selectors",type=string,JSONPath=`.spec.nodeSelectors`,priority=10

// L2Advertisement allows advertising the addresses of pools in layer 2 mode: one node answers ARP and NDP
// for each address.
type L2Advertisement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec selects the pools, nodes and interfaces of the advertisement.
	// +optional
	Spec L2AdvertisementSpec `json:"spec,omitempty"`

	// status is unused and kept for compatibility.
	// +optional
	Status L2AdvertisementStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// L2AdvertisementList contains a list of L2Advertisement.
type L2AdvertisementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []L2Advertisement `json:"items"`
}

func init() {
	SchemeBuilder.Register(&L2Advertisement{}, &L2AdvertisementList{})
}
