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

package render

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// MemberlistKeyPath is where the speakers read the memberlist key (METALLB_ML_SECRET_KEY_PATH).
	MemberlistKeyPath = "/etc/ml_secret_key"
	// memberlistKeyBytes is the entropy of a generated key, MetalLB's: 128 random bytes, kept base64-encoded
	// (the speaker derives the gossip key from whatever bytes the file holds).
	memberlistKeyBytes = 128
	// speakerGracePeriod bounds a speaker's shutdown: it leaves memberlist (up to 1 s) and goes on answering
	// for --handoff-delay (2 s) while the other speakers take its addresses over, then stops its manager.
	// Killing it earlier would cut the hand-over short.
	speakerGracePeriod int64 = 10
)

// defaultSpeakerTolerations let the speakers run on control-plane nodes, whose addresses clusters made only
// of control-plane nodes announce from (MetalLB's defaults; spec.speakerTolerations come after them).
var defaultSpeakerTolerations = []corev1.Toleration{
	{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: "node-role.kubernetes.io/master", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// newMemberlistKey generates a memberlist key from random.
func newMemberlistKey(random io.Reader) ([]byte, error) {
	raw := make([]byte, memberlistKeyBytes)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, fmt.Errorf("generating the memberlist key: %w", err)
	}
	return []byte(base64.StdEncoding.EncodeToString(raw)), nil
}

// memberlistKeyHash is a digest of the key for the speakers' pod template: it changes with the key and tells
// nothing about it (the key holds 1024 random bits).
func memberlistKeyHash(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

func (r renderer) memberlistSecret(key []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: r.meta(MemberlistSecretName, SpeakerName),
		Type:       corev1.SecretTypeOpaque,
		// Immutable: an apply that would change the key of running speakers fails rather than splitting
		// memberlist; a new key takes deleting the Secret, and then rolls the speakers (the key's hash).
		Immutable: ptrTo(true),
		Data:      map[string][]byte{MemberlistSecretKey: append([]byte(nil), key...)},
	}
}

// memberlistLabels is the speakers' --ml-labels: the pod labels memberlist discovers the other speakers by.
func memberlistLabels() string {
	sel := selector(SpeakerName)
	return LabelApp + "=" + sel[LabelApp] + "," + LabelComponent + "=" + sel[LabelComponent]
}

// speaker is the speaker DaemonSet: on the host network, root with NET_RAW as its only capability (raw ARP
// and NDP sockets; Linux grants a capability to a non-root process only through file capabilities), one node
// at a time on update.
func (r renderer) speaker(key []byte) *appsv1.DaemonSet {
	spec := &r.m.Spec
	args := []string{
		"--namespace=" + r.s.Namespace,
		"--log-level=" + r.logLevel(),
		fmt.Sprintf("--metrics-bind-address=:%d", DefaultSpeakerMetricsPort),
		fmt.Sprintf("--health-probe-bind-address=:%d", r.s.ProbePort),
	}
	if spec.LoadBalancerClass != "" {
		args = append(args, "--lb-class="+spec.LoadBalancerClass)
	}
	if spec.IgnoreExcludeLB {
		args = append(args, "--ignore-exclude-lb")
	}
	liveness, readiness := probes()
	pod := corev1.PodSpec{
		ServiceAccountName:            SpeakerName,
		HostNetwork:                   true,
		DNSPolicy:                     corev1.DNSClusterFirstWithHostNet,
		TerminationGracePeriodSeconds: ptrTo(speakerGracePeriod),
		NodeSelector:                  nodeSelector(spec.SpeakerNodeSelector),
		Tolerations:                   tolerations(defaultSpeakerTolerations, spec.SpeakerTolerations),
		SecurityContext:               runtimeDefaultSeccomp(),
		Volumes: []corev1.Volume{{Name: "memberlist", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: MemberlistSecretName, DefaultMode: ptrTo[int32](0o400)}}}},
		Containers: []corev1.Container{{
			Name:            SpeakerName,
			Image:           r.s.SpeakerImage,
			ImagePullPolicy: r.s.ImagePullPolicy,
			Command:         []string{"/speaker"},
			Args:            args,
			Env: []corev1.EnvVar{
				fieldEnv("METALLB_NODE_NAME", "spec.nodeName"),
				fieldEnv("METALLB_POD_NAME", "metadata.name"),
				fieldEnv("METALLB_ML_BIND_ADDR", "status.podIP"),
				{Name: "METALLB_ML_BIND_PORT", Value: strconv.Itoa(int(r.s.MemberlistPort))},
				{Name: "METALLB_ML_LABELS", Value: memberlistLabels()},
				{Name: "METALLB_ML_SECRET_KEY_PATH", Value: MemberlistKeyPath},
			},
			Ports: []corev1.ContainerPort{
				{Name: portMetrics, ContainerPort: DefaultSpeakerMetricsPort, Protocol: corev1.ProtocolTCP},
				{Name: "memberlist-tcp", ContainerPort: r.s.MemberlistPort, Protocol: corev1.ProtocolTCP},
				{Name: "memberlist-udp", ContainerPort: r.s.MemberlistPort, Protocol: corev1.ProtocolUDP},
				{Name: portHealth, ContainerPort: r.s.ProbePort, Protocol: corev1.ProtocolTCP},
			},
			LivenessProbe:  liveness,
			ReadinessProbe: readiness,
			VolumeMounts:   []corev1.VolumeMount{{Name: "memberlist", MountPath: MemberlistKeyPath, ReadOnly: true}},
			SecurityContext: &corev1.SecurityContext{
				RunAsUser:                ptrTo[int64](0),
				RunAsNonRoot:             ptrTo(false),
				AllowPrivilegeEscalation: ptrTo(false),
				ReadOnlyRootFilesystem:   ptrTo(true),
				Capabilities: &corev1.Capabilities{
					Drop: []corev1.Capability{"ALL"},
					Add:  []corev1.Capability{"NET_RAW"},
				},
			},
		}},
	}
	applyConfig(&pod, spec.SpeakerConfig)
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: r.meta(SpeakerName, SpeakerName),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selector(SpeakerName)},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptrTo(intstr.FromInt32(1))},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: r.labels(SpeakerName),
					Annotations: podAnnotations(spec.SpeakerConfig, map[string]string{
						defaultContainerAnnotation:  SpeakerName,
						AnnotationMemberlistKeyHash: memberlistKeyHash(key),
					}),
				},
				Spec: pod,
			},
		},
	}
}
