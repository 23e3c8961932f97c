package speaker

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
)

// CacheOptions are the manager's cache options for the speaker of node, with ferrolb in namespace. The
// speaker watches every Service, EndpointSlice and Node of the cluster, and that is most of its memory: at
// 10,000 Services the full objects, managedFields above all, cost several times what it reads. So the cache
// holds:
//   - ferrolb's configuration from its namespace only, and only the node's own ServiceL2Status and
//     ServiceBGPStatus objects (found by their node label);
//   - Services, EndpointSlices and Nodes trimmed to the fields the speaker reads (trimService, trimSlice,
//     trimNode);
//   - every other object without its managedFields.
//
// Objects read from the cache are trimmed: the speaker never writes the kinds it trims, and an update of an
// object without managedFields keeps those the API server has.
func CacheOptions(namespace, node string) cache.Options {
	inNamespace := cache.ByObject{Namespaces: map[string]cache.Config{namespace: {}}}
	own := cache.ByObject{Namespaces: map[string]cache.Config{namespace: {}},
		Label: labels.SelectorFromSet(labels.Set{LabelNode: node})}
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&metallbv1beta1.IPAddressPool{}:      inNamespace,
			&metallbv1beta1.L2Advertisement{}:    inNamespace,
			&metallbv1beta1.BGPAdvertisement{}:   inNamespace,
			&metallbv1beta2.BGPPeer{}:            inNamespace,
			&metallbv1beta1.BFDProfile{}:         inNamespace,
			&metallbv1beta1.Community{}:          inNamespace,
			&metallbv1beta1.ConfigurationState{}: inNamespace,
			&metallbv1beta1.ServiceL2Status{}:    own,
			&metallbv1beta1.ServiceBGPStatus{}:   own,
			&corev1.Secret{}:                     inNamespace,
			&corev1.Service{}:                    {Transform: trimService},
			&discoveryv1.EndpointSlice{}:         {Transform: trimSlice},
			&corev1.Node{}:                       {Transform: trimNode},
		},
	}
}

// trimMeta keeps what identifies an object, its labels, and the annotations whose key starts with one of
// the prefixes.
func trimMeta(m *metav1.ObjectMeta, annotationPrefixes ...string) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, Labels: m.Labels, DeletionTimestamp: m.DeletionTimestamp}
	for k, v := range m.Annotations {
		for _, prefix := range annotationPrefixes {
			if strings.HasPrefix(k, prefix) {
				if out.Annotations == nil {
					out.Annotations = map[string]string{}
				}
				out.Annotations[k] = v
				break
			}
		}
	}
	return out
}

// trimService keeps what the speaker reads of a Service: its identity and labels (serviceSelectors), the
// MetalLB annotations (allow-shared-ip), its type, class and externalTrafficPolicy, and its addresses.
func trimService(obj any) (any, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil // a tombstone
	}
	return &corev1.Service{
		ObjectMeta: trimMeta(&svc.ObjectMeta, "metallb.io/", "metallb.universe.tf/"),
		Spec: corev1.ServiceSpec{Type: svc.Spec.Type, LoadBalancerClass: svc.Spec.LoadBalancerClass,
			ExternalTrafficPolicy: svc.Spec.ExternalTrafficPolicy},
		Status: corev1.ServiceStatus{LoadBalancer: svc.Status.LoadBalancer},
	}, nil
}

// trimSlice keeps what the speaker reads of an EndpointSlice: its Service, and where its endpoints are and
// whether they can serve.
func trimSlice(obj any) (any, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	out := &discoveryv1.EndpointSlice{ObjectMeta: trimMeta(&s.ObjectMeta), AddressType: s.AddressType,
		Endpoints: make([]discoveryv1.Endpoint, len(s.Endpoints))}
	out.Labels = nil
	if name, ok := s.Labels[discoveryv1.LabelServiceName]; ok {
		out.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	}
	for i, ep := range s.Endpoints {
		out.Endpoints[i] = discoveryv1.Endpoint{Addresses: ep.Addresses, Conditions: ep.Conditions, NodeName: ep.NodeName}
	}
	return out, nil
}

// trimNode keeps what the speaker reads of a Node: its identity, its labels (selectors, the exclusion label)
// and its NetworkUnavailable condition. Status images, addresses and annotations go: they are large, and
// they change without changing any decision.
func trimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	out := &corev1.Node{ObjectMeta: trimMeta(&n.ObjectMeta)}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			out.Status.Conditions = []corev1.NodeCondition{{Type: c.Type, Status: c.Status}}
		}
	}
	return out, nil
}

var (
	_ toolscache.TransformFunc = trimService
	_ toolscache.TransformFunc = trimSlice
	_ toolscache.TransformFunc = trimNode
)

// indexService is the field index of the speaker's cache by Service: EndpointSlices by the name of their
// Service (in their namespace), ServiceL2Status and ServiceBGPStatus objects by their Service's
// namespace/name.
const indexService = "speaker.service"

// addIndexes adds the field indexes the reconcilers look objects up by, instead of scanning every
// EndpointSlice of a namespace or every status object of the node on each reconcile.
func addIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	err := indexer.IndexField(ctx, &discoveryv1.EndpointSlice{}, indexService, func(o client.Object) []string {
		if name := o.GetLabels()[discoveryv1.LabelServiceName]; name != "" {
			return []string{name}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("indexing EndpointSlices: %w", err)
	}
	byService := func(o client.Object) []string {
		l := o.GetLabels()
		if l[LabelServiceName] == "" {
			return nil
		}
		return []string{l[LabelServiceNamespace] + "/" + l[LabelServiceName]}
	}
	for _, o := range []client.Object{&metallbv1beta1.ServiceL2Status{}, &metallbv1beta1.ServiceBGPStatus{}} {
		if err := indexer.IndexField(ctx, o, indexService, byService); err != nil {
			return fmt.Errorf("indexing %s: %w", kindOf(o), err)
		}
	}
	return nil
}
