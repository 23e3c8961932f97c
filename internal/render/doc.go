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

// Package render decides what the operator deploys for a MetalLB resource: the controller Deployment, the
// speaker DaemonSet, their ServiceAccounts and least-privilege RBAC, the memberlist Secret, the webhook
// Service and ValidatingWebhookConfiguration, the metrics Services and, when asked, the ServiceMonitors.
//
// Render turns a MetalLB resource and the operator's Settings (from its environment, SettingsFromEnv) into
// typed objects with their apiVersion and kind set, ready to be applied server-side; Objects.All lists them in
// apply order. Every spec field reaches the pods it is about (reference metallb-operator §1.2, §2.4):
// nodeSelector and speakerTolerations (after the control-plane defaults) the speaker, controllerNodeSelector
// and controllerTolerations the controller, controllerConfig and speakerConfig (priority and runtime class,
// affinity, pod annotations, main-container resources) their pods, logLevel and loadBalancerClass both
// binaries' flags, ignoreExcludeLB the speaker's. bgpBackend must be native or empty: ferrolb embeds its own
// BGP speaker (GoBGP), so MetalLB's FRR backends are refused. image and frrk8sConfig are accepted and ignored.
// Validate holds the rules; Render refuses an invalid resource with an *InvalidError naming the fields.
//
// What it leaves to the reconciler: owner references (only namespaced objects may have the namespaced MetalLB
// resource as owner; the cluster-scoped ones, Objects.ClusterScoped, must be deleted by a finalizer), the
// field manager, reading the current memberlist key (WithMemberlistKey: a key is generated only when there is
// none, and a change of key rolls the speakers, never leaving running speakers with a stale key) and whether
// the ServiceMonitor CRD exists (WithServiceMonitors).
//
// The webhook Service and the ValidatingWebhookConfiguration are rendered (WithWebhooks, on by default), the
// configuration without a CA bundle: the controller serves the webhooks with a certificate of its own
// (internal/webhook, cert-controller), whose rotator injects the bundle into that configuration and into the
// BGPPeer CRD under its own field manager; an apply that never names caBundle leaves it alone.
//
// The RBAC rules are written here as data, split by binary from the +kubebuilder:rbac markers of controllers/,
// internal/webhook, cmd/controller (the controller) and speaker/, cmd/speaker (the speaker), with the
// namespaced resources the binaries only use in ferrolb's namespace in Roles. Tests check them, in both
// directions, against config/rbac/role.yaml (the union of the markers) and against each binary's own markers.
//
// The package is pure: it imports the standard library, k8s.io/api, k8s.io/apimachinery and ferrolb's api
// packages only. It must not import client-go, controller-runtime, nor do I/O; randomness comes from the
// io.Reader it is given (crypto/rand by default).
package render
