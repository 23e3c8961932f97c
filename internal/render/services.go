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
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// monitorServiceName is the metrics Service of a component, MetalLB's name.
func monitorServiceName(component string) string { return component + "-monitor-service" }

// monitorLabel marks the metrics Services, so that a ServiceMonitor selects them and not the webhook Service
// in front of the same pods (MetalLB's label).
const monitorLabel = "name"

// services are the webhook Service (with webhooks) and the headless metrics Services, one endpoint per pod
// for Prometheus to scrape.
func (r renderer) services() []*corev1.Service {
	var svcs []*corev1.Service
	if r.o.webhooks {
		svcs = append(svcs, &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: r.meta(WebhookServiceName, ControllerName),
			Spec: corev1.ServiceSpec{
				Selector: selector(ControllerName),
				Ports: []corev1.ServicePort{{Name: portWebhook, Port: 443, Protocol: corev1.ProtocolTCP,
					TargetPort: intstr.FromString(portWebhook)}},
			},
		})
	}
	for _, m := range []struct {
		component string
		port      int32
	}{{ControllerName, DefaultControllerMetricsPort}, {SpeakerName, DefaultSpeakerMetricsPort}} {
		meta := r.meta(monitorServiceName(m.component), m.component)
		meta.Labels[monitorLabel] = monitorServiceName(m.component)
		svcs = append(svcs, &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: meta,
			Spec: corev1.ServiceSpec{
				ClusterIP: corev1.ClusterIPNone,
				Selector:  selector(m.component),
				Ports: []corev1.ServicePort{{Name: portMetrics, Port: m.port, Protocol: corev1.ProtocolTCP,
					TargetPort: intstr.FromString(portMetrics)}},
			},
		})
	}
	return svcs
}

// webhook is one of ferrolb's validating webhooks, served by the controller. The list mirrors the webhook
// markers of internal/webhook, generated into config/webhook/manifests.yaml (TestWebhooksMatchManifests keeps
// them in step).
type webhook struct {
	name, path, version, resource string
	delete                        bool
}

var webhooks = []webhook{
	{name: "bfdprofilevalidationwebhook.metallb.io", path: "/validate-metallb-io-v1beta1-bfdprofile",
		version: "v1beta1", resource: "bfdprofiles", delete: true},
	{name: "bgpadvertisementvalidationwebhook.metallb.io", path: "/validate-metallb-io-v1beta1-bgpadvertisement",
		version: "v1beta1", resource: "bgpadvertisements"},
	{name: "bgppeersvalidationwebhook.metallb.io", path: "/validate-metallb-io-v1beta2-bgppeer",
		version: "v1beta2", resource: "bgppeers"},
	{name: "communityvalidationwebhook.metallb.io", path: "/validate-metallb-io-v1beta1-community",
		version: "v1beta1", resource: "communities"},
	{name: "ipaddresspoolvalidationwebhook.metallb.io", path: "/validate-metallb-io-v1beta1-ipaddresspool",
		version: "v1beta1", resource: "ipaddresspools"},
	{name: "l2advertisementvalidationwebhook.metallb.io", path: "/validate-metallb-io-v1beta1-l2advertisement",
		version: "v1beta1", resource: "l2advertisements"},
}

// webhookConfiguration is MetalLB's ValidatingWebhookConfiguration, through the webhook Service. It has no
// caBundle: the controller's rotator injects it, under its own field manager, and an apply that does not
// name the field leaves it alone. failurePolicy Fail, as MetalLB's: an unchecked configuration is worse than
// a refused write while the controller starts.
func (r renderer) webhookConfiguration() *admissionregistrationv1.ValidatingWebhookConfiguration {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: r.clusterMeta(WebhookConfigurationName, ControllerName),
	}
	for _, w := range webhooks {
		ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
		if w.delete {
			ops = append(ops, admissionregistrationv1.Delete)
		}
		vwc.Webhooks = append(vwc.Webhooks, admissionregistrationv1.ValidatingWebhook{
			Name: w.name,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: r.s.Namespace, Name: WebhookServiceName, Path: ptrTo(w.path)}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: ops,
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"metallb.io"}, APIVersions: []string{w.version},
					Resources: []string{w.resource}},
			}},
			FailurePolicy:           ptrTo(admissionregistrationv1.Fail),
			SideEffects:             ptrTo(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		})
	}
	return vwc
}

// serviceMonitors scrape the metrics Services over HTTPS with Prometheus' token: the binaries serve metrics
// with authentication and authorization and a self-signed certificate of their own (controller-runtime's),
// hence no certificate verification.
func (r renderer) serviceMonitors() []*unstructured.Unstructured {
	var sms []*unstructured.Unstructured
	for _, component := range []string{ControllerName, SpeakerName} {
		sm := &unstructured.Unstructured{Object: map[string]any{
			"spec": map[string]any{
				"jobLabel": LabelComponent,
				"selector": map[string]any{"matchLabels": map[string]any{
					monitorLabel: monitorServiceName(component),
				}},
				"namespaceSelector": map[string]any{"matchNames": []any{r.s.Namespace}},
				"endpoints": []any{map[string]any{
					"port":            portMetrics,
					"scheme":          "https",
					"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
					"tlsConfig":       map[string]any{"insecureSkipVerify": true},
					"honorLabels":     true,
				}},
			},
		}}
		sm.SetAPIVersion("monitoring.coreos.com/v1")
		sm.SetKind("ServiceMonitor")
		sm.SetNamespace(r.s.Namespace)
		sm.SetName(component + "-monitor")
		sm.SetLabels(r.labels(component))
		sms = append(sms, sm)
	}
	return sms
}
