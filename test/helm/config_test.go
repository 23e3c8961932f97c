package helm

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/internal/webhook"
)

// The chart carries what config/ generates, so that it never drifts from the kustomize install: the CRDs
// (crds/, `kustomize build config/crd`), the operator's RBAC rules (files/role.yaml, a copy of
// config/rbac/role.yaml) and the validating webhooks (files/webhook-manifests.yaml, a copy of
// config/webhook/manifests.yaml). go test -update rewrites them from config/.

const crdHeader = "# Generated from config/crd (kustomize build config/crd) by test/helm: go test ./... -update. Do not edit.\n"

// TestCRDsMatchConfig checks that the chart's CRDs are those of config/crd, conversion webhook included.
func TestCRDsMatchConfig(t *testing.T) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot(), "config", "crd"))
	if err != nil {
		t.Fatalf("kustomize build config/crd: %v", err)
	}
	dir := filepath.Join(chartDir(), "crds")
	want := map[string]map[string]any{}
	for _, r := range res.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		file := "metallb.io_" + strings.TrimSuffix(r.GetName(), ".metallb.io") + ".yaml"
		want[file] = m
		if *update {
			if err := os.WriteFile(filepath.Join(dir, file), append([]byte(crdHeader), b...), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got[filepath.Base(f)] = m
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charts/ferrolb/crds differs from kustomize build config/crd (-config +chart; go test -update rewrites it):\n%s", diff)
	}
}

// TestCopiesMatchConfig checks the chart's copies of generated files of config/.
func TestCopiesMatchConfig(t *testing.T) {
	for copied, original := range map[string]string{
		"files/role.yaml":              "config/rbac/role.yaml",
		"files/webhook-manifests.yaml": "config/webhook/manifests.yaml",
	} {
		want, err := os.ReadFile(filepath.Join(repoRoot(), original))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(chartDir(), copied)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("charts/ferrolb/%s differs from %s (go test -update copies it)", copied, original)
		}
	}
}

// convert turns an unstructured object into a typed one.
func convert(t tb, obj map[string]any, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, into); err != nil {
		t.Fatalf("converting %v: %v", obj["kind"], err)
	}
}

// roleYAML reads config/rbac/role.yaml's rules: the ClusterRole's, and the Roles' by namespace.
func roleYAML(t tb) (cluster []rbacv1.PolicyRule, namespaced map[string][]rbacv1.PolicyRule) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	namespaced = map[string][]rbacv1.PolicyRule{}
	for _, o := range objects(t, string(b)) {
		switch o.GetKind() {
		case "ClusterRole":
			var r rbacv1.ClusterRole
			convert(t, o.Object, &r)
			cluster = r.Rules
		case "Role":
			var r rbacv1.Role
			convert(t, o.Object, &r)
			namespaced[r.Namespace] = r.Rules
		}
	}
	return cluster, namespaced
}

// TestOperatorRBAC checks that the operator's ClusterRole and Roles hold exactly the rules of
// config/rbac/role.yaml, and that its bindings name its ServiceAccount.
func TestOperatorRBAC(t *testing.T) {
	objs := renderDefaults(t)
	wantCluster, wantNamespaced := roleYAML(t)

	var cluster rbacv1.ClusterRole
	convert(t, find(t, objs, "ClusterRole", "", "ferrolb-operator").Object, &cluster)
	if diff := cmp.Diff(wantCluster, cluster.Rules); diff != "" {
		t.Errorf("ClusterRole ferrolb-operator differs from role.yaml's ClusterRole (-role.yaml +chart):\n%s", diff)
	}
	var namespaces []string
	for ns, want := range wantNamespaced {
		namespaces = append(namespaces, ns)
		var role rbacv1.Role
		convert(t, find(t, objs, "Role", ns, "ferrolb-operator").Object, &role)
		if diff := cmp.Diff(want, role.Rules); diff != "" {
			t.Errorf("Role %s/ferrolb-operator differs from role.yaml's (-role.yaml +chart):\n%s", ns, diff)
		}
		var binding rbacv1.RoleBinding
		convert(t, find(t, objs, "RoleBinding", ns, "ferrolb-operator").Object, &binding)
		checkBinding(t, binding.RoleRef, binding.Subjects, "Role", "ferrolb-operator")
	}
	sort.Strings(namespaces)
	if diff := cmp.Diff([]string{"kube-system", "metallb-system"}, namespaces); diff != "" {
		t.Errorf("role.yaml's Roles are in other namespaces than the chart knows (-want +got):\n%s", diff)
	}
	var binding rbacv1.ClusterRoleBinding
	convert(t, find(t, objs, "ClusterRoleBinding", "", "ferrolb-operator").Object, &binding)
	checkBinding(t, binding.RoleRef, binding.Subjects, "ClusterRole", "ferrolb-operator")
}

func checkBinding(t *testing.T, ref rbacv1.RoleRef, subjects []rbacv1.Subject, kind, name string) {
	t.Helper()
	want := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	if diff := cmp.Diff(want, ref); diff != "" {
		t.Errorf("roleRef (-want +got):\n%s", diff)
	}
	wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ferrolb-operator", Namespace: namespace}}
	if diff := cmp.Diff(wantSubjects, subjects); diff != "" {
		t.Errorf("subjects of the %s binding (-want +got):\n%s", name, diff)
	}
}

// TestWebhookServerRBACWithinRoleYAML checks that the webhook server is granted nothing the markers do not ask
// for: every rule of its ClusterRole and Role is in role.yaml, the union of every binary's markers.
func TestWebhookServerRBACWithinRoleYAML(t *testing.T) {
	objs := renderDefaults(t)
	wantCluster, wantNamespaced := roleYAML(t)
	var cluster rbacv1.ClusterRole
	convert(t, find(t, objs, "ClusterRole", "", "ferrolb-webhook-server").Object, &cluster)
	var role rbacv1.Role
	convert(t, find(t, objs, "Role", namespace, "ferrolb-webhook-server").Object, &role)
	for _, g := range grants(cluster.Rules) {
		if !contains(grants(wantCluster), g) {
			t.Errorf("ClusterRole ferrolb-webhook-server grants %s, which role.yaml's ClusterRole does not", g)
		}
	}
	for _, g := range grants(role.Rules) {
		if !contains(grants(append(wantNamespaced[namespace], wantCluster...)), g) {
			t.Errorf("Role ferrolb-webhook-server grants %s, which role.yaml does not", g)
		}
	}
}

// grants flattens rules into one string per group, resource, name and verb.
func grants(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						out = append(out, g+"/"+res+"/"+n+":"+v)
					}
				}
			}
		}
	}
	return out
}

// contains reports whether the grants allow g (a grant on every name allows one on a name).
func contains(grants []string, g string) bool {
	for _, h := range grants {
		if h == g {
			return true
		}
	}
	parts := strings.SplitN(g, ":", 2)
	i := strings.LastIndex(parts[0], "/")
	all := parts[0][:i] + "/*:" + parts[1]
	for _, h := range grants {
		if h == all {
			return true
		}
	}
	return false
}

// TestWebhookConfiguration checks the validating webhooks: those of config/webhook/manifests.yaml behind
// metallb-system/metallb-webhook-service, and the MetalLB resource's (internal/webhook.MetalLBWebhook), all with
// webhook.failurePolicy.
func TestWebhookConfiguration(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var generated admissionregistrationv1.ValidatingWebhookConfiguration
	convert(t, objects(t, string(b))[0].Object, &generated)
	for _, policy := range []admissionregistrationv1.FailurePolicyType{admissionregistrationv1.Fail, admissionregistrationv1.Ignore} {
		t.Run(string(policy), func(t *testing.T) {
			rel, err := renderYAML(t, namespace, "webhook: {failurePolicy: "+string(policy)+"}")
			if err != nil {
				t.Fatal(err)
			}
			var want []admissionregistrationv1.ValidatingWebhook
			for _, w := range append(generated.DeepCopy().Webhooks, webhook.MetalLBWebhook(namespace, webhook.DefaultServiceName)) {
				w.ClientConfig.Service.Name = webhook.DefaultServiceName
				w.ClientConfig.Service.Namespace = namespace
				w.FailurePolicy = &policy
				want = append(want, w)
			}
			var got admissionregistrationv1.ValidatingWebhookConfiguration
			convert(t, find(t, objects(t, rel.Manifest), "ValidatingWebhookConfiguration", "", webhook.DefaultWebhookConfigName).Object, &got)
			if diff := cmp.Diff(want, got.Webhooks); diff != "" {
				t.Errorf("webhooks (-config/webhook and internal/webhook +chart):\n%s", diff)
			}
		})
	}
}
