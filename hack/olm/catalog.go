package olm

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// CatalogBundle is a bundle and the image reference a catalog gives OLM for it.
type CatalogBundle struct {
	*Bundle
	Image string
}

// RenderCatalog is the file-based catalog (one YAML stream: the package, its channel, the bundles) of bundles,
// which must share a package and channel and come in upgrade order: each bundle's olm.bundle blob is what `opm
// render` makes of its directory, with its image set; the channel's entries follow each CSV's spec.replaces. The
// catalog passes `opm validate`.
func RenderCatalog(ctx context.Context, opm string, bundles []CatalogBundle) ([]byte, error) {
	if len(bundles) == 0 {
		return nil, fmt.Errorf("a catalog needs a bundle")
	}
	pkg, channel := bundles[0].Package, bundles[0].Channel
	var entries []any
	blobs := []any{
		map[string]any{"schema": "olm.package", "name": pkg, "defaultChannel": channel},
		map[string]any{"schema": "olm.channel", "package": pkg, "name": channel},
	}
	for _, b := range bundles {
		if b.Package != pkg || b.Channel != channel {
			return nil, fmt.Errorf("bundle %s is in package %s channel %s, not %s %s", b.CSVName(), b.Package, b.Channel, pkg, channel)
		}
		blob, err := renderBundle(ctx, opm, b)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, blob)
		entry := map[string]any{"name": b.CSVName()}
		if r := b.Replaces(); r != "" {
			entry["replaces"] = r
		}
		entries = append(entries, entry)
	}
	blobs[1].(map[string]any)["entries"] = entries
	var out bytes.Buffer
	for _, blob := range blobs {
		data, err := yaml.Marshal(blob)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(data)
	}
	if err := validateCatalog(ctx, opm, pkg, out.Bytes()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// renderBundle runs `opm render` on the bundle's directory and sets the image (a directory has none).
func renderBundle(ctx context.Context, opm string, b CatalogBundle) (map[string]any, error) {
	dir, err := os.MkdirTemp("", "ferrolb-bundle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := b.WriteDir(dir); err != nil {
		return nil, err
	}
	out, err := runOPM(ctx, opm, "render", dir, "--output=yaml")
	if err != nil {
		return nil, fmt.Errorf("rendering bundle %s: %w", b.CSVName(), err)
	}
	objs, err := decodeYAML(out)
	if err != nil {
		return nil, fmt.Errorf("decoding opm render's output: %w", err)
	}
	if len(objs) != 1 || objs[0].Object["schema"] != "olm.bundle" {
		return nil, fmt.Errorf("opm render of bundle %s gave %d blobs, want one olm.bundle", b.CSVName(), len(objs))
	}
	blob := objs[0].Object
	blob["image"] = b.Image
	return blob, unstructured.SetNestedField(blob, b.CSVName(), "name")
}

// validateCatalog runs `opm validate` on the catalog laid out as a catalog image holds it.
func validateCatalog(ctx context.Context, opm, pkg string, catalog []byte) error {
	dir, err := os.MkdirTemp("", "ferrolb-catalog-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, pkg), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, pkg, "catalog.yaml"), catalog, 0o644); err != nil {
		return err
	}
	if _, err := runOPM(ctx, opm, "validate", dir); err != nil {
		return fmt.Errorf("the catalog is invalid: %w", err)
	}
	return nil
}

func runOPM(ctx context.Context, opm string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, opm, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("opm %s: %w\n%s", args[0], err, lastLines(stderr.String(), 20))
	}
	return out, nil
}

// ConfigsDir is where a catalog image holds its file-based catalog (the upstream images' label says so), and
// cacheDir where it holds opm's cache of it.
const (
	ConfigsDir = "/configs"
	cacheDir   = "/tmp/cache"
)

// CatalogImage is an image that serves catalog as the Dockerfile `opm generate dockerfile` writes does: the
// tools image (opm, grpc_health_probe) plus the catalog under ConfigsDir and the cache `opm serve --cache-only`
// builds of it (opm checks at start that the cache matches the catalog), running `opm serve`.
func CatalogImage(ctx context.Context, opm string, tools v1.Image, pkg string, catalog []byte) (v1.Image, error) {
	files := []File{{Path: ConfigsDir + "/" + pkg + "/catalog.yaml", Data: catalog, Mode: 0o644}, {Path: "/tmp", Mode: 0o1777, Dir: true}}
	cache, err := buildCache(ctx, opm, pkg, catalog)
	if err != nil {
		return nil, err
	}
	return newImage(tools, append(files, cache...), imageConfig{
		Entrypoint: []string{"/bin/opm"},
		Cmd:        []string{"serve", ConfigsDir, "--cache-dir=" + cacheDir},
		User:       olmUser,
		Labels:     map[string]string{"operators.operatorframework.io.index.configs.v1": ConfigsDir},
	})
}

// buildCache runs `opm serve --cache-only` on the catalog laid out as in the image and returns the cache's
// files under cacheDir, owned by the user the catalog pods run as (opm opens the cache read-write).
func buildCache(ctx context.Context, opm, pkg string, catalog []byte) ([]File, error) {
	dir, err := os.MkdirTemp("", "ferrolb-catalog-cache-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	configs, cache := filepath.Join(dir, "configs"), filepath.Join(dir, "cache")
	if err := os.MkdirAll(filepath.Join(configs, pkg), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(configs, pkg, "catalog.yaml"), catalog, 0o644); err != nil {
		return nil, err
	}
	if _, err := runOPM(ctx, opm, "serve", configs, "--cache-dir="+cache, "--cache-only"); err != nil {
		return nil, fmt.Errorf("building the catalog's cache: %w", err)
	}
	uid, _ := strconv.Atoi(olmUser)
	var files []File
	err = filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(cache, p)
		if err != nil {
			return err
		}
		f := File{Path: path.Join(cacheDir, filepath.ToSlash(rel)), UID: uid, Mode: 0o755, Dir: d.IsDir()}
		if !d.IsDir() {
			if f.Data, err = os.ReadFile(p); err != nil {
				return err
			}
			f.Mode = 0o644
		}
		files = append(files, f)
		return nil
	})
	return files, err
}

// olmUser is the user of OLM's upstream image.
const olmUser = "1001"

// ToolsImage is the image of OLM's operators and utilities, as OLM's Dockerfile lays it out: every binary in
// /bin (with cp, which the bundle unpack Jobs call), and a writable /tmp.
func ToolsImage(binDir string, cp []byte) (v1.Image, error) {
	files := []File{{Path: "/bin/cp", Data: cp, Mode: 0o755}, {Path: "/tmp", Mode: 0o1777, Dir: true}}
	for _, n := range Binaries() {
		data, err := os.ReadFile(filepath.Join(binDir, n))
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: "/bin/" + n, Data: data, Mode: 0o755})
	}
	return newImage(empty.Image, files, imageConfig{Entrypoint: []string{"/bin/olm"}, User: olmUser})
}
