package olm

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one regular file (or, with Dir, a directory) of an image layer.
type File struct {
	Path string // absolute, in the image
	Data []byte
	Mode int64 // permission bits, with the sticky bit 0o1000
	Dir  bool
	UID  int // owner; root by default
}

// layer is a tarball of files (owned by root, parents created 0755), in path order so digests are
// reproducible.
func layer(files []File) (v1.Layer, error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int {
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{"/": true}
	var mkdir func(string) error
	mkdir = func(dir string) error {
		if dirs[dir] {
			return nil
		}
		if err := mkdir(path.Dir(dir)); err != nil {
			return err
		}
		dirs[dir] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir[1:] + "/", Mode: 0o755})
	}
	for _, f := range files {
		if !path.IsAbs(f.Path) {
			return nil, fmt.Errorf("image file %q: the path must be absolute", f.Path)
		}
		if err := mkdir(path.Dir(f.Path)); err != nil {
			return nil, err
		}
		if f.Dir {
			dirs[f.Path] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: f.Path[1:] + "/", Mode: f.Mode, Uid: f.UID, Gid: f.UID}); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Path[1:], Mode: f.Mode, Size: int64(len(f.Data)), Uid: f.UID, Gid: f.UID}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	content := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil })
}

// imageConfig is what an image runs.
type imageConfig struct {
	Entrypoint, Cmd []string
	User            string
	Labels          map[string]string
}

// newImage is base (empty.Image for none) plus one layer of files, running cfg.
func newImage(base v1.Image, files []File, cfg imageConfig) (v1.Image, error) {
	l, err := layer(files)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		return nil, fmt.Errorf("adding a layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint, cf.Config.Cmd = cfg.Entrypoint, cfg.Cmd
	cf.Config.User = cfg.User
	cf.Config.WorkingDir = "/"
	// The containers OLM creates call opm and grpc_health_probe by name.
	cf.Config.Env = []string{"PATH=/bin"}
	cf.Config.Labels = cfg.Labels
	return mutate.ConfigFile(img, cf)
}

// DigestRef is ref's repository with img's digest: the name OLM gets for images it must not pull.
func DigestRef(repository string, img v1.Image) (string, error) {
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("computing the digest of %s: %w", repository, err)
	}
	return repository + "@" + d.String(), nil
}

// containerdName is the annotation containerd's import takes an image's name from, verbatim: a digest
// reference is kept as such, which a docker archive (tags only) cannot express.
const containerdName = "io.containerd.image.name"

// WriteArchive writes images, each under all of its names, as one OCI image layout in a tar file that
// `ctr images import` reads.
func WriteArchive(archive string, images map[v1.Image][]string) error {
	dir, err := os.MkdirTemp(filepath.Dir(archive), ".oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating an OCI layout: %w", err)
	}
	platform := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	for img, names := range images {
		for _, n := range names {
			if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{containerdName: n}), layout.WithPlatform(platform)); err != nil {
				return fmt.Errorf("writing %s: %w", n, err)
			}
		}
	}
	return tarDir(dir, archive)
}

// tarDir writes the tree under dir into the tar file archive (renamed into place when complete).
func tarDir(dir, archive string) error {
	tmp := archive + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", archive, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, archive)
}
