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

package webhook

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/render"
)

// The MetalLB resource's validating webhook, served by the operator (not by the controller), at MetalLB
// operator's path and name (reference metallb-operator §3.1).
const (
	PathMetalLB = "/validate-metallb-io-v1beta1-metallb"
	NameMetalLB = "metallbvalidationwebhook.metallb.io"
)

// The operator's webhook configuration is not generated from a +kubebuilder:webhook marker: controller-gen
// writes every marker into the one configuration of config/webhook, which is the controller's (rendered by
// internal/render, TestWebhooksMatchManifests), and the MetalLB webhook is served by another binary behind
// another Service. MetalLBWebhook describes it for the operator's manifests and for tests.

// MetalLBWebhook is the operator's validating webhook for MetalLB resources, behind the Service
// namespace/service (without a CA bundle: whoever provides the certificate injects it).
func MetalLBWebhook(namespace, service string) admissionregistrationv1.ValidatingWebhook {
	path := PathMetalLB
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	return admissionregistrationv1.ValidatingWebhook{
		Name: NameMetalLB,
		ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Namespace: namespace, Name: service, Path: &path}},
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{v1beta1.GroupVersion.Group},
				APIVersions: []string{v1beta1.GroupVersion.Version}, Resources: []string{"metallbs"}},
		}},
		FailurePolicy:           &fail,
		SideEffects:             &none,
		AdmissionReviewVersions: []string{"v1"},
	}
}

// ValidateMetalLB is the webhook's verdict on a MetalLB resource: render.Validate's field errors as an Invalid
// (422) status naming the fields, or nil. The reconciler applies the same rules (render.Render), so a resource
// admitted before a rule existed is reported in its status rather than deployed half-way.
func ValidateMetalLB(m *v1beta1.MetalLB) error {
	errs := render.Validate(m)
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: v1beta1.GroupVersion.Group, Kind: "MetalLB"}, m.Name, errs)
}

// metallbValidator validates MetalLB resources on create and update; deletion is always allowed.
type metallbValidator struct{}

var _ admission.Validator[*v1beta1.MetalLB] = metallbValidator{}

func (metallbValidator) ValidateCreate(_ context.Context, m *v1beta1.MetalLB) (admission.Warnings, error) {
	return warnings(m), ValidateMetalLB(m)
}

func (metallbValidator) ValidateUpdate(_ context.Context, _, m *v1beta1.MetalLB) (admission.Warnings, error) {
	return warnings(m), ValidateMetalLB(m)
}

func (metallbValidator) ValidateDelete(context.Context, *v1beta1.MetalLB) (admission.Warnings, error) {
	return nil, nil
}

// warnings name the accepted fields that have no effect in ferrolb.
func warnings(m *v1beta1.MetalLB) admission.Warnings {
	var w admission.Warnings
	if m.Spec.MetalLBImage != "" {
		w = append(w, "spec.image is deprecated and has no effect: the operand images come from the operator's environment")
	}
	if m.Spec.FRRK8SConfig != nil {
		w = append(w, "spec.frrk8sConfig has no effect: ferrolb runs no frr-k8s")
	}
	return w
}

// RegisterMetalLB serves the MetalLB resource's validating webhook on the manager's webhook server once
// certsReady is closed (nil: at once), and returns the readiness check to add with mgr.AddReadyzCheck. As
// with Register, the caller must not start the webhook server before the certificates are ready.
func RegisterMetalLB(mgr ctrl.Manager, certsReady <-chan struct{}) (healthz.Checker, error) {
	if _, _, err := mgr.GetScheme().ObjectKinds(&v1beta1.MetalLB{}); err != nil {
		return nil, fmt.Errorf("registering the MetalLB webhook: %w", err)
	}
	hook := admission.WithValidator[*v1beta1.MetalLB](mgr.GetScheme(), metallbValidator{})
	s := &serving{certsReady: certsReady}
	register := func(ctx context.Context) error {
		if !waitClosed(ctx, certsReady) {
			return nil
		}
		srv := mgr.GetWebhookServer()
		srv.Register(PathMetalLB, hook)
		s.server.Store(&srv)
		ctrl.Log.WithName("webhook").Info("Serving the MetalLB webhook", "path", PathMetalLB)
		return nil
	}
	if err := mgr.Add(runnable(register)); err != nil {
		return nil, fmt.Errorf("registering the MetalLB webhook: %w", err)
	}
	return s.check, nil
}
