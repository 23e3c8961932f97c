package lab

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHosts(t *testing.T) {
	tests := []struct {
		name string
		host Host
		want [4]string // netns, IPv4, IPv6, MAC
	}{
		{"router", Router(), [4]string{"ferrolb-router", "10.99.0.1", "fd99::1", "02:99:00:00:00:01"}},
		{"client", Client(), [4]string{"ferrolb-client", "10.99.0.100", "fd99::64", "02:99:00:00:00:64"}},
		{"node1", Node(1), [4]string{"ferrolb-node1", "10.99.0.11", "fd99::b", "02:99:00:00:00:0b"}},
		{"node3", Node(3), [4]string{"ferrolb-node3", "10.99.0.13", "fd99::d", "02:99:00:00:00:0d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := [4]string{tt.host.Netns, tt.host.IPv4.String(), tt.host.IPv6.String(), tt.host.MAC.String()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("host (-want +got):\n%s", diff)
			}
			if !NodeSubnet4.Contains(tt.host.IPv4) || !NodeSubnet6.Contains(tt.host.IPv6) {
				t.Errorf("%s is outside the node subnets", tt.name)
			}
		})
	}
}

func TestPodCIDRs(t *testing.T) {
	tests := []struct {
		node   int
		v4, v6 string
	}{
		{1, "10.244.1.0/24", "fd99:244:0:1::/64"},
		{2, "10.244.2.0/24", "fd99:244:0:2::/64"},
	}
	for _, tt := range tests {
		v4, v6 := PodCIDRs(tt.node)
		if v4.String() != tt.v4 || v6.String() != tt.v6 {
			t.Errorf("PodCIDRs(%d) = %s, %s; want %s, %s", tt.node, v4, v6, tt.v4, tt.v6)
		}
		if !ClusterCIDR4.Contains(v4.Addr()) || !ClusterCIDR6.Contains(v6.Addr()) {
			t.Errorf("node %d's pod ranges are outside the cluster ranges", tt.node)
		}
	}
}

// TestReservedRangesAreFree guards the VIP ranges later specs rely on: no lab host may take one of their
// addresses, or a VIP would collide with a host.
func TestReservedRangesAreFree(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes = 50
	inRange := func(a netip.Addr, r [2]netip.Addr) bool { return a.Compare(r[0]) >= 0 && a.Compare(r[1]) <= 0 }
	for _, h := range cfg.Hosts() {
		if inRange(h.IPv4, L2VIPRange4) || inRange(h.IPv6, L2VIPRange6) {
			t.Errorf("%s takes an address of the L2 VIP range", h.Name)
		}
		if BGPVIPRange4.Contains(h.IPv4) || BGPVIPRange6.Contains(h.IPv6) {
			t.Errorf("%s takes an address of the BGP VIP range", h.Name)
		}
		if BGPBenchRange4.Contains(h.IPv4) {
			t.Errorf("%s takes an address of the BGP benchmark range", h.Name)
		}
	}
	for _, p := range []netip.Prefix{NodeSubnet4, ServiceCIDR4, ClusterCIDR4, BGPVIPRange4} {
		if BGPBenchRange4.Overlaps(p) {
			t.Errorf("the BGP benchmark range %s overlaps %s", BGPBenchRange4, p)
		}
	}
}
