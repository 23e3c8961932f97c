package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

func (l *Lab) imagesArchive() string { return l.path("images", "images.tar") }

// buildImages compiles the project's binaries and the lab's own programs statically, and packs them into
// imagesArchive.
func (l *Lab) buildImages(ctx context.Context) error {
	project, programs := l.path("images", "ferrolb"), l.path("images", "lab")
	for _, d := range []string{project, programs} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("clearing %s: %w", d, err)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	// One go build for the binaries named after their package's directory (cmd/<name>), which builds them in
	// parallel; one each for the others (the operator, /manager).
	builds := [][]string{{"-o", programs + "/", "./hack/images/pause", "./hack/images/echo"}}
	named := []string{"-o", project + "/"}
	for _, b := range projectBinaries {
		if path.Base(b.pkg) == b.name {
			named = append(named, b.pkg)
		} else {
			builds = append(builds, []string{"-o", filepath.Join(project, b.name), b.pkg})
		}
	}
	builds = append(builds, named)
	for _, args := range builds {
		if err := l.goBuild(ctx, args...); err != nil {
			return err
		}
	}
	return packImages(l.imagesArchive(), []imageSpec{
		projectImage(project),
		{ref: EchoImage, files: map[string]string{"/echo": filepath.Join(programs, "echo")}, entrypoint: []string{"/echo"}, user: nonRootUser},
		{ref: PauseImage, files: map[string]string{"/pause": filepath.Join(programs, "pause")}, entrypoint: []string{"/pause"}, user: "65535"},
	})
}

// goBuild builds static Linux binaries from the source tree (no C: the images have no libc).
func (l *Lab) goBuild(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-ldflags=-s -w"}, args...)...)
	cmd.Dir = l.SourceDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// importImages loads imagesArchive into one node's containerd, in the namespace the kubelet uses.
func (l *Lab) importImages(ctx context.Context, node Host) error {
	if _, err := run(ctx, "ctr", "-a", l.containerdSocket(node), "-n", "k8s.io", "images", "import", l.imagesArchive()); err != nil {
		return fmt.Errorf("importing images into %s: %w", node.Name, err)
	}
	return nil
}

// LoadImages rebuilds the images from the source tree the caller runs in (a clone, a worktree; not
// necessarily the one the lab was brought up from) and imports them into every node of a running lab, so
// pods created afterwards run the caller's code.
func (l *Lab) LoadImages(ctx context.Context) error {
	dir, err := moduleRoot()
	if err != nil {
		return err
	}
	l.SourceDir = dir
	if err := l.buildImages(ctx); err != nil {
		return err
	}
	for _, n := range l.NodeHosts() {
		if err := l.importImages(ctx, n); err != nil {
			return err
		}
	}
	return nil
}
