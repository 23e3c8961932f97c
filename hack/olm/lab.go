//go:build linux

package olm

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// The lab's image repositories for OLM. The tools image is named by tag (pods that run it get pull policy
// IfNotPresent); bundles and catalogs are named by digest, because OLM pulls an image named by tag on every
// start (image.InferImagePullPolicy: Always unless the reference has a digest).
const (
	ToolsRepository   = "ferrolb.local/olm"
	BundleRepository  = "ferrolb.local/ferrolb-bundle"
	CatalogRepository = "ferrolb.local/ferrolb-catalog"
)

// OperatorNamespace is where ferrolb is installed (the install contract: metallb-system).
const OperatorNamespace = "metallb-system"

// CatalogName is the CatalogSource that serves ferrolb's lab catalogs, CatalogIP its alias Service's ClusterIP
// (see CatalogHost): in the lower band of the lab's Service range (10.96.0.0/16), which Kubernetes leaves to
// fixed addresses.
const (
	CatalogName = "ferrolb-catalog"
	CatalogIP   = "10.96.0.50"
)

// Hosts are the catalog operator's /etc/hosts entries in the lab.
var Hosts = map[string]string{CatalogHost(CatalogName): CatalogIP}

// Artifacts are OLM and ferrolb's catalogs, loaded into a lab.
type Artifacts struct {
	// Manifests are OLM's objects (Install, Uninstall).
	Manifests []*unstructured.Unstructured
	// Bundles are the project's bundle (bundle/ with the lab's image) and its successor, one patch version up,
	// which replaces it.
	Bundles []CatalogBundle
	// Catalogs are catalog image references: Catalogs[0] serves Bundles[0], Catalogs[1] both (an upgrade).
	Catalogs []string
}

// Subscription is ferrolb's subscription from the catalog Catalogs[0].
func (a *Artifacts) Subscription() Subscription {
	return Subscription{
		Namespace:    OperatorNamespace,
		Package:      a.Bundles[0].Package,
		Channel:      a.Bundles[0].Channel,
		Catalog:      CatalogName,
		CatalogImage: a.Catalogs[0],
		CatalogIP:    CatalogIP,
	}
}

// Prepare builds OLM (cached), the tools, bundle and catalog images from the bundle in bundleDir (its operator
// image replaced by image, one the lab's nodes hold), and imports them into every node of l.
func Prepare(ctx context.Context, l *lab.Lab, bundleDir, image string, log io.Writer) (*Artifacts, error) {
	start := time.Now()
	binDir, err := (&Builder{Log: log}).Ensure()
	if err != nil {
		return nil, err
	}
	cp, err := buildCP(ctx)
	if err != nil {
		return nil, err
	}
	tools, err := ToolsImage(binDir, cp)
	if err != nil {
		return nil, fmt.Errorf("building the OLM image: %w", err)
	}
	toolsRef := ToolsRepository + ":" + Version
	images := map[v1.Image][]string{tools: {toolsRef}}

	first, err := ReadBundle(bundleDir)
	if err != nil {
		return nil, err
	}
	if first, err = first.WithImage(image); err != nil {
		return nil, err
	}
	next, err := nextPatch(first.Version())
	if err != nil {
		return nil, err
	}
	second, err := first.Successor(next)
	if err != nil {
		return nil, err
	}
	a := &Artifacts{}
	for _, b := range []*Bundle{first, second} {
		img, err := b.Image()
		if err != nil {
			return nil, fmt.Errorf("building the bundle image of %s: %w", b.CSVName(), err)
		}
		ref, err := DigestRef(BundleRepository, img)
		if err != nil {
			return nil, err
		}
		images[img] = []string{BundleRepository + ":v" + b.Version(), ref}
		a.Bundles = append(a.Bundles, CatalogBundle{Bundle: b, Image: ref})
	}
	opm := filepath.Join(binDir, "opm")
	for i := range a.Bundles {
		catalog, err := RenderCatalog(ctx, opm, a.Bundles[:i+1])
		if err != nil {
			return nil, err
		}
		img, err := CatalogImage(ctx, opm, tools, first.Package, catalog)
		if err != nil {
			return nil, fmt.Errorf("building a catalog image: %w", err)
		}
		ref, err := DigestRef(CatalogRepository, img)
		if err != nil {
			return nil, err
		}
		images[img] = []string{CatalogRepository + ":v" + a.Bundles[i].Version(), ref}
		a.Catalogs = append(a.Catalogs, ref)
	}
	archive := filepath.Join(l.Dir, "images", "olm.tar")
	if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
		return nil, err
	}
	if err := WriteArchive(archive, images); err != nil {
		return nil, err
	}
	if err := l.ImportArchive(ctx, archive); err != nil {
		return nil, err
	}
	moduleDir, err := ModuleDir()
	if err != nil {
		return nil, err
	}
	if a.Manifests, err = Manifests(moduleDir, toolsRef, Hosts); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "[olm] OLM %s, bundles %s and %s, and their catalogs loaded into the lab in %s\n",
		Version, first.CSVName(), second.CSVName(), time.Since(start).Round(100*time.Millisecond))
	return a, nil
}

// buildCP compiles the tools image's /bin/cp (hack/olm/cp) from the source tree the caller runs in (a running
// lab's SourceDir may be another checkout).
func buildCP(ctx context.Context) ([]byte, error) {
	dir, err := os.MkdirTemp("", "ferrolb-olm-cp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "cp")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "github.com/ferrolb/ferrolb/hack/olm/cp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building hack/olm/cp: %w\n%s", err, msg)
	}
	return os.ReadFile(out)
}

// nextPatch is version with its patch number one up: "0.1.0" → "0.1.1".
func nextPatch(version string) (string, error) {
	parts := strings.Split(version, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("bundle version %q is not MAJOR.MINOR.PATCH", version)
	}
	patch, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", fmt.Errorf("bundle version %q: patch: %w", version, err)
	}
	parts[2] = strconv.Itoa(patch + 1)
	return strings.Join(parts, "."), nil
}
