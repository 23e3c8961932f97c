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
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

// Kinds as internal/config reports its problems against them (config.ObjectError.Kind).
const (
	kindPool             = "IPAddressPool"
	kindPeer             = "BGPPeer"
	kindBFDProfile       = "BFDProfile"
	kindCommunity        = "Community"
	kindL2Advertisement  = "L2Advertisement"
	kindBGPAdvertisement = "BGPAdvertisement"
)

// objectPtr is a pointer to a metallb.io object type.
type objectPtr[T any] interface {
	*T
	client.Object
}

// validator admits the objects of one kind: it decodes the object, places it in the configuration of ferrolb's
// namespace, lets internal/config judge the result and answers with its verdict.
type validator[T any, P objectPtr[T]] struct {
	kind    string
	config  *configReader
	decoder admission.Decoder
	// slot returns where objects of the kind go in config.Resources.
	slot func(*config.Resources) *[]T
	// warnings returns the warnings for an object being admitted; may be nil.
	warnings func(admission.Request, P) []string
	// deleteRule judges a deletion; nil allows every deletion.
	deleteRule func(ctx context.Context, namespace, name string) admission.Response
}

func newValidator[T any, P objectPtr[T]](kind string, r *configReader, decoder admission.Decoder, slot func(*config.Resources) *[]T) *validator[T, P] {
	return &validator[T, P]{kind: kind, config: r, decoder: decoder, slot: slot}
}

func withWarnings[T any, P objectPtr[T]](v *validator[T, P], warnings func(admission.Request, P) []string) *validator[T, P] {
	v.warnings = warnings
	return v
}

func withDeleteRule[T any, P objectPtr[T]](v *validator[T, P], rule func(ctx context.Context, namespace, name string) admission.Response) *validator[T, P] {
	v.deleteRule = rule
	return v
}

var _ admission.Handler = (*validator[v1beta1.IPAddressPool, *v1beta1.IPAddressPool])(nil)

// Handle answers an admission request for the kind.
func (v *validator[T, P]) Handle(ctx context.Context, req admission.Request) admission.Response {
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
		return v.validateWrite(ctx, req)
	case admissionv1.Delete:
		if v.deleteRule == nil {
			return admission.Allowed("")
		}
		return v.deleteRule(ctx, req.Namespace, req.Name)
	}
	return admission.Allowed("")
}

// validateWrite admits a created or updated object if it adds no problem to the configuration.
func (v *validator[T, P]) validateWrite(ctx context.Context, req admission.Request) admission.Response {
	obj, old, err := v.decode(req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(req.Namespace)
	}
	var warnings []string
	if v.warnings != nil {
		warnings = v.warnings(req, obj)
	}

	if obj.GetNamespace() != v.config.namespace {
		if req.Operation == admissionv1.Create {
			return wrongNamespace(v.kind, obj, v.config.namespace).WithWarnings(warnings...)
		}
		// ferrolb reads nothing outside its namespace: an object there is no configuration, and refusing
		// updates to one created before the webhook existed would only block its cleanup (finalizers).
		return admission.Allowed("").WithWarnings(warnings...)
	}

	res, err := v.config.read(ctx)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	before, after := res, res
	*v.slot(&before) = replaced(*v.slot(&res), obj.GetName(), old)
	*v.slot(&after) = replaced(*v.slot(&res), obj.GetName(), obj)
	if err := v.config.addNodes(ctx, &after); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	before.Nodes = after.Nodes

	return verdict(v.kind, obj.GetName(), before, after).WithWarnings(warnings...)
}

// decode decodes the object under admission and, on update, the object it replaces.
func (v *validator[T, P]) decode(req admission.Request) (obj, old P, err error) {
	obj = P(new(T))
	if err := v.decoder.Decode(req, obj); err != nil {
		return nil, nil, fmt.Errorf("decoding %s: %w", v.kind, err)
	}
	if req.Operation != admissionv1.Update {
		return obj, nil, nil
	}
	old = P(new(T))
	if err := v.decoder.DecodeRaw(req.OldObject, old); err != nil {
		return nil, nil, fmt.Errorf("decoding the %s being updated: %w", v.kind, err)
	}
	return obj, old, nil
}

// replaced returns a copy of objs where obj replaces the object named name; a nil obj removes it. objs is not
// changed: it is shared by the configurations before and after the change.
func replaced[T any, P objectPtr[T]](objs []T, name string, obj P) []T {
	out := make([]T, 0, len(objs)+1)
	for i := range objs {
		if P(&objs[i]).GetName() != name {
			out = append(out, objs[i])
		}
	}
	if obj != nil {
		out = append(out, *obj)
	}
	return out
}

// wrongNamespace refuses an object created outside ferrolb's namespace, with MetalLB's message.
func wrongNamespace(kind string, obj client.Object, namespace string) admission.Response {
	return invalid(kind, obj.GetName(), field.ErrorList{field.Invalid(field.NewPath("metadata", "namespace"),
		obj.GetNamespace(), fmt.Sprintf("resource must be created in %s namespace", namespace))})
}

// peerWarnings warns about a BGPPeer created with disableMP, with MetalLB's message. Unlike MetalLB, which
// admits such a peer without validating it further, ferrolb still validates it.
func peerWarnings(req admission.Request, peer *v1beta2.BGPPeer) []string {
	if req.Operation == admissionv1.Create && peer.Spec.DisableMP {
		return []string{"disable mp is deprecated and has no effect since it's the default behavior now"}
	}
	return nil
}

// Where each kind goes in config.Resources.
func poolsOf(r *config.Resources) *[]v1beta1.IPAddressPool { return &r.Pools }

func peersOf(r *config.Resources) *[]v1beta2.BGPPeer { return &r.Peers }

func bgpAdvertisementsOf(r *config.Resources) *[]v1beta1.BGPAdvertisement {
	return &r.BGPAdvertisements
}

func l2AdvertisementsOf(r *config.Resources) *[]v1beta1.L2Advertisement { return &r.L2Advertisements }

func communitiesOf(r *config.Resources) *[]v1beta1.Community { return &r.Communities }

func bfdProfilesOf(r *config.Resources) *[]v1beta1.BFDProfile { return &r.BFDProfiles }
