package olm

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestMirrorGoMod(t *testing.T) {
	upstream := []byte(`module example.com/up

go 1.24.4

require (
	github.com/openshift/api v3.9.0+incompatible
	google.golang.org/grpc v1.70.0
)

replace google.golang.org/grpc => google.golang.org/grpc v1.63.2

replace (
	github.com/openshift/api => github.com/openshift/api v0.0.0-20221021112143-4226c2167e40
	example.com/local => ./staging/local
	example.com/pinned v1.0.0 => example.com/pinned v1.0.1
)
`)
	got, err := mirrorGoMod("assets", "example.com/up", "v1.2.3", upstream)
	if err != nil {
		t.Fatal(err)
	}
	want := `module assets

go 1.26.0

require example.com/up v1.2.3

replace google.golang.org/grpc => google.golang.org/grpc v1.63.2

replace github.com/openshift/api => github.com/openshift/api v0.0.0-20221021112143-4226c2167e40

replace example.com/pinned v1.0.0 => example.com/pinned v1.0.1
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("go.mod (-want +got):\n%s", diff)
	}
}

func TestRenderTemplate(t *testing.T) {
	values := map[string]any{
		"namespace": "olm",
		"res":       map[string]any{"requests": map[string]any{"cpu": "10m"}},
		"ports":     []any{map[string]any{"port": 53}},
		"enabled":   true,
	}
	text := `metadata:
  namespace: {{ .Values.namespace }}
  missing: "{{ .Values.absent }}"
resources:
{{ toYaml .Values.res | indent 2 }}
ports: {{ .Values.ports | toYaml | nindent 2 | trimSuffix "\n" }}
{{- if eq .Values.enabled true }}
on: yes
{{- end }}
`
	got, err := renderTemplate("t", text, values)
	if err != nil {
		t.Fatal(err)
	}
	want := `metadata:
  namespace: olm
  missing: ""
resources:
  requests:
    cpu: 10m
ports: 
  - port: 53
on: yes
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("rendered (-want +got):\n%s", diff)
	}
	if _, err := renderTemplate("bad", "{{ include \"x\" . }}", values); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("a template with a function Helm has and the lab does not: error %v, want one naming the template", err)
	}
}

func TestMerge(t *testing.T) {
	dst := map[string]any{"a": map[string]any{"x": 1, "y": 2}, "b": 1}
	merge(dst, map[string]any{"a": map[string]any{"y": 3, "z": 4}, "c": map[string]any{"k": "v"}})
	want := map[string]any{"a": map[string]any{"x": 1, "y": 3, "z": 4}, "b": 1, "c": map[string]any{"k": "v"}}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}

// TestManifests renders the chart of the pinned OLM from the module cache (go mod download fetches it once).
func TestManifests(t *testing.T) {
	dir, err := ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Manifests(dir, "ferrolb.local/olm:v1", map[string]string{"c.olm.svc": "10.96.0.50"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
	}
	want := []string{
		"CustomResourceDefinition//catalogsources.operators.coreos.com",
		"CustomResourceDefinition//clusterserviceversions.operators.coreos.com",
		"CustomResourceDefinition//installplans.operators.coreos.com",
		"CustomResourceDefinition//olmconfigs.operators.coreos.com",
		"CustomResourceDefinition//operatorconditions.operators.coreos.com",
		"CustomResourceDefinition//operatorgroups.operators.coreos.com",
		"CustomResourceDefinition//operators.operators.coreos.com",
		"CustomResourceDefinition//subscriptions.operators.coreos.com",
		"Namespace//olm",
		"Namespace//operators",
		"NetworkPolicy/olm/default-deny-all-traffic",
		"NetworkPolicy/olm/olm-operator",
		"NetworkPolicy/olm/catalog-operator",
		"NetworkPolicy/olm/packageserver",
		"NetworkPolicy/operators/default-allow-all",
		"ClusterRole//system:controller:operator-lifecycle-manager",
		"ServiceAccount/olm/olm-operator-serviceaccount",
		"ClusterRoleBinding//olm-operator-binding-olm",
		"OLMConfig//cluster",
		"Deployment/olm/olm-operator",
		"Deployment/olm/catalog-operator",
		"ClusterRole//aggregate-olm-edit",
		"ClusterRole//aggregate-olm-view",
		"OperatorGroup/operators/global-operators",
		"OperatorGroup/olm/olm-operators",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		c := containers[0].(map[string]any)
		if c["image"] != "ferrolb.local/olm:v1" || c["imagePullPolicy"] != "IfNotPresent" {
			t.Errorf("%s: image %v pull policy %v", o.GetName(), c["image"], c["imagePullPolicy"])
		}
		if o.GetName() != "catalog-operator" {
			continue
		}
		aliases, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "hostAliases")
		if diff := cmp.Diff([]any{map[string]any{"ip": "10.96.0.50", "hostnames": []any{"c.olm.svc"}}}, aliases); diff != "" {
			t.Errorf("catalog-operator hostAliases (-want +got):\n%s", diff)
		}
		args, _, _ := unstructured.NestedStringSlice(c, "args")
		for _, want := range []string{"--configmapServerImage=ferrolb.local/olm:v1", "--opmImage=ferrolb.local/olm:v1", "--util-image"} {
			if !slices.Contains(args, want) {
				t.Errorf("catalog-operator args %q: want %q", args, want)
			}
		}
		if i := slices.Index(args, "--util-image"); i < 0 || i+1 >= len(args) || args[i+1] != "ferrolb.local/olm:v1" {
			t.Errorf("catalog-operator args %q: --util-image must be the lab's image", args)
		}
	}
}

func TestBundle(t *testing.T) {
	b, err := ReadBundle("testdata/bundle")
	if err != nil {
		t.Fatal(err)
	}
	if b.Package != "echo-operator" || b.Channel != "alpha" || b.CSVName() != "echo-operator.v0.1.0" || b.Version() != "0.1.0" || b.Replaces() != "" {
		t.Fatalf("bundle: package %q channel %q CSV %q version %q replaces %q", b.Package, b.Channel, b.CSVName(), b.Version(), b.Replaces())
	}
	if len(b.CRDs()) != 1 || b.CRDs()[0].GetName() != "echoes.example.com" {
		t.Errorf("CRDs: %v", b.CRDs())
	}
	lab, err := b.WithImage("ferrolb.local/echo:lab")
	if err != nil {
		t.Fatal(err)
	}
	next, err := lab.Successor("0.1.1")
	if err != nil {
		t.Fatal(err)
	}
	if next.CSVName() != "echo-operator.v0.1.1" || next.Version() != "0.1.1" || next.Replaces() != "echo-operator.v0.1.0" {
		t.Errorf("successor: CSV %q version %q replaces %q", next.CSVName(), next.Version(), next.Replaces())
	}
	if b.CSVName() != "echo-operator.v0.1.0" || b.OperatorImage() != "example.com/echo-operator:v0.1.0" {
		t.Errorf("the original bundle changed: CSV %q image %q", b.CSVName(), b.OperatorImage())
	}

	// Every place that named the operator image names the lab's, in the file the bundle image holds.
	dir := t.TempDir()
	if err := next.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "manifests", "echo-operator.clusterserviceversion.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "example.com/echo-operator") {
		t.Errorf("the CSV still names the upstream image:\n%s", data)
	}
	var csv unstructured.Unstructured
	if err := yaml.Unmarshal(data, &csv.Object); err != nil {
		t.Fatal(err)
	}
	related, _, _ := unstructured.NestedSlice(csv.Object, "spec", "relatedImages")
	deployments, _, _ := unstructured.NestedSlice(csv.Object, "spec", "install", "spec", "deployments")
	containers, _, _ := unstructured.NestedSlice(deployments[0].(map[string]any), "spec", "template", "spec", "containers")
	env := containers[0].(map[string]any)["env"].([]any)
	got := []any{csv.GetAnnotations()["containerImage"], related[0].(map[string]any)["image"], containers[0].(map[string]any)["image"], env[0].(map[string]any)["value"]}
	if diff := cmp.Diff([]any{"ferrolb.local/echo:lab", "ferrolb.local/echo:lab", "ferrolb.local/echo:lab", "ferrolb.local/echo:lab"}, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "metadata", "annotations.yaml")); err != nil {
		t.Error(err)
	}
}

func TestReadBundleErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no metadata", map[string]string{"manifests/a.yaml": "kind: ConfigMap"}, "reading the bundle"},
		{"no package", map[string]string{"manifests/a.yaml": "kind: ConfigMap", "metadata/annotations.yaml": "annotations: {}"}, "package.v1 and a channel are required"},
		{"no CSV", map[string]string{"manifests/a.yaml": "kind: ConfigMap", "metadata/annotations.yaml": annotations}, "no ClusterServiceVersion"},
		{"two CSVs", map[string]string{"manifests/a.yaml": "kind: ClusterServiceVersion", "manifests/b.yaml": "kind: ClusterServiceVersion", "metadata/annotations.yaml": annotations}, "two ClusterServiceVersions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ReadBundle(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

const annotations = `annotations:
  operators.operatorframework.io.bundle.package.v1: p
  operators.operatorframework.io.bundle.channels.v1: stable,fast
`

// fixtureImage is the bundle image of testdata/bundle.
func fixtureImage(t *testing.T) (*Bundle, v1.Image) {
	t.Helper()
	b, err := ReadBundle("testdata/bundle")
	if err != nil {
		t.Fatal(err)
	}
	img, err := b.Image()
	if err != nil {
		t.Fatal(err)
	}
	return b, img
}

func TestBundleImage(t *testing.T) {
	b, img := fixtureImage(t)
	again, err := b.Image()
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("digests differ between two builds of one bundle: %s, %s", d1, d2)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Labels[annotationPackage] != "echo-operator" {
		t.Errorf("labels %v: want the bundle's annotations", cf.Config.Labels)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	want := []string{"manifests/", "manifests/echo-operator.clusterserviceversion.yaml", "manifests/example.com_echoes.yaml", "metadata/", "metadata/annotations.yaml"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
}

func TestNextPatch(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"0.1.0", "0.1.1", ""},
		{"1.2.9", "1.2.10", ""},
		{"1.2", "", "not MAJOR.MINOR.PATCH"},
		{"1.2.x", "", "patch"},
	}
	for _, tt := range tests {
		got, err := nextPatch(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("nextPatch(%q) = %q, %v; want %q, error containing %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestWriteArchive(t *testing.T) {
	_, img := fixtureImage(t)
	ref, err := DigestRef("ferrolb.local/bundle", img)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "a.tar")
	if err := WriteArchive(archive, map[v1.Image][]string{img: {"ferrolb.local/bundle:v0.1.0", ref}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var index []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if h.Name == "index.json" {
			index, _ = io.ReadAll(tr)
		}
	}
	var idx struct {
		Manifests []struct {
			Digest      string
			Annotations map[string]string
		}
	}
	if err := yaml.Unmarshal(index, &idx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range idx.Manifests {
		if "ferrolb.local/bundle@"+m.Digest != ref {
			t.Errorf("manifest %s: want the image's digest in %s", m.Digest, ref)
		}
		names = append(names, m.Annotations[containerdName])
	}
	if diff := cmp.Diff([]string{"ferrolb.local/bundle:v0.1.0", ref}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if !bytes.HasPrefix([]byte(ref), []byte("ferrolb.local/bundle@sha256:")) {
		t.Errorf("reference %s", ref)
	}
}
