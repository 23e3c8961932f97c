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

// ConfigurationResult is the verdict of a component on the configuration it last read.
// +kubebuilder:validation:Enum=Valid;Invalid;Unknown
type ConfigurationResult string

const (
	// ConfigurationResultValid means the component loaded the configuration.
	ConfigurationResultValid ConfigurationResult = "Valid"
	// ConfigurationResultInvalid means the component refused the configuration and kept its previous one.
	ConfigurationResultInvalid ConfigurationResult = "Invalid"
	// ConfigurationResultUnknown means the component has not reported yet.
	ConfigurationResultUnknown ConfigurationResult = "Unknown"
)

// Condition types and reasons of ConfigurationState.
const (
	// ConditionConfigReconcilerValid is the speaker's verdict on the whole configuration.
	ConditionConfigReconcilerValid = "configReconcilerValid"
	// ConditionPoolReconcilerValid is the controller's verdict on the pools.
	ConditionPoolReconcilerValid = "poolReconcilerValid"

	// ReasonReconciled means the configuration was loaded.
	ReasonReconciled = "Reconciled"
	// ReasonConfigurationError means the configuration was refused; the message says why.
	ReasonConfigurationError = "ConfigurationError"
	// ReasonUnknownError means the component failed for a reason other than the configuration.
	ReasonUnknownError = "UnknownError"
)

// ConfigurationStateSpec is empty: the object only carries status.
type ConfigurationStateSpec struct{}

// ConfigurationStateStatus is a component's verdict on the configuration.
type ConfigurationStateStatus struct {
	// result is Valid, Invalid (some condition has reason ConfigurationError) or Unknown (no condition yet).
	// +optional
	Result ConfigurationResult `json:"result,omitempty"`

	// errorSummary joins the messages of every ConfigurationError condition, one per line; empty when the
	// configuration is valid.
	// +optional
	ErrorSummary string `json:"errorSummary,omitempty"`

	// conditions are the verdicts of the component's reconcilers (configReconcilerValid,
	// poolReconcilerValid).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Result",type=string,JSONPath=`.status.result`
// +kubebuilder:printcolumn:name="ErrorSummary",type=string,JSONPath=`.status.errorSummary`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ConfigurationState reports whether a component (the controller, named "controller", or the speaker of a node,
// named "speaker-<node>") accepted the current configuration, and if not, why.
type ConfigurationState struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is empty.
	// +optional
	Spec ConfigurationStateSpec `json:"spec,omitempty"`

	// status is the component's verdict.
	// +optional
	Status ConfigurationStateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ConfigurationStateList contains a list of ConfigurationState.
type ConfigurationStateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ConfigurationState `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ConfigurationState{}, &ConfigurationStateList{})
}
