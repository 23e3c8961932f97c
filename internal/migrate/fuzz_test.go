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
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// addSeeds adds every input of testdata and a few small configurations to the corpus.
func addSeeds(f *testing.F) {
	f.Helper()
	for _, dir := range goldenDirs {
		inputs, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, input := range inputs {
			data, err := os.ReadFile(input)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "{}", "null", "- a", "peers:\n- {}\n", "address-pools:\n- name: A_\n  protocol: bgp\n",
		"bgp-communities: {a: 1}\n", "address-pools: [{name: a, protocol: layer2, addresses: [10.0.0.0/33]}]\n",
		"peers: [{my-asn: 1, peer-asn: 2, peer-address: 1.2.3.4, hold-time: -1s, node-selectors: [{match-expressions: [{key: a, operator: Gt}]}]}]\n",
		"configInline: {peers: [{my-asn: 1}]}\n", "apiVersion: v1\nkind: ConfigMap\ndata: {config: 'peers: 1'}\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecode checks that the decoder never panics, and that whatever it accepts converts or errors cleanly:
// a conversion that succeeds is written, verifies, and the decoded configuration survives being written
// back in the legacy schema and decoded again.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		legacy, err := Decode(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			var list ErrorList
			if errors.As(err, &list) && len(list) == 0 {
				t.Fatal("empty ErrorList returned as an error")
			}
			return
		}
		again, err := json.Marshal(legacy)
		if err != nil {
			t.Fatal(err)
		}
		if !legacy.empty() {
			redecoded, err := Decode(again)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", again, err)
			}
			if diff := cmp.Diff(legacy, redecoded, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("decoding is not stable (-first +second):\n%s", diff)
			}
		}
		res, err := Convert(legacy, DefaultNamespace)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		var buf bytes.Buffer
		if err := res.WriteYAML(&buf); err != nil {
			t.Fatalf("writing an accepted conversion: %v", err)
		}
		if err := Verify(buf.Bytes()); err != nil {
			t.Fatalf("an accepted conversion does not verify: %v\n%s", err, buf.Bytes())
		}
	})
}

// FuzzReadInput checks that input detection never panics and that a detected configuration can be handed
// to Decode.
func FuzzReadInput(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadInput(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if in.Source == "" || in.Format == "" {
			t.Fatalf("input without source or format: %+v", in)
		}
		_, _ = Decode(in.Config)
	})
}
