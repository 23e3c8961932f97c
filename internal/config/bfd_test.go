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

package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

func TestBFDProfiles(t *testing.T) {
	tests := []struct {
		name    string
		spec    v1beta1.BFDProfileSpec
		want    *BFDProfile
		wantErr []string
	}{
		{
			name: "unset values are left to the implementation",
			want: &BFDProfile{Name: "p"},
		},
		{
			name: "every value at its bounds",
			spec: v1beta1.BFDProfileSpec{
				ReceiveInterval: new(uint32(10)), TransmitInterval: new(uint32(60000)), DetectMultiplier: new(uint32(255)),
				EchoInterval: new(uint32(10)), EchoMode: new(true), PassiveMode: new(false), MinimumTTL: new(uint32(1)),
			},
			want: &BFDProfile{
				Name: "p", ReceiveInterval: new(uint32(10)), TransmitInterval: new(uint32(60000)), DetectMultiplier: new(uint32(255)),
				EchoInterval: new(uint32(10)), EchoMode: true, MinimumTTL: new(uint32(1)),
			},
		},
		{
			name: "every value out of range",
			spec: v1beta1.BFDProfileSpec{
				ReceiveInterval: new(uint32(9)), TransmitInterval: new(uint32(60001)), DetectMultiplier: new(uint32(1)),
				EchoInterval: new(uint32(0)), MinimumTTL: new(uint32(255)),
			},
			wantErr: []string{
				`BFDProfile "p": spec.receiveInterval: Invalid value: 9: invalid receive interval value: invalid value 9, must be in 10-60000 range`,
				`BFDProfile "p": spec.transmitInterval: Invalid value: 60001: invalid transmit interval value: invalid value 60001, must be in 10-60000 range`,
				`BFDProfile "p": spec.detectMultiplier: Invalid value: 1: invalid detect multiplier value: invalid value 1, must be in 2-255 range`,
				`BFDProfile "p": spec.echoInterval: Invalid value: 0: invalid echo interval value: invalid value 0, must be in 10-60000 range`,
				`BFDProfile "p": spec.minimumTtl: Invalid value: 255: invalid minimum ttl value: invalid value 255, must be in 1-254 range`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			profile := v1beta1.BFDProfile{ObjectMeta: objectMeta("p"), Spec: tt.spec}
			cfg, err := Parse(Resources{BFDProfiles: []v1beta1.BFDProfile{profile}})
			if diff := cmp.Diff(tt.wantErr, errorLines(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, cfg.BFDProfiles["p"]); diff != "" {
				t.Errorf("profile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBFDProfileNames(t *testing.T) {
	got := parseErrors(t, Resources{BFDProfiles: []v1beta1.BFDProfile{
		{ObjectMeta: objectMeta("fast")}, {ObjectMeta: objectMeta("fast")}, {ObjectMeta: objectMeta("")},
	}})
	want := []string{
		`BFDProfile "": metadata.name: Required value: missing bfd profile name`,
		`BFDProfile "fast": metadata.name: Duplicate value: "fast": found duplicate bfd profile name fast`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
