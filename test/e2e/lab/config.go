package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Config describes a lab. The zero value is not usable; start from DefaultConfig or ConfigFromEnv.
type Config struct {
	// Nodes is the number of Kubernetes nodes, at least 1.
	Nodes int `json:"nodes"`
	// Dir is the state directory: pids, logs, certificates, kubeconfigs, runtime roots.
	Dir string `json:"dir"`
	// APIPort is the root namespace's port (on 127.0.0.1) forwarded to the API server.
	APIPort int `json:"apiPort"`
	// RouterASN is the router's autonomous system number.
	RouterASN uint32 `json:"routerASN"`
	// NodeASN is the autonomous system the router expects every node to speak from.
	NodeASN uint32 `json:"nodeASN"`
	// BGPPassword, when set, is the TCP-MD5 password (RFC 2385) of every session with the nodes.
	BGPPassword string `json:"bgpPassword,omitempty"`
	// BFD enables BFD (RFC 5880) on the sessions with the nodes.
	BFD bool `json:"bfd,omitempty"`
	// SourceDir is the ferrolb module root whose binaries are packed into the project image.
	SourceDir string `json:"sourceDir"`
}

// DefaultConfig is a two-node lab in /run/ferrolb-lab, router AS 64512, nodes AS 64513, no password, no BFD.
func DefaultConfig() Config {
	return Config{
		Nodes:     2,
		Dir:       "/run/ferrolb-lab",
		APIPort:   16443,
		RouterASN: 64512,
		NodeASN:   64513,
	}
}

// Environment variables that override DefaultConfig (see docs/lab.md).
const (
	EnvNodes       = "NODES"
	EnvDir         = "FERROLB_LAB_DIR"
	EnvAPIPort     = "FERROLB_LAB_API_PORT"
	EnvRouterASN   = "FERROLB_LAB_ROUTER_ASN"
	EnvNodeASN     = "FERROLB_LAB_NODE_ASN"
	EnvBGPPassword = "FERROLB_LAB_BGP_PASSWORD"
	EnvBFD         = "FERROLB_LAB_BFD"
)

// ConfigFromEnv is DefaultConfig with the environment's overrides applied.
func ConfigFromEnv() (Config, error) {
	c := DefaultConfig()
	ints := []struct {
		env string
		set func(uint64)
	}{
		{EnvNodes, func(v uint64) { c.Nodes = int(v) }},
		{EnvAPIPort, func(v uint64) { c.APIPort = int(v) }},
		{EnvRouterASN, func(v uint64) { c.RouterASN = uint32(v) }},
		{EnvNodeASN, func(v uint64) { c.NodeASN = uint32(v) }},
	}
	for _, i := range ints {
		s := os.Getenv(i.env)
		if s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return Config{}, fmt.Errorf("parsing %s=%q: %w", i.env, s, err)
		}
		i.set(v)
	}
	if s := os.Getenv(EnvBFD); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return Config{}, fmt.Errorf("parsing %s=%q: %w", EnvBFD, s, err)
		}
		c.BFD = v
	}
	if s := os.Getenv(EnvDir); s != "" {
		c.Dir = s
	}
	c.BGPPassword = os.Getenv(EnvBGPPassword)
	return c, nil
}

// Validate reports the first setting a lab cannot be built with.
func (c Config) Validate() error {
	switch {
	case c.Nodes < 1 || c.Nodes > 50:
		return fmt.Errorf("nodes: %d is not between 1 and 50", c.Nodes)
	case !filepath.IsAbs(c.Dir) || filepath.Clean(c.Dir) == "/":
		return fmt.Errorf("state directory %q must be an absolute path other than /", c.Dir)
	case c.APIPort < 1 || c.APIPort > 65535:
		return fmt.Errorf("API port %d is out of range", c.APIPort)
	case c.RouterASN == 0 || c.NodeASN == 0:
		return fmt.Errorf("ASNs must not be 0 (router %d, nodes %d)", c.RouterASN, c.NodeASN)
	}
	return nil
}

// Hosts lists the router, the client and every node.
func (c Config) Hosts() []Host {
	hosts := []Host{Router(), Client()}
	for i := 1; i <= c.Nodes; i++ {
		hosts = append(hosts, Node(i))
	}
	return hosts
}

// NodeHosts lists every node, node1 first.
func (c Config) NodeHosts() []Host {
	var nodes []Host
	for i := 1; i <= c.Nodes; i++ {
		nodes = append(nodes, Node(i))
	}
	return nodes
}

// configFile records, in the state directory, the Config a running lab was built with.
const configFile = "lab.json"

func (c Config) save() error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding lab config: %w", err)
	}
	return os.WriteFile(filepath.Join(c.Dir, configFile), append(b, '\n'), 0o600)
}

// loadConfig reads the Config of the lab whose state directory is dir.
func loadConfig(dir string) (Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return Config{}, fmt.Errorf("reading the lab's config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("decoding %s: %w", filepath.Join(dir, configFile), err)
	}
	return c, nil
}

// Host finds a lab host by its short name ("router", "client", "node2").
func (c Config) Host(name string) (Host, error) {
	for _, h := range c.Hosts() {
		if h.Name == name {
			return h, nil
		}
	}
	return Host{}, fmt.Errorf("no host %q in a %d-node lab (router, client, node1…node%d)", name, c.Nodes, c.Nodes)
}
