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
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

// configReader reads the configuration of ferrolb's namespace from the API server. Its reader is uncached: a
// webhook that judged from a cache could admit a pool overlapping one created a moment before.
type configReader struct {
	reader    client.Reader
	namespace string
}

// read returns every metallb.io object of ferrolb's namespace. It leaves out what validation does not need:
// Secrets (passwordSecret references are not validated by the webhooks, as in MetalLB, so they hold no
// password), Namespaces (no rule depends on them) and Nodes (see addNodes). The six lists are read at once:
// the API server answers them in parallel, and an admission request waits for the slowest only.
func (r *configReader) read(ctx context.Context) (config.Resources, error) {
	var res config.Resources
	reads := []func() error{
		func() (err error) {
			res.Pools, err = list(ctx, r, func(l *v1beta1.IPAddressPoolList) []v1beta1.IPAddressPool { return l.Items })
			return err
		},
		func() (err error) {
			res.Peers, err = list(ctx, r, func(l *v1beta2.BGPPeerList) []v1beta2.BGPPeer { return l.Items })
			return err
		},
		func() (err error) {
			res.BFDProfiles, err = list(ctx, r, func(l *v1beta1.BFDProfileList) []v1beta1.BFDProfile { return l.Items })
			return err
		},
		func() (err error) {
			res.BGPAdvertisements, err = list(ctx, r, func(l *v1beta1.BGPAdvertisementList) []v1beta1.BGPAdvertisement { return l.Items })
			return err
		},
		func() (err error) {
			res.L2Advertisements, err = list(ctx, r, func(l *v1beta1.L2AdvertisementList) []v1beta1.L2Advertisement { return l.Items })
			return err
		},
		func() (err error) {
			res.Communities, err = list(ctx, r, func(l *v1beta1.CommunityList) []v1beta1.Community { return l.Items })
			return err
		},
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read() })
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// list lists the objects of one kind in ferrolb's namespace.
func list[L any, PL interface {
	*L
	client.ObjectList
}, T any](ctx context.Context, r *configReader, items func(PL) []T) ([]T, error) {
	var l PL = new(L)
	if err := r.reader.List(ctx, l, client.InNamespace(r.namespace)); err != nil {
		return nil, fmt.Errorf("listing %T in namespace %s: %w", l, r.namespace, err)
	}
	return items(l), nil
}

// addNodes adds the cluster's Nodes, by their labels only, when the configuration may need them: config.Parse
// uses Nodes to tell whether two BGPAdvertisements (and, as MetalLB does in FRR mode, two BGPPeers) act on a
// common node, and large clusters have many Nodes.
func (r *configReader) addNodes(ctx context.Context, res *config.Resources) error {
	if len(res.BGPAdvertisements) < 2 && len(res.Peers) < 2 {
		return nil
	}
	nodes := &metav1.PartialObjectMetadataList{}
	nodes.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NodeList"))
	if err := r.reader.List(ctx, nodes); err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	res.Nodes = make([]corev1.Node, len(nodes.Items))
	for i, n := range nodes.Items {
		res.Nodes[i] = corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels}}
	}
	return nil
}

// bfdProfileInUse refuses deleting a BFDProfile of ferrolb's namespace that a BGPPeer references, with
// MetalLB's message. The peer would be left referencing nothing, which the speaker reports but cannot act on.
func (r *configReader) bfdProfileInUse(ctx context.Context, namespace, name string) admission.Response {
	if namespace != r.namespace {
		return admission.Allowed("")
	}
	peers, err := list(ctx, r, func(l *v1beta2.BGPPeerList) []v1beta2.BGPPeer { return l.Items })
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	slices.SortFunc(peers, func(a, b v1beta2.BGPPeer) int { return cmp.Compare(a.Name, b.Name) })
	for _, peer := range peers {
		if peer.Spec.BFDProfile == name {
			return forbidden("bfdprofiles", name, fmt.Errorf("failed to delete BFDProfile %s, used by BGPPeer %s", name, peer.Name))
		}
	}
	return admission.Allowed("")
}
