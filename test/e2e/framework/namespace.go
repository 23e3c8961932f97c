//go:build linux

package framework

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// e2eLabel marks every namespace the suite creates.
const e2eLabel = "e2e.ferrolb.io/spec"

// Namespace creates a namespace for the running spec, named e2e-<base>-<random>, and deletes it (waiting until
// it is gone) when the spec ends, whatever its outcome. Dump includes it when the spec fails.
func (f *Framework) Namespace(ctx context.Context, base string) string {
	ns, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "e2e-" + base + "-",
		Labels:       map[string]string{e2eLabel: base},
	}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "creating a namespace for the spec")
	f.namespaces = append(f.namespaces, ns.Name)
	DeferCleanup(f.deleteNamespace, ns.Name, NodeTimeout(Timeout+10*time.Second))
	return ns.Name
}

func (f *Framework) deleteNamespace(ctx SpecContext, name string) {
	err := f.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	Expect(err).NotTo(HaveOccurred(), "deleting namespace %s", name)
	Eventually(ctx, func(ctx context.Context) error {
		_, err := f.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		return err
	}).WithTimeout(Timeout).WithPolling(PollInterval).Should(Satisfy(apierrors.IsNotFound), "namespace %s to be deleted", name)
}
