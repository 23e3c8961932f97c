package helm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files, the chart's CRDs and its copies of config/ files")

const (
	releaseName = "ferrolb"
	namespace   = "metallb-system"
)

// tb is what the helpers need of a test: testing.TB, or Ginkgo's GinkgoT().
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// repoRoot is the root of the ferrolb source tree.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func chartDir() string { return filepath.Join(repoRoot(), "charts", "ferrolb") }

// render installs the chart client-only into namespace ns, as `helm install --dry-run` does, with the values of
// the file valuesFile (none if empty), and returns the release: its Manifest holds the rendered templates in
// Helm's install order, its Info.Notes the NOTES.txt.
func render(t tb, ns, valuesFile string) (*release.Release, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir())
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	values := map[string]any{}
	if valuesFile != "" {
		if values, err = chartutil.ReadValuesFile(valuesFile); err != nil {
			t.Fatalf("reading %s: %v", valuesFile, err)
		}
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun = true
	install.DryRunOption = "client"
	install.ClientOnly = true
	install.ReleaseName = releaseName
	install.Namespace = ns
	return install.Run(chrt, values)
}

// renderYAML renders the chart into namespace ns with the values of the YAML text values.
func renderYAML(t *testing.T, ns, values string) (*release.Release, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	return render(t, ns, file)
}

// renderDefaults renders the chart with its default values and returns its objects.
func renderDefaults(t tb) []*unstructured.Unstructured {
	t.Helper()
	rel, err := render(t, namespace, "")
	if err != nil {
		t.Fatalf("rendering the defaults: %v", err)
	}
	return objects(t, rel.Manifest)
}

// objects splits a manifest into its objects, in order.
func objects(t tb, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for {
		obj := map[string]any{}
		if err := d.Decode(&obj); err != nil {
			if err.Error() == "EOF" {
				return objs
			}
			t.Fatalf("decoding the rendered manifest: %v", err)
		}
		if len(obj) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
}

// find returns the rendered object of the kind, namespace and name.
func find(t tb, objs []*unstructured.Unstructured, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s rendered", kind, ns, name)
	return nil
}

// golden compares got with testdata/golden/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (go test -update writes it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the rendered chart (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// TestGolden renders every value set of testdata/values and compares the manifest and the notes with the golden
// files.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "values", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no value sets in testdata/values: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			rel, err := render(t, namespace, file)
			if err != nil {
				t.Fatalf("rendering: %v", err)
			}
			var out bytes.Buffer
			out.WriteString(strings.TrimSpace(rel.Manifest) + "\n")
			fmt.Fprintf(&out, "---\n# NOTES.txt\n%s\n", commented(rel.Info.Notes))
			golden(t, name+".yaml", out.Bytes())
			for _, o := range objects(t, rel.Manifest) {
				if o.GetName() == "" || o.GetKind() == "" {
					t.Errorf("an object without kind or name: %v", o.Object)
				}
			}
		})
	}
}

func commented(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("# "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// TestRefused renders values that cannot work: each must fail with a message naming the value.
func TestRefused(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		values    string
		want      []string
	}{{
		name:   "pull policy",
		values: "image: {pullPolicy: Sometimes}",
		want:   []string{"/image/pullPolicy", "IfNotPresent"},
	}, {
		name:   "misspelt key",
		values: "ipAdressPools: [{name: default, spec: {addresses: [10.0.0.0/24]}}]",
		want:   []string{"ipAdressPools"},
	}, {
		name:   "pool without a name",
		values: "ipAddressPools: [{spec: {addresses: [10.0.0.0/24]}}]",
		want:   []string{"/ipAddressPools/0", "name"},
	}, {
		name:   "invalid pool name",
		values: "ipAddressPools: [{name: Default_Pool, spec: {}}]",
		want:   []string{"/ipAddressPools/0/name"},
	}, {
		name:   "duplicate pool name",
		values: "ipAddressPools: [{name: lan, spec: {}}, {name: lan, spec: {}}]",
		want:   []string{`ipAddressPools[1].name "lan"`, "ipAddressPools[0]"},
	}, {
		name:      "another namespace",
		namespace: "lb",
		want:      []string{`namespace "lb"`, "metallb-system"},
	}, {
		name:   "legacy ConfigMap",
		values: "existingConfigMap: metallb-config",
		want:   []string{`existingConfigMap "metallb-config"`, "configmaptocrs"},
	}, {
		name:   "configInline",
		values: "configInline: {address-pools: [{name: default, protocol: layer2, addresses: [10.0.0.0/24]}]}",
		want:   []string{"configInline", "configmaptocrs"},
	}, {
		name:   "nameOverride",
		values: "nameOverride: metallb",
		want:   []string{`nameOverride "metallb"`, "fixed"},
	}, {
		name:   "speaker image",
		values: "speaker: {image: {repository: quay.io/metallb/speaker}}",
		want:   []string{"speaker.image", "image.repository"},
	}, {
		name:   "FRR",
		values: "speaker: {frr: {enabled: true}}",
		want:   []string{"speaker.frr.enabled=true"},
	}, {
		name:   "crds disabled",
		values: "crds: {enabled: false}",
		want:   []string{"crds.enabled=false", "--skip-crds"},
	}, {
		name:   "speaker tolerations without the MetalLB resource",
		values: "speaker: {tolerations: [{key: node-role.kubernetes.io/master, effect: NoSchedule}]}",
		want:   []string{"speaker.tolerations", "metallb.create=true"},
	}, {
		name:   "set twice",
		values: "metallb: {create: true, spec: {speakerTolerations: []}}\nspeaker: {tolerations: [{key: a, operator: Exists}]}",
		want:   []string{"speaker.tolerations and metallb.spec.speakerTolerations"},
	}, {
		name:   "two log levels",
		values: "metallb: {create: true}\ncontroller: {logLevel: debug}\nspeaker: {logLevel: info}",
		want:   []string{`controller.logLevel "debug" and speaker.logLevel "info"`},
	}, {
		name:   "log level",
		values: "speaker: {logLevel: verbose}",
		want:   []string{"/speaker/logLevel"},
	}, {
		name:   "PrometheusRule",
		values: "prometheus: {prometheusRule: {enabled: true}}",
		want:   []string{"prometheus.prometheusRule.enabled=true"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tt.namespace
			if ns == "" {
				ns = namespace
			}
			_, err := renderYAML(t, ns, tt.values)
			if err == nil {
				t.Fatalf("rendered, want an error naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
