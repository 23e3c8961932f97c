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

package migrate

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// metallbValidName is the name MetalLB's converter leaves alone: a DNS label starting with a letter.
var metallbValidName = regexp.MustCompile(`^[a-z][-a-z0-9]{0,61}[a-z0-9]$`)

// maxNameLength is where MetalLB's converter truncates names, a DNS label's length.
const maxNameLength = 63

// NormalizeName returns the name MetalLB's converter (v0.13.11 and later) gives a legacy pool or BFD profile
// called name, and the reference a peer's bfd-profile becomes: a name matching ^[a-z][-a-z0-9]{0,61}[a-z0-9]$
// is kept; any other is truncated to 63 bytes, lower-cased, has "_" replaced with "-" and loses everything
// before its first letter (01-pool becomes pool).
//
// Where MetalLB's converter would write a name the API server refuses, NormalizeName returns an error instead:
// a name without a letter, and one the rewrite leaves invalid (other characters, or a trailing "-" after
// truncation). Names with dots are valid object names, and stay as they are, as in MetalLB.
func NormalizeName(name string) (string, error) {
	if metallbValidName.MatchString(name) {
		return name, nil
	}
	n := name
	if len(n) > maxNameLength {
		n = n[:maxNameLength]
	}
	n = strings.ReplaceAll(strings.ToLower(n), "_", "-")
	first := strings.IndexFunc(n, func(r rune) bool { return r >= 'a' && r <= 'z' })
	if first < 0 {
		return "", fmt.Errorf("name %q has no letter, so it cannot be made a valid object name: rename it", name)
	}
	n = n[first:]
	if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
		return "", fmt.Errorf("name %q becomes %q, which is not a valid object name (%s): rename it", name, n, strings.Join(errs, "; "))
	}
	return n, nil
}

// peerName is MetalLB's name for the i-th (0-based) legacy peer.
func peerName(i int) string { return fmt.Sprintf("peer%d", i+1) }

// l2AdvertisementName is MetalLB's name for the n-th (1-based) layer2 pool's L2Advertisement.
func l2AdvertisementName(n int) string { return fmt.Sprintf("l2advertisement%d", n) }

// bgpAdvertisementName is MetalLB's name for the n-th (1-based) BGPAdvertisement, counted across pools.
func bgpAdvertisementName(n int) string { return fmt.Sprintf("bgpadvertisement%d", n) }

// communityName is the name of the one Community holding every bgp-communities alias.
const communityName = "communities"
