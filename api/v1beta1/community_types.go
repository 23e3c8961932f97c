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

// CommunitySpec defines named aliases for BGP communities, usable by name in BGPAdvertisements.
type CommunitySpec struct {
	// communities are the aliases. A name must be unique across all Community objects.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	Communities []CommunityAlias `json:"communities,omitempty"`
}

// CommunityAlias gives a BGP community value a name.
type CommunityAlias struct {
	// name is the alias, used in place of the value in BGPAdvertisement communities.
	// +optional
	Name string `json:"name,omitempty"`

	// value is the BGP community: a standard community "<AS>:<value>" of two 16-bit numbers (65535:65282),
	// or a large community "large:<global>:<local1>:<local2>" of three 32-bit numbers (large:64512:1:2).
	// +optional
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{1,5}:[0-9]{1,5}$') ? int(self.split(':')[0]) <= 65535 && int(self.split(':')[1]) <= 65535 : self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && int(self.split(':')[1]) <= 4294967295 && int(self.split(':')[2]) <= 4294967295 && int(self.split(':')[3]) <= 4294967295",message="invalid community value, must be <0-65535>:<0-65535> or large:<0-4294967295>:<0-4294967295>:<0-4294967295>"
	Value string `json:"value,omitempty"`
}

// CommunityStatus defines the observed state of Community.
type CommunityStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status

// Community is a collection of aliases for BGP communities.
type Community struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the list of aliases.
	// +optional
	Spec CommunitySpec `json:"spec,omitempty"`

	// status is unused and kept for compatibility.
	// +optional
	Status CommunityStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CommunityList contains a list of Community.
type CommunityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Community `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Community{}, &CommunityList{})
}
