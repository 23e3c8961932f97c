package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"time"
)

// Exec runs argv inside a lab host's network namespace and returns its standard output. The error carries the
// command's standard error.
func (l *Lab) Exec(ctx context.Context, h Host, argv ...string) ([]byte, error) {
	return run(ctx, inNetns(h.Netns, argv...)...)
}

// Arping asks from the client, with one ARP request, who has ip, and returns the hardware address that answered.
func (l *Lab) Arping(ctx context.Context, ip netip.Addr) (net.HardwareAddr, error) {
	out, err := l.Exec(ctx, Client(), "arping", "-c", "1", "-w", "3", "-I", "eth0", ip.String())
	if err != nil {
		return nil, fmt.Errorf("arping %s: %w", ip, err)
	}
	return parseArping(string(out))
}

// HTTPGet fetches url from the client and returns the response body. Non-2xx answers are errors.
func (l *Lab) HTTPGet(ctx context.Context, url string) (string, error) {
	out, err := l.Exec(ctx, Client(), "curl", "--silent", "--show-error", "--fail", "--globoff", "--max-time", "5", url)
	if err != nil {
		return "", fmt.Errorf("GET %s from the client: %w", url, err)
	}
	return string(out), nil
}

// Neighbour is one entry of a host's neighbour table (ARP and NDP).
type Neighbour struct {
	IP  netip.Addr `json:"dst"`
	Dev string     `json:"dev"`
	// MAC is empty while the neighbour is unresolved.
	MAC   string   `json:"lladdr"`
	State []string `json:"state"`
}

// Neighbours returns a host's neighbour table.
func (l *Lab) Neighbours(ctx context.Context, h Host) ([]Neighbour, error) {
	out, err := run(ctx, "ip", "-n", h.Netns, "-j", "neigh", "show")
	if err != nil {
		return nil, err
	}
	var n []Neighbour
	if err := json.Unmarshal(out, &n); err != nil {
		return nil, fmt.Errorf("decoding the neighbour table of %s: %w", h.Name, err)
	}
	return n, nil
}

// KubectlCommand is a kubectl command against the cluster for the caller to wire up (the lab command passes its
// terminal through).
func (l *Lab) KubectlCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, l.binary("kubectl"), append([]string{"--kubeconfig", l.HostKubeconfig()}, args...)...)
	cmd.Env = append(os.Environ(), pathEnv)
	return cmd
}

// healthTimeout bounds Healthy's API calls: a healthy lab answers in milliseconds.
const healthTimeout = 10 * time.Second

// Healthy reports why the lab cannot be used as it is: a daemon that stopped, an API server that does not
// answer, a node that is not Ready, a router that does not answer.
func (l *Lab) Healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	pids := readPidFiles(l.Dir)
	if len(pids) == 0 {
		return fmt.Errorf("no daemon recorded in %s", l.path("pids"))
	}
	for _, p := range pids {
		if !p.running() {
			return fmt.Errorf("%s (pid %d) is not running", p.name, p.pid)
		}
	}
	cs, err := l.Clientset()
	if err != nil {
		return err
	}
	if err := l.nodesReady(ctx, cs); err != nil {
		return err
	}
	if _, err := l.BGPSummary(ctx); err != nil {
		return fmt.Errorf("the router does not answer: %w", err)
	}
	return nil
}

// SetPlugged sets the switch port of a host up or down: unplugged, the host vanishes from the network at
// once, as when a cable is pulled, and keeps its own addresses and routes for when it is plugged back.
func (l *Lab) SetPlugged(ctx context.Context, h Host, plugged bool) error {
	state := "down"
	if plugged {
		state = "up"
	}
	_, err := run(ctx, "ip", "-n", switchNetns, "link", "set", "dev", h.Name, state)
	return err
}
