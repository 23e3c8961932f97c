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

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	payload   = "address-pools:\n- name: default\n  protocol: layer2\n  addresses:\n  - 192.168.1.240-192.168.1.250\n"
	configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: lb-system\n  name: config\ndata:\n  config: |\n" +
		"    address-pools:\n    - name: default\n      protocol: layer2\n      addresses:\n      - 192.168.1.240-192.168.1.250\n"
	helmValues = "configInline:\n  address-pools:\n  - name: default\n    protocol: layer2\n    addresses:\n    - 192.168.1.240-192.168.1.250\n"
	bad        = "address-pools:\n- name: default\n  protocol: l2\n  addresses: [10.0.0.0/24]\n"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cmFile := write("configmap.yaml", configMap)
	badFile := write("bad.yaml", bad)
	nsFile := write("namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lb-system\n")

	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout []string // substrings; nil means empty stdout
		wantStderr []string
	}{
		{name: "payload on stdin", stdin: payload, wantCode: 0,
			wantStdout: []string{"kind: IPAddressPool", "namespace: metallb-system", "name: l2advertisement1"},
			wantStderr: []string{"Read the legacy configuration from document 1", "Wrote 2 resources in namespace metallb-system to standard output"}},
		{name: "stdin as -", args: []string{"-"}, stdin: helmValues, wantCode: 0,
			wantStdout: []string{"kind: L2Advertisement"}, wantStderr: []string{"configInline"}},
		{name: "ConfigMap file keeps its namespace", args: []string{cmFile}, wantCode: 0,
			wantStdout: []string{"namespace: lb-system"}, wantStderr: []string{"ConfigMap lb-system/config"}},
		{name: "namespace flag wins", args: []string{"--namespace", "other", cmFile}, wantCode: 0,
			wantStdout: []string{"namespace: other"}},
		{name: "several files", args: []string{nsFile, cmFile}, wantCode: 0,
			wantStdout: []string{"kind: IPAddressPool"}, wantStderr: []string{"(document 2)"}},
		{name: "invalid configuration", args: []string{badFile}, wantCode: 1,
			wantStderr: []string{`pool "default" (address-pools[0]): protocol: unknown protocol "l2"`, "Nothing written."}},
		{name: "empty input", stdin: "", wantCode: 1, wantStderr: []string{"no legacy MetalLB configuration found: the input is empty"}},
		{name: "Helm values pointing elsewhere", stdin: "existingConfigMap: metallb-config\n", wantCode: 1,
			wantStderr: []string{`existingConfigMap "metallb-config"`}},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.yaml")}, wantCode: 1, wantStderr: []string{"no such file"}},
		{name: "invalid namespace", args: []string{"--namespace", "Bad_NS", cmFile}, wantCode: 1, wantStderr: []string{`invalid namespace "Bad_NS"`}},
		{name: "empty namespace", args: []string{"--namespace=", cmFile}, wantCode: 2, wantStderr: []string{"--namespace must not be empty"}},
		{name: "unknown flag", args: []string{"--stdout"}, wantCode: 2, wantStderr: []string{"flag provided but not defined: -stdout"}},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantStderr: []string{"Usage: configmaptocrs", "-output"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if tt.wantStdout == nil && stdout.Len() > 0 {
				t.Errorf("wrote to stdout:\n%s", stdout.String())
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout does not contain %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr does not contain %q:\n%s", s, stderr.String())
				}
			}
		})
	}
}

func TestRunOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "resources.yaml")

	var stdout, stderr bytes.Buffer
	if code := run([]string{"-o", out}, strings.NewReader(payload), &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("wrote to stdout with -o:\n%s", stdout.String())
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var fromStdout bytes.Buffer
	run(nil, strings.NewReader(payload), &fromStdout, &bytes.Buffer{})
	if string(written) != fromStdout.String() {
		t.Errorf("-o wrote\n%s\nbut stdout gets\n%s", written, fromStdout.String())
	}

	// A failed conversion leaves an existing file alone and creates nothing.
	if code := run([]string{"--output", out}, strings.NewReader(bad), &stdout, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(again, written) {
		t.Error("a failed conversion changed the output file")
	}
	other := filepath.Join(dir, "other.yaml")
	if code := run([]string{"-o", other}, strings.NewReader(bad), &stdout, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed conversion created %s: %v", other, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
