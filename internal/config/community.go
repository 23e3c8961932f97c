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
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Community is a BGP community value: a StandardCommunity or a LargeCommunity.
type Community interface {
	// String returns the community as written in the API: "65000:100" or "large:65000:1:2".
	String() string
	isCommunity()
}

// StandardCommunity is an RFC 1997 community: the AS number in the high 16 bits, the value in the low 16.
type StandardCommunity uint32

// String returns the community as "AS:value".
func (c StandardCommunity) String() string {
	return fmt.Sprintf("%d:%d", uint32(c)>>16, uint32(c)&0xffff)
}

func (StandardCommunity) isCommunity() {}

// LargeCommunity is an RFC 8092 large community.
type LargeCommunity struct {
	GlobalAdmin uint32
	LocalData1  uint32
	LocalData2  uint32
}

// String returns the community as "large:global:local1:local2".
func (c LargeCommunity) String() string {
	return fmt.Sprintf("%s:%d:%d:%d", largeCommunityMarker, c.GlobalAdmin, c.LocalData1, c.LocalData2)
}

func (LargeCommunity) isCommunity() {}

// largeCommunityMarker tells a large community from other three-number syntaxes, such as extended communities.
const largeCommunityMarker = "large"

var (
	// errCommunityValue is a community of a known syntax with a bad number: always a mistake.
	errCommunityValue = errors.New("invalid community value")
	// errCommunityFormat is a string of no community syntax: in a BGPAdvertisement, possibly the name of an
	// alias that does not exist yet.
	errCommunityFormat = errors.New("invalid community format")
)

// parseCommunity parses "AS:value" (two 16-bit numbers) or "large:global:local1:local2" (three 32-bit
// numbers). The messages are MetalLB's.
func parseCommunity(s string) (Community, error) {
	fields := strings.Split(s, ":")
	switch len(fields) {
	case 2:
		as, err := parseCommunitySection(s, fields[0], 16)
		if err != nil {
			return nil, err
		}
		value, err := parseCommunitySection(s, fields[1], 16)
		if err != nil {
			return nil, err
		}
		return StandardCommunity(as<<16 | value), nil
	case 4:
		if fields[0] != largeCommunityMarker {
			return nil, fmt.Errorf("%w: invalid marker for large community, expected community to be of format "+
				"%s:<uint32>:<uint32>:<uint32> but got %q instead", errCommunityValue, largeCommunityMarker, s)
		}
		var numbers [3]uint32
		for i, section := range fields[1:] {
			n, err := parseCommunitySection(s, section, 32)
			if err != nil {
				return nil, err
			}
			numbers[i] = n
		}
		return LargeCommunity{GlobalAdmin: numbers[0], LocalData1: numbers[1], LocalData2: numbers[2]}, nil
	}
	return nil, fmt.Errorf("%w: %s", errCommunityFormat, s)
}

func parseCommunitySection(community, section string, bits int) (uint32, error) {
	n, err := strconv.ParseUint(section, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid section %q of community %q, err: %q", errCommunityValue, section, community, err)
	}
	return uint32(n), nil
}

// parseCommunityAliases parses the aliases of every Community object. Alias names are unique across all
// objects.
func (p *parser) parseCommunityAliases() {
	seen := map[string]bool{}
	for _, obj := range p.objs.communities {
		if !p.claimName(kindCommunity, obj.Name) {
			continue
		}
		p.errs.add(kindCommunity, obj.Name, p.parseAliases(obj, seen)...)
	}
}

// parseAliases parses the aliases of one Community object; seen holds the alias names met so far.
func (p *parser) parseAliases(obj *v1beta1.Community, seen map[string]bool) field.ErrorList {
	var errs field.ErrorList
	for i, alias := range obj.Spec.Communities {
		path := field.NewPath("spec", "communities").Index(i)
		value, err := parseCommunity(alias.Value)
		if err != nil {
			errs = append(errs, field.Invalid(path.Child("value"), alias.Value,
				fmt.Sprintf("parsing community %q: %s", alias.Name, err)))
		}
		if seen[alias.Name] {
			errs = append(errs, duplicate(path.Child("name"), alias.Name,
				fmt.Sprintf("duplicate definition of community %q", alias.Name)))
			continue
		}
		seen[alias.Name] = true
		if err == nil {
			p.cfg.Communities[alias.Name] = value
		}
	}
	return errs
}
