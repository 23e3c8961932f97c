package crds_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// TestEveryFieldIsDocumented makes sure `kubectl explain` has something to say for every field of every
// version of every CRD: the descriptions come from the doc comments of api/.
func TestEveryFieldIsDocumented(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs found: %v", err)
	}
	kinds := map[string][]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			kinds[crd.Spec.Names.Kind] = append(kinds[crd.Spec.Names.Kind], v.Name)
			var undocumented []string
			walk(v.Schema.OpenAPIV3Schema, crd.Spec.Names.Kind, &undocumented)
			for _, path := range undocumented {
				t.Errorf("%s %s: %s has no description", crd.Name, v.Name, path)
			}
		}
	}
	want := []string{"BFDProfile", "BGPAdvertisement", "BGPPeer", "Community", "ConfigurationState", "IPAddressPool",
		"L2Advertisement", "MetalLB", "ServiceBGPStatus", "ServiceL2Status"}
	var got []string
	for k := range kinds {
		got = append(got, k)
	}
	sort.Strings(got)
	if len(got) != len(want) {
		t.Errorf("CRD kinds = %v, want %v", got, want)
	}
	if v := kinds["BGPPeer"]; len(v) != 2 {
		t.Errorf("BGPPeer versions = %v, want v1beta1 and v1beta2", v)
	}
}

func walk(s *apiextensionsv1.JSONSchemaProps, path string, undocumented *[]string) {
	if s == nil {
		return
	}
	for name, p := range s.Properties {
		child := path + "." + name
		// The API server publishes ObjectMeta's own documentation for the root metadata field.
		if p.Description == "" && !(name == "metadata" && !strings.Contains(path, ".")) {
			*undocumented = append(*undocumented, child)
		}
		walk(&p, child, undocumented)
	}
	if s.Items != nil && s.Items.Schema != nil {
		walk(s.Items.Schema, path+"[]", undocumented)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		walk(s.AdditionalProperties.Schema, path+"{}", undocumented)
	}
}
