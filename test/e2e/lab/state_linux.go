package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
)

// writeState creates the state directory with the lab's config, certificates and kubeconfigs.
func (l *Lab) writeState(context.Context) error {
	for _, d := range []string{"pids", "logs", "kubeconfig"} {
		if err := os.MkdirAll(l.path(d), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", l.path(d), err)
		}
	}
	// FRR's daemons drop to user frr and must be able to reach their run directory.
	if err := os.Chmod(l.Dir, 0o755); err != nil {
		return fmt.Errorf("opening %s to FRR: %w", l.Dir, err)
	}
	if err := l.save(); err != nil {
		return err
	}
	if err := l.saveHostSysctls(); err != nil {
		return err
	}
	ca, err := newAuthority()
	if err != nil {
		return err
	}
	if err := l.writeServerPKI(ca); err != nil {
		return err
	}
	return l.writeKubeconfigs(ca)
}

// writeServerPKI writes what the API server serves and verifies with.
func (l *Lab) writeServerPKI(ca *authority) error {
	cp := Node(1)
	serving, err := ca.issue(certSpec{
		commonName: "kube-apiserver",
		server:     true,
		ips: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback(), cp.IPv4, cp.IPv6,
			firstServiceIP(ServiceCIDR4), firstServiceIP(ServiceCIDR6)},
		dnsNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
	})
	if err != nil {
		return err
	}
	// The API server's identity towards kubelets (logs, exec, port-forward).
	kubeletClient, err := ca.issue(certSpec{commonName: "kube-apiserver-kubelet-client", groups: []string{"system:masters"}})
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKeys()
	if err != nil {
		return err
	}
	return writeFiles(l.path("pki"), map[string][]byte{
		"ca.crt":                       ca.certPEM,
		"apiserver.crt":                serving.cert,
		"apiserver.key":                serving.key,
		"apiserver-kubelet-client.crt": kubeletClient.cert,
		"apiserver-kubelet-client.key": kubeletClient.key,
		"service-account.key":          saKey,
		"service-account.pub":          saPub,
	})
}

// writeKubeconfigs gives every component its own identity, as kubeadm does, so RBAC and the Node authorizer see
// a realistic cluster: kubelets are system:node:<name>, the others their system: users, people system:masters.
func (l *Lab) writeKubeconfigs(ca *authority) error {
	inLab := "https://" + netip.AddrPortFrom(Node(1).IPv4, APIServerPort).String()
	fromRoot := "https://127.0.0.1:" + strconv.Itoa(l.APIPort)
	type client struct {
		file   string
		server string
		spec   certSpec
	}
	admin := certSpec{commonName: Prefix + "-lab-admin", groups: []string{"system:masters"}}
	clients := []client{
		{l.HostKubeconfig(), fromRoot, admin},
		{l.kubeconfigPath("admin"), inLab, admin},
		{l.kubeconfigPath("controller-manager"), inLab, certSpec{commonName: "system:kube-controller-manager"}},
		{l.kubeconfigPath("scheduler"), inLab, certSpec{commonName: "system:kube-scheduler"}},
		{l.kubeconfigPath("kube-proxy"), inLab, certSpec{commonName: "system:kube-proxy"}},
	}
	for _, n := range l.NodeHosts() {
		clients = append(clients, client{l.kubeconfigPath(n.Name), inLab,
			certSpec{commonName: "system:node:" + n.Name, groups: []string{"system:nodes"}}})
	}
	for _, c := range clients {
		pair, err := ca.issue(c.spec)
		if err != nil {
			return err
		}
		b, err := kubeconfig(c.server, ca.certPEM, pair)
		if err != nil {
			return err
		}
		if err := writeFiles(filepath.Dir(c.file), map[string][]byte{filepath.Base(c.file): b}); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lab) kubeconfigPath(name string) string { return l.path("kubeconfig", name+".kubeconfig") }
