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
	"regexp"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// LogLevels are the values of spec.logLevel, the binaries' --log-level.
var LogLevels = []string{"all", "debug", "info", "warn", "error", "none"}

// DefaultLogLevel is the level of an empty spec.logLevel.
const DefaultLogLevel = "info"

// loadBalancerClassPattern is the CRD's pattern of spec.loadBalancerClass.
var loadBalancerClassPattern = regexp.MustCompile(`^([a-z0-9A-Z]([\w.\-]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([\w.\-]*[a-z0-9A-Z])?$`)

// embeddedSpeakerMessage is why MetalLB's FRR backends are refused.
const embeddedSpeakerMessage = "ferrolb embeds its own BGP speaker (GoBGP) and runs no FRR: use \"native\" or leave bgpBackend empty"

// InvalidError is Render's error for a MetalLB resource that cannot be deployed as it is: retrying cannot
// help until the resource changes.
type InvalidError struct {
	// Errors name the offending fields, from spec.
	Errors field.ErrorList
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid MetalLB resource: %v", e.Errors.ToAggregate())
}

// Validate checks the spec of a MetalLB resource: what its CRD already checks (a resource may predate a
// rule, and a rule lives once: here) and what the API server would only refuse in the rendered objects,
// named by the MetalLB field rather than by a Deployment's. It is MetalLB's validation (reference
// metallb-operator §1.4) without the frr-k8s rules, plus ferrolb's refusal of FRR backends.
func Validate(m *v1beta1.MetalLB) field.ErrorList {
	spec := field.NewPath("spec")
	s := &m.Spec
	var errs field.ErrorList

	switch s.LogLevel {
	case "", "all", "debug", "info", "warn", "error", "none":
	default:
		errs = append(errs, field.NotSupported(spec.Child("logLevel"), s.LogLevel, LogLevels))
	}
	if s.LoadBalancerClass != "" && !loadBalancerClassPattern.MatchString(s.LoadBalancerClass) {
		errs = append(errs, field.Invalid(spec.Child("loadBalancerClass"), s.LoadBalancerClass,
			"must be a qualified name, such as example.com/ferrolb"))
	}
	switch s.BGPBackend {
	case "", v1beta1.NativeMode:
	case v1beta1.FRRMode, v1beta1.FRRK8sMode, v1beta1.FRRK8sExternalMode:
		errs = append(errs, field.Invalid(spec.Child("bgpBackend"), s.BGPBackend, embeddedSpeakerMessage))
	default:
		errs = append(errs, field.NotSupported(spec.Child("bgpBackend"), s.BGPBackend, []string{string(v1beta1.NativeMode)}))
	}

	errs = append(errs, metav1validation.ValidateLabels(s.SpeakerNodeSelector, spec.Child("nodeSelector"))...)
	errs = append(errs, metav1validation.ValidateLabels(s.ControllerNodeSelector, spec.Child("controllerNodeSelector"))...)
	errs = append(errs, validateTolerations(s.SpeakerTolerations, spec.Child("speakerTolerations"))...)
	errs = append(errs, validateTolerations(s.ControllerTolerations, spec.Child("controllerTolerations"))...)
	errs = append(errs, validateConfig(s.SpeakerConfig, spec.Child("speakerConfig"))...)
	errs = append(errs, validateConfig(s.ControllerConfig, spec.Child("controllerConfig"))...)
	return errs
}

// validateTolerations is MetalLB's rule (and the CRD's): a toleration with tolerationSeconds must be for
// NoExecute, the only effect that evicts.
func validateTolerations(ts []corev1.Toleration, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		if t.TolerationSeconds != nil && *t.TolerationSeconds > 0 && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(path.Index(i).Child("effect"), t.Effect,
				"must be NoExecute when tolerationSeconds is set"))
		}
	}
	return errs
}

func validateConfig(c *v1beta1.Config, path *field.Path) field.ErrorList {
	if c == nil {
		return nil
	}
	var errs field.ErrorList
	for _, n := range []struct{ name, value string }{
		{"priorityClassName", c.PriorityClassName}, {"runtimeClassName", c.RuntimeClassName},
	} {
		if n.value == "" {
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(n.value) {
			errs = append(errs, field.Invalid(path.Child(n.name), n.value, msg))
		}
	}
	errs = append(errs, apivalidation.ValidateAnnotations(c.Annotations, path.Child("annotations"))...)
	if a := c.Affinity; a != nil {
		ap := path.Child("affinity")
		if a.NodeAffinity != nil {
			for i, t := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				errs = append(errs, validateWeight(t.Weight,
					ap.Child("nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution").Index(i).Child("weight"))...)
			}
		}
		if a.PodAffinity != nil {
			for i, t := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				errs = append(errs, validateWeight(t.Weight,
					ap.Child("podAffinity", "preferredDuringSchedulingIgnoredDuringExecution").Index(i).Child("weight"))...)
			}
		}
		if a.PodAntiAffinity != nil {
			for i, t := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				errs = append(errs, validateWeight(t.Weight,
					ap.Child("podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution").Index(i).Child("weight"))...)
			}
		}
	}
	return errs
}

// validateWeight is the API server's rule for preferred scheduling terms, which MetalLB checks for node and
// pod affinity and ferrolb for anti-affinity too.
func validateWeight(w int32, path *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(path, w, "must be in the range 1-100")}
	}
	return nil
}
