package helm

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestInstallContract checks the chart's defaults against the install contract every install method shares
// (the kustomize install, the OLM bundle): names, labels, commands, arguments, image, ports.
func TestInstallContract(t *testing.T) {
	objs := renderDefaults(t)
	const image = "quay.io/ferrolb/ferrolb:v0.1.0"

	var operator appsv1.Deployment
	convert(t, find(t, objs, "Deployment", namespace, "ferrolb-operator").Object, &operator)
	c := container(t, operator, "manager")
	checkEqual(t, "operator command", []string{"/manager"}, c.Command)
	checkEqual(t, "operator args", []string{"--leader-elect", "--disable-operand-webhooks",
		"--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"}, c.Args)
	checkEqual(t, "operator image", image, c.Image)
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	checkEqual(t, "OPERATOR_NAMESPACE", "metadata.namespace", env["OPERATOR_NAMESPACE"].ValueFrom.FieldRef.FieldPath)
	checkEqual(t, "CONTROLLER_IMAGE", image, env["CONTROLLER_IMAGE"].Value)
	checkEqual(t, "SPEAKER_IMAGE", image, env["SPEAKER_IMAGE"].Value)
	checkEqual(t, "operator liveness", "/healthz 8081", probe(c.LivenessProbe))
	checkEqual(t, "operator readiness", "/readyz 8081", probe(c.ReadinessProbe))
	checkEqual(t, "operator replicas", int32(1), *operator.Spec.Replicas)
	checkEqual(t, "operator service account", "ferrolb-operator", operator.Spec.Template.Spec.ServiceAccountName)
	checkHardened(t, operator, c)

	var server appsv1.Deployment
	convert(t, find(t, objs, "Deployment", namespace, "ferrolb-webhook-server").Object, &server)
	c = container(t, server, "webhook-server")
	checkEqual(t, "webhook server command", []string{"/controller"}, c.Command)
	checkEqual(t, "webhook server mode", "--webhook-mode=onlywebhook", c.Args[0])
	checkEqual(t, "webhook server image", image, c.Image)
	checkEqual(t, "webhook server port", int32(9443), c.Ports[0].ContainerPort)
	checkEqual(t, "webhook server service account", "ferrolb-webhook-server", server.Spec.Template.Spec.ServiceAccountName)
	checkHardened(t, server, c)

	var svc corev1.Service
	convert(t, find(t, objs, "Service", namespace, "metallb-webhook-service").Object, &svc)
	checkEqual(t, "webhook Service port", "443 -> 9443", portString(svc.Spec.Ports[0]))
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(server.Spec.Template.Labels)) {
		t.Errorf("the webhook Service's selector %v does not select the webhook server's pods %v", svc.Spec.Selector, server.Spec.Template.Labels)
	}
	if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(operator.Spec.Template.Labels)) {
		t.Errorf("the webhook Service's selector %v selects the operator's pods", svc.Spec.Selector)
	}
	for _, d := range []appsv1.Deployment{operator, server} {
		component := strings.TrimPrefix(d.Name, "ferrolb-")
		want := map[string]string{"app.kubernetes.io/name": "ferrolb", "app.kubernetes.io/component": component}
		checkEqual(t, d.Name+" selector", want, d.Spec.Selector.MatchLabels)
	}
}

func container(t *testing.T, d appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("Deployment %s has no container %s", d.Name, name)
	return corev1.Container{}
}

func probe(p *corev1.Probe) string {
	if p == nil || p.HTTPGet == nil {
		return "none"
	}
	return p.HTTPGet.Path + " " + p.HTTPGet.Port.String()
}

func portString(p corev1.ServicePort) string {
	port := intstr.FromInt32(p.Port)
	return port.String() + " -> " + p.TargetPort.String()
}

// checkHardened checks the contract's pod security: non-root, read-only root file system, no capabilities,
// seccomp RuntimeDefault, and the toleration of control-plane nodes.
func checkHardened(t *testing.T, d appsv1.Deployment, c corev1.Container) {
	t.Helper()
	pod := d.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: not runAsNonRoot", d.Name)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccomp profile is not RuntimeDefault", d.Name)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: container %s is not hardened: %+v", d.Name, c.Name, sc)
	}
	tolerates := false
	for _, tol := range pod.Tolerations {
		tolerates = tolerates || (tol.Key == "node-role.kubernetes.io/control-plane" && tol.Operator == corev1.TolerationOpExists)
	}
	if !tolerates {
		t.Errorf("%s: no toleration of control-plane nodes", d.Name)
	}
}

func checkEqual(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// TestWebhookConfigurationLast checks what makes an install with configuration in its values work: Helm creates
// the objects kind by kind in its install order, which puts the ValidatingWebhookConfiguration after the
// metallb.io resources, so that they are not sent to a webhook server that is not running yet (the API server's
// schema and CEL rules still check them; the controller and the speakers validate the whole configuration). If a
// Helm version ever orders them otherwise, this test says so.
func TestWebhookConfigurationLast(t *testing.T) {
	rel, err := render(t, namespace, filepath.Join("testdata", "values", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, o := range objects(t, rel.Manifest) {
		switch {
		case o.GetKind() == "ValidatingWebhookConfiguration":
			seen = true
		case strings.HasPrefix(o.GetAPIVersion(), "metallb.io/") && seen:
			t.Errorf("%s %s comes after the ValidatingWebhookConfiguration in Helm's install order", o.GetKind(), o.GetName())
		}
	}
	if !seen {
		t.Error("no ValidatingWebhookConfiguration rendered")
	}
}
