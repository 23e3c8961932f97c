package lab

import "testing"

func TestUnescapeMountPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/run/ferrolb-lab/node1/kubelet", "/run/ferrolb-lab/node1/kubelet"},
		{`/run/a\040b`, "/run/a b"},
		{`/run/back\134slash`, `/run/back\slash`},
		{`/run/trailing\04`, `/run/trailing\04`},
	}
	for _, tt := range tests {
		if got := unescapeMountPath(tt.in); got != tt.want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsLabCgroup(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"4:memory:/ferrolb-node1/kubepods/burstable/pod1234/abcd", true},
		{"0::/ferrolb-node2", true},
		{"4:memory:/user.slice", false},
		{"1:name=systemd:/", false},
		{"4:memory:/kubepods/ferrolb-node1", false},
	}
	for _, tt := range tests {
		if got := isLabCgroup(tt.line); got != tt.want {
			t.Errorf("isLabCgroup(%q) = %t, want %t", tt.line, got, tt.want)
		}
	}
}

func TestCNICacheEntry(t *testing.T) {
	const id = "0106f27fdf75fb06e71e77faf57f89d973f5725e8d17530245e1b2d433815e3b"
	tests := []struct {
		name string
		want string // the sandbox id, or "" for not a lab entry
	}{
		{"ferrolb-node1-" + id + "-eth0", id},
		{"ferrolb-node12-" + id + "-eth0", id},
		{"cni-loopback-" + id + "-lo", ""},
		{"cbr0-" + id + "-eth0", ""},
	}
	for _, tt := range tests {
		got := ""
		if m := cniCacheEntry.FindStringSubmatch(tt.name); m != nil {
			got = m[1]
		}
		if got != tt.want {
			t.Errorf("cniCacheEntry on %q = %q, want %q", tt.name, got, tt.want)
		}
	}
}
