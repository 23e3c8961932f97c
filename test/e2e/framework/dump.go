//go:build linux

package framework

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// dumpTimeout bounds each command of a dump: a broken cluster must not hang the report.
const dumpTimeout = 20 * time.Second

// daemonLogLines is how much of each node daemon's log a dump shows.
const daemonLogLines = 30

// AfterEach dumps the lab's state to GinkgoWriter when the spec failed. Call it from the suite's top-level
// AfterEach: Ginkgo runs that before the spec's DeferCleanup, so the spec's namespaces still exist.
func (f *Framework) AfterEach(ctx context.Context) {
	namespaces := f.namespaces
	f.namespaces = nil
	if CurrentSpecReport().Failed() {
		f.Dump(ctx, GinkgoWriter, namespaces)
	}
}

// Dump writes what a person needs to debug a failed spec: nodes, pods and events; the given namespaces' pod
// descriptions and container logs; the router's BGP and BFD state and routes; the client's neighbours and routes;
// the tails of the node daemons' logs.
func (f *Framework) Dump(ctx context.Context, w io.Writer, namespaces []string) {
	fmt.Fprintf(w, "\n######## Lab state (state directory %s) ########\n", f.Lab.Dir)
	section := func(title string, run func(context.Context) ([]byte, error)) {
		ctx, cancel := context.WithTimeout(ctx, dumpTimeout)
		defer cancel()
		fmt.Fprintf(w, "\n==== %s\n", title)
		out, err := run(ctx)
		w.Write(out)
		if err != nil {
			fmt.Fprintf(w, "(error: %v)\n", err)
		}
	}
	kubectl := func(args ...string) func(context.Context) ([]byte, error) {
		return func(ctx context.Context) ([]byte, error) { return f.Lab.KubectlCommand(ctx, args...).CombinedOutput() }
	}
	section("nodes", kubectl("get", "nodes", "-o", "wide"))
	section("pods", kubectl("get", "pods", "-A", "-o", "wide"))
	section("events", kubectl("get", "events", "-A", "--sort-by=.lastTimestamp"))
	for _, ns := range namespaces {
		section("pods of "+ns, kubectl("describe", "pods", "-n", ns))
		f.dumpLogs(ctx, section, kubectl, ns)
	}
	for _, cmd := range []string{"show bgp summary json", "show bfd peers json", "show ip route", "show ipv6 route"} {
		section("router: "+cmd, func(ctx context.Context) ([]byte, error) { return f.Lab.Vtysh(ctx, cmd) })
	}
	client := lab.Client()
	for _, argv := range [][]string{{"ip", "neigh", "show"}, {"ip", "route", "show"}, {"ip", "-6", "route", "show"}} {
		section("client: "+strings.Join(argv, " "), func(ctx context.Context) ([]byte, error) {
			return f.Lab.Exec(ctx, client, argv...)
		})
	}
	for _, d := range f.Lab.Daemons() {
		if !d.Running || strings.HasPrefix(d.Name, "kubelet-") || strings.HasPrefix(d.Name, "containerd-") {
			title := fmt.Sprintf("log of %s (running: %t), last %d lines", d.Name, d.Running, daemonLogLines)
			section(title, func(context.Context) ([]byte, error) {
				return []byte(f.Lab.LogTail(d.Name, daemonLogLines) + "\n"), nil
			})
		}
	}
}

// dumpLogs writes the last lines of every container of every pod in namespace ns.
func (f *Framework) dumpLogs(ctx context.Context, section func(string, func(context.Context) ([]byte, error)),
	kubectl func(...string) func(context.Context) ([]byte, error), ns string) {
	pods, err := f.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		section("logs of "+ns, func(context.Context) ([]byte, error) { return nil, err })
		return
	}
	for _, p := range pods.Items {
		section(fmt.Sprintf("logs of %s/%s", ns, p.Name), kubectl("logs", "-n", ns, p.Name, "--all-containers", "--prefix", "--tail=100"))
	}
}
