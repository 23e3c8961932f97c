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
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// goldenDirs hold the inputs of TestGolden: seeds are the legacy ConfigMaps of the documents ferrolb was
// asked from, cases the cases of MetalLB's converter tests, rebuilt from their description.
var goldenDirs = []string{"seeds", "cases"}

// TestGolden converts every input in testdata and compares the YAML written, or the error, with
// <name>.golden or <name>.error.golden.
func TestGolden(t *testing.T) {
	for _, dir := range goldenDirs {
		inputs, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		if err != nil || len(inputs) == 0 {
			t.Fatalf("no inputs in testdata/%s: %v", dir, err)
		}
		for _, input := range inputs {
			base := strings.TrimSuffix(input, ".yaml")
			t.Run(dir+"/"+filepath.Base(base), func(t *testing.T) {
				data, err := os.ReadFile(input)
				if err != nil {
					t.Fatal(err)
				}
				golden, stale := base+".golden", base+".error.golden"
				var got []byte
				conv, err := ConvertFile(data, "")
				if err != nil {
					got = []byte(err.Error() + "\n")
					golden, stale = stale, golden
				} else {
					got = conv.YAML
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
					t.Errorf("%s exists, but the conversion gave %s", stale, golden)
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
}

// TestCasesConvert makes sure the cases stay successful conversions, whatever their goldens say.
func TestCasesConvert(t *testing.T) {
	for name, payload := range casePayloads(t) {
		if _, err := ConvertFile(payload, ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestInputFormatsAgree converts every case as a bare payload, as a ConfigMap (also in a List and behind a
// Namespace), as Helm values (a mapping and a string) and as a Flux HelmRelease, and expects the same
// resources from each, in the ConfigMap's or HelmRelease's namespace when it names one.
func TestInputFormatsAgree(t *testing.T) {
	for name, payload := range casePayloads(t) {
		t.Run(name, func(t *testing.T) {
			want := mustConvert(t, payload, "")
			wantInNamespace := mustConvert(t, payload, "lb-system")
			configMap := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: lb-system\n  name: config\ndata:\n  config: |\n" + indent(payload, 4)
			inputs := []struct {
				name   string
				data   string
				format Format
				want   []byte
			}{
				{"ConfigMap", configMap, FormatConfigMap, wantInNamespace},
				{"ConfigMap after a Namespace", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lb-system\n---\n" + configMap, FormatConfigMap, wantInNamespace},
				{"List", "apiVersion: v1\nkind: List\nitems:\n- " + strings.TrimPrefix(indent([]byte(configMap), 2), "  "), FormatConfigMap, wantInNamespace},
				{"Helm values", "controller:\n  image:\n    tag: v0.12.1\nconfigInline:\n" + indent(payload, 2), FormatHelmValues, want},
				{"Helm values string", "configInline: |\n" + indent(payload, 2), FormatHelmValues, want},
				{"HelmRelease", "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n  name: metallb\n  namespace: lb-system\nspec:\n  values:\n    configInline:\n" + indent(payload, 6), FormatHelmRelease, wantInNamespace},
			}
			for _, in := range inputs {
				conv, err := ConvertFile([]byte(in.data), "")
				if err != nil {
					t.Errorf("%s: %v", in.name, err)
					continue
				}
				if conv.Input.Format != in.format {
					t.Errorf("%s: read as %q, want %q", in.name, conv.Input.Format, in.format)
				}
				if diff := cmp.Diff(string(in.want), string(conv.YAML)); diff != "" {
					t.Errorf("%s: output differs from the bare payload's (-want +got):\n%s", in.name, diff)
				}
			}
		})
	}
}

// TestRoundTrip decodes the YAML written for every case with ferrolb's API types, strictly, expects the
// objects Convert made, and validates them with config.Parse.
func TestRoundTrip(t *testing.T) {
	for name, payload := range casePayloads(t) {
		t.Run(name, func(t *testing.T) {
			conv, err := ConvertFile(payload, "")
			if err != nil {
				t.Fatal(err)
			}
			docs := strings.Split(string(conv.YAML), "---\n")
			if docs[0] != Header {
				t.Errorf("stream starts with %q, want the header %q", docs[0], Header)
			}
			var got []Object
			var res config.Resources
			for i, doc := range docs[1:] {
				var tm struct{ Kind string }
				if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
					t.Fatalf("document %d: %v", i+1, err)
				}
				var obj Object
				switch tm.Kind {
				case "BGPPeer":
					res.Peers = append(res.Peers, v1beta2.BGPPeer{})
					obj = &res.Peers[len(res.Peers)-1]
				case "IPAddressPool":
					res.Pools = append(res.Pools, v1beta1.IPAddressPool{})
					obj = &res.Pools[len(res.Pools)-1]
				case "BGPAdvertisement":
					res.BGPAdvertisements = append(res.BGPAdvertisements, v1beta1.BGPAdvertisement{})
					obj = &res.BGPAdvertisements[len(res.BGPAdvertisements)-1]
				case "L2Advertisement":
					res.L2Advertisements = append(res.L2Advertisements, v1beta1.L2Advertisement{})
					obj = &res.L2Advertisements[len(res.L2Advertisements)-1]
				case "BFDProfile":
					res.BFDProfiles = append(res.BFDProfiles, v1beta1.BFDProfile{})
					obj = &res.BFDProfiles[len(res.BFDProfiles)-1]
				case "Community":
					res.Communities = append(res.Communities, v1beta1.Community{})
					obj = &res.Communities[len(res.Communities)-1]
				default:
					t.Fatalf("document %d has kind %q", i+1, tm.Kind)
				}
				if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
					t.Fatalf("document %d: %v", i+1, err)
				}
				got = append(got, obj)
			}
			if diff := cmp.Diff(conv.Result.Objects(), got); diff != "" {
				t.Errorf("decoded objects differ from the converted ones (-want +got):\n%s", diff)
			}
			if _, err := config.Parse(res); err != nil {
				t.Errorf("config.Parse: %v", err)
			}
		})
	}
}

func mustConvert(t *testing.T, data []byte, namespace string) []byte {
	t.Helper()
	conv, err := ConvertFile(data, namespace)
	if err != nil {
		t.Fatal(err)
	}
	return conv.YAML
}

// casePayloads returns the inputs of testdata/cases by name.
func casePayloads(t *testing.T) map[string][]byte {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	payloads := map[string][]byte{}
	for _, input := range inputs {
		data, err := os.ReadFile(input)
		if err != nil {
			t.Fatal(err)
		}
		payloads[strings.TrimSuffix(filepath.Base(input), ".yaml")] = data
	}
	return payloads
}

// indent indents every non-empty line of data by n spaces.
func indent(data []byte, n int) string {
	var b bytes.Buffer
	for line := range strings.SplitAfterSeq(string(data), "\n") {
		if strings.TrimSpace(line) != "" {
			fmt.Fprintf(&b, "%*s", n, "")
		}
		b.WriteString(line)
	}
	return b.String()
}
