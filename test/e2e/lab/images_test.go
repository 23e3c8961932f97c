package lab

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestPackImages(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"manager", "speaker"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("#!binary "+f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(dir, "images.tar")
	err := packImages(archive, []imageSpec{
		{ref: ProjectImage, entrypoint: []string{"/manager"}, user: nonRootUser, files: map[string]string{
			"/manager": filepath.Join(dir, "manager"), "/bin/speaker": filepath.Join(dir, "speaker")}},
		{ref: PauseImage, entrypoint: []string{"/pause"}, user: "65535", files: map[string]string{
			"/pause": filepath.Join(dir, "manager")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ProjectImage)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatalf("reading %s back: %v", ProjectImage, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != nonRootUser || !cmp.Equal(cf.Config.Entrypoint, []string{"/manager"}) || cf.OS != "linux" {
		t.Errorf("config: user %q, entrypoint %q, os %q; want %s, [/manager], linux", cf.Config.User, cf.Config.Entrypoint, cf.OS, nonRootUser)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	var got []string
	for _, h := range layerEntries(t, img) {
		got = append(got, h.Name)
	}
	sort.Strings(got)
	want := []string{"bin/", "bin/speaker", "manager", "tmp/"} // no shell, nothing else
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer content (-want +got):\n%s", diff)
	}
}
