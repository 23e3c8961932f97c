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

package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Format is the kind of document a legacy configuration was found in.
type Format string

// Formats ReadInput recognises.
const (
	// FormatConfigMap is a ConfigMap manifest with the configuration under data.config, as MetalLB read it.
	FormatConfigMap Format = "ConfigMap"
	// FormatPayload is the bare configuration, the value of data.config.
	FormatPayload Format = "configuration"
	// FormatHelmValues is Helm values with the configuration under configInline, as MetalLB's and Bitnami's
	// charts took it before v0.13.
	FormatHelmValues Format = "Helm values"
	// FormatHelmRelease is a Flux HelmRelease with the configuration under spec.values.configInline.
	FormatHelmRelease Format = "HelmRelease"
)

// Input is a legacy configuration ReadInput found.
type Input struct {
	Format Format
	// Source says where it was found, for messages: ConfigMap metallb-system/config (document 2).
	Source string
	// Namespace is the ConfigMap's or HelmRelease's metadata.namespace, where MetalLB's converter puts the
	// resources; empty when the input names none.
	Namespace string
	// Config is the configuration, for Decode.
	Config []byte
}

// legacyMarkers are the top-level keys that make a document without kind a bare configuration.
var legacyMarkers = topKeys

// configMapFields are the top-level fields of a ConfigMap.
var configMapFields = []string{"apiVersion", "kind", "metadata", "data", "binaryData", "immutable"}

// ReadInput finds the legacy configuration in a file a user has: a ConfigMap manifest (also inside a List, or
// among other manifests of a multi-document stream), a bare `config` payload, Helm values with configInline,
// or a Flux HelmRelease carrying such values.
//
// The input must hold exactly one configuration. ErrNotFound, wrapped with what was seen instead, is returned
// when it holds none: MetalLB's converter wrote an empty file for Helm values (metallb#1491). A ConfigMap
// with fields a ConfigMap does not have (name and namespace outside metadata, from a lost indentation) is an
// error too, as kubectl would refuse it.
func ReadInput(data []byte) (*Input, error) {
	r := &inputReader{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading document %d: %w", n, err)
		}
		if err := r.document(n, doc); err != nil {
			return nil, err
		}
	}
	switch len(r.found) {
	case 0:
		if len(r.seen) == 0 {
			return nil, fmt.Errorf("%w: the input is empty", ErrNotFound)
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFound, strings.Join(r.seen, "; "))
	case 1:
		return r.found[0], nil
	}
	sources := make([]string, len(r.found))
	for i, in := range r.found {
		sources[i] = in.Source
	}
	return nil, fmt.Errorf("found %d legacy configurations, in %s: give one at a time", len(r.found), strings.Join(sources, ", "))
}

// inputReader collects what ReadInput finds.
type inputReader struct {
	found []*Input
	// seen says what documents without a configuration were, to explain ErrNotFound.
	seen []string
}

func (r *inputReader) document(n int, doc []byte) error {
	v, err := yamlValue(doc)
	if err != nil {
		return fmt.Errorf("document %d is not valid YAML: %w", n, err)
	}
	where := fmt.Sprintf("document %d", n)
	switch v := v.(type) {
	case nil:
		return nil // empty, or comments only
	case map[string]any:
		if _, ok := v["kind"]; !ok && hasAny(v, legacyMarkers) && !hasAny(v, []string{"configInline", "existingConfigMap"}) {
			// Kept as written, so Decode's YAML errors point at the user's lines.
			r.found = append(r.found, &Input{Format: FormatPayload, Source: where, Config: doc})
			return nil
		}
		return r.object(v, where)
	default:
		r.seen = append(r.seen, fmt.Sprintf("%s is %s, not a mapping", where, describe(v)))
		return nil
	}
}

// object looks for a configuration in a document or List item that is not a bare configuration.
func (r *inputReader) object(obj map[string]any, where string) error {
	kind, _ := obj["kind"].(string)
	switch kind {
	case "":
		if hasAny(obj, []string{"configInline", "existingConfigMap"}) {
			return r.helmValues(obj, FormatHelmValues, where, "", "")
		}
		r.seen = append(r.seen, fmt.Sprintf("%s has no kind and none of the keys %s, configInline",
			where, strings.Join(legacyMarkers, ", ")))
	case "List":
		items, _ := obj["items"].([]any)
		for i, item := range items {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			if err := r.object(m, fmt.Sprintf("%s, item %d", where, i+1)); err != nil {
				return err
			}
		}
	case "ConfigMap":
		return r.configMap(obj, where)
	case "HelmRelease":
		values, _ := nested(obj, "spec", "values").(map[string]any)
		namespace, name := metadata(obj)
		return r.helmValues(values, FormatHelmRelease, where, namespace, name)
	default:
		namespace, name := metadata(obj)
		r.seen = append(r.seen, fmt.Sprintf("%s is %s, not a ConfigMap", where, describeObject(kind, namespace, name)))
	}
	return nil
}

func (r *inputReader) configMap(obj map[string]any, where string) error {
	namespace, name := metadata(obj)
	what := fmt.Sprintf("%s (%s)", describeObject("ConfigMap", namespace, name), where)
	if v, _ := obj["apiVersion"].(string); v != "v1" {
		return fmt.Errorf("%s: apiVersion must be v1, got %s", what, describe(obj["apiVersion"]))
	}
	var unknown []string
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(configMapFields, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		hint := ""
		if _, ok := obj["name"]; ok {
			hint = " (name and namespace belong under metadata: check the indentation)"
		} else if _, ok := obj["namespace"]; ok {
			hint = " (namespace belongs under metadata: check the indentation)"
		}
		return fmt.Errorf("%s: a ConfigMap has no field %s%s", what, strings.Join(unknown, ", "), hint)
	}
	if m, ok := obj["metadata"]; ok && m != nil {
		if _, ok := m.(map[string]any); !ok {
			return fmt.Errorf("%s: metadata must be a mapping, got %s", what, describe(m))
		}
	}
	data, ok := obj["data"].(map[string]any)
	if !ok && obj["data"] != nil {
		return fmt.Errorf("%s: data must be a mapping, got %s", what, describe(obj["data"]))
	}
	config, ok := data["config"]
	if !ok {
		keys := slices.Sorted(maps.Keys(data))
		if len(keys) == 0 {
			r.seen = append(r.seen, fmt.Sprintf("%s has no data", what))
		} else {
			r.seen = append(r.seen, fmt.Sprintf("%s has no data.config key, only %s", what, strings.Join(keys, ", ")))
		}
		return nil
	}
	s, ok := config.(string)
	if !ok {
		return fmt.Errorf("%s: data.config must be a string holding the configuration, got %s", what, describe(config))
	}
	r.found = append(r.found, &Input{Format: FormatConfigMap, Source: what, Namespace: namespace, Config: []byte(s)})
	return nil
}

// helmValues takes the configuration from configInline: a mapping, as the charts had it, or a string.
func (r *inputReader) helmValues(values map[string]any, format Format, where, namespace, name string) error {
	what := where
	if format == FormatHelmRelease {
		what = fmt.Sprintf("%s (%s)", describeObject("HelmRelease", namespace, name), where)
	}
	inline, ok := values["configInline"]
	switch v := inline.(type) {
	case map[string]any:
		if len(v) > 0 {
			config, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%s: configInline: %w", what, err)
			}
			r.found = append(r.found, &Input{Format: format, Source: what + ", configInline", Namespace: namespace, Config: config})
			return nil
		}
	case string:
		if strings.TrimSpace(v) != "" {
			r.found = append(r.found, &Input{Format: format, Source: what + ", configInline", Namespace: namespace, Config: []byte(v)})
			return nil
		}
	case nil:
	default:
		return fmt.Errorf("%s: configInline must be a mapping, got %s", what, describe(v))
	}
	if existing, _ := values["existingConfigMap"].(string); existing != "" {
		r.seen = append(r.seen, fmt.Sprintf("%s sets existingConfigMap %q: convert that ConfigMap instead", what, existing))
		return nil
	}
	if ok {
		r.seen = append(r.seen, fmt.Sprintf("%s has an empty configInline", what))
	} else {
		r.seen = append(r.seen, fmt.Sprintf("%s has no configInline", what))
	}
	return nil
}

func hasAny(m map[string]any, keys []string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { _, ok := m[k]; return ok })
}

// nested returns the value at the path of keys, nil when there is none.
func nested(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// metadata returns an object's namespace and name, empty when absent.
func metadata(obj map[string]any) (namespace, name string) {
	namespace, _ = nested(obj, "metadata", "namespace").(string)
	name, _ = nested(obj, "metadata", "name").(string)
	return namespace, name
}

func describeObject(kind, namespace, name string) string {
	switch {
	case name == "":
		return kind + " without a name"
	case namespace == "":
		return kind + " " + name
	}
	return fmt.Sprintf("%s %s/%s", kind, namespace, name)
}
