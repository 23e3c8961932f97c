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
	"bytes"
	"fmt"
)

// Conversion is the outcome of ConvertFile.
type Conversion struct {
	// Input is where the legacy configuration was found.
	Input *Input
	// Namespace is the namespace of the resources.
	Namespace string
	// Result holds the resources.
	Result *Result
	// YAML is the resources as WriteYAML writes them, verified with Verify.
	YAML []byte
}

// ConvertFile converts the legacy configuration in a file's content: ReadInput, Decode, Convert and
// WriteYAML, then Verify on the stream written. The resources go to namespace when it is not empty, else to
// the namespace of the input's ConfigMap, else to DefaultNamespace, as with MetalLB's converter.
func ConvertFile(data []byte, namespace string) (*Conversion, error) {
	in, err := ReadInput(data)
	if err != nil {
		return nil, err
	}
	if namespace == "" {
		namespace = in.Namespace
	}
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return convertInput(in, namespace, Header, nil)
}

// convertInput decodes and converts in's configuration into namespace, marks the objects with mark when it
// is not nil, writes them after header and verifies what was written.
func convertInput(in *Input, namespace, header string, mark func(Object)) (*Conversion, error) {
	legacy, err := Decode(in.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Source, err)
	}
	res, err := Convert(legacy, namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Source, err)
	}
	if mark != nil {
		for _, obj := range res.Objects() {
			mark(obj)
		}
	}
	var buf bytes.Buffer
	if err := res.writeYAML(&buf, header); err != nil {
		return nil, err
	}
	if err := Verify(buf.Bytes()); err != nil {
		return nil, err
	}
	return &Conversion{Input: in, Namespace: namespace, Result: res, YAML: buf.Bytes()}, nil
}
