//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api"
	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

const (
	// EnvBGPBench runs the BGP benchmark, advertising that many Services at once (make bench-bgp).
	EnvBGPBench = "FERROLB_BENCH_BGP"
	// EnvBGPBenchN is how many Services the latency part creates one at a time; 100 unless set.
	EnvBGPBenchN = "FERROLB_BENCH_BGP_N"
)

// The BGP benchmark (make bench-bgp, docs/benchmarks.md) is not part of make test: it takes many minutes. It
// measures what the router sees: how long after a Service shows its address the router routes it through
// every node, how long a large number of Services takes to reach the router, and what the speaker costs then.
var _ = Describe("BGP benchmark", Label("benchmark"), Ordered, ContinueOnFailure, func() {
	var (
		c        client.Client
		fast     client.Client // no client-side rate limit: the bulk creation must not wait on the test
		ns, apps string
		bulk, n  int
		w        *tabwriter.Writer
	)
	BeforeAll(func(ctx SpecContext) {
		var err error
		if bulk, err = strconv.Atoi(os.Getenv(EnvBGPBench)); err != nil || bulk <= 0 {
			Skip("set " + EnvBGPBench + " to run the BGP benchmark (make bench-bgp)")
		}
		n = 100
		if v := os.Getenv(EnvBGPBenchN); v != "" {
			n, err = strconv.Atoi(v)
			Expect(err).NotTo(HaveOccurred(), EnvBGPBenchN)
		}
		Expect(bulk).To(BeNumerically("<=", 1<<(32-lab.BGPBenchRange4.Bits())-2), "the benchmark range holds the Services")
		for _, p := range rootRoutes(ctx) {
			Expect(p.Overlaps(lab.BGPBenchRange4)).To(BeFalse(), "the root namespace routes %s, which overlaps the benchmark range", p)
		}
		c = controllerRuntimeClient()
		cfg, err := f.Lab.RESTConfig()
		Expect(err).NotTo(HaveOccurred())
		cfg.QPS = -1
		fast, err = client.New(cfg, client.Options{Scheme: api.NewScheme()})
		Expect(err).NotTo(HaveOccurred())
		installCRDs()
		ns = f.Namespace(ctx, "bgp-bench")
		deployController(ctx, c, ns, false)
		deploySpeaker(ctx, c, ns)
		for _, o := range []client.Object{
			bgpPeer(ns, "router-v4", lab.Router().IPv4),
			bgpPeer(ns, "router-v6", lab.Router().IPv6),
			&metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
				Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{lab.BGPBenchRange4.String()}}},
			&metallbv1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
				Spec: metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bench"}}},
		} {
			Expect(c.Create(ctx, o)).To(Succeed())
		}
		apps = f.Namespace(ctx, "bgp-bench-apps")
		_, err = f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(ctx, func(g Gomega) {
			d, err := f.Client.AppsV1().Deployments(apps).Get(ctx, "echo", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(d.Status.ReadyReplicas).To(BeEquivalentTo(f.Lab.Nodes))
		}).Should(Succeed(), "the echo pods are ready")
		awaitSessions(ctx, f.Lab.NodeHosts()...)

		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(w, "\nBGP, %d nodes, each with an IPv4 and an IPv6 session to the router (FRR)\t\n", f.Lab.Nodes)
		fmt.Fprintf(w, "measure\tcount\tp50\tp99\tmax\tmin\t\n")
		DeferCleanup(func() { Expect(w.Flush()).To(Succeed()) })
	}, NodeTimeout(specTimeout))

	It("routes a Service at the router within 200 ms of its address showing", func(ctx SpecContext) {
		sw, err := f.Client.CoreV1().Services(apps).Watch(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		defer sw.Stop()
		var took []time.Duration
		for i := range n {
			svc := createLoadBalancer(ctx, fast, apps, fmt.Sprintf("latency-%d", i), ptr.To(corev1.IPFamilyPolicySingleStack))
			ip, shown := awaitIngressEvent(ctx, sw, svc.Name)
			prefix := netip.PrefixFrom(ip, 32)
			Eventually(ctx, func() (int, error) { return routerRouteHops(ctx, prefix) }).
				WithTimeout(30*time.Second).WithPolling(10*time.Millisecond).Should(Equal(f.Lab.Nodes), "%s routed through every node", prefix)
			took = append(took, time.Since(shown))
			Expect(fast.Delete(ctx, svc)).To(Succeed())
			Eventually(ctx, func() (int, error) { return routerRouteHops(ctx, prefix) }).
				WithTimeout(30*time.Second).WithPolling(50*time.Millisecond).Should(BeZero(), "%s withdrawn", prefix)
		}
		slices.Sort(took)
		fmt.Fprintf(w, "Service shows its IP → the router's kernel routes it through every node\t%d\t%v\t%v\t%v\t%v\t\n",
			len(took), pct(took, 50), pct(took, 99), took[len(took)-1].Round(time.Millisecond), took[0].Round(time.Millisecond))
		Expect(w.Flush()).To(Succeed())
		Expect(pct(took, 99)).To(BeNumerically("<=", 200*time.Millisecond), "p99")
	}, SpecTimeout(20*time.Minute))

	It("advertises many Services at once, and the speaker stays small", func(ctx SpecContext) {
		bulkNS := f.Namespace(ctx, "bgp-bulk")
		_, err := f.Client.AppsV1().Deployments(bulkNS).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(ctx, func(g Gomega) {
			d, err := f.Client.AppsV1().Deployments(bulkNS).Get(ctx, "echo", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(d.Status.ReadyReplicas).To(BeEquivalentTo(f.Lab.Nodes))
		}).Should(Succeed(), "the echo pods are ready")
		Eventually(ctx, func(g Gomega) { g.Expect(routerPrefixes(ctx, g)).To(BeZero()) }).Should(Succeed(), "no prefix left from before")

		track := trackBulk(ctx, bulkNS)
		hosts := f.Lab.NodeHosts()
		pids := map[string]string{}
		cpuBefore := map[string]time.Duration{}
		for _, h := range hosts {
			pids[h.Name] = speakerPid(ctx, h)
			cpuBefore[h.Name] = cpuTime(pids[h.Name])
		}

		By(fmt.Sprintf("creating %d Services, 32 at a time", bulk))
		start := time.Now()
		parallel(bulk, 32, func(i int) {
			defer GinkgoRecover()
			createLoadBalancer(ctx, fast, bulkNS, fmt.Sprintf("bulk-%05d", i), ptr.To(corev1.IPFamilyPolicySingleStack))
		})
		created := time.Now()
		progress := time.Now()
		Eventually(ctx, func(g Gomega) {
			got := routerPrefixes(ctx, g)
			if time.Since(progress) > 30*time.Second {
				progress = time.Now()
				ips, ready, _, _ := track.state()
				fmt.Fprintf(GinkgoWriter, "%v: %d Services with an IP, %d with a ready endpoint, %d prefixes from every node at the router\n",
					time.Since(start).Round(time.Second), ips, ready, got)
			}
			g.Expect(got).To(Equal(bulk))
		}).WithTimeout(40*time.Minute).WithPolling(200*time.Millisecond).Should(Succeed(), "every prefix from every node at the router")
		all := time.Now()
		ips, ready, lastIP, lastReady := track.state()
		Expect(ips).To(Equal(bulk))
		Expect(ready).To(Equal(bulk))
		lastIn := lastIP
		if lastReady.After(lastIn) {
			lastIn = lastReady
		}
		row := func(name string, d time.Duration) {
			d = d.Round(time.Millisecond)
			fmt.Fprintf(w, "%s\t%d\t%v\t\t\t\t\n", name, bulk, d)
		}
		row("first create → the last Service created", created.Sub(start))
		row("first create → the last Service shows its IP", lastIP.Sub(start))
		row("first create → the last Service has a ready endpoint", lastReady.Sub(start))
		row("first create → every prefix from every node at the router", all.Sub(start))
		row("the speaker's share: the last Service with its IP and an endpoint → all at the router", all.Sub(lastIn))

		By("reading the speakers' memory with every Service advertised")
		rss := map[string]int64{}
		for _, h := range hosts {
			m := memory(pids[h.Name])
			rss[h.Name] = m.rss
			fmt.Fprintf(w, "speaker on %s, %d Services advertised to 2 peers: VmRSS %.1f MiB (RssAnon %.1f, RssFile %.1f), VmHWM %.1f MiB, CPU %v\t\t\t\t\t\t\n",
				h.Name, bulk, mib(m.rss), mib(m.anon), mib(m.file), mib(m.hwm), (cpuTime(pids[h.Name]) - cpuBefore[h.Name]).Round(10*time.Millisecond))
		}

		Expect(w.Flush()).To(Succeed()) // the rows so far, should the deletion not finish

		By("deleting the Services")
		deleting := time.Now()
		parallel(bulk, 32, func(i int) {
			defer GinkgoRecover()
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: bulkNS, Name: fmt.Sprintf("bulk-%05d", i)}}
			Expect(client.IgnoreNotFound(fast.Delete(ctx, svc))).To(Succeed())
		})
		Eventually(ctx, func(g Gomega) { g.Expect(routerPrefixes(ctx, g)).To(BeZero()) }).
			WithTimeout(20*time.Minute).WithPolling(200*time.Millisecond).Should(Succeed(), "every prefix withdrawn")
		row("first delete → every prefix withdrawn at the router", time.Since(deleting))
		for node, b := range rss {
			Expect(b).To(BeNumerically("<=", 64<<20), "VmRSS of the speaker on %s (goal 64 MiB)", node)
		}
	}, SpecTimeout(60*time.Minute))
})

// awaitIngressEvent reads the watch until the named Service shows an address; it returns the address and
// when the event arrived.
func awaitIngressEvent(ctx context.Context, w watch.Interface, name string) (netip.Addr, time.Time) {
	GinkgoHelper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			Expect(ok).To(BeTrue(), "the Service watch ended")
			svc, isSvc := ev.Object.(*corev1.Service)
			if !isSvc || svc.Name != name || ev.Type == watch.Deleted || len(svc.Status.LoadBalancer.Ingress) == 0 {
				continue
			}
			return netip.MustParseAddr(svc.Status.LoadBalancer.Ingress[0].IP), time.Now()
		case <-timeout:
			Fail("Service " + name + " shows no address within 30s")
		case <-ctx.Done():
			Fail("interrupted waiting for the address of Service " + name)
		}
	}
}

// routerRouteHops returns the number of next hops of the router's kernel route to prefix (zebra installs
// FRR's best paths, up to 8 equal ones, there); 0 without a route. Reading the kernel is far cheaper than
// asking bgpd.
func routerRouteHops(ctx context.Context, prefix netip.Prefix) (int, error) {
	out, err := f.Lab.Exec(ctx, lab.Router(), "ip", "-j", "route", "show", "exact", prefix.String())
	if err != nil {
		return 0, err
	}
	var routes []struct {
		Gateway  string `json:"gateway"`
		Nexthops []struct {
			Gateway string `json:"gateway"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return 0, fmt.Errorf("decoding %q: %w", out, err)
	}
	switch {
	case len(routes) == 0:
		return 0, nil
	case len(routes[0].Nexthops) > 0:
		return len(routes[0].Nexthops), nil
	case routes[0].Gateway != "":
		return 1, nil
	}
	return 0, nil
}

// routerPrefixes returns the fewest IPv4 prefixes the router has received from one node.
func routerPrefixes(ctx context.Context, g Gomega) int {
	summary, err := f.Lab.BGPSummary(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(summary.IPv4Unicast).NotTo(BeNil())
	fewest := -1
	for _, h := range f.Lab.NodeHosts() {
		p, ok := summary.IPv4Unicast.Peers[h.IPv4.String()]
		g.Expect(ok).To(BeTrue(), "%s peers over IPv4", h.Name)
		g.Expect(p.State).To(Equal("Established"), "%s's IPv4 session", h.Name)
		if fewest < 0 || p.PfxRcd < fewest {
			fewest = p.PfxRcd
		}
	}
	return fewest
}

// bulkTracker records when each Service of a namespace first showed an address, and when its EndpointSlices
// first held a ready endpoint, as the test's informers saw it.
type bulkTracker struct {
	mu     sync.Mutex
	ip     map[string]time.Time
	ready  map[string]time.Time
	synced bool
}

func trackBulk(ctx context.Context, ns string) *bulkTracker {
	GinkgoHelper()
	t := &bulkTracker{ip: map[string]time.Time{}, ready: map[string]time.Time{}}
	factory := informers.NewSharedInformerFactoryWithOptions(f.Client, 0, informers.WithNamespace(ns))
	seen := func(m map[string]time.Time, name string) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, ok := m[name]; !ok {
			m[name] = time.Now()
		}
	}
	onService := func(obj any) {
		if svc, ok := obj.(*corev1.Service); ok && len(svc.Status.LoadBalancer.Ingress) > 0 {
			seen(t.ip, svc.Name)
		}
	}
	onSlice := func(obj any) {
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok || s.Labels[discoveryv1.LabelServiceName] == "" {
			return
		}
		if slices.ContainsFunc(s.Endpoints, func(e discoveryv1.Endpoint) bool { return e.Conditions.Ready == nil || *e.Conditions.Ready }) {
			seen(t.ready, s.Labels[discoveryv1.LabelServiceName])
		}
	}
	_, err := factory.Core().V1().Services().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onService, UpdateFunc: func(_, obj any) { onService(obj) }})
	Expect(err).NotTo(HaveOccurred())
	_, err = factory.Discovery().V1().EndpointSlices().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onSlice, UpdateFunc: func(_, obj any) { onSlice(obj) }})
	Expect(err).NotTo(HaveOccurred())
	stop := make(chan struct{})
	DeferCleanup(func() { close(stop); factory.Shutdown() })
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		Expect(ok).To(BeTrue(), "syncing the %v informer", typ)
	}
	return t
}

// state returns how many Services showed an address and had a ready endpoint, and when the last of each did.
func (t *bulkTracker) state() (ips, ready int, lastIP, lastReady time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	last := func(m map[string]time.Time) time.Time {
		var l time.Time
		for _, at := range m {
			if at.After(l) {
				l = at
			}
		}
		return l
	}
	return len(t.ip), len(t.ready), last(t.ip), last(t.ready)
}

// parallel runs do(0) … do(n-1) on the given number of goroutines.
func parallel(n, workers int, do func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				do(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// residentMemory is a process's resident memory, in bytes (/proc/<pid>/status): VmRSS, its anonymous part
// (heap, stacks) and its file-backed part (the binary's pages, shared and reclaimable), and the peak VmHWM.
type residentMemory struct{ rss, anon, file, hwm int64 }

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// memory returns the process's resident memory.
func memory(pid string) residentMemory {
	GinkgoHelper()
	var m residentMemory
	b, err := os.ReadFile("/proc/" + pid + "/status")
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		Expect(err).NotTo(HaveOccurred(), line)
		switch fields[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "RssAnon:":
			m.anon = kb << 10
		case "RssFile:":
			m.file = kb << 10
		case "VmHWM:":
			m.hwm = kb << 10
		}
	}
	Expect(m.rss).To(BeNumerically(">", 0), "VmRSS in /proc/%s/status", pid)
	return m
}

// cpuTime returns the user and system CPU time the process has used (/proc/<pid>/stat, 100 ticks a second).
func cpuTime(pid string) time.Duration {
	GinkgoHelper()
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	Expect(err).NotTo(HaveOccurred())
	// Fields are counted after the command name, which may hold spaces: utime and stime are the 12th and 13th.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	Expect(err).NotTo(HaveOccurred())
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	Expect(err).NotTo(HaveOccurred())
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
