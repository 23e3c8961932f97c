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
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// grant is one permission: a verb on a resource of a group, on one object (name) or on all ("").
type grant struct{ group, resource, name, verb string }

func (g grant) String() string {
	s := fmt.Sprintf("%s %s", g.verb, g.resource)
	if g.group != "" {
		s += "." + g.group
	}
	if g.name != "" {
		s += "/" + g.name
	}
	return s
}

// grants expands rules into the permissions they give.
func grants(rules []rbacv1.PolicyRule) []grant {
	var gs []grant
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						gs = append(gs, grant{g, res, n, v})
					}
				}
			}
		}
	}
	return gs
}

// allows reports whether the rules give the permission.
func allows(rules []rbacv1.PolicyRule, want grant) bool {
	for _, r := range rules {
		if (slices.Contains(r.APIGroups, want.group) || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, want.resource) || slices.Contains(r.Resources, "*")) &&
			(slices.Contains(r.Verbs, want.verb) || slices.Contains(r.Verbs, "*")) &&
			(len(r.ResourceNames) == 0 || (want.name != "" && slices.Contains(r.ResourceNames, want.name))) {
			return true
		}
	}
	return false
}

// markerRoles reads config/rbac/role.yaml, controller-gen's union of every +kubebuilder:rbac marker: the
// rules of its ClusterRole, and those of its Role in ferrolb's namespace.
func markerRoles(t *testing.T) (cluster, namespaced []rbacv1.PolicyRule) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := yaml.Unmarshal([]byte(doc), &role); err != nil {
			t.Fatal(err)
		}
		switch role.Kind {
		case "ClusterRole":
			cluster = append(cluster, role.Rules...)
		case "Role":
			namespaced = append(namespaced, role.Rules...)
		case "":
		default:
			t.Fatalf("role.yaml holds a %s", role.Kind)
		}
	}
	if len(cluster) == 0 || len(namespaced) == 0 {
		t.Fatal("role.yaml holds no ClusterRole or no Role")
	}
	return cluster, namespaced
}

// onlyInNamespace tells the resources the binaries use in ferrolb's namespace only, whatever the scope of
// their marker: a Role gives them. Their caches are restricted to the namespace (cache.Options.ByObject in
// cmd/controller and cmd/speaker), their direct reads and writes name it (cli.PodOwner, speaker/status.go,
// internal/webhook's reader, the certificate Secret), and ferrolb's kinds are only valid there.
func onlyInNamespace(g grant) bool {
	return g.group == "metallb.io" || (g.group == "" && (g.resource == "pods" || g.resource == "secrets"))
}

// renderedRoles renders the default objects and returns the rules of the operands' ClusterRoles and Roles.
func renderedRoles(t *testing.T, opts ...Option) (cluster, namespaced map[string][]rbacv1.PolicyRule) {
	t.Helper()
	objs, err := Render(readMetalLB(t, "empty.yaml"), testSettings, append(opts, WithMemberlistKey([]byte("k")))...)
	if err != nil {
		t.Fatal(err)
	}
	cluster, namespaced = map[string][]rbacv1.PolicyRule{}, map[string][]rbacv1.PolicyRule{}
	for _, r := range objs.ClusterRoles {
		cluster[r.Name] = r.Rules
	}
	for _, r := range objs.Roles {
		namespaced[r.Name] = r.Rules
	}
	return cluster, namespaced
}

func union(m map[string][]rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var all []rbacv1.PolicyRule
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		all = append(all, m[name]...)
	}
	return all
}

// TestRBACCoversMarkers keeps the rendered RBAC and the markers in step, both ways: every permission a marker
// asks for is given to some binary (a cluster-wide one by a ClusterRole, unless onlyInNamespace), and no
// permission is given that no marker asks for. A new marker fails it until rbac.go gives the permission to
// the binary that needs it.
func TestRBACCoversMarkers(t *testing.T) {
	markerCluster, markerNamespaced := markerRoles(t)
	renderedCluster, renderedNamespaced := renderedRoles(t)
	cluster, namespaced := union(renderedCluster), union(renderedNamespaced)
	// role.yaml also holds the operator's own permissions once its markers exist (make manifests reads
	// main.go and controllers/): those asked for by the operator only are not the operands'.
	var operator, operands []rbacv1.PolicyRule
	for _, mk := range readMarkers(t) {
		if isOperator(mk.file) {
			operator = append(operator, mk.rule)
		} else {
			operands = append(operands, mk.rule)
		}
	}
	operatorOnly := func(g grant) bool { return allows(operator, g) && !allows(operands, g) }

	for _, g := range grants(markerCluster) {
		switch {
		case operatorOnly(g):
		case allows(cluster, g):
		case onlyInNamespace(g) && allows(namespaced, g):
		default:
			t.Errorf("role.yaml's ClusterRole allows %s: no rendered ClusterRole does", g)
		}
	}
	for _, g := range grants(markerNamespaced) {
		if !operatorOnly(g) && !allows(namespaced, g) && !allows(cluster, g) {
			t.Errorf("role.yaml's Role allows %s: no rendered Role does", g)
		}
	}
	for name, rules := range renderedCluster {
		for _, g := range grants(rules) {
			if !allows(markerCluster, g) {
				t.Errorf("ClusterRole %s allows %s, which no cluster-wide marker asks for", name, g)
			}
		}
	}
	for name, rules := range renderedNamespaced {
		for _, g := range grants(rules) {
			if !allows(markerCluster, g) && !allows(markerNamespaced, g) {
				t.Errorf("Role %s allows %s, which no marker asks for", name, g)
			}
		}
	}
}

// TestRBACSplit checks the split between the binaries on the permissions that matter most: each writes only
// what it owns.
func TestRBACSplit(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Option
		binary string
		grant  grant
		want   bool
	}{
		{"controller writes Service status", nil, ControllerName, grant{"", "services/status", "", "update"}, true},
		{"speaker does not write Service status", nil, SpeakerName, grant{"", "services/status", "", "update"}, false},
		{"speaker writes ServiceL2Statuses", nil, SpeakerName, grant{"metallb.io", "servicel2statuses", "", "create"}, true},
		{"controller does not write ServiceL2Statuses", nil, ControllerName, grant{"metallb.io", "servicel2statuses", "", "create"}, false},
		{"controller writes pool status", nil, ControllerName, grant{"metallb.io", "ipaddresspools/status", "", "update"}, true},
		{"speaker does not write pool status", nil, SpeakerName, grant{"metallb.io", "ipaddresspools/status", "", "update"}, false},
		{"speaker reads BGP password Secrets", nil, SpeakerName, grant{"", "secrets", "", "get"}, true},
		{"speaker does not write Secrets", nil, SpeakerName, grant{"", "secrets", "", "create"}, false},
		{"controller keeps its certificate", nil, ControllerName, grant{"", "secrets", "", "create"}, true},
		{"no certificate without webhooks", []Option{WithWebhooks(false)}, ControllerName, grant{"", "secrets", "", "get"}, false},
		{"controller injects the CA bundle", nil, ControllerName,
			grant{"admissionregistration.k8s.io", "validatingwebhookconfigurations", WebhookConfigurationName, "update"}, true},
		{"into its configuration only", nil, ControllerName,
			grant{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "someone-elses", "update"}, false},
		{"no CA bundle without webhooks", []Option{WithWebhooks(false)}, ControllerName,
			grant{"apiextensions.k8s.io", "customresourcedefinitions", "bgppeers.metallb.io", "update"}, false},
		{"speaker does not touch webhooks", nil, SpeakerName,
			grant{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "get"}, false},
		{"speaker lists the speaker Pods", nil, SpeakerName, grant{"", "pods", "", "list"}, true},
		{"controller gets its own Pod only", nil, ControllerName, grant{"", "pods", "", "list"}, false},
		{"speaker serves secure metrics", nil, SpeakerName, grant{"authentication.k8s.io", "tokenreviews", "", "create"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster, namespaced := renderedRoles(t, tt.opts...)
			rules := append(cluster[testSettings.Namespace+":"+tt.binary], namespaced[tt.binary]...)
			if len(rules) == 0 {
				t.Fatalf("no rules for %s", tt.binary)
			}
			if got := allows(rules, tt.grant); got != tt.want {
				t.Errorf("%s allowed %s: %v, want %v", tt.binary, tt.grant, got, tt.want)
			}
		})
	}
}

// TestRBACWithoutWebhooks: without webhooks the controller gets a subset of its permissions.
func TestRBACWithoutWebhooks(t *testing.T) {
	withCluster, withNamespaced := renderedRoles(t)
	cluster, namespaced := renderedRoles(t, WithWebhooks(false))
	for _, rules := range []struct {
		without, with []rbacv1.PolicyRule
	}{{union(cluster), union(withCluster)}, {union(namespaced), union(withNamespaced)}} {
		for _, g := range grants(rules.without) {
			if !allows(rules.with, g) {
				t.Errorf("without webhooks, %s is allowed; with them, not", g)
			}
		}
	}
}
