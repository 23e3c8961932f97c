// Package testenv starts a real kube-apiserver and etcd (controller-runtime's envtest) with every ferrolb CRD
// installed, for the project's reconciler, webhook and API tests. The binaries come from KUBEBUILDER_ASSETS
// when set (make test sets it), otherwise they are built from the Go module proxy into the shared cache, so
// `go test ./...` works on its own.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ferrolb/ferrolb/api"
	"github.com/ferrolb/ferrolb/hack/assets"
)

// Scheme knows the built-in kinds and every ferrolb kind.
var Scheme = api.NewScheme()

// RepoRoot is the root of the ferrolb source tree.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// New returns an envtest environment with every CRD of config/crd/bases and the Kubernetes binaries located.
func New() (*envtest.Environment, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		var err error
		b := &assets.Builder{Log: os.Stderr}
		if dir, err = b.Ensure(assets.EnvtestBinaries...); err != nil {
			return nil, fmt.Errorf("building envtest binaries: %w", err)
		}
	}
	return &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: dir,
		CRDInstallOptions:     envtest.CRDInstallOptions{Scheme: Scheme},
	}, nil
}
