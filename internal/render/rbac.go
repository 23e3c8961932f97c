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
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The RBAC of the operands, one ClusterRole and one Role per binary, split from the +kubebuilder:rbac markers
// that config/rbac/role.yaml is the union of (TestRBACCoversMarkers keeps them in step). A rule is in the
// Role, for ferrolb's namespace only, when the binary uses the resource in that namespace only: its caches of
// pods, Secrets and ferrolb's kinds are restricted to the namespace (cmd/*/main.go cache.Options.ByObject),
// its direct reads name it, and ferrolb's kinds are only valid there (the webhooks refuse them elsewhere).
// Services, Nodes, Namespaces, EndpointSlices and Events are everywhere, so in the ClusterRole.

var (
	coreGroup       = []string{""}
	metallbGroup    = []string{"metallb.io"}
	readVerbs       = []string{"get", "list", "watch"}
	statusVerbs     = []string{"get", "patch", "update"}
	eventVerbs      = []string{"create", "patch"}
	reviewVerbs     = []string{"create"}
	writeVerbs      = []string{"create", "get", "list", "patch", "update", "watch"}
	metricsAuthRBAC = []rbacv1.PolicyRule{
		// The metrics filter (internal/metricsauth; --metrics-secure, on by default in both binaries) checks the
		// scraper's token and its permission to get /metrics.
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: reviewVerbs},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: reviewVerbs},
	}
)

// controllerClusterRules: controllers/ (Services, their status and Events anywhere; Namespaces for the
// pools' namespace selectors), cmd/controller (metrics) and, with webhooks, internal/webhook (Nodes for the
// configuration's node selectors; the CA bundle of the webhook configuration and the BGPPeer CRD, updated by
// name only).
func controllerClusterRules(webhooks bool) []rbacv1.PolicyRule {
	core := []string{"namespaces", "services"}
	if webhooks {
		core = []string{"namespaces", "nodes", "services"}
	}
	rules := []rbacv1.PolicyRule{
		{APIGroups: coreGroup, Resources: core, Verbs: readVerbs},
		{APIGroups: coreGroup, Resources: []string{"services/status"}, Verbs: statusVerbs},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: eventVerbs},
	}
	rules = append(rules, metricsAuthRBAC...)
	if webhooks {
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{"admissionregistration.k8s.io"},
				Resources: []string{"validatingwebhookconfigurations"}, Verbs: readVerbs},
			rbacv1.PolicyRule{APIGroups: []string{"admissionregistration.k8s.io"},
				Resources: []string{"validatingwebhookconfigurations"}, ResourceNames: []string{WebhookConfigurationName},
				Verbs: []string{"update"}},
			rbacv1.PolicyRule{APIGroups: []string{"apiextensions.k8s.io"},
				Resources: []string{"customresourcedefinitions"}, Verbs: readVerbs},
			rbacv1.PolicyRule{APIGroups: []string{"apiextensions.k8s.io"},
				Resources: []string{"customresourcedefinitions"}, ResourceNames: []string{"bgppeers.metallb.io"},
				Verbs: []string{"update"}},
		)
	}
	return rules
}

// controllerNamespaceRules: its own Pod (the owner of its ConfigurationState), the pools and communities it
// allocates from, the status it writes; with webhooks, every kind the webhooks validate against and the
// certificate's Secret.
func controllerNamespaceRules(webhooks bool) []rbacv1.PolicyRule {
	read := []string{"communities", "ipaddresspools"}
	if webhooks {
		read = []string{"bfdprofiles", "bgpadvertisements", "bgppeers", "communities", "ipaddresspools", "l2advertisements"}
	}
	rules := []rbacv1.PolicyRule{
		{APIGroups: coreGroup, Resources: []string{"pods"}, Verbs: []string{"get"}},
	}
	if webhooks {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: coreGroup, Resources: []string{"secrets"},
			Verbs: []string{"create", "get", "list", "update", "watch"}})
	}
	return append(rules,
		rbacv1.PolicyRule{APIGroups: metallbGroup, Resources: read, Verbs: readVerbs},
		rbacv1.PolicyRule{APIGroups: metallbGroup, Resources: []string{"configurationstates"}, Verbs: writeVerbs},
		rbacv1.PolicyRule{APIGroups: metallbGroup, Resources: []string{"configurationstates/status", "ipaddresspools/status"},
			Verbs: statusVerbs},
	)
}

// speakerClusterRules: speaker/ (the Services it announces, their EndpointSlices, the Nodes and Events) and
// its metrics.
func speakerClusterRules() []rbacv1.PolicyRule {
	rules := []rbacv1.PolicyRule{
		{APIGroups: coreGroup, Resources: []string{"nodes", "services"}, Verbs: readVerbs},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: readVerbs},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: eventVerbs},
	}
	return append(rules, metricsAuthRBAC...)
}

// speakerNamespaceRules: the speaker Pods (memberlist discovery, and its own as owner), the BGP password
// Secrets, the configuration, and the statuses it writes.
func speakerNamespaceRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: coreGroup, Resources: []string{"pods", "secrets"}, Verbs: readVerbs},
		{APIGroups: metallbGroup, Resources: []string{"bfdprofiles", "bgpadvertisements", "bgppeers", "communities",
			"ipaddresspools", "l2advertisements"}, Verbs: readVerbs},
		{APIGroups: metallbGroup, Resources: []string{"configurationstates"}, Verbs: writeVerbs},
		{APIGroups: metallbGroup, Resources: []string{"servicebgpstatuses", "servicel2statuses"},
			Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}},
		{APIGroups: metallbGroup, Resources: []string{"configurationstates/status", "servicebgpstatuses/status", "servicel2statuses/status"},
			Verbs: statusVerbs},
	}
}

// clusterRoleName names a cluster-scoped object after ferrolb's namespace, as MetalLB does
// (metallb-system:controller), so that two installs in two namespaces do not share it.
func (r renderer) clusterRoleName(component string) string {
	return r.s.Namespace + ":" + component
}

func (r renderer) rbac(objs *Objects) {
	for _, b := range []struct {
		component      string
		cluster, local []rbacv1.PolicyRule
	}{
		{ControllerName, controllerClusterRules(r.o.webhooks), controllerNamespaceRules(r.o.webhooks)},
		{SpeakerName, speakerClusterRules(), speakerNamespaceRules()},
	} {
		// The rules' slices are shared by the package's variables: the objects get their own copies.
		b.cluster, b.local = copyRules(b.cluster), copyRules(b.local)
		subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: r.s.Namespace, Name: b.component}}
		name := r.clusterRoleName(b.component)
		objs.ClusterRoles = append(objs.ClusterRoles, &rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: r.clusterMeta(name, b.component),
			Rules:      b.cluster,
		})
		objs.ClusterRoleBindings = append(objs.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: r.clusterMeta(name, b.component),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   subjects,
		})
		objs.Roles = append(objs.Roles, &rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: r.meta(b.component, b.component),
			Rules:      b.local,
		})
		objs.RoleBindings = append(objs.RoleBindings, &rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: r.meta(b.component, b.component),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: b.component},
			Subjects:   subjects,
		})
	}
}

func copyRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, len(rules))
	for i := range rules {
		rules[i].DeepCopyInto(&out[i])
	}
	return out
}

// MetricsReaderName is the suffix of the ClusterRole that may read the operands' metrics, rendered with
// WithServiceMonitors for the cluster's Prometheus to be bound to (ferrolb cannot know its ServiceAccount).
const MetricsReaderName = "metrics-reader"

func (r renderer) metricsReader() *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: r.clusterMeta(r.clusterRoleName(MetricsReaderName), "metrics"),
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}
}
