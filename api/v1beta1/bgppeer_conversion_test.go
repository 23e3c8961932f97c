package v1beta1

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func TestBGPPeerConvertTo(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "peer", Namespace: "metallb-system", Labels: map[string]string{"a": "b"}}
	tests := []struct {
		name string
		in   BGPPeerSpec
		want v1beta2.BGPPeerSpec
	}{
		{
			name: "timers unset become pointers to zero, as MetalLB converts them",
			in:   BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: "10.0.0.1"},
			want: v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, PeerAddress: "10.0.0.1",
				HoldTime: &metav1.Duration{}, KeepaliveTime: &metav1.Duration{}},
		},
		{
			name: "every field",
			in: BGPPeerSpec{
				MyASN: 4200000000, ASN: 4200000001, Address: "fd00::1", SrcAddress: "fd00::2", Port: 1179,
				HoldTime: metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: metav1.Duration{Duration: 30 * time.Second},
				RouterID: "10.0.0.3", Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
				NodeSelectors: []NodeSelector{{
					MatchLabels:      map[string]string{"rack": "r1"},
					MatchExpressions: []MatchExpression{{Key: "zone", Operator: "In", Values: []string{"a", "b"}}},
				}},
			},
			want: v1beta2.BGPPeerSpec{
				MyASN: 4200000000, ASN: 4200000001, PeerAddress: "fd00::1", SrcAddress: "fd00::2", Port: 1179,
				HoldTime: &metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: &metav1.Duration{Duration: 30 * time.Second},
				RouterID: "10.0.0.3", Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
				NodeSelectors: []metav1.LabelSelector{{
					MatchLabels:      map[string]string{"rack": "r1"},
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}},
				}},
			},
		},
		{
			name: "an empty legacy selector becomes an empty selector",
			in:   BGPPeerSpec{MyASN: 1, ASN: 2, Address: "10.0.0.1", NodeSelectors: []NodeSelector{{}}},
			want: v1beta2.BGPPeerSpec{MyASN: 1, ASN: 2, PeerAddress: "10.0.0.1",
				HoldTime: &metav1.Duration{}, KeepaliveTime: &metav1.Duration{}, NodeSelectors: []metav1.LabelSelector{{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &BGPPeer{ObjectMeta: meta, Spec: tt.in}
			dst := &v1beta2.BGPPeer{}
			if err := src.ConvertTo(dst); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, dst.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(meta, dst.ObjectMeta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBGPPeerConvertFromDropsV1beta2OnlyFields(t *testing.T) {
	hub := &v1beta2.BGPPeer{Spec: v1beta2.BGPPeerSpec{
		MyASN: 64500, DynamicASN: v1beta2.ExternalASNMode, LocalASN: 64999, Interface: "eth1",
		ConnectTime: &metav1.Duration{Duration: 5 * time.Second}, VRFName: "red", EnableGracefulRestart: true,
		DisableMP: true, DualStackAddressFamily: true, NodeSelectors: []metav1.LabelSelector{{}},
	}}
	hub.Spec.PasswordSecret.Name = "s"
	got := &BGPPeer{}
	if err := got.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	want := BGPPeerSpec{MyASN: 64500, NodeSelectors: []NodeSelector{{MatchLabels: map[string]string{}, MatchExpressions: []MatchExpression{}}}}
	if diff := cmp.Diff(want, got.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
}

// TestBGPPeerRoundTrip checks v1beta1 → v1beta2 → v1beta1 is lossless for every v1beta1 field, and
// v1beta2 → v1beta1 → v1beta2 keeps every field v1beta1 can carry.
func TestBGPPeerRoundTrip(t *testing.T) {
	specs := []BGPPeerSpec{
		{MyASN: 64500, ASN: 64501, Address: "10.0.0.1"},
		{MyASN: 4294967295, ASN: 1, Address: "fd00::1", SrcAddress: "fd00::2", Port: 16384,
			HoldTime: metav1.Duration{Duration: 9 * time.Second}, KeepaliveTime: metav1.Duration{Duration: 3 * time.Second},
			RouterID: "1.2.3.4", Password: "p", BFDProfile: "b", EBGPMultiHop: true,
			NodeSelectors: []NodeSelector{{MatchLabels: map[string]string{"k": "v"},
				MatchExpressions: []MatchExpression{{Key: "x", Operator: "NotIn", Values: []string{"y"}}}}}},
	}
	for _, spec := range specs {
		orig := &BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: spec}
		hub := &v1beta2.BGPPeer{}
		if err := orig.ConvertTo(hub); err != nil {
			t.Fatal(err)
		}
		back := &BGPPeer{}
		if err := back.ConvertFrom(hub); err != nil {
			t.Fatal(err)
		}
		// ConvertFrom allocates empty label maps and expression lists, as MetalLB does; compare semantically.
		if diff := cmp.Diff(orig.Spec, back.Spec, cmp.Transformer("selectors", normaliseSelectors)); diff != "" {
			t.Errorf("v1beta1 round trip (-want +got):\n%s", diff)
		}
		hubAgain := &v1beta2.BGPPeer{}
		if err := back.ConvertTo(hubAgain); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(hub.Spec, hubAgain.Spec); diff != "" {
			t.Errorf("v1beta2 round trip (-want +got):\n%s", diff)
		}
	}
}

func normaliseSelectors(in []NodeSelector) []NodeSelector {
	out := make([]NodeSelector, 0, len(in))
	for _, s := range in {
		if len(s.MatchLabels) == 0 {
			s.MatchLabels = nil
		}
		if len(s.MatchExpressions) == 0 {
			s.MatchExpressions = nil
		}
		out = append(out, s)
	}
	return out
}
