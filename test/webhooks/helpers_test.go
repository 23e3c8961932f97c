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

package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns}
}

func pool(name string, addresses ...string) *v1beta1.IPAddressPool {
	return &v1beta1.IPAddressPool{ObjectMeta: meta(name), Spec: v1beta1.IPAddressPoolSpec{Addresses: addresses}}
}

func poolWith(name string, alloc v1beta1.ServiceAllocation, addresses ...string) *v1beta1.IPAddressPool {
	p := pool(name, addresses...)
	p.Spec.AllocateTo = &alloc
	return p
}

// peer returns a valid eBGP peer, changed by the mutators.
func peer(name string, mutators ...func(*v1beta2.BGPPeerSpec)) *v1beta2.BGPPeer {
	p := &v1beta2.BGPPeer{ObjectMeta: meta(name), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, PeerAddress: "192.0.2.1"}}
	for _, mutate := range mutators {
		mutate(&p.Spec)
	}
	return p
}

func bgpAdv(name string, spec v1beta1.BGPAdvertisementSpec) *v1beta1.BGPAdvertisement {
	return &v1beta1.BGPAdvertisement{ObjectMeta: meta(name), Spec: spec}
}

func l2Adv(name string, spec v1beta1.L2AdvertisementSpec) *v1beta1.L2Advertisement {
	return &v1beta1.L2Advertisement{ObjectMeta: meta(name), Spec: spec}
}

func community(name string, aliases ...v1beta1.CommunityAlias) *v1beta1.Community {
	return &v1beta1.Community{ObjectMeta: meta(name), Spec: v1beta1.CommunitySpec{Communities: aliases}}
}

func bfd(name string, spec v1beta1.BFDProfileSpec) *v1beta1.BFDProfile {
	return &v1beta1.BFDProfile{ObjectMeta: meta(name), Spec: spec}
}

func selector(key, value string) metav1.LabelSelector {
	return metav1.LabelSelector{MatchLabels: map[string]string{key: value}}
}

// duration returns the duration s, which must parse: table entries are built before any spec runs.
func duration(s string) *metav1.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return &metav1.Duration{Duration: d}
}

func inNamespace[T client.Object](obj T, namespace string) T {
	obj.SetNamespace(namespace)
	return obj
}

// wipe deletes every metallb.io object of the namespaces the suite uses, peers before BFD profiles, which
// cannot be deleted while in use.
func wipe(ctx context.Context) {
	for _, namespace := range []string{ns, "other"} {
		for _, obj := range []client.Object{
			&v1beta1.BGPAdvertisement{}, &v1beta1.L2Advertisement{}, &v1beta2.BGPPeer{},
			&v1beta1.Community{}, &v1beta1.IPAddressPool{}, &v1beta1.BFDProfile{},
		} {
			Expect(k8s.DeleteAllOf(ctx, obj, client.InNamespace(namespace))).To(Succeed())
		}
	}
}

// refusal is what a refused request is checked against.
type refusal struct {
	// field is the path a cause of the status names, and the message contains.
	field string
	// message is contained in the error message.
	message string
	// forbidden expects a Forbidden status, which names no field; otherwise the status is Invalid.
	forbidden bool
}

// expectRefused checks that err is the refusal: an API status of the right reason whose causes carry the field
// path, with the message.
func expectRefused(err error, want refusal) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the request was admitted")
	var status apierrors.APIStatus
	Expect(errors.As(err, &status)).To(BeTrue(), "%v is no API status", err)
	Expect(err.Error()).To(ContainSubstring(want.message))
	if want.forbidden {
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v is not Forbidden", err)
		return
	}
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v is not Invalid", err)
	Expect(causeFields(err)).To(ContainElement(want.field), "%v names no field %s", err, want.field)
	Expect(err.Error()).To(ContainSubstring(want.field))
}

// causeFields returns the field paths of the causes of an API status error.
func causeFields(err error) []string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	var fields []string
	for _, c := range status.Status().Details.Causes {
		fields = append(fields, c.Field)
	}
	return fields
}

// namesFields reports whether a refusal names a field in each of its causes, and has at least one.
func namesFields(err error) bool {
	fields := causeFields(err)
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		if f == "" || !strings.Contains(err.Error(), f) {
			return false
		}
	}
	return true
}

// byWebhook reports whether a refusal comes from one of ferrolb's webhooks rather than from the API server's
// own validation (schema, CEL).
func byWebhook(err error) bool {
	return err != nil && strings.Contains(err.Error(), "admission webhook")
}
