package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestK3sServiceLBEnabled(t *testing.T) {
	tests := []struct {
		name, args string
		want       bool
	}{
		{"server", `["server"]`, true},
		{"server with other disables", `["server","--disable","traefik"]`, true},
		{"disabled", `["server","--disable","servicelb"]`, false},
		{"disabled in a list", `["server","--disable=traefik,servicelb"]`, false},
		{"old flag", `["server","--disable-servicelb"]`, false},
		{"agent", `["agent"]`, false},
		{"not JSON", `server`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k3sServiceLBEnabled(tt.args); got != tt.want {
				t.Errorf("k3sServiceLBEnabled(%s) = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}

func TestKubeProxyFinding(t *testing.T) {
	cm := func(conf string) *corev1.ConfigMap {
		return &corev1.ConfigMap{Data: map[string]string{"config.conf": conf}}
	}
	tests := []struct {
		name    string
		cm      *corev1.ConfigMap
		problem bool
		reason  string
	}{
		{"no ConfigMap", nil, false, ReasonKubeProxyConfigNotFound},
		{"no configuration", cm("hello"), false, ReasonKubeProxyConfigNotFound},
		{"iptables", cm("kind: KubeProxyConfiguration\nmode: iptables\n"), false, ReasonNotIPVSMode},
		{"default mode", cm("kind: KubeProxyConfiguration\n"), false, ReasonNotIPVSMode},
		{"ipvs with strictARP", cm("kind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: true\n"), false, ReasonStrictARPEnabled},
		{"ipvs without strictARP", cm("kind: KubeProxyConfiguration\nmode: ipvs\n"), true, ReasonIPVSWithoutStrictARP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := kubeProxyFinding(tt.cm)
			if f.problem != tt.problem || f.reason != tt.reason {
				t.Errorf("got problem %v reason %s, want %v %s", f.problem, f.reason, tt.problem, tt.reason)
			}
		})
	}
}
