package speaker

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// ownStatuses lists, from the cache, the ServiceL2Status objects this node keeps for the Service.
func (s *Speaker) ownStatuses(ctx context.Context, key types.NamespacedName) ([]metallbv1beta1.ServiceL2Status, error) {
	var list metallbv1beta1.ServiceL2StatusList
	if err := s.List(ctx, &list, client.InNamespace(s.o.Namespace), statusLabels(s.o.NodeName, key)); err != nil {
		return nil, fmt.Errorf("listing ServiceL2Status: %w", err)
	}
	return list.Items, nil
}

// writeStatus makes one ServiceL2Status say that this node announces the Service, on the named interfaces
// when the advertisement names them; it writes only what differs.
func (s *Speaker) writeStatus(ctx context.Context, svc *corev1.Service, ifaces layer2.InterfaceSet) error {
	key := client.ObjectKeyFromObject(svc)
	have, err := s.ownStatuses(ctx, key)
	if err != nil {
		return err
	}
	want := metallbv1beta1.MetalLBServiceL2Status{Node: s.o.NodeName, ServiceName: svc.Name, ServiceNamespace: svc.Namespace}
	if !ifaces.All() {
		for _, name := range ifaces.Select(s.o.Announcer.Interfaces()) {
			want.Interfaces = append(want.Interfaces, metallbv1beta1.InterfaceInfo{Name: name})
		}
	}
	var status *metallbv1beta1.ServiceL2Status
	if len(have) == 0 {
		status = &metallbv1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{
			Namespace: s.o.Namespace, GenerateName: "l2-", Labels: statusLabels(s.o.NodeName, key),
		}}
		if s.o.Owner != nil {
			status.OwnerReferences = []metav1.OwnerReference{*s.o.Owner}
		}
		if err := s.Create(ctx, status); err != nil {
			return fmt.Errorf("creating ServiceL2Status: %w", err)
		}
	} else {
		status = &have[0]
		for i := range have[1:] { // one object per Service and node
			if err := s.Delete(ctx, &have[1+i]); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting ServiceL2Status %s: %w", have[1+i].Name, err)
			}
		}
	}
	if equalL2Status(&status.Status, &want) {
		return nil
	}
	status.Status = want
	if err := s.Status().Update(ctx, status); err != nil {
		return fmt.Errorf("writing ServiceL2Status %s: %w", status.Name, err)
	}
	return nil
}

// deleteStatus deletes the ServiceL2Status objects this node keeps for the Service.
func (s *Speaker) deleteStatus(ctx context.Context, key types.NamespacedName) error {
	have, err := s.ownStatuses(ctx, key)
	if err != nil {
		return err
	}
	for i := range have {
		if err := s.Delete(ctx, &have[i]); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting ServiceL2Status %s: %w", have[i].Name, err)
		}
	}
	return nil
}

func equalL2Status(a, b *metallbv1beta1.MetalLBServiceL2Status) bool {
	return a.Node == b.Node && a.ServiceName == b.ServiceName && a.ServiceNamespace == b.ServiceNamespace &&
		slices.Equal(a.Interfaces, b.Interfaces)
}
