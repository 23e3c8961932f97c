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
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrEmpty is returned for an input that holds no legacy configuration at all: an empty payload, or one
	// that defines no pools, peers, BFD profiles or communities. MetalLB's converter wrote an empty file and
	// exited 0 for such inputs (metallb#1491).
	ErrEmpty = errors.New("the legacy configuration is empty: nothing to convert")

	// ErrNotFound is returned by ReadInput when the input holds no legacy configuration it recognises.
	ErrNotFound = errors.New("no legacy MetalLB configuration found")
)

// Error is one problem of a legacy configuration, located the way its author wrote it.
type Error struct {
	// Object is the legacy object with the problem, such as `pool "blue"`, `peer2 at 10.0.0.1`,
	// `bfd profile "slow"`, `bgp-communities` or `configuration` for the top level.
	Object string
	// Path is where the object sits in the legacy document, such as address-pools[2]; empty for the top level.
	Path string
	// Key is the legacy key at fault, relative to the object, such as protocol or bgp-advertisements[0].localpref;
	// empty when the problem is the object as a whole.
	Key string
	// Detail says what is wrong.
	Detail string
}

// Error renders the problem on one line:
//
//	pool "blue" (address-pools[2]): protocol: unknown protocol "l2", must be "bgp" or "layer2"
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Object)
	if e.Path != "" {
		fmt.Fprintf(&b, " (%s)", e.Path)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Detail)
	return b.String()
}

// ErrorList is every problem Decode or Convert found, in a deterministic order: document order, and for the
// keys of one object the order of the legacy schema followed by unknown keys in lexical order.
type ErrorList []*Error

// Error renders a single problem on one line, and several as a count followed by one indented line per
// problem, so that the message still reads well behind a prefix such as the input's name.
func (l ErrorList) Error() string {
	if len(l) == 1 {
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(l))
	for _, e := range l {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// err returns the list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
