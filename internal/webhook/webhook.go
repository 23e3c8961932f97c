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
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// The paths the webhooks are served at, MetalLB's (reference §3.1), so that MetalLB's webhook configuration and
// CRD conversion stanza work unchanged.
const (
	PathIPAddressPool    = "/validate-metallb-io-v1beta1-ipaddresspool"
	PathBGPPeer          = "/validate-metallb-io-v1beta2-bgppeer"
	PathBGPAdvertisement = "/validate-metallb-io-v1beta1-bgpadvertisement"
	PathL2Advertisement  = "/validate-metallb-io-v1beta1-l2advertisement"
	PathCommunity        = "/validate-metallb-io-v1beta1-community"
	PathBFDProfile       = "/validate-metallb-io-v1beta1-bfdprofile"
	PathConvert          = "/convert"
)

// The webhook configuration controller-gen writes to config/webhook/manifests.yaml. Unlike MetalLB's,
// bfdprofiles is also validated on update: enabling BFD echo on a profile in use can break the configuration.
//
// +kubebuilder:webhook:path=/validate-metallb-io-v1beta1-ipaddresspool,mutating=false,failurePolicy=fail,sideEffects=None,groups=metallb.io,resources=ipaddresspools,verbs=create;update,versions=v1beta1,name=ipaddresspoolvalidationwebhook.metallb.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-metallb-io-v1beta2-bgppeer,mutating=false,failurePolicy=fail,sideEffects=None,groups=metallb.io,resources=bgppeers,verbs=create;update,versions=v1beta2,name=bgppeersvalidationwebhook.metallb.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-metallb-io-v1beta1-bgpadvertisement,mutating=false,failurePolicy=fail,sideEffects=None,groups=metallb.io,resources=bgpadvertisements,verbs=create;update,versions=v1beta1,name=bgpadvertisementvalidationwebhook.metallb.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-metallb-io-v1beta1-l2advertisement,mutating=false,failurePolicy=fail,sideEffects=None,groups=metallb.io,resources=l2advertisements,verbs=create;update,versions=v1beta1,name=l2advertisementvalidationwebhook.metallb.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-metallb-io-v1beta1-community,mutating=false,failurePolicy=fail,sideEffects=None,groups=metallb.io,resources=communities,verbs=create;update,versions=v1beta1,name=communityvalidationwebhook.metallb.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-metallb-io-v1beta1-bfdprofile,mutating=false,failurePolicy=fail,sideEffects=None,groups=metallb.io,resources=bfdprofiles,verbs=create;update;delete,versions=v1beta1,name=bfdprofilevalidationwebhook.metallb.io,admissionReviewVersions=v1

// The webhooks read the whole configuration of ferrolb's namespace, and the labels of the Nodes.
//
// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools;bgppeers;bgpadvertisements;l2advertisements;communities;bfdprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch

// Options configure the webhooks.
type Options struct {
	// Namespace is ferrolb's namespace: only its objects make the configuration, and objects are created there
	// only.
	Namespace string
	// CertsReady is closed once the webhook server's certificate is in place (SetupCertificates returns it).
	// The webhooks are registered, and the webhook server started, only then: the server cannot start without
	// its certificate. Nil means the certificate is there already.
	CertsReady <-chan struct{}
}

// Register serves the validating webhooks and BGPPeer's conversion webhook on the manager's webhook server
// once opts.CertsReady is closed, and returns the readiness check to add with mgr.AddReadyzCheck: it fails
// until the webhooks are registered and the server answers TLS handshakes on its port. The handlers read
// existing objects with the manager's uncached API reader, so a verdict never rests on a stale cache.
//
// The caller must not call mgr.GetWebhookServer itself before the certificates are ready: that starts the
// server, which fails without them.
func Register(mgr ctrl.Manager, opts Options) (healthz.Checker, error) {
	if opts.Namespace == "" {
		return nil, errors.New("registering webhooks: no namespace given")
	}
	if err := checkScheme(mgr.GetScheme()); err != nil {
		return nil, fmt.Errorf("registering webhooks: %w", err)
	}
	handlers := newHandlers(mgr.GetAPIReader(), admission.NewDecoder(mgr.GetScheme()), opts.Namespace)
	convert := conversion.NewWebhookHandler(mgr.GetScheme(), mgr.GetConverterRegistry())

	s := &serving{certsReady: opts.CertsReady}
	register := func(ctx context.Context) error {
		if !waitClosed(ctx, opts.CertsReady) {
			return nil
		}
		srv := mgr.GetWebhookServer()
		for path, h := range handlers {
			srv.Register(path, &crwebhook.Admission{Handler: h})
		}
		srv.Register(PathConvert, convert)
		s.server.Store(&srv)
		ctrl.Log.WithName("webhook").Info("Serving webhooks", "namespace", opts.Namespace)
		return nil
	}
	if err := mgr.Add(runnable(register)); err != nil {
		return nil, fmt.Errorf("registering webhooks: %w", err)
	}
	return s.check, nil
}

// newHandlers returns the validating handlers by path.
func newHandlers(reader client.Reader, decoder admission.Decoder, namespace string) map[string]admission.Handler {
	r := &configReader{reader: reader, namespace: namespace}
	return map[string]admission.Handler{
		PathIPAddressPool:    newValidator(kindPool, r, decoder, poolsOf),
		PathBGPPeer:          withWarnings(newValidator(kindPeer, r, decoder, peersOf), peerWarnings),
		PathBGPAdvertisement: newValidator(kindBGPAdvertisement, r, decoder, bgpAdvertisementsOf),
		PathL2Advertisement:  newValidator(kindL2Advertisement, r, decoder, l2AdvertisementsOf),
		PathCommunity:        newValidator(kindCommunity, r, decoder, communitiesOf),
		PathBFDProfile:       withDeleteRule(newValidator(kindBFDProfile, r, decoder, bfdProfilesOf), r.bfdProfileInUse),
	}
}

// checkScheme makes sure the scheme decodes every kind the webhooks see, so that a mistake in the binary's
// scheme shows at startup rather than as refusals.
func checkScheme(scheme *runtime.Scheme) error {
	for _, obj := range []runtime.Object{
		&v1beta1.IPAddressPool{}, &v1beta1.BGPAdvertisement{}, &v1beta1.L2Advertisement{},
		&v1beta1.Community{}, &v1beta1.BFDProfile{}, &v1beta1.BGPPeer{}, &v1beta2.BGPPeer{},
	} {
		if _, _, err := scheme.ObjectKinds(obj); err != nil {
			return fmt.Errorf("scheme misses a metallb.io kind: %w", err)
		}
	}
	return nil
}

// serving is the state the readiness check looks at.
type serving struct {
	certsReady <-chan struct{}
	// server is set once the webhooks are registered.
	server atomic.Pointer[crwebhook.Server]
}

// check fails until the certificates are ready, the webhooks registered and the server completes a TLS
// handshake on its port.
func (s *serving) check(req *http.Request) error {
	if !isClosed(s.certsReady) {
		return errors.New("webhook certificates are not ready")
	}
	srv := s.server.Load()
	if srv == nil {
		return errors.New("webhooks are not registered yet")
	}
	return (*srv).StartedChecker()(req)
}

// runnable is a manager.Runnable that runs without leader election, as the webhooks must be served by every
// replica.
type runnable func(context.Context) error

func (r runnable) Start(ctx context.Context) error { return r(ctx) }

func (runnable) NeedLeaderElection() bool { return false }

// waitClosed waits until ch is closed, and reports false if ctx ended first. A nil ch counts as closed.
func waitClosed(ctx context.Context, ch <-chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// isClosed reports whether ch is closed, without waiting. A nil ch counts as closed.
func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
