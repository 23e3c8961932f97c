package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/internal/configstate"
)

// ControllerStateName is the name of the controller's ConfigurationState.
const ControllerStateName = "controller"

// ConfigurationStateReconciler loads the pools into the allocator and reports the verdict in the
// ConfigurationState named "controller". An invalid configuration is reported and otherwise ignored: the
// previous valid one stays in force, so a bad edit never takes addresses away.
type ConfigurationStateReconciler struct {
	client.Client
	Namespace  string
	Allocation *Allocation
	// Owner, if set, becomes the ConfigurationState's owner (the controller's pod), so it goes with it.
	Owner *metav1.OwnerReference
}

// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools;communities,verbs=get;list;watch
// +kubebuilder:rbac:groups=metallb.io,resources=configurationstates,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=metallb.io,resources=configurationstates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile parses the configuration, applies it when valid, and writes the verdict.
func (r *ConfigurationStateReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (ctrl.Result, error) {
	updates.Inc()
	res, err := r.resources(ctx)
	if err != nil {
		updateErrors.Inc()
		return ctrl.Result{}, err
	}
	cfg, parseErr := config.Parse(res)
	if parseErr == nil {
		if err := r.apply(ctx, cfg); err != nil {
			updateErrors.Inc()
			return ctrl.Result{}, err
		}
		configLoaded.Set(1)
		configStale.Set(0)
	} else {
		configStale.Set(1)
		ctrl.LoggerFrom(ctx).Info("Configuration refused, keeping the previous one", "error", parseErr.Error())
	}
	return ctrl.Result{}, r.report(ctx, parseErr)
}

func (r *ConfigurationStateReconciler) resources(ctx context.Context) (config.Resources, error) {
	var (
		pools       metallbv1beta1.IPAddressPoolList
		communities metallbv1beta1.CommunityList
		namespaces  corev1.NamespaceList
	)
	if err := r.List(ctx, &pools, client.InNamespace(r.Namespace)); err != nil {
		return config.Resources{}, fmt.Errorf("listing IPAddressPools: %w", err)
	}
	if err := r.List(ctx, &communities, client.InNamespace(r.Namespace)); err != nil {
		return config.Resources{}, fmt.Errorf("listing Communities: %w", err)
	}
	if err := r.List(ctx, &namespaces); err != nil {
		return config.Resources{}, fmt.Errorf("listing Namespaces: %w", err)
	}
	return config.Resources{Pools: pools.Items, Communities: communities.Items, Namespaces: namespaces.Items}, nil
}

// apply gives the allocator the new pools. On the first valid configuration it first restores the addresses
// Services already show, those with addresses first, so that a restarted controller moves none of them and a
// pending Service cannot take one. Then every Service that may be affected is reconciled again.
func (r *ConfigurationStateReconciler) apply(ctx context.Context, cfg *config.Config) error {
	var services corev1.ServiceList
	if err := r.List(ctx, &services); err != nil {
		return fmt.Errorf("listing Services: %w", err)
	}
	a := r.Allocation
	a.mu.Lock()
	first := a.cfg == nil
	lost, err := a.alloc.SetPools(assign.AllocatorPools(cfg))
	if err != nil {
		a.mu.Unlock()
		return fmt.Errorf("applying pools: %w", err) // config.Parse guarantees valid pools: a bug
	}
	old := a.cfg
	a.cfg = cfg
	if first {
		restore(cfg, a, services.Items)
	}
	if old != nil {
		// Under the lock, so that the pool reconciler cannot set them again after this.
		for name := range old.Pools {
			if cfg.Pools[name] == nil {
				forgetPoolMetrics(name)
			}
		}
	}
	a.mu.Unlock()

	for _, key := range lost {
		ctrl.LoggerFrom(ctx).Info("Service address left every pool", "service", key)
	}
	for _, svc := range services.Items {
		// Level-based and cheap: a Service whose outcome does not change is not written.
		a.services <- event.GenericEvent{Object: &svc}
	}
	for name := range cfg.Pools {
		a.pools <- poolEvent(r.Namespace, name)
	}
	return nil
}

// restore assigns the addresses Services show in their status, before any Service is reconciled. It only
// restores, never allocates: a Service whose address is no longer allowed gets a new one when it is
// reconciled, once every valid address is held, so it cannot take one another Service shows.
func restore(cfg *config.Config, a *Allocation, services []corev1.Service) {
	withIPs := slices.DeleteFunc(slices.Clone(services), func(s corev1.Service) bool {
		return s.Spec.Type != corev1.ServiceTypeLoadBalancer || !assign.HasClass(&s, a.LoadBalancerClass) || len(assign.IngressIPs(&s)) == 0
	})
	// Oldest first: when two Services show the same address, the one that had it first keeps it.
	slices.SortStableFunc(withIPs, func(x, y corev1.Service) int {
		return x.CreationTimestamp.Compare(y.CreationTimestamp.Time)
	})
	for i := range withIPs {
		req, err := assign.NewRequest(&withIPs[i])
		if err == nil {
			assign.Restore(cfg, a.alloc, req, assign.IngressIPs(&withIPs[i]))
		}
	}
}

// report writes the verdict into the ConfigurationState "controller".
func (r *ConfigurationStateReconciler) report(ctx context.Context, parseErr error) error {
	return configstate.Report(ctx, r.Client, configstate.Verdict{
		Key:    types.NamespacedName{Namespace: r.Namespace, Name: ControllerStateName},
		Labels: map[string]string{"metallb.io/component-type": "controller"},
		Owner:  r.Owner, ConditionType: metallbv1beta1.ConditionPoolReconcilerValid, Err: parseErr,
	})
}

// SetupWithManager reconciles the one ConfigurationState whenever a pool, a community or a namespace's labels
// change, or the ConfigurationState is deleted (it is then created again).
func (r *ConfigurationStateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	only := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.Namespace, Name: ControllerStateName}}}
	})
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.Namespace })
	return ctrl.NewControllerManagedBy(mgr).
		Named("configurationstate").
		For(&metallbv1beta1.ConfigurationState{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetNamespace() == r.Namespace && o.GetName() == ControllerStateName
		}))).
		Watches(&metallbv1beta1.IPAddressPool{}, only, builder.WithPredicates(inNamespace, predicate.GenerationChangedPredicate{})).
		Watches(&metallbv1beta1.Community{}, only, builder.WithPredicates(inNamespace)).
		Watches(&corev1.Namespace{}, only, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Complete(r)
}
