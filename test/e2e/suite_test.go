//go:build e2e

package e2e

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ferrolb/ferrolb/test/e2e/framework"
)

// f is the suite's framework, set up once before every spec.
var f *framework.Framework

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ferrolb end-to-end")
}

// A cold machine builds the Kubernetes node binaries first (minutes); a warm one is up in about 20 seconds.
const setupTimeout = 25 * time.Minute

var _ = BeforeSuite(func(ctx SpecContext) {
	SetDefaultEventuallyTimeout(framework.Timeout)
	SetDefaultEventuallyPollingInterval(framework.PollInterval)
	var err error
	f, err = framework.Setup(ctx, GinkgoWriter)
	if f != nil {
		DeferCleanup(func(ctx SpecContext) {
			Expect(f.Teardown(ctx)).To(Succeed())
		}, NodeTimeout(2*time.Minute))
	}
	if err != nil && f != nil {
		f.Dump(ctx, GinkgoWriter, nil)
	}
	Expect(err).NotTo(HaveOccurred(), "setting up the lab")
}, NodeTimeout(setupTimeout))

var _ = AfterEach(func(ctx SpecContext) {
	f.AfterEach(ctx)
})
