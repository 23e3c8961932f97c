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

// Command manager is the ferrolb operator: it reconciles the MetalLB resource named metallb in its namespace
// into the controller and speaker operands (controllers.MetalLBReconciler), and can serve the MetalLB
// resource's validating webhook (--enable-webhook). See docs/operator.md.
//
// Its environment (OPERATOR_NAMESPACE, CONTROLLER_IMAGE, SPEAKER_IMAGE required) is read before anything
// else: a missing variable stops it at once with a message naming every problem.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/cli"
	ferrolbwebhook "github.com/ferrolb/ferrolb/internal/webhook"
	// +kubebuilder:scaffold:imports
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(metallbv1beta1.AddToScheme(scheme))
	utilruntime.Must(metallbv1beta2.AddToScheme(scheme))
	// +kubebuilder:scaffold:scheme
}

func main() {
	var metricsAddr, probeAddr string
	var leaderElect, enableWebhook, disableOperandWebhooks bool
	var certDir string
	var webhookPort int
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "The address the metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the health probe endpoint binds to.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Enable leader election, so that only one operator replica is active.")
	flag.BoolVar(&enableWebhook, "enable-webhook", false,
		"Serve the MetalLB resource's validating webhook ("+ferrolbwebhook.PathMetalLB+"), with the certificate mounted into --cert-dir (OLM, cert-manager).")
	flag.StringVar(&certDir, "cert-dir", ferrolbwebhook.DefaultCertDir, "The directory of the webhook server's tls.crt and tls.key.")
	flag.IntVar(&webhookPort, "webhook-port", 9443, "The port the webhook server listens on.")
	flag.BoolVar(&disableOperandWebhooks, "disable-operand-webhooks", false,
		"Run the deployed controller without ferrolb's admission and conversion webhooks.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	cli.SetMemoryLimit(log)

	settings, err := controllers.MetalLBSettingsFromEnv(os.Getenv)
	if err != nil {
		// Fail fast: an operator without its namespace or images cannot deploy anything.
		fmt.Fprintln(os.Stderr, "ferrolb operator:", err)
		os.Exit(1)
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "ferrolb-operator.metallb.io",
		LeaderElectionNamespace: settings.Namespace,
		Cache:                   controllers.MetalLBCacheOptions(settings.Namespace),
		WebhookServer: webhook.NewServer(webhook.Options{
			Port:    webhookPort,
			CertDir: certDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) {
				c.MinVersion = tls.VersionTLS13
				c.NextProtos = []string{"http/1.1"}
			}},
		}),
	})
	if err != nil {
		log.Error(err, "Unable to create manager")
		os.Exit(1)
	}
	if err := (&controllers.MetalLBReconciler{Client: mgr.GetClient(), Settings: settings,
		DisableOperandWebhooks: disableOperandWebhooks}).SetupWithManager(mgr); err != nil {
		log.Error(err, "Unable to set up the MetalLB reconciler")
		os.Exit(1)
	}
	if enableWebhook {
		// The MetalLB operator serves this webhook itself; the operator's certificate comes from outside (the
		// controller's rotator manages the controller's certificate, for other webhooks and the BGPPeer CRD).
		certsReady, err := ferrolbwebhook.SetupCertificates(mgr, ferrolbwebhook.CertOptions{CertDir: certDir, Disabled: true})
		if err == nil {
			var ready healthz.Checker
			if ready, err = ferrolbwebhook.RegisterMetalLB(mgr, certsReady); err == nil {
				err = mgr.AddReadyzCheck("webhook", ready)
			}
		}
		if err != nil {
			log.Error(err, "Unable to set up the MetalLB webhook")
			os.Exit(1)
		}
	}
	// +kubebuilder:scaffold:builder

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "Unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "Unable to set up ready check")
		os.Exit(1)
	}
	log.Info("Starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "Manager exited")
		os.Exit(1)
	}
}
