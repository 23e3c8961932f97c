package speaker

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
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
//     ServiceBGPStatus objects (found by their node label), without their owner references;
//   - Services, EndpointSlices and Nodes trimmed to the fields the speaker reads (trimService, trimSlice,
//     trimNode);
//   - every other object without its managedFields.
//
// Objects read from the cache are trimmed: the speaker never writes the kinds it trims, and an update of an
// object without managedFields keeps those the API server has.
func CacheOptions(namespace, node string) cache.Options {
	inNamespace := cache.ByObject{Namespaces: map[string]cache.Config{namespace: {}}}
	// Selected by namespace with a field selector rather than Namespaces: that keeps one plain informer,
	// whose indexer addIndexes extends.
	own := cache.ByObject{Field: fields.OneTermEqualSelector("metadata.namespace", namespace),
		Label: labels.SelectorFromSet(labels.Set{LabelNode: node}), Transform: trimStatus}
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
	out := &corev1.Service{
		ObjectMeta: trimMeta(&svc.ObjectMeta, "metallb.io/", "metallb.universe.tf/"),
		Spec: corev1.ServiceSpec{Type: svc.Spec.Type, LoadBalancerClass: svc.Spec.LoadBalancerClass,
			ExternalTrafficPolicy: svc.Spec.ExternalTrafficPolicy},
	}
	// The addresses only: a decoded ingress also holds its ipMode and ports, about 500 B per Service.
	if in := svc.Status.LoadBalancer.Ingress; len(in) > 0 {
		out.Status.LoadBalancer.Ingress = make([]corev1.LoadBalancerIngress, len(in))
		for i := range in {
			out.Status.LoadBalancer.Ingress[i].IP = in[i].IP
		}
	}
	return out, nil
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

// trimStatus keeps a status object's identity, labels and status: the speaker writes the status subresource
// only, and the API server takes nothing else from such a write.
func trimStatus(obj any) (any, error) {
	switch o := obj.(type) {
	case *metallbv1beta1.ServiceL2Status:
		return &metallbv1beta1.ServiceL2Status{ObjectMeta: trimMeta(&o.ObjectMeta), Status: o.Status}, nil
	case *metallbv1beta1.ServiceBGPStatus:
		return &metallbv1beta1.ServiceBGPStatus{ObjectMeta: trimMeta(&o.ObjectMeta), Status: o.Status}, nil
	}
	return obj, nil
}

var (
	_ toolscache.TransformFunc = trimStatus
	_ toolscache.TransformFunc = trimService
	_ toolscache.TransformFunc = trimSlice
	_ toolscache.TransformFunc = trimNode
)

// indexService indexes EndpointSlices, ServiceL2Status and ServiceBGPStatus objects by the namespace/name of
// their Service, in their informers' own indexers: one entry per object, where a controller-runtime field
// index keeps two (a namespaced value and a cluster-wide one), each a set of its own, about 10 MB at 10,000
// Services for these three kinds.
const indexService = "speaker.service"

// serviceIndexes are the indexers of the kinds indexed by Service, by kind name.
type serviceIndexes map[string]toolscache.Indexer

// addIndexes adds indexService to the informers of the kinds looked up by Service; it must run before the
// cache starts.
func addIndexes(ctx context.Context, c cache.Cache) (serviceIndexes, error) {
	indexes := serviceIndexes{}
	kinds := []struct {
		obj     client.Object
		service func(client.Object) string
	}{
		{&discoveryv1.EndpointSlice{}, func(o client.Object) string {
			if name := o.GetLabels()[discoveryv1.LabelServiceName]; name != "" {
				return o.GetNamespace() + "/" + name
			}
			return ""
		}},
		{&metallbv1beta1.ServiceL2Status{}, statusService},
		{&metallbv1beta1.ServiceBGPStatus{}, statusService},
	}
	for _, k := range kinds {
		informer, err := c.GetInformer(ctx, k.obj)
		if err != nil {
			return nil, fmt.Errorf("getting the %s informer: %w", kindOf(k.obj), err)
		}
		withIndexer, ok := informer.(interface{ GetIndexer() toolscache.Indexer })
		if !ok {
			return nil, fmt.Errorf("the %s informer (%T) has no indexer", kindOf(k.obj), informer)
		}
		service := k.service
		err = informer.AddIndexers(toolscache.Indexers{indexService: func(obj any) ([]string, error) {
			o, ok := obj.(client.Object)
			if !ok {
				return nil, nil
			}
			if key := service(o); key != "" {
				return []string{key}, nil
			}
			return nil, nil
		}})
		if err != nil {
			return nil, fmt.Errorf("indexing %s: %w", kindOf(k.obj), err)
		}
		indexes[kindOf(k.obj)] = withIndexer.GetIndexer()
	}
	return indexes, nil
}

// statusService is the Service of a status object, from its labels.
func statusService(o client.Object) string {
	l := o.GetLabels()
	if l[LabelServiceName] == "" {
		return ""
	}
	return l[LabelServiceNamespace] + "/" + l[LabelServiceName]
}

// byService returns the cached objects of the kind that belong to the Service. They are the cache's own: the
// caller copies one before changing it.
func (x serviceIndexes) byService(kind string, key types.NamespacedName) ([]client.Object, error) {
	items, err := x[kind].ByIndex(indexService, key.String())
	if err != nil {
		return nil, fmt.Errorf("looking %s up by Service: %w", kind, err)
	}
	objs := make([]client.Object, 0, len(items))
	for _, item := range items {
		if o, ok := item.(client.Object); ok {
			objs = append(objs, o)
		}
	}
	return objs, nil
}
