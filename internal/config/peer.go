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
	"cmp"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta2"
)

const (
	// defaultPeerPort is BGP's TCP port (RFC 4271), the default of spec.peerPort.
	defaultPeerPort = 179
	// maxPeerPort is the highest spec.peerPort MetalLB's API allows.
	maxPeerPort = 16384
	// maxHoldTime is the longest hold time the two octets of an OPEN message carry (RFC 4271 §4.2).
	maxHoldTime = 65535 * time.Second
	// maxConnectTime is the longest spec.connectTime MetalLB's API allows.
	maxConnectTime = 65535 * time.Second
)

// Peer is a validated BGPPeer: a BGP session that the speakers of the selected nodes open.
type Peer struct {
	Name string
	// MyASN is the local AS.
	MyASN uint32
	// PeerASN is the AS expected from the peer; 0 when DynamicASN is set.
	PeerASN uint32
	// DynamicASN accepts any internal or external AS from the peer; empty when PeerASN is set.
	DynamicASN v1beta2.DynamicASNMode
	// LocalASN replaces MyASN towards this peer; 0 when unset.
	LocalASN uint32
	// Address is the address to dial; the zero Addr when Interface is set.
	Address netip.Addr
	// Interface is the interface of a BGP unnumbered session.
	Interface string
	// SourceAddress is the address to dial from; the zero Addr lets the system choose.
	SourceAddress netip.Addr
	// Port is the port to dial, 179 unless set.
	Port uint16
	// HoldTime is the hold time to propose; nil leaves it to the speaker. Only one of HoldTime and
	// KeepaliveTime being set, the other is derived from it.
	HoldTime *time.Duration
	// KeepaliveTime is the interval between keepalives; nil when HoldTime is nil.
	KeepaliveTime *time.Duration
	// ConnectTime is the interval between connection attempts, in whole seconds; nil leaves it to the speaker.
	ConnectTime *time.Duration
	// RouterID is the BGP identifier to present; the zero Addr leaves it to the speaker.
	RouterID netip.Addr
	// NodeSelectors select the nodes that open the session; empty means every node.
	NodeSelectors []labels.Selector
	// Password is the TCP MD5 signature password (RFC 2385), from spec.password or from the passwordSecret.
	// Never log it.
	Password string
	// BFDProfile names the BFD profile of the session, empty for none.
	BFDProfile string
	// EnableGracefulRestart negotiates graceful restart (RFC 4724).
	EnableGracefulRestart bool
	// EBGPMultiHop allows an eBGP peer more than one hop away.
	EBGPMultiHop bool
	// VRF is the host VRF to open the session in, empty for the default one.
	VRF string
	// DualStackAddressFamily activates both address families on the session.
	DualStackAddressFamily bool
}

// SelectsNode reports whether the node with the labels opens the session.
func (p *Peer) SelectsNode(nodeLabels labels.Labels) bool {
	return matchesAny(p.NodeSelectors, nodeLabels)
}

func (p *parser) parsePeers() {
	for _, obj := range p.objs.peers {
		if !p.claimName(kindPeer, obj.Name) {
			continue
		}
		peer, errs := p.parsePeer(obj)
		p.errs.add(kindPeer, obj.Name, errs...)
		p.cfg.Peers[obj.Name] = peer
	}
}

func (p *parser) parsePeer(obj *v1beta2.BGPPeer) (*Peer, field.ErrorList) {
	s := &obj.Spec
	spec := field.NewPath("spec")
	peer := &Peer{
		Name:                   obj.Name,
		MyASN:                  s.MyASN,
		PeerASN:                s.ASN,
		DynamicASN:             s.DynamicASN,
		LocalASN:               s.LocalASN,
		Interface:              s.Interface,
		Port:                   cmp.Or(s.Port, defaultPeerPort),
		BFDProfile:             s.BFDProfile,
		EnableGracefulRestart:  s.EnableGracefulRestart,
		EBGPMultiHop:           s.EBGPMultiHop,
		VRF:                    s.VRFName,
		DualStackAddressFamily: s.DualStackAddressFamily,
	}

	errs := validateASNs(spec, s)
	errs = append(errs, parseEndpoints(spec, obj, peer)...)

	var fieldErrs field.ErrorList
	peer.HoldTime, peer.KeepaliveTime, fieldErrs = parseTimers(spec, s)
	errs = append(errs, fieldErrs...)
	if s.ConnectTime != nil {
		peer.ConnectTime, fieldErrs = parseConnectTime(spec.Child("connectTime"), s.ConnectTime)
		errs = append(errs, fieldErrs...)
	}
	peer.NodeSelectors, fieldErrs = parseSelectors(spec, "nodeSelectors", s.NodeSelectors)
	errs = append(errs, fieldErrs...)
	peer.Password, fieldErrs = p.parsePassword(spec, obj)
	errs = append(errs, fieldErrs...)

	if s.BFDProfile != "" && p.cfg.BFDProfiles[s.BFDProfile] == nil {
		errs = append(errs, notFound(spec.Child("bfdProfile"), s.BFDProfile,
			fmt.Sprintf("peer %s referencing non existing bfd profile %s", obj.Name, s.BFDProfile)))
	}
	if lineBreak(s.VRFName) {
		errs = append(errs, field.Invalid(spec.Child("vrf"), s.VRFName,
			fmt.Sprintf("VRF name for peer %q/%q contains invalid characters", obj.Namespace, obj.Name)))
	}
	if p.opts.speaker != nil {
		errs = append(errs, unsupportedFeatures(spec, s, *p.opts.speaker)...)
	}
	return peer, errs
}

func validateASNs(spec *field.Path, s *v1beta2.BGPPeerSpec) field.ErrorList {
	var errs field.ErrorList
	if s.MyASN == 0 {
		errs = append(errs, field.Required(spec.Child("myASN"), "missing local ASN"))
	}
	switch {
	case s.ASN == 0 && s.DynamicASN == "":
		errs = append(errs, field.Required(spec.Child("peerASN"), "missing peer ASN and dynamicASN"))
	case s.ASN != 0 && s.DynamicASN != "":
		errs = append(errs, field.Invalid(spec.Child("dynamicASN"), s.DynamicASN, "both peer ASN and dynamicASN specified"))
	}
	if s.DynamicASN != "" && s.DynamicASN != v1beta2.InternalASNMode && s.DynamicASN != v1beta2.ExternalASNMode {
		errs = append(errs, field.Invalid(spec.Child("dynamicASN"), s.DynamicASN, fmt.Sprintf("invalid dynamicASN %s", s.DynamicASN)))
	}
	iBGP := (s.ASN != 0 && s.ASN == s.MyASN) || s.DynamicASN == v1beta2.InternalASNMode
	if s.EBGPMultiHop && iBGP {
		errs = append(errs, field.Invalid(spec.Child("ebgpMultiHop"), true, "invalid ebgp-multihop parameter set for an ibgp peer"))
	}
	return errs
}

// parseEndpoints parses where the session goes to and comes from: address or interface, port, source address
// and router ID.
func parseEndpoints(spec *field.Path, obj *v1beta2.BGPPeer, peer *Peer) field.ErrorList {
	s := &obj.Spec
	var errs field.ErrorList
	switch {
	case s.PeerAddress == "" && s.Interface == "":
		errs = append(errs, field.Required(spec.Child("peerAddress"), "peer has no Address or Interface specified"))
	case s.PeerAddress != "" && s.Interface != "":
		errs = append(errs, field.Invalid(spec.Child("interface"), s.Interface, "peer has both Address and Interface specified"))
	}
	if s.PeerAddress != "" {
		addr, ok := parseIP(s.PeerAddress)
		if !ok {
			errs = append(errs, field.Invalid(spec.Child("peerAddress"), s.PeerAddress, fmt.Sprintf("invalid BGPPeer address %q", s.PeerAddress)))
		}
		peer.Address = addr
	}
	if lineBreak(s.Interface) {
		errs = append(errs, field.Invalid(spec.Child("interface"), s.Interface,
			fmt.Sprintf("interface for peer %q/%q contains invalid characters", obj.Namespace, obj.Name)))
	}
	if s.Port > maxPeerPort {
		errs = append(errs, field.Invalid(spec.Child("peerPort"), s.Port, fmt.Sprintf("must be in 1-%d range", maxPeerPort)))
	}
	if s.SrcAddress != "" {
		addr, ok := parseIP(s.SrcAddress)
		if !ok {
			errs = append(errs, field.Invalid(spec.Child("sourceAddress"), s.SrcAddress, fmt.Sprintf("invalid source IP %q", s.SrcAddress)))
		}
		peer.SourceAddress = addr
	}
	if s.RouterID != "" {
		addr, ok := parseIP(s.RouterID)
		switch {
		case !ok:
			errs = append(errs, field.Invalid(spec.Child("routerID"), s.RouterID, fmt.Sprintf("invalid router ID %q", s.RouterID)))
		case !addr.Is4() || addr.IsUnspecified():
			// RFC 6286 §2.1: the BGP Identifier is a non-zero 4-octet number. MetalLB accepts any IP here,
			// but neither FRR nor GoBGP can use anything else.
			errs = append(errs, field.Invalid(spec.Child("routerID"), s.RouterID,
				fmt.Sprintf("invalid router ID %q: must be a non-zero IPv4 address", s.RouterID)))
		}
		peer.RouterID = addr
	}
	return errs
}

// parseTimers returns the hold time and keepalive interval of a session, as MetalLB derives them: with only one
// of them set, the keepalive interval is a third of the hold time, as RFC 4271 §10 suggests.
func parseTimers(spec *field.Path, s *v1beta2.BGPPeerSpec) (hold, keepalive *time.Duration, errs field.ErrorList) {
	holdPath, keepalivePath := spec.Child("holdTime"), spec.Child("keepaliveTime")
	switch {
	case s.HoldTime == nil && s.KeepaliveTime == nil:
		return nil, nil, nil
	case s.KeepaliveTime == nil:
		hold, keepalive = new(s.HoldTime.Duration), new(s.HoldTime.Duration/3)
	case s.HoldTime == nil:
		hold, keepalive = new(3*s.KeepaliveTime.Duration), new(s.KeepaliveTime.Duration)
		holdPath = keepalivePath // the hold time is derived from it
	default:
		hold, keepalive = new(s.HoldTime.Duration), new(s.KeepaliveTime.Duration)
	}

	if s.KeepaliveTime != nil && s.KeepaliveTime.Duration < 0 {
		return hold, keepalive, field.ErrorList{field.Invalid(keepalivePath, keepalive.String(),
			fmt.Sprintf("invalid keepaliveTime %q, must not be negative", *keepalive))}
	}
	// RFC 4271 §4.2: the hold time is a whole number of seconds, 0 or at least 3, in two octets. Like MetalLB
	// and the API server's CEL rule, check the whole seconds only.
	seconds := hold.Truncate(time.Second)
	switch {
	case *hold < 0 || (seconds != 0 && seconds < 3*time.Second):
		errs = append(errs, field.Invalid(holdPath, hold.String(), fmt.Sprintf("invalid hold time %q: must be 0 or >=3s", *hold)))
	case seconds > maxHoldTime:
		errs = append(errs, field.Invalid(holdPath, hold.String(), fmt.Sprintf("invalid hold time %q: must be at most %ds", *hold, maxHoldTime/time.Second)))
	}
	// A derived value always fits; only two given ones can disagree.
	if s.HoldTime != nil && s.KeepaliveTime != nil && *keepalive > *hold {
		errs = append(errs, field.Invalid(keepalivePath, keepalive.String(),
			fmt.Sprintf("invalid keepaliveTime %q, must be lower than holdTime %q", *keepalive, *hold)))
	}
	return hold, keepalive, errs
}

// parseConnectTime enforces the API server's CEL rules on spec.connectTime, with their messages.
func parseConnectTime(path *field.Path, connect *metav1.Duration) (*time.Duration, field.ErrorList) {
	d := connect.Duration
	var errs field.ErrorList
	if seconds := d.Truncate(time.Second); seconds < time.Second || seconds > maxConnectTime {
		errs = append(errs, field.Invalid(path, d.String(), "connect time should be between 1 seconds to 65535"))
	}
	if d%time.Second != 0 {
		errs = append(errs, field.Invalid(path, d.String(), "connect time should contain a whole number of seconds"))
	}
	return &d, errs
}

// parsePassword returns the session's password: spec.password, or the "password" key of the basic-auth Secret
// that spec.passwordSecret names.
func (p *parser) parsePassword(spec *field.Path, obj *v1beta2.BGPPeer) (string, field.ErrorList) {
	s := &obj.Spec
	refPath, secretName := spec.Child("passwordSecret"), s.PasswordSecret.Name
	switch {
	case s.Password != "" && secretName != "":
		return "", field.ErrorList{field.Invalid(refPath, secretName,
			fmt.Sprintf("can not have both password and secret ref set in peer config %q/%q", obj.Namespace, obj.Name))}
	case s.Password != "":
		if lineBreak(s.Password) {
			return "", field.ErrorList{field.Invalid(spec.Child("password"), field.OmitValueType{},
				fmt.Sprintf("password for peer %q/%q contains invalid characters", obj.Namespace, obj.Name))}
		}
		return s.Password, nil
	case secretName == "":
		return "", nil
	}

	secret, ok := p.res.PasswordSecrets[secretName]
	if !ok {
		return "", field.ErrorList{notFound(refPath, secretName,
			fmt.Sprintf("secret ref not found for peer config %q/%q", obj.Namespace, obj.Name))}
	}
	if secret.Type != corev1.SecretTypeBasicAuth {
		return "", field.ErrorList{field.Invalid(refPath, secretName,
			fmt.Sprintf("secret type mismatch on %q/%q, type %q is expected", secret.Namespace, secret.Name, corev1.SecretTypeBasicAuth))}
	}
	password, ok := secret.Data[corev1.BasicAuthPasswordKey]
	if !ok {
		return "", field.ErrorList{field.Invalid(refPath, secretName,
			fmt.Sprintf("password not specified in the secret %q/%q", secret.Namespace, secret.Name))}
	}
	if lineBreak(string(password)) {
		return "", field.ErrorList{field.Invalid(refPath, secretName,
			fmt.Sprintf("password secret for peer %q/%q contains invalid characters", obj.Namespace, obj.Name))}
	}
	return string(password), nil
}

// lineBreak reports whether s holds a line break. MetalLB refuses them in the strings it writes into FRR's
// line-based configuration; ferrolb keeps the rule so that a configuration valid here is valid there.
func lineBreak(s string) bool {
	return strings.ContainsAny(s, "\r\n")
}

// unsupportedFeatures refuses the optional features a peer uses that the BGP speaker lacks.
func unsupportedFeatures(spec *field.Path, s *v1beta2.BGPPeerSpec, speaker SpeakerCapabilities) field.ErrorList {
	features := []struct {
		field           string
		used, supported bool
	}{
		{field: "bfdProfile", used: s.BFDProfile != "", supported: speaker.BFD},
		{field: "vrf", used: s.VRFName != "", supported: speaker.VRF},
		{field: "interface", used: s.Interface != "", supported: speaker.Unnumbered},
		{field: "localASN", used: s.LocalASN != 0, supported: speaker.LocalASN},
		{field: "dynamicASN", used: s.DynamicASN != "", supported: speaker.DynamicASN},
	}
	var errs field.ErrorList
	for _, f := range features {
		if f.used && !f.supported {
			errs = append(errs, field.Forbidden(spec.Child(f.field), "not supported by the BGP speaker"))
		}
	}
	return errs
}
