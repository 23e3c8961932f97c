package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/render"
)

// The package's name and the namespace config/default installs into (the operator's, under OLM whatever
// namespace the user picks; Roles elsewhere cannot be expressed in a CSV).
const (
	packageName      = "ferrolb"
	installNamespace = "metallb-system"
)

type bundleOptions struct {
	image, version, channels, defaultChannel string
}

// bundleFiles are the files of the bundle directory by path, and the bundle image's Dockerfile.
type bundleFiles struct {
	files      map[string][]byte
	dockerfile []byte
}

// inputs are the objects of config/manifests by role.
type inputs struct {
	csv             *operatorsv1alpha1.ClusterServiceVersion
	crds            []*apiextensionsv1.CustomResourceDefinition
	crdObjects      []*unstructured.Unstructured // the CRDs as kustomize built them, written as they are
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	clusterRoles    map[string]*rbacv1.ClusterRole
	roles           map[string]*rbacv1.Role // by namespace/name
	clusterBindings []*rbacv1.ClusterRoleBinding
	bindings        []*rbacv1.RoleBinding
	webhooks        []*admissionregistrationv1.ValidatingWebhookConfiguration
	samples         []*unstructured.Unstructured
	scorecard       *unstructured.Unstructured
}

// generateBundle turns the kustomize build of config/manifests into the bundle's files, as
// `operator-sdk generate bundle` does: the CSV absorbs the Deployments, the RBAC (by ServiceAccount) and the
// webhook configuration; the CRDs are written as they are; the samples become alm-examples.
func generateBundle(objs []*unstructured.Unstructured, o bundleOptions) (*bundleFiles, error) {
	in, err := sortInputs(objs)
	if err != nil {
		return nil, err
	}
	version, err := semver.Parse(o.version)
	if err != nil {
		return nil, fmt.Errorf("bundle version %q: %w", o.version, err)
	}
	csv := in.csv
	csv.Name = packageName + ".v" + version.String()
	csv.Namespace = ""
	csv.Spec.Version.Version = version
	csv.Annotations["containerImage"] = o.image
	examples, err := json.MarshalIndent(in.samplesJSON(), "", "  ")
	if err != nil {
		return nil, err
	}
	csv.Annotations["alm-examples"] = string(examples)
	csv.Spec.RelatedImages = []operatorsv1alpha1.RelatedImage{{Name: packageName, Image: o.image}}
	csv.Spec.CustomResourceDefinitions.Owned = in.ownedCRDs()
	if csv.Spec.InstallStrategy.StrategySpec, err = in.installStrategy(o.image); err != nil {
		return nil, err
	}
	if csv.Spec.WebhookDefinitions, err = in.webhookDefinitions(); err != nil {
		return nil, err
	}

	files := map[string][]byte{}
	add := func(name string, obj any) error {
		data, err := manifest(obj)
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		files[name] = data
		return nil
	}
	if err := add("manifests/"+packageName+".clusterserviceversion.yaml", csv); err != nil {
		return nil, err
	}
	for i, crd := range in.crds {
		if err := add(fmt.Sprintf("manifests/%s_%s.yaml", crd.Spec.Group, crd.Spec.Names.Plural), in.crdObjects[i].Object); err != nil {
			return nil, err
		}
	}
	if err := add("tests/scorecard/config.yaml", in.scorecard.Object); err != nil {
		return nil, err
	}
	annotations := bundleAnnotations(o)
	if err := add("metadata/annotations.yaml", map[string]any{"annotations": annotations}); err != nil {
		return nil, err
	}
	return &bundleFiles{files: files, dockerfile: dockerfile(annotations)}, nil
}

// sortInputs sorts the objects by kind, and refuses a kind the bundle has no place for.
func sortInputs(objs []*unstructured.Unstructured) (*inputs, error) {
	in := &inputs{clusterRoles: map[string]*rbacv1.ClusterRole{}, roles: map[string]*rbacv1.Role{}}
	for _, u := range objs {
		var err error
		switch gvk := u.GroupVersionKind(); {
		case gvk.Kind == "ClusterServiceVersion":
			in.csv = &operatorsv1alpha1.ClusterServiceVersion{}
			err = convert(u, in.csv)
		case gvk.Kind == "CustomResourceDefinition":
			crd := &apiextensionsv1.CustomResourceDefinition{}
			err = convert(u, crd)
			in.crds, in.crdObjects = append(in.crds, crd), append(in.crdObjects, u)
		case gvk.Kind == "Deployment":
			d := &appsv1.Deployment{}
			err = convert(u, d)
			in.deployments = append(in.deployments, d)
		case gvk.Kind == "Service":
			s := &corev1.Service{}
			err = convert(u, s)
			in.services = append(in.services, s)
		case gvk.Kind == "ClusterRole":
			r := &rbacv1.ClusterRole{}
			err = convert(u, r)
			in.clusterRoles[r.Name] = r
		case gvk.Kind == "Role":
			r := &rbacv1.Role{}
			err = convert(u, r)
			in.roles[r.Namespace+"/"+r.Name] = r
		case gvk.Kind == "ClusterRoleBinding":
			b := &rbacv1.ClusterRoleBinding{}
			err = convert(u, b)
			in.clusterBindings = append(in.clusterBindings, b)
		case gvk.Kind == "RoleBinding":
			b := &rbacv1.RoleBinding{}
			err = convert(u, b)
			in.bindings = append(in.bindings, b)
		case gvk.Kind == "ValidatingWebhookConfiguration":
			w := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			err = convert(u, w)
			in.webhooks = append(in.webhooks, w)
		case gvk.Group == v1beta1.GroupVersion.Group:
			in.samples = append(in.samples, u)
		case gvk.Kind == "Configuration" && gvk.Group == "scorecard.operatorframework.io":
			in.scorecard = u
		case gvk.Kind == "Namespace", gvk.Kind == "ServiceAccount":
			// OLM installs into the namespace the user picks, and creates the ServiceAccounts of the permissions.
		default:
			return nil, fmt.Errorf("%s %s: no place for this kind in the bundle", gvk.Kind, u.GetName())
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	if in.csv == nil || in.scorecard == nil {
		return nil, fmt.Errorf("config/manifests holds no ClusterServiceVersion base or no scorecard configuration")
	}
	return in, nil
}

// manifest is the YAML of obj without the empty fields its Go type adds (status, creationTimestamp: null),
// which OLM and the API server fill in.
func manifest(obj any) ([]byte, error) {
	m, ok := obj.(map[string]any)
	if !ok {
		var err error
		if m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err != nil {
			return nil, err
		}
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	deployments, _, _ := unstructured.NestedSlice(m, "spec", "install", "spec", "deployments")
	for _, d := range deployments {
		unstructured.RemoveNestedField(d.(map[string]any), "spec", "template", "metadata", "creationTimestamp")
	}
	if deployments != nil {
		if err := unstructured.SetNestedSlice(m, deployments, "spec", "install", "spec", "deployments"); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(m)
}

func convert(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true)
}

// samplesJSON are the samples for alm-examples, in metallb-system as MetalLB operator's: the MetalLB
// resource is only deployed in the operator's namespace.
func (in *inputs) samplesJSON() []map[string]any {
	out := make([]map[string]any, 0, len(in.samples))
	for _, s := range in.samples {
		out = append(out, s.Object)
	}
	return out
}

// ownedCRDs lists every served version of every CRD (BGPPeer's v1beta1 and v1beta2), with the display name and
// description of the CSV base where it has one, else the kind and the schema's first sentence.
func (in *inputs) ownedCRDs() []operatorsv1alpha1.CRDDescription {
	base := map[string]operatorsv1alpha1.CRDDescription{}
	for _, d := range in.csv.Spec.CustomResourceDefinitions.Owned {
		base[d.Name+"/"+d.Version] = d
	}
	var owned []operatorsv1alpha1.CRDDescription
	for _, crd := range in.crds {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			d, ok := base[crd.Name+"/"+v.Name]
			if !ok {
				d = operatorsv1alpha1.CRDDescription{Name: crd.Name, Version: v.Name, Kind: crd.Spec.Names.Kind,
					DisplayName: crd.Spec.Names.Kind}
				if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
					d.Description = firstSentence(v.Schema.OpenAPIV3Schema.Description)
				}
			}
			owned = append(owned, d)
		}
	}
	sort.Slice(owned, func(i, j int) bool {
		if owned[i].Name != owned[j].Name {
			return owned[i].Name < owned[j].Name
		}
		return owned[i].Version < owned[j].Version
	})
	return owned
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// installStrategy holds the Deployments, and the rules of every ServiceAccount: the install's (bound in
// config/rbac and config/webhook-server) and the operands' (rendered by the operator itself, internal/render,
// listed so that OLM creates their ServiceAccounts and the operator's grants are visible before install).
func (in *inputs) installStrategy(image string) (operatorsv1alpha1.StrategyDetailsDeployment, error) {
	var s operatorsv1alpha1.StrategyDetailsDeployment
	for _, d := range in.deployments {
		s.DeploymentSpecs = append(s.DeploymentSpecs, operatorsv1alpha1.StrategyDeploymentSpec{
			Name: d.Name, Label: d.Labels, Spec: d.Spec})
	}
	perms := &permissions{cluster: map[string][]rbacv1.PolicyRule{}, local: map[string][]rbacv1.PolicyRule{}}
	for _, b := range in.clusterBindings {
		r, ok := in.clusterRoles[b.RoleRef.Name]
		if !ok {
			return s, fmt.Errorf("ClusterRoleBinding %s: no ClusterRole %s", b.Name, b.RoleRef.Name)
		}
		perms.add(b.Subjects, r.Rules, true)
	}
	for _, b := range in.bindings {
		r, ok := in.roles[b.Namespace+"/"+b.RoleRef.Name]
		if b.RoleRef.Kind != "Role" || !ok {
			return s, fmt.Errorf("RoleBinding %s/%s: no Role %s", b.Namespace, b.Name, b.RoleRef.Name)
		}
		// A CSV's permissions are Roles of the install namespace: the rules of a Role elsewhere (kube-system's,
		// for kube-proxy's ConfigMap) can only be granted cluster-wide, still limited by their resourceNames.
		perms.add(b.Subjects, r.Rules, b.Namespace != installNamespace)
	}
	operands, err := render.Render(&v1beta1.MetalLB{}, render.Settings{Namespace: installNamespace,
		ControllerImage: image, SpeakerImage: image}, render.WithWebhooks(false), render.WithMemberlistKey([]byte("-")))
	if err != nil {
		return s, fmt.Errorf("rendering the operands' RBAC: %w", err)
	}
	for _, b := range operands.ClusterRoleBindings {
		for _, r := range operands.ClusterRoles {
			if r.Name == b.RoleRef.Name {
				perms.add(b.Subjects, r.Rules, true)
			}
		}
	}
	for _, b := range operands.RoleBindings {
		for _, r := range operands.Roles {
			if r.Name == b.RoleRef.Name {
				perms.add(b.Subjects, r.Rules, false)
			}
		}
	}
	s.ClusterPermissions, s.Permissions = perms.list(perms.cluster), perms.list(perms.local)
	return s, nil
}

// permissions are the rules by ServiceAccount.
type permissions struct {
	cluster, local map[string][]rbacv1.PolicyRule
}

func (p *permissions) add(subjects []rbacv1.Subject, rules []rbacv1.PolicyRule, cluster bool) {
	to := p.local
	if cluster {
		to = p.cluster
	}
	for _, sub := range subjects {
		if sub.Kind == rbacv1.ServiceAccountKind {
			to[sub.Name] = append(to[sub.Name], rules...)
		}
	}
}

func (p *permissions) list(m map[string][]rbacv1.PolicyRule) []operatorsv1alpha1.StrategyDeploymentPermissions {
	var out []operatorsv1alpha1.StrategyDeploymentPermissions
	for sa, rules := range m {
		out = append(out, operatorsv1alpha1.StrategyDeploymentPermissions{ServiceAccountName: sa, Rules: rules})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ServiceAccountName < out[j].ServiceAccountName })
	return out
}

// webhookDefinitions are the webhooks of the webhook configuration and the CRDs' conversion webhooks, served
// by the Deployment behind their Service; OLM creates its own Service, certificate and configuration from them.
func (in *inputs) webhookDefinitions() ([]operatorsv1alpha1.WebhookDescription, error) {
	var defs []operatorsv1alpha1.WebhookDescription
	for _, c := range in.webhooks {
		for _, w := range c.Webhooks {
			if w.ClientConfig.Service == nil {
				return nil, fmt.Errorf("webhook %s: no Service", w.Name)
			}
			deployment, port, target, err := in.backend(w.ClientConfig.Service.Name)
			if err != nil {
				return nil, fmt.Errorf("webhook %s: %w", w.Name, err)
			}
			defs = append(defs, operatorsv1alpha1.WebhookDescription{
				GenerateName: w.Name, Type: operatorsv1alpha1.ValidatingAdmissionWebhook,
				DeploymentName: deployment, ContainerPort: port, TargetPort: target,
				Rules: w.Rules, FailurePolicy: w.FailurePolicy, MatchPolicy: w.MatchPolicy,
				ObjectSelector: w.ObjectSelector, SideEffects: w.SideEffects, TimeoutSeconds: w.TimeoutSeconds,
				AdmissionReviewVersions: w.AdmissionReviewVersions, WebhookPath: w.ClientConfig.Service.Path,
			})
		}
	}
	for _, crd := range in.crds {
		conv := crd.Spec.Conversion
		if conv == nil || conv.Strategy != apiextensionsv1.WebhookConverter {
			continue
		}
		if conv.Webhook == nil || conv.Webhook.ClientConfig == nil || conv.Webhook.ClientConfig.Service == nil {
			return nil, fmt.Errorf("CRD %s: conversion webhook without a Service", crd.Name)
		}
		deployment, port, target, err := in.backend(conv.Webhook.ClientConfig.Service.Name)
		if err != nil {
			return nil, fmt.Errorf("CRD %s conversion: %w", crd.Name, err)
		}
		none := admissionregistrationv1.SideEffectClassNone
		defs = append(defs, operatorsv1alpha1.WebhookDescription{
			GenerateName: "c" + crd.Name, Type: operatorsv1alpha1.ConversionWebhook,
			DeploymentName: deployment, ContainerPort: port, TargetPort: target, SideEffects: &none,
			AdmissionReviewVersions: conv.Webhook.ConversionReviewVersions,
			WebhookPath:             conv.Webhook.ClientConfig.Service.Path, ConversionCRDs: []string{crd.Name},
		})
	}
	return defs, nil
}

// backend finds the Deployment whose Pods the Service selects, and the Service's port and target port.
func (in *inputs) backend(service string) (string, int32, *intstr.IntOrString, error) {
	for _, s := range in.services {
		if s.Name != service {
			continue
		}
		if len(s.Spec.Ports) != 1 {
			return "", 0, nil, fmt.Errorf("Service %s has %d ports, want one", service, len(s.Spec.Ports))
		}
		selector := labels.SelectorFromSet(s.Spec.Selector)
		for _, d := range in.deployments {
			if selector.Matches(labels.Set(d.Spec.Template.Labels)) {
				target := s.Spec.Ports[0].TargetPort
				return d.Name, s.Spec.Ports[0].Port, &target, nil
			}
		}
		return "", 0, nil, fmt.Errorf("no Deployment behind Service %s", service)
	}
	return "", 0, nil, fmt.Errorf("no Service %s", service)
}

// bundleAnnotations are metadata/annotations.yaml's, and the bundle image's labels.
func bundleAnnotations(o bundleOptions) map[string]string {
	return map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1":       "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1":       "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":        "metadata/",
		"operators.operatorframework.io.bundle.package.v1":         packageName,
		"operators.operatorframework.io.bundle.channels.v1":        o.channels,
		"operators.operatorframework.io.bundle.channel.default.v1": o.defaultChannel,
		"operators.operatorframework.io.metrics.mediatype.v1":      "metrics+v1",
		"operators.operatorframework.io.metrics.project_layout":    "go.kubebuilder.io/v4",
		"operators.operatorframework.io.test.mediatype.v1":         "scorecard+v1",
		"operators.operatorframework.io.test.config.v1":            "tests/scorecard/",
	}
}

// dockerfile builds the bundle image: the bundle's directories, labelled like annotations.yaml.
func dockerfile(annotations map[string]string) []byte {
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# The OLM bundle image. Generated by `make bundle` (hack/bundle) with bundle/; do not edit.\nFROM scratch\n\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "LABEL %s=%s\n", k, annotations[k])
	}
	b.WriteString("\nCOPY bundle/manifests /manifests/\nCOPY bundle/metadata /metadata/\nCOPY bundle/tests/scorecard /tests/scorecard/\n")
	return []byte(b.String())
}

// writeBundle replaces the bundle directory's manifests, metadata and tests, so that no stale file stays.
func writeBundle(dir, dockerfilePath string, b *bundleFiles) error {
	for _, sub := range []string{"manifests", "metadata", "tests"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(b.files))
	for name := range b.files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeFile(filepath.Join(dir, name), b.files[name]); err != nil {
			return err
		}
	}
	return writeFile(dockerfilePath, b.dockerfile)
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
