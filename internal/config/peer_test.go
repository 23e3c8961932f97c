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
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func duration(d time.Duration) *metav1.Duration {
	return &metav1.Duration{Duration: d}
}

func TestParsePeer(t *testing.T) {
	tests := []struct {
		name string
		peer v1beta2.BGPPeer
		want *Peer
	}{
		{
			name: "minimal: default port, every node, speaker's timers",
			peer: bgpPeer("minimal"),
			want: &Peer{Name: "minimal", MyASN: 64512, PeerASN: 64513, Address: netip.MustParseAddr("192.0.2.1"), Port: 179},
		},
		{
			name: "everything set",
			peer: bgpPeer("full", func(s *v1beta2.BGPPeerSpec) {
				s.MyASN, s.ASN = 4200000000, 0
				s.DynamicASN = v1beta2.ExternalASNMode
				s.LocalASN = 65000
				s.PeerAddress = "2001:db8::1"
				s.SrcAddress = "2001:db8::2"
				s.Port = 1179
				s.HoldTime, s.KeepaliveTime = duration(9*time.Second), duration(2*time.Second)
				s.ConnectTime = duration(5 * time.Second)
				s.RouterID = "10.0.0.1"
				s.NodeSelectors = []metav1.LabelSelector{selector(map[string]string{"rack": "r1"})}
				s.Password = "secret"
				s.BFDProfile = "fast"
				s.EnableGracefulRestart = true
				s.EBGPMultiHop = true
				s.VRFName = "red"
				s.DualStackAddressFamily = true
			}),
			want: &Peer{
				Name:                   "full",
				MyASN:                  4200000000,
				DynamicASN:             v1beta2.ExternalASNMode,
				LocalASN:               65000,
				Address:                netip.MustParseAddr("2001:db8::1"),
				SourceAddress:          netip.MustParseAddr("2001:db8::2"),
				Port:                   1179,
				HoldTime:               new(9 * time.Second),
				KeepaliveTime:          new(2 * time.Second),
				ConnectTime:            new(5 * time.Second),
				RouterID:               netip.MustParseAddr("10.0.0.1"),
				NodeSelectors:          []labels.Selector{mustSelector(t, "rack=r1")},
				Password:               "secret",
				BFDProfile:             "fast",
				EnableGracefulRestart:  true,
				EBGPMultiHop:           true,
				VRF:                    "red",
				DualStackAddressFamily: true,
			},
		},
		{
			name: "unnumbered",
			peer: bgpPeer("unnumbered", func(s *v1beta2.BGPPeerSpec) {
				s.PeerAddress, s.Interface = "", "eth1"
			}),
			want: &Peer{Name: "unnumbered", MyASN: 64512, PeerASN: 64513, Interface: "eth1", Port: 179},
		},
		{
			name: "IPv4-mapped address is IPv4",
			peer: bgpPeer("mapped", func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "::ffff:192.0.2.1" }),
			want: &Peer{Name: "mapped", MyASN: 64512, PeerASN: 64513, Address: netip.MustParseAddr("192.0.2.1"), Port: 179},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, Resources{
				Peers:       []v1beta2.BGPPeer{tt.peer},
				BFDProfiles: []v1beta1.BFDProfile{{ObjectMeta: objectMeta("fast")}},
			})
			if diff := cmp.Diff(tt.want, cfg.Peers[tt.peer.Name], cmpOptions); diff != "" {
				t.Errorf("peer (-want +got):\n%s", diff)
			}
			if !cfg.Peers[tt.peer.Name].SelectsNode(labels.Set{"rack": "r1"}) {
				t.Errorf("SelectsNode(rack=r1) = false, want true")
			}
		})
	}
}

func TestPeerErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*v1beta2.BGPPeerSpec)
		want   []string
	}{
		{
			name:   "missing local ASN",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.MyASN = 0 },
			want:   []string{`BGPPeer "p": spec.myASN: Required value: missing local ASN`},
		},
		{
			name:   "missing peer ASN",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.ASN = 0 },
			want:   []string{`BGPPeer "p": spec.peerASN: Required value: missing peer ASN and dynamicASN`},
		},
		{
			name:   "peer ASN and dynamic ASN",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.DynamicASN = v1beta2.ExternalASNMode },
			want:   []string{`BGPPeer "p": spec.dynamicASN: Invalid value: "external": both peer ASN and dynamicASN specified`},
		},
		{
			name:   "unknown dynamic ASN mode",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.ASN, s.DynamicASN = 0, "sideways" },
			want:   []string{`BGPPeer "p": spec.dynamicASN: Invalid value: "sideways": invalid dynamicASN sideways`},
		},
		{
			name:   "eBGP multi-hop on iBGP",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.ASN, s.EBGPMultiHop = s.MyASN, true },
			want:   []string{`BGPPeer "p": spec.ebgpMultiHop: Invalid value: true: invalid ebgp-multihop parameter set for an ibgp peer`},
		},
		{
			name:   "eBGP multi-hop on internal dynamic ASN",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.ASN, s.DynamicASN, s.EBGPMultiHop = 0, v1beta2.InternalASNMode, true },
			want:   []string{`BGPPeer "p": spec.ebgpMultiHop: Invalid value: true: invalid ebgp-multihop parameter set for an ibgp peer`},
		},
		{
			name:   "neither address nor interface",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "" },
			want:   []string{`BGPPeer "p": spec.peerAddress: Required value: peer has no Address or Interface specified`},
		},
		{
			name:   "address and interface",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth0" },
			want:   []string{`BGPPeer "p": spec.interface: Invalid value: "eth0": peer has both Address and Interface specified`},
		},
		{
			name:   "bad address",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "192.0.2.300" },
			want:   []string{`BGPPeer "p": spec.peerAddress: Invalid value: "192.0.2.300": invalid BGPPeer address "192.0.2.300"`},
		},
		{
			name:   "address with zone",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "fe80::1%eth0" },
			want:   []string{`BGPPeer "p": spec.peerAddress: Invalid value: "fe80::1%eth0": invalid BGPPeer address "fe80::1%eth0"`},
		},
		{
			name:   "bad source address",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.SrcAddress = "here" },
			want:   []string{`BGPPeer "p": spec.sourceAddress: Invalid value: "here": invalid source IP "here"`},
		},
		{
			name:   "bad router ID",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.RouterID = "1.2.3" },
			want:   []string{`BGPPeer "p": spec.routerID: Invalid value: "1.2.3": invalid router ID "1.2.3"`},
		},
		{
			name:   "IPv6 router ID",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.RouterID = "2001:db8::1" },
			want:   []string{`BGPPeer "p": spec.routerID: Invalid value: "2001:db8::1": invalid router ID "2001:db8::1": must be a non-zero IPv4 address`},
		},
		{
			name:   "port above the API's range",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.Port = 16385 },
			want:   []string{`BGPPeer "p": spec.peerPort: Invalid value: 16385: must be in 1-16384 range`},
		},
		{
			name: "line breaks",
			mutate: func(s *v1beta2.BGPPeerSpec) {
				s.PeerAddress, s.Interface, s.VRFName, s.Password = "", "eth0\n", "red\r", "pass\nword"
			},
			want: []string{
				`BGPPeer "p": spec.interface: Invalid value: "eth0\n": interface for peer "ferrolb-system"/"p" contains invalid characters`,
				`BGPPeer "p": spec.password: Invalid value: password for peer "ferrolb-system"/"p" contains invalid characters`,
				`BGPPeer "p": spec.vrf: Invalid value: "red\r": VRF name for peer "ferrolb-system"/"p" contains invalid characters`,
			},
		},
		{
			name:   "connect time out of range and not whole seconds",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.ConnectTime = duration(500 * time.Millisecond) },
			want: []string{
				`BGPPeer "p": spec.connectTime: Invalid value: "500ms": connect time should be between 1 seconds to 65535`,
				`BGPPeer "p": spec.connectTime: Invalid value: "500ms": connect time should contain a whole number of seconds`,
			},
		},
		{
			name:   "connect time too long",
			mutate: func(s *v1beta2.BGPPeerSpec) { s.ConnectTime = duration(65536 * time.Second) },
			want:   []string{`BGPPeer "p": spec.connectTime: Invalid value: "18h12m16s": connect time should be between 1 seconds to 65535`},
		},
		{
			name: "duplicate node selectors",
			mutate: func(s *v1beta2.BGPPeerSpec) {
				s.NodeSelectors = []metav1.LabelSelector{selector(map[string]string{"a": "b"}), selector(map[string]string{"a": "b"})}
			},
			want: []string{`BGPPeer "p": spec.nodeSelectors[1]: Duplicate value: "a=b": duplicate definition of nodeSelectors "a=b"`},
		},
		{
			name: "every problem of a peer",
			mutate: func(s *v1beta2.BGPPeerSpec) {
				*s = v1beta2.BGPPeerSpec{RouterID: "x"}
			},
			want: []string{
				`BGPPeer "p": spec.myASN: Required value: missing local ASN`,
				`BGPPeer "p": spec.peerASN: Required value: missing peer ASN and dynamicASN`,
				`BGPPeer "p": spec.peerAddress: Required value: peer has no Address or Interface specified`,
				`BGPPeer "p": spec.routerID: Invalid value: "x": invalid router ID "x"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, Resources{Peers: []v1beta2.BGPPeer{bgpPeer("p", tt.mutate)}})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeerTimers(t *testing.T) {
	tests := []struct {
		name             string
		hold, keepalive  *metav1.Duration
		wantHold, wantKA *time.Duration
		wantErr          []string
	}{
		{name: "neither: left to the speaker"},
		{name: "hold only: keepalive a third", hold: duration(90 * time.Second), wantHold: new(90 * time.Second), wantKA: new(30 * time.Second)},
		{name: "keepalive only: hold three times", keepalive: duration(10 * time.Second), wantHold: new(30 * time.Second), wantKA: new(10 * time.Second)},
		{name: "both", hold: duration(9 * time.Second), keepalive: duration(9 * time.Second), wantHold: new(9 * time.Second), wantKA: new(9 * time.Second)},
		{name: "zero hold disables keepalives", hold: duration(0), wantHold: new(time.Duration(0)), wantKA: new(time.Duration(0))},
		{
			name: "zero timers of a converted v1beta1 peer", hold: duration(0), keepalive: duration(0),
			wantHold: new(time.Duration(0)), wantKA: new(time.Duration(0)),
		},
		{name: "hold 3s", hold: duration(3 * time.Second), wantHold: new(3 * time.Second), wantKA: new(time.Second)},
		{name: "hold of 3.5s counts whole seconds", hold: duration(3500 * time.Millisecond), wantHold: new(3500 * time.Millisecond), wantKA: new(3500 * time.Millisecond / 3)},
		{
			name: "hold under 3s", hold: duration(2 * time.Second),
			wantErr: []string{`BGPPeer "p": spec.holdTime: Invalid value: "2s": invalid hold time "2s": must be 0 or >=3s`},
		},
		{
			name: "hold of 2.9s counts whole seconds", hold: duration(2900 * time.Millisecond),
			wantErr: []string{`BGPPeer "p": spec.holdTime: Invalid value: "2.9s": invalid hold time "2.9s": must be 0 or >=3s`},
		},
		{
			name: "negative hold", hold: duration(-time.Second),
			wantErr: []string{`BGPPeer "p": spec.holdTime: Invalid value: "-1s": invalid hold time "-1s": must be 0 or >=3s`},
		},
		{
			name: "hold beyond two octets of seconds", hold: duration(65536 * time.Second),
			wantErr: []string{`BGPPeer "p": spec.holdTime: Invalid value: "18h12m16s": invalid hold time "18h12m16s": must be at most 65535s`},
		},
		{
			name: "derived hold under 3s is reported on the keepalive", keepalive: duration(900 * time.Millisecond),
			wantErr: []string{`BGPPeer "p": spec.keepaliveTime: Invalid value: "2.7s": invalid hold time "2.7s": must be 0 or >=3s`},
		},
		{
			name: "keepalive above hold", hold: duration(9 * time.Second), keepalive: duration(10 * time.Second),
			wantErr: []string{`BGPPeer "p": spec.keepaliveTime: Invalid value: "10s": invalid keepaliveTime "10s", must be lower than holdTime "9s"`},
		},
		{
			name: "negative keepalive", hold: duration(9 * time.Second), keepalive: duration(-time.Second),
			wantErr: []string{`BGPPeer "p": spec.keepaliveTime: Invalid value: "-1s": invalid keepaliveTime "-1s", must not be negative`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := bgpPeer("p", func(s *v1beta2.BGPPeerSpec) { s.HoldTime, s.KeepaliveTime = tt.hold, tt.keepalive })
			cfg, err := Parse(Resources{Peers: []v1beta2.BGPPeer{peer}})
			if diff := cmp.Diff(tt.wantErr, errorLines(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			got := cfg.Peers["p"]
			if diff := cmp.Diff([2]*time.Duration{tt.wantHold, tt.wantKA}, [2]*time.Duration{got.HoldTime, got.KeepaliveTime}); diff != "" {
				t.Errorf("[hold, keepalive] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeerPassword(t *testing.T) {
	basicAuth := func(name string, data map[string][]byte) corev1.Secret {
		return corev1.Secret{ObjectMeta: objectMeta(name), Type: corev1.SecretTypeBasicAuth, Data: data}
	}
	secrets := map[string]corev1.Secret{
		"good":    basicAuth("good", map[string][]byte{"password": []byte("from-secret")}),
		"no-key":  basicAuth("no-key", map[string][]byte{"username": []byte("u")}),
		"newline": basicAuth("newline", map[string][]byte{"password": []byte("a\nb")}),
		"opaque":  {ObjectMeta: objectMeta("opaque"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("x")}},
	}
	tests := []struct {
		name          string
		password      string
		secret        string
		want          string
		wantErr       []string
		wantTransient bool
	}{
		{name: "none"},
		{name: "inline", password: "inline", want: "inline"},
		{name: "from a basic-auth secret", secret: "good", want: "from-secret"},
		{
			name: "both", password: "inline", secret: "good",
			wantErr: []string{`BGPPeer "p": spec.passwordSecret: Invalid value: "good": can not have both password and secret ref set in peer config "ferrolb-system"/"p"`},
		},
		{
			name: "missing secret is transient", secret: "missing", wantTransient: true,
			wantErr: []string{`BGPPeer "p": spec.passwordSecret: Not found: "missing": secret ref not found for peer config "ferrolb-system"/"p"`},
		},
		{
			name: "not basic-auth", secret: "opaque",
			wantErr: []string{`BGPPeer "p": spec.passwordSecret: Invalid value: "opaque": secret type mismatch on "ferrolb-system"/"opaque", type "kubernetes.io/basic-auth" is expected`},
		},
		{
			name: "no password key", secret: "no-key",
			wantErr: []string{`BGPPeer "p": spec.passwordSecret: Invalid value: "no-key": password not specified in the secret "ferrolb-system"/"no-key"`},
		},
		{
			name: "line break in the secret", secret: "newline",
			wantErr: []string{`BGPPeer "p": spec.passwordSecret: Invalid value: "newline": password secret for peer "ferrolb-system"/"p" contains invalid characters`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := bgpPeer("p", func(s *v1beta2.BGPPeerSpec) {
				s.Password, s.PasswordSecret = tt.password, corev1.SecretReference{Name: tt.secret, Namespace: namespace}
			})
			cfg, err := Parse(Resources{Peers: []v1beta2.BGPPeer{peer}, PasswordSecrets: secrets})
			if diff := cmp.Diff(tt.wantErr, errorLines(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				if got := errors.Is(err, ErrTransient); got != tt.wantTransient {
					t.Errorf("errors.Is(err, ErrTransient) = %v, want %v", got, tt.wantTransient)
				}
				return
			}
			if got := cfg.Peers["p"].Password; got != tt.want {
				t.Errorf("password = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPeerBFDProfileReference(t *testing.T) {
	peer := bgpPeer("p", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "fast" })

	got := parseErrors(t, Resources{Peers: []v1beta2.BGPPeer{peer}})
	want := []string{`BGPPeer "p": spec.bfdProfile: Not found: "fast": peer p referencing non existing bfd profile fast`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("without the profile (-want +got):\n%s", diff)
	}

	invalidProfile := v1beta1.BFDProfile{ObjectMeta: objectMeta("fast"), Spec: v1beta1.BFDProfileSpec{DetectMultiplier: new(uint32(1))}}
	got = parseErrors(t, Resources{Peers: []v1beta2.BGPPeer{peer}, BFDProfiles: []v1beta1.BFDProfile{invalidProfile}})
	want = []string{`BFDProfile "fast": spec.detectMultiplier: Invalid value: 1: invalid detect multiplier value: invalid value 1, must be in 2-255 range`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with an invalid profile, only the profile is reported (-want +got):\n%s", diff)
	}
}

func TestSpeakerCapabilities(t *testing.T) {
	unusual := bgpPeer("unusual", func(s *v1beta2.BGPPeerSpec) {
		s.ASN, s.DynamicASN = 0, v1beta2.ExternalASNMode
		s.PeerAddress, s.Interface = "", "eth1"
		s.LocalASN = 65000
		s.BFDProfile = "fast"
		s.VRFName = "red"
	})
	res := Resources{
		Peers:       []v1beta2.BGPPeer{unusual, bgpPeer("plain")},
		BFDProfiles: []v1beta1.BFDProfile{{ObjectMeta: objectMeta("fast")}},
	}
	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{name: "not checked without the option"},
		{
			name: "embedded speaker",
			opts: []Option{WithSpeakerCapabilities(SpeakerCapabilities{})},
			want: []string{
				`BGPPeer "unusual": spec.bfdProfile: Forbidden: not supported by the BGP speaker`,
				`BGPPeer "unusual": spec.vrf: Forbidden: not supported by the BGP speaker`,
				`BGPPeer "unusual": spec.interface: Forbidden: not supported by the BGP speaker`,
				`BGPPeer "unusual": spec.localASN: Forbidden: not supported by the BGP speaker`,
				`BGPPeer "unusual": spec.dynamicASN: Forbidden: not supported by the BGP speaker`,
			},
		},
		{
			name: "speaker with every feature",
			opts: []Option{WithSpeakerCapabilities(SpeakerCapabilities{BFD: true, VRF: true, Unnumbered: true, LocalASN: true, DynamicASN: true})},
		},
		{
			name: "speaker with some features",
			opts: []Option{WithSpeakerCapabilities(SpeakerCapabilities{BFD: true, Unnumbered: true, DynamicASN: true})},
			want: []string{
				`BGPPeer "unusual": spec.vrf: Forbidden: not supported by the BGP speaker`,
				`BGPPeer "unusual": spec.localASN: Forbidden: not supported by the BGP speaker`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, res, tt.opts...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
