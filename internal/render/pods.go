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
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Port names of the operands' containers, which the Services and the probes refer to.
const (
	portMetrics = "metrics"
	portHealth  = "health"
	portWebhook = "webhook"
)

// linuxNodeSelector is where both binaries run: they are built for Linux only.
const osLabel = "kubernetes.io/os"

// nodeSelector is the selector of a spec field, always on Linux nodes: the spec cannot ask for another OS.
func nodeSelector(spec map[string]string) map[string]string {
	sel := maps.Clone(spec)
	if sel == nil {
		sel = map[string]string{}
	}
	sel[osLabel] = "linux"
	return sel
}

// tolerations copies the spec's tolerations after the defaults.
func tolerations(defaults, spec []corev1.Toleration) []corev1.Toleration {
	var ts []corev1.Toleration
	ts = append(ts, defaults...)
	for i := range spec {
		ts = append(ts, *spec[i].DeepCopy())
	}
	return ts
}

// podAnnotations are the spec's pod annotations with the renderer's own, which win.
func podAnnotations(c *v1beta1.Config, own map[string]string) map[string]string {
	a := map[string]string{}
	if c != nil {
		maps.Copy(a, c.Annotations)
	}
	maps.Copy(a, own)
	return a
}

// applyConfig applies a controllerConfig or speakerConfig to a pod: priority and runtime classes, affinity
// (replaced, as MetalLB does) and the resources of the main container, the first one.
func applyConfig(pod *corev1.PodSpec, c *v1beta1.Config) {
	if c == nil {
		return
	}
	pod.PriorityClassName = c.PriorityClassName
	if c.RuntimeClassName != "" {
		pod.RuntimeClassName = ptrTo(c.RuntimeClassName)
	}
	pod.Affinity = c.Affinity.DeepCopy()
	if c.Resources != nil {
		pod.Containers[0].Resources = *c.Resources.DeepCopy()
	}
}

// probes are the liveness and readiness probes of both binaries, on their health port.
func probes() (liveness, readiness *corev1.Probe) {
	get := func(path string) corev1.ProbeHandler {
		return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(portHealth)}}
	}
	liveness = &corev1.Probe{ProbeHandler: get("/healthz"),
		InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	readiness = &corev1.Probe{ProbeHandler: get("/readyz"),
		PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	return liveness, readiness
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
}

// runtimeDefaultSeccomp is the pods' seccomp profile, which the restricted Pod Security level requires.
func runtimeDefaultSeccomp() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
}
