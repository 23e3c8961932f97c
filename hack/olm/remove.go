package olm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Remove takes out everything an install through OLM left, in the order that lets each owner clean up after
// itself: every object of the bundle's kinds (while the operator runs to release its finalizers and remove
// what it deployed), the subscription and the operator (Unsubscribe), OLM (Uninstall), and the bundle's CRDs,
// which OLM leaves behind by design. It goes on after an error and returns every error. Each step's duration
// goes to log.
func Remove(ctx context.Context, c client.Client, log io.Writer, olmObjects []*unstructured.Unstructured, s Subscription, crds []*unstructured.Unstructured) error {
	steps := []struct {
		name string
		run  func() error
	}{
		{"the objects of the bundle's kinds", func() error { return deleteInstances(ctx, c, crds) }},
		{"the subscription and the operator", func() error { return Unsubscribe(ctx, c, s) }},
		{"OLM", func() error { return Uninstall(ctx, c, olmObjects, s.Namespace) }},
		{"the bundle's CRDs", func() error { return DeleteAndWait(ctx, c, crds...) }},
	}
	var errs []error
	for _, step := range steps {
		start := time.Now()
		errs = append(errs, step.run())
		fmt.Fprintf(log, "[olm] removed %s in %s\n", step.name, time.Since(start).Round(100*time.Millisecond))
	}
	return errors.Join(errs...)
}

// Unsubscribe removes the operator as OLM installed it: the Subscription, every CSV and InstallPlan of its
// namespace (OLM then deletes the operator's deployments, RBAC and webhook configurations), the OperatorGroup,
// the CatalogSource with its alias Service; then the namespace.
func Unsubscribe(ctx context.Context, c client.Client, s Subscription) error {
	objs, err := list(ctx, c, s.Namespace, SubscriptionKind, CSVKind, InstallPlanKind, OperatorGroupKind)
	objs = append(objs, s.catalogSource(), s.catalogAlias())
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(s.Namespace)
	return errors.Join(err, DeleteAndWait(ctx, c, objs...), DeleteAndWait(ctx, c, ns))
}

// Uninstall removes OLM (its objects from Manifests, then its CRDs, which takes every OLM resource left with
// them), then whatever OLM created cluster-wide and its operators stopped before removing: ClusterRoles,
// ClusterRoleBindings and webhook configurations labelled with an owner (a CSV or an OperatorGroup) in OLM's
// namespaces or ns. Run Unsubscribe first, while OLM is there to remove the operator.
func Uninstall(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, ns string) error {
	crds, rest := splitCRDs(objs)
	return errors.Join(DeleteAndWait(ctx, c, rest...), DeleteAndWait(ctx, c, crds...),
		deleteOwnedByOLM(ctx, c, Namespace, GlobalOperatorsNamespace, ns))
}

// list returns every object of the kinds in ns; a kind the cluster does not serve has none.
func list(ctx context.Context, c client.Client, ns string, kinds ...schema.GroupVersionKind) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	var errs []error
	for _, gvk := range kinds {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, l, client.InNamespace(ns)); meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", gvk.Kind, err))
			continue
		}
		for i := range l.Items {
			objs = append(objs, &l.Items[i])
		}
	}
	return objs, errors.Join(errs...)
}

// DeleteAndWait deletes objs at once (foreground: their dependents first) and waits until all are gone; an
// object or kind that does not exist is not an error. The error names what is left.
func DeleteAndWait(ctx context.Context, c client.Client, objs ...*unstructured.Unstructured) error {
	var errs []error
	var pending []*unstructured.Unstructured
	for _, o := range objs {
		err := c.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationForeground))
		switch {
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("deleting %s: %w", describe(o), err))
		default:
			pending = append(pending, o)
		}
	}
	err := waitFor(ctx, "deletion", func(ctx context.Context) (bool, error) {
		pending = slices.DeleteFunc(pending, func(o *unstructured.Unstructured) bool {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(o.GroupVersionKind())
			err := c.Get(ctx, client.ObjectKeyFromObject(o), got)
			return apierrors.IsNotFound(err) || meta.IsNoMatchError(err)
		})
		return len(pending) == 0, nil
	})
	if err != nil {
		var left []string
		for _, o := range pending {
			left = append(left, describe(o))
		}
		errs = append(errs, fmt.Errorf("%w: left %s", err, strings.Join(left, ", ")))
	}
	return errors.Join(errs...)
}

func describe(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + client.ObjectKeyFromObject(o).String()
}

// olmOwned are the cluster-scoped kinds OLM creates for an operator or an OperatorGroup and labels with its
// owner's namespace.
var olmOwned = []schema.GroupVersionKind{
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "MutatingWebhookConfiguration"},
	{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"},
}

// ownerNamespaceLabel is the label OLM puts on what it creates for a CSV or an OperatorGroup: its namespace.
const ownerNamespaceLabel = "olm.owner.namespace"

func deleteOwnedByOLM(ctx context.Context, c client.Client, namespaces ...string) error {
	var owned []*unstructured.Unstructured
	var errs []error
	for _, gvk := range olmOwned {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, l, client.HasLabels{ownerNamespaceLabel}); err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", gvk.Kind, err))
			continue
		}
		for i := range l.Items {
			if slices.Contains(namespaces, l.Items[i].GetLabels()[ownerNamespaceLabel]) {
				owned = append(owned, &l.Items[i])
			}
		}
	}
	return errors.Join(append(errs, DeleteAndWait(ctx, c, owned...))...)
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
		objs, err := list(ctx, c, "", kinds...)
		if err != nil {
			last = err
			return false, nil
		}
		for _, o := range objs {
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				last = fmt.Errorf("deleting %s: %w", describe(o), err)
			}
		}
		return len(objs) == 0, nil
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
	objs, err := list(ctx, c, "", clusterKinds...)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetKind()+"/"+o.GetName())
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
