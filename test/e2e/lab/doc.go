// Package lab builds and tears down ferrolb's network lab on one Linux machine, as root and without a container
// engine: a switch (a Linux bridge in its own network namespace), N Kubernetes nodes, a BGP router running FRR
// and a client, each in its own network namespace with IPv4 and IPv6 on its link, and a real cluster on the
// nodes (etcd and the control plane in the first node; containerd, kubelet and kube-proxy in every node).
//
// The root namespace gets no link and no route into the lab, so no lab packet can leave the machine. Its only
// access is a forwarder from 127.0.0.1:<APIPort> to the API server (host.kubeconfig in the state directory).
//
// Everything the lab creates is named by Prefix (network namespaces, cgroups, CNI networks) or lives under the
// state directory (pids, logs, certificates, kubeconfigs, containerd and kubelet roots, FRR's run directory), so
// Down finds it again after a crash: by pid file, and by scanning processes, mounts, cgroups and namespaces.
//
// The package is used by the lab command (hack/lab) and by the end-to-end suite (test/e2e). It runs external
// tools (ip, nsenter, sysctl, containerd, ctr, FRR's daemons and vtysh, arping, curl) and the Kubernetes binaries
// built by hack/assets. It must not import Ginkgo or Gomega: waiting and failing belong to its callers.
package lab
