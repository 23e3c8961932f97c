package speaker

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/speaker/layer2"
)

// Labels of the ServiceL2Status objects (MetalLB's), by which a speaker finds its own.
const (
	LabelNode             = "metallb.io/node"
	LabelServiceName      = "metallb.io/service-name"
	LabelServiceNamespace = "metallb.io/service-namespace"
)

// statusWorkers is how many Services' status objects are written at once: the writes wait on the API server,
// not on the CPU.
const statusWorkers = 8

// StatusReconciler keeps the node's status objects of one Service in line with what the node announces for
// it, as the Speaker holds it in memory: one ServiceL2Status while the node answers ARP and NDP for the
// Service, one ServiceBGPStatus while it advertises the Service to at least one peer, none otherwise. It
// runs apart from the ServiceReconciler, which never waits on the API server: a burst of Services reaches the
// Announcer and the routers at the pace of the cache, and the status objects follow at the pace of the
// client.
type StatusReconciler struct {
	*Speaker
}

// +kubebuilder:rbac:groups=metallb.io,resources=servicel2statuses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=metallb.io,resources=servicel2statuses/status,verbs=get;update;patch

// Reconcile writes or deletes the Service's status objects.
func (r *StatusReconciler) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	if r.frozen.Load() {
		return ctrl.Result{}, nil
	}
	if !r.converged.Load() {
		return ctrl.Result{}, nil // reviewStatuses asks again for every status object then
	}
	key := req.NamespacedName
	var errs []error
	if ifaces, ok := r.layer2Announcement(key); ok {
		errs = append(errs, r.writeStatus(ctx, key, ifaces))
	} else {
		errs = append(errs, r.deleteStatus(ctx, key))
	}
	if r.o.Router != nil {
		if peers := r.bgpPeers(key); len(peers) > 0 {
			errs = append(errs, r.writeBGPStatus(ctx, key, peers))
		} else {
			errs = append(errs, r.deleteBGPStatus(ctx, key))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing the status of Service %s: %w", key, err)
	}
	return ctrl.Result{}, nil
}

// reviewStatuses asks the StatusReconciler to look at the Service of every status object the node keeps: until
// the speaker has converged every Service after a start, what it announces says nothing, so the
// StatusReconciler leaves the objects alone, and this brings the ones it left to it once it has.
func (s *Speaker) reviewStatuses(ctx context.Context) {
	for _, list := range []client.ObjectList{&metallbv1beta1.ServiceL2StatusList{}, &metallbv1beta1.ServiceBGPStatusList{}} {
		if err := s.List(ctx, list, client.InNamespace(s.o.Namespace), client.MatchingLabels{LabelNode: s.o.NodeName},
			client.UnsafeDisableDeepCopy); err != nil {
			// Only a cache that cannot sync fails here; each object's next change brings it back.
			ctrl.LoggerFrom(ctx).Info("Listing the node's status objects", "error", err.Error())
			continue
		}
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			l := o.(client.Object).GetLabels()
			if l[LabelServiceName] != "" {
				s.statusQueue.add(types.NamespacedName{Namespace: l[LabelServiceNamespace], Name: l[LabelServiceName]})
			}
			return nil
		})
	}
}

// layer2Announcement returns the interfaces the node announces the Service's addresses on, and whether it
// announces them.
func (s *Speaker) layer2Announcement(key types.NamespacedName) (layer2.InterfaceSet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.announced[key]
	return a.ifaces, ok
}

// SetupWithManager writes a Service's status objects when the ServiceReconciler asks for it, and when one of
// the node's own objects changes (the cache holds no other): one deleted by hand is written again, and one
// left by a Service deleted while the speaker was down goes.
func (r *StatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named("speaker-status").
		WithOptions(controller.Options{MaxConcurrentReconciles: statusWorkers}).
		WatchesRawSource(r.statusQueue).
		Watches(&metallbv1beta1.ServiceL2Status{}, handler.EnqueueRequestsFromMapFunc(r.serviceOfStatus))
	if r.o.Router != nil {
		b = b.Watches(&metallbv1beta1.ServiceBGPStatus{}, handler.EnqueueRequestsFromMapFunc(r.serviceOfStatus))
	}
	return b.Complete(r)
}

func (r *StatusReconciler) serviceOfStatus(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	if o.GetNamespace() != r.o.Namespace || l[LabelNode] != r.o.NodeName || l[LabelServiceName] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: l[LabelServiceNamespace], Name: l[LabelServiceName]}}}
}

func statusLabels(node string, key types.NamespacedName) client.MatchingLabels {
	return client.MatchingLabels{LabelNode: node, LabelServiceName: key.Name, LabelServiceNamespace: key.Namespace}
}

// createdStatus names a status object the speaker created: the cache may not show it yet.
type createdStatus struct {
	kind string
	key  types.NamespacedName
}

// ownStatuses lists the objects of the list's kind (ServiceL2Status, ServiceBGPStatus) this node keeps for
// the Service, copies to change: from the cache, and, for one the speaker created that the cache does not show yet, from the
// API server, so that a Service reconciled again at once does not get a second object.
func (s *Speaker) ownStatuses(ctx context.Context, key types.NamespacedName, list client.ObjectList) ([]client.Object, error) {
	cached, err := s.indexes.byService(kindOf(list), key)
	if err != nil {
		return nil, err
	}
	objs := make([]client.Object, 0, len(cached))
	for _, o := range cached {
		if o.GetNamespace() == s.o.Namespace && o.GetLabels()[LabelNode] == s.o.NodeName {
			objs = append(objs, o.DeepCopyObject().(client.Object))
		}
	}
	created := createdStatus{kind: kindOf(list), key: key}
	s.createdMu.Lock()
	name, pending := s.created[created]
	s.createdMu.Unlock()
	if !pending {
		return objs, nil
	}
	if slices.ContainsFunc(objs, func(o client.Object) bool { return o.GetName() == name }) {
		s.forgetCreated(created, name)
		return objs, nil
	}
	gvk, err := apiutil.GVKForObject(list, s.Scheme())
	if err != nil {
		return nil, err
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	fresh, err := s.Scheme().New(gvk)
	if err != nil {
		return nil, err
	}
	obj := fresh.(client.Object)
	if err := s.reader.Get(ctx, types.NamespacedName{Namespace: s.o.Namespace, Name: name}, obj); apierrors.IsNotFound(err) {
		s.forgetCreated(created, name)
		return objs, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", created.kind, name, err)
	}
	return append(objs, obj), nil
}

// forgetCreated drops the record of a created status object, unless a newer one replaced it.
func (s *Speaker) forgetCreated(c createdStatus, name string) {
	s.createdMu.Lock()
	defer s.createdMu.Unlock()
	if s.created[c] == name {
		delete(s.created, c)
	}
}

// writeOwnStatus keeps exactly one object of the list's kind for the Service, creating fresh (named by
// generateName) when there is none, and writes its status when set, which brings the status to what it
// should be, reports a change.
func (s *Speaker) writeOwnStatus(ctx context.Context, key types.NamespacedName, list client.ObjectList,
	fresh client.Object, generateName string, set func(client.Object) bool) error {
	have, err := s.ownStatuses(ctx, key, list)
	if err != nil {
		return err
	}
	status := fresh
	if len(have) == 0 {
		status.SetNamespace(s.o.Namespace)
		status.SetGenerateName(generateName)
		status.SetLabels(statusLabels(s.o.NodeName, key))
		if s.o.Owner != nil {
			status.SetOwnerReferences([]metav1.OwnerReference{*s.o.Owner})
		}
		if err := s.Create(ctx, status); err != nil {
			return fmt.Errorf("creating %s: %w", kindOf(status), err)
		}
		s.createdMu.Lock()
		s.created[createdStatus{kind: kindOf(status), key: key}] = status.GetName()
		s.createdMu.Unlock()
	} else {
		status = have[0]
		for _, extra := range have[1:] { // one object per Service and node
			if err := s.Delete(ctx, extra); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting %s %s: %w", kindOf(extra), extra.GetName(), err)
			}
		}
	}
	if !set(status) {
		return nil
	}
	if err := s.Status().Update(ctx, status); err != nil {
		return fmt.Errorf("writing %s %s: %w", kindOf(status), status.GetName(), err)
	}
	return nil
}

// kindOf names the kind of a typed object or list, for messages ("ServiceL2Status").
func kindOf(o any) string { return strings.TrimSuffix(reflect.TypeOf(o).Elem().Name(), "List") }

// deleteOwnStatuses deletes the objects of the list's kind this node keeps for the Service.
func (s *Speaker) deleteOwnStatuses(ctx context.Context, key types.NamespacedName, list client.ObjectList) error {
	have, err := s.ownStatuses(ctx, key, list)
	if err != nil {
		return err
	}
	for _, o := range have {
		if err := s.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %s %s: %w", kindOf(o), o.GetName(), err)
		}
		s.forgetCreated(createdStatus{kind: kindOf(list), key: key}, o.GetName())
	}
	return nil
}

// writeStatus makes one ServiceL2Status say that this node announces the Service, on the named interfaces
// when the advertisement names them; it writes only what differs.
func (s *Speaker) writeStatus(ctx context.Context, key types.NamespacedName, ifaces layer2.InterfaceSet) error {
	want := metallbv1beta1.MetalLBServiceL2Status{Node: s.o.NodeName, ServiceName: key.Name, ServiceNamespace: key.Namespace}
	if !ifaces.All() {
		for _, name := range ifaces.Select(s.o.Announcer.Interfaces()) {
			want.Interfaces = append(want.Interfaces, metallbv1beta1.InterfaceInfo{Name: name})
		}
	}
	return s.writeOwnStatus(ctx, key, &metallbv1beta1.ServiceL2StatusList{},
		&metallbv1beta1.ServiceL2Status{}, "l2-", func(o client.Object) bool {
			status := o.(*metallbv1beta1.ServiceL2Status)
			if equalL2Status(&status.Status, &want) {
				return false
			}
			status.Status = want
			return true
		})
}

// deleteStatus deletes the ServiceL2Status objects this node keeps for the Service.
func (s *Speaker) deleteStatus(ctx context.Context, key types.NamespacedName) error {
	return s.deleteOwnStatuses(ctx, key, &metallbv1beta1.ServiceL2StatusList{})
}

func equalL2Status(a, b *metallbv1beta1.MetalLBServiceL2Status) bool {
	return a.Node == b.Node && a.ServiceName == b.ServiceName && a.ServiceNamespace == b.ServiceNamespace &&
		slices.Equal(a.Interfaces, b.Interfaces)
}
