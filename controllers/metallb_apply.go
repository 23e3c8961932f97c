/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/render"
)

const (
	// FieldManager is the operator's field manager: every operand is applied under it, with force, so that the
	// operator takes over fields an older manager (MetalLB's operator, kubectl) set.
	FieldManager = "ferrolb-operator"
	// AnnotationAppliedHash is on every operand: a digest of what the operator last applied. With the check
	// that every applied field still has its value, it lets a reconcile that would change nothing send
	// nothing, and a removed field (an annotation dropped from speakerConfig) still be applied.
	AnnotationAppliedHash = "ferrolb.io/applied-hash"
)

// applyResult is an applied operand as the API server returned it, or as the cache holds it when nothing had
// to be applied.
type applyResult map[objectKey]*unstructured.Unstructured

// objectKey identifies an object across kinds.
type objectKey struct {
	gvk schema.GroupVersionKind
	types.NamespacedName
}

func keyOf(gvk schema.GroupVersionKind, o client.Object) objectKey {
	return objectKey{gvk: gvk, NamespacedName: client.ObjectKeyFromObject(o)}
}

// applyWorkers is how many objects apply sends at once. The API server's escalation checks make an RBAC
// apply take about 100 ms: in sequence the dozen RBAC objects alone would take over a second.
const applyWorkers = 8

// apply applies every desired object that differs from the cluster, namespaced ones with the MetalLB resource
// as controller owner, and returns the live objects. It applies in waves, each in parallel: identities, roles
// and what the pods mount or are reached through first; then the bindings (the API server lets the operator
// bind a role only once the role exists: its escalation check reads it); then the workloads, so that no pod
// starts before its permissions exist.
func (r *MetalLBReconciler) apply(ctx context.Context, m *metallbv1beta1.MetalLB, objs []render.Object) (applyResult, error) {
	res := applyResult{}
	var mu sync.Mutex
	for _, wave := range applyWaves(objs) {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(applyWorkers)
		for _, obj := range wave {
			g.Go(func() error {
				live, err := r.applyOne(gctx, m, obj)
				if err != nil {
					return err
				}
				mu.Lock()
				res[keyOf(obj.GetObjectKind().GroupVersionKind(), obj)] = live
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// applyWaves splits objs into the waves of apply, keeping render's order within each.
func applyWaves(objs []render.Object) [][]render.Object {
	waves := make([][]render.Object, 3)
	for _, obj := range objs {
		wave := 0
		switch obj.(type) {
		case *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
			wave = 1
		case *appsv1.Deployment, *appsv1.DaemonSet, *unstructured.Unstructured:
			// ServiceMonitors (unstructured) select the metrics Services of the workloads.
			wave = 2
		}
		waves[wave] = append(waves[wave], obj)
	}
	return waves
}

// applyOne applies obj unless the cluster already has it as desired, and returns it as it is now.
func (r *MetalLBReconciler) applyOne(ctx context.Context, m *metallbv1beta1.MetalLB, obj render.Object) (*unstructured.Unstructured, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if obj.GetNamespace() != "" {
		if err := controllerutil.SetControllerReference(m, obj, r.Scheme()); err != nil {
			return nil, fmt.Errorf("owning %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
		}
	}
	want, err := desiredContent(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	live, err := r.live(ctx, gvk, obj)
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	if live != nil && upToDate(live.Object, want.Object) {
		return live, nil
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(want),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return nil, fmt.Errorf("applying %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	return want, nil
}

// live reads the object in the cluster: from the cache for the kinds the operator watches, from the API
// server for the others (ServiceMonitors, whose CRD may come and go). Nil when it does not exist.
func (r *MetalLBReconciler) live(ctx context.Context, gvk schema.GroupVersionKind, obj render.Object) (*unstructured.Unstructured, error) {
	key := client.ObjectKeyFromObject(obj)
	if _, ok := obj.(*unstructured.Unstructured); ok {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		if err := r.APIReader.Get(ctx, key, u); apierrors.IsNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return u, nil
	}
	typed, err := r.Scheme().New(gvk)
	if err != nil {
		return nil, err
	}
	co := typed.(client.Object)
	if err := r.Get(ctx, key, co); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(co)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// desiredContent is what is applied for obj: its fields without the ones the API server sets
// (creationTimestamp, status), and the digest of the rest as an annotation.
func desiredContent(obj render.Object) (*unstructured.Unstructured, error) {
	var content map[string]any
	if u, ok := obj.(*unstructured.Unstructured); ok {
		content = runtime.DeepCopyJSON(u.Object)
	} else {
		var err error
		if content, err = runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err != nil {
			return nil, err
		}
	}
	delete(content, "status")
	unstructured.RemoveNestedField(content, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(content, "spec", "template", "metadata", "creationTimestamp")
	u := &unstructured.Unstructured{Object: content}
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationAppliedHash] = hex.EncodeToString(sum[:12])
	u.SetAnnotations(ann)
	return u, nil
}

// upToDate reports whether the live object holds what would be applied: the same digest (nothing was
// added to or removed from the desired object since it was applied) and every desired field with its value
// (nobody changed or removed one since). Fields others set, or the API server defaulted, do not matter.
func upToDate(live, want map[string]any) bool {
	return contains(live, want)
}

// contains reports whether have holds every field of want with the same value. Lists must have the same
// length, their items compared in order (the API server keeps the order of what was applied).
func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				if wv == nil {
					continue
				}
				if m, isMap := wv.(map[string]any); isMap && len(m) == 0 {
					continue
				}
				return false
			}
			if !contains(hv, wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return len(w) == 0 && have == nil
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	case nil:
		return true
	default:
		return reflect.DeepEqual(normalize(have), normalize(want))
	}
}

// normalize gives numbers one type: JSON decoding makes float64s or int64s depending on the path.
func normalize(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int32:
		return float64(n)
	case int64:
		return float64(n)
	case float32:
		return float64(n)
	}
	return v
}

// listItemGVK is the kind of a list's items.
func listItemGVK(scheme *runtime.Scheme, list client.ObjectList) (schema.GroupVersionKind, error) {
	gvk, err := apiutil.GVKForObject(list, scheme)
	if err != nil {
		return gvk, err
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	return gvk, nil
}

// metaItems returns a list's items as objects.
func metaItems(list client.ObjectList) ([]client.Object, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(items))
	for _, it := range items {
		o, ok := it.(client.Object)
		if !ok {
			return nil, fmt.Errorf("list item %T is not an object", it)
		}
		out = append(out, o)
	}
	return out, nil
}
