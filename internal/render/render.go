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

package render

import (
	"crypto/rand"
	"io"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Object is a rendered object: what controller-runtime's client.Object is, without importing it.
type Object interface {
	metav1.Object
	runtime.Object
}

// The operands' names: MetalLB's, so that the Services, dashboards and scripts written for MetalLB find them.
const (
	ControllerName = "controller"
	SpeakerName    = "speaker"
	// MemberlistSecretName is the Secret of the speakers' memberlist key, MetalLB operator's name.
	MemberlistSecretName = "metallb-memberlist"
	// MemberlistSecretKey is the entry of the memberlist key in the Secret (the speaker's SecretKeyFile).
	MemberlistSecretKey = "secretkey"
	// WebhookServiceName and WebhookConfigurationName are MetalLB's names, which the controller's
	// certificate rotator (internal/webhook) and the BGPPeer CRD's conversion stanza use.
	WebhookServiceName       = "metallb-webhook-service"
	WebhookConfigurationName = "metallb-webhook-configuration"
)

// Objects are the desired operands of one MetalLB resource. A nil pointer or an empty slice is an object not
// wanted with these options.
type Objects struct {
	ServiceAccounts     []*corev1.ServiceAccount
	ClusterRoles        []*rbacv1.ClusterRole
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
	// MemberlistSecret holds the speakers' memberlist key.
	MemberlistSecret *corev1.Secret
	// Services are the webhook Service (with webhooks) and the metrics Services.
	Services []*corev1.Service
	// WebhookConfiguration is the ValidatingWebhookConfiguration of ferrolb's kinds, without a CA bundle: the
	// controller's certificate rotator injects it under its own field manager. Nil without webhooks.
	WebhookConfiguration *admissionregistrationv1.ValidatingWebhookConfiguration
	Controller           *appsv1.Deployment
	Speaker              *appsv1.DaemonSet
	// ServiceMonitors are monitoring.coreos.com/v1 ServiceMonitors, with WithServiceMonitors.
	ServiceMonitors []*unstructured.Unstructured
}

// All lists every object in apply order: identities and permissions before the pods that use them, the
// memberlist Secret before the speakers that mount it, the webhook Service and configuration before the
// controller whose certificate rotator injects the CA bundle into them.
func (o *Objects) All() []Object {
	var all []Object
	for _, x := range o.ServiceAccounts {
		all = append(all, x)
	}
	for _, x := range o.ClusterRoles {
		all = append(all, x)
	}
	for _, x := range o.ClusterRoleBindings {
		all = append(all, x)
	}
	for _, x := range o.Roles {
		all = append(all, x)
	}
	for _, x := range o.RoleBindings {
		all = append(all, x)
	}
	if o.MemberlistSecret != nil {
		all = append(all, o.MemberlistSecret)
	}
	for _, x := range o.Services {
		all = append(all, x)
	}
	if o.WebhookConfiguration != nil {
		all = append(all, o.WebhookConfiguration)
	}
	if o.Controller != nil {
		all = append(all, o.Controller)
	}
	if o.Speaker != nil {
		all = append(all, o.Speaker)
	}
	for _, x := range o.ServiceMonitors {
		all = append(all, x)
	}
	return all
}

// ClusterScoped lists the cluster-scoped objects of All, in the same order. They cannot have the namespaced
// MetalLB resource as owner (the garbage collector would delete them at once), so the reconciler deletes
// them itself when the resource goes away.
func (o *Objects) ClusterScoped() []Object {
	var cs []Object
	for _, x := range o.All() {
		if x.GetNamespace() == "" {
			cs = append(cs, x)
		}
	}
	return cs
}

// Option changes what Render produces.
type Option func(*options)

type options struct {
	memberlistKey   []byte
	random          io.Reader
	serviceMonitors bool
	webhooks        bool
}

// WithMemberlistKey gives the current memberlist key, the MemberlistSecretKey entry of the Secret in the
// cluster. Render keeps it; without it (or with an empty one) Render generates a key. The reconciler must
// pass the existing key on every reconcile: speakers with different keys cannot talk to each other.
func WithMemberlistKey(key []byte) Option {
	return func(o *options) { o.memberlistKey = key }
}

// WithRandom sets the source of a generated memberlist key; crypto/rand's Reader by default. For tests.
func WithRandom(r io.Reader) Option {
	return func(o *options) { o.random = r }
}

// WithServiceMonitors renders a ServiceMonitor for each metrics Service, and a ClusterRole allowed to read
// the metrics, for a Prometheus to be bound to. Only when the ServiceMonitor CRD exists.
func WithServiceMonitors(enabled bool) Option {
	return func(o *options) { o.serviceMonitors = enabled }
}

// WithWebhooks makes the controller serve ferrolb's validating and conversion webhooks, with its own
// certificate, and renders their Service and configuration; on by default. Off, the controller runs with
// --webhook-mode=disabled and gets no permissions for certificates.
func WithWebhooks(enabled bool) Option {
	return func(o *options) { o.webhooks = enabled }
}

// Render computes the operands of the MetalLB resource m. It returns an *InvalidError when the resource
// cannot be deployed (Validate), and an error when the settings are incomplete or no key can be generated.
// It never modifies m, and the objects share no memory with it.
func Render(m *v1beta1.MetalLB, s Settings, opts ...Option) (*Objects, error) {
	o := options{random: rand.Reader, webhooks: true}
	for _, opt := range opts {
		opt(&o)
	}
	if err := s.complete(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	if errs := Validate(m); len(errs) > 0 {
		return nil, &InvalidError{Errors: errs}
	}
	key := o.memberlistKey
	if len(key) == 0 {
		var err error
		if key, err = newMemberlistKey(o.random); err != nil {
			return nil, err
		}
	}
	r := renderer{m: m, s: s, o: o}
	objs := &Objects{
		ServiceAccounts:  []*corev1.ServiceAccount{r.serviceAccount(ControllerName), r.serviceAccount(SpeakerName)},
		MemberlistSecret: r.memberlistSecret(key),
		Controller:       r.controller(),
		Speaker:          r.speaker(key),
	}
	r.rbac(objs)
	objs.Services = r.services()
	if o.webhooks {
		objs.WebhookConfiguration = r.webhookConfiguration()
	}
	if o.serviceMonitors {
		objs.ServiceMonitors = r.serviceMonitors()
		objs.ClusterRoles = append(objs.ClusterRoles, r.metricsReader())
	}
	return objs, nil
}

// renderer holds what every object is rendered from.
type renderer struct {
	m *v1beta1.MetalLB
	s Settings
	o options
}

// Label keys.
const (
	// LabelApp and LabelComponent are MetalLB's pod labels, the workloads' selectors (immutable, so they stay
	// MetalLB's to take over its objects) and the speakers' memberlist discovery labels.
	LabelApp       = "app"
	LabelComponent = "component"
	// LabelNamespace is on the cluster-scoped operands: the namespace of the operator that deployed them.
	LabelNamespace = "ferrolb.io/namespace"
	// AppMetalLB is the value of LabelApp.
	AppMetalLB = "metallb"
	// AnnotationMemberlistKeyHash is on the speakers' pod template: a digest of the memberlist key, so that a
	// new key rolls the speakers (each reads it once, at start).
	AnnotationMemberlistKeyHash = "ferrolb.io/memberlist-key-hash"
	defaultContainerAnnotation  = "kubectl.kubernetes.io/default-container"
)

// selector is the workload selector of a component, MetalLB's.
func selector(component string) map[string]string {
	return map[string]string{LabelApp: AppMetalLB, LabelComponent: component}
}

// labels are the labels of every object of a component: MetalLB's and the recommended ones.
func (r renderer) labels(component string) map[string]string {
	l := selector(component)
	l["app.kubernetes.io/name"] = "ferrolb"
	l["app.kubernetes.io/component"] = component
	l["app.kubernetes.io/part-of"] = "ferrolb"
	l["app.kubernetes.io/managed-by"] = "ferrolb-operator"
	if r.m.Name != "" {
		l["app.kubernetes.io/instance"] = r.m.Name
	}
	return l
}

// meta is the metadata of a namespaced object of a component.
func (r renderer) meta(name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: r.s.Namespace, Labels: r.labels(component)}
}

// clusterMeta is the metadata of a cluster-scoped object of a component. LabelNamespace says which
// operator's namespace it belongs to, so that an operator never prunes another namespace's objects.
func (r renderer) clusterMeta(name, component string) metav1.ObjectMeta {
	l := r.labels(component)
	l[LabelNamespace] = r.s.Namespace
	return metav1.ObjectMeta{Name: name, Labels: l}
}

func (r renderer) serviceAccount(component string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: r.meta(component, component),
	}
}

// logLevel is spec.logLevel or its default.
func (r renderer) logLevel() string {
	if r.m.Spec.LogLevel == "" {
		return DefaultLogLevel
	}
	return r.m.Spec.LogLevel
}

func ptrTo[T any](v T) *T { return &v }
