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
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// parseSelectors validates and converts the label selectors of the list field name under parent (for example
// spec.nodeSelectors). Like MetalLB it refuses a selector given twice, a match expression given twice in a
// selector and a value given twice in an expression. Selectors are compared as MetalLB compares them (match
// labels as a map, match expressions in order, each expression's values sorted), so that nothing MetalLB
// accepts is refused.
func parseSelectors(parent *field.Path, name string, selectors []metav1.LabelSelector) ([]labels.Selector, field.ErrorList) {
	listPath := parent.Child(name)
	var errs field.ErrorList
	var parsed []labels.Selector
	seen := map[string]bool{}
	for i := range selectors {
		path := listPath.Index(i)
		errs = append(errs, validateMatchExpressions(path.Child("matchExpressions"), selectors[i].MatchExpressions)...)

		canonical := canonicalSelector(selectors[i])
		if seen[canonical] {
			errs = append(errs, duplicate(path, canonical, fmt.Sprintf("duplicate definition of %s %q", name, canonical)))
			continue
		}
		seen[canonical] = true

		sel, err := selectorFrom(selectors[i])
		if err != nil {
			errs = append(errs, field.Invalid(path, canonical, err.Error()))
			continue
		}
		parsed = append(parsed, sel)
	}
	return parsed, errs
}

// validateMatchExpressions refuses an expression given twice and a value given twice in an expression.
func validateMatchExpressions(path *field.Path, exprs []metav1.LabelSelectorRequirement) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, expr := range exprs {
		exprPath := path.Index(i)
		values := map[string]bool{}
		for j, v := range expr.Values {
			if values[v] {
				errs = append(errs, duplicate(exprPath.Child("values").Index(j), v,
					fmt.Sprintf("duplicate definition of match expression value in label selector %q", v)))
			}
			values[v] = true
		}
		canonical := canonicalRequirement(expr)
		if seen[canonical] {
			errs = append(errs, duplicate(exprPath, canonical, fmt.Sprintf("duplicate definition of match expressions %q", canonical)))
		}
		seen[canonical] = true
	}
	return errs
}

// canonicalSelector renders a selector for comparison and messages: match labels sorted by key, then match
// expressions in their order, as in "app=web,zone In [a b]".
func canonicalSelector(s metav1.LabelSelector) string {
	parts := make([]string, 0, len(s.MatchLabels)+len(s.MatchExpressions))
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	for _, expr := range s.MatchExpressions {
		parts = append(parts, canonicalRequirement(expr))
	}
	return strings.Join(parts, ",")
}

// canonicalRequirement renders a match expression with its values sorted, as in "zone In [a b]".
func canonicalRequirement(r metav1.LabelSelectorRequirement) string {
	return fmt.Sprintf("%s %s %v", r.Key, r.Operator, slices.Sorted(slices.Values(r.Values)))
}

// selectorFrom converts a label selector as metav1.LabelSelectorAsSelector does, but walks match labels in
// key order so that, of several invalid labels, the same one is reported every time.
func selectorFrom(s metav1.LabelSelector) (labels.Selector, error) {
	if len(s.MatchLabels)+len(s.MatchExpressions) == 0 {
		return labels.Everything(), nil
	}
	var reqs []labels.Requirement
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		r, err := labels.NewRequirement(k, selection.Equals, []string{s.MatchLabels[k]})
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, *r)
	}
	for _, expr := range s.MatchExpressions {
		op, ok := selectionOperators[expr.Operator]
		if !ok {
			return nil, fmt.Errorf("%q is not a valid label selector operator", expr.Operator)
		}
		r, err := labels.NewRequirement(expr.Key, op, slices.Clone(expr.Values))
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, *r)
	}
	return labels.NewSelector().Add(reqs...), nil
}

var selectionOperators = map[metav1.LabelSelectorOperator]selection.Operator{
	metav1.LabelSelectorOpIn:           selection.In,
	metav1.LabelSelectorOpNotIn:        selection.NotIn,
	metav1.LabelSelectorOpExists:       selection.Exists,
	metav1.LabelSelectorOpDoesNotExist: selection.DoesNotExist,
}

// matchesAny reports whether any of the selectors matches. An empty list matches everything: in every
// selector list of the API, nothing selected means all.
func matchesAny(selectors []labels.Selector, set labels.Labels) bool {
	if len(selectors) == 0 {
		return true
	}
	for _, s := range selectors {
		if s.Matches(set) {
			return true
		}
	}
	return false
}
