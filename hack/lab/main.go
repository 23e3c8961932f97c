//go:build linux

// Command lab brings ferrolb's network lab up and down and gets you into it (see docs/lab.md). Run it as root
// from the source tree:
//
//	go run ./hack/lab up [-nodes 3] [-router-asn N] [-node-asn N] [-bgp-password P] [-bfd]
//	go run ./hack/lab status                 daemons, nodes, pods, BGP sessions, the client's neighbours
//	go run ./hack/lab kubectl get pods -A    kubectl against the lab
//	go run ./hack/lab vtysh 'show bgp summary'   one vtysh command per argument, at the router
//	go run ./hack/lab exec client curl -s http://10.99.0.11:30080   a command in a host's namespace
//	go run ./hack/lab images                 rebuild the images and load them into every node
//	go run ./hack/lab down                   remove everything, also after a crash
//
// The environment variables of docs/lab.md (NODES, FERROLB_LAB_DIR, …) set the defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1], os.Args[2:])
	stop()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintf(os.Stderr, "lab %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: lab up|down|status|kubectl ARGS|vtysh CMD...|exec HOST CMD...|images")
	os.Exit(2)
}

func dispatch(ctx context.Context, command string, args []string) error {
	cfg, err := lab.ConfigFromEnv()
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("the lab creates namespaces, mounts and cgroups: run it as root")
	}
	switch command {
	case "up":
		return up(ctx, cfg, args)
	case "down":
		return lab.Down(ctx, cfg.Dir, os.Stderr)
	case "status", "kubectl", "vtysh", "exec", "images":
	default:
		usage()
	}
	l, err := lab.Open(cfg.Dir, os.Stderr)
	if err != nil {
		return fmt.Errorf("no lab is up (make lab-up): %w", err)
	}
	switch command {
	case "status":
		return l.Status(ctx, os.Stdout)
	case "kubectl":
		return attached(l.KubectlCommand(ctx, args...)).Run()
	case "vtysh":
		out, err := l.Vtysh(ctx, args...)
		os.Stdout.Write(out)
		return err
	case "exec":
		return execIn(ctx, l, args)
	default: // "images": never under a running suite
		unlock, err := lab.LockSuite(l.Dir, os.Stderr)
		if err != nil {
			return err
		}
		defer unlock()
		return l.LoadImages(ctx)
	}
}

// up builds the lab, unless a healthy one with the same settings is already up.
func up(ctx context.Context, cfg lab.Config, args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "number of Kubernetes nodes")
	routerASN := fs.Uint("router-asn", uint(cfg.RouterASN), "the router's AS number")
	nodeASN := fs.Uint("node-asn", uint(cfg.NodeASN), "the AS number the router expects from the nodes")
	fs.StringVar(&cfg.BGPPassword, "bgp-password", cfg.BGPPassword, "TCP-MD5 password of the BGP sessions")
	fs.BoolVar(&cfg.BFD, "bfd", cfg.BFD, "enable BFD on the BGP sessions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.RouterASN, cfg.NodeASN = uint32(*routerASN), uint32(*nodeASN)
	l, err := lab.New(cfg, os.Stderr)
	if err != nil {
		return err
	}
	if running, err := lab.Open(cfg.Dir, os.Stderr); err == nil && running.Config == l.Config && running.Healthy(ctx) == nil {
		fmt.Fprintf(os.Stderr, "[lab] Already up with these settings; export KUBECONFIG=%s\n", l.HostKubeconfig())
		return nil
	}
	if err := l.Up(ctx); err != nil {
		return fmt.Errorf("%w\n(logs in %s/logs; `make lab-down` removes the lab)", err, cfg.Dir)
	}
	return nil
}

// execIn runs a command in a lab host's network namespace with this terminal.
func execIn(ctx context.Context, l *lab.Lab, args []string) error {
	if len(args) < 2 {
		return errors.New("usage: lab exec HOST COMMAND [ARGS...]")
	}
	h, err := l.Host(args[0])
	if err != nil {
		return err
	}
	argv := append([]string{"--net=" + h.NetnsPath(), "--"}, args[1:]...)
	return attached(exec.CommandContext(ctx, "nsenter", argv...)).Run()
}

func attached(cmd *exec.Cmd) *exec.Cmd {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd
}
