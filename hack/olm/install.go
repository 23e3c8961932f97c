package olm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// OLM's kinds, used unstructured: the project does not depend on OLM's API module.
var (
	CatalogSourceKind = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "CatalogSource"}
	SubscriptionKind  = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "Subscription"}
	CSVKind           = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "ClusterServiceVersion"}
	InstallPlanKind   = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "InstallPlan"}
	OperatorGroupKind = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1", Kind: "OperatorGroup"}
)

// fieldOwner is the server-side apply field manager of everything applied here.
const fieldOwner = "ferrolb-olm"

// pollInterval paces every wait here; callers bound them with their context.
const pollInterval = time.Second

// Install applies OLM's objects (from Manifests): the CRDs first, once they are established the rest, and
// waits until the olm and catalog operators are available.
func Install(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	crds, rest := splitCRDs(objs)
	for _, group := range [][]*unstructured.Unstructured{crds, rest} {
		for _, o := range group {
			if err := apply(ctx, c, o); err != nil {
				return err
			}
		}
		if err := waitFor(ctx, "OLM's CRDs to be established", func(ctx context.Context) (bool, error) {
			return allEstablished(ctx, c, crds)
		}); err != nil {
			return err
		}
	}
	for _, name := range []string{"olm-operator", "catalog-operator"} {
		if err := WaitForDeployment(ctx, c, Namespace, name); err != nil {
			return err
		}
	}
	return nil
}

func splitCRDs(objs []*unstructured.Unstructured) (crds, rest []*unstructured.Unstructured) {
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o)
		} else {
			rest = append(rest, o)
		}
	}
	return crds, rest
}

func apply(ctx context.Context, c client.Client, o *unstructured.Unstructured) error {
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
	}
	return nil
}

func allEstablished(ctx context.Context, c client.Client, crds []*unstructured.Unstructured) (bool, error) {
	for _, crd := range crds {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(crd.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		established := slices.ContainsFunc(conds, func(c any) bool {
			m, _ := c.(map[string]any)
			return m["type"] == "Established" && m["status"] == "True"
		})
		if !established {
			return false, nil
		}
	}
	return true, nil
}

// WaitForDeployment waits until the Deployment has its replicas updated and available.
func WaitForDeployment(ctx context.Context, c client.Client, ns, name string) error {
	return waitFor(ctx, fmt.Sprintf("Deployment %s/%s to be available", ns, name), func(ctx context.Context) (bool, error) {
		d := &unstructured.Unstructured{}
		d.SetAPIVersion("apps/v1")
		d.SetKind("Deployment")
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		want, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
		gen, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
		updated, _, _ := unstructured.NestedInt64(d.Object, "status", "updatedReplicas")
		available, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas")
		return gen >= d.GetGeneration() && updated == want && available == want, nil
	})
}

// waitFor polls done until it reports true, fails, or ctx ends; the error says what was awaited.
func waitFor(ctx context.Context, what string, done func(context.Context) (bool, error)) error {
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, done)
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

// Subscription is an operator installed from a catalog of the lab: the CatalogSource (in OLM's namespace, so
// every namespace can subscribe from it), and in the operator's namespace an OperatorGroup for all namespaces
// and the Subscription.
type Subscription struct {
	// Namespace is the operator's.
	Namespace string
	// Package and Channel are subscribed to, from the catalog Catalog, which serves CatalogImage.
	Package, Channel      string
	Catalog, CatalogImage string
	// CatalogIP is the ClusterIP of the catalog's alias Service (see CatalogHost).
	CatalogIP string
}

// catalogPort is where OLM's catalog pods serve gRPC.
const catalogPort = 50051

// CatalogHost is the name the catalog operator dials a catalog by: its registry Service's DNS name. The lab has
// no cluster DNS, so the catalog operator's /etc/hosts (hostAliases, see Manifests) maps that name to the
// ClusterIP of an alias Service, fixed in the static band of the Service range, that selects the catalog's
// pods as OLM's Service does.
func CatalogHost(catalog string) string { return catalog + "." + Namespace + ".svc" }

// Subscribe creates the operator's namespace, the CatalogSource and its alias Service, the OperatorGroup and
// the Subscription (with automatic approval: OLM installs and upgrades without being asked).
func Subscribe(ctx context.Context, c client.Client, s Subscription) error {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": s.Namespace}}}
	objs := []*unstructured.Unstructured{ns, s.catalogSource(), s.catalogAlias(), object(OperatorGroupKind, s.Namespace, s.Package, map[string]any{})}
	objs = append(objs, object(SubscriptionKind, s.Namespace, s.Package, map[string]any{
		"channel":             s.Channel,
		"name":                s.Package,
		"source":              s.Catalog,
		"sourceNamespace":     Namespace,
		"installPlanApproval": "Automatic",
	}))
	for _, o := range objs {
		if err := apply(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}

func (s Subscription) catalogAlias() *unstructured.Unstructured {
	svc := object(schema.GroupVersionKind{Version: "v1", Kind: "Service"}, Namespace, s.Catalog+"-lab", map[string]any{
		"clusterIP": s.CatalogIP,
		// OLM's label on the catalog's pods (its own Service selects them by it too).
		"selector": map[string]any{"olm.catalogSource": s.Catalog},
		"ports":    []any{map[string]any{"name": "grpc", "port": int64(catalogPort), "targetPort": int64(catalogPort)}},
	})
	return svc
}

func (s Subscription) catalogSource() *unstructured.Unstructured {
	return object(CatalogSourceKind, Namespace, s.Catalog, map[string]any{
		"sourceType":  "grpc",
		"image":       s.CatalogImage,
		"displayName": "ferrolb (lab)",
		"publisher":   "ferrolb",
	})
}

// SetCatalogImage points the CatalogSource at another catalog image: OLM replaces the catalog's pod, and
// subscriptions follow what the new catalog serves.
func SetCatalogImage(ctx context.Context, c client.Client, s Subscription) error {
	return apply(ctx, c, s.catalogSource())
}

func object(gvk schema.GroupVersionKind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	o.SetGroupVersionKind(gvk)
	o.SetNamespace(ns)
	o.SetName(name)
	return o
}

// CatalogReady reports whether OLM is connected to the catalog's registry server.
func CatalogReady(ctx context.Context, c client.Client, name string) (bool, error) {
	cs := &unstructured.Unstructured{}
	cs.SetGroupVersionKind(CatalogSourceKind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, cs); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	state, _, _ := unstructured.NestedString(cs.Object, "status", "connectionState", "lastObservedState")
	return state == "READY", nil
}

// CSVStatus is what a ClusterServiceVersion reports.
type CSVStatus struct {
	Name, Phase, Reason, Message string
}

func (s CSVStatus) String() string {
	return fmt.Sprintf("CSV %s: phase %q reason %q: %s", s.Name, s.Phase, s.Reason, s.Message)
}

// InstalledCSV is the status of the CSV the Subscription installed (status.installedCSV); a zero Name while OLM
// has not installed one.
func InstalledCSV(ctx context.Context, c client.Client, s Subscription) (CSVStatus, error) {
	sub := &unstructured.Unstructured{}
	sub.SetGroupVersionKind(SubscriptionKind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: s.Package}, sub); err != nil {
		return CSVStatus{}, err
	}
	name, _, _ := unstructured.NestedString(sub.Object, "status", "installedCSV")
	if name == "" {
		return CSVStatus{}, nil
	}
	csv := &unstructured.Unstructured{}
	csv.SetGroupVersionKind(CSVKind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, csv); err != nil {
		return CSVStatus{Name: name}, client.IgnoreNotFound(err)
	}
	st := CSVStatus{Name: name}
	st.Phase, _, _ = unstructured.NestedString(csv.Object, "status", "phase")
	st.Reason, _, _ = unstructured.NestedString(csv.Object, "status", "reason")
	st.Message, _, _ = unstructured.NestedString(csv.Object, "status", "message")
	return st, nil
}

// WaitForCSV waits until the Subscription's installed CSV is csv and in phase Succeeded. The error carries the
// last status seen.
func WaitForCSV(ctx context.Context, c client.Client, s Subscription, csv string) error {
	var last CSVStatus
	err := waitFor(ctx, fmt.Sprintf("CSV %s to succeed", csv), func(ctx context.Context) (bool, error) {
		st, err := InstalledCSV(ctx, c, s)
		if err != nil {
			return false, client.IgnoreNotFound(err)
		}
		last = st
		return st.Name == csv && st.Phase == "Succeeded", nil
	})
	if err != nil && last.Name != "" {
		return fmt.Errorf("%w; last seen: %s", err, last)
	}
	return err
}
