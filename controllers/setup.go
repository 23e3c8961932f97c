package controllers

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
)

// AllocationOptions configure the controller binary's address allocation.
type AllocationOptions struct {
	// Namespace is ferrolb's namespace, the only one whose configuration objects are read.
	Namespace string
	// LoadBalancerClass selects the Services to handle (--lb-class); empty means those without a class.
	LoadBalancerClass string
	// MaxConcurrentReconciles bounds parallel Service writes.
	MaxConcurrentReconciles int
	// Owner, if set, owns the ConfigurationState "controller" (the controller's pod).
	Owner *metav1.OwnerReference
	// EventQPS and EventBurst pace the Events (0: DefaultEventQPS, DefaultEventBurst).
	EventQPS   float32
	EventBurst int
}

// SetupAllocation adds the reconcilers that allocate Service addresses to mgr: configuration, Services and
// pool status share one Allocation.
func SetupAllocation(mgr ctrl.Manager, o AllocationOptions) error {
	a := NewAllocation(o.Namespace, o.LoadBalancerClass)
	if err := (&ConfigurationStateReconciler{Client: mgr.GetClient(), Namespace: o.Namespace, Allocation: a, Owner: o.Owner}).
		SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the configuration reconciler: %w", err)
	}
	qps, burst := o.EventQPS, o.EventBurst
	if qps == 0 {
		qps, burst = DefaultEventQPS, DefaultEventBurst
	}
	events := newPacedRecorder(mgr.GetEventRecorder("metallb-controller"), qps, burst)
	if err := mgr.Add(events); err != nil {
		return fmt.Errorf("setting up the Event recorder: %w", err)
	}
	if err := (&ServiceReconciler{Client: mgr.GetClient(), Allocation: a, Recorder: events,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Service reconciler: %w", err)
	}
	if err := (&IPAddressPoolReconciler{Client: mgr.GetClient(), Allocation: a}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the pool status reconciler: %w", err)
	}
	return nil
}
