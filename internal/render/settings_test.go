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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestSettingsFromEnv(t *testing.T) {
	required := map[string]string{
		EnvNamespace:       "metallb-system",
		EnvControllerImage: "quay.io/ferrolb/ferrolb:v0.1.0",
		EnvSpeakerImage:    "quay.io/ferrolb/ferrolb:v0.1.0",
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range required {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	defaults := Settings{
		Namespace:       "metallb-system",
		ControllerImage: "quay.io/ferrolb/ferrolb:v0.1.0",
		SpeakerImage:    "quay.io/ferrolb/ferrolb:v0.1.0",
		ImagePullPolicy: corev1.PullIfNotPresent,
		MemberlistPort:  7946,
		ProbePort:       17472,
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Settings
		wantErr string
	}{
		{name: "required only", env: required, want: defaults},
		{
			name: "optional ones",
			env:  with(map[string]string{EnvMemberlistPort: "7947", EnvProbePort: " 27472 ", EnvImagePullPolicy: "Never"}),
			want: func() Settings {
				s := defaults
				s.MemberlistPort, s.ProbePort, s.ImagePullPolicy = 7947, 27472, corev1.PullNever
				return s
			}(),
		},
		{
			name: "surrounding blanks are not values",
			env:  with(map[string]string{EnvNamespace: "  lb-system\n"}),
			want: func() Settings { s := defaults; s.Namespace = "lb-system"; return s }(),
		},
		{
			name:    "nothing set names every required variable",
			env:     map[string]string{},
			wantErr: "reading the operator's environment: missing required environment variables: OPERATOR_NAMESPACE, CONTROLLER_IMAGE, SPEAKER_IMAGE",
		},
		{
			name:    "blank is missing",
			env:     with(map[string]string{EnvSpeakerImage: "  "}),
			wantErr: "reading the operator's environment: missing required environment variables: SPEAKER_IMAGE",
		},
		{
			name: "every problem at once",
			env: map[string]string{EnvControllerImage: "x", EnvMemberlistPort: "70000", EnvProbePort: "http",
				EnvImagePullPolicy: "Sometimes"},
			wantErr: "reading the operator's environment: missing required environment variables: OPERATOR_NAMESPACE, SPEAKER_IMAGE\n" +
				"invalid MEMBER_LIST_BIND_PORT \"70000\": must be a port number, 1 to 65535\n" +
				"invalid OPERAND_LIVENESS_PORT \"http\": must be a port number, 1 to 65535\n" +
				"invalid IMAGE_PULL_POLICY \"Sometimes\": must be one of Always, IfNotPresent, Never",
		},
		{
			name:    "port zero",
			env:     with(map[string]string{EnvProbePort: "0"}),
			wantErr: "reading the operator's environment: invalid OPERAND_LIVENESS_PORT \"0\": must be a port number, 1 to 65535",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SettingsFromEnv(func(name string) string { return tt.env[name] })
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRenderIncompleteSettings: settings built by hand are checked too.
func TestRenderIncompleteSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings Settings
		wantErr  string
	}{
		{name: "zero", wantErr: "incomplete settings: missing Namespace (OPERATOR_NAMESPACE), ControllerImage (CONTROLLER_IMAGE), SpeakerImage (SPEAKER_IMAGE)"},
		{name: "no speaker image", settings: Settings{Namespace: "ns", ControllerImage: "img"},
			wantErr: "incomplete settings: missing SpeakerImage (SPEAKER_IMAGE)"},
		{name: "bad pull policy", settings: Settings{Namespace: "ns", ControllerImage: "img", SpeakerImage: "img", ImagePullPolicy: "sometimes"},
			wantErr: `invalid IMAGE_PULL_POLICY "sometimes": must be one of Always, IfNotPresent, Never`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(readMetalLB(t, "empty.yaml"), tt.settings)
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
