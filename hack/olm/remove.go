package olm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Remove takes out everything an install through OLM left, in the order that lets each owner clean up after
// itself: every object of the bundle's kinds (while the operator runs to release its finalizers and remove
// what it deployed), the subscription and the operator (Unsubscribe), OLM (Uninstall), and the bundle's CRDs,
// which OLM leaves behind by design. It goes on after an error and returns every error.
func Remove(ctx context.Context, c client.Client, olmObjects []*unstructured.Unstructured, s Subscription, crds []*unstructured.Unstructured) error {
	var errs []error
	for _, crd := range crds {
		errs = append(errs, deleteInstances(ctx, c, crd))
	}
	errs = append(errs, Unsubscribe(ctx, c, s))
	errs = append(errs, Uninstall(ctx, c, olmObjects, s.Namespace))
	for _, crd := range crds {
		errs = append(errs, DeleteAndWait(ctx, c, crd))
	}
	return errors.Join(errs...)
}

// deleteInstances deletes every object of the CRD's kind, in all namespaces, and waits until they are gone.
func deleteInstances(ctx context.Context, c client.Client, crd *unstructured.Unstructured) error {
	gvk, err := storageKind(crd)
	if err != nil {
		return err
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.List(ctx, list); err != nil {
		if meta.IsNoMatchError(err) {
			return nil
		}
		return fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	var errs []error
	for i := range list.Items {
		errs = append(errs, DeleteAndWait(ctx, c, &list.Items[i]))
	}
	return errors.Join(errs...)
}

// storageKind is the kind of a CRD's objects, at its storage version.
func storageKind(crd *unstructured.Unstructured) (schema.GroupVersionKind, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if storage, _ := m["storage"].(bool); storage {
			name, _ := m["name"].(string)
			return schema.GroupVersionKind{Group: group, Version: name, Kind: kind}, nil
		}
	}
	return schema.GroupVersionKind{}, fmt.Errorf("CRD %s has no storage version", crd.GetName())
}

// clusterKinds are the cluster-scoped kinds an install through OLM creates objects of.
var clusterKinds = append([]schema.GroupVersionKind{
	{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"},
	{Version: "v1", Kind: "Namespace"},
}, olmOwned...)

// ClusterObjects names every object of the cluster-scoped kinds an install through OLM touches ("Kind/name").
// Comparing it before and after an install and Remove shows what was left behind.
func ClusterObjects(ctx context.Context, c client.Client) ([]string, error) {
	var names []string
	for _, gvk := range clusterKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, list); err != nil {
			return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for _, o := range list.Items {
			names = append(names, gvk.Kind+"/"+o.GetName())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Added are the names of after that before lacks.
func Added(before, after []string) []string {
	var added []string
	for _, n := range after {
		if !slices.Contains(before, n) {
			added = append(added, n)
		}
	}
	return added
}
