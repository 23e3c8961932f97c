package olm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/ferrolb/ferrolb/hack/assets"
)

// The pinned versions. OLM v0.33.0 is the release that pairs with operator-registry v1.5x: v0.32.0 (which pins
// v1.55.0) is not served by the module proxy (403 on its zip), v0.33.0 pins v1.56.0, and both OLM and opm are
// built in one module from OLM's own go.mod, so they agree on the registry's gRPC API.
const (
	// Version is the OLM release: the olm and catalog operators, copy-content and cpb, and the manifests.
	Version = "v0.33.0"
	// RegistryVersion is operator-registry's (opm's) version, the one OLM's go.mod requires.
	RegistryVersion = "v1.56.0"
	// HealthProbeVersion is grpc-health-probe's, which OLM's catalog pods call as their probes.
	HealthProbeVersion = "v0.4.40"
)

const (
	olmModule      = "github.com/operator-framework/operator-lifecycle-manager"
	registryModule = "github.com/operator-framework/operator-registry"
	probeModule    = "github.com/grpc-ecosystem/grpc-health-probe"
)

// upstreamBinaries maps each binary of the OLM image to its package. OLM's Dockerfile puts them in /bin.
var upstreamBinaries = map[string]string{
	"olm":          olmModule + "/cmd/olm",
	"catalog":      olmModule + "/cmd/catalog",
	"copy-content": olmModule + "/cmd/copy-content",
	"cpb":          olmModule + "/util/cpb",
	"opm":          registryModule + "/cmd/opm",
}

// probeBinary is grpc-health-probe's name in upstream opm images, which OLM's catalog pods exec.
const probeBinary = "grpc_health_probe"

// buildTags are those of OLM's and operator-registry's Makefiles: json1 for sqlite, containers_image_openpgp
// so containers/image verifies signatures in Go instead of through gpgme (C).
const buildTags = "json1,containers_image_openpgp"

// Builder builds OLM's binaries and opm from the Go module proxy into a cache keyed by their versions.
type Builder struct {
	// CacheRoot holds one directory per version set. Defaults to $FERROLB_OLM_CACHE, else
	// $XDG_CACHE_HOME/ferrolb/olm.
	CacheRoot string
	// Log receives progress lines.
	Log io.Writer
}

// BinDir is the directory that holds (or will hold) the binaries.
func (b *Builder) BinDir() (string, error) {
	root, err := assets.CacheRoot(b.CacheRoot, "FERROLB_OLM_CACHE", "olm")
	if err != nil {
		return "", err
	}
	return filepath.Join(root, fmt.Sprintf("olm-%s-registry-%s-probe-%s", Version, RegistryVersion, HealthProbeVersion), "bin"), nil
}

// Binaries are the names of every binary Ensure provides.
func Binaries() []string {
	names := []string{probeBinary}
	for n := range upstreamBinaries {
		names = append(names, n)
	}
	return names
}

// Ensure builds what the cache lacks, once: parallel callers wait on a lock for one build. It returns the bin
// directory.
func (b *Builder) Ensure() (string, error) {
	dir, err := b.BinDir()
	if err != nil {
		return "", err
	}
	err = assets.BuildOnce(dir, Binaries(), b.logf, func(todo []string) error {
		if slices.Contains(todo, probeBinary) {
			if err := b.buildProbe(dir); err != nil {
				return err
			}
		}
		if slices.ContainsFunc(todo, func(n string) bool { return n != probeBinary }) {
			return b.buildOLM(dir)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return dir, nil
}

// buildOLM builds OLM's binaries and opm in a throwaway module that requires OLM and mirrors its go.mod's
// replace directives, so every dependency resolves to the version OLM's own build uses (the project's go.mod,
// on newer Kubernetes libraries, could not hold them).
func (b *Builder) buildOLM(dir string) error {
	start := time.Now()
	b.logf("building OLM %s and opm %s (a cold build takes several minutes)", Version, RegistryVersion)
	work, err := os.MkdirTemp("", "ferrolb-olm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	upstream, err := b.upstreamGoMod(work, olmModule, Version)
	if err != nil {
		return err
	}
	gomod, err := mirrorGoMod("olmassets", olmModule, Version, upstream)
	if err != nil {
		return err
	}
	pkgs := make([]string, 0, len(upstreamBinaries))
	for _, p := range upstreamBinaries {
		pkgs = append(pkgs, p)
	}
	if err := writeModule(work, gomod, pkgs); err != nil {
		return err
	}
	if _, err := b.goCmd(work, "mod", "tidy"); err != nil {
		return fmt.Errorf("resolving OLM %s's modules: %w", Version, err)
	}
	if err := b.checkRegistryVersion(work); err != nil {
		return err
	}
	// The version variables OLM's and operator-registry's Makefiles set.
	ldflags := strings.Join([]string{"-s", "-w",
		"-X", olmModule + "/pkg/version.OLMVersion=" + strings.TrimPrefix(Version, "v"),
		"-X", olmModule + "/pkg/version.GitCommit=" + Version,
		"-X", registryModule + "/cmd/opm/version.opmVersion=" + RegistryVersion,
		"-X", registryModule + "/cmd/opm/version.gitCommit=" + RegistryVersion,
	}, " ")
	for name, pkg := range upstreamBinaries {
		b.logf("go build %s", pkg)
		if err := b.build(work, dir, name, pkg, ldflags); err != nil {
			return err
		}
	}
	b.logf("OLM and opm built in %s", time.Since(start).Round(time.Second))
	return nil
}

// checkRegistryVersion makes sure opm is the operator-registry OLM pins: a different one would mean that the
// build did not mirror OLM's requirements.
func (b *Builder) checkRegistryVersion(work string) error {
	out, err := b.goCmd(work, "list", "-m", "-f", "{{.Version}}", registryModule)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(string(out)); got != RegistryVersion {
		return fmt.Errorf("OLM %s resolves operator-registry %s, not the pinned %s: update RegistryVersion", Version, got, RegistryVersion)
	}
	return nil
}

// buildProbe uses its own module: grpc-health-probe's gRPC is newer than the one OLM replaces gRPC with.
func (b *Builder) buildProbe(dir string) error {
	b.logf("building grpc-health-probe %s", HealthProbeVersion)
	work, err := os.MkdirTemp("", "ferrolb-grpc-health-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	gomod := fmt.Appendf(nil, "module probeassets\n\ngo 1.26.0\n\nrequire %s %s\n", probeModule, HealthProbeVersion)
	if err := writeModule(work, gomod, []string{probeModule}); err != nil {
		return err
	}
	if _, err := b.goCmd(work, "mod", "tidy"); err != nil {
		return fmt.Errorf("resolving grpc-health-probe %s: %w", HealthProbeVersion, err)
	}
	return b.build(work, dir, probeBinary, probeModule, "-s -w")
}

// upstreamGoMod downloads module@version and returns its go.mod.
func (b *Builder) upstreamGoMod(work, module, version string) ([]byte, error) {
	out, err := b.goCmd(work, "mod", "download", "-json", module+"@"+version)
	if err != nil {
		return nil, fmt.Errorf("downloading %s@%s: %w", module, version, err)
	}
	var mod struct{ GoMod string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("reading go mod download's output: %w", err)
	}
	return os.ReadFile(mod.GoMod)
}

// mirrorGoMod is a go.mod for module name that requires dep@version and repeats every replace directive of
// dep's go.mod that names a module version (replaces by local path only apply inside dep's repository).
func mirrorGoMod(name, dep, version string, upstream []byte) ([]byte, error) {
	up, err := modfile.Parse("go.mod", upstream, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing %s's go.mod: %w", dep, err)
	}
	f := &modfile.File{}
	if err := f.AddModuleStmt(name); err != nil {
		return nil, err
	}
	if err := f.AddGoStmt("1.26.0"); err != nil {
		return nil, err
	}
	if err := f.AddRequire(dep, version); err != nil {
		return nil, err
	}
	for _, r := range up.Replace {
		if r.New.Version == "" {
			continue
		}
		if err := f.AddReplace(r.Old.Path, r.Old.Version, r.New.Path, r.New.Version); err != nil {
			return nil, err
		}
	}
	f.Cleanup()
	return f.Format()
}

// writeModule writes go.mod and a tools.go that imports the main packages to build, so go mod tidy keeps their
// dependencies.
func writeModule(dir string, gomod []byte, pkgs []string) error {
	var tools bytes.Buffer
	tools.WriteString("//go:build tools\n\npackage tools\n\n")
	for _, p := range pkgs {
		fmt.Fprintf(&tools, "import _ %q\n", p)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tools.go"), tools.Bytes(), 0o644)
}

// build compiles pkg into work, then renames it into dir so a reader never sees a half-written binary.
func (b *Builder) build(work, dir, name, pkg, ldflags string) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if _, err := b.goCmd(work, "build", "-trimpath", "-tags", buildTags, "-ldflags", ldflags, "-o", tmp, pkg); err != nil {
		return fmt.Errorf("building %s: %w", name, err)
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

func (b *Builder) goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// The checksum database does not answer for every version these modules need (seen: OLM's own releases);
	// the throwaway modules are never part of the project's go.sum.
	cmd.Env = append(os.Environ(),
		"GOSUMDB=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 40))
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, "[olm] "+format+"\n", args...)
	}
}
