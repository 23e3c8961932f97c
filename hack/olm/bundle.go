package olm

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The bundle annotations (bundle/metadata/annotations.yaml, also the bundle image's labels) a catalog needs.
const (
	annotationPackage        = "operators.operatorframework.io.bundle.package.v1"
	annotationChannels       = "operators.operatorframework.io.bundle.channels.v1"
	annotationDefaultChannel = "operators.operatorframework.io.bundle.channel.default.v1"
)

// Bundle is an operator bundle in memory: what `make bundle` writes into bundle/ and a bundle image holds.
type Bundle struct {
	// Package, Channel: the package and the channel a catalog lists the bundle in (the default channel).
	Package, Channel string
	// files maps paths relative to the bundle root ("manifests/x.yaml", "metadata/annotations.yaml") to their
	// content.
	files map[string][]byte
	// csvFile is the path of the ClusterServiceVersion in files, csv its decoded form.
	csvFile string
	csv     *unstructured.Unstructured
	crds    []*unstructured.Unstructured
	labels  map[string]string
}

// ReadBundle reads the bundle in dir: manifests/ and metadata/annotations.yaml.
func ReadBundle(dir string) (*Bundle, error) {
	b := &Bundle{files: map[string][]byte{}}
	for _, sub := range []string{"manifests", "metadata"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("reading the bundle: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				return nil, err
			}
			b.files[path.Join(sub, e.Name())] = data
		}
	}
	var meta struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.Unmarshal(b.files["metadata/annotations.yaml"], &meta); err != nil {
		return nil, fmt.Errorf("reading %s/metadata/annotations.yaml: %w", dir, err)
	}
	b.labels = meta.Annotations
	b.Package = meta.Annotations[annotationPackage]
	b.Channel = meta.Annotations[annotationDefaultChannel]
	if b.Channel == "" {
		b.Channel, _, _ = strings.Cut(meta.Annotations[annotationChannels], ",")
	}
	if b.Package == "" || b.Channel == "" {
		return nil, fmt.Errorf("%s/metadata/annotations.yaml: %s and a channel are required", dir, annotationPackage)
	}
	for _, name := range slices.Sorted(maps.Keys(b.files)) {
		if !strings.HasPrefix(name, "manifests/") {
			continue
		}
		var o unstructured.Unstructured
		if err := yaml.Unmarshal(b.files[name], &o.Object); err != nil {
			return nil, fmt.Errorf("decoding %s/%s: %w", dir, name, err)
		}
		switch o.GetKind() {
		case "ClusterServiceVersion":
			if b.csv != nil {
				return nil, fmt.Errorf("%s: two ClusterServiceVersions, %s and %s", dir, b.csvFile, name)
			}
			b.csvFile, b.csv = name, &o
		case "CustomResourceDefinition":
			b.crds = append(b.crds, &o)
		}
	}
	if b.csv == nil {
		return nil, fmt.Errorf("%s/manifests: no ClusterServiceVersion", dir)
	}
	return b, nil
}

// CRDs are the bundle's CustomResourceDefinitions.
func (b *Bundle) CRDs() []*unstructured.Unstructured { return b.crds }

// CSVName is the name of the bundle's ClusterServiceVersion, "<package>.v<version>".
func (b *Bundle) CSVName() string { return b.csv.GetName() }

// Version is the bundle's spec.version.
func (b *Bundle) Version() string {
	v, _, _ := unstructured.NestedString(b.csv.Object, "spec", "version")
	return v
}

// Replaces is the CSV that this bundle's replaces (spec.replaces), empty for none.
func (b *Bundle) Replaces() string {
	v, _, _ := unstructured.NestedString(b.csv.Object, "spec", "replaces")
	return v
}

// OperatorImage is the image the CSV runs: its containerImage annotation, else its first container's image.
func (b *Bundle) OperatorImage() string {
	if img := b.csv.GetAnnotations()["containerImage"]; img != "" {
		return img
	}
	deployments, _, _ := unstructured.NestedSlice(b.csv.Object, "spec", "install", "spec", "deployments")
	for _, d := range deployments {
		containers, _, _ := unstructured.NestedSlice(d.(map[string]any), "spec", "template", "spec", "containers")
		for _, c := range containers {
			if img, _ := c.(map[string]any)["image"].(string); img != "" {
				return img
			}
		}
	}
	return ""
}

// WithImage is the bundle with every occurrence of its operator image in the CSV (containers, the env that
// names the operands' image, relatedImages, the containerImage annotation) replaced by image.
func (b *Bundle) WithImage(image string) (*Bundle, error) {
	from := b.OperatorImage()
	if from == "" {
		return nil, fmt.Errorf("%s: no operator image found", b.csvFile)
	}
	return b.withCSV(func(csv *unstructured.Unstructured) error {
		csv.Object = replaceString(csv.Object, from, image).(map[string]any)
		return nil
	})
}

// Successor is the next version of the bundle: the same content as version, replacing b's CSV, as a release
// that only bumps the version would be.
func (b *Bundle) Successor(version string) (*Bundle, error) {
	name := b.Package + ".v" + version
	return b.withCSV(func(csv *unstructured.Unstructured) error {
		csv.SetName(name)
		if err := unstructured.SetNestedField(csv.Object, version, "spec", "version"); err != nil {
			return err
		}
		return unstructured.SetNestedField(csv.Object, b.CSVName(), "spec", "replaces")
	})
}

// withCSV is a copy of the bundle whose CSV edit changed.
func (b *Bundle) withCSV(edit func(*unstructured.Unstructured) error) (*Bundle, error) {
	csv := b.csv.DeepCopy()
	if err := edit(csv); err != nil {
		return nil, fmt.Errorf("editing %s: %w", b.csvFile, err)
	}
	data, err := yaml.Marshal(csv.Object)
	if err != nil {
		return nil, err
	}
	c := *b
	c.files = maps.Clone(b.files)
	c.files[c.csvFile] = data
	c.csv = csv
	return &c, nil
}

// replaceString returns v with every string equal to from replaced by to, at any depth.
func replaceString(v any, from, to string) any {
	switch t := v.(type) {
	case string:
		if t == from {
			return to
		}
	case map[string]any:
		for k, e := range t {
			t[k] = replaceString(e, from, to)
		}
	case []any:
		for i, e := range t {
			t[i] = replaceString(e, from, to)
		}
	}
	return v
}

// WriteDir writes the bundle's files under dir, as bundle/ holds them.
func (b *Bundle) WriteDir(dir string) error {
	for name, data := range b.files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Image is the bundle image bundle.Dockerfile builds: /manifests and /metadata, labelled with the annotations.
func (b *Bundle) Image() (v1.Image, error) {
	files := make([]File, 0, len(b.files))
	for name, data := range b.files {
		files = append(files, File{Path: "/" + name, Data: data, Mode: 0o644})
	}
	return newImage(empty.Image, files, imageConfig{Labels: b.labels})
}
