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

package render

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// scenarios are the golden cases: a MetalLB resource of testdata and options. The output is
// testdata/<name>.golden, or testdata/<name>.error.golden when Render refuses.
var scenarios = []struct {
	name, input string
	opts        []Option
}{
	{name: "empty", input: "empty.yaml"},
	{name: "all-fields", input: "all-fields.yaml"},
	{name: "tolerations-order", input: "tolerations-order.yaml"},
	{name: "log-level-class", input: "log-level-class.yaml"},
	{name: "service-monitors", input: "empty.yaml", opts: []Option{WithServiceMonitors(true)}},
	{name: "webhooks-disabled", input: "empty.yaml", opts: []Option{WithWebhooks(false)}},
	{name: "bgp-backend-frr", input: "bgp-backend-frr.yaml"},
	{name: "bgp-backend-frr-k8s", input: "bgp-backend-frr-k8s.yaml"},
	{name: "bgp-backend-frr-k8s-external", input: "bgp-backend-frr-k8s-external.yaml"},
	{name: "invalid", input: "invalid.yaml"},
}

// TestGolden renders every scenario and compares the YAML stream of All, or the error, with its golden file.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			m := readMetalLB(t, sc.input)
			opts := append([]Option{WithRandom(&counter{})}, sc.opts...)
			base := filepath.Join("testdata", sc.name)
			golden, stale := base+".golden", base+".error.golden"
			var got []byte
			objs, err := Render(m, testSettings, opts...)
			if err != nil {
				got = []byte(err.Error() + "\n")
				golden, stale = stale, golden
			} else {
				got = toYAML(t, objs.All())
			}
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(stale); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				return
			}
			if _, err := os.Stat(stale); err == nil {
				t.Errorf("%s exists, but rendering gave %s", stale, golden)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", golden, diff)
			}
		})
	}
}

// TestDeterministic renders every scenario twice, with the same inputs, and expects the same bytes.
func TestDeterministic(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			m := readMetalLB(t, sc.input)
			render := func() []byte {
				opts := append([]Option{WithMemberlistKey([]byte("key"))}, sc.opts...)
				objs, err := Render(m, testSettings, opts...)
				if err != nil {
					return []byte(err.Error())
				}
				return toYAML(t, objs.All())
			}
			first := render()
			for range 5 {
				if diff := cmp.Diff(string(first), string(render())); diff != "" {
					t.Fatalf("a second render differs (-first +second):\n%s", diff)
				}
			}
		})
	}
}
