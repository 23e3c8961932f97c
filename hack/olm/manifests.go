package olm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Namespace is the namespace OLM's operators run in (the quickstart's).
const Namespace = "olm"

// quickstart holds OLM's own install manifests in its module: every CRD, then the namespaces, RBAC, the two
// operators, the default OperatorGroups, the packageserver CSV and the OperatorHub catalog.
var quickstart = []string{"deploy/upstream/quickstart/crds.yaml", "deploy/upstream/quickstart/olm.yaml"}

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

// Manifests returns OLM's install objects, from the quickstart of OLM's module in moduleDir, made to run on
// image without pulling anything (see lab).
func Manifests(moduleDir, image string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, f := range quickstart {
		data, err := os.ReadFile(filepath.Join(moduleDir, f))
		if err != nil {
			return nil, fmt.Errorf("reading OLM's manifests: %w", err)
		}
		o, err := decodeYAML(data)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", f, err)
		}
		objs = append(objs, o...)
	}
	return forLab(objs, image)
}

// forLab adapts OLM's quickstart to a cluster without a registry:
//   - the olm and catalog operators run image (their upstream image is pinned by a digest of quay.io), and the
//     catalog operator uses it for its util, opm and ConfigMap-server images too, which its defaults would pull
//     from quay.io;
//   - the packageserver CSV and the OperatorHub CatalogSource go: the first serves the PackageManifest API (an
//     aggregated API nothing here uses), the second pulls its catalog from quay.io.
func forLab(objs []*unstructured.Unstructured, image string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	found := map[string]bool{}
	for _, o := range objs {
		switch o.GetKind() {
		case "ClusterServiceVersion", "CatalogSource":
			continue
		case "Deployment":
			found[o.GetName()] = true
			if err := setImages(o, image); err != nil {
				return nil, err
			}
		}
		out = append(out, o)
	}
	for _, d := range []string{"olm-operator", "catalog-operator"} {
		if !found[d] {
			return nil, fmt.Errorf("OLM's manifests have no Deployment %s", d)
		}
	}
	return out, nil
}

// imageFlags are the catalog operator's flags that name images; each is set to the OLM image.
var imageFlags = []string{"-configmapServerImage", "-util-image", "-opmImage"}

// setImages points every container of Deployment d at image and, for the catalog operator, every image flag.
func setImages(d *unstructured.Unstructured, image string) error {
	containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) == 0 {
		return fmt.Errorf("deployment %s: no containers: %v", d.GetName(), err)
	}
	for i, c := range containers {
		m, ok := c.(map[string]any)
		if !ok {
			return fmt.Errorf("deployment %s: container %d is not an object", d.GetName(), i)
		}
		m["image"] = image
		m["imagePullPolicy"] = "IfNotPresent"
		args, _, err := unstructured.NestedStringSlice(m, "args")
		if err != nil {
			return fmt.Errorf("deployment %s: args: %w", d.GetName(), err)
		}
		command, _, _ := unstructured.NestedStringSlice(m, "command")
		if slices.Contains(command, "/bin/catalog") {
			args = setFlags(args, imageFlags, image)
		}
		if args != nil {
			if err := unstructured.SetNestedStringSlice(m, args, "args"); err != nil {
				return err
			}
		}
	}
	return unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers")
}

// setFlags sets each flag of names to value in args, in any of the forms the quickstart uses ("-f=v", "-f v")
// and appends those missing.
func setFlags(args, names []string, value string) []string {
	out := slices.Clone(args)
	for _, name := range names {
		set := false
		for i := 0; i < len(args); i++ { // only the given arguments, not those appended
			a := strings.TrimSpace(out[i])
			switch {
			case strings.HasPrefix(a, name+"="):
				out[i], set = name+"="+value, true
			case a == name && i+1 < len(args):
				out[i], out[i+1], set = name, value, true
				i++
			}
		}
		if !set {
			out = append(out, name+"="+value)
		}
	}
	return out
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
