package lab

import (
	"bytes"
	"fmt"
	"net/netip"
	"text/template"
)

// nodeFiles are the paths one node's runtime and kubelet use, all under the node's state directory.
type nodeFiles struct {
	Dir          string // the node's state directory
	Socket       string // containerd's socket
	CNIConfDir   string
	IPAMDir      string // host-local IPAM's leases
	PodLogsDir   string
	CACert       string
	Network      string // CNI network name, also the cgroup root
	PodCIDR4     netip.Prefix
	PodCIDR6     netip.Prefix
	SandboxImage string
}

// containerdTemplate keeps every path of containerd (and of runc and the pod network namespaces, which default
// to /run) under the node's directory, so several containerds coexist and Down finds everything.
// restrict_oom_score_adj: some VMs refuse any oom_score_adj below 0, which the CRI asks for sandboxes.
// disable_apparmor: a node in a namespace has no AppArmor profile of its own to load.
var containerdTemplate = template.Must(template.New("containerd").Parse(`version = 2
root = "{{.Dir}}/containerd/root"
state = "{{.Dir}}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "{{.Socket}}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{{.Dir}}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.SandboxImage}}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{{.Dir}}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{{.CNIConfDir}}"
`))

// cniTemplate is the node's pod network: a bridge in the node's namespace that routes (no NAT) the node's pod
// ranges; the other nodes and the router route those ranges to this node.
var cniTemplate = template.Must(template.New("cni").Parse(`{
  "cniVersion": "1.0.0",
  "name": "{{.Network}}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "{{.IPAMDir}}",
        "ranges": [[{"subnet": "{{.PodCIDR4}}"}], [{"subnet": "{{.PodCIDR6}}"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`))

// kubeletTemplate: each kubelet needs its own cgroup root (they share the machine's cgroup tree), and cgroup v1
// with swap must be allowed. Image garbage collection is off: the images cannot be pulled back.
var kubeletTemplate = template.Must(template.New("kubelet").Parse(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "{{.CACert}}"}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: /{{.Network}}
cgroupsPerQOS: true
containerRuntimeEndpoint: unix://{{.Socket}}
failSwapOn: false
failCgroupV1: false
clusterDomain: cluster.local
resolvConf: ""
podLogsDir: {{.PodLogsDir}}
readOnlyPort: 0
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`))

func render(t *template.Template, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}
