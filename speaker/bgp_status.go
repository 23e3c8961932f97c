package speaker

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/advertise"
)

// +kubebuilder:rbac:groups=metallb.io,resources=servicebgpstatuses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=metallb.io,resources=servicebgpstatuses/status,verbs=get;update;patch

// bgpPeers returns the names of the peers the node advertises the Service to, sorted; none when it does not
// advertise it.
func (s *Speaker) bgpPeers(key types.NamespacedName) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return advertise.ServicePeers(s.rib.Service(key.String()), s.peers)
}

// writeBGPStatus makes one ServiceBGPStatus say that this node advertises the Service to the peers (sorted
// BGPPeer names, reference §1.9); it writes only what differs.
func (s *Speaker) writeBGPStatus(ctx context.Context, key types.NamespacedName, peers []string) error {
	want := metallbv1beta1.MetalLBServiceBGPStatus{Node: s.o.NodeName, ServiceName: key.Name, ServiceNamespace: key.Namespace, Peers: peers}
	return s.writeOwnStatus(ctx, key, &metallbv1beta1.ServiceBGPStatusList{},
		&metallbv1beta1.ServiceBGPStatus{}, "bgp-", func(o client.Object) bool {
			status := o.(*metallbv1beta1.ServiceBGPStatus)
			if equalBGPStatus(&status.Status, &want) {
				return false
			}
			status.Status = want
			return true
		})
}

// deleteBGPStatus deletes the ServiceBGPStatus objects this node keeps for the Service.
func (s *Speaker) deleteBGPStatus(ctx context.Context, key types.NamespacedName) error {
	return s.deleteOwnStatuses(ctx, key, &metallbv1beta1.ServiceBGPStatusList{})
}

func equalBGPStatus(a, b *metallbv1beta1.MetalLBServiceBGPStatus) bool {
	return a.Node == b.Node && a.ServiceName == b.ServiceName && a.ServiceNamespace == b.ServiceNamespace &&
		slices.Equal(a.Peers, b.Peers)
}
