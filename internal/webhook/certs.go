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
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Defaults of CertOptions, MetalLB's names (reference §3.1), so that MetalLB's manifests work unchanged.
const (
	DefaultSecretName        = "metallb-webhook-cert"
	DefaultServiceName       = "metallb-webhook-service"
	DefaultWebhookConfigName = "metallb-webhook-configuration"
	DefaultCertDir           = "/tmp/k8s-webhook-server/serving-certs"
)

const (
	// bgpPeersCRD is the CRD whose conversion webhook the rotator gives the CA bundle.
	bgpPeersCRD = "bgppeers.metallb.io"
	// caName and caOrganization name the self-signed CA, as MetalLB's.
	caName         = "cert"
	caOrganization = "metallb"
	// fieldOwner owns the caBundle fields the rotator writes, so that a GitOps tool applying the manifests
	// server-side does not take them over (reference field notes: caBundle fights).
	fieldOwner = "ferrolb-cert-rotator"
	// setupTimeout bounds the API calls SetupCertificates makes before the manager starts.
	setupTimeout = 30 * time.Second
	// certFile and keyFile are the files the webhook server reads from its certificate directory.
	certFile = "tls.crt"
	keyFile  = "tls.key"
)

// The rotator keeps the serving certificate in a Secret of ferrolb's namespace and the CA bundle in the
// webhook configuration and the BGPPeer CRD.
//
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=secrets,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=update,resourceNames=metallb-webhook-configuration
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=update,resourceNames=bgppeers.metallb.io

// CertOptions configure the webhook server's certificate.
type CertOptions struct {
	// Namespace is ferrolb's namespace, where the Secret and the Service are.
	Namespace string
	// SecretName is the Secret the certificates are kept in (--webhook-secret); DefaultSecretName if empty.
	SecretName string
	// ServiceName is the Service in front of the webhook server (--cert-service-name), whose DNS name the
	// serving certificate is for; DefaultServiceName if empty.
	ServiceName string
	// WebhookConfigName is the ValidatingWebhookConfiguration that gets the CA bundle;
	// DefaultWebhookConfigName if empty.
	WebhookConfigName string
	// CertDir is where the webhook server reads tls.crt and tls.key (--cert-dir); DefaultCertDir if empty. It
	// must be the manager's webhook server CertDir.
	CertDir string
	// ExtraDNSNames are further names the serving certificate is for, such as "localhost" in tests.
	ExtraDNSNames []string
	// Disabled turns rotation off (--disable-cert-rotation): the certificate and the CA bundles come from
	// elsewhere, such as OLM, which mounts the certificate into CertDir.
	Disabled bool
	// SyncPeriod is how often the Secret is copied to CertDir once the certificates are ready; 10 seconds if
	// zero. A renewed serving certificate is signed by the same CA, so only a new CA (every few years, or
	// after the Secret was wiped) makes the API server refuse the old certificate for up to this long.
	SyncPeriod time.Duration
}

func (o *CertOptions) setDefaults() {
	if o.SecretName == "" {
		o.SecretName = DefaultSecretName
	}
	if o.ServiceName == "" {
		o.ServiceName = DefaultServiceName
	}
	if o.WebhookConfigName == "" {
		o.WebhookConfigName = DefaultWebhookConfigName
	}
	if o.CertDir == "" {
		o.CertDir = DefaultCertDir
	}
	if o.SyncPeriod == 0 {
		o.SyncPeriod = 10 * time.Second
	}
}

// SetupCertificates provides the webhook server's certificate and returns a channel closed once it is in
// CertDir and, with rotation, once the CA bundle is in the webhook configuration and the BGPPeer CRD's
// conversion stanza. Pass the channel to Register as Options.CertsReady.
//
// With rotation (the default), open-policy-agent/cert-controller creates a self-signed CA and a serving
// certificate for <ServiceName>.<Namespace>.svc in the Secret (created here if missing), renews them before
// they expire and injects the CA bundle. The certificate reaches CertDir two ways: if the Secret is mounted
// there, the kubelet copies it (within about a minute); if CertDir is writable, SetupCertificates copies it at
// once, so the webhooks are ready seconds after start and outside a Pod too.
//
// With rotation disabled, the channel is closed once CertDir holds a valid key pair.
func SetupCertificates(mgr ctrl.Manager, opts CertOptions) (<-chan struct{}, error) {
	opts.setDefaults()
	if opts.Disabled {
		return waitForCertFiles(mgr, opts.CertDir)
	}
	if opts.Namespace == "" {
		return nil, errors.New("setting up webhook certificates: no namespace given")
	}
	return rotateCertificates(mgr, opts)
}

// rotateCertificates adds cert-controller's rotator, and the copy of the Secret to CertDir, to the manager.
func rotateCertificates(mgr ctrl.Manager, opts CertOptions) (<-chan struct{}, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	secret := types.NamespacedName{Namespace: opts.Namespace, Name: opts.SecretName}
	if err := ensureSecret(ctx, mgr, secret); err != nil {
		return nil, err
	}
	webhooks := []rotator.WebhookInfo{{Name: opts.WebhookConfigName, Type: rotator.Validating}}
	converts, err := hasConversionWebhook(ctx, mgr.GetAPIReader(), bgpPeersCRD)
	if err != nil {
		return nil, err
	}
	if converts {
		webhooks = append(webhooks, rotator.WebhookInfo{Name: bgpPeersCRD, Type: rotator.CRDConversion})
	} else {
		ctrl.Log.WithName("webhook").Info("CRD has no conversion webhook, not injecting its CA bundle", "crd", bgpPeersCRD)
	}

	rotated := make(chan struct{})
	if err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      secret,
		CertDir:        opts.CertDir,
		CAName:         caName,
		CAOrganization: caOrganization,
		DNSName:        fmt.Sprintf("%s.%s.svc", opts.ServiceName, opts.Namespace),
		ExtraDNSNames:  opts.ExtraDNSNames,
		IsReady:        rotated,
		Webhooks:       webhooks,
		FieldOwner:     fieldOwner,
	}); err != nil {
		return nil, fmt.Errorf("adding the certificate rotator: %w", err)
	}

	ready := make(chan struct{})
	files := &certFiles{reader: mgr.GetAPIReader(), secret: secret, dir: opts.CertDir, period: opts.SyncPeriod}
	if err := mgr.Add(runnable(func(ctx context.Context) error { return files.sync(ctx, rotated, ready) })); err != nil {
		return nil, fmt.Errorf("adding the certificate copy: %w", err)
	}
	return ready, nil
}

// ensureSecret creates the rotator's Secret if it does not exist: the rotator only updates it, and stops the
// manager if it does not find it. MetalLB's manifests ship it empty; this makes the manifests' copy optional.
func ensureSecret(ctx context.Context, mgr ctrl.Manager, key types.NamespacedName) error {
	err := mgr.GetAPIReader().Get(ctx, key, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		if err != nil {
			return fmt.Errorf("reading webhook certificate secret %s: %w", key, err)
		}
		return nil
	}
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return fmt.Errorf("creating a client for secret %s: %w", key, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := c.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating webhook certificate secret %s: %w", key, err)
	}
	return nil
}

// hasConversionWebhook reports whether the CRD converts through a webhook, which then needs the CA bundle.
// The rotator would retry injecting into a CRD without one until it gives up and stops the manager, so an
// install whose CRDs convert without a webhook must not ask it to.
func hasConversionWebhook(ctx context.Context, reader client.Reader, name string) (bool, error) {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := reader.Get(ctx, types.NamespacedName{Name: name}, crd); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading CRD %s: %w", name, err)
	}
	strategy, _, _ := unstructured.NestedString(crd.Object, "spec", "conversion", "strategy")
	_, hasClientConfig, _ := unstructured.NestedMap(crd.Object, "spec", "conversion", "webhook", "clientConfig")
	return strategy == "Webhook" && hasClientConfig, nil
}

// waitForCertFiles returns a channel closed once dir holds a valid key pair, put there by someone else.
func waitForCertFiles(mgr ctrl.Manager, dir string) (<-chan struct{}, error) {
	ready := make(chan struct{})
	wait := func(ctx context.Context) error {
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			if _, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile)); err == nil {
				close(ready)
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-ticker.C:
			}
		}
	}
	if err := mgr.Add(runnable(wait)); err != nil {
		return nil, fmt.Errorf("adding the wait for webhook certificates: %w", err)
	}
	return ready, nil
}
