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
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// emptySHA256 is the well-known SHA-256 digest of the empty input (FIPS 180-4 test vectors), written
// out so that the expected keys below do not depend on the code under test.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestDeriveKey(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		wantHex string
	}{
		{
			name:    "empty secret is the empty digest",
			secret:  "",
			wantHex: emptySHA256,
		},
		{
			name:    "short secret is padded with the empty digest",
			secret:  "abc",
			wantHex: "616263" + emptySHA256[:2*29],
		},
		{
			// The shape MetalLB's controller generates: base64 (raw, no padding) of 16 random bytes.
			name:    "22-byte controller secret",
			secret:  "AAECAwQFBgcICQoLDA0ODw",
			wantHex: hex.EncodeToString([]byte("AAECAwQFBgcICQoLDA0ODw")) + emptySHA256[:2*10],
		},
		{
			name:    "32-byte secret is used as is",
			secret:  strings.Repeat("k", 32),
			wantHex: strings.Repeat("6b", 32),
		},
		{
			name:    "long secret is truncated, not hashed",
			secret:  strings.Repeat("0123456789", 13), // like `openssl rand -base64 128` users
			wantHex: hex.EncodeToString([]byte(strings.Repeat("0123456789", 4)[:32])),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hex.EncodeToString(DeriveKey([]byte(tt.secret)))
			if diff := cmp.Diff(tt.wantHex, got); diff != "" {
				t.Errorf("DeriveKey(%q) mismatch (-want +got):\n%s", tt.secret, diff)
			}
		})
	}
}

func TestDeriveKeyDoesNotAliasSecret(t *testing.T) {
	secret := make([]byte, 40, 64)
	key := DeriveKey(secret)
	key[0] = 1
	if secret[0] != 0 {
		t.Fatal("DeriveKey returned a slice sharing the secret's memory")
	}
}
