package controllers

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/allocator"
	"github.com/ferrolb/ferrolb/internal/config"
)

// Allocation is the controller binary's shared state: the last valid configuration and the allocator that
// holds every Service's addresses. The ConfigurationState reconciler replaces the configuration; the Service
// reconciler converges Services against it. Both hold the lock only around decisions, never around API calls.
type Allocation struct {
	// LoadBalancerClass is the spec.loadBalancerClass of the Services ferrolb handles; empty means the
	// Services without a class.
	LoadBalancerClass string
	// namespace is ferrolb's namespace, where the pools are.
	namespace string

	mu    sync.Mutex
	cfg   *config.Config // nil until a configuration was valid once
	alloc *allocator.Allocator
	// pending are the Services that hold no address: they are retried when addresses are released or the
	// configuration changes, instead of every Service.
	pending map[types.NamespacedName]bool

	// services receives the Services to reconcile again; pools the pools whose counters changed.
	services chan event.GenericEvent
	pools    chan event.GenericEvent
}

// NewAllocation returns an empty state, without configuration, for the Services of the class and the pools
// of ferrolb's namespace.
func NewAllocation(namespace, loadBalancerClass string) *Allocation {
	return &Allocation{
		namespace:         namespace,
		LoadBalancerClass: loadBalancerClass,
		alloc:             allocator.New(),
		pending:           map[types.NamespacedName]bool{},
		services:          make(chan event.GenericEvent, 1024),
		pools:             make(chan event.GenericEvent, 1024),
	}
}

// countersChanged asks the pool reconciler to write the counters of the named pools. It must not block
// while the lock is held, so it hands the work to a goroutine when the channel is full.
func (a *Allocation) countersChanged(pools ...string) {
	for _, name := range pools {
		if name == "" {
			continue
		}
		select {
		case a.pools <- poolEvent(a.namespace, name):
		default:
			go func() { a.pools <- poolEvent(a.namespace, name) }()
		}
	}
}

func poolEvent(namespace, name string) event.GenericEvent {
	return event.GenericEvent{Object: &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}}
}
