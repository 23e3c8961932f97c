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
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The operator's environment variables (reference metallb-operator §2.5, MetalLB's names).
const (
	// EnvNamespace is the operator's namespace, where the operands go (required; the downward API's
	// metadata.namespace).
	EnvNamespace = "OPERATOR_NAMESPACE"
	// EnvControllerImage is the controller's image (required).
	EnvControllerImage = "CONTROLLER_IMAGE"
	// EnvSpeakerImage is the speaker's image (required).
	EnvSpeakerImage = "SPEAKER_IMAGE"
	// EnvMemberlistPort is the port the speakers' memberlist binds to on the host network (default 7946).
	EnvMemberlistPort = "MEMBER_LIST_BIND_PORT"
	// EnvProbePort is the port of both operands' /healthz and /readyz (default 17472). On the speakers it is a
	// port of the host.
	EnvProbePort = "OPERAND_LIVENESS_PORT"
	// EnvImagePullPolicy is the operands' image pull policy: Always, IfNotPresent or Never (default
	// IfNotPresent). ferrolb's own: a lab preloads its images and uses Never.
	EnvImagePullPolicy = "IMAGE_PULL_POLICY"
)

// Default ports, the binaries' flag defaults (cmd/controller, cmd/speaker).
const (
	DefaultMemberlistPort        int32 = 7946
	DefaultProbePort             int32 = 17472
	DefaultControllerMetricsPort int32 = 9120
	DefaultSpeakerMetricsPort    int32 = 7472
	WebhookPort                  int32 = 9443
)

// Settings are what the operator knows about the operands besides the MetalLB resource: where they go and
// which images they run.
type Settings struct {
	// Namespace is ferrolb's namespace: the operands, and the configuration they read, are there.
	Namespace string
	// ControllerImage and SpeakerImage are the operands' images.
	ControllerImage, SpeakerImage string
	// ImagePullPolicy is the operands' pull policy; IfNotPresent if empty.
	ImagePullPolicy corev1.PullPolicy
	// MemberlistPort is the speakers' memberlist port (TCP and UDP); DefaultMemberlistPort if zero.
	MemberlistPort int32
	// ProbePort is the port of /healthz and /readyz; DefaultProbePort if zero.
	ProbePort int32
}

// SettingsFromEnv reads the settings from the operator's environment through getenv (os.Getenv). A missing
// required variable or an invalid optional one is an error; all of them are named in one error, so that a
// misconfigured operator says everything that is wrong at its first start.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	s := Settings{
		Namespace:       get(EnvNamespace),
		ControllerImage: get(EnvControllerImage),
		SpeakerImage:    get(EnvSpeakerImage),
		ImagePullPolicy: corev1.PullPolicy(get(EnvImagePullPolicy)),
	}
	var missing []string
	for _, v := range []struct{ name, value string }{
		{EnvNamespace, s.Namespace}, {EnvControllerImage, s.ControllerImage}, {EnvSpeakerImage, s.SpeakerImage},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("missing required environment variables: %s", strings.Join(missing, ", ")))
	}
	for _, p := range []struct {
		name string
		port *int32
	}{{EnvMemberlistPort, &s.MemberlistPort}, {EnvProbePort, &s.ProbePort}} {
		v := get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("invalid %s %q: must be a port number, 1 to 65535", p.name, v))
			continue
		}
		*p.port = int32(n)
	}
	if err := s.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("reading the operator's environment: %w", err)
	}
	return s.withDefaults(), nil
}

// validate checks what SettingsFromEnv cannot have checked when the settings are built by hand; required
// fields are checked by Render.
func (s Settings) validate() error {
	switch s.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return nil
	}
	return fmt.Errorf("invalid %s %q: must be one of Always, IfNotPresent, Never", EnvImagePullPolicy, s.ImagePullPolicy)
}

// complete reports the required settings that are missing, by their environment variable.
func (s Settings) complete() error {
	var missing []string
	if s.Namespace == "" {
		missing = append(missing, "Namespace ("+EnvNamespace+")")
	}
	if s.ControllerImage == "" {
		missing = append(missing, "ControllerImage ("+EnvControllerImage+")")
	}
	if s.SpeakerImage == "" {
		missing = append(missing, "SpeakerImage ("+EnvSpeakerImage+")")
	}
	if len(missing) > 0 {
		return fmt.Errorf("incomplete settings: missing %s", strings.Join(missing, ", "))
	}
	return s.validate()
}

func (s Settings) withDefaults() Settings {
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = corev1.PullIfNotPresent
	}
	if s.MemberlistPort == 0 {
		s.MemberlistPort = DefaultMemberlistPort
	}
	if s.ProbePort == 0 {
		s.ProbePort = DefaultProbePort
	}
	return s
}
