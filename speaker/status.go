package speaker

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/speaker/layer2"
)

// Labels of the ServiceL2Status objects (MetalLB's), by which a speaker finds its own.
const (
	LabelNode             = "metallb.io/node"
	LabelServiceName      = "metallb.io/service-name"
	LabelServiceNamespace = "metallb.io/service-namespace"
)

func statusLabels(node string, key types.NamespacedName) client.MatchingLabels {
	return client.MatchingLabels{LabelNode: node, LabelServiceName: key.Name, LabelServiceNamespace: key.Namespace}
}

// ownStatuses lists, from the cache, the objects of the list's kind (ServiceL2Status, ServiceBGPStatus) this
// node keeps for the Service.
func (s *Speaker) ownStatuses(ctx context.Context, key types.NamespacedName, list client.ObjectList) ([]client.Object, error) {
	if err := s.List(ctx, list, client.InNamespace(s.o.Namespace), statusLabels(s.o.NodeName, key)); err != nil {
		return nil, fmt.Errorf("listing %s: %w", kindOf(list), err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	objs := make([]client.Object, len(items))
	for i, item := range items {
		objs[i] = item.(client.Object)
	}
	return objs, nil
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
	}
	return nil
}

// writeStatus makes one ServiceL2Status say that this node announces the Service, on the named interfaces
// when the advertisement names them; it writes only what differs.
func (s *Speaker) writeStatus(ctx context.Context, svc *corev1.Service, ifaces layer2.InterfaceSet) error {
	want := metallbv1beta1.MetalLBServiceL2Status{Node: s.o.NodeName, ServiceName: svc.Name, ServiceNamespace: svc.Namespace}
	if !ifaces.All() {
		for _, name := range ifaces.Select(s.o.Announcer.Interfaces()) {
			want.Interfaces = append(want.Interfaces, metallbv1beta1.InterfaceInfo{Name: name})
		}
	}
	return s.writeOwnStatus(ctx, client.ObjectKeyFromObject(svc), &metallbv1beta1.ServiceL2StatusList{},
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
