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

// IPAddressPoolSpec defines the desired state of IPAddressPool.
type IPAddressPoolSpec struct {
	// addresses is the list of IP address ranges the pool hands out. Each entry is either a CIDR prefix
	// ("192.168.1.0/24", "fc00:f853:ccd:e799::/124") or an explicit start-end range of IPv4 or IPv6
	// addresses ("192.168.1.100-192.168.1.200"). All entries share the pool's settings.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:items:MaxLength=100
	Addresses []string `json:"addresses"`

	// autoAssign lets the controller pick addresses from this pool automatically. When false, the pool is
	// used only by Services that ask for it by name (metallb.io/address-pool) or request one of its addresses.
	// +optional
	// +kubebuilder:default:=true
	AutoAssign *bool `json:"autoAssign,omitempty"`

	// avoidBuggyIPs keeps IPv4 addresses ending in .0 and .255 out of the pool, for clients and routers that
	// mistake them for network or broadcast addresses.
	// +optional
	// +kubebuilder:default:=false
	AvoidBuggyIPs bool `json:"avoidBuggyIPs,omitempty"`

	// serviceAllocation restricts the pool to some namespaces and/or Services and orders it among the pools
	// that match a Service. When several pools match, the one with the lowest priority value is tried first;
	// pools without a priority come last.
	// +optional
	AllocateTo *ServiceAllocation `json:"serviceAllocation,omitempty"`
}

// ServiceAllocation defines which Services may take addresses from a pool, and in which order pools are tried.
type ServiceAllocation struct {
	// priority orders the pools that match a Service: a lower positive value is tried first; 0 means no
	// priority, and such pools are tried after every prioritised one.
	// +optional
	Priority int `json:"priority,omitempty"`

	// namespaces lists the namespaces whose Services may use the pool.
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// namespaceSelectors select, by label, more namespaces whose Services may use the pool.
	// +optional
	NamespaceSelectors []metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// serviceSelectors select, by label, the Services that may use the pool (any selector matching is
	// enough). With namespaces or namespaceSelectors also set, a Service must satisfy both.
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`
}

// IPAddressPoolStatus is the pool's usage as the controller last counted it.
type IPAddressPoolStatus struct {
	// assignedIPv4 is the number of IPv4 addresses of the pool assigned to Services.
	AssignedIPv4 int64 `json:"assignedIPv4"`

	// assignedIPv6 is the number of IPv6 addresses of the pool assigned to Services.
	AssignedIPv6 int64 `json:"assignedIPv6"`

	// availableIPv4 is the number of IPv4 addresses of the pool still free.
	AvailableIPv4 int64 `json:"availableIPv4"`

	// availableIPv6 is the number of IPv6 addresses of the pool still free (capped at the largest int64
	// for pools bigger than that).
	AvailableIPv6 int64 `json:"availableIPv6"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Auto Assign",type=boolean,JSONPath=`.spec.autoAssign`
// +kubebuilder:printcolumn:name="Avoid Buggy IPs",type=boolean,JSONPath=`.spec.avoidBuggyIPs`
// +kubebuilder:printcolumn:name="Addresses",type=string,JSONPath=`.spec.addresses`

// IPAddressPool represents a pool of IP addresses that can be allocated to LoadBalancer Services.
type IPAddressPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the pool's addresses and allocation rules.
	// +required
	Spec IPAddressPoolSpec `json:"spec"`

	// status is the pool's usage, written by the controller.
	// +optional
	Status IPAddressPoolStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// IPAddressPoolList contains a list of IPAddressPool.
type IPAddressPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAddressPool `json:"items"`
}

func init() {
	SchemeBuilder.Register(&IPAddressPool{}, &IPAddressPoolList{})
}
