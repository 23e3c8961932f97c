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

package controllers

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
)

func TestSetMigrationStatus(t *testing.T) {
	apply, dryRun := metallbv1beta1.MigrationApply, metallbv1beta1.MigrationDryRun
	base := func(mode metallbv1beta1.ConfigMigrationMode) migrationOutcome {
		return migrationOutcome{mode: mode, configMap: "config", source: "metallb-system/config", resourceVersion: "7"}
	}
	with := func(o migrationOutcome, f func(*migrationOutcome)) *migrationOutcome { f(&o); return &o }

	tests := []struct {
		name             string
		out              *migrationOutcome
		migrated, failed *cond // nil: no condition
		summary          *metallbv1beta1.MigrationStatus
	}{
		{name: "no legacy ConfigMap"},
		{
			name:     "what exists could not be read: left as it was",
			out:      &migrationOutcome{unknown: true},
			migrated: &cond{metav1.ConditionUnknown, "Before", nil}, failed: &cond{metav1.ConditionUnknown, "Before", nil},
			summary: &metallbv1beta1.MigrationStatus{ConfigMap: "old"},
		},
		{
			name:     "disabled",
			out:      with(base(metallbv1beta1.MigrationDisabled), func(*migrationOutcome) {}),
			migrated: &cond{metav1.ConditionFalse, ReasonMigrationDisabled, []string{"ConfigMap metallb-system/config is not converted"}},
			failed:   &cond{metav1.ConditionFalse, ReasonMigrationDisabled, nil},
		},
		{
			name: "invalid",
			out: with(base(apply), func(o *migrationOutcome) {
				o.invalid = errors.New(`ConfigMap metallb-system/config: pool "a" (address-pools[0]): addresses[0]: bad`)
			}),
			migrated: &cond{metav1.ConditionFalse, ReasonInvalidLegacyConfig, []string{"nothing was created"}},
			failed:   &cond{metav1.ConditionTrue, ReasonInvalidLegacyConfig, []string{`pool "a" (address-pools[0]): addresses[0]: bad`}},
			summary:  &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7"},
		},
		{
			name:     "empty",
			out:      with(base(apply), func(o *migrationOutcome) { o.empty = true }),
			migrated: &cond{metav1.ConditionTrue, ReasonNothingToMigrate, nil},
			failed:   &cond{metav1.ConditionFalse, ReasonAsExpected, nil},
			summary:  &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7"},
		},
		{
			name:     "applied",
			out:      with(base(apply), func(o *migrationOutcome) { o.resources, o.upToDate = 4, 4 }),
			migrated: &cond{metav1.ConditionTrue, ReasonResourcesUpToDate, []string{"The 4 resources", "delete the ConfigMap"}},
			failed:   &cond{metav1.ConditionFalse, ReasonAsExpected, nil},
			summary:  &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7", Resources: 4, UpToDate: 4},
		},
		{
			name: "conflicts and refusals, conflicts first",
			out: with(base(apply), func(o *migrationOutcome) {
				o.resources, o.upToDate = 4, 1
				o.rejected = []problem{{"IPAddressPool/b", "was refused: overlaps pool c"}}
				o.conflicts = []problem{{"BGPPeer/peer1", "exists with another spec (not created by the migration)"}}
				o.failed = []problem{{"Community/communities", "could not be created (retrying): webhook unreachable"}}
			}),
			migrated: &cond{metav1.ConditionFalse, ReasonIncomplete, []string{"1 of the 4"}},
			failed: &cond{metav1.ConditionTrue, ReasonConflict, []string{
				"BGPPeer/peer1 exists with another spec (not created by the migration); IPAddressPool/b was refused: overlaps pool c; " +
					"Community/communities could not be created (retrying): webhook unreachable",
				"never changed"}},
			summary: &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7", Resources: 4, UpToDate: 1,
				Conflicts: []string{"BGPPeer/peer1"}},
		},
		{
			name: "refused only",
			out: with(base(apply), func(o *migrationOutcome) {
				o.resources, o.upToDate = 2, 1
				o.rejected = []problem{{"IPAddressPool/b", "was refused: overlaps"}}
			}),
			migrated: &cond{metav1.ConditionFalse, ReasonIncomplete, nil},
			failed:   &cond{metav1.ConditionTrue, ReasonRejected, []string{"IPAddressPool/b was refused: overlaps"}},
			summary:  &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7", Resources: 2, UpToDate: 1},
		},
		{
			name:     "dry run",
			out:      with(base(dryRun), func(o *migrationOutcome) { o.resources, o.upToDate, o.generated = 4, 1, "config-migrated" }),
			migrated: &cond{metav1.ConditionFalse, ReasonDryRun, []string{"in ConfigMap config-migrated, key resources.yaml", "1 of them exist"}},
			failed:   &cond{metav1.ConditionFalse, ReasonAsExpected, nil},
			summary: &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7", Resources: 4, UpToDate: 1,
				GeneratedConfigMap: "config-migrated"},
		},
		{
			name: "dry run whose ConfigMap name is taken",
			out: with(base(dryRun), func(o *migrationOutcome) {
				o.resources = 4
				o.conflicts = []problem{{"ConfigMap/config-migrated", "exists and was not written by the operator"}}
			}),
			migrated: &cond{metav1.ConditionFalse, ReasonDryRun, []string{"could not be written"}},
			failed:   &cond{metav1.ConditionTrue, ReasonConflict, []string{"ConfigMap/config-migrated exists and was not written"}},
			summary: &metallbv1beta1.MigrationStatus{ConfigMap: "config", ResourceVersion: "7", Resources: 4,
				Conflicts: []string{"ConfigMap/config-migrated"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A status with conditions from an earlier outcome: they go when there is no ConfigMap.
			st := &metallbv1beta1.MetalLBStatus{Migration: &metallbv1beta1.MigrationStatus{ConfigMap: "old"}}
			for _, c := range []string{metallbv1beta1.ConditionAvailable, metallbv1beta1.ConditionMigrated, metallbv1beta1.ConditionMigrationFailed} {
				meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionUnknown, Reason: "Before",
					ObservedGeneration: 3})
			}
			setMigrationStatus(st, 3, tt.out)
			checkCondition(t, st, metallbv1beta1.ConditionMigrated, tt.migrated)
			checkCondition(t, st, metallbv1beta1.ConditionMigrationFailed, tt.failed)
			if meta.FindStatusCondition(st.Conditions, metallbv1beta1.ConditionAvailable) == nil {
				t.Error("another condition was removed")
			}
			if diff := cmp.Diff(tt.summary, st.Migration); diff != "" {
				t.Errorf("status.migration (-want +got):\n%s", diff)
			}
		})
	}
}

// cond is an expected condition: its status, reason and substrings of its message.
type cond struct {
	status  metav1.ConditionStatus
	reason  string
	message []string
}

// checkCondition compares the condition of type typ with want, nil for none.
func checkCondition(t *testing.T, st *metallbv1beta1.MetalLBStatus, typ string, want *cond) {
	t.Helper()
	got := meta.FindStatusCondition(st.Conditions, typ)
	switch {
	case want == nil && got != nil:
		t.Errorf("condition %s should be absent, got %+v", typ, got)
		return
	case want == nil:
		return
	case got == nil:
		t.Errorf("condition %s missing", typ)
		return
	}
	if got.Status != want.status || got.Reason != want.reason || got.ObservedGeneration != 3 {
		t.Errorf("condition %s: got %s/%s (generation %d), want %s/%s", typ, got.Status, got.Reason,
			got.ObservedGeneration, want.status, want.reason)
	}
	for _, s := range want.message {
		if !strings.Contains(got.Message, s) {
			t.Errorf("condition %s: message %q lacks %q", typ, got.Message, s)
		}
	}
}

func TestSetMigrationStatusLongMessage(t *testing.T) {
	st := &metallbv1beta1.MetalLBStatus{}
	out := &migrationOutcome{mode: metallbv1beta1.MigrationApply, source: "metallb-system/config",
		invalid: errors.New(strings.Repeat("pool é: bad; ", 2000))}
	setMigrationStatus(st, 1, out)
	c := meta.FindStatusCondition(st.Conditions, metallbv1beta1.ConditionMigrationFailed)
	if c == nil || len(c.Message) > maxConditionMessage || !strings.HasSuffix(c.Message, " …") {
		t.Fatalf("message of %d bytes, want at most %d ending with an ellipsis", len(c.Message), maxConditionMessage)
	}
}
