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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BGPType names a BGP implementation, for the bgpBackend field.
type BGPType string

const (
	// NativeMode is ferrolb's BGP speaker, embedded in the speaker process. It is the only backend ferrolb
	// runs; the FRR-based values of MetalLB are refused with a message saying so.
	NativeMode BGPType = "native"
	// FRRMode is MetalLB's FRR-in-the-speaker-pod backend (not supported by ferrolb).
	FRRMode BGPType = "frr"
	// FRRK8sMode is MetalLB's frr-k8s backend (not supported by ferrolb).
	FRRK8sMode BGPType = "frr-k8s"
	// FRRK8sExternalMode is MetalLB's external frr-k8s backend (not supported by ferrolb).
	FRRK8sExternalMode BGPType = "frr-k8s-external"
)

// Condition types of the MetalLB resource.
const (
	// ConditionAvailable is True when every operand is applied and rolled out.
	ConditionAvailable = "Available"
	// ConditionProgressing is True while operands are being rolled out.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when the operator cannot bring the operands to the declared state.
	ConditionDegraded = "Degraded"
	// ConditionUpgradeable is True when the operator may be upgraded without disruption.
	ConditionUpgradeable = "Upgradeable"
	// ConditionMigrated is True when every resource converted from the legacy ConfigMap exists with the
	// converted spec. It is there only while the legacy ConfigMap is.
	ConditionMigrated = "Migrated"
	// ConditionMigrationFailed is True when the legacy ConfigMap cannot be converted, or some of its resources
	// cannot be created without overwriting the user's. It is there only while the legacy ConfigMap is.
	ConditionMigrationFailed = "MigrationFailed"
)

// ConfigMigrationMode says what the operator does with MetalLB's legacy ConfigMap.
// +kubebuilder:validation:Enum=Apply;DryRun;Disabled
type ConfigMigrationMode string

const (
	// MigrationApply creates the converted resources that do not exist yet.
	MigrationApply ConfigMigrationMode = "Apply"
	// MigrationDryRun writes the converted resources into a generated ConfigMap and creates none.
	MigrationDryRun ConfigMigrationMode = "DryRun"
	// MigrationDisabled ignores the legacy ConfigMap.
	MigrationDisabled ConfigMigrationMode = "Disabled"
)

// DefaultLegacyConfigMapName is the name of MetalLB's legacy ConfigMap.
const DefaultLegacyConfigMapName = "config"

// MetalLBSpec defines how the operator deploys ferrolb's controller and speakers.
// +kubebuilder:validation:XValidation:rule="!has(self.speakerTolerations) || self.speakerTolerations.all(t, !has(t.tolerationSeconds) || t.tolerationSeconds <= 0 || (has(t.effect) && t.effect == 'NoExecute'))",message="SpeakerToleration effect must be NoExecute when tolerationSeconds is set",fieldPath=".speakerTolerations"
// +kubebuilder:validation:XValidation:rule="!has(self.controllerTolerations) || self.controllerTolerations.all(t, !has(t.tolerationSeconds) || t.tolerationSeconds <= 0 || (has(t.effect) && t.effect == 'NoExecute'))",message="ControllerToleration effect must be NoExecute when tolerationSeconds is set",fieldPath=".controllerTolerations"
type MetalLBSpec struct {
	// image is deprecated and has no effect: the operand images come from the operator's CONTROLLER_IMAGE and
	// SPEAKER_IMAGE environment variables.
	// +optional
	MetalLBImage string `json:"image,omitempty"`

	// nodeSelector limits the nodes the speaker DaemonSet runs on (in addition to kubernetes.io/os: linux).
	// +optional
	SpeakerNodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// speakerTolerations are added to the speaker DaemonSet after the defaults that let it run on
	// control-plane nodes.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	SpeakerTolerations []corev1.Toleration `json:"speakerTolerations,omitempty"`

	// logLevel is the verbosity of the controller and the speakers: all, debug, info, warn, error or none.
	// Empty means info.
	// +optional
	// +kubebuilder:validation:Enum=all;debug;info;warn;error;none
	LogLevel string `json:"logLevel,omitempty"`

	// loadBalancerClass makes ferrolb handle only the Services with this spec.loadBalancerClass. Empty means
	// the Services without a class.
	// +optional
	// +kubebuilder:validation:Pattern=`^([a-z0-9A-Z]([\w.\-]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([\w.\-]*[a-z0-9A-Z])?$`
	LoadBalancerClass string `json:"loadBalancerClass,omitempty"`

	// controllerNodeSelector limits the nodes the controller Deployment runs on.
	// +optional
	ControllerNodeSelector map[string]string `json:"controllerNodeSelector,omitempty"`

	// controllerTolerations are the tolerations of the controller Deployment.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ControllerTolerations []corev1.Toleration `json:"controllerTolerations,omitempty"`

	// controllerConfig customises the controller's pods.
	// +optional
	ControllerConfig *Config `json:"controllerConfig,omitempty"`

	// speakerConfig customises the speakers' pods.
	// +optional
	SpeakerConfig *Config `json:"speakerConfig,omitempty"`

	// bgpBackend selects the BGP implementation. ferrolb embeds its own BGP speaker: "native" and empty are
	// accepted; MetalLB's FRR-based backends are refused.
	// +optional
	BGPBackend BGPType `json:"bgpBackend,omitempty"`

	// frrk8sConfig configures MetalLB's frr-k8s backend. ferrolb has no frr-k8s backend; the field is kept so
	// existing MetalLB resources still apply.
	// +optional
	FRRK8SConfig *FRRK8SConfig `json:"frrk8sConfig,omitempty"`

	// ignoreExcludeLB makes the speakers announce from nodes labelled
	// node.kubernetes.io/exclude-from-external-load-balancers, for clusters whose only nodes are control-plane
	// nodes carrying that label.
	// +optional
	IgnoreExcludeLB bool `json:"ignoreExcludeLB,omitempty"`

	// configMigration controls the conversion of MetalLB's legacy ConfigMap (the configuration before
	// MetalLB v0.13) in the operator's namespace into metallb.io resources. Without it, a ConfigMap named
	// config is converted and its resources are created (mode Apply).
	// +optional
	ConfigMigration *ConfigMigration `json:"configMigration,omitempty"`
}

// ConfigMigration controls the conversion of MetalLB's legacy ConfigMap into metallb.io resources. The
// legacy ConfigMap is only read: never changed, owned or deleted.
type ConfigMigration struct {
	// configMapName is the name of the legacy ConfigMap in the operator's namespace, whose key config holds
	// MetalLB's legacy configuration. Default: config.
	// +optional
	// +kubebuilder:default=config
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=244
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ConfigMapName string `json:"configMapName,omitempty"`

	// mode is what the operator does with the legacy ConfigMap: Apply (default) creates the converted
	// resources that do not exist and reports those that exist with another spec, never changing them;
	// DryRun creates nothing and writes the converted resources into the ConfigMap
	// <configMapName>-migrated, to be read and applied by hand; Disabled ignores the legacy ConfigMap.
	// +optional
	// +kubebuilder:default=Apply
	Mode ConfigMigrationMode `json:"mode,omitempty"`
}

// Config customises the pods of one operand.
type Config struct {
	// priorityClassName is the priority class of the pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// runtimeClassName is the runtime class of the pods.
	// +optional
	RuntimeClassName string `json:"runtimeClassName,omitempty"`

	// affinity replaces the scheduling constraints of the pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// annotations are added to the pod template.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// resources replaces the compute resources of the operand's main container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// FRRK8SConfig is MetalLB's configuration of its frr-k8s backend, kept for compatibility.
type FRRK8SConfig struct {
	// alwaysBlock lists prefixes frr-k8s always refuses to receive. Each entry must be a CIDR.
	// +optional
	AlwaysBlock []string `json:"alwaysBlock,omitempty"`

	// namespace is the namespace of an external frr-k8s deployment.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// secretPassthrough passes BGP password secrets to an external frr-k8s by reference.
	// +optional
	SecretPassthrough bool `json:"secretPassthrough,omitempty"`
}

// MetalLBStatus is the operator's view of the deployed stack.
type MetalLBStatus struct {
	// conditions are Available, Progressing, Degraded and Upgradeable, computed from the operands' rollout;
	// the preflight findings about the cluster; and Migrated and MigrationFailed while a legacy ConfigMap is
	// there to convert.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// migration summarises the conversion of the legacy ConfigMap, while there is one to convert.
	// +optional
	Migration *MigrationStatus `json:"migration,omitempty"`
}

// MigrationStatus summarises the conversion of the legacy ConfigMap.
type MigrationStatus struct {
	// configMap is the name of the legacy ConfigMap, in the operator's namespace.
	// +optional
	ConfigMap string `json:"configMap,omitempty"`

	// resourceVersion is the resourceVersion of the legacy ConfigMap the summary is about.
	// +optional
	ResourceVersion string `json:"resourceVersion,omitempty"`

	// resources is how many resources the legacy configuration converts to.
	// +optional
	Resources int32 `json:"resources,omitempty"`

	// upToDate is how many of them exist with the converted spec.
	// +optional
	UpToDate int32 `json:"upToDate,omitempty"`

	// conflicts are the resources, as Kind/name, that exist with a spec other than the converted one. The
	// operator never changes them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	Conflicts []string `json:"conflicts,omitempty"`

	// generatedConfigMap is the ConfigMap, in the operator's namespace, holding the converted resources
	// (key resources.yaml), in mode DryRun.
	// +optional
	GeneratedConfigMap string `json:"generatedConfigMap,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Available",type=string,JSONPath=`.status.conditions[?(@.type=='Available')].status`
// +kubebuilder:printcolumn:name="Degraded",type=string,JSONPath=`.status.conditions[?(@.type=='Degraded')].status`
// +kubebuilder:printcolumn:name="Progressing",type=string,JSONPath=`.status.conditions[?(@.type=='Progressing')].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// MetalLB is the operator's resource: one object, named metallb in the operator's namespace, declares the
// deployed load-balancer stack.
type MetalLB struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is how the stack is deployed.
	// +optional
	Spec MetalLBSpec `json:"spec,omitempty"`

	// status is the state of the deployed stack.
	// +optional
	Status MetalLBStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// MetalLBList contains a list of MetalLB.
type MetalLBList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MetalLB `json:"items"`
}

func init() {
	SchemeBuilder.Register(&MetalLB{}, &MetalLBList{})
}
