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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestParseSelectors(t *testing.T) {
	in := func(key string, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: values}
	}
	tests := []struct {
		name      string
		selectors []metav1.LabelSelector
		want      []string // selectors as strings
		wantErr   []string
	}{
		{name: "none"},
		{
			name:      "empty selector matches everything",
			selectors: []metav1.LabelSelector{{}},
			want:      []string{""},
		},
		{
			name: "labels and expressions",
			selectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"b": "2", "a": "1"}},
				{MatchExpressions: []metav1.LabelSelectorRequirement{in("zone", "y", "x"), {Key: "gpu", Operator: metav1.LabelSelectorOpExists}}},
			},
			want: []string{"a=1,b=2", "gpu,zone in (x,y)"},
		},
		{
			name: "selectors equal once values are sorted",
			selectors: []metav1.LabelSelector{
				{MatchExpressions: []metav1.LabelSelectorRequirement{in("zone", "x", "y")}},
				{MatchExpressions: []metav1.LabelSelectorRequirement{in("zone", "y", "x")}},
			},
			wantErr: []string{`spec.nodeSelectors[1]: Duplicate value: "zone In [x y]": duplicate definition of nodeSelectors "zone In [x y]"`},
		},
		{
			name: "expressions in another order are different selectors, as in MetalLB",
			selectors: []metav1.LabelSelector{
				{MatchExpressions: []metav1.LabelSelectorRequirement{in("a", "1"), in("b", "2")}},
				{MatchExpressions: []metav1.LabelSelectorRequirement{in("b", "2"), in("a", "1")}},
			},
			want: []string{"a in (1),b in (2)", "a in (1),b in (2)"},
		},
		{
			name:      "duplicate expression and duplicate value",
			selectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{in("zone", "x", "x"), in("zone", "x", "x")}}},
			wantErr: []string{
				`spec.nodeSelectors[0].matchExpressions[0].values[1]: Duplicate value: "x": duplicate definition of match expression value in label selector "x"`,
				`spec.nodeSelectors[0].matchExpressions[1].values[1]: Duplicate value: "x": duplicate definition of match expression value in label selector "x"`,
				`spec.nodeSelectors[0].matchExpressions[1]: Duplicate value: "zone In [x x]": duplicate definition of match expressions "zone In [x x]"`,
			},
		},
		{
			name:      "unknown operator",
			selectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}}},
			wantErr:   []string{`spec.nodeSelectors[0]: Invalid value: "a Near []": "Near" is not a valid label selector operator`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parseSelectors(field.NewPath("spec"), "nodeSelectors", tt.selectors)
			var gotErr []string
			for _, e := range errs {
				gotErr = append(gotErr, e.Error())
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				return
			}
			var gotStrings []string
			for _, s := range got {
				gotStrings = append(gotStrings, s.String())
			}
			if diff := cmp.Diff(tt.want, gotStrings); diff != "" {
				t.Errorf("selectors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectorErrorIsDeterministic(t *testing.T) {
	// Map iteration order varies; of several invalid labels, the first by key is reported every time.
	sel := []metav1.LabelSelector{{MatchLabels: map[string]string{"b/c/d": "1", "a/b/c": "1", "c/d/e": "1"}}}
	_, first := parseSelectors(field.NewPath("spec"), "nodeSelectors", sel)
	if len(first) != 1 || !strings.Contains(first[0].Detail, `"a/b/c"`) {
		t.Fatalf("errors = %v, want one about a/b/c", first)
	}
	for range 20 {
		_, errs := parseSelectors(field.NewPath("spec"), "nodeSelectors", sel)
		if diff := cmp.Diff(first.ToAggregate().Error(), errs.ToAggregate().Error()); diff != "" {
			t.Fatalf("errors differ between runs (-first +now):\n%s", diff)
		}
	}
}
