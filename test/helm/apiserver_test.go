package helm

import (
	"context"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("The rendered chart", func() {
	// Every object of every value set passes a server-side apply dry-run: the API server checks it against the
	// built-in kinds' validation and the chart's CRDs (schema, CEL rules), and refuses fields they do not declare.
	// The webhooks are not called: a dry-run does not create the webhook configuration.
	DescribeTable("is accepted by the API server with server-side apply",
		func(ctx context.Context, values string) {
			rel, err := render(GinkgoT(), namespace, filepath.Join("testdata", "values", values))
			Expect(err).NotTo(HaveOccurred())
			objs := objects(GinkgoT(), rel.Manifest)
			Expect(objs).NotTo(BeEmpty())
			for _, o := range objs {
				err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(o),
					client.DryRunAll, client.FieldOwner("helm"), client.ForceOwnership)
				Expect(err).NotTo(HaveOccurred(), "%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
			}
		},
		Entry("defaults", "defaults.yaml"),
		Entry("the seeds' BGP setup", "flux-seed-bgp.yaml"),
		Entry("the seeds' layer 2 setup", "flux-seed-l2.yaml"),
		Entry("every value", "full.yaml"),
	)

	It("refuses a spec field the CRD does not declare", func(ctx context.Context) {
		rel, err := render(GinkgoT(), namespace, filepath.Join("testdata", "values", "full.yaml"))
		Expect(err).NotTo(HaveOccurred())
		pool := find(GinkgoT(), objects(GinkgoT(), rel.Manifest), "IPAddressPool", namespace, "default")
		Expect(unstructuredSet(pool.Object, "192.168.1.0/24", "spec", "adresses")).To(Succeed())
		err = k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(pool), client.DryRunAll, client.FieldOwner("helm"))
		Expect(err).To(MatchError(ContainSubstring("adresses")))
	})
})

func unstructuredSet(obj map[string]any, value any, fields ...string) error {
	return unstructured.SetNestedField(obj, value, fields...)
}
