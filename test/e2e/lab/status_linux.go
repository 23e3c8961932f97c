package lab

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Status prints what a person debugging the lab looks at first: its daemons, the nodes, every pod, the
// router's BGP sessions and the client's neighbour table.
func (l *Lab) Status(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "Lab: %d nodes, state in %s, KUBECONFIG=%s\n", l.Nodes, l.Dir, l.HostKubeconfig())
	var stopped []string
	daemons := l.Daemons()
	for _, d := range daemons {
		if !d.Running {
			stopped = append(stopped, d.Name)
		}
	}
	fmt.Fprintf(w, "Daemons: %d of %d running", len(daemons)-len(stopped), len(daemons))
	if len(stopped) > 0 {
		fmt.Fprintf(w, "; stopped: %s (logs in %s)", strings.Join(stopped, ", "), l.path("logs"))
	}
	fmt.Fprintln(w)
	sections := []struct {
		title string
		run   func(context.Context) ([]byte, error)
	}{
		{"Nodes", func(ctx context.Context) ([]byte, error) {
			return l.KubectlCommand(ctx, "get", "nodes", "-o", "wide").CombinedOutput()
		}},
		{"Pods", func(ctx context.Context) ([]byte, error) {
			return l.KubectlCommand(ctx, "get", "pods", "-A", "-o", "wide").CombinedOutput()
		}},
		{"BGP sessions at the router", func(ctx context.Context) ([]byte, error) {
			return l.Vtysh(ctx, "show bgp summary")
		}},
		{"Client neighbour table", func(ctx context.Context) ([]byte, error) {
			return run(ctx, "ip", "-n", Client().Netns, "neigh", "show")
		}},
	}
	var failed []string
	for _, s := range sections {
		fmt.Fprintf(w, "\n== %s\n", s.title)
		out, err := s.run(ctx)
		w.Write(out)
		if err != nil {
			fmt.Fprintf(w, "ERROR: %v\n", err)
			failed = append(failed, s.title)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not show: %s", strings.Join(failed, ", "))
	}
	return nil
}
