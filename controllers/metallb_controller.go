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
	"maps"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/render"
)

const (
	// MetalLBName is the only name of a MetalLB resource the operator deploys from (MetalLB's rule).
	MetalLBName = "metallb"
	// MetalLBFinalizer lets the operator delete the cluster-scoped operands, which cannot be owned by the
	// namespaced MetalLB resource, before the resource goes.
	MetalLBFinalizer = "metallb.io/ferrolb-operator"

	// labelManagedBy and managedBy are render's label of every operand: the operator's caches, its pruning
	// and its deletion only ever see objects carrying it.
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "ferrolb-operator"
	labelInstance  = "app.kubernetes.io/instance"

	// serviceMonitorCRD is the CRD whose presence turns ServiceMonitors on.
	serviceMonitorCRD = "servicemonitors.monitoring.coreos.com"
	// serviceMonitorGroupVersion is what discovery is asked for.
	serviceMonitorGroupVersion = "monitoring.coreos.com/v1"
	// discoveryRetry is how soon a reconcile retries when the ServiceMonitor CRD exists but discovery does
	// not serve it yet (it lags the CRD's creation by a moment).
	discoveryRetry = 5 * time.Second
)

var serviceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}

// MetalLBReconciler deploys ferrolb's controller and speakers from the MetalLB resource named metallb in the
// operator's namespace, keeps them as rendered (internal/render), prunes what is no longer rendered, deletes
// the cluster-scoped operands when the resource goes, and reports the operands' rollout in the resource's
// conditions. Other MetalLB resources only get conditions saying why nothing is deployed for them.
type MetalLBReconciler struct {
	client.Client
	// APIReader reads what the caches do not hold: the memberlist Secret before the operator labelled it,
	// ServiceMonitors, and the preflight checks' objects in kube-system.
	APIReader client.Reader
	// Discovery tells whether the ServiceMonitor kind is served.
	Discovery discovery.DiscoveryInterface
	// Settings are the operands' settings, from the operator's environment (MetalLBSettingsFromEnv).
	Settings render.Settings
	// DisableOperandWebhooks makes the controller run without its webhooks (render.WithWebhooks(false)).
	DisableOperandWebhooks bool
}

// MetalLBSettingsFromEnv reads the operator's environment (OPERATOR_NAMESPACE, CONTROLLER_IMAGE and
// SPEAKER_IMAGE are required) through getenv, os.Getenv in the binary. Its error names every missing or
// invalid variable: the operator must refuse to start with it rather than run without deploying anything.
func MetalLBSettingsFromEnv(getenv func(string) string) (render.Settings, error) {
	return render.SettingsFromEnv(getenv)
}

// MetalLBCacheOptions are the manager's cache options the reconciler needs: the operands (by their
// managed-by label) in the operator's namespace and cluster-wide for the cluster-scoped ones, MetalLB
// resources in every namespace (to tell those elsewhere why nothing happens), every Node (the preflight
// checks), the ServiceMonitor CRD's metadata only, and what the legacy ConfigMap's migration reads.
func MetalLBCacheOptions(namespace string) cache.Options {
	everything := labels.Everything()
	opts := cache.Options{
		DefaultNamespaces:    map[string]cache.Config{namespace: {}},
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{labelManagedBy: managedBy}),
		ByObject: map[client.Object]cache.ByObject{
			&metallbv1beta1.MetalLB{}: {Label: everything, Namespaces: map[string]cache.Config{cache.AllNamespaces: {}}},
			&corev1.Node{}:            {Label: everything},
			crdMetadata():             {Label: everything, Field: fields.OneTermEqualSelector("metadata.name", serviceMonitorCRD)},
		},
	}
	maps.Copy(opts.ByObject, migrationCacheObjects())
	return opts
}

func crdMetadata() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}}
}

// The operator's own permissions. It must hold every permission it grants the operands (the API server
// refuses to let anyone create a Role with more than they have), which the operands' markers give it: the
// generated role is their union.
//
// +kubebuilder:rbac:groups=metallb.io,resources=metallbs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=metallb.io,resources=metallbs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=metallb.io,resources=metallbs/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,namespace=metallb-system,resources=deployments;daemonsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=services;serviceaccounts;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,namespace=metallb-system,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=monitoring.coreos.com,namespace=metallb-system,resources=servicemonitors,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:urls=/metrics,verbs=get

// Reconcile brings the operands of one MetalLB resource to its spec and reports how far they are.
func (r *MetalLBReconciler) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	m := &metallbv1beta1.MetalLB{}
	if err := r.Get(ctx, req.NamespacedName, m); apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil
	} else if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading MetalLB %s: %w", req.NamespacedName, err)
	}
	if reason, msg := r.ignored(m); reason != "" {
		if !m.DeletionTimestamp.IsZero() {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, r.writeStatus(ctx, m, computeStatus(m, statusInput{ignoredReason: reason, ignoredMessage: msg}))
	}
	if !m.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, m)
	}
	if controllerutil.AddFinalizer(m, MetalLBFinalizer) {
		if err := r.Update(ctx, m); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer to MetalLB %s: %w", req.NamespacedName, err)
		}
	}
	return r.reconcileNormal(ctx, m)
}

// ignored tells why the operator deploys nothing for m, if it does not: only one resource, metallb in the
// operator's namespace, declares the stack.
func (r *MetalLBReconciler) ignored(m *metallbv1beta1.MetalLB) (reason, message string) {
	switch {
	case m.Namespace != r.Settings.Namespace:
		return ReasonWrongNamespace, fmt.Sprintf("Nothing is deployed for this resource: ferrolb's operator "+
			"deploys from the MetalLB resource named %s in namespace %s only", MetalLBName, r.Settings.Namespace)
	case m.Name != MetalLBName:
		return ReasonIncorrectName, fmt.Sprintf("Incorrect MetalLB resource name: %s. Nothing is deployed for "+
			"this resource: the operator deploys from the MetalLB resource named %s only", m.Name, MetalLBName)
	}
	return "", ""
}

// reconcileNormal renders, applies and prunes the operands, then writes the status.
func (r *MetalLBReconciler) reconcileNormal(ctx context.Context, m *metallbv1beta1.MetalLB) (ctrl.Result, error) {
	var in statusInput
	var result ctrl.Result
	objs, monitors, err := r.desired(ctx, m)
	var invalid *render.InvalidError
	switch {
	case errors.As(err, &invalid):
		// Retrying cannot help: the next change of the spec triggers a reconcile.
		in.invalid = err
		err = nil
	case err != nil:
		in.syncErr = err
	}
	var live applyResult
	if objs != nil {
		live, in.syncErr = r.apply(ctx, m, objs.All())
		if in.syncErr == nil {
			in.syncErr = r.prune(ctx, m, objs, monitors.served)
		}
		if monitors.crdExists && !monitors.served {
			result.RequeueAfter = discoveryRetry
		}
	}
	if in.invalid == nil {
		var speaker *appsv1.DaemonSet
		in.controller, in.speaker, speaker, err = r.rollouts(ctx, live)
		if err != nil && in.syncErr == nil {
			in.syncErr = err
		}
		if objs != nil && objs.Speaker != nil {
			findings, err := r.preflight(ctx, objs.Speaker, speaker)
			if err != nil && in.syncErr == nil {
				in.syncErr = err
			}
			in.findings = findings
		}
	}
	var migrationErr error
	in.migration, migrationErr = r.migrate(ctx, m)
	if err := r.writeStatus(ctx, m, computeStatus(m, in)); err != nil {
		return ctrl.Result{}, errors.Join(in.syncErr, migrationErr, err)
	}
	return result, errors.Join(in.syncErr, migrationErr)
}

// monitoring says whether ServiceMonitors can be deployed.
type monitoring struct {
	// crdExists: the ServiceMonitor CRD is in the cache.
	crdExists bool
	// served: discovery serves the kind (and the objects can be applied).
	served bool
}

// desired reads what rendering depends on (the memberlist key, whether ServiceMonitors are served) and
// renders the operands.
func (r *MetalLBReconciler) desired(ctx context.Context, m *metallbv1beta1.MetalLB) (*render.Objects, monitoring, error) {
	var mon monitoring
	key, err := r.memberlistKey(ctx)
	if err != nil {
		return nil, mon, err
	}
	if mon, err = r.serviceMonitors(ctx); err != nil {
		return nil, mon, err
	}
	objs, err := render.Render(m, r.Settings, render.WithMemberlistKey(key),
		render.WithServiceMonitors(mon.served), render.WithWebhooks(!r.DisableOperandWebhooks))
	if err != nil {
		return nil, mon, fmt.Errorf("rendering the operands: %w", err)
	}
	return objs, mon, nil
}

// memberlistKey is the key of the existing memberlist Secret, never a new one while one exists: speakers
// with different keys cannot talk. The Secret is read from the cache, then from the API server, which also
// sees a Secret without the operator's labels (MetalLB's, taken over) and one the cache has not caught up
// with.
func (r *MetalLBReconciler) memberlistKey(ctx context.Context) ([]byte, error) {
	key := types.NamespacedName{Namespace: r.Settings.Namespace, Name: render.MemberlistSecretName}
	s := &corev1.Secret{}
	err := r.Get(ctx, key, s)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, s)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the memberlist Secret %s: %w", key, err)
	}
	return s.Data[render.MemberlistSecretKey], nil
}

// serviceMonitors asks discovery whether the ServiceMonitor kind is served, when its CRD exists.
func (r *MetalLBReconciler) serviceMonitors(ctx context.Context) (monitoring, error) {
	var mon monitoring
	crd := crdMetadata()
	if err := r.Get(ctx, types.NamespacedName{Name: serviceMonitorCRD}, crd); apierrors.IsNotFound(err) {
		return mon, nil
	} else if err != nil {
		return mon, fmt.Errorf("reading CRD %s: %w", serviceMonitorCRD, err)
	}
	mon.crdExists = crd.DeletionTimestamp.IsZero()
	if !mon.crdExists {
		return mon, nil
	}
	resources, err := r.Discovery.ServerResourcesForGroupVersion(serviceMonitorGroupVersion)
	if apierrors.IsNotFound(err) {
		return mon, nil
	} else if err != nil {
		return mon, fmt.Errorf("discovering %s: %w", serviceMonitorGroupVersion, err)
	}
	for _, res := range resources.APIResources {
		if res.Kind == serviceMonitorGVK.Kind {
			mon.served = true
		}
	}
	return mon, nil
}

// rollouts reads the rollout state of the controller Deployment and the speaker DaemonSet: as applied in
// this reconcile if they were (the cache may still hold the previous generation), else from the cache.
func (r *MetalLBReconciler) rollouts(ctx context.Context, live applyResult) (controller, speaker rollout, ds *appsv1.DaemonSet, err error) {
	ns := r.Settings.Namespace
	d := &appsv1.Deployment{}
	found, err := r.workload(ctx, live, appsv1.SchemeGroupVersion.WithKind("Deployment"), types.NamespacedName{Namespace: ns, Name: render.ControllerName}, d)
	if err != nil {
		return controller, speaker, nil, err
	}
	controller = missing("Deployment " + render.ControllerName)
	if found {
		controller = deploymentRollout(d)
	}
	ds = &appsv1.DaemonSet{}
	found, err = r.workload(ctx, live, appsv1.SchemeGroupVersion.WithKind("DaemonSet"), types.NamespacedName{Namespace: ns, Name: render.SpeakerName}, ds)
	if err != nil {
		return controller, speaker, nil, err
	}
	speaker = missing("DaemonSet " + render.SpeakerName)
	if !found {
		return controller, speaker, nil, nil
	}
	return controller, daemonSetRollout(ds), ds, nil
}

// workload fills obj from the apply result, or from the cache.
func (r *MetalLBReconciler) workload(ctx context.Context, live applyResult, gvk schema.GroupVersionKind, key types.NamespacedName, obj client.Object) (bool, error) {
	if u, ok := live[objectKey{gvk: gvk, NamespacedName: key}]; ok {
		return true, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
	}
	if err := r.Get(ctx, key, obj); apierrors.IsNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("reading %s %s: %w", gvk.Kind, key, err)
	}
	return true, nil
}

// writeStatus writes st if it differs from the resource's status: a reconcile that changes nothing writes
// nothing (the MetalLB operator rewrote its status on every reconcile).
func (r *MetalLBReconciler) writeStatus(ctx context.Context, m *metallbv1beta1.MetalLB, st metallbv1beta1.MetalLBStatus) error {
	if equality.Semantic.DeepEqual(m.Status, st) {
		return nil
	}
	m.Status = st
	if err := r.Status().Update(ctx, m); err != nil {
		return fmt.Errorf("writing status of MetalLB %s: %w", client.ObjectKeyFromObject(m), err)
	}
	return nil
}

// prunableLists are the kinds render produces, which pruning and deletion list by the operator's labels.
func prunableLists() []client.ObjectList {
	return []client.ObjectList{
		&corev1.ServiceAccountList{}, &rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{},
		&rbacv1.RoleList{}, &rbacv1.RoleBindingList{}, &corev1.SecretList{}, &corev1.ServiceList{},
		&admissionregistrationv1.ValidatingWebhookConfigurationList{}, &appsv1.DeploymentList{}, &appsv1.DaemonSetList{},
	}
}

// prune deletes the operands carrying the operator's labels for m that are no longer rendered, such as the
// metrics reader ClusterRole once ServiceMonitors are off.
func (r *MetalLBReconciler) prune(ctx context.Context, m *metallbv1beta1.MetalLB, objs *render.Objects, monitorsServed bool) error {
	want := map[objectKey]bool{}
	for _, o := range objs.All() {
		want[keyOf(o.GetObjectKind().GroupVersionKind(), o)] = true
	}
	existing, err := r.labelled(ctx, m, monitorsServed)
	if err != nil {
		return err
	}
	for _, o := range existing {
		gvk := o.GetObjectKind().GroupVersionKind()
		if want[keyOf(gvk, o)] {
			continue
		}
		if err := r.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("pruning %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(o), err)
		}
		ctrl.LoggerFrom(ctx).Info("Pruned operand", "kind", gvk.Kind, "object", client.ObjectKeyFromObject(o))
	}
	return nil
}

// labelled lists the objects of render's kinds carrying the operator's labels for m, namespaced ones in the
// operator's namespace, with their GVK set.
func (r *MetalLBReconciler) labelled(ctx context.Context, m *metallbv1beta1.MetalLB, monitors bool) ([]client.Object, error) {
	sel := client.MatchingLabels{labelManagedBy: managedBy, labelInstance: m.Name}
	var out []client.Object
	for _, list := range prunableLists() {
		if err := r.List(ctx, list, sel); err != nil {
			return nil, fmt.Errorf("listing %T: %w", list, err)
		}
		gvk, err := listItemGVK(r.Scheme(), list)
		if err != nil {
			return nil, err
		}
		items, err := metaItems(list)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			// Another operator's objects (MetalLB resources are all named metallb) are not this one's.
			if ns := o.GetNamespace(); ns != r.Settings.Namespace && (ns != "" || o.GetLabels()[render.LabelNamespace] != r.Settings.Namespace) {
				continue
			}
			o.GetObjectKind().SetGroupVersionKind(gvk)
			out = append(out, o)
		}
	}
	if monitors {
		sms := &unstructured.UnstructuredList{}
		sms.SetGroupVersionKind(serviceMonitorGVK.GroupVersion().WithKind("ServiceMonitorList"))
		if err := r.APIReader.List(ctx, sms, sel, client.InNamespace(r.Settings.Namespace)); err != nil {
			return nil, fmt.Errorf("listing ServiceMonitors: %w", err)
		}
		for i := range sms.Items {
			out = append(out, &sms.Items[i])
		}
	}
	return out, nil
}

// reconcileDelete deletes the cluster-scoped operands, rendered ones by name and labelled ones, then lets the
// resource go. The namespaced operands are the garbage collector's: their owner is the resource.
func (r *MetalLBReconciler) reconcileDelete(ctx context.Context, m *metallbv1beta1.MetalLB) error {
	if !controllerutil.ContainsFinalizer(m, MetalLBFinalizer) {
		return nil
	}
	var clusterScoped []client.Object
	// An invalid spec renders nothing: the labels still find what an earlier spec deployed.
	if objs, err := render.Render(m, r.Settings, render.WithMemberlistKey([]byte("unused")),
		render.WithServiceMonitors(true), render.WithWebhooks(!r.DisableOperandWebhooks)); err == nil {
		for _, o := range objs.ClusterScoped() {
			clusterScoped = append(clusterScoped, o)
		}
	}
	labelled, err := r.labelled(ctx, m, false)
	if err != nil {
		return err
	}
	for _, o := range labelled {
		if o.GetNamespace() == "" {
			clusterScoped = append(clusterScoped, o)
		}
	}
	for _, o := range clusterScoped {
		if err := r.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
	}
	controllerutil.RemoveFinalizer(m, MetalLBFinalizer)
	if err := r.Update(ctx, m); err != nil {
		return fmt.Errorf("removing the finalizer of MetalLB %s: %w", client.ObjectKeyFromObject(m), err)
	}
	ctrl.LoggerFrom(ctx).Info("Deleted the cluster-scoped operands", "count", len(clusterScoped))
	return nil
}

// SetupWithManager watches MetalLB resources, the operands (namespaced ones by owner, cluster-scoped ones and
// the speaker Pods by label), the Nodes, the ServiceMonitor CRD and the migration's sources: a deleted or
// edited operand is repaired at once, and the status follows the rollout without polling.
func (r *MetalLBReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Discovery == nil {
		d, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
		if err != nil {
			return fmt.Errorf("creating the discovery client: %w", err)
		}
		r.Discovery = d
	}
	// Everything maps to the one resource the operator deploys from.
	toInstance := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if l := o.GetLabels(); l != nil && l[labelManagedBy] == managedBy && l[labelInstance] != "" {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.Settings.Namespace, Name: l[labelInstance]}}}
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.Settings.Namespace, Name: MetalLBName}}}
	})
	nodeChanged := predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld.(*corev1.Node), e.ObjectNew.(*corev1.Node)
			return !equality.Semantic.DeepEqual(o.Labels, n.Labels) || !equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) ||
				o.Annotations[k3sNodeArgs] != n.Annotations[k3sNodeArgs]
		},
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("metallb").
		For(&metallbv1beta1.MetalLB{}).
		Owns(&appsv1.Deployment{}).
		Owns(&appsv1.DaemonSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&corev1.Secret{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&rbacv1.ClusterRole{}, toInstance).
		Watches(&rbacv1.ClusterRoleBinding{}, toInstance).
		Watches(&admissionregistrationv1.ValidatingWebhookConfiguration{}, toInstance).
		Watches(&corev1.Pod{}, toInstance).
		Watches(&corev1.Node{}, toInstance, builder.WithPredicates(nodeChanged)).
		WatchesMetadata(crdMetadata(), toInstance)
	return watchMigrationSources(b, toInstance).Complete(r)
}
