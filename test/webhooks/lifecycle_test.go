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
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

var _ = Describe("Webhook lifecycle", func() {
	It("is ready once it serves", func() {
		Expect(ready(&http.Request{})).To(Succeed())
	})

	It("refuses deleting a BFD profile while a peer uses it", func(ctx context.Context) {
		profile := bfd("fast", v1beta1.BFDProfileSpec{})
		Expect(k8s.Create(ctx, profile)).To(Succeed())
		Expect(k8s.Create(ctx, peer("tor-b", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "fast" }))).To(Succeed())
		Expect(k8s.Create(ctx, &v1beta1.BGPPeer{ObjectMeta: meta("tor-a"), Spec: v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "192.0.2.9", BFDProfile: "fast"}})).To(Succeed())

		expectRefused(k8s.Delete(ctx, profile), refusal{forbidden: true, message: "failed to delete BFDProfile fast, used by BGPPeer tor-a"})
		Expect(k8s.Delete(ctx, &v1beta2.BGPPeer{ObjectMeta: meta("tor-a")})).To(Succeed())
		expectRefused(k8s.Delete(ctx, profile), refusal{forbidden: true, message: "failed to delete BFDProfile fast, used by BGPPeer tor-b"})
		Expect(k8s.Delete(ctx, &v1beta2.BGPPeer{ObjectMeta: meta("tor-b")})).To(Succeed())
		Expect(k8s.Delete(ctx, profile)).To(Succeed())
	})

	It("validates updates against the rest of the configuration", func(ctx context.Context) {
		Expect(k8s.Create(ctx, pool("a", "10.10.0.0/24"))).To(Succeed())
		b := pool("b", "10.10.1.0/24")
		Expect(k8s.Create(ctx, b)).To(Succeed())

		b.Spec.Addresses = []string{"10.10.0.128/25"}
		expectRefused(k8s.Update(ctx, b), refusal{field: "spec.addresses[0]", message: `overlaps with already defined CIDR "10.10.0.0/24"`})
		b.Spec.Addresses = []string{"10.10.2.0/24"}
		Expect(k8s.Update(ctx, b)).To(Succeed())

		profile := bfd("echo", v1beta1.BFDProfileSpec{})
		Expect(k8s.Create(ctx, profile)).To(Succeed())
		Expect(k8s.Create(ctx, peer("tor", func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "echo" }))).To(Succeed())
		Expect(k8s.Create(ctx, pool("v6", "fc00:10::/64"))).To(Succeed())
		Expect(k8s.Create(ctx, bgpAdv("adv", v1beta1.BGPAdvertisementSpec{}))).To(Succeed())
		profile.Spec.EchoMode = new(true)
		expectRefused(k8s.Update(ctx, profile), refusal{field: "spec.peers", message: "which has bfd echo enabled, which is not possible"})
	})

	It("warns about disableMP on create only", func(ctx context.Context) {
		const warning = "disable mp is deprecated and has no effect since it's the default behavior now"
		before := warnings.count()
		p := peer("tor", func(s *v1beta2.BGPPeerSpec) { s.DisableMP = true })
		Expect(k8s.Create(ctx, p)).To(Succeed())
		Expect(warnings.since(before)).To(ContainElement(warning))

		before = warnings.count()
		p.Labels = map[string]string{"a": "b"}
		Expect(k8s.Update(ctx, p)).To(Succeed())
		Expect(warnings.since(before)).NotTo(ContainElement(warning))
	})

	// Objects created while no webhook ran (before the install, or with failurePolicy changed) may be invalid.
	// They must not make every later apply fail.
	It("does not let a broken configuration block unrelated changes", func(ctx context.Context) {
		withoutWebhooks(ctx, func() {
			Expect(k8s.Create(ctx, pool("x", "10.20.0.0/24"))).To(Succeed())
			Expect(k8s.Create(ctx, pool("y", "10.20.0.0/24"))).To(Succeed())
			Expect(k8s.Create(ctx, inNamespace(pool("elsewhere", "10.20.0.0/24"), "other"))).To(Succeed())
		})

		before := warnings.count()
		Expect(k8s.Create(ctx, pool("a", "10.21.0.0/24"))).To(Succeed())
		Expect(warnings.since(before)).To(ContainElement(ContainSubstring(`the configuration has a problem this change did not cause: IPAddressPool "y"`)))

		By("admitting a metadata change of a broken object")
		y := &v1beta1.IPAddressPool{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "y"}, y)).To(Succeed())
		y.Labels = map[string]string{"owner": "me"}
		Expect(k8s.Update(ctx, y)).To(Succeed())

		By("refusing a change that adds a problem")
		expectRefused(k8s.Create(ctx, pool("z", "10.20.0.0/25")), refusal{field: "spec.addresses[0]", message: `overlaps with already defined CIDR "10.20.0.0/24"`})

		By("admitting updates of objects outside ferrolb's namespace, which are no configuration")
		elsewhere := &v1beta1.IPAddressPool{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "other", Name: "elsewhere"}, elsewhere)).To(Succeed())
		elsewhere.Labels = map[string]string{"owner": "me"}
		Expect(k8s.Update(ctx, elsewhere)).To(Succeed())
	})
})

// withoutWebhooks runs f while the validating webhook configuration is removed, then restores it and waits
// until the webhooks refuse again.
func withoutWebhooks(ctx context.Context, f func()) {
	GinkgoHelper()
	vwcs := &admissionregistrationv1.ValidatingWebhookConfigurationList{}
	Expect(k8s.List(ctx, vwcs)).To(Succeed())
	Expect(vwcs.Items).NotTo(BeEmpty())
	for i := range vwcs.Items {
		Expect(k8s.Delete(ctx, &vwcs.Items[i])).To(Succeed())
	}
	probe := func() error {
		p := inNamespace(pool("probe", "10.255.0.0/24"), "other")
		err := k8s.Create(ctx, p)
		if err == nil {
			_ = k8s.Delete(ctx, p)
		}
		return err
	}
	Eventually(probe).Should(Succeed(), "the API server still calls the webhooks")
	f()
	for _, vwc := range vwcs.Items {
		vwc.ResourceVersion, vwc.UID = "", ""
		Expect(k8s.Create(ctx, &vwc)).To(Succeed())
	}
	Eventually(probe).ShouldNot(Succeed(), "the API server does not call the webhooks again")
}
