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
	"encoding/json"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

const namespace = "metallb-system"

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1beta1.AddToScheme(scheme))
	utilruntime.Must(v1beta2.AddToScheme(scheme))
	logf.SetLogger(logr.Discard())
}

// testHandlers returns the handlers by path, reading the objects from a fake client.
func testHandlers(t testing.TB, objs ...client.Object) map[string]admission.Handler {
	t.Helper()
	return newHandlers(fakeReader(objs...), admission.NewDecoder(scheme), namespace)
}

// fakeReader returns a client that holds the objects.
func fakeReader(objs ...client.Object) client.Reader {
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

// request returns an admission request for obj; old is the object an update replaces, or nil.
func request(t testing.TB, op admissionv1.Operation, obj, old client.Object) admission.Request {
	t.Helper()
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid",
		Operation: op,
		Name:      obj.GetName(),
		Namespace: obj.GetNamespace(),
	}}
	raw := mustJSON(t, obj)
	switch op {
	case admissionv1.Delete:
		req.OldObject.Raw = raw
	default:
		req.Object.Raw = raw
	}
	if old != nil {
		req.OldObject.Raw = mustJSON(t, old)
	}
	return req
}

// mustJSON encodes obj with its apiVersion and kind, as the API server sends it.
func mustJSON(t testing.TB, obj client.Object) []byte {
	t.Helper()
	gvks, _, err := scheme.ObjectKinds(obj)
	if err != nil {
		t.Fatal(err)
	}
	obj = obj.DeepCopyObject().(client.Object)
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

func pool(name string, addresses ...string) *v1beta1.IPAddressPool {
	return &v1beta1.IPAddressPool{ObjectMeta: meta(name), Spec: v1beta1.IPAddressPoolSpec{Addresses: addresses}}
}

// peer returns a valid eBGP peer, changed by the mutators.
func peer(name string, mutators ...func(*v1beta2.BGPPeerSpec)) *v1beta2.BGPPeer {
	p := &v1beta2.BGPPeer{ObjectMeta: meta(name), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, PeerAddress: "192.0.2.1"}}
	for _, mutate := range mutators {
		mutate(&p.Spec)
	}
	return p
}

func bgpAdvertisement(name string, spec v1beta1.BGPAdvertisementSpec) *v1beta1.BGPAdvertisement {
	return &v1beta1.BGPAdvertisement{ObjectMeta: meta(name), Spec: spec}
}

func l2Advertisement(name string, spec v1beta1.L2AdvertisementSpec) *v1beta1.L2Advertisement {
	return &v1beta1.L2Advertisement{ObjectMeta: meta(name), Spec: spec}
}

func community(name string, aliases ...v1beta1.CommunityAlias) *v1beta1.Community {
	return &v1beta1.Community{ObjectMeta: meta(name), Spec: v1beta1.CommunitySpec{Communities: aliases}}
}

func bfdProfile(name string, echo bool) *v1beta1.BFDProfile {
	return &v1beta1.BFDProfile{ObjectMeta: meta(name), Spec: v1beta1.BFDProfileSpec{EchoMode: &echo}}
}

func node(name string, labels map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func inNamespace[T client.Object](obj T, ns string) T {
	obj.SetNamespace(ns)
	return obj
}
