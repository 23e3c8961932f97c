package helm

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ferrolb/ferrolb/test/testenv"
)

// The suite applies the rendered chart to a real kube-apiserver and etcd (envtest) with the chart's own CRDs
// installed, as Helm installs crds/ before the templates.

var k8s client.Client

func TestAPIServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Helm chart against an API server")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	env, err := testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// The chart's CRDs, as they are: without testenv's scheme, envtest leaves BGPPeer's conversion webhook
	// pointing at metallb-system/metallb-webhook-service (the dry-runs only use the storage version v1beta2).
	env.CRDDirectoryPaths = []string{filepath.Join(chartDir(), "crds")}
	env.CRDInstallOptions = envtest.CRDInstallOptions{}
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	k8s, err = client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
})
