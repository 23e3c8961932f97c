package lab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Packages are the Debian packages the lab runs: the router (frr), the node runtime (containerd, runc, the CNI
// plugins, iptables and conntrack for kube-proxy), the hosts' tools (iproute2, procps, util-linux's nsenter), the
// client's probes (arping, ping, curl) and debugging aids (tcpdump); socat forwards the API server.
var Packages = []string{
	"frr", "containerd", "runc", "containernetworking-plugins", "iptables", "conntrack",
	"iproute2", "procps", "util-linux", "iputils-arping", "iputils-ping", "curl", "tcpdump", "socat",
}

// EnsurePackages installs whichever of Packages is missing with apt-get. Installing does not start anything:
// the lab starts its own daemons with its own configuration.
func EnsurePackages(ctx context.Context, log io.Writer) error {
	missing := missingPackages(ctx)
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(log, "[lab] Installing %s\n", strings.Join(missing, " "))
	for _, args := range [][]string{
		{"apt-get", "update", "-qq"},
		append([]string{"apt-get", "install", "-y", "-qq", "--no-install-recommends"}, missing...),
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// missingPackages asks dpkg which of Packages is not installed.
func missingPackages(ctx context.Context) []string {
	args := append([]string{"dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n"}, Packages...)
	// dpkg-query exits 1 when it knows nothing of a package, and still prints the others.
	out, _ := exec.CommandContext(ctx, args[0], args[1:]...).Output()
	installed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[1] == "ii" {
			installed[strings.SplitN(f[0], ":", 2)[0]] = true
		}
	}
	var missing []string
	for _, p := range Packages {
		if !installed[p] {
			missing = append(missing, p)
		}
	}
	return missing
}
