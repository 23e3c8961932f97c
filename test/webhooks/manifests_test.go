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
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// kustomize builds a kustomization of config/ with the kubectl of the test binaries.
func kustomize(dir string) [][]byte {
	GinkgoHelper()
	out, err := exec.Command(filepath.Join(env.BinaryAssetsDirectory, "kubectl"), "kustomize",
		filepath.Join(testenv.RepoRoot(), "config", dir)).Output()
	Expect(err).NotTo(HaveOccurred())
	var docs [][]byte
	reader := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := reader.Read()
		if err != nil {
			break
		}
		docs = append(docs, doc)
	}
	return docs
}

// The manifests an install applies carry MetalLB's names, so that MetalLB's tooling, the operator's bundle and
// the rotator's defaults meet the same objects.
var _ = Describe("Webhook manifests", func() {
	It("declare MetalLB's webhooks, Service and configuration name", func() {
		var vwc admissionregistrationv1.ValidatingWebhookConfiguration
		var svc corev1.Service
		for _, doc := range kustomize("webhook") {
			switch {
			case bytes.Contains(doc, []byte("kind: ValidatingWebhookConfiguration")):
				Expect(yaml.Unmarshal(doc, &vwc)).To(Succeed())
			case bytes.Contains(doc, []byte("kind: Service")):
				Expect(yaml.Unmarshal(doc, &svc)).To(Succeed())
			}
		}
		Expect(vwc.Name).To(Equal(webhook.DefaultWebhookConfigName))
		Expect(svc.Name).To(Equal(webhook.DefaultServiceName))
		Expect(svc.Spec.Ports).To(ConsistOf(HaveField("TargetPort", intstr.FromInt32(9443))))
		Expect(svc.Spec.Ports[0].Port).To(Equal(int32(443)))

		type hook struct{ name, path, resource, version, ops string }
		var got []hook
		for _, w := range vwc.Webhooks {
			Expect(*w.FailurePolicy).To(Equal(admissionregistrationv1.Fail))
			Expect(*w.SideEffects).To(Equal(admissionregistrationv1.SideEffectClassNone))
			Expect(w.AdmissionReviewVersions).To(Equal([]string{"v1"}))
			Expect(w.ClientConfig.Service.Name).To(Equal(webhook.DefaultServiceName))
			Expect(w.ClientConfig.Service.Namespace).To(Equal(ns))
			Expect(w.Rules).To(HaveLen(1))
			r := w.Rules[0]
			ops := ""
			for _, op := range r.Operations {
				ops += string(op) + " "
			}
			got = append(got, hook{w.Name, *w.ClientConfig.Service.Path, r.Resources[0], r.APIVersions[0], ops})
		}
		Expect(got).To(ConsistOf(
			hook{"ipaddresspoolvalidationwebhook.metallb.io", webhook.PathIPAddressPool, "ipaddresspools", "v1beta1", "CREATE UPDATE "},
			hook{"bgppeersvalidationwebhook.metallb.io", webhook.PathBGPPeer, "bgppeers", "v1beta2", "CREATE UPDATE "},
			hook{"bgpadvertisementvalidationwebhook.metallb.io", webhook.PathBGPAdvertisement, "bgpadvertisements", "v1beta1", "CREATE UPDATE "},
			hook{"l2advertisementvalidationwebhook.metallb.io", webhook.PathL2Advertisement, "l2advertisements", "v1beta1", "CREATE UPDATE "},
			hook{"communityvalidationwebhook.metallb.io", webhook.PathCommunity, "communities", "v1beta1", "CREATE UPDATE "},
			hook{"bfdprofilevalidationwebhook.metallb.io", webhook.PathBFDProfile, "bfdprofiles", "v1beta1", "CREATE UPDATE DELETE "},
		))
	})

	It("convert BGPPeers through the webhook Service", func() {
		var found bool
		for _, doc := range kustomize("crd") {
			var crd apiextensionsv1.CustomResourceDefinition
			Expect(yaml.Unmarshal(doc, &crd)).To(Succeed())
			if crd.Name != "bgppeers.metallb.io" {
				Expect(crd.Spec.Conversion).To(SatisfyAny(BeNil(), HaveField("Strategy", apiextensionsv1.NoneConverter)), crd.Name)
				continue
			}
			found = true
			Expect(crd.Spec.Conversion.Strategy).To(Equal(apiextensionsv1.WebhookConverter))
			cc := crd.Spec.Conversion.Webhook.ClientConfig
			Expect(cc.Service.Name).To(Equal(webhook.DefaultServiceName))
			Expect(cc.Service.Namespace).To(Equal(ns))
			Expect(*cc.Service.Path).To(Equal(webhook.PathConvert))
			Expect(cc.CABundle).To(BeEmpty(), "a caBundle in the manifests would overwrite the injected one on every apply")
			Expect(crd.Spec.Conversion.Webhook.ConversionReviewVersions).To(Equal([]string{"v1"}))
		}
		Expect(found).To(BeTrue())
	})
})
