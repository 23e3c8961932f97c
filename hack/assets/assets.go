// Package assets builds the Kubernetes binaries that ferrolb's tests and lab run (etcd, kube-apiserver, kubectl,
// and the node binaries) from the Go module proxy into a versioned cache, because release tarballs cannot be
// downloaded here and setup-envtest cannot work.
//
// Each binary is built once per version and reused: the cache directory is keyed by the Kubernetes and etcd
// versions, and a file lock makes parallel callers (test packages, the lab) wait for one build instead of
// racing. k8s.io/kubernetes replaces its staging modules with ./staging paths that do not apply to a module
// that depends on it, so a throwaway module mirrors those replaces with the matching v0.<minor>.<patch>
// versions.
package assets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

const (
	// KubernetesVersion matches the minor of the k8s.io/api the project builds against (see docs/versions.md).
	KubernetesVersion = "1.37.1"
	// EtcdVersion is the etcd server paired with KubernetesVersion (Kubernetes 1.37 supports etcd 3.6).
	EtcdVersion = "3.6.5"
)

// EnvtestBinaries are the binaries controller-runtime's envtest needs.
var EnvtestBinaries = []string{"etcd", "kube-apiserver", "kubectl"}

// NodeBinaries are the additional binaries a lab cluster needs.
var NodeBinaries = []string{"kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"}

// Builder builds and caches Kubernetes binaries.
type Builder struct {
	// CacheRoot holds one directory per version pair. Defaults to $XDG_CACHE_HOME/ferrolb/k8s-assets.
	CacheRoot string
	// Log receives progress lines.
	Log io.Writer
}

// BinDir is the directory that holds (or will hold) the cached binaries.
func (b *Builder) BinDir() (string, error) {
	root, err := CacheRoot(b.CacheRoot, "FERROLB_ASSETS_CACHE", "k8s-assets")
	if err != nil {
		return "", err
	}
	return filepath.Join(root, fmt.Sprintf("k8s-%s-etcd-%s", KubernetesVersion, EtcdVersion), "bin"), nil
}

// CacheRoot is where a builder caches its binaries: root when set, else $env, else
// $XDG_CACHE_HOME/ferrolb/name.
func CacheRoot(root, env, name string) (string, error) {
	if root != "" {
		return root, nil
	}
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(c, "ferrolb", name), nil
}

// Ensure makes sure every named binary exists in the cache and returns the bin directory.
func (b *Builder) Ensure(names ...string) (string, error) {
	dir, err := b.BinDir()
	if err != nil {
		return "", err
	}
	err = BuildOnce(dir, names, b.logf, func(todo []string) error {
		var k8s []string
		etcd := false
		for _, n := range todo {
			if n == "etcd" {
				etcd = true
			} else {
				k8s = append(k8s, n)
			}
		}
		if len(k8s) > 0 {
			if err := b.buildKubernetes(dir, k8s); err != nil {
				return err
			}
		}
		if etcd {
			return b.buildEtcd(dir)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return dir, nil
}

// BuildOnce makes sure every named executable is in dir. It returns at once when they all are; otherwise it
// takes an exclusive lock on dir/.lock and calls build with the ones still missing, so that parallel callers
// (test packages, the lab) wait for one build instead of each running their own.
func BuildOnce(dir string, names []string, logf func(string, ...any), build func(missing []string) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(missing(dir, names)) == 0 {
		return nil
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	logf("waiting for the build lock %s", lock.Name())
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	// Another caller may have built them while this one waited.
	if todo := missing(dir, names); len(todo) > 0 {
		return build(todo)
	}
	return nil
}

func missing(dir string, names []string) []string {
	var out []string
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.Mode()&0o111 == 0 {
			out = append(out, n)
		}
	}
	return out
}

var stagingReplace = regexp.MustCompile(`(?m)^\s*(k8s\.io/[a-z0-9-]+) => \./staging/src/`)

func (b *Builder) buildKubernetes(dir string, names []string) error {
	start := time.Now()
	b.logf("building %s from k8s.io/kubernetes v%s (a cold build takes several minutes)", strings.Join(names, " "), KubernetesVersion)
	work, err := os.MkdirTemp("", "ferrolb-k8s-assets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	out, err := b.goCmd(work, nil, "mod", "download", "-json", "k8s.io/kubernetes@v"+KubernetesVersion)
	if err != nil {
		return fmt.Errorf("downloading k8s.io/kubernetes v%s: %w", KubernetesVersion, err)
	}
	var mod struct{ GoMod string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return fmt.Errorf("reading go mod download output: %w", err)
	}
	upstream, err := os.ReadFile(mod.GoMod)
	if err != nil {
		return err
	}
	minor, patch := versionParts(KubernetesVersion)
	staging := fmt.Sprintf("v0.%s.%s", minor, patch)
	var gomod bytes.Buffer
	fmt.Fprintf(&gomod, "module k8sassets\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n", KubernetesVersion)
	for _, m := range stagingReplace.FindAllStringSubmatch(string(upstream), -1) {
		fmt.Fprintf(&gomod, "\t%s => %s %s\n", m[1], m[1], staging)
	}
	gomod.WriteString(")\n")
	var tools bytes.Buffer
	tools.WriteString("//go:build tools\n\npackage tools\n\n")
	for _, n := range names {
		fmt.Fprintf(&tools, "import _ \"k8s.io/kubernetes/cmd/%s\"\n", n)
	}
	if err := writeModule(work, gomod.Bytes(), tools.Bytes()); err != nil {
		return err
	}
	if _, err := b.goCmd(work, nil, "mod", "tidy"); err != nil {
		return fmt.Errorf("resolving Kubernetes v%s modules: %w", KubernetesVersion, err)
	}
	// Without these the binaries report v0.0.0-master, which kubectl and envtest reject as skewed.
	var ld []string
	ld = append(ld, "-s", "-w")
	for _, p := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		ld = append(ld,
			"-X", p+".gitVersion=v"+KubernetesVersion,
			"-X", p+".gitMajor=1",
			"-X", p+".gitMinor="+minor,
			"-X", p+".gitTreeState=clean")
	}
	for _, n := range names {
		b.logf("go build k8s.io/kubernetes/cmd/%s", n)
		tmp := filepath.Join(work, n)
		if _, err := b.goCmd(work, nil, "build", "-trimpath", "-ldflags", strings.Join(ld, " "), "-o", tmp, "k8s.io/kubernetes/cmd/"+n); err != nil {
			return fmt.Errorf("building %s: %w", n, err)
		}
		if err := install(tmp, filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	b.logf("Kubernetes binaries built in %s", time.Since(start).Round(time.Second))
	return nil
}

// buildEtcd uses its own module: etcd's grpc and otel requirements clash with Kubernetes'.
func (b *Builder) buildEtcd(dir string) error {
	start := time.Now()
	b.logf("building etcd v%s", EtcdVersion)
	work, err := os.MkdirTemp("", "ferrolb-etcd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	gomod := fmt.Sprintf("module etcdassets\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 v%s\n", EtcdVersion)
	tools := "//go:build tools\n\npackage tools\n\nimport _ \"go.etcd.io/etcd/server/v3\"\n"
	if err := writeModule(work, []byte(gomod), []byte(tools)); err != nil {
		return err
	}
	if _, err := b.goCmd(work, nil, "mod", "tidy"); err != nil {
		return fmt.Errorf("resolving etcd v%s: %w", EtcdVersion, err)
	}
	tmp := filepath.Join(work, "etcd")
	if _, err := b.goCmd(work, nil, "build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, "go.etcd.io/etcd/server/v3"); err != nil {
		return fmt.Errorf("building etcd: %w", err)
	}
	if err := install(tmp, filepath.Join(dir, "etcd")); err != nil {
		return err
	}
	b.logf("etcd built in %s", time.Since(start).Round(time.Second))
	return nil
}

func writeModule(dir string, gomod, tools []byte) error {
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tools.go"), tools, 0o644)
}

// install renames into place so a reader never sees a half-written binary.
func install(src, dst string) error {
	tmp := dst + ".tmp"
	in, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(tmp, in, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func versionParts(v string) (minor, patch string) {
	parts := strings.SplitN(v, ".", 3)
	return parts[1], parts[2]
}

func (b *Builder) goCmd(dir string, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// The checksum database does not answer for every k8s.io staging module version; these throwaway
	// modules are never part of the project's own go.sum.
	cmd.Env = append(os.Environ(),
		"GOSUMDB=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off")
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(stderr.String(), 40))
	}
	return stdout.Bytes(), nil
}

func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, "[k8s-assets] "+format+"\n", args...)
	}
}
