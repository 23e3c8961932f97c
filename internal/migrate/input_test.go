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
	"errors"
	"strings"
	"testing"
)

func TestReadInput(t *testing.T) {
	const payload = "address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n"
	const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: lb\ndata:\n  config: |\n    address-pools: []\n"
	tests := []struct {
		name       string
		input      string
		wantFormat Format
		wantSource string
		wantNS     string
		wantConfig string
		wantErr    string
		wantIs     error
	}{
		{name: "bare payload", input: payload, wantFormat: FormatPayload, wantSource: "document 1", wantConfig: payload},
		{name: "ConfigMap", input: configMap, wantFormat: FormatConfigMap, wantSource: "ConfigMap lb/config (document 1)", wantNS: "lb", wantConfig: "address-pools: []\n"},
		{name: "ConfigMap from kubectl get", input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: lb\n  resourceVersion: \"42\"\n  uid: 1234\ndata:\n  config: x\nimmutable: false\n",
			wantFormat: FormatConfigMap, wantNS: "lb", wantConfig: "x"},
		{name: "ConfigMap among other objects", input: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lb\n---\n" + configMap + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  foo: bar\n",
			wantFormat: FormatConfigMap, wantSource: "ConfigMap lb/config (document 2)", wantNS: "lb"},
		{name: "ConfigMap in a List", input: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: config}\n  data: {config: x}\n",
			wantFormat: FormatConfigMap, wantSource: "ConfigMap config (document 1, item 1)", wantConfig: "x"},
		{name: "Helm values", input: "speaker:\n  enabled: true\nconfigInline:\n  address-pools: []\n", wantFormat: FormatHelmValues, wantSource: "document 1, configInline", wantConfig: `{"address-pools":[]}`},
		{name: "Helm values as a string", input: "configInline: |\n  peers: []\n", wantFormat: FormatHelmValues, wantConfig: "peers: []\n"},
		{name: "HelmRelease", input: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: metallb, namespace: lb}\nspec:\n  values:\n    configInline: {peers: []}\n",
			wantFormat: FormatHelmRelease, wantSource: "HelmRelease lb/metallb (document 1), configInline", wantNS: "lb", wantConfig: `{"peers":[]}`},
		{name: "empty input", input: "", wantIs: ErrNotFound, wantErr: "the input is empty"},
		{name: "comments only", input: "# nothing\n---\n", wantIs: ErrNotFound},
		{name: "Helm values with existingConfigMap", input: "existingConfigMap: metallb-config\nconfigInline: {}\n", wantIs: ErrNotFound,
			wantErr: `document 1 sets existingConfigMap "metallb-config": convert that ConfigMap instead`},
		{name: "Helm values with an empty configInline", input: "configInline: {}\n", wantIs: ErrNotFound, wantErr: "document 1 has an empty configInline"},
		{name: "ConfigMap of Helm values", input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: metallb-helm-chart-value-overrides\n  namespace: metallb-system\ndata:\n  values.yaml: |-\n    global: {}\n",
			wantIs: ErrNotFound, wantErr: "ConfigMap metallb-system/metallb-helm-chart-value-overrides (document 1) has no data.config key, only values.yaml"},
		{name: "other kinds only", input: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: controller, namespace: lb}\n", wantIs: ErrNotFound,
			wantErr: "document 1 is Deployment lb/controller, not a ConfigMap"},
		{name: "unrelated mapping", input: "foo: bar\n", wantIs: ErrNotFound, wantErr: "document 1 has no kind and none of the keys"},
		{name: "scalar", input: "hello\n", wantIs: ErrNotFound, wantErr: `document 1 is the string "hello", not a mapping`},
		{name: "two configurations", input: configMap + "---\n" + payload, wantErr: "found 2 legacy configurations, in ConfigMap lb/config (document 1), document 2"},
		{name: "name outside metadata", input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\nname: config\ndata:\n  config: x\n",
			wantErr: `a ConfigMap has no field "name" (name and namespace belong under metadata: check the indentation)`},
		{name: "data.config not a string", input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  config:\n    peers: []\n",
			wantErr: "data.config must be a string holding the configuration, got a mapping"},
		{name: "ConfigMap of another apiVersion", input: "apiVersion: v2\nkind: ConfigMap\ndata: {config: x}\n", wantErr: `apiVersion must be v1, got the string "v2"`},
		{name: "invalid YAML", input: "a: [\n", wantErr: "document 1 is not valid YAML"},
		{name: "duplicate keys", input: "peers: []\npeers: []\n", wantErr: "document 1 is not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := ReadInput([]byte(tt.input))
			if tt.wantErr != "" || tt.wantIs != nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", in)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("got %v, want errors.Is %v", err, tt.wantIs)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Format != tt.wantFormat || in.Namespace != tt.wantNS {
				t.Errorf("got format %q namespace %q, want %q %q", in.Format, in.Namespace, tt.wantFormat, tt.wantNS)
			}
			if tt.wantSource != "" && in.Source != tt.wantSource {
				t.Errorf("got source %q, want %q", in.Source, tt.wantSource)
			}
			if tt.wantConfig != "" && string(in.Config) != tt.wantConfig {
				t.Errorf("got config %q, want %q", in.Config, tt.wantConfig)
			}
		})
	}
}
