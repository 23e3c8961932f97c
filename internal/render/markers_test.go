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
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// repoRoot is the module's root, from this package's directory.
var repoRoot = filepath.Join("..", "..")

// binaryDirs are the source of each operand binary, where its +kubebuilder:rbac markers are.
var binaryDirs = map[string][]string{
	ControllerName: {"controllers", "internal/webhook", "cmd/controller"},
	SpeakerName:    {"speaker", "cmd/speaker"},
}

// isOperator tells the operator's own files, whose markers are the operator's permissions, not an operand's:
// the manager's main.go and the MetalLB reconciler (STYLE: controllers/<kind>_controller.go).
func isOperator(path string) bool {
	return path == "main.go" || path == "cmd/main.go" || strings.HasPrefix(path, "controllers/metallb")
}

// unmarkedGrants are permissions a binary needs that no marker of its source asks for, with why.
var unmarkedGrants = map[string][]grant{
	// The speaker serves its metrics with authentication and authorization (--metrics-secure, true by
	// default) as the controller does; only cmd/controller carries the markers.
	SpeakerName: {
		{"authentication.k8s.io", "tokenreviews", "", "create"},
		{"authorization.k8s.io", "subjectaccessreviews", "", "create"},
	},
}

var markerPattern = regexp.MustCompile(`^\s*//\s*\+kubebuilder:rbac:(.*)$`)

// marker is one +kubebuilder:rbac marker: its rule, and whether it is for a namespace only.
type marker struct {
	file       string
	rule       rbacv1.PolicyRule
	namespaced bool
}

// readMarkers reads every +kubebuilder:rbac marker of the repository's Go sources, by file.
func readMarkers(t *testing.T) []marker {
	t.Helper()
	var markers []marker
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "testdata", "test", "hack", "bundle", "config", "docs":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			m := markerPattern.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			mk := marker{file: filepath.ToSlash(rel)}
			for _, kv := range strings.Split(m[1], ",") {
				k, v, _ := strings.Cut(kv, "=")
				values := strings.Split(strings.Trim(v, `"`), ";")
				switch k {
				case "groups":
					mk.rule.APIGroups = values
				case "resources":
					mk.rule.Resources = values
				case "verbs":
					mk.rule.Verbs = values
				case "resourceNames":
					mk.rule.ResourceNames = values
				case "urls":
					mk.rule.NonResourceURLs = values
				case "namespace":
					mk.namespaced = true
				default:
					t.Fatalf("%s: unknown marker key %q in %q", rel, k, m[1])
				}
			}
			markers = append(markers, mk)
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(markers) == 0 {
		t.Fatal("no +kubebuilder:rbac marker found")
	}
	return markers
}

// TestRBACPerBinary checks each binary's rendered RBAC against the markers of its own source, both ways: it
// gets every permission its code asks for (a cluster-wide one in its ClusterRole, unless onlyInNamespace),
// and nothing its code does not ask for (besides unmarkedGrants). A marker outside every binary's source
// fails the test until binaryDirs says whose it is.
func TestRBACPerBinary(t *testing.T) {
	renderedCluster, renderedNamespaced := renderedRoles(t)
	wanted := map[string][]marker{}
	for _, mk := range readMarkers(t) {
		if isOperator(mk.file) {
			continue
		}
		owner := ""
		for binary, dirs := range binaryDirs {
			for _, dir := range dirs {
				if strings.HasPrefix(mk.file, dir+"/") {
					owner = binary
				}
			}
		}
		if owner == "" {
			t.Errorf("%s: a +kubebuilder:rbac marker outside the binaries' sources (binaryDirs)", mk.file)
			continue
		}
		wanted[owner] = append(wanted[owner], mk)
	}
	for binary := range binaryDirs {
		cluster := renderedCluster[testSettings.Namespace+":"+binary]
		namespaced := renderedNamespaced[binary]
		var asked, askedCluster []rbacv1.PolicyRule
		for _, mk := range wanted[binary] {
			asked = append(asked, mk.rule)
			if !mk.namespaced {
				askedCluster = append(askedCluster, mk.rule)
			}
			for _, g := range grants([]rbacv1.PolicyRule{mk.rule}) {
				switch {
				case allows(cluster, g):
				case (mk.namespaced || onlyInNamespace(g)) && allows(namespaced, g):
				default:
					t.Errorf("%s: %s asks for %s; the %s's rendered RBAC does not give it", binary, mk.file, g, binary)
				}
			}
		}
		extra := func(g grant) bool {
			for _, u := range unmarkedGrants[binary] {
				if u == g {
					return true
				}
			}
			return false
		}
		for _, g := range grants(cluster) {
			if !allows(askedCluster, g) && !extra(g) {
				t.Errorf("%s: its ClusterRole gives %s, which no cluster-wide marker of its source asks for", binary, g)
			}
		}
		for _, g := range grants(namespaced) {
			if !allows(asked, g) && !extra(g) {
				t.Errorf("%s: its Role gives %s, which no marker of its source asks for", binary, g)
			}
		}
	}
}
