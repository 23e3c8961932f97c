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

// Package webhook serves ferrolb's admission webhooks, MetalLB's paths and names, and BGPPeer's conversion
// webhook, and provides their certificate.
//
// It decides nothing about configurations: every handler decodes the object, places it in the configuration
// of ferrolb's namespace (read with the manager's uncached API reader), asks internal/config.Parse and turns
// its field errors into the response. A change is refused when it adds a problem to the configuration, in the
// object itself or in another object it conflicts with; problems already there do not refuse unrelated
// changes, so a broken configuration never blocks every apply. References to objects that do not exist yet
// are accepted, so objects may be applied in any order. Refusals are Invalid (422) statuses whose causes carry
// the field paths and MetalLB's messages. Two rules are the webhooks' own, with MetalLB's messages: objects are
// created in ferrolb's namespace only, and a BFDProfile a BGPPeer uses cannot be deleted.
//
// The package may import controller-runtime, client-go and cert-controller; internal/config must not import
// it, and it must not hold a rule of its own beyond the two above.
//
// # Wiring in the controller binary
//
// The controller's flags map to the options as follows (MetalLB's flags and defaults):
//
//	--webhook-mode=enabled|disabled|onlywebhook   enabled: reconcilers and webhooks; disabled: no webhooks,
//	                                              no certificates; onlywebhook: webhooks only, no reconcilers
//	--disable-cert-rotation                       CertOptions.Disabled (certificates from OLM or elsewhere)
//	--cert-dir                                    CertOptions.CertDir and the webhook server's CertDir
//	                                              (default DefaultCertDir)
//	--webhook-secret                              CertOptions.SecretName (default DefaultSecretName)
//	--cert-service-name                           CertOptions.ServiceName (default DefaultServiceName)
//	--namespace / METALLB_NAMESPACE               CertOptions.Namespace and Options.Namespace
//
// cmd/controller/webhook.go does this; with mode enabled or onlywebhook it amounts to:
//
//	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
//		Scheme: scheme, // with clientgoscheme, api/v1beta1 and api/v1beta2
//		WebhookServer: webhook.NewServer(webhook.Options{Port: 9443, CertDir: certDir, TLSOpts: tlsOpts}), // TLS 1.3, no HTTP/2
//		...
//	})
//	certsReady, err := ferrolbwebhook.SetupCertificates(mgr, ferrolbwebhook.CertOptions{
//		Namespace: namespace, SecretName: webhookSecret, ServiceName: certServiceName,
//		CertDir: certDir, Disabled: disableCertRotation,
//	})
//	ready, err := ferrolbwebhook.Register(mgr, ferrolbwebhook.Options{Namespace: namespace, CertsReady: certsReady})
//	err = mgr.AddReadyzCheck("webhook", ready)
//
// Do not call mgr.GetWebhookServer before the certificates are ready (for instance for a health check, or
// through ctrl.NewWebhookManagedBy): that starts the webhook server, which fails without its certificate.
// Register starts it once SetupCertificates' channel is closed. The readiness check keeps the Pod out of the
// webhook Service's endpoints until the webhooks answer: an apply racing the install gets "no endpoints
// available" (kubectl wait --for=condition=Ready on the Pod avoids it) rather than a TLS error, and never a
// half-started server. In onlywebhook mode the binary registers no reconciler, so that an install validates
// IPAddressPools and the like before any MetalLB resource exists (reference metallb-operator §3.2).
//
// The Deployment mounts nothing for the certificate with rotation: a writable --cert-dir (an emptyDir, which a
// readOnlyRootFilesystem needs at the default path under /tmp) gets the certificate within a second of its
// creation. Mounting the Secret there works
// too (MetalLB's manifests do), but the kubelet takes up to a minute to copy it. With
// --disable-cert-rotation, OLM mounts its certificate into --cert-dir.
//
// The RBAC the webhooks and the rotator need is in this package's +kubebuilder:rbac markers.
//
// Like every admission webhook, two objects admitted at the same moment are each judged without the other:
// two overlapping pools created concurrently can both be admitted. The controller and the speakers validate
// the whole configuration again and report such a conflict in ConfigurationState.
package webhook
