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
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CertDir is where the controller's webhook server reads its certificate, which its rotator writes: an
// emptyDir, since the root filesystem is read-only (internal/webhook DefaultCertDir).
const CertDir = "/tmp/k8s-webhook-server/serving-certs"

// controller is the controller Deployment: one replica, replaced rather than rolled (Recreate), because the
// controller runs without leader election and two allocators at once could give one address twice.
func (r renderer) controller() *appsv1.Deployment {
	spec := &r.m.Spec
	args := []string{
		"--namespace=" + r.s.Namespace,
		"--log-level=" + r.logLevel(),
		fmt.Sprintf("--metrics-bind-address=:%d", DefaultControllerMetricsPort),
		fmt.Sprintf("--health-probe-bind-address=:%d", r.s.ProbePort),
	}
	if spec.LoadBalancerClass != "" {
		args = append(args, "--lb-class="+spec.LoadBalancerClass)
	}
	ports := []corev1.ContainerPort{
		{Name: portMetrics, ContainerPort: DefaultControllerMetricsPort, Protocol: corev1.ProtocolTCP},
		{Name: portHealth, ContainerPort: r.s.ProbePort, Protocol: corev1.ProtocolTCP},
	}
	var mounts []corev1.VolumeMount
	var volumes []corev1.Volume
	if r.o.webhooks {
		args = append(args, "--webhook-mode=enabled",
			fmt.Sprintf("--webhook-port=%d", WebhookPort),
			"--cert-dir="+CertDir,
			"--cert-service-name="+WebhookServiceName)
		ports = append(ports, corev1.ContainerPort{Name: portWebhook, ContainerPort: WebhookPort, Protocol: corev1.ProtocolTCP})
		mounts = []corev1.VolumeMount{{Name: "cert", MountPath: CertDir}}
		volumes = []corev1.Volume{{Name: "cert", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	} else {
		args = append(args, "--webhook-mode=disabled")
	}
	liveness, readiness := probes()
	pod := corev1.PodSpec{
		ServiceAccountName: ControllerName,
		NodeSelector:       nodeSelector(spec.ControllerNodeSelector),
		Tolerations:        tolerations(nil, spec.ControllerTolerations),
		SecurityContext:    runtimeDefaultSeccomp(),
		Volumes:            volumes,
		Containers: []corev1.Container{{
			Name:            ControllerName,
			Image:           r.s.ControllerImage,
			ImagePullPolicy: r.s.ImagePullPolicy,
			Command:         []string{"/controller"},
			Args:            args,
			Env:             []corev1.EnvVar{fieldEnv("METALLB_POD_NAME", "metadata.name")},
			Ports:           ports,
			LivenessProbe:   liveness,
			ReadinessProbe:  readiness,
			VolumeMounts:    mounts,
			SecurityContext: &corev1.SecurityContext{
				RunAsNonRoot:             ptrTo(true),
				AllowPrivilegeEscalation: ptrTo(false),
				ReadOnlyRootFilesystem:   ptrTo(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
	pod.SecurityContext.RunAsNonRoot = ptrTo(true)
	applyConfig(&pod, spec.ControllerConfig)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: r.meta(ControllerName, ControllerName),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrTo[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector(ControllerName)},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: r.labels(ControllerName),
					Annotations: podAnnotations(spec.ControllerConfig,
						map[string]string{defaultContainerAnnotation: ControllerName}),
				},
				Spec: pod,
			},
		},
	}
}
