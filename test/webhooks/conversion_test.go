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

package webhooks_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// The API server stores BGPPeers as v1beta2 and converts through the /convert webhook the handlers serve.
var _ = Describe("BGPPeer conversion", func() {
	key := client.ObjectKey{Namespace: ns, Name: "tor"}

	It("reads a v1beta1 peer back as v1beta2", func(ctx context.Context) {
		before := warnings.count()
		Expect(k8s.Create(ctx, &v1beta1.BGPPeer{ObjectMeta: meta("tor"), Spec: v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
			HoldTime: metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: metav1.Duration{Duration: 30 * time.Second},
			RouterID: "10.0.0.1", Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
			NodeSelectors: []v1beta1.NodeSelector{{
				MatchLabels:      map[string]string{"rack": "1"},
				MatchExpressions: []v1beta1.MatchExpression{{Key: "zone", Operator: "In", Values: []string{"a", "b"}}},
			}},
		}})).To(Succeed())
		Expect(warnings.since(before)).To(ContainElement(ContainSubstring("v1beta1 is deprecated")))

		got := &v1beta2.BGPPeer{}
		Expect(k8s.Get(ctx, key, got)).To(Succeed())
		Expect(got.Spec).To(Equal(v1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, PeerAddress: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
			HoldTime: &metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: &metav1.Duration{Duration: 30 * time.Second},
			RouterID: "10.0.0.1", Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
			NodeSelectors: []metav1.LabelSelector{{
				MatchLabels:      map[string]string{"rack": "1"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}},
			}},
		}))
	})

	It("gives a v1beta1 peer without timers zero timers, as MetalLB does", func(ctx context.Context) {
		Expect(k8s.Create(ctx, &v1beta1.BGPPeer{ObjectMeta: meta("tor"), Spec: v1beta1.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "192.0.2.1"}})).To(Succeed())
		got := &v1beta2.BGPPeer{}
		Expect(k8s.Get(ctx, key, got)).To(Succeed())
		Expect(got.Spec.HoldTime).To(Equal(&metav1.Duration{}))
		Expect(got.Spec.KeepaliveTime).To(Equal(&metav1.Duration{}))
	})

	It("reads a v1beta2 peer back as v1beta1, without the fields v1beta1 lacks", func(ctx context.Context) {
		Expect(k8s.Create(ctx, peer("tor", func(s *v1beta2.BGPPeerSpec) {
			s.HoldTime, s.KeepaliveTime, s.ConnectTime = duration("90s"), duration("30s"), duration("10s")
			s.LocalASN, s.VRFName, s.DualStackAddressFamily, s.EnableGracefulRestart = 64600, "red", true, true
			s.PasswordSecret = corev1.SecretReference{Name: "tor-password", Namespace: ns}
			s.NodeSelectors = []metav1.LabelSelector{selector("rack", "1")}
		}))).To(Succeed())

		got := &v1beta1.BGPPeer{}
		Expect(k8s.Get(ctx, key, got)).To(Succeed())
		Expect(got.Spec).To(Equal(v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "192.0.2.1", Port: 179,
			HoldTime: metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: metav1.Duration{Duration: 30 * time.Second},
			NodeSelectors: []v1beta1.NodeSelector{{MatchLabels: map[string]string{"rack": "1"}}},
		}))

		// Stored as v1beta2, the peer keeps every field.
		stored := &v1beta2.BGPPeer{}
		Expect(k8s.Get(ctx, key, stored)).To(Succeed())
		Expect(stored.Spec.VRFName).To(Equal("red"))
		Expect(stored.Spec.PasswordSecret.Name).To(Equal("tor-password"))
	})

	It("lists peers of both versions in either version", func(ctx context.Context) {
		Expect(k8s.Create(ctx, peer("new"))).To(Succeed())
		Expect(k8s.Create(ctx, &v1beta1.BGPPeer{ObjectMeta: meta("old"), Spec: v1beta1.BGPPeerSpec{MyASN: 64512, ASN: 64514, Address: "192.0.2.2"}})).To(Succeed())
		v1 := &v1beta1.BGPPeerList{}
		Expect(k8s.List(ctx, v1, client.InNamespace(ns))).To(Succeed())
		Expect(v1.Items).To(HaveLen(2))
		v2 := &v1beta2.BGPPeerList{}
		Expect(k8s.List(ctx, v2, client.InNamespace(ns))).To(Succeed())
		Expect(v2.Items).To(HaveLen(2))
	})
})
