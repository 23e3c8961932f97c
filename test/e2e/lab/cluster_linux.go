package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Timeouts of the cluster's start-up: generous for 2 cores, short against a component that will not start.
const (
	apiServerTimeout  = 90 * time.Second
	containerdTimeout = 30 * time.Second
	nodesReadyTimeout = 2 * time.Minute
)

func (l *Lab) pki(name string) string { return l.path("pki", name) }

func dualStack(v4, v6 netip.Prefix) string { return v4.String() + "," + v6.String() }

// startControlPlane starts etcd, kube-apiserver, the forwarder from the root namespace, kube-controller-manager
// and kube-scheduler, all in the first node's namespace, and waits for the API server.
func (l *Lab) startControlPlane(ctx context.Context) error {
	cp := Node(1)
	if err := l.startDaemon("etcd", cp.Netns, l.binary("etcd"), "--name=cp", "--data-dir="+l.path("etcd"),
		"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=cp=http://127.0.0.1:2380", "--unsafe-no-fsync=true", "--log-level=warn"); err != nil {
		return err
	}
	if err := l.startDaemon("kube-apiserver", cp.Netns, l.binary("kube-apiserver"),
		"--advertise-address="+cp.IPv4.String(), "--bind-address=0.0.0.0", "--secure-port="+strconv.Itoa(APIServerPort),
		"--etcd-servers=http://127.0.0.1:2379",
		"--service-cluster-ip-range="+dualStack(ServiceCIDR4, ServiceCIDR6),
		"--allow-privileged=true", "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--client-ca-file="+l.pki("ca.crt"),
		"--tls-cert-file="+l.pki("apiserver.crt"), "--tls-private-key-file="+l.pki("apiserver.key"),
		"--kubelet-client-certificate="+l.pki("apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+l.pki("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types=InternalIP",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+l.pki("service-account.pub"),
		"--service-account-signing-key-file="+l.pki("service-account.key")); err != nil {
		return err
	}
	if err := l.startForwarder(); err != nil {
		return err
	}
	if err := l.waitForAPIServer(ctx); err != nil {
		return err
	}
	cm := l.kubeconfigPath("controller-manager")
	if err := l.startDaemon("kube-controller-manager", cp.Netns, l.binary("kube-controller-manager"),
		"--kubeconfig="+cm, "--authentication-kubeconfig="+cm, "--authorization-kubeconfig="+cm,
		"--bind-address=127.0.0.1", "--leader-elect=false", "--use-service-account-credentials=true",
		"--service-account-private-key-file="+l.pki("service-account.key"), "--root-ca-file="+l.pki("ca.crt"),
		"--service-cluster-ip-range="+dualStack(ServiceCIDR4, ServiceCIDR6)); err != nil {
		return err
	}
	sched := l.kubeconfigPath("scheduler")
	return l.startDaemon("kube-scheduler", cp.Netns, l.binary("kube-scheduler"),
		"--kubeconfig="+sched, "--authentication-kubeconfig="+sched, "--authorization-kubeconfig="+sched,
		"--bind-address=127.0.0.1", "--leader-elect=false")
}

// startForwarder gives the root namespace its only way into the lab: 127.0.0.1:APIPort, where socat accepts
// and, per connection, runs a socat inside the first node's namespace connected to the API server.
func (l *Lab) startForwarder() error {
	listen := "127.0.0.1:" + strconv.Itoa(l.APIPort)
	probe, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("the API forwarder's address %s is taken (choose another with %s): %w", listen, EnvAPIPort, err)
	}
	probe.Close()
	cp := Node(1)
	// socat splits EXEC's command on spaces and its own addresses on ':', hence the escapes.
	target := strings.ReplaceAll(netip.AddrPortFrom(cp.IPv4, APIServerPort).String(), ":", `\:`)
	return l.startDaemon("api-forwarder", "", "socat",
		fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", l.APIPort),
		fmt.Sprintf("EXEC:nsenter --net=%s -- socat STDIO TCP\\:%s", cp.NetnsPath(), target))
}

func (l *Lab) waitForAPIServer(ctx context.Context) error {
	cs, err := l.Clientset()
	if err != nil {
		return err
	}
	return poll(ctx, apiServerTimeout, "the API server to be ready", func(ctx context.Context) error {
		for _, d := range []string{"etcd", "kube-apiserver", "api-forwarder"} {
			if err := l.alive(d); err != nil {
				return permanent(err)
			}
		}
		_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})
}

func (l *Lab) containerdSocket(node Host) string { return l.nodeDir(node, "containerd.sock") }

func (l *Lab) nodeFiles(i int) nodeFiles {
	n := Node(i)
	v4, v6 := PodCIDRs(i)
	return nodeFiles{
		Dir:          l.nodeDir(n),
		Socket:       l.containerdSocket(n),
		CNIConfDir:   l.nodeDir(n, "cni"),
		IPAMDir:      l.nodeDir(n, "ipam"),
		PodLogsDir:   l.nodeDir(n, "pod-logs"),
		CACert:       l.pki("ca.crt"),
		Network:      n.Netns,
		PodCIDR4:     v4,
		PodCIDR6:     v6,
		SandboxImage: PauseImage,
	}
}

// startNodes starts every node's containerd, loads the images into it, then starts kubelet and kube-proxy.
// Each stage runs across all nodes before the next, so the nodes' start-ups overlap.
func (l *Lab) startNodes(ctx context.Context) error {
	for i := 1; i <= l.Nodes; i++ {
		if err := l.startContainerd(i); err != nil {
			return fmt.Errorf("node%d: %w", i, err)
		}
	}
	for _, n := range l.NodeHosts() {
		if err := l.waitForContainerd(ctx, n); err != nil {
			return err
		}
		if err := l.importImages(ctx, n); err != nil {
			return err
		}
	}
	for i := 1; i <= l.Nodes; i++ {
		if err := l.startKubelet(i); err != nil {
			return fmt.Errorf("node%d: %w", i, err)
		}
		if err := l.startKubeProxy(Node(i)); err != nil {
			return fmt.Errorf("node%d: %w", i, err)
		}
	}
	return nil
}

func (l *Lab) startContainerd(i int) error {
	n, files := Node(i), l.nodeFiles(i)
	for _, d := range []string{files.CNIConfDir, files.IPAMDir, files.PodLogsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	containerd, err := render(containerdTemplate, files)
	if err != nil {
		return err
	}
	cni, err := render(cniTemplate, files)
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.nodeDir(n, "containerd.toml"), containerd, 0o644); err != nil {
		return fmt.Errorf("writing containerd's config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(files.CNIConfDir, "10-"+n.Netns+".conflist"), cni, 0o644); err != nil {
		return fmt.Errorf("writing the CNI config: %w", err)
	}
	return l.startDaemon("containerd-"+n.Name, n.Netns, "containerd", "--config", l.nodeDir(n, "containerd.toml"))
}

func (l *Lab) waitForContainerd(ctx context.Context, n Host) error {
	return poll(ctx, containerdTimeout, "containerd on "+n.Name, func(ctx context.Context) error {
		if err := l.alive("containerd-" + n.Name); err != nil {
			return permanent(err)
		}
		_, err := run(ctx, "ctr", "-a", l.containerdSocket(n), "version")
		return err
	})
}

func (l *Lab) startKubelet(i int) error {
	n, files := Node(i), l.nodeFiles(i)
	cfg, err := render(kubeletTemplate, files)
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.nodeDir(n, "kubelet.yaml"), cfg, 0o644); err != nil {
		return fmt.Errorf("writing the kubelet config: %w", err)
	}
	if err := prepareCgroupRoot(files.Network); err != nil {
		return err
	}
	return l.startDaemon("kubelet-"+n.Name, n.Netns, l.binary("kubelet"),
		"--config="+l.nodeDir(n, "kubelet.yaml"), "--kubeconfig="+l.kubeconfigPath(n.Name),
		"--root-dir="+l.nodeDir(n, "kubelet"), "--hostname-override="+n.Name,
		"--node-ip="+n.IPv4.String()+","+n.IPv6.String(), "--v=1")
}

// startKubeProxy runs kube-proxy in iptables mode. Its conntrack table limit is the machine's, shared by every
// node, so kube-proxy must leave it alone (max-per-core 0).
func (l *Lab) startKubeProxy(n Host) error {
	return l.startDaemon("kube-proxy-"+n.Name, n.Netns, l.binary("kube-proxy"),
		"--kubeconfig="+l.kubeconfigPath("kube-proxy"), "--hostname-override="+n.Name,
		"--proxy-mode=iptables", "--cluster-cidr="+dualStack(ClusterCIDR4, ClusterCIDR6),
		"--metrics-bind-address=127.0.0.1:10249", "--healthz-bind-address=127.0.0.1:10256",
		"--nodeport-addresses=primary", "--conntrack-max-per-core=0")
}

// waitForCluster waits until every node is Ready and pods can be created: the default ServiceAccount and the
// root CA ConfigMap, which every pod mounts, exist in the default namespace.
func (l *Lab) waitForCluster(ctx context.Context) error {
	cs, err := l.Clientset()
	if err != nil {
		return err
	}
	if err := poll(ctx, nodesReadyTimeout, fmt.Sprintf("%d Ready nodes", l.Nodes), func(ctx context.Context) error {
		for _, n := range l.NodeHosts() {
			for _, d := range []string{"kubelet-", "containerd-", "kube-proxy-"} {
				if err := l.alive(d + n.Name); err != nil {
					return permanent(err)
				}
			}
		}
		return l.nodesReady(ctx, cs)
	}); err != nil {
		return err
	}
	return poll(ctx, time.Minute, "the default ServiceAccount and kube-root-ca.crt", func(ctx context.Context) error {
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return err
		}
		_, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err
	})
}

// nodesReady fails unless every lab node is registered and Ready.
func (l *Lab) nodesReady(ctx context.Context, cs kubernetes.Interface) error {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ready := map[string]bool{}
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
	}
	var notReady []string
	for _, n := range l.NodeHosts() {
		if !ready[n.Name] {
			notReady = append(notReady, n.Name)
		}
	}
	if len(notReady) > 0 {
		return fmt.Errorf("not Ready: %s", strings.Join(notReady, ", "))
	}
	return nil
}
