package speaker

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ferrolb/ferrolb/internal/assign"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/internal/election"
	"github.com/ferrolb/ferrolb/speaker/layer2"
)

// Reasons for not announcing that the election does not decide (MetalLB's strings).
const (
	reasonServiceDeleted  = "serviceDeleted"
	reasonNotLoadBalancer = "notLoadBalancer"
	reasonIPNotAllowed    = "ipNotAllowed"
	reasonAnnounceFailed  = "announceFailed"
)

// Events the speaker records (MetalLB's reasons).
const (
	EventNodeAssigned   = "nodeAssigned"
	EventAnnounceFailed = "announceFailed"
)

// ServiceReconciler converges the node's announcement of one Service: it asks advertise.ForService whether
// the node advertises it over BGP, runs the layer-2 election as this node sees it, and announces or withdraws
// accordingly. It reads the cache only and never waits on the API server; the StatusReconciler writes the
// status objects afterwards.
type ServiceReconciler struct {
	*Speaker
}

// +kubebuilder:rbac:groups="",resources=services;nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile converges one Service, then asks for its status objects to follow.
func (r *ServiceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	if r.frozen.Load() {
		return ctrl.Result{}, nil
	}
	defer r.statusQueue.add(req.NamespacedName)
	svc := &corev1.Service{}
	if err := r.Get(ctx, req.NamespacedName, svc); apierrors.IsNotFound(err) {
		r.stop(ctx, req.NamespacedName, reasonServiceDeleted)
		return ctrl.Result{}, nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcile(ctx, svc); err != nil {
		return ctrl.Result{}, fmt.Errorf("converging Service %s: %w", req.NamespacedName, err)
	}
	return ctrl.Result{}, nil
}

func (r *ServiceReconciler) reconcile(ctx context.Context, svc *corev1.Service) error {
	key := client.ObjectKeyFromObject(svc)
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || !assign.HasClass(svc, r.o.LoadBalancerClass) {
		r.stop(ctx, key, reasonNotLoadBalancer)
		return nil
	}
	cfg := r.config()
	if cfg == nil {
		return nil // nothing is announced before a configuration was valid; the ConfigurationState says why
	}
	ips, reason := addresses(svc)
	if reason != "" {
		r.stop(ctx, key, reason)
		return nil
	}
	pool := cfg.PoolFor(ips[0])
	if pool == nil || slices.ContainsFunc(ips, func(ip netip.Addr) bool { return cfg.PoolFor(ip) != pool }) {
		r.stop(ctx, key, reasonIPNotAllowed)
		return nil
	}
	in, err := r.electionInput(ctx, cfg, pool.Name, svc)
	if err != nil {
		return err
	}
	// MetalLB's order: BGP, then layer 2.
	r.reconcileBGP(ctx, cfg, pool.Name, svc, ips, in)
	r.reconcileLayer2(ctx, svc, ips, in)
	return nil
}

// reconcileLayer2 announces the Service's addresses from this node when it wins the layer-2 election, and
// withdraws them otherwise.
func (r *ServiceReconciler) reconcileLayer2(ctx context.Context, svc *corev1.Service, ips []netip.Addr, in election.Input) {
	key := client.ObjectKeyFromObject(svc)
	res := election.ShouldAnnounce(r.o.NodeName, in)
	if res.Reason != "" {
		r.stopLayer2(ctx, key, res.Reason)
		return
	}
	ifaces := layer2.AllInterfaces()
	if !res.Interfaces.All {
		ifaces = layer2.NamedInterfaces(res.Interfaces.Names...)
		// Before the first interface scan the Announcer knows none: it announces once they appear.
		if known := r.o.Announcer.Interfaces(); len(known) > 0 && len(ifaces.Select(known)) == 0 {
			r.recorder.Eventf(eventRef(svc), nil, corev1.EventTypeWarning, EventAnnounceFailed, "Announce",
				"the interfaces specified by LB IP %q doesn't exist in assigned node %q with protocol %q", ips[0].String(), r.o.NodeName, "layer2")
			r.stopLayer2(ctx, key, reasonAnnounceFailed)
			return
		}
	}
	changed := r.announce(key, announcement{ips: ips, ifaces: ifaces, refresh: r.o.Refresh})
	if changed {
		ctrl.LoggerFrom(ctx).Info("Announcing", "service", klog.KObj(svc), "ips", ips, "interfaces", ifaces.String())
		r.recorder.Eventf(eventRef(svc), nil, corev1.EventTypeNormal, EventNodeAssigned, "Announce",
			"announcing from node %q with protocol %q", r.o.NodeName, "layer2")
	}
}

// stop withdraws the Service from both protocols.
func (r *ServiceReconciler) stop(ctx context.Context, key types.NamespacedName, reason string) {
	r.stopBGP(ctx, key, reason)
	r.stopLayer2(ctx, key, reason)
}

// stopLayer2 withdraws the Service's addresses, if the node announced them.
func (r *ServiceReconciler) stopLayer2(ctx context.Context, key types.NamespacedName, reason string) {
	if ips := r.withdraw(key); len(ips) > 0 {
		ctrl.LoggerFrom(ctx).Info("Withdrawn", "service", key, "ips", ips, "reason", reason)
	}
}

// addresses returns the Service's ingress addresses, or MetalLB's reason for announcing none.
func addresses(svc *corev1.Service) ([]netip.Addr, string) {
	if len(svc.Status.LoadBalancer.Ingress) == 0 {
		return nil, election.ReasonNoIPAllocated
	}
	var ips []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ip, err := netip.ParseAddr(in.IP)
		if err != nil {
			return nil, election.ReasonInvalidIP
		}
		ips = append(ips, ip.Unmap())
	}
	return ips, ""
}

// electionInput gathers what the election of the Service depends on, from the cache.
func (r *ServiceReconciler) electionInput(ctx context.Context, cfg *config.Config, pool string, svc *corev1.Service) (election.Input, error) {
	cached, err := r.indexes.byService(kindOf(&discoveryv1.EndpointSlice{}), client.ObjectKeyFromObject(svc))
	if err != nil {
		return election.Input{}, err
	}
	// Shallow copies, as a List without deep copies would give: the deciders only read them.
	eps := make([]discoveryv1.EndpointSlice, len(cached))
	for i, o := range cached {
		eps[i] = *o.(*discoveryv1.EndpointSlice)
	}
	var nodes corev1.NodeList
	if err := r.List(ctx, &nodes, client.UnsafeDisableDeepCopy); err != nil {
		return election.Input{}, fmt.Errorf("listing Nodes: %w", err)
	}
	byName := make(map[string]*corev1.Node, len(nodes.Items))
	for i := range nodes.Items {
		byName[nodes.Items[i].Name] = &nodes.Items[i]
	}
	in := election.Input{
		Service: svc, EndpointSlices: eps, Nodes: byName,
		Advertisements:  election.Advertisements(cfg, pool, svc),
		IgnoreExcludeLB: r.o.IgnoreExcludeLB,
		Refresh:         r.o.Refresh,
	}
	if r.o.Members != nil {
		in.Members = r.o.Members.Members()
	}
	return in, nil
}

// eventRef is the Service an event is about, without its resourceVersion, so that the recorder folds
// repeated events into one series.
func eventRef(svc *corev1.Service) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name, UID: svc.UID}}
}

// SetupWithManager converges a Service when it, one of its EndpointSlices, a Node's labels or
// availability, the configuration or memberlist's view change.
func (r *ServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(r.allServices)
	return ctrl.NewControllerManagedBy(mgr).
		Named("speaker-service").
		For(&corev1.Service{}).
		Watches(&discoveryv1.EndpointSlice{}, handler.EnqueueRequestsFromMapFunc(serviceOfSlice)).
		Watches(&corev1.Node{}, all, builder.WithPredicates(nodeAvailabilityChanged())).
		WatchesRawSource(source.Channel(r.all, all)).
		Complete(r)
}

func (r *ServiceReconciler) allServices(ctx context.Context, _ client.Object) []reconcile.Request {
	var services corev1.ServiceList
	if err := r.List(ctx, &services, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Services to converge them all")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(services.Items))
	for i := range services.Items {
		if services.Items[i].Spec.Type == corev1.ServiceTypeLoadBalancer {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&services.Items[i])})
		}
	}
	return reqs
}

func serviceOfSlice(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[discoveryv1.LabelServiceName]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

// nodeAvailabilityChanged passes Node creations, deletions, and the updates that can change an election:
// labels (selectors, the exclusion label) and the NetworkUnavailable condition.
func nodeAvailabilityChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, cur := e.ObjectOld.(*corev1.Node), e.ObjectNew.(*corev1.Node)
			return !maps.Equal(old.Labels, cur.Labels) || networkUnavailable(old) != networkUnavailable(cur)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func networkUnavailable(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}
