package lab

import (
	"fmt"
	"strings"
)

// frrDaemons are started in this order: bfdd and bgpd register with zebra through its API socket.
var frrDaemons = []string{"zebra", "bfdd", "bgpd"}

// peerGroup is the router's peer group for the nodes.
const peerGroup = "nodes"

// bgpdConfig is the router's BGP configuration. Nodes are dynamic neighbours: any address of the node subnets
// may open a session (the router never connects out), in the node AS. eBGP needs no policy here (FRR otherwise
// drops every route, RFC 8212), and up to 8 equal paths per prefix give ECMP across nodes in both families.
func bgpdConfig(c Config) string {
	r := Router()
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("hostname %s", r.Netns)
	line("!")
	line("router bgp %d", c.RouterASN)
	line(" bgp router-id %s", r.IPv4)
	line(" no bgp ebgp-requires-policy")
	line(" no bgp network import-check")
	line(" neighbor %s peer-group", peerGroup)
	line(" neighbor %s remote-as %d", peerGroup, c.NodeASN)
	if c.BGPPassword != "" {
		line(" neighbor %s password %s", peerGroup, c.BGPPassword)
	}
	if c.BFD {
		line(" neighbor %s bfd", peerGroup)
	}
	line(" bgp listen range %s peer-group %s", NodeSubnet4, peerGroup)
	line(" bgp listen range %s peer-group %s", NodeSubnet6, peerGroup)
	for _, family := range []string{"ipv4", "ipv6"} {
		line(" !")
		line(" address-family %s unicast", family)
		line("  neighbor %s activate", peerGroup)
		line("  maximum-paths 8")
		line("  maximum-paths ibgp 8")
		line(" exit-address-family")
	}
	line("exit")
	return b.String()
}

// BGPSummary is FRR's `show bgp summary json`: one entry per address family with sessions.
type BGPSummary struct {
	IPv4Unicast *BGPFamilySummary `json:"ipv4Unicast,omitempty"`
	IPv6Unicast *BGPFamilySummary `json:"ipv6Unicast,omitempty"`
}

// BGPFamilySummary is the router's view of one address family.
type BGPFamilySummary struct {
	RouterID string `json:"routerId"`
	AS       uint32 `json:"as"`
	// Peers is keyed by the neighbour's address.
	Peers map[string]BGPPeer `json:"peers"`
}

// BGPPeer is one session in a BGPSummary.
type BGPPeer struct {
	RemoteAS uint32 `json:"remoteAs"`
	// State is the session's state: "Established" once routes flow.
	State string `json:"state"`
	// PfxRcd is the number of prefixes received from the peer.
	PfxRcd int `json:"pfxRcd"`
	// Uptime is how long the session has been in its state, as FRR prints it.
	Uptime string `json:"peerUptime"`
}
