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

// BFDProfileSpec defines the BFD (RFC 5880) parameters of the sessions that use the profile. Unset fields take
// the BFD implementation's defaults.
type BFDProfileSpec struct {
	// receiveInterval is the minimum interval, in milliseconds, at which this system can receive control
	// packets, in the range 10-60000.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=60000
	ReceiveInterval *uint32 `json:"receiveInterval,omitempty"`

	// transmitInterval is the minimum interval, in milliseconds, at which this system sends control packets
	// (less jitter), in the range 10-60000.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=60000
	TransmitInterval *uint32 `json:"transmitInterval,omitempty"`

	// detectMultiplier is the number of control packets that may be lost before the session is declared
	// down, in the range 2-255.
	// +optional
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=255
	DetectMultiplier *uint32 `json:"detectMultiplier,omitempty"`

	// echoInterval is the minimum interval, in milliseconds, at which this system sends and receives echo
	// packets, in the range 10-60000.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=60000
	EchoInterval *uint32 `json:"echoInterval,omitempty"`

	// echoMode enables echo packets, which the peer loops back, to detect failures of the forwarding path.
	// Not usable with peers that advertise IPv6 addresses.
	// +optional
	EchoMode *bool `json:"echoMode,omitempty"`

	// passiveMode makes this system wait for the peer's control packets instead of sending first.
	// +optional
	PassiveMode *bool `json:"passiveMode,omitempty"`

	// minimumTtl is, for multi-hop sessions only, the lowest TTL accepted on incoming control packets, in the
	// range 1-254.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=254
	MinimumTTL *uint32 `json:"minimumTtl,omitempty"`
}

// BFDProfileStatus defines the observed state of BFDProfile.
type BFDProfileStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Passive Mode",type=boolean,JSONPath=`.spec.passiveMode`
// +kubebuilder:printcolumn:name="Transmit Interval",type=integer,JSONPath=`.spec.transmitInterval`
// +kubebuilder:printcolumn:name="Receive Interval",type=integer,JSONPath=`.spec.receiveInterval`
// +kubebuilder:printcolumn:name="Multiplier",type=integer,JSONPath=`.spec.detectMultiplier`

// BFDProfile represents the settings of the BFD sessions that BGPPeers referencing it run.
type BFDProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the profile's BFD parameters.
	// +optional
	Spec BFDProfileSpec `json:"spec,omitempty"`

	// status is unused and kept for compatibility.
	// +optional
	Status BFDProfileStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BFDProfileList contains a list of BFDProfile.
type BFDProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BFDProfile `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BFDProfile{}, &BFDProfileList{})
}
