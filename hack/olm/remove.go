package olm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	errs := []error{deleteInstances(ctx, c, crds)}
	errs = append(errs, Unsubscribe(ctx, c, s))
	errs = append(errs, Uninstall(ctx, c, olmObjects, s.Namespace))
	for _, crd := range crds {
		errs = append(errs, DeleteAndWait(ctx, c, crd))
	}
	return errors.Join(errs...)
}

// deleteInstances deletes every object of the CRDs' kinds, in all namespaces, until none is left: the
// operator's operands recreate their status objects until the operator has removed the operands, so objects
// are deleted again until the kinds stay empty.
func deleteInstances(ctx context.Context, c client.Client, crds []*unstructured.Unstructured) error {
	var kinds []schema.GroupVersionKind
	for _, crd := range crds {
		gvk, err := storageKind(crd)
		if err != nil {
			return err
		}
		kinds = append(kinds, gvk)
	}
	// Errors (a webhook not answering for a moment) are retried until ctx ends; the last one is reported.
	var last error
	err := waitFor(ctx, "every object of the bundle's kinds to be deleted", func(ctx context.Context) (bool, error) {
		left := 0
		for _, gvk := range kinds {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			if err := c.List(ctx, list); meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				continue
			} else if err != nil {
				last = fmt.Errorf("listing %s: %w", gvk.Kind, err)
				return false, nil
			}
			for i := range list.Items {
				left++
				if list.Items[i].GetDeletionTimestamp() != nil {
					continue
				}
				if err := c.Delete(ctx, &list.Items[i]); client.IgnoreNotFound(err) != nil {
					last = fmt.Errorf("deleting %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(&list.Items[i]), err)
				}
			}
		}
		return left == 0, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w; last error: %w", err, last)
	}
	return err
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
