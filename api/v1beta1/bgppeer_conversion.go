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

package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/ferrolb/ferrolb/api/v1beta2"
)

var _ conversion.Convertible = &BGPPeer{}

// ConvertTo converts this v1beta1 BGPPeer to the v1beta2 hub. Timers become non-nil pointers to the
// (possibly zero) v1beta1 values, as MetalLB converts them, so a peer reads back identically under both
// controllers.
func (src *BGPPeer) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*v1beta2.BGPPeer)
	dst.ObjectMeta = src.ObjectMeta
	dst.Spec = v1beta2.BGPPeerSpec{
		MyASN:         src.Spec.MyASN,
		ASN:           src.Spec.ASN,
		PeerAddress:   src.Spec.Address,
		SrcAddress:    src.Spec.SrcAddress,
		Port:          src.Spec.Port,
		HoldTime:      &metav1.Duration{Duration: src.Spec.HoldTime.Duration},
		KeepaliveTime: &metav1.Duration{Duration: src.Spec.KeepaliveTime.Duration},
		RouterID:      src.Spec.RouterID,
		NodeSelectors: labelSelectorsFromLegacy(src.Spec.NodeSelectors),
		Password:      src.Spec.Password,
		BFDProfile:    src.Spec.BFDProfile,
		EBGPMultiHop:  src.Spec.EBGPMultiHop,
	}
	return nil
}

// ConvertFrom converts the v1beta2 hub to this v1beta1 BGPPeer. Fields v1beta1 does not have (localASN,
// dynamicASN, interface, connectTime, passwordSecret, vrf, enableGracefulRestart, disableMP,
// dualStackAddressFamily) are dropped.
func (dst *BGPPeer) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*v1beta2.BGPPeer)
	dst.ObjectMeta = src.ObjectMeta
	dst.Spec = BGPPeerSpec{
		MyASN:         src.Spec.MyASN,
		ASN:           src.Spec.ASN,
		Address:       src.Spec.PeerAddress,
		SrcAddress:    src.Spec.SrcAddress,
		Port:          src.Spec.Port,
		RouterID:      src.Spec.RouterID,
		NodeSelectors: legacyFromLabelSelectors(src.Spec.NodeSelectors),
		Password:      src.Spec.Password,
		BFDProfile:    src.Spec.BFDProfile,
		EBGPMultiHop:  src.Spec.EBGPMultiHop,
	}
	if src.Spec.HoldTime != nil {
		dst.Spec.HoldTime = *src.Spec.HoldTime
	}
	if src.Spec.KeepaliveTime != nil {
		dst.Spec.KeepaliveTime = *src.Spec.KeepaliveTime
	}
	return nil
}

func labelSelectorsFromLegacy(in []NodeSelector) []metav1.LabelSelector {
	if in == nil {
		return nil
	}
	out := make([]metav1.LabelSelector, 0, len(in))
	for _, s := range in {
		var ls metav1.LabelSelector
		if len(s.MatchLabels) > 0 {
			ls.MatchLabels = make(map[string]string, len(s.MatchLabels))
			for k, v := range s.MatchLabels {
				ls.MatchLabels[k] = v
			}
		}
		for _, e := range s.MatchExpressions {
			ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
				Key:      e.Key,
				Operator: metav1.LabelSelectorOperator(e.Operator),
				Values:   append([]string(nil), e.Values...),
			})
		}
		out = append(out, ls)
	}
	return out
}

func legacyFromLabelSelectors(in []metav1.LabelSelector) []NodeSelector {
	if in == nil {
		return nil
	}
	out := make([]NodeSelector, 0, len(in))
	for _, s := range in {
		ns := NodeSelector{
			MatchLabels:      map[string]string{},
			MatchExpressions: []MatchExpression{},
		}
		for k, v := range s.MatchLabels {
			ns.MatchLabels[k] = v
		}
		for _, e := range s.MatchExpressions {
			ns.MatchExpressions = append(ns.MatchExpressions, MatchExpression{
				Key:      e.Key,
				Operator: string(e.Operator),
				Values:   append([]string(nil), e.Values...),
			})
		}
		out = append(out, ns)
	}
	return out
}
