package olm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Namespace is the namespace OLM's operators run in, and its global catalog namespace.
const Namespace = "olm"

// GlobalOperatorsNamespace is the namespace of OLM's default OperatorGroup for all namespaces.
const GlobalOperatorsNamespace = "operators"

// OLM's module holds its Helm chart, which its releases render into their install manifests: the CRDs as
// plain files, the rest as templates. (deploy/upstream/quickstart in the module is stale: it lacks the OLMConfig
// CRD and passes the catalog operator flags its command line no longer parses.)
const (
	chartCRDs      = "deploy/chart/crds"
	chartValues    = "deploy/chart/values.yaml"
	chartTemplates = "deploy/chart/templates"
)

// templates are the chart's templates the lab installs. Left out: the packageserver CSV (15, it serves the
// PackageManifest API that only consoles use), the OperatorHub.io CatalogSource (17, it pulls from quay.io),
// OpenShift's ClusterOperator status (99) and the Prometheus objects (0000_90, monitoring is off).
var templates = []string{
	"0000_50_olm_00-namespace.yaml",
	"0000_50_olm_01-networkpolicies.yaml",
	"0000_50_olm_02-olm-operator.serviceaccount.yaml",
	"0000_50_olm_03-olmconfig.yaml",
	"0000_50_olm_03-services.yaml",
	"0000_50_olm_07-olm-operator.deployment.yaml",
	"0000_50_olm_08-catalog-operator.deployment.yaml",
	"0000_50_olm_09-aggregated.clusterrole.yaml",
	"0000_50_olm_13-operatorgroup-default.yaml",
}

// ModuleDir downloads (once) OLM's module and returns its directory in the module cache.
func ModuleDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", olmModule+"@"+Version)
	cmd.Env = append(os.Environ(), "GOSUMDB=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("downloading %s@%s: %w\n%s", olmModule, Version, err, stderr.String())
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("reading go mod download's output: %w", err)
	}
	return mod.Dir, nil
}

// Manifests returns OLM's install objects, CRDs first, from the chart in OLM's module in moduleDir, rendered
// with the chart's values and these changes: OLM in Namespace; every image OLM runs or hands to its pods (the
// operators, the catalog operator's util, opm and ConfigMap-server images) is image, pulled only if absent; and
// the catalog operator resolves hosts (name → IP, see CatalogHost) from its /etc/hosts.
func Manifests(moduleDir, image string, hosts map[string]string) ([]*unstructured.Unstructured, error) {
	objs, err := readCRDs(filepath.Join(moduleDir, chartCRDs))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(moduleDir, chartValues))
	if err != nil {
		return nil, fmt.Errorf("reading OLM's chart values: %w", err)
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("decoding OLM's chart values: %w", err)
	}
	merge(values, labValues(image))
	for _, name := range templates {
		data, err := os.ReadFile(filepath.Join(moduleDir, chartTemplates, name))
		if err != nil {
			return nil, fmt.Errorf("reading OLM's chart: %w", err)
		}
		rendered, err := renderTemplate(name, string(data), values)
		if err != nil {
			return nil, err
		}
		o, err := decodeYAML(rendered)
		if err != nil {
			return nil, fmt.Errorf("decoding the rendered %s: %w", name, err)
		}
		objs = append(objs, o...)
	}
	for _, d := range []string{"olm-operator", "catalog-operator"} {
		if deployment(objs, d) == nil {
			return nil, fmt.Errorf("OLM's chart renders no Deployment %s", d)
		}
	}
	if err := setHostAliases(deployment(objs, "catalog-operator"), hosts); err != nil {
		return nil, err
	}
	return objs, nil
}

// setHostAliases adds an /etc/hosts entry to the pods of Deployment d for each host.
func setHostAliases(d *unstructured.Unstructured, hosts map[string]string) error {
	var aliases []any
	for _, name := range slices.Sorted(maps.Keys(hosts)) {
		aliases = append(aliases, map[string]any{"ip": hosts[name], "hostnames": []any{name}})
	}
	if len(aliases) == 0 {
		return nil
	}
	return unstructured.SetNestedSlice(d.Object, aliases, "spec", "template", "spec", "hostAliases")
}

// labValues are the chart values the lab sets.
func labValues(image string) map[string]any {
	img := map[string]any{"ref": image, "pullPolicy": "IfNotPresent"}
	return map[string]any{
		"namespace":          Namespace,
		"catalog_namespace":  Namespace,
		"operator_namespace": GlobalOperatorsNamespace,
		"olm":                map[string]any{"image": img},
		"catalog": map[string]any{
			"image":        img,
			"commandArgs":  "--configmapServerImage=" + image,
			"opmImageArgs": "--opmImage=" + image,
		},
	}
}

// merge sets every value of src in dst, recursing into maps as Helm merges values files.
func merge(dst, src map[string]any) {
	for k, v := range src {
		sub, ok := v.(map[string]any)
		if d, isMap := dst[k].(map[string]any); ok && isMap {
			merge(d, sub)
			continue
		}
		dst[k] = v
	}
}

// renderTemplate renders one chart template as `helm template` does. The templates the lab installs use the
// functions below, besides text/template's own.
func renderTemplate(name, text string, values map[string]any) ([]byte, error) {
	funcs := template.FuncMap{
		"toYaml": func(v any) (string, error) {
			b, err := yaml.Marshal(v)
			return strings.TrimSuffix(string(b), "\n"), err
		},
		"indent":     indent,
		"nindent":    func(n int, s string) string { return "\n" + indent(n, s) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing OLM's chart template %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, map[string]any{"Values": values}); err != nil {
		return nil, fmt.Errorf("rendering OLM's chart template %s: %w", name, err)
	}
	// Helm prints a missing value as nothing.
	return bytes.ReplaceAll(out.Bytes(), []byte("<no value>"), nil), nil
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func readCRDs(dir string) ([]*unstructured.Unstructured, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OLM's CRDs: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		o, err := decodeYAML(data)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", e.Name(), err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
}

func deployment(objs []*unstructured.Unstructured, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == name {
			return o
		}
	}
	return nil
}

// decodeYAML splits a multi-document YAML stream into objects, skipping empty documents.
func decodeYAML(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}
