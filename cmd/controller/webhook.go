package main

import (
	"crypto/tls"
	"flag"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	ferrolbwebhook "github.com/ferrolb/ferrolb/internal/webhook"
)

// The webhook modes of --webhook-mode, MetalLB's.
const (
	webhookModeEnabled  = "enabled"
	webhookModeDisabled = "disabled"
	webhookModeOnly     = "onlywebhook"
)

// webhookOptions are the flags of the admission and conversion webhooks (internal/webhook doc.go).
type webhookOptions struct {
	mode, certDir, secret, serviceName string
	disableCertRotation                bool
	port                               int
}

func addWebhookFlags(o *webhookOptions) {
	flag.StringVar(&o.mode, "webhook-mode", webhookModeEnabled,
		"enabled: allocate addresses and serve the webhooks; disabled: no webhooks; onlywebhook: only serve the webhooks, the MetalLB resource's too.")
	flag.BoolVar(&o.disableCertRotation, "disable-cert-rotation", false,
		"Do not manage the webhook certificate: it is mounted into --cert-dir and the CA bundles are injected by someone else (OLM).")
	flag.StringVar(&o.certDir, "cert-dir", ferrolbwebhook.DefaultCertDir, "The directory of the webhook server's tls.crt and tls.key.")
	flag.StringVar(&o.secret, "webhook-secret", ferrolbwebhook.DefaultSecretName, "The Secret the managed webhook certificate is kept in.")
	flag.StringVar(&o.serviceName, "cert-service-name", ferrolbwebhook.DefaultServiceName, "The Service in front of the webhooks, whose DNS name the certificate is for.")
	flag.IntVar(&o.port, "webhook-port", 9443, "The port the webhook server listens on.")
}

func (o webhookOptions) validate() error {
	switch o.mode {
	case webhookModeEnabled, webhookModeDisabled, webhookModeOnly:
		return nil
	}
	return fmt.Errorf("invalid --webhook-mode %q: must be one of enabled, disabled, onlywebhook", o.mode)
}

// allocates reports whether the controller allocates addresses, which it does unless it only serves the
// webhooks.
func (o webhookOptions) allocates() bool { return o.mode != webhookModeOnly }

// server returns the manager's webhook server: TLS 1.3 and no HTTP/2, as MetalLB's defaults.
func (o webhookOptions) server() webhook.Server {
	return webhook.NewServer(webhook.Options{
		Port:    o.port,
		CertDir: o.certDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS13
			c.NextProtos = []string{"http/1.1"}
		}},
	})
}

// setupWebhooks provides the webhook certificate and serves the webhooks once it is ready; the readiness
// check fails until they answer.
func setupWebhooks(mgr ctrl.Manager, namespace string, o webhookOptions) error {
	if o.mode == webhookModeDisabled {
		return nil
	}
	certsReady, err := ferrolbwebhook.SetupCertificates(mgr, ferrolbwebhook.CertOptions{
		Namespace: namespace, SecretName: o.secret, ServiceName: o.serviceName,
		CertDir: o.certDir, Disabled: o.disableCertRotation,
	})
	if err != nil {
		return err
	}
	ready, err := ferrolbwebhook.Register(mgr, ferrolbwebhook.Options{Namespace: namespace, CertsReady: certsReady})
	if err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", ready); err != nil {
		return fmt.Errorf("adding the webhook readiness check: %w", err)
	}
	if o.mode != webhookModeOnly {
		return nil
	}
	// The webhook-only server of an install (config/webhook-server) also validates the MetalLB resource, so
	// that one server, one Service and one certificate serve every webhook of ferrolb.
	ready, err = ferrolbwebhook.RegisterMetalLB(mgr, certsReady)
	if err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("metallb-webhook", ready); err != nil {
		return fmt.Errorf("adding the MetalLB webhook readiness check: %w", err)
	}
	return nil
}
