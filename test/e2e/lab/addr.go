package lab

import (
	"fmt"
	"net"
	"net/netip"
)

// Prefix names every network namespace, cgroup and CNI network the lab creates. Down removes anything named
// "<Prefix>-…", so nothing else on the machine may use it.
const Prefix = "ferrolb"

// The address plan. Every lab host has one link, eth0, into the switch, with an IPv4 and an IPv6 address whose
// last group is the IPv4 host number in hexadecimal (10.99.0.11 ↔ fd99::b).
var (
	// NodeSubnet4 and NodeSubnet6 are the L2 segment every host sits on.
	NodeSubnet4 = netip.MustParsePrefix("10.99.0.0/24")
	NodeSubnet6 = netip.MustParsePrefix("fd99::/64")

	// L2VIPRange4 and L2VIPRange6 are reserved on the node segment for layer 2 load-balancer IPs; no lab host
	// uses them.
	L2VIPRange4 = [2]netip.Addr{netip.MustParseAddr("10.99.0.200"), netip.MustParseAddr("10.99.0.250")}
	L2VIPRange6 = [2]netip.Addr{netip.MustParseAddr("fd99::c8"), netip.MustParseAddr("fd99::fa")}

	// BGPVIPRange4 and BGPVIPRange6 are reserved for load-balancer IPs announced to the router over BGP.
	BGPVIPRange4 = netip.MustParsePrefix("10.99.100.0/24")
	BGPVIPRange6 = netip.MustParsePrefix("fd99:100::/120")
	// BGPBenchRange4 holds the load-balancer IPs of the BGP benchmark, which advertises 10,000 Services at
	// once: more than BGPVIPRange4 holds. Only the router learns routes to it; no client reaches it.
	BGPBenchRange4 = netip.MustParsePrefix("10.98.0.0/18")

	// ServiceCIDR4 and ServiceCIDR6 are the cluster's Service ranges (dual-stack, IPv4 first).
	ServiceCIDR4 = netip.MustParsePrefix("10.96.0.0/16")
	ServiceCIDR6 = netip.MustParsePrefix("fd99:96::/112")

	// ClusterCIDR4 and ClusterCIDR6 hold every node's pod range (see PodCIDRs).
	ClusterCIDR4 = netip.MustParsePrefix("10.244.0.0/16")
	ClusterCIDR6 = netip.MustParsePrefix("fd99:244::/48")
)

const (
	routerHostNumber = 1
	clientHostNumber = 100
	nodeHostBase     = 10 // node i is host number 10+i
	// APIServerPort is where kube-apiserver listens on the first node's lab addresses.
	APIServerPort = 6443
)

// Host is one lab machine: a network namespace with one link, eth0, into the switch.
type Host struct {
	// Name is the short name used by the lab command ("router", "client", "node1").
	Name string
	// Netns is the network namespace's name under /run/netns.
	Netns string
	// IPv4 and IPv6 are eth0's addresses.
	IPv4, IPv6 netip.Addr
	// MAC is eth0's hardware address.
	MAC net.HardwareAddr
}

// NetnsPath is the namespace's bind mount, what nsenter --net takes.
func (h Host) NetnsPath() string { return "/run/netns/" + h.Netns }

func newHost(name string, number byte) Host {
	v4 := NodeSubnet4.Addr().As4()
	v4[3] = number
	v6 := NodeSubnet6.Addr().As16()
	v6[15] = number
	return Host{
		Name:  name,
		Netns: Prefix + "-" + name,
		IPv4:  netip.AddrFrom4(v4),
		IPv6:  netip.AddrFrom16(v6),
		MAC:   net.HardwareAddr{0x02, 0x99, 0, 0, 0, number},
	}
}

// Router is the BGP router, also the default gateway of every other host.
func Router() Host { return newHost("router", routerHostNumber) }

// Client is the host that resolves and reaches load-balancer IPs, as a user's machine would.
func Client() Host { return newHost("client", clientHostNumber) }

// Node is the i-th Kubernetes node, counting from 1; node 1 also runs the control plane.
func Node(i int) Host { return newHost(fmt.Sprintf("node%d", i), byte(nodeHostBase+i)) }

// switchNetns holds the bridge every host's eth0 is plugged into.
const switchNetns = Prefix + "-sw"

// PodCIDRs are the IPv4 and IPv6 pod ranges of the i-th node (10.244.i.0/24, fd99:244:0:i::/64).
func PodCIDRs(i int) (netip.Prefix, netip.Prefix) {
	v4 := ClusterCIDR4.Addr().As4()
	v4[2] = byte(i)
	v6 := ClusterCIDR6.Addr().As16()
	v6[7] = byte(i)
	return netip.PrefixFrom(netip.AddrFrom4(v4), 24), netip.PrefixFrom(netip.AddrFrom16(v6), 64)
}

// firstServiceIP is the address the kubernetes Service gets, which the API server's certificate must name.
func firstServiceIP(cidr netip.Prefix) netip.Addr { return cidr.Addr().Next() }
