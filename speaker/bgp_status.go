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
)

// +kubebuilder:rbac:groups=metallb.io,resources=servicebgpstatuses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=metallb.io,resources=servicebgpstatuses/status,verbs=get;update;patch

// ownBGPStatuses lists, from the cache, the ServiceBGPStatus objects this node keeps for the Service.
func (s *Speaker) ownBGPStatuses(ctx context.Context, key types.NamespacedName) ([]metallbv1beta1.ServiceBGPStatus, error) {
	var list metallbv1beta1.ServiceBGPStatusList
	if err := s.List(ctx, &list, client.InNamespace(s.o.Namespace), statusLabels(s.o.NodeName, key)); err != nil {
		return nil, fmt.Errorf("listing ServiceBGPStatus: %w", err)
	}
	return list.Items, nil
}

// writeBGPStatus makes one ServiceBGPStatus say that this node advertises the Service to the peers (sorted
// BGPPeer names, reference §1.9); it writes only what differs.
func (s *Speaker) writeBGPStatus(ctx context.Context, svc *corev1.Service, peers []string) error {
	key := client.ObjectKeyFromObject(svc)
	have, err := s.ownBGPStatuses(ctx, key)
	if err != nil {
		return err
	}
	want := metallbv1beta1.MetalLBServiceBGPStatus{Node: s.o.NodeName, ServiceName: svc.Name, ServiceNamespace: svc.Namespace, Peers: peers}
	var status *metallbv1beta1.ServiceBGPStatus
	if len(have) == 0 {
		status = &metallbv1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{
			Namespace: s.o.Namespace, GenerateName: "bgp-", Labels: statusLabels(s.o.NodeName, key),
		}}
		if s.o.Owner != nil {
			status.OwnerReferences = []metav1.OwnerReference{*s.o.Owner}
		}
		if err := s.Create(ctx, status); err != nil {
			return fmt.Errorf("creating ServiceBGPStatus: %w", err)
		}
	} else {
		status = &have[0]
		for i := range have[1:] { // one object per Service and node
			if err := s.Delete(ctx, &have[1+i]); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting ServiceBGPStatus %s: %w", have[1+i].Name, err)
			}
		}
	}
	if equalBGPStatus(&status.Status, &want) {
		return nil
	}
	status.Status = want
	if err := s.Status().Update(ctx, status); err != nil {
		return fmt.Errorf("writing ServiceBGPStatus %s: %w", status.Name, err)
	}
	return nil
}

// deleteBGPStatus deletes the ServiceBGPStatus objects this node keeps for the Service.
func (s *Speaker) deleteBGPStatus(ctx context.Context, key types.NamespacedName) error {
	have, err := s.ownBGPStatuses(ctx, key)
	if err != nil {
		return err
	}
	for i := range have {
		if err := s.Delete(ctx, &have[i]); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting ServiceBGPStatus %s: %w", have[i].Name, err)
		}
	}
	return nil
}

func equalBGPStatus(a, b *metallbv1beta1.MetalLBServiceBGPStatus) bool {
	return a.Node == b.Node && a.ServiceName == b.ServiceName && a.ServiceNamespace == b.ServiceNamespace &&
		slices.Equal(a.Peers, b.Peers)
}
