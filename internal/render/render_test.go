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
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

func mustRender(t *testing.T, input string, opts ...Option) *Objects {
	t.Helper()
	objs, err := Render(readMetalLB(t, input), testSettings, append([]Option{WithRandom(&counter{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestObjectsApplicable: every object can be applied server-side as it is: apiVersion and kind set, a name,
// ferrolb's namespace unless cluster-scoped, MetalLB's and the recommended labels, one object per identity.
func TestObjectsApplicable(t *testing.T) {
	objs := mustRender(t, "all-fields.yaml", WithServiceMonitors(true))
	seen := map[string]bool{}
	for _, o := range objs.All() {
		gvk := o.GetObjectKind().GroupVersionKind()
		id := gvk.String() + " " + o.GetNamespace() + "/" + o.GetName()
		if gvk.Kind == "" || gvk.Version == "" {
			t.Errorf("%T %s has no apiVersion or kind", o, o.GetName())
		}
		if o.GetName() == "" {
			t.Errorf("%s has no name", id)
		}
		if seen[id] {
			t.Errorf("%s rendered twice", id)
		}
		seen[id] = true
		if ns := o.GetNamespace(); ns != "" && ns != testSettings.Namespace {
			t.Errorf("%s is in namespace %q", id, ns)
		}
		l := o.GetLabels()
		if l[LabelApp] != AppMetalLB || l[LabelComponent] == "" || l["app.kubernetes.io/name"] != "ferrolb" ||
			l["app.kubernetes.io/component"] != l[LabelComponent] {
			t.Errorf("%s labels %v", id, l)
		}
		if len(o.GetOwnerReferences()) > 0 {
			t.Errorf("%s has owner references: the reconciler sets them", id)
		}
	}
	var clusterScoped []string
	for _, o := range objs.ClusterScoped() {
		clusterScoped = append(clusterScoped, o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName())
	}
	want := []string{
		"ClusterRole/metallb-system:controller", "ClusterRole/metallb-system:speaker", "ClusterRole/metallb-system:metrics-reader",
		"ClusterRoleBinding/metallb-system:controller", "ClusterRoleBinding/metallb-system:speaker",
		"ValidatingWebhookConfiguration/metallb-webhook-configuration",
	}
	if diff := cmp.Diff(want, clusterScoped); diff != "" {
		t.Errorf("ClusterScoped (-want +got):\n%s", diff)
	}
}

// TestApplyOrder: what a pod needs is applied before the pod.
func TestApplyOrder(t *testing.T) {
	var kinds []string
	for _, o := range mustRender(t, "empty.yaml", WithServiceMonitors(true)).All() {
		if k := o.GetObjectKind().GroupVersionKind().Kind; len(kinds) == 0 || kinds[len(kinds)-1] != k {
			kinds = append(kinds, k)
		}
	}
	want := []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Secret", "Service",
		"ValidatingWebhookConfiguration", "Deployment", "DaemonSet", "ServiceMonitor"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("apply order (-want +got):\n%s", diff)
	}
}

// TestSelectors: the workloads select their own pods, the Services the pods they front, and the speakers'
// memberlist discovery the speakers only.
func TestSelectors(t *testing.T) {
	objs := mustRender(t, "all-fields.yaml")
	controllerPods := labels.Set(objs.Controller.Spec.Template.Labels)
	speakerPods := labels.Set(objs.Speaker.Spec.Template.Labels)
	if !labels.SelectorFromSet(objs.Controller.Spec.Selector.MatchLabels).Matches(controllerPods) {
		t.Error("the controller Deployment does not select its pods")
	}
	if !labels.SelectorFromSet(objs.Speaker.Spec.Selector.MatchLabels).Matches(speakerPods) {
		t.Error("the speaker DaemonSet does not select its pods")
	}
	if labels.SelectorFromSet(objs.Controller.Spec.Selector.MatchLabels).Matches(speakerPods) {
		t.Error("the controller Deployment selects the speakers")
	}
	var mlLabels string
	for _, e := range objs.Speaker.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "METALLB_ML_LABELS" {
			mlLabels = e.Value
		}
	}
	ml, err := labels.Parse(mlLabels)
	if err != nil {
		t.Fatalf("METALLB_ML_LABELS %q: %v", mlLabels, err)
	}
	if !ml.Matches(speakerPods) || ml.Matches(controllerPods) {
		t.Errorf("METALLB_ML_LABELS %q does not select exactly the speakers", mlLabels)
	}
	for _, svc := range objs.Services {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		want := controllerPods
		if strings.HasPrefix(svc.Name, SpeakerName) {
			want = speakerPods
		}
		if !sel.Matches(want) {
			t.Errorf("Service %s does not select its pods", svc.Name)
		}
	}
}

// TestMemberlistKey: a key is generated only when none is given, a given key is kept byte for byte, and the
// speakers' pod template changes with the key, so that a new key rolls them.
func TestMemberlistKey(t *testing.T) {
	keyOf := func(objs *Objects) []byte { return objs.MemberlistSecret.Data[MemberlistSecretKey] }
	hashOf := func(objs *Objects) string {
		return objs.Speaker.Spec.Template.Annotations[AnnotationMemberlistKeyHash]
	}

	generated := mustRender(t, "empty.yaml")
	raw, err := base64.StdEncoding.DecodeString(string(keyOf(generated)))
	if err != nil {
		t.Fatalf("the generated key is not base64: %v", err)
	}
	if len(raw) != 128 || raw[0] != 0 || raw[127] != 127 {
		t.Errorf("generated key %v is not the random source's first 128 bytes", raw)
	}

	existing := []byte("an existing key, not base64!")
	kept := mustRender(t, "empty.yaml", WithMemberlistKey(existing))
	if !bytes.Equal(keyOf(kept), existing) {
		t.Errorf("key %q, want the existing %q", keyOf(kept), existing)
	}
	again := mustRender(t, "all-fields.yaml", WithMemberlistKey(bytes.Clone(existing)))
	if hashOf(kept) == "" || hashOf(kept) != hashOf(again) {
		t.Errorf("the same key gives the hashes %q and %q", hashOf(kept), hashOf(again))
	}
	if hashOf(kept) == hashOf(generated) {
		t.Error("two keys give the same hash")
	}
	if strings.Contains(hashOf(kept), string(existing)) {
		t.Error("the hash shows the key")
	}
	existing[0] = 'X'
	if keyOf(kept)[0] == 'X' {
		t.Error("the Secret shares its bytes with the given key")
	}

	empty := mustRender(t, "empty.yaml", WithMemberlistKey([]byte{}))
	if len(keyOf(empty)) == 0 {
		t.Error("an empty key is kept: a key must be generated")
	}

	broken := errors.New("no entropy")
	_, err = Render(readMetalLB(t, "empty.yaml"), testSettings, WithRandom(iotest.ErrReader(broken)))
	if !errors.Is(err, broken) {
		t.Errorf("error %v, want the random source's", err)
	}
}

// TestNoAliasing: Render leaves the resource alone, and the objects share no memory with it, so that the
// reconciler may change them (owner references, defaults) freely.
func TestNoAliasing(t *testing.T) {
	m := readMetalLB(t, "all-fields.yaml")
	before := m.DeepCopy()
	objs, err := Render(m, testSettings, WithMemberlistKey([]byte("k")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, m); diff != "" {
		t.Fatalf("Render changed the resource (-before +after):\n%s", diff)
	}
	for _, pod := range []*corev1.PodTemplateSpec{&objs.Controller.Spec.Template, &objs.Speaker.Spec.Template} {
		pod.Annotations["example.com/team"] = "changed"
		pod.Spec.NodeSelector["example.com/changed"] = "true"
		for i := range pod.Spec.Tolerations {
			pod.Spec.Tolerations[i].Key = "changed"
		}
		pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
		pod.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
		pod.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("42")
	}
	if diff := cmp.Diff(before, m); diff != "" {
		t.Errorf("changing the objects changed the resource (-before +after):\n%s", diff)
	}
	// Nor with each other across renders: the package's rules and defaults stay as they are.
	for _, r := range objs.ClusterRoles {
		for i := range r.Rules {
			r.Rules[i].Verbs[0] = "changed"
		}
	}
	objs.Speaker.Spec.Template.Spec.Tolerations[0].Key = "changed"
	again, err := Render(m, testSettings, WithMemberlistKey([]byte("k")))
	if err != nil {
		t.Fatal(err)
	}
	fresh := toYAML(t, again.All())
	if bytes.Contains(fresh, []byte("changed")) {
		t.Error("changing rendered objects changed a later render")
	}
}

// TestWebhooksMatchManifests: the rendered webhook configuration is config/webhook/manifests.yaml, generated
// from internal/webhook's markers, with the names kustomize gives it (config/webhook/kustomization.yaml).
func TestWebhooksMatchManifests(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict(data, want); err != nil {
		t.Fatal(err)
	}
	for i := range want.Webhooks {
		svc := want.Webhooks[i].ClientConfig.Service
		svc.Name, svc.Namespace = WebhookServiceName, testSettings.Namespace
	}
	got := mustRender(t, "empty.yaml").WebhookConfiguration
	byName := func(a, b admissionregistrationv1.ValidatingWebhook) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(want.Webhooks, byName)
	slices.SortFunc(got.Webhooks, byName)
	if diff := cmp.Diff(want.Webhooks, got.Webhooks); diff != "" {
		t.Errorf("webhooks differ from config/webhook/manifests.yaml (-manifests +rendered):\n%s", diff)
	}
	for _, w := range got.Webhooks {
		if len(w.ClientConfig.CABundle) > 0 {
			t.Errorf("webhook %s has a CA bundle: the controller's rotator owns it", w.Name)
		}
	}
	if mustRender(t, "empty.yaml", WithWebhooks(false)).WebhookConfiguration != nil {
		t.Error("a webhook configuration without webhooks")
	}
}
