//go:build linux

// Command demo shows the whole product on the built-in lab (make demo): it brings up the lab (or reuses a
// healthy one, with images rebuilt from the current source), installs ferrolb from dist/install.yaml,
// creates the MetalLB resource, applies a layer 2 and a BGP configuration, deploys a web app behind two
// LoadBalancer Services, and prints what each Service got: its address, the announcing nodes, the route at
// the FRR router, and the HTTP answer the lab's client got through the address.
//
//	go run ./hack/demo up     # make demo
//	go run ./hack/demo down   # make demo-down: removes the whole lab
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ferrolb/ferrolb/api"
	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

var (
	//go:embed config.yaml.tmpl
	configTemplate string
	//go:embed app.yaml
	appManifest string
)

const (
	// releaseImage is the image dist/install.yaml names; the demo installs the lab's build of it instead.
	releaseImage = "quay.io/ferrolb/ferrolb:v0.1.0"
	namespace    = "metallb-system"
	appNamespace = "demo"
	// waitTimeout bounds every wait of the demo.
	waitTimeout = 5 * time.Minute
)

// metallbManifest is the MetalLB resource with an empty spec: every default.
const metallbManifest = `apiVersion: metallb.io/v1beta1
kind: MetalLB
metadata:
  name: metallb
  namespace: metallb-system
`

func main() {
	// The demo prints its own progress; the client's logs would only repeat its errors.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	command := "up"
	if len(os.Args) > 1 {
		command = os.Args[1]
	}
	if err := run(ctx, command); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, command string) error {
	cfg, err := lab.ConfigFromEnv()
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("the demo runs the lab, which creates namespaces, mounts and cgroups: run it as root")
	}
	switch command {
	case "up":
		return up(ctx, cfg)
	case "down":
		return lab.Down(ctx, cfg.Dir, os.Stderr)
	}
	return fmt.Errorf("unknown command %q: use up or down", command)
}

func up(ctx context.Context, cfg lab.Config) error {
	start := time.Now()
	// Not while an end-to-end suite uses the lab: its speakers and the demo's would fight.
	unlock, err := lab.LockSuite(cfg.Dir, os.Stderr)
	if err != nil {
		return err
	}
	defer unlock()
	l, err := ensureLab(ctx, cfg)
	if err != nil {
		return err
	}
	d := &demo{lab: l}
	if d.client, err = labClient(l); err != nil {
		return err
	}

	step("Installing ferrolb from dist/install.yaml, with the lab's image %s", lab.ProjectImage)
	install, err := os.ReadFile(filepath.Join(l.SourceDir, "dist", "install.yaml"))
	if err != nil {
		return err
	}
	if !bytes.Contains(install, []byte(releaseImage)) {
		return fmt.Errorf("dist/install.yaml does not name %s: regenerate it (make install-manifest)", releaseImage)
	}
	if err := d.apply(ctx, bytes.ReplaceAll(install, []byte(releaseImage), []byte(lab.ProjectImage))); err != nil {
		return err
	}
	if err := d.kubectl(ctx, nil, "-n", namespace, "wait", "--for=condition=Available", "deployment", "--all", timeoutFlag()); err != nil {
		return err
	}

	step("Creating the MetalLB resource; the operator deploys the controller and a speaker per node")
	if err := d.apply(ctx, []byte(metallbManifest)); err != nil {
		return err
	}
	if err := d.kubectl(ctx, nil, "-n", namespace, "wait", "--for=condition=Available", "metallb/metallb", timeoutFlag()); err != nil {
		return err
	}

	step("Configuring a layer 2 pool and a BGP pool peering with the FRR router")
	config, err := renderConfig(l)
	if err != nil {
		return err
	}
	configPath := filepath.Join(l.Dir, "demo-config.yaml")
	if err := os.WriteFile(configPath, config, 0o644); err != nil {
		return err
	}
	if err := d.apply(ctx, config); err != nil {
		return err
	}

	step("Deploying a web app with two LoadBalancer Services, web-l2 and web-bgp")
	if err := d.apply(ctx, []byte(appManifest)); err != nil {
		return err
	}
	if err := d.kubectl(ctx, nil, "-n", appNamespace, "wait", "--for=condition=Available", "deployment/web", timeoutFlag()); err != nil {
		return err
	}
	rows, err := d.report(ctx, []string{"web-l2", "web-bgp"})
	if err != nil {
		return err
	}
	fmt.Printf("\nferrolb demo: ready in %s\n\n", time.Since(start).Round(time.Second))
	printTable(rows)
	fmt.Printf(`
Explore (as root):
  export KUBECONFIG=%[1]s
  kubectl get metallb,ipaddresspools,l2advertisements,bgppeers,bgpadvertisements -n metallb-system
  kubectl get servicel2statuses,servicebgpstatuses -n metallb-system
  kubectl get pods -n metallb-system -o wide
  go run ./hack/lab vtysh "show bgp ipv4 unicast"    # the routes at the FRR router
  go run ./hack/lab exec client curl http://%[2]s/   # the client, through an address
  The configuration the demo applied is in %[3]s.
  make demo-down                                    # removes the lab and everything in it
`, l.HostKubeconfig(), rows[0].ip, configPath)
	return nil
}

// ensureLab reuses a healthy lab with images rebuilt from the current source, or builds one.
func ensureLab(ctx context.Context, cfg lab.Config) (*lab.Lab, error) {
	if running, err := lab.Open(cfg.Dir, os.Stderr); err == nil && running.Healthy(ctx) == nil {
		step("Reusing the running lab in %s; loading images built from the current source", cfg.Dir)
		return running, running.LoadImages(ctx)
	}
	step("Bringing up the lab: %d Kubernetes nodes, an FRR router and a client, each in a network namespace", cfg.Nodes)
	l, err := lab.New(cfg, os.Stderr)
	if err != nil {
		return nil, err
	}
	if err := l.Up(ctx); err != nil {
		return nil, fmt.Errorf("%w\n(logs in %s/logs; make demo-down removes the lab)", err, cfg.Dir)
	}
	return l, nil
}

func labClient(l *lab.Lab) (client.Client, error) {
	cfg, err := l.RESTConfig()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: api.NewScheme()})
}

// renderConfig is the demo's configuration with the lab's addresses and AS numbers.
func renderConfig(l *lab.Lab) ([]byte, error) {
	first := lab.L2VIPRange4[0]
	for range 40 {
		first = first.Next()
	}
	last := first
	for range 4 {
		last = last.Next()
	}
	t, err := template.New("config").Parse(configTemplate)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	err = t.Execute(&out, map[string]any{
		"L2First": first, "L2Last": last,
		"BGPPool": netip.PrefixFrom(lab.BGPVIPRange4.Addr(), 28),
		"NodeASN": l.NodeASN, "RouterASN": l.RouterASN, "Router": lab.Router().IPv4, "Password": l.BGPPassword,
	})
	return out.Bytes(), err
}

type demo struct {
	lab    *lab.Lab
	client client.Client
}

// apply applies manifests server-side (taking over fields an earlier install or test set), retrying while
// the webhook server or the CRDs are not served yet.
func (d *demo) apply(ctx context.Context, manifests []byte) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = d.kubectl(ctx, manifests, "apply", "--server-side", "--force-conflicts", "--field-manager=ferrolb-demo", "-f", "-")
		if err == nil || ctx.Err() != nil || attempt == 60 {
			return err
		}
		if attempt == 2 {
			fmt.Printf("    (retrying until the webhook server answers: %v)\n", firstLine(err))
		}
		time.Sleep(2 * time.Second)
	}
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// kubectl runs kubectl against the lab with stdin, printing its output; the error carries it too.
func (d *demo) kubectl(ctx context.Context, stdin []byte, args ...string) error {
	cmd := d.lab.KubectlCommand(ctx, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fmt.Printf("    %s\n", line)
	}
	return nil
}

// row is one Service of the table.
type row struct {
	service, ip, mode, nodes, route, answer string
}

// report waits until each Service is announced, routed and answering, and describes it.
func (d *demo) report(ctx context.Context, services []string) ([]row, error) {
	var rows []row
	for _, name := range services {
		step("Waiting for %s: an address, its announcement, and an HTTP answer at the client", name)
		var r row
		err := poll(ctx, func() error {
			var err error
			r, err = d.describe(ctx, name)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("service %s/%s: %w", appNamespace, name, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// describe is one Service's row, or why it is not complete yet.
func (d *demo) describe(ctx context.Context, name string) (row, error) {
	r := row{service: appNamespace + "/" + name}
	svc := &corev1.Service{}
	if err := d.client.Get(ctx, client.ObjectKey{Namespace: appNamespace, Name: name}, svc); err != nil {
		return r, err
	}
	if len(svc.Status.LoadBalancer.Ingress) == 0 {
		return r, errors.New("no address yet")
	}
	r.ip = svc.Status.LoadBalancer.Ingress[0].IP
	nodes, err := d.announcers(ctx, name)
	if err != nil {
		return r, err
	}
	r.mode = "layer 2"
	if strings.HasSuffix(name, "-bgp") {
		r.mode = "BGP"
	}
	if len(nodes) == 0 {
		return r, errors.New("no node announces it yet")
	}
	slices.Sort(nodes)
	r.nodes = strings.Join(nodes, ", ")
	route, err := d.route(ctx, r.ip)
	if err != nil {
		return r, err
	}
	if r.mode == "BGP" && !strings.Contains(route, "bgp") {
		return r, fmt.Errorf("the router has no BGP route yet: %s", route)
	}
	r.route = route
	answer, err := d.lab.HTTPGet(ctx, "http://"+r.ip+"/")
	if err != nil {
		return r, err
	}
	r.answer = strings.TrimSpace(answer)
	return r, nil
}

// announcers are the nodes whose ServiceL2Status or ServiceBGPStatus names the Service.
func (d *demo) announcers(ctx context.Context, name string) ([]string, error) {
	l2, bgp := &metallbv1beta1.ServiceL2StatusList{}, &metallbv1beta1.ServiceBGPStatusList{}
	for _, list := range []client.ObjectList{l2, bgp} {
		if err := d.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return nil, err
		}
	}
	var nodes []string
	add := func(service, serviceNamespace, node string) {
		if service == name && serviceNamespace == appNamespace {
			nodes = append(nodes, node)
		}
	}
	for _, s := range l2.Items {
		add(s.Status.ServiceName, s.Status.ServiceNamespace, s.Status.Node)
	}
	for _, s := range bgp.Items {
		add(s.Status.ServiceName, s.Status.ServiceNamespace, s.Status.Node)
	}
	return nodes, nil
}

// route is how the FRR router reaches ip: "bgp via a, b" for a BGP route (one next hop per announcing node),
// "connected <prefix>" for an address of its own segment (layer 2).
func (d *demo) route(ctx context.Context, ip string) (string, error) {
	var routes map[string][]struct {
		Protocol string `json:"protocol"`
		Selected bool   `json:"selected"`
		Nexthops []struct {
			IP string `json:"ip"`
		} `json:"nexthops"`
	}
	if err := d.lab.VtyshJSON(ctx, "show ip route "+ip+" json", &routes); err != nil {
		return "", err
	}
	for prefix, rs := range routes {
		for _, r := range rs {
			if !r.Selected {
				continue
			}
			if r.Protocol != "bgp" {
				return r.Protocol + " " + prefix, nil
			}
			var hops []string
			for _, h := range r.Nexthops {
				hops = append(hops, h.IP)
			}
			slices.Sort(hops)
			return fmt.Sprintf("bgp %s via %s", prefix, strings.Join(hops, ", ")), nil
		}
	}
	return "", fmt.Errorf("no route to %s at the router", ip)
}

// poll calls f every second until it succeeds or waitTimeout passes, and returns its last error.
func poll(ctx context.Context, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

func printTable(rows []row) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tIP\tMODE\tANNOUNCED BY\tROUTE AT FRR\tHTTP ANSWER AT THE CLIENT")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.service, r.ip, r.mode, r.nodes, r.route, r.answer)
	}
	_ = w.Flush()
}

func step(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}

func timeoutFlag() string { return fmt.Sprintf("--timeout=%s", waitTimeout) }
