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
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
)

// maxConflictsListed bounds status.migration.conflicts (the CRD's maxItems).
const maxConflictsListed = 256

// setMigrationStatus sets the Migrated and MigrationFailed conditions and status.migration from the
// migration's outcome, or removes them when there is no legacy ConfigMap (out is nil).
func setMigrationStatus(st *metallbv1beta1.MetalLBStatus, generation int64, out *migrationOutcome) {
	if out != nil && out.unknown {
		return
	}
	if out == nil {
		meta.RemoveStatusCondition(&st.Conditions, metallbv1beta1.ConditionMigrated)
		meta.RemoveStatusCondition(&st.Conditions, metallbv1beta1.ConditionMigrationFailed)
		st.Migration = nil
		return
	}
	set := func(t string, ok bool, reason, msg string) {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		if len(msg) > maxConditionMessage {
			msg = strings.ToValidUTF8(msg[:maxConditionMessage-len(" …")], "") + " …"
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg,
			ObservedGeneration: generation})
	}
	migrated, failed := metallbv1beta1.ConditionMigrated, metallbv1beta1.ConditionMigrationFailed
	cm := "ConfigMap " + out.source

	if out.mode == metallbv1beta1.MigrationDisabled {
		msg := fmt.Sprintf("spec.configMigration.mode is Disabled: %s is not converted", cm)
		set(migrated, false, ReasonMigrationDisabled, msg)
		set(failed, false, ReasonMigrationDisabled, msg)
		st.Migration = nil
		return
	}
	st.Migration = &metallbv1beta1.MigrationStatus{ConfigMap: out.configMap, ResourceVersion: out.resourceVersion,
		Resources: int32(out.resources), UpToDate: int32(out.upToDate), GeneratedConfigMap: out.generated}
	for _, p := range out.conflicts {
		if len(st.Migration.Conflicts) < maxConflictsListed {
			st.Migration.Conflicts = append(st.Migration.Conflicts, p.ref)
		}
	}

	switch {
	case out.invalid != nil:
		set(migrated, false, ReasonInvalidLegacyConfig, cm+" cannot be converted, nothing was created: see MigrationFailed")
		set(failed, true, ReasonInvalidLegacyConfig, out.invalid.Error())
		return
	case out.empty:
		set(migrated, true, ReasonNothingToMigrate, cm+" defines no pool, peer, BFD profile or community: nothing to migrate")
		set(failed, false, ReasonAsExpected, cm+" converts without problems")
		return
	}

	switch {
	case out.mode == metallbv1beta1.MigrationDryRun && out.generated != "":
		set(migrated, false, ReasonDryRun, fmt.Sprintf("Dry run: the %d resources converted from %s are in ConfigMap %s, "+
			"key %s, and %d of them exist with the converted spec. Set spec.configMigration.mode to Apply to create the others",
			out.resources, cm, out.generated, GeneratedConfigMapKey, out.upToDate))
	case out.mode == metallbv1beta1.MigrationDryRun:
		set(migrated, false, ReasonDryRun, fmt.Sprintf("Dry run: the %d resources converted from %s could not be written: "+
			"see MigrationFailed", out.resources, cm))
	case out.upToDate == out.resources:
		set(migrated, true, ReasonResourcesUpToDate, fmt.Sprintf("The %d resources converted from %s exist with the "+
			"converted spec. While the ConfigMap is there, a deleted one is created again and a changed one is reported "+
			"as a conflict: delete the ConfigMap, or set spec.configMigration.mode to Disabled, once the migration is done",
			out.resources, cm))
	default:
		set(migrated, false, ReasonIncomplete, fmt.Sprintf("%d of the %d resources converted from %s exist with the "+
			"converted spec: see MigrationFailed", out.upToDate, out.resources, cm))
	}

	reason, msgs := "", []string{}
	for _, kind := range []struct {
		reason   string
		problems []problem
	}{{ReasonConflict, out.conflicts}, {ReasonRejected, out.rejected}, {ReasonCreateFailed, out.failed}} {
		if len(kind.problems) > 0 && reason == "" {
			reason = kind.reason
		}
		for _, p := range kind.problems {
			msgs = append(msgs, p.ref+" "+p.detail)
		}
	}
	if reason == "" {
		set(failed, false, ReasonAsExpected, cm+" converts without problems")
		return
	}
	msg := strings.Join(msgs, "; ")
	if len(out.conflicts) > 0 {
		msg += ". Existing resources are never changed: delete or change them, or change " + cm
	}
	set(failed, true, reason, msg)
}
