// Command k8sassets builds (once) and prints the directory of the Kubernetes binaries the tests and the lab use.
//
//	KUBEBUILDER_ASSETS=$(go run ./hack/k8sassets)          # etcd, kube-apiserver, kubectl
//	go run ./hack/k8sassets -node                          # plus kubelet, kube-proxy, controller-manager, scheduler
//
// Progress goes to stderr; the bin directory alone goes to stdout.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ferrolb/ferrolb/hack/assets"
)

func main() {
	node := flag.Bool("node", false, "also build the node binaries a lab cluster needs")
	flag.Parse()
	names := append([]string{}, assets.EnvtestBinaries...)
	if *node {
		names = append(names, assets.NodeBinaries...)
	}
	names = append(names, flag.Args()...)
	b := &assets.Builder{Log: os.Stderr}
	dir, err := b.Ensure(names...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "k8sassets: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
