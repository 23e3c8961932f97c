package lab

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(*Config)
		wantErr bool
	}{
		{name: "defaults", want: func(*Config) {}},
		{
			name: "every override",
			env: map[string]string{EnvNodes: "3", EnvDir: "/tmp/lab", EnvAPIPort: "26443", EnvRouterASN: "65000",
				EnvNodeASN: "65001", EnvBGPPassword: "s3cret", EnvBFD: "true"},
			want: func(c *Config) {
				c.Nodes, c.Dir, c.APIPort, c.RouterASN, c.NodeASN, c.BGPPassword, c.BFD = 3, "/tmp/lab", 26443, 65000, 65001, "s3cret", true
			},
		},
		{name: "bad number", env: map[string]string{EnvNodes: "three"}, wantErr: true},
		{name: "bad bool", env: map[string]string{EnvBFD: "maybe"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvNodes, EnvDir, EnvAPIPort, EnvRouterASN, EnvNodeASN, EnvBGPPassword, EnvBFD} {
				t.Setenv(k, tt.env[k])
			}
			got, err := ConfigFromEnv()
			if (err != nil) != tt.wantErr {
				t.Fatalf("ConfigFromEnv() error = %v, want error %t", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			want := DefaultConfig()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ConfigFromEnv() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr bool
	}{
		{"default", func(*Config) {}, false},
		{"no nodes", func(c *Config) { c.Nodes = 0 }, true},
		{"relative dir", func(c *Config) { c.Dir = "lab" }, true},
		{"root dir", func(c *Config) { c.Dir = "/" }, true},
		{"port out of range", func(c *Config) { c.APIPort = 70000 }, true},
		{"ASN 0", func(c *Config) { c.NodeASN = 0 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %t", err, tt.wantErr)
			}
		})
	}
}
