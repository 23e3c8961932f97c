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

package memberlist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ml "github.com/hashicorp/memberlist"
)

func TestLoadConfigFile(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" means: no file
		want    func(*Tuning)
		wantErr string
	}{
		{
			name: "every MetalLB key",
			content: `{
				"TCPTimeout": "5s", "IndirectChecks": 2, "RetransmitMult": 3, "SuspicionMult": 5,
				"SuspicionMaxTimeoutMult": 7, "PushPullInterval": "20s", "ProbeTimeout": "300ms",
				"ProbeInterval": "600ms", "DisableTcpPings": true, "AwarenessMaxMultiplier": 4,
				"GossipNodes": 5, "GossipInterval": "150ms", "GossipToTheDeadTime": "45s",
				"GossipVerifyIncoming": false, "GossipVerifyOutgoing": false, "EnableCompression": false,
				"HandoffQueueDepth": 2048, "UDPBufferSize": 9000, "QueueCheckInterval": "1m"
			}`,
			want: func(t *Tuning) {
				*t = Tuning{
					TCPTimeout: 5 * time.Second, IndirectChecks: 2, RetransmitMult: 3, SuspicionMult: 5,
					SuspicionMaxTimeoutMult: 7, PushPullInterval: 20 * time.Second,
					ProbeTimeout: 300 * time.Millisecond, ProbeInterval: 600 * time.Millisecond,
					DisableTcpPings: true, AwarenessMaxMultiplier: 4, GossipNodes: 5,
					GossipInterval: 150 * time.Millisecond, GossipToTheDeadTime: 45 * time.Second,
					HandoffQueueDepth: 2048, UDPBufferSize: 9000, QueueCheckInterval: time.Minute,
				}
			},
		},
		{
			name:    "absent keys keep the base profile",
			content: `{"ProbeInterval": "1s", "SuspicionMult": 4}`,
			want: func(t *Tuning) {
				t.ProbeInterval = time.Second
				t.SuspicionMult = 4
			},
		},
		{
			name:    "keys match case-insensitively like encoding/json",
			content: `{"probeInterval": "1s"}`,
			want:    func(t *Tuning) { t.ProbeInterval = time.Second },
		},
		{
			name:    "empty object",
			content: `{}`,
			want:    func(*Tuning) {},
		},
		{
			name:    "unknown key",
			content: `{"ProbeInterval": "1s", "ProbeIntervall": "2s"}`,
			wantErr: `unknown key "ProbeIntervall"`,
		},
		{
			name:    "bad duration",
			content: `{"GossipInterval": "fast"}`,
			wantErr: `key "GossipInterval": time: invalid duration "fast"`,
		},
		{
			name:    "duration as a number",
			content: `{"ProbeTimeout": 500}`,
			wantErr: `key "ProbeTimeout": want a duration string`,
		},
		{
			name:    "count as a string",
			content: `{"IndirectChecks": "3"}`,
			wantErr: `key "IndirectChecks": want an integer`,
		},
		{
			name:    "value that would disable probing",
			content: `{"ProbeInterval": "0s"}`,
			wantErr: "ProbeInterval must be positive",
		},
		{
			name:    "not an object",
			content: `["ProbeInterval"]`,
			wantErr: "decoding JSON",
		},
		{
			name:    "missing file",
			wantErr: "reading memberlist config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			base := FastTimers()
			got, err := LoadConfigFile(path, base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfigFile() error = %v, want it to contain %q", err, tt.wantErr)
				}
				if diff := cmp.Diff(base, got); diff != "" {
					t.Errorf("on error, LoadConfigFile() must return base (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfigFile() error = %v", err)
			}
			want := base
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("LoadConfigFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProfilesAreValid(t *testing.T) {
	tests := []struct {
		name string
		t    Tuning
	}{
		{name: "fast", t: FastTimers()},
		{name: "wan", t: WANTimers()},
		{name: "memberlist LAN", t: fromConfig(ml.DefaultLANConfig())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.t.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFastTimersArithmetic pins the relations FastTimers' detection budget relies on, so a retune
// that breaks one of them fails here rather than in the field.
func TestFastTimersArithmetic(t *testing.T) {
	ft := FastTimers()
	// Suspicion for N ≤ 10 (memberlist scales by max(1, log10 N)).
	suspicion := time.Duration(ft.SuspicionMult) * ft.ProbeInterval
	// First probe ≤ one interval, probe window one interval, then suspicion, then one gossip hop.
	worst := 2*ft.ProbeInterval + suspicion + ft.GossipInterval
	if worst > 1200*time.Millisecond {
		t.Errorf("detection budget %s, want ≤ 1.2s", worst)
	}
	// Lifeguard needs k = SuspicionMult-2 ≥ 1 confirmations, so one sick prober cannot evict alone.
	if ft.SuspicionMult-2 < 1 {
		t.Errorf("SuspicionMult %d gives k < 1", ft.SuspicionMult)
	}
	// Indirect probes only happen if ProbeTimeout leaves room inside the probe window.
	if ft.ProbeTimeout >= ft.ProbeInterval {
		t.Errorf("ProbeTimeout %s ≥ ProbeInterval %s: indirect probes never get a chance", ft.ProbeTimeout, ft.ProbeInterval)
	}
	// A paused member must still be a gossip target for as long as its death notice is being
	// retransmitted, or it never sees the notice and cannot refute it. For N ≤ 1000 a broadcast is sent
	// RetransmitMult × ceil(log10(N+1)) ≤ 4 × RetransmitMult times, GossipNodes per GossipInterval.
	sends := 4 * ft.RetransmitMult
	window := time.Duration((sends+ft.GossipNodes-1)/ft.GossipNodes) * ft.GossipInterval
	if ft.GossipToTheDeadTime < 4*window {
		t.Errorf("GossipToTheDeadTime %s < 4 × retransmit window %s", ft.GossipToTheDeadTime, window)
	}
}
