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
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// BFDProfile is a validated BFDProfile. Unset values are nil and left to the BFD implementation.
type BFDProfile struct {
	Name string
	// ReceiveInterval is the minimum interval between received control packets, in milliseconds.
	ReceiveInterval *uint32
	// TransmitInterval is the minimum interval between sent control packets, in milliseconds.
	TransmitInterval *uint32
	// DetectMultiplier is the number of packets that may be lost before the session is down.
	DetectMultiplier *uint32
	// EchoInterval is the minimum interval between echo packets, in milliseconds.
	EchoInterval *uint32
	// EchoMode enables echo packets.
	EchoMode bool
	// PassiveMode waits for the peer's control packets before sending any.
	PassiveMode bool
	// MinimumTTL is the lowest TTL accepted on control packets of multi-hop sessions.
	MinimumTTL *uint32
}

func (p *parser) parseBFDProfiles() {
	for _, obj := range p.objs.bfdProfiles {
		if !p.claimName(kindBFDProfile, obj.Name) {
			continue
		}
		s := &obj.Spec
		// Kept even when invalid, so that the peers using it are not also reported as referencing nothing.
		p.cfg.BFDProfiles[obj.Name] = &BFDProfile{
			Name:             obj.Name,
			ReceiveInterval:  clone(s.ReceiveInterval),
			TransmitInterval: clone(s.TransmitInterval),
			DetectMultiplier: clone(s.DetectMultiplier),
			EchoInterval:     clone(s.EchoInterval),
			EchoMode:         s.EchoMode != nil && *s.EchoMode,
			PassiveMode:      s.PassiveMode != nil && *s.PassiveMode,
			MinimumTTL:       clone(s.MinimumTTL),
		}
		p.errs.add(kindBFDProfile, obj.Name, validateBFDRanges(s)...)
	}
}

// validateBFDRanges enforces the ranges of MetalLB's API, with MetalLB's messages.
func validateBFDRanges(s *v1beta1.BFDProfileSpec) field.ErrorList {
	var errs field.ErrorList
	for _, r := range []struct {
		value    *uint32
		field    string
		what     string
		min, max uint32
	}{
		{s.ReceiveInterval, "receiveInterval", "receive interval", 10, 60000},
		{s.TransmitInterval, "transmitInterval", "transmit interval", 10, 60000},
		{s.DetectMultiplier, "detectMultiplier", "detect multiplier", 2, 255},
		{s.EchoInterval, "echoInterval", "echo interval", 10, 60000},
		{s.MinimumTTL, "minimumTtl", "minimum ttl", 1, 254},
	} {
		if r.value != nil && (*r.value < r.min || *r.value > r.max) {
			errs = append(errs, field.Invalid(field.NewPath("spec", r.field), *r.value,
				fmt.Sprintf("invalid %s value: invalid value %d, must be in %d-%d range", r.what, *r.value, r.min, r.max)))
		}
	}
	return errs
}

// clone returns a copy of *v, so the Config shares no memory with the Resources.
func clone[T any](v *T) *T {
	if v == nil {
		return nil
	}
	return new(*v)
}
