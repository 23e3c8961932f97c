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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"
	conversionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/conversion/metrics"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

// fuzzKind is a kind the fuzz targets send objects of.
type fuzzKind struct {
	path, apiVersion, kind string
	// add places a decoded object in the resources, replacing the object of the same name.
	add func(res *config.Resources, obj client.Object)
	new func() client.Object
}

var fuzzKinds = []fuzzKind{
	{PathIPAddressPool, "metallb.io/v1beta1", kindPool, func(r *config.Resources, o client.Object) {
		r.Pools = replaced(r.Pools, o.GetName(), o.(*v1beta1.IPAddressPool))
	}, func() client.Object { return &v1beta1.IPAddressPool{} }},
	{PathBGPPeer, "metallb.io/v1beta2", kindPeer, func(r *config.Resources, o client.Object) {
		r.Peers = replaced(r.Peers, o.GetName(), o.(*v1beta2.BGPPeer))
	}, func() client.Object { return &v1beta2.BGPPeer{} }},
	{PathBGPAdvertisement, "metallb.io/v1beta1", kindBGPAdvertisement, func(r *config.Resources, o client.Object) {
		r.BGPAdvertisements = replaced(r.BGPAdvertisements, o.GetName(), o.(*v1beta1.BGPAdvertisement))
	}, func() client.Object { return &v1beta1.BGPAdvertisement{} }},
	{PathL2Advertisement, "metallb.io/v1beta1", kindL2Advertisement, func(r *config.Resources, o client.Object) {
		r.L2Advertisements = replaced(r.L2Advertisements, o.GetName(), o.(*v1beta1.L2Advertisement))
	}, func() client.Object { return &v1beta1.L2Advertisement{} }},
	{PathCommunity, "metallb.io/v1beta1", kindCommunity, func(r *config.Resources, o client.Object) {
		r.Communities = replaced(r.Communities, o.GetName(), o.(*v1beta1.Community))
	}, func() client.Object { return &v1beta1.Community{} }},
	{PathBFDProfile, "metallb.io/v1beta1", kindBFDProfile, func(r *config.Resources, o client.Object) {
		r.BFDProfiles = replaced(r.BFDProfiles, o.GetName(), o.(*v1beta1.BFDProfile))
	}, func() client.Object { return &v1beta1.BFDProfile{} }},
}

// fuzzState is a valid configuration with one or more objects of every kind, which the fuzzed objects join.
func fuzzState() (config.Resources, []client.Object) {
	res := config.Resources{
		Pools: []v1beta1.IPAddressPool{*pool("pool-a", "10.0.0.0/24"), *pool("pool-r", "10.0.1.10-10.0.1.20"), *pool("pool-v6", "fc00::/120")},
		Peers: []v1beta2.BGPPeer{
			*peer("peer-a", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "bfd-a" }),
			*peer("peer-b", func(s *v1beta2.BGPPeerSpec) { s.PeerAddress = "192.0.2.2" }),
		},
		BFDProfiles: []v1beta1.BFDProfile{*bfdProfile("bfd-a", false), *bfdProfile("bfd-echo", true)},
		Communities: []v1beta1.Community{*community("comm", v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"})},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			*bgpAdvertisement("adv-a", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"pool-a"}, LocalPref: 100, AggregationLength: new(int32(24))}),
			*bgpAdvertisement("adv-v6", v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"pool-v6"}, Peers: []string{"peer-b"}, Communities: []string{"no-export"}}),
		},
		L2Advertisements: []v1beta1.L2Advertisement{*l2Advertisement("l2-a", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"pool-a"}})},
	}
	var objs []client.Object
	for _, n := range []*corev1.Node{node("n1", map[string]string{"rack": "1"}), node("n2", map[string]string{"rack": "2"})} {
		res.Nodes = append(res.Nodes, *n)
		objs = append(objs, n)
	}
	for i := range res.Pools {
		objs = append(objs, &res.Pools[i])
	}
	for i := range res.Peers {
		objs = append(objs, &res.Peers[i])
	}
	for i := range res.BFDProfiles {
		objs = append(objs, &res.BFDProfiles[i])
	}
	for i := range res.Communities {
		objs = append(objs, &res.Communities[i])
	}
	for i := range res.BGPAdvertisements {
		objs = append(objs, &res.BGPAdvertisements[i])
	}
	for i := range res.L2Advertisements {
		objs = append(objs, &res.L2Advertisements[i])
	}
	return res, objs
}

// FuzzValidate sends objects of every kind, their spec fuzzed, to the handlers against a valid configuration.
// The handler must not panic, must refuse what it cannot decode, and must agree with config.Parse: as the
// configuration is valid before the change, the change is admitted exactly when the configuration with the
// object is valid. Every refusal of an object names the field.
func FuzzValidate(f *testing.F) {
	seeds := []struct {
		kind int
		name string
		spec string
	}{
		{0, "new", `{"addresses":["10.0.2.0/24"]}`},
		{0, "new", `{"addresses":["10.0.0.128/25"]}`},
		{0, "pool-a", `{"addresses":["10.0.0.0/28"]}`},
		{0, "new", `{"addresses":["10.0.5.5-10.0.5.1","::ffff:10.0.0.0/120"],"serviceAllocation":{"priority":-1,"namespaces":["a","a"]}}`},
		{1, "new", `{"myASN":64512,"peerASN":64512,"peerAddress":"192.0.2.9","ebgpMultiHop":true,"keepaliveTime":"500ms"}`},
		{1, "new", `{"myASN":1,"dynamicASN":"internal","interface":"eth0","routerID":"::1","bfdProfile":"bfd-echo"}`},
		{2, "new", `{"ipAddressPools":["pool-v6"],"communities":["65536:1","large:1:2:3","1:2:3:4","missing"],"aggregationLengthV6":64}`},
		{2, "new", `{"localPref":200,"nodeSelectors":[{"matchLabels":{"rack":"2"}}]}`},
		{2, "new", `{"serviceSelectors":[{"matchLabels":{"a":"b"}}],"aggregationLength":24}`},
		{3, "new", `{"ipAddressPools":["x","x"],"preferredNodeSelectors":[{"weight":0,"preference":{"matchExpressions":[{"key":"k","operator":"Bad"}]}}]}`},
		{4, "new", `{"communities":[{"name":"no-export","value":"1:1"},{"name":"x","value":"large:1"}]}`},
		{5, "bfd-a", `{"echoMode":true,"detectMultiplier":1}`},
		{5, "bfd-a", `not json`},
	}
	for _, s := range seeds {
		f.Add(uint8(s.kind), s.name, []byte(s.spec), true)
	}

	base, objs := fuzzState()
	if _, err := config.Parse(base, config.WithoutTransientReferences()); err != nil {
		f.Fatalf("the fuzz configuration is invalid: %v", err)
	}
	handlers := testHandlers(f, objs...)
	decoder := admission.NewDecoder(scheme)

	f.Fuzz(func(t *testing.T, kindIndex uint8, name string, spec []byte, update bool) {
		k := fuzzKinds[int(kindIndex)%len(fuzzKinds)]
		metadata, _ := json.Marshal(map[string]string{"name": name, "namespace": namespace})
		raw := []byte(fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"metadata":%s,"spec":%s}`, k.apiVersion, k.kind, metadata, spec))

		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "fuzz", Operation: admissionv1.Create, Name: name, Namespace: namespace,
			Object: runtime.RawExtension{Raw: raw},
		}}
		if stored := storedObject(objs, k.kind, name); update && stored != nil {
			req.Operation = admissionv1.Update
			req.OldObject.Raw = mustJSON(t, stored)
		}
		resp := handlers[k.path].Handle(context.Background(), req)

		obj := k.new()
		if err := decoder.DecodeRaw(runtime.RawExtension{Raw: raw}, obj); err != nil {
			if resp.Allowed || resp.Result.Code != http.StatusBadRequest {
				t.Fatalf("undecodable object (%v) got allowed=%v, result %+v", err, resp.Allowed, resp.Result)
			}
			return
		}
		after := base
		k.add(&after, obj)
		_, parseErr := config.Parse(after, config.WithoutTransientReferences())
		if resp.Allowed != (parseErr == nil) {
			t.Fatalf("%s %q: webhook allowed=%v (%+v), parser: %v", k.kind, name, resp.Allowed, resp.Result, parseErr)
		}
		if !resp.Allowed {
			checkNamesFields(t, resp.Result)
		}
	})
}

// storedObject returns the object of the fuzz configuration with that kind and name, or nil.
func storedObject(objs []client.Object, kind, name string) client.Object {
	for _, o := range objs {
		gvks, _, _ := scheme.ObjectKinds(o)
		if len(gvks) > 0 && gvks[0].Kind == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// checkNamesFields fails unless a refusal carries causes, each with a field path that its message names.
func checkNamesFields(t *testing.T, status *metav1.Status) {
	t.Helper()
	if status == nil || status.Details == nil || len(status.Details.Causes) == 0 {
		t.Fatalf("refusal names no field: %+v", status)
	}
	for _, c := range status.Details.Causes {
		if c.Field == "" || !bytes.Contains([]byte(status.Message), []byte(c.Field)) {
			t.Fatalf("refusal cause %+v names no field in %q", c, status.Message)
		}
	}
}

// FuzzAdmissionReview sends raw request bodies to every webhook path, as the API server (or anything reaching
// the port) could. No handler may panic, and every admission answer must be an AdmissionReview.
func FuzzAdmissionReview(f *testing.F) {
	pools := mustJSON(f, pool("p", "10.0.9.0/24"))
	f.Add(uint8(0), []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","namespace":%q,"name":"p","object":%s}}`, namespace, pools)))
	f.Add(uint8(5), []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"DELETE","namespace":%q,"name":"bfd-a"}}`, namespace)))
	f.Add(uint8(1), []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"operation":"UPDATE","object":{"kind":"BGPPeer"}}}`))
	f.Add(uint8(6), []byte(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview","request":{"uid":"1","desiredAPIVersion":"metallb.io/v1beta1","objects":[{"apiVersion":"metallb.io/v1beta2","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"myASN":1,"peerASN":2,"peerAddress":"192.0.2.1","holdTime":"90s"}}]}}`))
	f.Add(uint8(6), []byte(`{"request":{"desiredAPIVersion":"metallb.io/v1beta2","objects":[{"apiVersion":"metallb.io/v1beta1","kind":"BGPPeer","spec":{"nodeSelectors":[{"matchExpressions":[{"key":"k","operator":"In"}]}]}}]}}`))
	f.Add(uint8(2), []byte(`null`))

	_, objs := fuzzState()
	c := fakeReader(objs...)
	var paths []string
	hooks := map[string]http.Handler{}
	for path, h := range newHandlers(c, admission.NewDecoder(scheme), namespace) {
		paths = append(paths, path)
		hooks[path] = (&admission.Webhook{Handler: h}).WithRecoverPanic(false)
	}
	paths = append(paths, PathConvert)
	hooks[PathConvert] = conversion.NewWebhookHandler(scheme, conversion.NewRegistry())
	conversionPanics := counterValue(f)

	f.Fuzz(func(t *testing.T, pathIndex uint8, body []byte) {
		path := paths[int(pathIndex)%len(paths)]
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		hooks[path].ServeHTTP(rec, req)

		if path == PathConvert {
			if got := counterValue(t); got != conversionPanics {
				t.Fatalf("the conversion webhook panicked")
			}
			return
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil {
			t.Fatalf("answer is no AdmissionReview (%v): %q", err, rec.Body.String())
		}
	})
}

// counterValue returns the number of panics the conversion webhook recovered from.
func counterValue(t testing.TB) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := conversionmetrics.WebhookPanics.WithLabelValues().Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
