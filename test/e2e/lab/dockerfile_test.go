package lab

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// repoRoot is the source tree's root (the tests run in test/e2e/lab).
const repoRoot = "../../.."

// layout is what an image of ferrolb looks like from a container: the files at /, who runs them, where.
type layout struct {
	Files      []string // sorted
	User       string
	Entrypoint []string
	WorkingDir string
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct{ cmd, args string }

// parseDockerfile splits a Dockerfile into instructions: comments and blank lines dropped, lines ending in a
// backslash joined with the next (enough for ferrolb's Dockerfile, which uses no parser directive).
func parseDockerfile(data string) []instruction {
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// dockerfileLayout is the final stage's layout: the binaries the builder stage writes to /out (its BINARIES
// argument) copied to /, its USER, ENTRYPOINT and WORKDIR. It fails the test on anything that needs a shell at
// run time or puts other files into the image.
func dockerfileLayout(t *testing.T, instructions []instruction) (layout, []binary) {
	t.Helper()
	var binaries []binary
	final := -1
	for i, in := range instructions {
		if in.cmd == "FROM" {
			final = i
		}
		if in.cmd == "ARG" && strings.HasPrefix(in.args, "BINARIES=") {
			for _, b := range strings.Fields(strings.Trim(strings.TrimPrefix(in.args, "BINARIES="), `"`)) {
				name, pkg, ok := strings.Cut(b, "=")
				if !ok {
					t.Fatalf("BINARIES entry %q is not name=package", b)
				}
				binaries = append(binaries, binary{name, pkg})
			}
		}
	}
	if final < 0 || len(binaries) == 0 {
		t.Fatal("the Dockerfile has no stage, or no BINARIES argument")
	}
	var l layout
	for _, b := range binaries {
		l.Files = append(l.Files, b.name)
	}
	slices.Sort(l.Files)
	for _, in := range instructions[final+1:] {
		switch in.cmd {
		case "WORKDIR":
			l.WorkingDir = in.args
		case "USER":
			l.User = in.args
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &l.Entrypoint); err != nil {
				t.Errorf("ENTRYPOINT %s is not in exec form (the shell form needs /bin/sh): %v", in.args, err)
			}
		case "COPY":
			if in.args != "--from=builder /out/ /" {
				t.Errorf("COPY %s: the final stage gets the built binaries at / and nothing else", in.args)
			}
		default:
			t.Errorf("%s %s in the final stage: the image must not need a shell or hold anything else", in.cmd, in.args)
		}
	}
	if base := instructions[final].args; !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s: want distroless/static, which has no shell", base)
	}
	return l, binaries
}

// TestDockerfileLayout checks, without a Docker engine, that the Dockerfile and the lab's packer make the same
// image: the same binaries from the same packages, at /, the same user, entrypoint and working directory.
func TestDockerfileLayout(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	want, binaries := dockerfileLayout(t, parseDockerfile(string(data)))
	if diff := cmp.Diff(binaries, projectBinaries, cmp.AllowUnexported(binary{})); diff != "" {
		t.Errorf("Dockerfile BINARIES vs the lab's projectBinaries (-Dockerfile +lab):\n%s", diff)
	}

	dir := t.TempDir()
	for _, b := range projectBinaries {
		if err := os.WriteFile(filepath.Join(dir, b.name), []byte("binary "+b.name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(dir, "images.tar")
	if err := packImages(archive, []imageSpec{projectImage(dir)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, packedLayout(t, archive)); diff != "" {
		t.Errorf("the lab's image vs the Dockerfile's (-Dockerfile +lab):\n%s", diff)
	}
}

// packedLayout reads the project image's layout back from an archive packImages wrote. Directories are left
// out: distroless has /tmp, as the lab's layer does.
func packedLayout(t *testing.T, archive string) layout {
	t.Helper()
	tag, err := name.NewTag(ProjectImage)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	l := layout{User: cf.Config.User, Entrypoint: cf.Config.Entrypoint, WorkingDir: cf.Config.WorkingDir}
	for _, h := range layerEntries(t, img) {
		if h.Typeflag == tar.TypeReg {
			l.Files = append(l.Files, h.Name)
		}
	}
	slices.Sort(l.Files)
	return l
}

// layerEntries lists the entries of every layer of the image, in order.
func layerEntries(t *testing.T, img v1.Image) []*tar.Header {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var entries []*tar.Header
	for _, layer := range layers {
		rc, err := layer.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				rc.Close()
				t.Fatal(err)
			}
			entries = append(entries, h)
		}
		rc.Close()
	}
	return entries
}

// TestProjectBinariesCoverCommands checks that every command of cmd/ is in the image.
func TestProjectBinariesCoverCommands(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(repoRoot, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	want := []binary{{"manager", "."}}
	for _, e := range entries {
		if e.IsDir() {
			want = append(want, binary{e.Name(), "./cmd/" + e.Name()})
		}
	}
	if diff := cmp.Diff(want, projectBinaries, cmp.AllowUnexported(binary{}),
		cmp.Transformer("sort", func(bs []binary) []binary {
			return slices.SortedFunc(slices.Values(bs), func(a, b binary) int { return strings.Compare(a.name, b.name) })
		})); diff != "" {
		t.Errorf("projectBinaries vs the commands of cmd/ (-cmd +projectBinaries):\n%s", diff)
	}
}
