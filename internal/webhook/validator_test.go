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
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// The envtest suite in test/webhooks checks every rule through a real API server; these cases check the
// handlers' own decisions: which problems refuse a change, how a refusal is shaped, warnings, deletions.
func TestHandle(t *testing.T) {
	aggregation24 := v1beta1.BGPAdvertisementSpec{AggregationLength: new(int32(24))}
	tests := []struct {
		name     string
		existing []client.Object
		path     string
		op       admissionv1.Operation
		obj, old client.Object
		// want is the verdict: allowed, or the status code, reason, cause fields and message of the refusal.
		wantAllowed  bool
		wantCode     int32
		wantReason   metav1.StatusReason
		wantFields   []string
		wantMessage  string
		wantWarnings []string
	}{
		{
			name:        "valid pool",
			existing:    []client.Object{pool("b", "10.0.1.0/24")},
			path:        PathIPAddressPool,
			op:          admissionv1.Create,
			obj:         pool("a", "10.0.0.0/24"),
			wantAllowed: true,
		},
		{
			name:        "pool overlapping a pool it sorts after: its own problem",
			existing:    []client.Object{pool("a", "10.0.0.0/24")},
			path:        PathIPAddressPool,
			op:          admissionv1.Create,
			obj:         pool("b", "10.0.0.128/25"),
			wantCode:    http.StatusUnprocessableEntity,
			wantReason:  metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.addresses[0]"},
			wantMessage: `IPAddressPool.metallb.io "b" is invalid: spec.addresses[0]: Invalid value: "10.0.0.128/25": CIDR "10.0.0.128/25" in pool "b" overlaps with already defined CIDR "10.0.0.0/24"`,
		},
		{
			name:        "pool overlapping a pool it sorts before: the problem it causes in the other pool",
			existing:    []client.Object{pool("b", "10.0.0.128/25")},
			path:        PathIPAddressPool,
			op:          admissionv1.Create,
			obj:         pool("a", "10.0.0.0/24"),
			wantCode:    http.StatusUnprocessableEntity,
			wantReason:  metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.addresses[0]"},
			wantMessage: `IPAddressPool.metallb.io "a" is invalid: spec.addresses[0]: Invalid value: "10.0.0.128/25": makes IPAddressPool "b" invalid: CIDR "10.0.0.128/25" in pool "b" overlaps with already defined CIDR "10.0.0.0/24"`,
		},
		{
			name:        "pool outside ferrolb's namespace",
			path:        PathIPAddressPool,
			op:          admissionv1.Create,
			obj:         inNamespace(pool("a", "10.0.0.0/24"), "default"),
			wantCode:    http.StatusUnprocessableEntity,
			wantReason:  metav1.StatusReasonInvalid,
			wantFields:  []string{"metadata.namespace"},
			wantMessage: `IPAddressPool.metallb.io "a" is invalid: metadata.namespace: Invalid value: "default": resource must be created in metallb-system namespace`,
		},
		{
			name:        "update of a pool outside ferrolb's namespace, which is no configuration",
			existing:    []client.Object{pool("a", "10.0.0.0/24")},
			path:        PathIPAddressPool,
			op:          admissionv1.Update,
			obj:         inNamespace(pool("a", "10.0.0.0/24"), "default"),
			old:         inNamespace(pool("a", "10.0.0.0/24"), "default"),
			wantAllowed: true,
		},
		{
			name:     "pool update that breaks an advertisement's aggregation",
			existing: []client.Object{pool("a", "10.0.0.0/24"), bgpAdvertisement("adv", aggregation24)},
			path:     PathIPAddressPool,
			op:       admissionv1.Update,
			obj:      pool("a", "10.0.0.0/28"),
			old:      pool("a", "10.0.0.0/24"),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.aggregationLength"},
			wantMessage: `makes BGPAdvertisement "adv" invalid: invalid aggregation length 24: prefix 28 in this pool is more specific than the aggregation length for addresses 10.0.0.0/28`,
		},
		{
			name:         "valid pool next to a broken configuration: admitted, with a warning",
			existing:     []client.Object{pool("x", "10.9.0.0/24"), pool("y", "10.9.0.0/24")},
			path:         PathIPAddressPool,
			op:           admissionv1.Create,
			obj:          pool("a", "10.0.0.0/24"),
			wantAllowed:  true,
			wantWarnings: []string{`the configuration has a problem this change did not cause: IPAddressPool "y": spec.addresses[0]: Invalid value: "10.9.0.0/24": CIDR "10.9.0.0/24" in pool "y" overlaps with already defined CIDR "10.9.0.0/24"`},
		},
		{
			name:     "label change of a broken pool: its problems are not new",
			existing: []client.Object{pool("x", "10.9.0.0/24"), pool("y", "10.9.0.0/24")},
			path:     PathIPAddressPool,
			op:       admissionv1.Update,
			obj: func() client.Object {
				p := pool("y", "10.9.0.0/24")
				p.Labels = map[string]string{"team": "a"}
				return p
			}(),
			old:          pool("y", "10.9.0.0/24"),
			wantAllowed:  true,
			wantWarnings: []string{`the configuration has a problem this change did not cause: IPAddressPool "y": spec.addresses[0]: Invalid value: "10.9.0.0/24": CIDR "10.9.0.0/24" in pool "y" overlaps with already defined CIDR "10.9.0.0/24"`},
		},
		{
			name:     "broken pool changed to another broken value",
			existing: []client.Object{pool("x", "10.9.0.0/24"), pool("y", "10.9.0.0/24")},
			path:     PathIPAddressPool,
			op:       admissionv1.Update,
			obj:      pool("y", "10.9.0.0/25"),
			old:      pool("y", "10.9.0.0/24"),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.addresses[0]"},
			wantMessage: `CIDR "10.9.0.0/25" in pool "y" overlaps with already defined CIDR "10.9.0.0/24"`,
		},
		{
			name:        "advertisement referencing a community alias that does not exist yet",
			path:        PathBGPAdvertisement,
			op:          admissionv1.Create,
			obj:         bgpAdvertisement("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"later"}}),
			wantAllowed: true,
		},
		{
			name:     "advertisement with two problems",
			path:     PathBGPAdvertisement,
			op:       admissionv1.Create,
			obj:      bgpAdvertisement("adv", v1beta1.BGPAdvertisementSpec{Communities: []string{"65536:1"}, Peers: []string{"p", "p"}}),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.communities[0]", "spec.peers[1]"},
			wantMessage: `duplicate definition of peers "p"`,
		},
		{
			name:     "local preference conflict, only when the advertisements share a node",
			existing: []client.Object{pool("a", "10.0.0.0/24"), bgpAdvertisement("one", v1beta1.BGPAdvertisementSpec{LocalPref: 100}), node("n1", map[string]string{"rack": "1"})},
			path:     PathBGPAdvertisement,
			op:       admissionv1.Create,
			obj:      bgpAdvertisement("two", v1beta1.BGPAdvertisementSpec{LocalPref: 200}),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.localPref"},
			wantMessage: `local preferernce 100 was already set`,
		},
		{
			name:     "no local preference conflict between advertisements of disjoint nodes",
			existing: []client.Object{pool("a", "10.0.0.0/24"), bgpAdvertisement("one", v1beta1.BGPAdvertisementSpec{LocalPref: 100}), node("n1", map[string]string{"rack": "1"})},
			path:     PathBGPAdvertisement,
			op:       admissionv1.Create,
			obj: bgpAdvertisement("two", v1beta1.BGPAdvertisementSpec{
				LocalPref:     200,
				NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"rack": "2"}}},
			}),
			wantAllowed: true,
		},
		{
			name:         "peer created with disableMP: admitted with MetalLB's warning",
			path:         PathBGPPeer,
			op:           admissionv1.Create,
			obj:          peer("p", func(s *v1beta2.BGPPeerSpec) { s.DisableMP = true }),
			wantAllowed:  true,
			wantWarnings: []string{"disable mp is deprecated and has no effect since it's the default behavior now"},
		},
		{
			name:     "peer created with disableMP is still validated",
			path:     PathBGPPeer,
			op:       admissionv1.Create,
			obj:      peer("p", func(s *v1beta2.BGPPeerSpec) { s.DisableMP = true; s.RouterID = "fc00::1" }),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:   []string{"spec.routerID"},
			wantMessage:  `invalid router ID "fc00::1": must be a non-zero IPv4 address`,
			wantWarnings: []string{"disable mp is deprecated and has no effect since it's the default behavior now"},
		},
		{
			name:        "peer referencing a BFD profile and a secret that do not exist yet",
			path:        PathBGPPeer,
			op:          admissionv1.Create,
			obj:         peer("p", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "later"; s.PasswordSecret.Name = "later" }),
			wantAllowed: true,
		},
		{
			name:     "deleting a BFD profile in use",
			existing: []client.Object{bfdProfile("fast", false), peer("b", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "fast" }), peer("a", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "fast" })},
			path:     PathBFDProfile,
			op:       admissionv1.Delete,
			obj:      bfdProfile("fast", false),
			wantCode: http.StatusForbidden, wantReason: metav1.StatusReasonForbidden,
			wantMessage: `bfdprofiles.metallb.io "fast" is forbidden: failed to delete BFDProfile fast, used by BGPPeer a`,
		},
		{
			name:        "deleting a BFD profile nobody uses",
			existing:    []client.Object{bfdProfile("fast", false), peer("a", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "slow" })},
			path:        PathBFDProfile,
			op:          admissionv1.Delete,
			obj:         bfdProfile("fast", false),
			wantAllowed: true,
		},
		{
			name:     "enabling BFD echo on a profile of a peer that is announced IPv6 addresses",
			existing: []client.Object{bfdProfile("fast", false), peer("p", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "fast" }), pool("v6", "fc00::/64"), bgpAdvertisement("adv", v1beta1.BGPAdvertisementSpec{})},
			path:     PathBFDProfile,
			op:       admissionv1.Update,
			obj:      bfdProfile("fast", true),
			old:      bfdProfile("fast", false),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.peers"},
			wantMessage: `makes BGPAdvertisement "adv" invalid: pool v6 has bgpadvertisement adv which references peer p which has bfd echo enabled, which is not possible`,
		},
		{
			name:        "duplicate community alias across objects",
			existing:    []client.Object{community("a", v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"})},
			path:        PathCommunity,
			op:          admissionv1.Create,
			obj:         community("b", v1beta1.CommunityAlias{Name: "no-export", Value: "65535:65281"}),
			wantCode:    http.StatusUnprocessableEntity,
			wantReason:  metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.communities[0].name"},
			wantMessage: `duplicate definition of community "no-export"`,
		},
		{
			name:     "L2 advertisement naming a pool twice",
			path:     PathL2Advertisement,
			op:       admissionv1.Create,
			obj:      l2Advertisement("l2", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"a", "a"}}),
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantFields:  []string{"spec.ipAddressPools[1]"},
			wantMessage: `duplicate definition of ipAddressPools "a"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHandlers(t, tt.existing...)[tt.path]
			resp := h.Handle(context.Background(), request(t, tt.op, tt.obj, tt.old))

			if diff := cmp.Diff(tt.wantWarnings, resp.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if resp.Allowed != tt.wantAllowed {
				t.Fatalf("allowed = %v, want %v; result: %+v", resp.Allowed, tt.wantAllowed, resp.Result)
			}
			if tt.wantAllowed {
				return
			}
			got := resp.Result
			if got.Code != tt.wantCode || got.Reason != tt.wantReason {
				t.Errorf("status %d %s, want %d %s", got.Code, got.Reason, tt.wantCode, tt.wantReason)
			}
			if !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("message %q does not contain %q", got.Message, tt.wantMessage)
			}
			var fields []string
			if got.Details != nil {
				for _, c := range got.Details.Causes {
					fields = append(fields, c.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("cause fields (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHandleUndecodable checks that an object the handler cannot decode is refused, not admitted.
func TestHandleUndecodable(t *testing.T) {
	for path, h := range testHandlers(t) {
		t.Run(path, func(t *testing.T) {
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: admissionv1.Create, Namespace: namespace}}
			req.Object.Raw = []byte(`{"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool","spec":{"addresses":"10.0.0.0/24"}}`)
			resp := h.Handle(context.Background(), req)
			if resp.Allowed || resp.Result.Code != http.StatusBadRequest {
				t.Errorf("got allowed=%v, result %+v; want a refusal with code 400", resp.Allowed, resp.Result)
			}
		})
	}
}

// TestReplaced checks that replacing an object in a list leaves the list as it was: the lists are shared by
// the configurations before and after a change.
func TestReplaced(t *testing.T) {
	objs := []v1beta1.IPAddressPool{*pool("a", "10.0.0.0/24"), *pool("b", "10.0.1.0/24")}
	got := replaced(objs, "a", pool("a", "10.0.2.0/24"))
	names := func(pools []v1beta1.IPAddressPool) []string {
		var out []string
		for _, p := range pools {
			out = append(out, p.Name+"="+p.Spec.Addresses[0])
		}
		return out
	}
	if diff := cmp.Diff([]string{"b=10.0.1.0/24", "a=10.0.2.0/24"}, names(got)); diff != "" {
		t.Errorf("replaced (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b=10.0.1.0/24"}, names(replaced[v1beta1.IPAddressPool, *v1beta1.IPAddressPool](objs, "a", nil))); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a=10.0.0.0/24", "b=10.0.1.0/24"}, names(objs)); diff != "" {
		t.Errorf("input changed (-want +got):\n%s", diff)
	}
}
