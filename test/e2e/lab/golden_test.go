package lab

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// golden compares got with testdata/<name>, or rewrites that file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (go test -update writes it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); go test -update rewrites it:\n%s", path, diff)
	}
}

func TestBGPDConfig(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"default", func(*Config) {}},
		{"password-bfd", func(c *Config) { c.BGPPassword, c.BFD, c.RouterASN, c.NodeASN = "s3cret", true, 65000, 65000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			golden(t, "bgpd-"+tt.name+".conf", []byte(bgpdConfig(c)))
		})
	}
}

func TestNodeConfigs(t *testing.T) {
	c := DefaultConfig()
	v4, v6 := PodCIDRs(2)
	files := nodeFiles{
		Dir: c.Dir + "/node2", Socket: c.Dir + "/node2/containerd.sock", CNIConfDir: c.Dir + "/node2/cni",
		IPAMDir: c.Dir + "/node2/ipam", PodLogsDir: c.Dir + "/node2/pod-logs", CACert: c.Dir + "/pki/ca.crt",
		Network: Node(2).Netns, PodCIDR4: v4, PodCIDR6: v6, SandboxImage: PauseImage,
	}
	tests := []struct {
		name string
		tmpl *template.Template
	}{
		{"containerd.toml", containerdTemplate},
		{"cni.conflist", cniTemplate},
		{"kubelet.yaml", kubeletTemplate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render(tt.tmpl, files)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "node2-"+tt.name, got)
		})
	}
}
