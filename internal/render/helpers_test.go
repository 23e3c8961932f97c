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
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// testSettings are the settings of every test: a released image each.
var testSettings = Settings{
	Namespace:       "metallb-system",
	ControllerImage: "quay.io/ferrolb/ferrolb:v0.1.0",
	SpeakerImage:    "registry.example.com:5000/ferrolb/ferrolb@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
}

// counter is a deterministic random source: 0, 1, 2, …
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// readMetalLB reads a MetalLB resource from testdata, strictly.
func readMetalLB(t *testing.T, name string) *v1beta1.MetalLB {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m := &v1beta1.MetalLB{}
	if err := yaml.UnmarshalStrict(data, m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// toYAML writes the objects as one YAML stream, in apply order, without the null creationTimestamps and
// zero statuses the typed objects marshal: what a reader of the goldens cares about is what is applied.
func toYAML(t *testing.T, objs []Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, obj := range objs {
		j, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "status") // the API server's
		dropNullTimestamps(m)
		doc, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(doc)
	}
	return buf.Bytes()
}

func dropNullTimestamps(v any) {
	switch v := v.(type) {
	case map[string]any:
		if ts, ok := v["creationTimestamp"]; ok && ts == nil {
			delete(v, "creationTimestamp")
		}
		for _, x := range v {
			dropNullTimestamps(x)
		}
	case []any:
		for _, x := range v {
			dropNullTimestamps(x)
		}
	}
}
