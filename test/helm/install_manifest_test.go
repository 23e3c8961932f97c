package helm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestMatchesInstallManifest checks the chart's defaults against the kustomize install, dist/install.yaml
// (make install-manifest): the same objects, equal but for what Helm adds. Allowed differences: the chart's Helm
// labels and annotations, the operator's IMAGE_PULL_POLICY (image.pullPolicy, passed on to the operands), the
// CRDs (crds/, TestCRDsMatchConfig) and the Namespace, which Helm users create themselves (helm install
// --create-namespace, or a Flux Namespace).
func TestMatchesInstallManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "dist", "install.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("dist/install.yaml does not exist (make install-manifest writes it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	key := func(o *unstructured.Unstructured) string {
		return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
	}
	want, got := map[string]map[string]any{}, map[string]map[string]any{}
	for _, o := range objects(t, string(b)) {
		if o.GetKind() != "CustomResourceDefinition" && o.GetKind() != "Namespace" {
			want[key(o)] = comparable(o)
		}
	}
	for _, o := range renderDefaults(t) {
		got[key(o)] = comparable(o)
	}
	if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
		t.Errorf("objects (-dist/install.yaml +chart):\n%s", diff)
	}
	for k, w := range want {
		if g, ok := got[k]; ok {
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("%s (-dist/install.yaml +chart):\n%s", k, diff)
			}
		}
	}
}

// comparable is the object without its labels and annotations, the pod template's labels and the operator's
// IMAGE_PULL_POLICY.
func comparable(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy()
	c.SetLabels(nil)
	c.SetAnnotations(nil)
	unstructured.RemoveNestedField(c.Object, "spec", "template", "metadata", "labels")
	containers, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "containers")
	for _, ctr := range containers {
		ctr := ctr.(map[string]any)
		env, _ := ctr["env"].([]any)
		var kept []any
		for _, e := range env {
			if e.(map[string]any)["name"] != "IMAGE_PULL_POLICY" {
				kept = append(kept, e)
			}
		}
		if kept != nil {
			ctr["env"] = kept
		}
	}
	if containers != nil {
		_ = unstructured.SetNestedSlice(c.Object, containers, "spec", "template", "spec", "containers")
	}
	return c.Object
}

func keys(m map[string]map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
