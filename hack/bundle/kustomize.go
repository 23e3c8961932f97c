package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// defaultImage is the release image, config/default's.
const defaultImage = "quay.io/ferrolb/ferrolb:v0.1.0"

// imageName is the placeholder image of config/manager and config/webhook-server, which config/default maps
// to the real one (and its replacements copy into the operator's CONTROLLER_IMAGE and SPEAKER_IMAGE).
const imageName = "controller"

// buildYAML runs kustomize on configDir/dir, with every container image set to img, and returns its YAML.
func buildYAML(configDir, dir, img string) ([]byte, error) {
	m, err := kustomize(configDir, dir, img)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// build is buildYAML as objects, in kustomize's order.
func build(configDir, dir, img string) ([]*unstructured.Unstructured, error) {
	m, err := kustomize(configDir, dir, img)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, r := range m.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.CurId(), err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// kustomize builds configDir/dir from an in-memory copy of configDir in which config/default's image is img:
// what `cd config/default && kustomize edit set image controller=IMG` does, without touching the tree.
func kustomize(configDir, dir, img string) (resmap.ResMap, error) {
	mem, err := copyToMemory(configDir)
	if err != nil {
		return nil, err
	}
	if err := setImage(mem, "/config/default/kustomization.yaml", img); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy // kustomize's and kubectl's order: Namespace and CRDs first
	m, err := krusty.MakeKustomizer(opts).Run(mem, "/config/"+dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", filepath.Join(configDir, dir), err)
	}
	return m, nil
}

// copyToMemory copies the directory tree into an in-memory file system, under /config.
func copyToMemory(dir string) (filesys.FileSystem, error) {
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(filepath.Join("/config", rel), data)
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return mem, nil
}

// setImage maps the placeholder image to img in the kustomization file.
func setImage(mem filesys.FileSystem, file, img string) error {
	data, err := mem.ReadFile(file)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	name, tag, digest := splitImage(img)
	image := types.Image{Name: imageName, NewName: name, NewTag: tag, Digest: digest}
	found := false
	for i := range k.Images {
		if k.Images[i].Name == imageName {
			k.Images[i], found = image, true
		}
	}
	if !found {
		return fmt.Errorf("%s maps no image %q", file, imageName)
	}
	if data, err = yaml.Marshal(k); err != nil {
		return err
	}
	return mem.WriteFile(file, data)
}

// splitImage splits an image reference into its name, tag and digest; a colon in the registry's host:port
// is not a tag.
func splitImage(img string) (name, tag, digest string) {
	if i := strings.LastIndexByte(img, '@'); i >= 0 {
		img, digest = img[:i], img[i+1:]
	}
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		img, tag = img[:i], img[i+1:]
	}
	return img, tag, digest
}
