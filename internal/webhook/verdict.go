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

package webhook

import (
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/internal/config"
)

// group is the API group of every kind the webhooks validate.
const group = "metallb.io"

// verdict judges a change of the configuration from before to after, where after holds the object kind/name
// under admission. The change is refused if after has a problem that before does not have: a problem of the
// object itself, or one the object causes in another object, such as an existing pool it overlaps (the parser
// reports a conflict against the object it meets last, in name order). Problems that were there before the
// change do not refuse it: a configuration already broken, say by objects created before the webhook ran, must
// not make every unrelated apply fail. A change that leaves its own problems as they were (a finalizer removed
// from a broken object) is admitted for the same reason.
//
// References to objects that do not exist yet (BFD profiles, password Secrets, community aliases) are not
// problems, so objects may be applied in any order.
func verdict(kind, name string, before, after config.Resources) admission.Response {
	_, err := config.Parse(after, config.WithoutTransientReferences())
	if err == nil {
		return admission.Allowed("")
	}
	problemsAfter, ok := problemsOf(err)
	if !ok {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("validating %s %s: %w", kind, name, err))
	}
	var problemsBefore []problem
	if _, err := config.Parse(before, config.WithoutTransientReferences()); err != nil {
		if problemsBefore, ok = problemsOf(err); !ok {
			return admission.Errored(http.StatusInternalServerError, fmt.Errorf("validating %s %s: %w", kind, name, err))
		}
	}

	known := make(map[string]bool, len(problemsBefore))
	for _, p := range problemsBefore {
		known[p.key()] = true
	}
	var errs field.ErrorList
	var inherited []problem
	for _, p := range problemsAfter {
		switch {
		case known[p.key()]:
			inherited = append(inherited, p)
		case p.kind == kind && p.name == name:
			errs = append(errs, p.err)
		default:
			errs = append(errs, p.inOther())
		}
	}
	if len(errs) > 0 {
		return invalid(kind, name, errs)
	}
	return admission.Allowed("").WithWarnings(inheritedWarnings(inherited)...)
}

// problem is one problem config.Parse found, with the object that has it.
type problem struct {
	kind, name string
	err        *field.Error
}

// key identifies a problem across two Parse calls.
func (p problem) key() string {
	return p.kind + "\x00" + p.name + "\x00" + p.err.Error()
}

// inOther returns the problem, which another object has, as a problem of the object under admission: same
// field path and value, the other object named in the detail.
func (p problem) inOther() *field.Error {
	fe := *p.err
	fe.Detail = fmt.Sprintf("makes %s %q invalid: %s", p.kind, p.name, p.err.Detail)
	return &fe
}

func (p problem) String() string {
	return fmt.Sprintf("%s %q: %s", p.kind, p.name, p.err.Error())
}

// problemsOf flattens a config.Parse error. It reports false for an error that is not a config.ErrorList,
// which Parse does not return.
func problemsOf(err error) ([]problem, bool) {
	var list config.ErrorList
	if !errors.As(err, &list) {
		return nil, false
	}
	var problems []problem
	for _, oe := range list {
		for _, fe := range oe.Errs {
			problems = append(problems, problem{kind: oe.Kind, name: oe.Name, err: fe})
		}
	}
	return problems, true
}

// inheritedWarnings tells, in one warning, that the configuration has problems the change did not cause.
// Warnings are short by design (kubectl prints each on a line), so only the first problem is spelled out.
func inheritedWarnings(inherited []problem) []string {
	switch len(inherited) {
	case 0:
		return nil
	case 1:
		return []string{fmt.Sprintf("the configuration has a problem this change did not cause: %s", inherited[0])}
	}
	return []string{fmt.Sprintf("the configuration has %d problems this change did not cause, the first: %s", len(inherited), inherited[0])}
}

// invalid refuses the object kind/name for the field errors, as the API server refuses an invalid object: the
// status is Invalid (422) and carries one cause per field error, with its path.
func invalid(kind, name string, errs field.ErrorList) admission.Response {
	status := apierrors.NewInvalid(schema.GroupKind{Group: group, Kind: kind}, name, errs).Status()
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
}

// forbidden refuses an operation on the object resource/name that is valid in itself.
func forbidden(resource, name string, err error) admission.Response {
	status := apierrors.NewForbidden(schema.GroupResource{Group: group, Resource: resource}, name, err).Status()
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
}
