package lab

import (
	"context"
	"fmt"
	"strings"
)

// bridgeName is the switch's bridge; every host's eth0 is plugged into one of its ports.
const bridgeName = "br0"

// createNetwork builds the switch and every host, with their addresses, routes and sysctls. Links are created
// directly inside the lab namespaces, so the root namespace never holds one.
func (l *Lab) createNetwork(ctx context.Context) error {
	if _, err := run(ctx, "ip", "netns", "add", switchNetns); err != nil {
		return err
	}
	// Multicast snooping off: without a querier the bridge would still flood, but a VIP's solicited-node group
	// is never joined, and IPv6 neighbour discovery for it must reach every port.
	if err := ipBatch(ctx, switchNetns, []string{
		"link set lo up",
		"link add " + bridgeName + " type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
		"link set " + bridgeName + " up",
	}); err != nil {
		return err
	}
	for _, h := range l.Hosts() {
		if err := plugHost(ctx, h); err != nil {
			return fmt.Errorf("connecting %s: %w", h.Name, err)
		}
	}
	if err := l.configureRouter(ctx); err != nil {
		return err
	}
	if err := l.configureClient(ctx); err != nil {
		return err
	}
	for i := 1; i <= l.Nodes; i++ {
		if err := l.configureNode(ctx, i); err != nil {
			return fmt.Errorf("configuring node%d: %w", i, err)
		}
	}
	return nil
}

// plugHost creates the host's namespace and its eth0, a veth whose peer (named after the host) is a switch port.
// IPv6 addresses skip duplicate address detection (nodad), which would otherwise delay them by seconds.
func plugHost(ctx context.Context, h Host) error {
	if _, err := run(ctx, "ip", "netns", "add", h.Netns); err != nil {
		return err
	}
	if err := sysctl(ctx, h.Netns, "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"); err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "link", "add", "eth0", "netns", h.Netns, "type", "veth",
		"peer", "name", h.Name, "netns", switchNetns); err != nil {
		return err
	}
	if err := ipBatch(ctx, h.Netns, []string{
		"link set lo up",
		fmt.Sprintf("link set eth0 address %s", h.MAC),
		fmt.Sprintf("addr add %s/%d dev eth0", h.IPv4, NodeSubnet4.Bits()),
		fmt.Sprintf("addr add %s/%d dev eth0 nodad", h.IPv6, NodeSubnet6.Bits()),
		"link set eth0 up",
	}); err != nil {
		return err
	}
	return ipBatch(ctx, switchNetns, []string{
		fmt.Sprintf("link set %s master %s", h.Name, bridgeName),
		fmt.Sprintf("link set %s up", h.Name),
	})
}

// configureRouter makes the router forward, and routes each node's pods through that node, as a network with
// routed pod ranges would.
func (l *Lab) configureRouter(ctx context.Context) error {
	r := Router()
	if err := sysctl(ctx, r.Netns, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"); err != nil {
		return err
	}
	var cmds []string
	for i, n := range l.NodeHosts() {
		cmds = append(cmds, podRoutes(i+1, n)...)
	}
	return ipBatch(ctx, r.Netns, cmds)
}

// configureClient routes everything through the router and lets gratuitous ARP and unsolicited neighbour
// advertisements create neighbour entries, so the client sees who owns a VIP.
func (l *Lab) configureClient(ctx context.Context) error {
	c := Client()
	if err := sysctl(ctx, c.Netns, "net.ipv4.conf.all.arp_accept=1", "net.ipv4.conf.eth0.arp_accept=1"); err != nil {
		return err
	}
	// accept_untracked_na exists from Linux 5.19; older kernels only lose the IPv6 half of the above.
	if err := sysctl(ctx, c.Netns, "net.ipv6.conf.eth0.accept_untracked_na=1"); err != nil {
		l.logf("Client keeps ignoring unsolicited neighbour advertisements: %v", err)
	}
	return ipBatch(ctx, c.Netns, defaultRoutes())
}

// configureNode makes node i forward for its pods, answer ARP only for addresses on the asking interface (a VIP
// on lo is then announced by the speaker alone), and route the other nodes' pod ranges to them.
func (l *Lab) configureNode(ctx context.Context, i int) error {
	n := Node(i)
	if err := sysctl(ctx, n.Netns, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
		"net.ipv4.conf.all.arp_ignore=1"); err != nil {
		return err
	}
	cmds := defaultRoutes()
	for j, other := range l.NodeHosts() {
		if j+1 != i {
			cmds = append(cmds, podRoutes(j+1, other)...)
		}
	}
	return ipBatch(ctx, n.Netns, cmds)
}

func defaultRoutes() []string {
	r := Router()
	return []string{
		fmt.Sprintf("route add default via %s", r.IPv4),
		fmt.Sprintf("route add default via %s", r.IPv6),
	}
}

// podRoutes routes node i's pod ranges through that node.
func podRoutes(i int, node Host) []string {
	v4, v6 := PodCIDRs(i)
	return []string{
		fmt.Sprintf("route replace %s via %s", v4, node.IPv4),
		fmt.Sprintf("route replace %s via %s", v6, node.IPv6),
	}
}

// ipBatch runs ip commands inside a lab namespace in one process (ip -n NS -batch), failing on the first error.
func ipBatch(ctx context.Context, netns string, cmds []string) error {
	if len(cmds) == 0 {
		return nil
	}
	_, err := runInput(ctx, strings.Join(cmds, "\n")+"\n", "ip", "-n", netns, "-batch", "-")
	return err
}

// sysctl sets kernel parameters inside a lab namespace.
func sysctl(ctx context.Context, netns string, settings ...string) error {
	_, err := run(ctx, inNetns(netns, append([]string{"sysctl", "-qw"}, settings...)...)...)
	return err
}
