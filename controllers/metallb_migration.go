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
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/migrate"
)

// The in-cluster migration of MetalLB's legacy ConfigMap (docs/migration.md, "In the cluster"): while
// reconciling the metallb resource, the operator converts the legacy ConfigMap of its namespace with
// internal/migrate and, by spec.configMigration.mode, creates the resources that do not exist (Apply) or
// writes them into a generated ConfigMap (DryRun). An existing resource is never changed, and the legacy
// ConfigMap is only read.
//
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=ipaddresspools;bgppeers;bgpadvertisements;l2advertisements;communities;bfdprofiles,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get

const (
	// GeneratedConfigMapSuffix makes the name of the ConfigMap a dry run writes: <configMapName>-migrated.
	GeneratedConfigMapSuffix = "-migrated"
	// GeneratedConfigMapKey is the key of the generated ConfigMap that holds the converted resources.
	GeneratedConfigMapKey = "resources.yaml"
	// componentMigration is the app.kubernetes.io/component of the generated ConfigMap.
	componentMigration = "config-migration"
	labelComponent     = "app.kubernetes.io/component"
)

// Reasons of the Migrated and MigrationFailed conditions.
const (
	// ReasonResourcesUpToDate: Migrated, every converted resource exists with the converted spec.
	ReasonResourcesUpToDate = "ResourcesUpToDate"
	// ReasonNothingToMigrate: Migrated, the legacy configuration defines nothing.
	ReasonNothingToMigrate = "NothingToMigrate"
	// ReasonDryRun: not Migrated, the converted resources are in the generated ConfigMap only.
	ReasonDryRun = "DryRun"
	// ReasonIncomplete: not Migrated, some converted resources are missing or conflict (MigrationFailed says
	// which).
	ReasonIncomplete = "Incomplete"
	// ReasonMigrationDisabled: spec.configMigration.mode is Disabled.
	ReasonMigrationDisabled = "MigrationDisabled"
	// ReasonInvalidLegacyConfig: the legacy ConfigMap cannot be converted; nothing is created.
	ReasonInvalidLegacyConfig = "InvalidLegacyConfig"
	// ReasonConflict: resources exist with a spec other than the converted one.
	ReasonConflict = "Conflict"
	// ReasonRejected: the API server refused to create a converted resource (a webhook, or validation).
	ReasonRejected = "Rejected"
	// ReasonCreateFailed: creating a converted resource failed for a reason that can pass; retried.
	ReasonCreateFailed = "CreateFailed"
)

// maxConditionMessage is below metav1.Condition's 32768 bytes.
const maxConditionMessage = 8192

// migrationSettings are spec.configMigration with its defaults.
func migrationSettings(m *metallbv1beta1.MetalLB) (name string, mode metallbv1beta1.ConfigMigrationMode) {
	name, mode = metallbv1beta1.DefaultLegacyConfigMapName, metallbv1beta1.MigrationApply
	if c := m.Spec.ConfigMigration; c != nil {
		if c.ConfigMapName != "" {
			name = c.ConfigMapName
		}
		if c.Mode != "" {
			mode = c.Mode
		}
	}
	return name, mode
}

// migrationOutcome is what the migration found and did, for the status. Nil means there is no legacy
// ConfigMap: nothing to report.
type migrationOutcome struct {
	// unknown is set when what exists could not be read: the status is left as it was until a retry.
	unknown bool
	mode    metallbv1beta1.ConfigMigrationMode
	// configMap is the legacy ConfigMap's name, source its namespace/name, resourceVersion its version.
	configMap, source, resourceVersion string
	// invalid is the conversion's error; empty is true when the configuration defines nothing.
	invalid error
	empty   bool
	// resources is the number of converted resources, upToDate of those existing with the converted spec.
	resources, upToDate int
	// conflicts, rejected and failed are the resources that exist with another spec, that the API server
	// refused, and whose creation failed for a reason that can pass.
	conflicts, rejected, failed []problem
	// generated is the ConfigMap a dry run wrote.
	generated string
}

// problem is a resource the migration could not bring to the converted spec, and why.
type problem struct {
	// ref is Kind/name; detail completes the sentence: "exists with another spec".
	ref    string
	detail string
}

// migrate converts the legacy ConfigMap named in m's spec, if it exists, and creates the resources or writes
// them into the generated ConfigMap according to the mode. The error is for what a retry can fix.
func (r *MetalLBReconciler) migrate(ctx context.Context, m *metallbv1beta1.MetalLB) (*migrationOutcome, error) {
	name, mode := migrationSettings(m)
	cm := &corev1.ConfigMap{}
	key := types.NamespacedName{Namespace: r.Settings.Namespace, Name: name}
	var out *migrationOutcome
	var err error
	switch getErr := r.Get(ctx, key, cm); {
	case apierrors.IsNotFound(getErr):
	case getErr != nil:
		return &migrationOutcome{unknown: true}, fmt.Errorf("reading the legacy ConfigMap %s: %w", key, getErr)
	case mode == metallbv1beta1.MigrationDisabled:
		out = &migrationOutcome{mode: mode, configMap: name, source: key.String(), resourceVersion: cm.ResourceVersion}
	default:
		out, err = r.convertLegacy(ctx, m, cm, mode)
	}
	if out != nil && out.unknown {
		return out, err
	}
	keep := ""
	if out != nil {
		keep = out.generated
	}
	return out, errors.Join(err, r.deleteGenerated(ctx, m, keep))
}

// convertLegacy converts cm and compares each converted resource with the cluster's.
func (r *MetalLBReconciler) convertLegacy(ctx context.Context, m *metallbv1beta1.MetalLB, cm *corev1.ConfigMap,
	mode metallbv1beta1.ConfigMigrationMode) (*migrationOutcome, error) {
	out := &migrationOutcome{mode: mode, configMap: cm.Name, source: client.ObjectKeyFromObject(cm).String(),
		resourceVersion: cm.ResourceVersion}
	conv, err := migrate.ConvertConfigMap(cm)
	if errors.Is(err, migrate.ErrEmpty) {
		out.empty = true
		return out, nil
	} else if err != nil {
		out.invalid = err
		return out, nil
	}
	objs := conv.Result.Objects()
	out.resources = len(objs)
	schemas := map[schema.GroupVersionKind]map[string]any{}
	var errs []error
	for _, obj := range objs {
		gvk := obj.GetObjectKind().GroupVersionKind()
		ref := gvk.Kind + "/" + obj.GetName()
		live, err := r.configObject(ctx, r.Client, gvk, obj)
		if err != nil {
			return &migrationOutcome{unknown: true}, err
		}
		action, err := r.decide(ctx, schemas, obj, live)
		if err != nil {
			return &migrationOutcome{unknown: true}, err
		}
		if action == migrate.ActionCreate && mode == metallbv1beta1.MigrationApply {
			action, live, err = r.createConverted(ctx, schemas, obj.(client.Object))
			switch {
			case err != nil && refused(err):
				out.rejected = append(out.rejected, problem{ref: ref, detail: "was refused: " + err.Error()})
				continue
			case err != nil:
				out.failed = append(out.failed, problem{ref: ref, detail: "could not be created (retrying): " + err.Error()})
				errs = append(errs, fmt.Errorf("creating %s from ConfigMap %s: %w", ref, out.source, err))
				continue
			}
		}
		switch action {
		case migrate.ActionUpToDate:
			out.upToDate++
		case migrate.ActionConflict:
			out.conflicts = append(out.conflicts, problem{ref: ref, detail: conflictDetail(live, out.source)})
		}
	}
	if mode == metallbv1beta1.MigrationDryRun {
		p, err := r.writeGenerated(ctx, m, cm.Name+GeneratedConfigMapSuffix, out.source, conv.YAML)
		if err != nil {
			return &migrationOutcome{unknown: true}, err
		} else if p != nil {
			out.conflicts = append(out.conflicts, *p)
		} else {
			out.generated = cm.Name + GeneratedConfigMapSuffix
		}
	}
	return out, errors.Join(errs...)
}

// createConverted creates a converted resource. A resource that exists already (the cache had not seen it)
// is read and compared instead.
func (r *MetalLBReconciler) createConverted(ctx context.Context, schemas map[schema.GroupVersionKind]map[string]any,
	obj client.Object) (migrate.Action, client.Object, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	err := r.Create(ctx, obj, client.FieldOwner(FieldManager))
	if apierrors.IsAlreadyExists(err) {
		live, err := r.configObject(ctx, r.APIReader, gvk, obj)
		if err != nil {
			return "", nil, err
		}
		action, err := r.decide(ctx, schemas, obj, live)
		return action, live, err
	} else if err != nil {
		return "", nil, err
	}
	ctrl.LoggerFrom(ctx).Info("Created a resource from the legacy ConfigMap", "kind", gvk.Kind, "resource", klog.KObj(obj),
		"configMap", obj.GetAnnotations()[migrate.AnnotationMigratedFrom])
	return migrate.ActionUpToDate, obj, nil
}

// refused reports whether the API server refused a create for good: a webhook's or the schema's refusal,
// or a missing permission. Retrying cannot help until something changes.
func refused(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err)
}

// configObject reads the resource of obj's kind and name with reader, nil if there is none.
func (r *MetalLBReconciler) configObject(ctx context.Context, reader client.Reader, gvk schema.GroupVersionKind,
	obj client.Object) (client.Object, error) {
	typed, err := r.Scheme().New(gvk)
	if err != nil {
		return nil, err
	}
	live := typed.(client.Object)
	if err := reader.Get(ctx, client.ObjectKeyFromObject(obj), live); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	return live, nil
}

// decide compares a converted resource with the live one, with the defaults of its CRD, read once per
// reconcile and kind when there is something to compare.
func (r *MetalLBReconciler) decide(ctx context.Context, schemas map[schema.GroupVersionKind]map[string]any,
	want, live client.Object) (migrate.Action, error) {
	if live == nil {
		return migrate.ActionCreate, nil
	}
	gvk := want.GetObjectKind().GroupVersionKind()
	s, ok := schemas[gvk]
	if !ok {
		mapping, err := r.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return "", fmt.Errorf("finding the resource of %s: %w", gvk, err)
		}
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
		name := mapping.Resource.Resource + "." + gvk.Group
		if err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, crd); err != nil {
			return "", fmt.Errorf("reading CRD %s: %w", name, err)
		}
		if s, err = migrate.VersionSchema(crd.Object, gvk.Version); err != nil {
			return "", fmt.Errorf("CRD %s: %w", name, err)
		}
		schemas[gvk] = s
	}
	action, err := migrate.Decide(want, live, s)
	if err != nil {
		return "", fmt.Errorf("comparing %s %s: %w", gvk.Kind, want.GetName(), err)
	}
	return action, nil
}

// conflictDetail says who made the resource that differs from the converted one.
func conflictDetail(live client.Object, source string) string {
	switch from := live.GetAnnotations()[migrate.AnnotationMigratedFrom]; from {
	case source:
		return "exists with another spec (converted from this ConfigMap earlier, changed since)"
	case "":
		return "exists with another spec (not created by the migration)"
	default:
		return fmt.Sprintf("exists with another spec (converted from ConfigMap %s)", from)
	}
}

// generatedLabels are the labels of the generated ConfigMap: the operator's, as on its operands, so that it
// is in the operator's cache and found again to be deleted.
func generatedLabels(m *metallbv1beta1.MetalLB) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":    "ferrolb",
		"app.kubernetes.io/part-of": "ferrolb",
		labelComponent:              componentMigration,
		labelManagedBy:              managedBy,
		labelInstance:               m.Name,
	}
}

// writeGenerated writes the dry run's ConfigMap, owned by m, unless a ConfigMap of that name that is not
// the operator's exists: that is returned as a problem, and left as it is.
func (r *MetalLBReconciler) writeGenerated(ctx context.Context, m *metallbv1beta1.MetalLB, name, source string,
	resources []byte) (*problem, error) {
	existing := &corev1.ConfigMap{}
	key := types.NamespacedName{Namespace: r.Settings.Namespace, Name: name}
	if err := r.Get(ctx, key, existing); err == nil && existing.Labels[labelManagedBy] != managedBy {
		return &problem{ref: "ConfigMap/" + name, detail: "exists and was not written by the operator: the dry run's resources cannot be written there"}, nil
	} else if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading ConfigMap %s: %w", key, err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: r.Settings.Namespace, Name: name, Labels: generatedLabels(m),
			Annotations: map[string]string{migrate.AnnotationMigratedFrom: source}},
		Data: map[string]string{GeneratedConfigMapKey: string(resources)},
	}
	if _, err := r.applyOne(ctx, m, cm); err != nil {
		return nil, err
	}
	return nil, nil
}

// deleteGenerated deletes the generated ConfigMaps of m other than keep: a dry run's result lasts as long as
// the dry run.
func (r *MetalLBReconciler) deleteGenerated(ctx context.Context, m *metallbv1beta1.MetalLB, keep string) error {
	list := &corev1.ConfigMapList{}
	if err := r.List(ctx, list, client.InNamespace(r.Settings.Namespace),
		client.MatchingLabels{labelManagedBy: managedBy, labelInstance: m.Name, labelComponent: componentMigration}); err != nil {
		return fmt.Errorf("listing the generated ConfigMaps: %w", err)
	}
	for i := range list.Items {
		cm := &list.Items[i]
		if cm.Name == keep {
			continue
		}
		if err := r.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the generated ConfigMap %s: %w", client.ObjectKeyFromObject(cm), err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleted the generated ConfigMap of a dry run", "configMap", klog.KObj(cm))
	}
	return nil
}

// migrationCacheObjects are the cache settings the migration needs on top of the operands': every
// ConfigMap of the operator's namespace (the legacy one has none of the operator's labels) and every
// configuration resource there (the user's may conflict with the converted ones).
func migrationCacheObjects() map[client.Object]cache.ByObject {
	everything := cache.ByObject{Label: labels.Everything()}
	objs := map[client.Object]cache.ByObject{&corev1.ConfigMap{}: everything}
	for _, o := range migrationSources() {
		objs[o] = everything
	}
	return objs
}

// migrationSources are the kinds the conversion creates.
func migrationSources() []client.Object {
	return []client.Object{&metallbv1beta1.IPAddressPool{}, &metallbv1beta2.BGPPeer{}, &metallbv1beta1.BGPAdvertisement{},
		&metallbv1beta1.L2Advertisement{}, &metallbv1beta1.BFDProfile{}, &metallbv1beta1.Community{}}
}

// watchMigrationSources makes the ConfigMaps and configuration resources of the operator's namespace
// trigger a reconcile: creating or editing the legacy ConfigMap converts it, and deleting a resource that
// conflicted lets it be created. Only spec changes of the configuration resources matter (their status
// changes with every allocation).
func watchMigrationSources(b *builder.Builder, h handler.EventHandler) *builder.Builder {
	b = b.Watches(&corev1.ConfigMap{}, h)
	for _, o := range migrationSources() {
		b = b.Watches(o, h, builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	return b
}
