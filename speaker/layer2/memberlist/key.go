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

import "crypto/sha256"

// SecretKeyFile is the name of the file, inside the directory given by --ml-secret-key-path, that holds
// the raw shared secret (the `secretkey` entry of the memberlist Secret).
const SecretKeyFile = "secretkey"

// keySize selects AES-256 in memberlist's keyring.
const keySize = 32

// DeriveKey turns the raw shared secret into the 32-byte AES-256 gossip key, exactly as MetalLB does.
//
// MetalLB calls sha256.New().Sum(secret), which does not hash the secret: Sum appends the digest of
// what was written to the hash (nothing) to its argument. The key is therefore the first 32 bytes of
// secret ‖ sha256(""): a short secret is padded with the empty-input digest and a long one is truncated.
// It is a weak derivation, but speakers must derive the same key to talk to MetalLB speakers during a
// migration, so it is reproduced on purpose. An empty secret yields sha256("") itself; New never calls
// DeriveKey with one, it disables encryption instead.
func DeriveKey(secret []byte) []byte {
	empty := sha256.Sum256(nil)
	key := make([]byte, 0, len(secret)+len(empty))
	key = append(key, secret...)
	key = append(key, empty[:]...)
	return key[:keySize]
}
