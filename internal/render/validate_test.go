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
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

func TestValidate(t *testing.T) {
	weighted := func(w int32) *corev1.Affinity {
		return &corev1.Affinity{
			NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: w}}},
			PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
				{Weight: w, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}}},
			PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
				{Weight: w, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}}},
		}
	}
	seconds := int64(30)
	tests := []struct {
		name string
		spec v1beta1.MetalLBSpec
		// want lists "field: type" of the errors, in order.
		want []string
		// message is a part of the first error's message.
		message string
	}{
		{name: "empty"},
		{name: "every log level", spec: v1beta1.MetalLBSpec{LogLevel: "none"}},
		{name: "log level", spec: v1beta1.MetalLBSpec{LogLevel: "trace"}, want: []string{"spec.logLevel: FieldValueNotSupported"}},
		{name: "log level is case-sensitive, as the CRD's enum", spec: v1beta1.MetalLBSpec{LogLevel: "Debug"},
			want: []string{"spec.logLevel: FieldValueNotSupported"}},
		{name: "class", spec: v1beta1.MetalLBSpec{LoadBalancerClass: "example.com/ferrolb"}},
		{name: "bad class", spec: v1beta1.MetalLBSpec{LoadBalancerClass: "a/b/c"}, want: []string{"spec.loadBalancerClass: FieldValueInvalid"}},
		{name: "native", spec: v1beta1.MetalLBSpec{BGPBackend: v1beta1.NativeMode}},
		{name: "frr", spec: v1beta1.MetalLBSpec{BGPBackend: v1beta1.FRRMode},
			want: []string{"spec.bgpBackend: FieldValueInvalid"}, message: "ferrolb embeds its own BGP speaker (GoBGP)"},
		{name: "frr-k8s", spec: v1beta1.MetalLBSpec{BGPBackend: v1beta1.FRRK8sMode},
			want: []string{"spec.bgpBackend: FieldValueInvalid"}, message: "ferrolb embeds its own BGP speaker (GoBGP)"},
		{name: "frr-k8s-external", spec: v1beta1.MetalLBSpec{BGPBackend: v1beta1.FRRK8sExternalMode},
			want: []string{"spec.bgpBackend: FieldValueInvalid"}, message: "ferrolb embeds its own BGP speaker (GoBGP)"},
		{name: "unknown backend", spec: v1beta1.MetalLBSpec{BGPBackend: "bird"},
			want: []string{"spec.bgpBackend: FieldValueNotSupported"}, message: `supported values: "native"`},
		{name: "frr-k8s settings are ignored", spec: v1beta1.MetalLBSpec{FRRK8SConfig: &v1beta1.FRRK8SConfig{AlwaysBlock: []string{"nonsense"}}}},
		{name: "node selectors", spec: v1beta1.MetalLBSpec{SpeakerNodeSelector: map[string]string{"a b": "c"},
			ControllerNodeSelector: map[string]string{"ok": "not ok!"}},
			want: []string{"spec.nodeSelector: FieldValueInvalid", "spec.controllerNodeSelector: FieldValueInvalid"}},
		{name: "tolerationSeconds with NoExecute", spec: v1beta1.MetalLBSpec{
			SpeakerTolerations: []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds}}}},
		{name: "tolerationSeconds without NoExecute", spec: v1beta1.MetalLBSpec{
			SpeakerTolerations:    []corev1.Toleration{{Key: "a"}, {Key: "b", Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: &seconds}},
			ControllerTolerations: []corev1.Toleration{{Key: "c", TolerationSeconds: &seconds}}},
			want: []string{"spec.speakerTolerations[1].effect: FieldValueInvalid", "spec.controllerTolerations[0].effect: FieldValueInvalid"}},
		{name: "weights in range", spec: v1beta1.MetalLBSpec{
			SpeakerConfig: &v1beta1.Config{Affinity: weighted(1)}, ControllerConfig: &v1beta1.Config{Affinity: weighted(100)}}},
		{name: "weights out of range", spec: v1beta1.MetalLBSpec{SpeakerConfig: &v1beta1.Config{Affinity: weighted(101)}},
			want: []string{
				"spec.speakerConfig.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: FieldValueInvalid",
				"spec.speakerConfig.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: FieldValueInvalid",
				"spec.speakerConfig.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: FieldValueInvalid",
			}},
		{name: "class names and annotations", spec: v1beta1.MetalLBSpec{ControllerConfig: &v1beta1.Config{
			PriorityClassName: "High", RuntimeClassName: "kata_containers", Annotations: map[string]string{"not/a/key": "v"}}},
			want: []string{"spec.controllerConfig.priorityClassName: FieldValueInvalid",
				"spec.controllerConfig.runtimeClassName: FieldValueInvalid",
				"spec.controllerConfig.annotations: FieldValueInvalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(&v1beta1.MetalLB{Spec: tt.spec})
			var got []string
			for _, e := range errs {
				got = append(got, e.Field+": "+string(e.Type))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%v", diff, errs)
			}
			if tt.message != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.message)) {
				t.Errorf("errors %v, want the first to say %q", errs, tt.message)
			}
		})
	}
}

// TestRenderInvalid: Render refuses with an *InvalidError carrying Validate's errors.
func TestRenderInvalid(t *testing.T) {
	m := &v1beta1.MetalLB{Spec: v1beta1.MetalLBSpec{BGPBackend: v1beta1.FRRMode, LogLevel: "loud"}}
	objs, err := Render(m, testSettings)
	if objs != nil {
		t.Errorf("objects rendered for an invalid resource")
	}
	var invalid *InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("error %v is not an *InvalidError", err)
	}
	if diff := cmp.Diff(Validate(m), invalid.Errors); diff != "" {
		t.Errorf("errors (-Validate +Render):\n%s", diff)
	}
	for _, want := range []string{field.NewPath("spec", "bgpBackend").String(), field.NewPath("spec", "logLevel").String(), "GoBGP"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
