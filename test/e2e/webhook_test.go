//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/hack/assets"
)

// The webhooks' Service and the BGPPeer conversion stanza name ferrolb's namespace, as an install does.
const ferrolbNamespace = "metallb-system"

var _ = Describe("The webhooks", func() {
	It("refuse an overlapping pool for kubectl apply and convert BGPPeers, served by the controller pod", func(ctx SpecContext) {
		c := controllerRuntimeClient()
		installCRDs()
		// The conversion stanza points the API server at the controller: put the CRDs back as they were after.
		DeferCleanup(installCRDs)
		createNamespace(ctx, c, ferrolbNamespace)

		By("installing the webhook configuration, its Service and the BGPPeer conversion stanza from config/")
		for _, dir := range []string{"webhook", "crd"} {
			for _, obj := range kustomize(dir) {
				Expect(c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("e2e"), client.ForceOwnership)).
					To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
				if obj.GetKind() == "ValidatingWebhookConfiguration" {
					DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(c.Delete(ctx, obj))).To(Succeed()) })
				}
			}
		}
		deployController(ctx, c, ferrolbNamespace, true)

		By("accepting a pool, then refusing an overlapping one with the field and MetalLB's message")
		Expect(kubectlApply(ctx, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first, namespace: metallb-system}
spec: {addresses: [10.99.0.200/30]}
`)).To(Succeed())
		err := kubectlApply(ctx, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: overlapping, namespace: metallb-system}
spec: {addresses: [10.99.0.202-10.99.0.205]}
`)
		Expect(err).To(HaveOccurred())
		// Only the webhook can see the other pool: the refusal is its verdict, as an Invalid status.
		Expect(err.Error()).To(ContainSubstring(`The IPAddressPool "overlapping" is invalid: spec.addresses[0]`))
		Expect(err.Error()).To(ContainSubstring(`CIDR "10.99.0.202/31" in pool "overlapping" overlaps with already defined CIDR "10.99.0.200/30"`))

		By("converting a v1beta1 BGPPeer to the v1beta2 storage version")
		Expect(kubectlApply(ctx, `
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: legacy, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 10.99.0.1, holdTime: 9s, nodeSelectors: [{matchLabels: {kubernetes.io/os: linux}}]}
`)).To(Succeed())
		peer := &metallbv1beta2.BGPPeer{}
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ferrolbNamespace, Name: "legacy"}, peer)).To(Succeed())
		Expect(peer.Spec.PeerAddress).To(Equal("10.99.0.1"))
		Expect(peer.Spec.HoldTime.Duration).To(Equal(9 * time.Second))
		Expect(peer.Spec.NodeSelectors).To(ConsistOf(metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/os": "linux"}}))

		By("reading a v1beta2 BGPPeer as v1beta1")
		Expect(c.Create(ctx, &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ferrolbNamespace, Name: "current"},
			Spec: metallbv1beta2.BGPPeerSpec{MyASN: 64513, ASN: 64512, PeerAddress: "fd99::1"}})).To(Succeed())
		legacy := &unstructured.Unstructured{}
		legacy.SetAPIVersion("metallb.io/v1beta1")
		legacy.SetKind("BGPPeer")
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ferrolbNamespace, Name: "current"}, legacy)).To(Succeed())
		Expect(legacy.Object["spec"]).To(HaveKeyWithValue("peerAddress", "fd99::1"))
	}, SpecTimeout(specTimeout))
})

// createNamespace creates a namespace with a fixed name for the spec and deletes it, waiting, when it ends.
func createNamespace(ctx context.Context, c client.Client, name string) {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(c.Create(ctx, ns)).To(Succeed(), "namespace %s must not exist before the spec", name)
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(c.Delete(ctx, ns))).To(Succeed())
		Eventually(ctx, func() bool { return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(ns), ns)) }).Should(BeTrue())
	})
}

// kubectl is the kubectl built with the cluster's binaries.
func kubectl() string {
	GinkgoHelper()
	dir, err := (&assets.Builder{}).BinDir()
	Expect(err).NotTo(HaveOccurred())
	return filepath.Join(dir, "kubectl")
}

// kustomize builds config/<dir> as an install would.
func kustomize(dir string) []*unstructured.Unstructured {
	GinkgoHelper()
	out, err := exec.Command(kubectl(), "kustomize", repoPath("config", dir)).Output()
	Expect(err).NotTo(HaveOccurred())
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	Expect(objs).NotTo(BeEmpty())
	return objs
}

// kubectlApply runs `kubectl apply` from the root namespace; the error carries kubectl's output.
func kubectlApply(ctx context.Context, manifest string) error {
	cmd := exec.CommandContext(ctx, kubectl(), "--kubeconfig", f.Lab.HostKubeconfig(), "apply", "-f", "-")
	cmd.Stdin = bytes.NewBufferString(manifest)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &kubectlError{out: string(out)}
	}
	return nil
}

type kubectlError struct{ out string }

func (e *kubectlError) Error() string { return "kubectl apply: " + e.out }
