// Command speaker is ferrolb's speaker: on every node (a DaemonSet on the host network, with NET_RAW only)
// it makes the load-balancer addresses reachable. In layer 2 mode the elected node answers ARP and NDP for
// each address and announces takeovers with gratuitous ARP and unsolicited neighbour advertisements;
// memberlist tells which speakers are alive. In BGP mode every eligible node advertises the addresses to the
// BGPPeers that select it, through an embedded GoBGP speaker that only dials out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api"
	"github.com/ferrolb/ferrolb/internal/cli"
	"github.com/ferrolb/ferrolb/internal/metricsauth"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/speaker/bgp"
	"github.com/ferrolb/ferrolb/speaker/layer2"
	"github.com/ferrolb/ferrolb/speaker/layer2/memberlist"
)

// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=pods,verbs=get;list;watch

type options struct {
	node, pod, namespace, lbClass, logLevel string
	ignoreExcludeLB                         bool
	metricsAddr, probeAddr, pprofAddr       string
	metricsSecure                           bool
	refresh, handoff                        time.Duration
	excludeL2Path                           string
	ml                                      memberlistOptions
}

type memberlistOptions struct {
	bindAddr, labels, secretPath, configPath string
	bindPort                                 int
}

// enabled is MetalLB's rule: memberlist runs only with both a bind address and pod labels.
func (m memberlistOptions) enabled() bool { return m.bindAddr != "" && m.labels != "" }

func main() {
	var o options
	flag.StringVar(&o.node, "node-name", os.Getenv("METALLB_NODE_NAME"), "The node the speaker runs on (required).")
	flag.StringVar(&o.pod, "pod-name", os.Getenv("METALLB_POD_NAME"), "The speaker's pod, owner of the objects it creates.")
	flag.StringVar(&o.namespace, "namespace", cli.EnvOr("METALLB_NAMESPACE", cli.PodNamespace()), "The namespace of ferrolb's configuration objects.")
	flag.StringVar(&o.lbClass, "lb-class", "", "The spec.loadBalancerClass of the Services to announce; empty announces those without a class.")
	flag.StringVar(&o.logLevel, "log-level", "info", "Log level: all, debug, info, warn, error or none.")
	flag.BoolVar(&o.ignoreExcludeLB, "ignore-exclude-lb", false, "Announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers too.")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":7472", "The address the metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&o.metricsSecure, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":17472", "The address of /healthz and /readyz.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "", "The address of Go's /debug/pprof endpoints, for profiling; empty disables them.")
	flag.DurationVar(&o.refresh, "gratuitous-refresh", 0, "Re-send gratuitous ARP/NDP for every owned address at this period (0: only on takeover), for switches whose MAC tables age out first.")
	flag.DurationVar(&o.handoff, "handoff-delay", 2*time.Second, "On shutdown, how long to go on answering after leaving memberlist, while the new owners take over.")
	flag.StringVar(&o.excludeL2Path, "excludel2-path", "/etc/metallb/excludel2.yaml", "MetalLB's file of interface patterns never announced on (announcedInterfacesToExclude); ignored when absent.")
	flag.StringVar(&o.ml.bindAddr, "ml-bindaddr", os.Getenv("METALLB_ML_BIND_ADDR"), "The address memberlist binds to (the pod IP).")
	flag.IntVar(&o.ml.bindPort, "ml-bindport", envInt("METALLB_ML_BIND_PORT", memberlist.DefaultPort), "The port memberlist binds to (TCP and UDP).")
	flag.StringVar(&o.ml.labels, "ml-labels", os.Getenv("METALLB_ML_LABELS"), "The labels of the speaker pods, e.g. app=metallb,component=speaker.")
	flag.StringVar(&o.ml.secretPath, "ml-secret-key-path", os.Getenv("METALLB_ML_SECRET_KEY_PATH"), "The directory holding the memberlist key in the file secretkey.")
	flag.StringVar(&o.ml.configPath, "ml-config", memberlist.ConfigFile, "MetalLB's memberlist timer overrides; ignored when absent.")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "speaker: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.node == "" {
		return errors.New("--node-name (or METALLB_NODE_NAME) is required")
	}
	level, err := cli.LogLevel(o.logLevel)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.Level(level)))
	log := ctrl.Log.WithName("setup")
	cli.SetMemoryLimit(log)

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	metricsOpts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure}
	if o.metricsSecure {
		metricsOpts.FilterProvider = metricsauth.WithAuthenticationAndAuthorization
	}
	mlSelector, err := labels.Parse(o.ml.labels)
	if err != nil {
		return fmt.Errorf("invalid --ml-labels %q: %w", o.ml.labels, err)
	}
	cacheOpts := speaker.CacheOptions(o.namespace, o.node)
	// Memberlist discovery reads the speaker pods every few seconds: from the cache.
	cacheOpts.ByObject[&corev1.Pod{}] = cache.ByObject{Namespaces: map[string]cache.Config{o.namespace: {}}, Label: mlSelector}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 api.NewScheme(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: o.probeAddr,
		PprofBindAddress:       o.pprofAddr,
		// Every speaker announces for its own node: no leader election.
		Cache: cacheOpts,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	exclude, err := excludedInterfaces(o.excludeL2Path)
	if err != nil {
		return err
	}
	l2Metrics, err := layer2.NewMetrics(metrics.Registry)
	if err != nil {
		return err
	}
	responder, err := layer2.New(layer2.WithLogger(ctrl.Log.WithName("layer2")), layer2.WithExcludePatterns(exclude...),
		layer2.WithMetrics(l2Metrics))
	if err != nil {
		return fmt.Errorf("creating the layer-2 responder: %w", err)
	}

	// The first signal starts the hand-over, the second ends the process at once.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	owner, err := cli.PodOwner(ctx, mgr.GetAPIReader(), o.namespace, o.pod)
	if err != nil {
		return err
	}

	// One GoBGP speaker in the process; it opens sessions only for the BGPPeers that select this node, so it
	// costs nothing in layer 2 mode.
	router := bgp.New(bgp.WithLogger(ctrl.Log.WithName("bgp")), bgp.WithNodeName(o.node))
	if err := bgp.RegisterMetrics(metrics.Registry, router); err != nil {
		return fmt.Errorf("registering the BGP metrics: %w", err)
	}

	opts := speaker.Options{NodeName: o.node, Namespace: o.namespace, LoadBalancerClass: o.lbClass,
		IgnoreExcludeLB: o.ignoreExcludeLB, Refresh: o.refresh, Announcer: responder, Owner: owner, Router: router}
	var ml *memberlist.List
	if o.ml.enabled() {
		if ml, err = startMemberlist(ctx, mgr, o, mlSelector); err != nil {
			return err
		}
		opts.Members = ml
		opts.Ready = func() {
			if err := ml.SetReady(time.Second); err != nil {
				log.Error(err, "Telling the other speakers this one is ready")
			}
		}
	} else {
		log.Info("Memberlist disabled: every node is assumed to run a speaker")
	}
	s, err := speaker.Setup(mgr, opts)
	if err != nil {
		return err
	}
	if err := mgr.Add(runnable(responder.Run)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}

	go func() {
		<-signals
		// Planned shutdown: stop changing announcements, leave memberlist so that the other speakers take
		// the addresses over at once, answer meanwhile, then stop.
		log.Info("Handing over", "delay", o.handoff)
		s.Freeze()
		handedOver := time.After(o.handoff)
		if ml != nil {
			if err := ml.Leave(time.Second); err != nil {
				log.Error(err, "Leaving memberlist")
			}
		}
		// Withdraw every BGP route explicitly, now: the routers move the traffic to the other nodes' paths
		// at once instead of waiting for the hold timer.
		closeCtx, cancelClose := context.WithTimeout(context.Background(), max(o.handoff, time.Second))
		if err := router.Close(closeCtx); err != nil {
			log.Error(err, "Withdrawing the BGP routes")
		}
		cancelClose()
		select {
		case <-handedOver:
		case <-signals:
		}
		cancel()
		<-signals
		os.Exit(1)
	}()
	log.Info("Starting speaker", "node", o.node, "namespace", o.namespace, "loadBalancerClass", o.lbClass)
	return mgr.Start(ctx)
}

// startMemberlist creates the node's member and joins the speakers found by their pod labels, before
// anything is announced, so that a restarted speaker does not elect itself alone for a moment. Discovery then
// goes on, from the cache, for the whole life of the speaker: memberlist never reconnects by itself to a
// member it declared dead, so a healed partition merges only through it.
func startMemberlist(ctx context.Context, mgr ctrl.Manager, o options, selector labels.Selector) (*memberlist.List, error) {
	var secret []byte
	if o.ml.secretPath != "" {
		var err error
		if secret, err = os.ReadFile(filepath.Join(o.ml.secretPath, memberlist.SecretKeyFile)); err != nil {
			return nil, fmt.Errorf("reading the memberlist key: %w", err)
		}
	}
	tuning := memberlist.FastTimers()
	if _, err := os.Stat(o.ml.configPath); err == nil {
		if tuning, err = memberlist.LoadConfigFile(o.ml.configPath, tuning); err != nil {
			return nil, err
		}
	}
	ml, err := memberlist.New(memberlist.Options{
		Name: o.node, BindAddr: o.ml.bindAddr, BindPort: o.ml.bindPort, SecretKey: secret, Tuning: tuning,
		Logger: ctrl.Log.WithName("memberlist"),
	})
	if err != nil {
		return nil, fmt.Errorf("starting memberlist: %w", err)
	}
	lister := func(r client.Reader) func(context.Context) ([]string, error) {
		return func(ctx context.Context) ([]string, error) {
			var pods corev1.PodList
			if err := r.List(ctx, &pods, client.InNamespace(o.namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
				return nil, fmt.Errorf("listing speaker pods: %w", err)
			}
			var addrs []string
			for _, p := range pods.Items {
				if p.Status.PodIP != "" && p.Spec.NodeName != o.node {
					addrs = append(addrs, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(o.ml.bindPort)))
				}
			}
			return addrs, nil
		}
	}
	if addrs, err := lister(mgr.GetAPIReader())(ctx); err != nil {
		ctrl.Log.WithName("memberlist").Info("Listing the other speakers failed; discovering in the background", "error", err.Error())
	} else if _, err := ml.Join(addrs); err != nil {
		ctrl.Log.WithName("memberlist").Info("Joining the other speakers failed; retrying in the background", "error", err.Error())
	}
	discover := runnable(func(ctx context.Context) error {
		ml.Discover(ctx, lister(mgr.GetClient()), memberlist.DefaultDiscoverInterval)
		return nil
	})
	if err := mgr.Add(discover); err != nil {
		return nil, err
	}
	return ml, nil
}

// excludedInterfaces reads MetalLB's excludel2.yaml; without it, the responder's default patterns apply.
func excludedInterfaces(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return layer2.DefaultExcludePatterns, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var f struct {
		AnnouncedInterfacesToExclude []string `json:"announcedInterfacesToExclude"`
	}
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return f.AnnouncedInterfacesToExclude, nil
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(strings.TrimSpace(os.Getenv(name)), &v); err != nil {
		return def
	}
	return v
}

// runnable adapts a blocking Run(ctx) to a manager runnable that runs on every speaker.
type runnable func(context.Context) error

func (f runnable) Start(ctx context.Context) error { return f(ctx) }
func (runnable) NeedLeaderElection() bool          { return false }
