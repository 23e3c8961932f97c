// Package configstate writes a component's verdict on the configuration into its ConfigurationState: the
// controller's "controller" and each speaker's "speaker-<node>". It is shared glue, not a decision: it talks
// to the API server.
package configstate

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
)

// Verdict is what a component reports.
type Verdict struct {
	// Key names the ConfigurationState.
	Key types.NamespacedName
	// Labels are set when the ConfigurationState is created.
	Labels map[string]string
	// Owner, if set, owns a created ConfigurationState (the component's pod), so that it goes with it.
	Owner *metav1.OwnerReference
	// ConditionType is the component's condition (configReconcilerValid, poolReconcilerValid).
	ConditionType string
	// Err is why the configuration was refused; nil when it was loaded.
	Err error
}

// Report writes v into its ConfigurationState, creating it if needed, and only when it changed: a component
// that sees the same configuration again writes nothing.
func Report(ctx context.Context, c client.Client, v Verdict) error {
	state := &metallbv1beta1.ConfigurationState{}
	if err := c.Get(ctx, v.Key, state); apierrors.IsNotFound(err) {
		state = &metallbv1beta1.ConfigurationState{ObjectMeta: metav1.ObjectMeta{
			Namespace: v.Key.Namespace, Name: v.Key.Name, Labels: v.Labels,
		}}
		if v.Owner != nil {
			state.OwnerReferences = []metav1.OwnerReference{*v.Owner}
		}
		if err := c.Create(ctx, state); err != nil {
			return fmt.Errorf("creating ConfigurationState %s: %w", v.Key, err)
		}
	} else if err != nil {
		return fmt.Errorf("reading ConfigurationState %s: %w", v.Key, err)
	}
	before := state.Status.DeepCopy()
	cond := metav1.Condition{Type: v.ConditionType, Status: metav1.ConditionTrue,
		Reason: metallbv1beta1.ReasonReconciled, Message: "", ObservedGeneration: state.Generation}
	state.Status.Result, state.Status.ErrorSummary = metallbv1beta1.ConfigurationResultValid, ""
	if v.Err != nil {
		msg := "configuration error: " + v.Err.Error()
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, metallbv1beta1.ReasonConfigurationError, msg
		state.Status.Result, state.Status.ErrorSummary = metallbv1beta1.ConfigurationResultInvalid, msg
	}
	meta.SetStatusCondition(&state.Status.Conditions, cond)
	if equalStatus(before, &state.Status) {
		return nil
	}
	if err := c.Status().Update(ctx, state); err != nil {
		return fmt.Errorf("writing ConfigurationState %s: %w", v.Key, err)
	}
	return nil
}

func equalStatus(a, b *metallbv1beta1.ConfigurationStateStatus) bool {
	if a.Result != b.Result || a.ErrorSummary != b.ErrorSummary || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for _, c := range b.Conditions {
		old := meta.FindStatusCondition(a.Conditions, c.Type)
		if old == nil || old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message {
			return false
		}
	}
	return true
}
