package lab

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Images every node holds; nothing is ever pulled (pods use imagePullPolicy: Never).
const (
	// ProjectImage holds every ferrolb binary (/manager, and one per cmd/ directory), like the Dockerfile's.
	ProjectImage = "ferrolb.local/ferrolb:e2e"
	// EchoImage answers HTTP with its pod and node names (hack/images/echo).
	EchoImage = "ferrolb.local/echo:lab"
	// PauseImage is every pod's sandbox, containerd's sandbox_image (hack/images/pause).
	PauseImage = "ferrolb.local/pause:lab"
)

// nonRootUser is distroless' "nonroot" user and group, which the project image runs as.
const nonRootUser = "65532:65532"

// binary is one program of the project image, at /<name>, built from a package of the source tree.
type binary struct{ name, pkg string }

// projectBinaries are the project image's programs. The Dockerfile builds the same list (its BINARIES
// argument): TestDockerfileLayout keeps the two equal, and TestProjectBinariesCoverCommands checks that every
// command of cmd/ is in it.
var projectBinaries = []binary{
	{"manager", "."},
	{"controller", "./cmd/controller"},
	{"speaker", "./cmd/speaker"},
	{"configmaptocrs", "./cmd/configmaptocrs"},
}

// The project image's entrypoint (the operator) and working directory, the Dockerfile's.
var (
	projectEntrypoint = []string{"/manager"}
	projectWorkingDir = "/"
)

// projectImage is the project image of the binaries built into dir: every binary at /, no shell, non-root.
func projectImage(dir string) imageSpec {
	files := map[string]string{}
	for _, b := range projectBinaries {
		files["/"+b.name] = path.Join(dir, b.name)
	}
	return imageSpec{ref: ProjectImage, files: files, entrypoint: projectEntrypoint, user: nonRootUser}
}

// imageSpec is a single-layer image of static binaries.
type imageSpec struct {
	ref        string
	files      map[string]string // path in the image → file on disk
	entrypoint []string
	user       string
}

// packImages writes every image into one docker-archive tarball, which `ctr images import` reads.
func packImages(archive string, specs []imageSpec) error {
	images := map[name.Reference]v1.Image{}
	for _, s := range specs {
		ref, err := name.ParseReference(s.ref)
		if err != nil {
			return fmt.Errorf("parsing image reference %q: %w", s.ref, err)
		}
		img, err := s.image()
		if err != nil {
			return fmt.Errorf("building image %s: %w", s.ref, err)
		}
		images[ref] = img
	}
	if err := tarball.MultiRefWriteToFile(archive, images); err != nil {
		return fmt.Errorf("writing %s: %w", archive, err)
	}
	return nil
}

func (s imageSpec) image() (v1.Image, error) {
	layer, err := s.layer()
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = s.entrypoint
	cf.Config.User = s.user
	cf.Config.WorkingDir = projectWorkingDir
	return mutate.ConfigFile(img, cf)
}

// layer is a tarball with the files (mode 0755, owned by root) and a world-writable /tmp.
func (s imageSpec) layer() (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dsts := make([]string, 0, len(s.files))
	for dst := range s.files {
		dsts = append(dsts, dst)
	}
	sort.Strings(dsts) // reproducible digests
	dirs := map[string]bool{"/": true}
	for _, dst := range dsts {
		data, err := os.ReadFile(s.files[dst])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.files[dst], err)
		}
		if err := writeParents(tw, dirs, path.Dir(dst)); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dst[1:], Mode: 0o755, Size: int64(len(data))}); err != nil {
			return nil, fmt.Errorf("adding %s: %w", dst, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("adding %s: %w", dst, err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}); err != nil {
		return nil, fmt.Errorf("adding /tmp: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the layer: %w", err)
	}
	content := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	})
}

// writeParents adds dir and its missing parents to the layer, outermost first.
func writeParents(tw *tar.Writer, written map[string]bool, dir string) error {
	if written[dir] {
		return nil
	}
	if err := writeParents(tw, written, path.Dir(dir)); err != nil {
		return err
	}
	written[dir] = true
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir[1:] + "/", Mode: 0o755}); err != nil {
		return fmt.Errorf("adding %s: %w", dir, err)
	}
	return nil
}
