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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
)

// The MetalLB resource's condition reasons. Each one matches the metav1.Condition reason pattern
// (^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$), unlike the MetalLB operator's "internal error".
const (
	// ReasonIncorrectName: the resource is in the operator's namespace but not named metallb (MetalLB's reason).
	ReasonIncorrectName = "IncorrectMetalLBResourceName"
	// ReasonWrongNamespace: the resource is outside the operator's namespace.
	ReasonWrongNamespace = "NotInOperatorNamespace"
	// ReasonInvalidSpec: the spec breaks a rule (render.Validate) the webhook would have refused.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonSyncFailed: an operand could not be applied, pruned or read.
	ReasonSyncFailed = "FailedToSyncMetalLBResources"
	// ReasonRolloutStalled: the controller Deployment exceeded its progress deadline.
	ReasonRolloutStalled = "RolloutStalled"
	// ReasonRollingOut: an operand runs an older spec, or not on every node yet.
	ReasonRollingOut = "RollingOut"
	// ReasonRolloutComplete: every operand runs the current spec everywhere.
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonAllAvailable: the controller and at least one speaker are available.
	ReasonAllAvailable = "AllOperandsAvailable"
	// ReasonControllerUnavailable, ReasonSpeakerUnavailable, ReasonOperandsUnavailable: which operands have no
	// available pod.
	ReasonControllerUnavailable = "ControllerUnavailable"
	ReasonSpeakerUnavailable    = "SpeakerUnavailable"
	ReasonOperandsUnavailable   = "OperandsUnavailable"
	// ReasonAsExpected: nothing to report.
	ReasonAsExpected = "AsExpected"
)

// Preflight condition types: findings about the cluster that keep ferrolb from working as expected, True when
// the problem is there (like Degraded). They never change Available, Progressing or Degraded.
const (
	// ConditionStrictARPRequired is True when kube-proxy runs in IPVS mode without strictARP.
	ConditionStrictARPRequired = "StrictARPRequired"
	// ConditionConflictingLoadBalancer is True when another load-balancer implementation (k3s ServiceLB) runs.
	ConditionConflictingLoadBalancer = "ConflictingLoadBalancer"
	// ConditionSpeakersUnschedulable is True when some nodes the speakers should run on get none.
	ConditionSpeakersUnschedulable = "SpeakersUnschedulable"
)

// Preflight reasons.
const (
	ReasonIPVSWithoutStrictARP     = "IPVSWithoutStrictARP"
	ReasonStrictARPEnabled         = "StrictARPEnabled"
	ReasonNotIPVSMode              = "NotIPVSMode"
	ReasonKubeProxyConfigNotFound  = "KubeProxyConfigNotFound"
	ReasonK3sServiceLBPresent      = "K3sServiceLBPresent"
	ReasonNoConflictFound          = "NoConflictFound"
	ReasonNodesWithoutSpeaker      = "NodesWithoutSpeaker"
	ReasonSpeakerPodsUnschedulable = "SpeakerPodsUnschedulable"
	ReasonAllNodesCovered          = "AllNodesCovered"
	// ReasonNotChecked: the check needs a state not known yet (the speaker DaemonSet not observed).
	ReasonNotChecked = "NotChecked"
)

// rollout is the state of one workload operand, from its status.
type rollout struct {
	// name says which operand, for messages: "Deployment controller".
	name string
	// found is false when the workload does not exist (yet).
	found bool
	// complete: the workload's controller saw the current spec and every pod runs it and is ready.
	complete bool
	// available: at least the minimum of pods serve.
	available bool
	// stalled: the rollout exceeded its deadline.
	stalled bool
	// progress explains an incomplete rollout.
	progress string
}

// deploymentRollout reads a Deployment's rollout state: complete when its controller observed the current
// generation and all replicas are updated, ready and available with no old one left.
func deploymentRollout(d *appsv1.Deployment) rollout {
	r := rollout{name: "Deployment " + d.Name, found: true}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	r.available = s.AvailableReplicas >= max(want, 1)
	switch {
	case s.ObservedGeneration < d.Generation:
		r.progress = fmt.Sprintf("%s: generation %d not observed yet", r.name, d.Generation)
	case s.UpdatedReplicas < want:
		r.progress = fmt.Sprintf("%s: %d of %d replicas updated", r.name, s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		r.progress = fmt.Sprintf("%s: %d old replicas pending termination", r.name, s.Replicas-s.UpdatedReplicas)
	case s.ReadyReplicas < want || s.AvailableReplicas < want:
		r.progress = fmt.Sprintf("%s: %d of %d updated replicas available", r.name, s.AvailableReplicas, want)
	default:
		r.complete = true
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			r.stalled = true
		}
	}
	return r
}

// daemonSetRollout reads a DaemonSet's rollout state: complete when its controller observed the current
// generation and every scheduled pod is updated and available.
func daemonSetRollout(ds *appsv1.DaemonSet) rollout {
	r := rollout{name: "DaemonSet " + ds.Name, found: true}
	s := ds.Status
	r.available = s.NumberAvailable > 0
	switch {
	case s.ObservedGeneration < ds.Generation:
		r.progress = fmt.Sprintf("%s: generation %d not observed yet", r.name, ds.Generation)
	case s.UpdatedNumberScheduled < s.DesiredNumberScheduled:
		r.progress = fmt.Sprintf("%s: %d of %d pods updated", r.name, s.UpdatedNumberScheduled, s.DesiredNumberScheduled)
	case s.NumberAvailable < s.DesiredNumberScheduled || s.NumberReady < s.DesiredNumberScheduled:
		r.progress = fmt.Sprintf("%s: %d of %d pods available", r.name, s.NumberAvailable, s.DesiredNumberScheduled)
	case s.CurrentNumberScheduled > s.DesiredNumberScheduled || s.NumberMisscheduled > 0:
		r.progress = fmt.Sprintf("%s: %d pods on nodes they should leave", r.name, s.NumberMisscheduled)
	default:
		r.complete = true
	}
	return r
}

// missing is the rollout of a workload that does not exist.
func missing(name string) rollout {
	return rollout{name: name, progress: name + " does not exist yet"}
}

// finding is the outcome of one preflight check: a condition of its own.
type finding struct {
	conditionType string
	problem       bool
	reason        string
	message       string
}

// statusInput is everything the conditions are computed from, gathered by the reconciler.
type statusInput struct {
	// ignoredReason and ignoredMessage are set for a resource the operator does not deploy from.
	ignoredReason, ignoredMessage string
	// invalid is the validation failure of the spec.
	invalid error
	// syncErr is the failure to apply or prune the operands.
	syncErr error
	// controller and speaker are the operands' rollouts.
	controller, speaker rollout
	// findings are the preflight checks' outcomes.
	findings []finding
	// migration is the outcome of the legacy ConfigMap's migration, nil without one.
	migration *migrationOutcome
}

// computeStatus returns the status the resource should have: the four conditions, the preflight ones and the
// observed generation. It starts from the current status so that meta.SetStatusCondition keeps the
// transition times of the conditions that did not change; the caller compares and writes only on change.
func computeStatus(m *metallbv1beta1.MetalLB, in statusInput) metallbv1beta1.MetalLBStatus {
	st := *m.Status.DeepCopy()
	st.ObservedGeneration = m.Generation
	set := func(t string, ok bool, reason, msg string) {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg,
			ObservedGeneration: m.Generation})
	}
	if in.ignoredReason != "" {
		set(metallbv1beta1.ConditionAvailable, false, in.ignoredReason, in.ignoredMessage)
		set(metallbv1beta1.ConditionProgressing, false, in.ignoredReason, in.ignoredMessage)
		set(metallbv1beta1.ConditionDegraded, true, in.ignoredReason, in.ignoredMessage)
		set(metallbv1beta1.ConditionUpgradeable, false, in.ignoredReason, in.ignoredMessage)
		return st
	}

	// Available: the stack serves, which it does during a rollout as long as the controller runs and a
	// speaker announces.
	ctrlOK, spkOK := in.controller.available, in.speaker.available
	switch {
	case ctrlOK && spkOK:
		set(metallbv1beta1.ConditionAvailable, true, ReasonAllAvailable,
			"The controller and the speakers are available")
	case !ctrlOK && !spkOK:
		set(metallbv1beta1.ConditionAvailable, false, ReasonOperandsUnavailable,
			fmt.Sprintf("No available pod of %s nor of %s", in.controller.name, in.speaker.name))
	case !ctrlOK:
		set(metallbv1beta1.ConditionAvailable, false, ReasonControllerUnavailable,
			fmt.Sprintf("No available pod of %s", in.controller.name))
	default:
		set(metallbv1beta1.ConditionAvailable, false, ReasonSpeakerUnavailable,
			fmt.Sprintf("No available pod of %s", in.speaker.name))
	}

	// Progressing: the declared spec is not rolled out everywhere yet.
	var progress []string
	for _, r := range []rollout{in.controller, in.speaker} {
		if !r.complete {
			progress = append(progress, r.progress)
		}
	}
	switch {
	case in.invalid != nil || in.syncErr != nil:
		reason := ReasonSyncFailed
		if in.invalid != nil {
			reason = ReasonInvalidSpec
		}
		set(metallbv1beta1.ConditionProgressing, false, reason, "The operands cannot be brought to the declared state")
	case len(progress) > 0:
		set(metallbv1beta1.ConditionProgressing, true, ReasonRollingOut, strings.Join(progress, "; "))
	default:
		set(metallbv1beta1.ConditionProgressing, false, ReasonRolloutComplete, "Every operand runs the declared spec")
	}

	// Degraded: the operator cannot reach the declared state by itself.
	degradedReason, degradedMsg := "", ""
	switch {
	case in.invalid != nil:
		degradedReason, degradedMsg = ReasonInvalidSpec, in.invalid.Error()
	case in.syncErr != nil:
		degradedReason, degradedMsg = ReasonSyncFailed, in.syncErr.Error()
	case in.controller.stalled:
		degradedReason, degradedMsg = ReasonRolloutStalled,
			in.controller.name+" exceeded its progress deadline: "+in.controller.progress
	}
	if degradedReason != "" {
		set(metallbv1beta1.ConditionDegraded, true, degradedReason, degradedMsg)
	} else {
		set(metallbv1beta1.ConditionDegraded, false, ReasonAsExpected, "The operands are as declared, or on their way")
	}

	// Upgradeable: the operator may be replaced without interrupting a rollout or hiding a problem.
	switch avail, prog, deg := meta.FindStatusCondition(st.Conditions, metallbv1beta1.ConditionAvailable),
		meta.FindStatusCondition(st.Conditions, metallbv1beta1.ConditionProgressing),
		meta.FindStatusCondition(st.Conditions, metallbv1beta1.ConditionDegraded); {
	case deg.Status == metav1.ConditionTrue:
		set(metallbv1beta1.ConditionUpgradeable, false, deg.Reason, "The stack is degraded: "+deg.Message)
	case prog.Status == metav1.ConditionTrue:
		set(metallbv1beta1.ConditionUpgradeable, false, prog.Reason, "A rollout is in progress: "+prog.Message)
	case avail.Status != metav1.ConditionTrue:
		set(metallbv1beta1.ConditionUpgradeable, false, avail.Reason, avail.Message)
	default:
		set(metallbv1beta1.ConditionUpgradeable, true, ReasonAsExpected, "The stack is available and rolled out")
	}

	for _, f := range in.findings {
		set(f.conditionType, f.problem, f.reason, f.message)
	}
	setMigrationStatus(&st, m.Generation, in.migration)
	return st
}
