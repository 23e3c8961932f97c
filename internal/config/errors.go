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

package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// ErrTransient matches a Parse error whose every problem is a reference to an object that may not exist
	// yet: a peer's BFDProfile or password Secret, or a Community alias used by a BGPAdvertisement. Objects can
	// be applied in any order, so such a configuration can become valid without being changed.
	ErrTransient = errors.New("reference to an object that does not exist yet")

	// ErrInvalid matches a Parse error with at least one permanent problem: some object has to be changed.
	ErrInvalid = errors.New("invalid configuration")
)

// Kinds of the objects errors are reported against, as in their apiVersion/kind.
const (
	kindPool             = "IPAddressPool"
	kindPeer             = "BGPPeer"
	kindBFDProfile       = "BFDProfile"
	kindCommunity        = "Community"
	kindL2Advertisement  = "L2Advertisement"
	kindBGPAdvertisement = "BGPAdvertisement"
)

// ObjectError is every problem Parse found in one object. Field paths are relative to the object
// (spec.addresses[1]) and details carry MetalLB's message, so a webhook can return Errs as they are.
//
// A problem of type field.ErrorTypeNotFound is transient (see ErrTransient); every other type is permanent.
// Cross-object problems, such as two pools overlapping, are reported against the object Parse met last,
// inputs being sorted by name.
type ObjectError struct {
	// Kind is the object's kind, such as IPAddressPool.
	Kind string
	// Name is the object's name.
	Name string
	// Errs are the object's problems, in the order Parse found them.
	Errs field.ErrorList
}

// Error renders one line per problem, each prefixed with the object's kind and name:
//
//	IPAddressPool "blue": spec.addresses[1]: Invalid value: "10.0.0.300/24": invalid CIDR "10.0.0.300/24" in pool "blue": ...
func (e *ObjectError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, fe := range e.Errs {
		lines[i] = fmt.Sprintf("%s %q: %s", e.Kind, e.Name, fe.Error())
	}
	return strings.Join(lines, "\n")
}

// Is reports whether the object's problems are all transient (ErrTransient) or include a permanent one
// (ErrInvalid).
func (e *ObjectError) Is(target error) bool {
	return classify(e.Errs, target)
}

// ErrorList is the error Parse returns: every object with problems, in the order Parse met them, which is
// deterministic.
type ErrorList []*ObjectError

// Error renders the problems of every object, one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is reports whether all problems of all objects are transient (ErrTransient) or at least one of them is
// permanent (ErrInvalid). ErrorList deliberately has no Unwrap: errors.Is would then match ErrTransient as
// soon as one object had only transient problems, even next to permanent problems elsewhere.
func (l ErrorList) Is(target error) bool {
	var all field.ErrorList
	for _, e := range l {
		all = append(all, e.Errs...)
	}
	return classify(all, target)
}

func classify(errs field.ErrorList, target error) bool {
	switch target {
	case ErrTransient:
		return len(errs) > 0 && !hasPermanent(errs)
	case ErrInvalid:
		return hasPermanent(errs)
	}
	return false
}

func hasPermanent(errs field.ErrorList) bool {
	return slices.ContainsFunc(errs, func(fe *field.Error) bool { return !isTransient(fe) })
}

// isTransient reports whether a problem is a reference to a missing object. Parse reports those, and only
// those, as field.ErrorTypeNotFound.
func isTransient(fe *field.Error) bool {
	return fe.Type == field.ErrorTypeNotFound
}

// objectKey identifies an object in a collector.
type objectKey struct {
	kind, name string
}

// collector gathers problems per object, in the order they are found.
type collector struct {
	// skipTransient drops transient problems (WithoutTransientReferences).
	skipTransient bool
	list          ErrorList
	byObject      map[objectKey]*ObjectError
}

// add records problems of one object.
func (c *collector) add(kind, name string, errs ...*field.Error) {
	for _, fe := range errs {
		if c.skipTransient && isTransient(fe) {
			continue
		}
		key := objectKey{kind: kind, name: name}
		oe, ok := c.byObject[key]
		if !ok {
			oe = &ObjectError{Kind: kind, Name: name}
			if c.byObject == nil {
				c.byObject = map[objectKey]*ObjectError{}
			}
			c.byObject[key] = oe
			c.list = append(c.list, oe)
		}
		oe.Errs = append(oe.Errs, fe)
	}
}

// err returns the problems collected so far, or nil.
func (c *collector) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}

// notFound is a transient problem: fieldPath refers to an object named name that is not among the Resources.
func notFound(fieldPath *field.Path, name, detail string) *field.Error {
	fe := field.NotFound(fieldPath, name)
	fe.Detail = detail
	return fe
}

// duplicate is a problem of a value that appears twice, with MetalLB's message as detail.
func duplicate(fieldPath *field.Path, value any, detail string) *field.Error {
	fe := field.Duplicate(fieldPath, value)
	fe.Detail = detail
	return fe
}
