//go:build linux

// Command demo installs ferrolb the OperatorHub way in the lab (docs/olm.md): OLM itself, a catalog that serves
// the bundle of bundle/, an OperatorGroup and a Subscription; it waits for the CSV to succeed, creates the
// MetalLB resource, shows a Service getting an address that a node announces, upgrades to the next bundle
// version through the catalog, and removes everything again. Run it as root from the source tree (make
// olm-demo); it takes the lab's suite lock, so it waits for a running end-to-end suite.
//
//	go run ./hack/olm/demo            the whole demo; the cluster is as before afterwards
//	go run ./hack/olm/demo -keep      leave OLM and ferrolb installed to look around
//	go run ./hack/olm/demo -down      remove what -keep left
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ferrolb/ferrolb/api"
	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/hack/olm"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// Timeouts: OLM resolves and installs within a minute in the lab; a Service gets its address in seconds.
const (
	installTimeout = 5 * time.Minute
	stepTimeout    = 2 * time.Minute
	removeTimeout  = 5 * time.Minute
)

// demoNamespace holds the demo's web application.
const demoNamespace = "olm-demo"

type options struct {
	keep, down, operatorOnly bool
	bundle, image            string
}

func main() {
	var o options
	flag.BoolVar(&o.keep, "keep", false, "leave OLM and ferrolb installed (remove them with -down)")
	flag.BoolVar(&o.down, "down", false, "remove what a -keep run left, and stop")
	flag.StringVar(&o.bundle, "bundle", "bundle", "the bundle directory (make bundle writes bundle/)")
	flag.StringVar(&o.image, "image", lab.ProjectImage, "the lab image the bundle's operator image is replaced with")
	flag.BoolVar(&o.operatorOnly, "operator-only", false, "stop after the CSV succeeded and its upgrade (for a bundle other than ferrolb's)")
	flag.Parse()
	// The client's own logs are not the demo's output.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "olm demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if os.Geteuid() != 0 {
		return errors.New("the lab needs root")
	}
	cfg, err := lab.ConfigFromEnv()
	if err != nil {
		return err
	}
	unlock, err := lab.LockSuite(cfg.Dir, os.Stderr)
	if err != nil {
		return err
	}
	defer unlock()
	l, reused, err := ensureLab(ctx, cfg)
	if err != nil {
		return err
	}
	rc, err := l.RESTConfig()
	if err != nil {
		return err
	}
	c, err := client.New(rc, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return err
	}
	if o.down {
		return remove(c, o)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: olm.OperatorNamespace}, &corev1.Namespace{}); err == nil {
		return fmt.Errorf("namespace %s exists: ferrolb is installed in the lab already; remove that install first", olm.OperatorNamespace)
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	if reused {
		step("Loading the project's images, built from the current source, into the lab")
		if err := l.LoadImages(ctx); err != nil {
			return err
		}
	}
	step("Building OLM %s and opm %s (cached), the bundle and catalog images, and loading them", olm.Version, olm.RegistryVersion)
	a, err := olm.Prepare(ctx, l, o.bundle, o.image, os.Stderr)
	if err != nil {
		return err
	}
	before, err := olm.ClusterObjects(ctx, c)
	if err != nil {
		return err
	}
	err = demo(ctx, l, c, a, o)
	if o.keep {
		fmt.Printf("\nLeft installed. KUBECONFIG=%s kubectl get csv,subscription,installplan -n %s\n", l.HostKubeconfig(), olm.OperatorNamespace)
		fmt.Println("Remove it with: go run ./hack/olm/demo -down")
		return err
	}
	step("Removing everything: the demo's objects, ferrolb, OLM, the bundle's CRDs")
	rctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	rerr := removeArtifacts(rctx, c, a)
	after, lerr := olm.ClusterObjects(rctx, c)
	if left := olm.Added(before, after); lerr == nil && len(left) > 0 {
		rerr = errors.Join(rerr, fmt.Errorf("left behind: %s", strings.Join(left, ", ")))
	}
	if rerr == nil {
		fmt.Println("Removed: the cluster holds nothing of OLM or ferrolb.")
	}
	return errors.Join(err, rerr, lerr)
}

// ensureLab opens the running lab, or brings one up (and leaves it up: make lab-down removes it); reused
// says which, since a lab brought up now has the current images already.
func ensureLab(ctx context.Context, cfg lab.Config) (l *lab.Lab, reused bool, err error) {
	if l, err := lab.Open(cfg.Dir, os.Stderr); err == nil {
		if l.Healthy(ctx) == nil {
			return l, true, nil
		}
	}
	step("Bringing up the lab (make lab-down removes it)")
	if l, err = lab.New(cfg, os.Stderr); err != nil {
		return nil, false, err
	}
	return l, false, l.Up(ctx)
}

func demo(ctx context.Context, l *lab.Lab, c client.Client, a *olm.Artifacts, o options) error {
	sub := a.Subscription()
	step("Installing OLM %s: %d objects rendered from its module's Helm chart", olm.Version, len(a.Manifests))
	if err := within(ctx, installTimeout, func(ctx context.Context) error { return olm.Install(ctx, c, a.Manifests) }); err != nil {
		return err
	}
	step("Subscribing to %s (channel %s) from CatalogSource %s/%s, image %s", sub.Package, sub.Channel, olm.Namespace, sub.Catalog, sub.CatalogImage)
	if err := olm.Subscribe(ctx, c, sub); err != nil {
		return err
	}
	first := a.Bundles[0].CSVName()
	if err := within(ctx, installTimeout, func(ctx context.Context) error { return olm.WaitForCSV(ctx, c, sub, first) }); err != nil {
		return err
	}
	fmt.Printf("    CSV %s: Succeeded\n", first)
	var svc *corev1.Service
	if !o.operatorOnly {
		var err error
		if svc, err = deployStack(ctx, l, c); err != nil {
			return err
		}
	}
	second := a.Bundles[1].CSVName()
	step("Upgrading: the catalog now serves %s, which replaces %s", second, first)
	sub.CatalogImage = a.Catalogs[1]
	if err := olm.SetCatalogImage(ctx, c, sub); err != nil {
		return err
	}
	if err := within(ctx, installTimeout, func(ctx context.Context) error { return olm.WaitForCSV(ctx, c, sub, second) }); err != nil {
		return err
	}
	fmt.Printf("    CSV %s: Succeeded\n", second)
	if svc != nil {
		return showService(ctx, l, c, svc)
	}
	return nil
}

// deployStack creates the MetalLB resource, a layer 2 pool and advertisement, and a web application behind a
// LoadBalancer Service, and shows the Service's address and who announces it.
func deployStack(ctx context.Context, l *lab.Lab, c client.Client) (*corev1.Service, error) {
	step("Creating the MetalLB resource; the operator deploys the controller and the speakers")
	mlb := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: olm.OperatorNamespace, Name: "metallb"}}
	if err := c.Create(ctx, mlb); err != nil {
		return nil, fmt.Errorf("creating the MetalLB resource: %w", err)
	}
	err := within(ctx, stepTimeout, func(ctx context.Context) error {
		return poll(ctx, "the MetalLB resource to be Available", func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(mlb), mlb); err != nil {
				return false, err
			}
			return meta.IsStatusConditionTrue(mlb.Status.Conditions, "Available"), nil
		})
	})
	if err != nil {
		return nil, err
	}
	first, last := lab.L2VIPRange4[0], lab.L2VIPRange4[0].Next().Next().Next()
	step("Configuring the layer 2 pool %s-%s and its L2Advertisement", first, last)
	pool := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: olm.OperatorNamespace, Name: "demo"},
		Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{first.String() + "-" + last.String()}}}
	adv := &metallbv1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: olm.OperatorNamespace, Name: "demo"},
		Spec: metallbv1beta1.L2AdvertisementSpec{IPAddressPools: []string{"demo"}}}
	step("Deploying a web application behind a LoadBalancer Service in namespace %s", demoNamespace)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNamespace}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	for _, obj := range []client.Object{pool, adv, ns, web(l.Nodes), svc} {
		if err := c.Create(ctx, obj); err != nil {
			return nil, fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return svc, showService(ctx, l, c, svc)
}

// showService waits until the Service has an address that the client reaches, and prints who announces it.
func showService(ctx context.Context, l *lab.Lab, c client.Client, svc *corev1.Service) error {
	var ip netip.Addr
	var answer string
	err := within(ctx, stepTimeout, func(ctx context.Context) error {
		return poll(ctx, "the Service's address to answer from the client", func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
				return false, err
			}
			if len(svc.Status.LoadBalancer.Ingress) == 0 {
				return false, nil
			}
			ip = netip.MustParseAddr(svc.Status.LoadBalancer.Ingress[0].IP)
			var err error
			answer, err = l.HTTPGet(ctx, "http://"+ip.String()+"/")
			return err == nil, nil
		})
	})
	if err != nil {
		return err
	}
	mac, err := l.Arping(ctx, ip)
	if err != nil {
		return err
	}
	node := "?"
	for _, h := range l.NodeHosts() {
		if h.MAC.String() == mac.String() {
			node = h.Name
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "    SERVICE\tADDRESS\tANNOUNCED BY (ARP from the client)\tHTTP ANSWER")
	fmt.Fprintf(w, "    %s/%s\t%s\t%s (%s)\t%s\n", svc.Namespace, svc.Name, ip, node, mac, strings.TrimSpace(answer))
	return w.Flush()
}

// web is the lab's echo server, one pod per node.
func web(replicas int) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: lab.EchoImage, ImagePullPolicy: corev1.PullNever,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					Env: []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
				}}},
			},
		},
	}
}

// remove is -down: the artifacts' objects are known without building anything.
func remove(c client.Client, o options) error {
	step("Removing the demo's objects, ferrolb, OLM and the bundle's CRDs")
	bundle, err := olm.ReadBundle(o.bundle)
	if err != nil {
		return err
	}
	dir, err := olm.ModuleDir()
	if err != nil {
		return err
	}
	objs, err := olm.Manifests(dir, olm.ToolsRepository+":"+olm.Version, olm.Hosts)
	if err != nil {
		return err
	}
	a := &olm.Artifacts{Manifests: objs, Bundles: []olm.CatalogBundle{{Bundle: bundle}}, Catalogs: []string{""}}
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	return removeArtifacts(ctx, c, a)
}

func removeArtifacts(ctx context.Context, c client.Client, a *olm.Artifacts) error {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(demoNamespace)
	err := olm.DeleteAndWait(ctx, c, ns)
	return errors.Join(err, olm.Remove(ctx, c, os.Stdout, a.Manifests, a.Subscription(), a.Bundles[0].CRDs()))
}

func within(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

func poll(ctx context.Context, what string, done func(context.Context) (bool, error)) error {
	for {
		ok, err := done(ctx)
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

func step(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}
