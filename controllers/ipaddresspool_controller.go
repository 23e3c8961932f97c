package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/allocator"
)

// minStatusInterval is the shortest time between two status writes of one pool.
const minStatusInterval = time.Second

// IPAddressPoolReconciler writes each pool's usage counters into its status and metrics. Changes of
// allocation are coalesced by the work queue and a pool's status is written at most once per
// minStatusInterval, so a burst of thousands of allocations in a pool costs a few status writes, not one per
// Service; a manual edit of the status is reverted.
type IPAddressPoolReconciler struct {
	client.Client
	Allocation *Allocation
	// Clock is the time source; nil means the real clock.
	Clock clock.PassiveClock

	mu        sync.Mutex
	lastWrite map[types.NamespacedName]time.Time
}

// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools,verbs=get;list;watch
// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools/status,verbs=get;update;patch

// Reconcile writes the pool's counters when they differ from its status.
func (r *IPAddressPoolReconciler) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	pool := &metallbv1beta1.IPAddressPool{}
	if err := r.Get(ctx, req.NamespacedName, pool); apierrors.IsNotFound(err) {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	a := r.Allocation
	a.mu.Lock()
	stats, ok := a.alloc.Stats(pool.Name)
	if ok {
		// Under the lock: a configuration that drops the pool forgets its metrics under it too.
		recordPoolMetrics(pool.Name, stats)
	}
	a.mu.Unlock()
	if !ok {
		return ctrl.Result{}, nil // not (yet) part of a valid configuration: nothing to count
	}
	want := poolStatus(stats)
	if pool.Status == want {
		return ctrl.Result{}, nil
	}
	if wait := r.untilNextWrite(req.NamespacedName); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil // then with the counters of that moment
	}
	// The whole status in a patch without resourceVersion: the counters come from the allocator, not from
	// what was read, and an update would conflict with the cache lagging behind the previous write on every
	// burst of allocations. (A computed merge patch would leave out the zero counters the CRD requires.)
	patch, err := json.Marshal(map[string]any{"status": want})
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.Status().Patch(ctx, pool, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing status of IPAddressPool %s: %w", req.NamespacedName, err)
	}
	r.wrote(req.NamespacedName)
	return ctrl.Result{}, nil
}

func (r *IPAddressPoolReconciler) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// untilNextWrite returns how long the pool's status must wait before it may be written again.
func (r *IPAddressPoolReconciler) untilNextWrite(key types.NamespacedName) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	last, ok := r.lastWrite[key]
	if !ok {
		return 0
	}
	return minStatusInterval - r.now().Sub(last)
}

func (r *IPAddressPoolReconciler) wrote(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastWrite == nil {
		r.lastWrite = map[types.NamespacedName]time.Time{}
	}
	r.lastWrite[key] = r.now()
}

func (r *IPAddressPoolReconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.lastWrite, key)
}

// poolStatus converts the exact counters to the status' int64 fields, saturating: an IPv6 /64 has more
// addresses than an int64 holds.
func poolStatus(s allocator.PoolStats) metallbv1beta1.IPAddressPoolStatus {
	return metallbv1beta1.IPAddressPoolStatus{
		AssignedIPv4:  s.IPv4.Assigned.Int64(),
		AssignedIPv6:  s.IPv6.Assigned.Int64(),
		AvailableIPv4: s.IPv4.Available.Int64(),
		AvailableIPv6: s.IPv6.Available.Int64(),
	}
}

// SetupWithManager reconciles a pool when it changes (status included, to revert manual edits) and when its
// allocations change.
func (r *IPAddressPoolReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ns := r.Allocation.namespace
	return ctrl.NewControllerManagedBy(mgr).
		Named("ipaddresspool").
		For(&metallbv1beta1.IPAddressPool{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetNamespace() == ns
		}))).
		WatchesRawSource(source.Channel(r.Allocation.pools, &handler.EnqueueRequestForObject{})).
		Complete(r)
}
