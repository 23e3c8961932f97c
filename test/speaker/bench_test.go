package speaker_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/server"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/test/testenv"
)

var (
	benchBGPServices  = flag.Int("bench.bgp-services", 10000, "BenchmarkSpeakerBGP: Services advertised at once")
	benchBGPLatencies = flag.Int("bench.bgp-latencies", 100, "BenchmarkSpeakerBGP: Services created one at a time, with the others advertised")
	benchBGPProfile   = flag.String("bench.bgp-heapprofile", "", "BenchmarkSpeakerBGP: write the speaker's heap profile (go tool pprof) there once every path is at the peers")
	benchBGPEnv       = flag.String("bench.bgp-env", "", "BenchmarkSpeakerBGP: extra environment of the speaker process, comma-separated (GOGC=50,GOMEMLIMIT=48MiB)")
	benchBGPLog       = flag.String("bench.bgp-log", "", "BenchmarkSpeakerBGP: keep the speaker's log in this file")
	benchBGPHold      = flag.Duration("bench.bgp-hold", 0, "BenchmarkSpeakerBGP: keep the speaker running that long, idle and then with every Service advertised, to inspect it (its pid is logged)")
)

// benchASN is the AS of the peers the speaker dials; the speaker is in nodeASN.
const benchASN = remoteASN

// BenchmarkSpeakerBGP measures the speaker binary (cmd/speaker, built and run as its own process, as the
// speaker's service account with the generated role) against a real kube-apiserver and etcd (envtest) and two
// in-process GoBGP routers on loopback, one BGPPeer each, and prints a table (docs/benchmarks.md):
//
//   - bulk: n LoadBalancer Services, each with its address in status and a ready endpoint on the speaker's
//     node, written 32 at a time; the clock runs from the first write until both routers hold all n prefixes,
//     and the speaker's share from the last write;
//   - cost: the speaker's VmRSS and VmHWM (/proc), heap in use (its Go metrics) and CPU once every path is
//     at the routers, and its heap profile with -bench.bgp-heapprofile;
//   - latency: with the n Services advertised, Services created one at a time, each timed from the write of
//     its address (the last write) until both routers have its prefix;
//   - delete: the n Services deleted 32 at a time, until both routers hold none;
//   - the sessions never reset (the routers count their established transitions).
//
// It needs root only for the layer-2 responder's raw sockets, which stay idle (no L2Advertisement). One
// iteration takes a few minutes; -bench.bgp-services makes it smaller:
//
//	go test -run '^$' -bench SpeakerBGP -benchtime=1x -timeout 30m ./test/speaker/ -args -bench.bgp-services=1000
func BenchmarkSpeakerBGP(b *testing.B) {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	for b.Loop() {
		benchSpeakerBGP(b, *benchBGPServices, *benchBGPLatencies)
	}
}

func benchSpeakerBGP(b *testing.B, n, latencies int) {
	ctx := b.Context()
	bin := buildSpeaker(b)
	env, err := testenv.New()
	if err != nil {
		b.Fatal(err)
	}
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	admin, err := env.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	loaderCfg := rest.CopyConfig(admin)
	loaderCfg.QPS, loaderCfg.Burst = -1, 0
	loader, err := client.New(loaderCfg, client.Options{Scheme: testenv.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	const node, apps = "bench-node", "bench"
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: apps}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, Labels: baseLabels(node)}},
	} {
		if err := loader.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	if err := testenv.GrantGeneratedRole(ctx, loader, speakerUser); err != nil {
		b.Fatal(err)
	}

	routers := []*benchRouter{newBenchRouter(b, "router-a"), newBenchRouter(b, "router-b")}
	for _, r := range routers {
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.name},
			Spec: metallbv1beta2.BGPPeerSpec{MyASN: nodeASN, ASN: benchASN, PeerAddress: "127.0.0.1", Port: r.port}}
		if err := loader.Create(ctx, peer); err != nil {
			b.Fatal(err)
		}
	}
	for _, o := range []client.Object{
		&metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"172.20.0.0/16"}}},
		&metallbv1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
			Spec: metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bench"}}},
	} {
		if err := loader.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}

	sp := startBenchSpeaker(b, env, bin, node)
	for _, r := range routers {
		r.awaitEstablished(b, 30*time.Second)
	}
	idleRSS, _ := sp.memory(b)
	b.Logf("idle: %s", sp.breakdown(b))
	sp.hold(b, "idle")
	mark := time.Now()

	// Bulk: Service, EndpointSlice, address; the address comes last, as from the controller.
	writeService := func(i int) (netip.Prefix, error) {
		svc, prefix := benchBGPService(apps, i)
		if err := loader.Create(ctx, svc); err != nil {
			return prefix, err
		}
		if err := loader.Create(ctx, benchSlice(apps, svc.Name, node, i)); err != nil {
			return prefix, err
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: prefix.Addr().String(), IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
		return prefix, loader.Status().Update(ctx, svc)
	}
	cpuBefore := sp.cpu(b)
	start := time.Now()
	benchParallel(b, n, 32, func(i int) error { _, err := writeService(i); return err })
	written := time.Now()
	for _, r := range routers {
		r.awaitCount(b, n, 20*time.Minute)
	}
	all := time.Now()
	cpuBulk := sp.cpu(b) - cpuBefore
	b.Logf("%-30s %6.1f s", "bulk", time.Since(mark).Seconds())
	mark = time.Now()

	rss, hwm := sp.memory(b)
	heap := sp.metric(b, "go_memstats_heap_inuse_bytes")
	b.Logf("advertised: %s", sp.breakdown(b))
	sp.hold(b, "advertised")
	if *benchBGPProfile != "" {
		sp.heapProfile(b, *benchBGPProfile)
	}

	// Latency, one Service at a time with the n others advertised.
	var lat []time.Duration
	for i := range latencies {
		prefix, err := writeService(n + i)
		if err != nil {
			b.Fatal(err)
		}
		shown := time.Now()
		for _, r := range routers {
			r.awaitPrefix(b, prefix, 30*time.Second)
		}
		lat = append(lat, time.Since(shown))
	}
	slices.Sort(lat)
	b.Logf("%-30s %6.1f s", "latency", time.Since(mark).Seconds())
	mark = time.Now()

	deleting := time.Now()
	benchParallel(b, n+latencies, 32, func(i int) error {
		return client.IgnoreNotFound(loader.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: apps, Name: fmt.Sprintf("svc-%05d", i)}}))
	})
	for _, r := range routers {
		r.awaitCount(b, 0, 20*time.Minute)
	}
	deleted := time.Since(deleting)
	b.Logf("%-30s %6.1f s", "delete", time.Since(mark).Seconds())

	var flops []string
	for _, r := range routers {
		if f := r.flops(b); f != 0 {
			flops = append(flops, fmt.Sprintf("%s: %d", r.name, f))
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nspeaker, BGP, %d Services, 2 peers (in-process GoBGP on loopback), %d CPUs\t\t\n", n, runtimeCPUs())
	fmt.Fprintf(w, "measure\tvalue\t\n")
	fmt.Fprintf(w, "first write → every prefix at both peers\t%v\t\n", all.Sub(start).Round(time.Millisecond))
	fmt.Fprintf(w, "the speaker's share: last write → every prefix at both peers\t%v\t\n", all.Sub(written).Round(time.Millisecond))
	fmt.Fprintf(w, "speaker CPU during the bulk\t%v\t\n", cpuBulk.Round(10*time.Millisecond))
	fmt.Fprintf(w, "speaker VmRSS idle (no Service) / with every Service advertised / VmHWM\t%.1f / %.1f / %.1f MiB\t\n",
		mib(idleRSS), mib(rss), mib(hwm))
	fmt.Fprintf(w, "speaker heap in use with every Service advertised\t%.1f MiB\t\n", heap/(1<<20))
	if len(lat) > 0 {
		fmt.Fprintf(w, "address written → prefix at both peers, %d Services, p50 / p99 / max\t%v / %v / %v\t\n", len(lat),
			benchPct(lat, 50).Round(100*time.Microsecond), benchPct(lat, 99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	}
	fmt.Fprintf(w, "first delete → every prefix withdrawn at both peers\t%v\t\n", deleted.Round(time.Millisecond))
	fmt.Fprintf(w, "session resets seen by the peers\t%d\t\n", len(flops))
	_ = w.Flush()

	b.ReportMetric(all.Sub(start).Seconds(), "s-all-paths")
	b.ReportMetric(all.Sub(written).Seconds(), "s-speaker-share")
	b.ReportMetric(mib(rss), "MiB-rss")
	b.ReportMetric(mib(hwm), "MiB-hwm")
	b.ReportMetric(heap/(1<<20), "MiB-heap")
	if len(lat) > 0 {
		b.ReportMetric(float64(benchPct(lat, 99).Microseconds())/1000, "ms-p99")
	}
	if len(flops) > 0 {
		b.Fatalf("sessions reset: %s", strings.Join(flops, ", "))
	}
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

func runtimeCPUs() int {
	n, _ := strconv.Atoi(strings.TrimSpace(mustOutput("nproc")))
	return n
}

func mustOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}

// benchPct returns the p-th percentile of sorted durations.
func benchPct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

// benchBGPService is the i-th Service and the prefix of its address.
func benchBGPService(namespace string, i int) (*corev1.Service, netip.Prefix) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("svc-%05d", i), Labels: map[string]string{"app": "echo"}},
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Selector:                      map[string]string{"app": "echo"},
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	addr := netip.AddrFrom4([4]byte{172, 20, byte(i >> 8), byte(i)})
	return svc, netip.PrefixFrom(addr, 32)
}

// benchSlice is the EndpointSlice of the i-th Service: one ready endpoint on node.
func benchSlice(namespace, service, node string, i int) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: service + "-abcde",
			Labels: map[string]string{discoveryv1.LabelServiceName: service, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}).String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			NodeName:   ptr.To(node),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: fmt.Sprintf("echo-%05d", i)},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
}

// benchParallel runs do(0) … do(n-1) on the given number of goroutines and fails at the first error.
func benchParallel(b *testing.B, n, workers int, do func(int) error) {
	var g errgroup.Group
	g.SetLimit(workers)
	for i := range n {
		g.Go(func() error { return do(i) })
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// buildSpeaker builds cmd/speaker into a temporary directory.
func buildSpeaker(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "speaker")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/speaker")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the speaker: %v\n%s", err, out)
	}
	return bin
}

// benchSpeaker is the speaker process.
type benchSpeaker struct {
	cmd              *exec.Cmd
	metrics, pprof   string
	pid              string
	exited           chan struct{}
	logPath, workDir string
}

func freeLoopbackPort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBenchSpeaker runs the speaker binary for node as the speaker's service account.
func startBenchSpeaker(b *testing.B, env *envtest.Environment, bin, node string) *benchSpeaker {
	user, err := env.AddUser(envtest.User{Name: speakerUser, Groups: []string{"system:authenticated"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		b.Fatal(err)
	}
	s := &benchSpeaker{
		metrics: fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(b)),
		pprof:   fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(b)),
		exited:  make(chan struct{}),
		logPath: cmpOrString(*benchBGPLog, filepath.Join(dir, "speaker.log")),
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		b.Fatal(err)
	}
	s.cmd = exec.Command(bin, "--node-name="+node, "--namespace="+ns, "--kubeconfig="+kcPath,
		"--metrics-bind-address="+s.metrics, "--metrics-secure=false", "--pprof-bind-address="+s.pprof,
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", freeLoopbackPort(b)),
		"--excludel2-path="+filepath.Join(dir, "none"))
	s.cmd.Env = os.Environ()
	if *benchBGPEnv != "" {
		s.cmd.Env = append(s.cmd.Env, strings.Split(*benchBGPEnv, ",")...)
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s.pid = strconv.Itoa(s.cmd.Process.Pid)
	go func() { _ = s.cmd.Wait(); _ = logFile.Close(); close(s.exited) }()
	b.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if b.Failed() {
			b.Logf("speaker log (%s), last lines:\n%s", s.logPath, tail(s.logPath, 40))
		}
	})
	return s
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func tail(path string, lines int) string {
	raw, _ := os.ReadFile(path)
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

func (s *benchSpeaker) alive(b *testing.B) {
	select {
	case <-s.exited:
		b.Fatalf("the speaker exited: %v\n%s", s.cmd.ProcessState, tail(s.logPath, 40))
	default:
	}
}

// memory returns the speaker's VmRSS and VmHWM, in bytes.
func (s *benchSpeaker) memory(b *testing.B) (rss, hwm int64) {
	s.alive(b)
	f, err := os.Open("/proc/" + s.pid + "/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// hold keeps the speaker running for -bench.bgp-hold.
func (s *benchSpeaker) hold(b *testing.B, state string) {
	if *benchBGPHold <= 0 {
		return
	}
	fmt.Fprintf(os.Stderr, "speaker pid %s %s, holding for %v\n", s.pid, state, *benchBGPHold)
	time.Sleep(*benchBGPHold)
	s.alive(b)
}

// breakdown says where the speaker's memory is: anonymous and file-backed resident memory (/proc), and the Go
// runtime's view (its metrics), in MiB.
func (s *benchSpeaker) breakdown(b *testing.B) string {
	raw, err := os.ReadFile("/proc/" + s.pid + "/status")
	if err != nil {
		b.Fatal(err)
	}
	var parts []string
	for line := range strings.Lines(string(raw)) {
		fields := strings.Fields(line)
		if len(fields) == 3 && (fields[0] == "RssAnon:" || fields[0] == "RssFile:") {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			parts = append(parts, fmt.Sprintf("%s %.1f", strings.TrimSuffix(fields[0], ":"), mib(kb<<10)))
		}
	}
	for _, m := range []string{"heap_inuse", "heap_idle", "heap_released", "stack_inuse", "mspan_inuse", "gc_sys", "other_sys", "sys"} {
		parts = append(parts, fmt.Sprintf("%s %.1f", m, s.metric(b, "go_memstats_"+m+"_bytes")/(1<<20)))
	}
	parts = append(parts, fmt.Sprintf("goroutines %.0f", s.metric(b, "go_goroutines")))
	return strings.Join(parts, ", ")
}

// cpu returns the CPU time the speaker used so far.
func (s *benchSpeaker) cpu(b *testing.B) time.Duration {
	s.alive(b)
	raw, err := os.ReadFile("/proc/" + s.pid + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// metric returns the value of an unlabelled metric of the speaker's metrics endpoint.
func (s *benchSpeaker) metric(b *testing.B, name string) float64 {
	s.alive(b)
	resp, err := http.Get("http://" + s.metrics + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatalf("no metric %s", name)
	return 0
}

// heapProfile writes the speaker's heap profile to path.
func (s *benchSpeaker) heapProfile(b *testing.B, path string) {
	resp, err := http.Get("http://" + s.pprof + "/debug/pprof/heap")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatal(err)
	}
}

// benchRouter is a GoBGP server on loopback playing a router: a passive neighbour for the speaker, counting
// the prefixes it receives, and noting when each arrives.
type benchRouter struct {
	name string
	srv  *server.BgpServer
	port uint16

	mu      sync.Mutex
	arrived map[netip.Prefix]chan struct{}
	have    map[netip.Prefix]bool
}

func newBenchRouter(b *testing.B, name string) *benchRouter {
	ctx := context.Background()
	r := &benchRouter{name: name, srv: server.NewBgpServer(server.LoggerOption(quietLogger{})), port: lowPort(b),
		arrived: map[netip.Prefix]chan struct{}{}, have: map[netip.Prefix]bool{}}
	go r.srv.Serve()
	err := r.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: benchASN, RouterId: "10.255.255.254", ListenPort: int32(r.port), ListenAddresses: []string{"127.0.0.1"},
	}})
	if err != nil {
		b.Fatalf("starting %s: %v", name, err)
	}
	b.Cleanup(func() { _ = r.srv.StopBgp(context.Background(), &api.StopBgpRequest{}) })
	err = r.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: nodeASN},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis: []*api.AfiSafi{{Config: &api.AfiSafiConfig{
			Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, Enabled: true}}},
	}})
	if err != nil {
		b.Fatalf("%s: adding the neighbour: %v", name, err)
	}
	err = r.srv.WatchEvent(ctx, &api.WatchEventRequest{Table: &api.WatchEventRequest_Table{
		Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_ADJIN}}}},
		func(ev *api.WatchEventResponse) {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, p := range ev.GetTable().GetPaths() {
				prefix := nlriPrefix(p)
				if !prefix.IsValid() {
					continue
				}
				r.have[prefix] = !p.IsWithdraw
				if c := r.arrived[prefix]; c != nil && !p.IsWithdraw {
					close(c)
					delete(r.arrived, prefix)
				}
			}
		})
	if err != nil {
		b.Fatalf("%s: watching: %v", name, err)
	}
	return r
}

// lowPort returns a free loopback port a BGPPeer accepts (peerPort is at most 16384).
func lowPort(b *testing.B) uint16 {
	for port := 10179; port <= 16384; port++ {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = l.Close()
			return uint16(port)
		}
	}
	b.Fatal("no free port below 16384")
	return 0
}

// quietLogger drops the routers' messages.
type quietLogger struct{}

func (quietLogger) Panic(msg string, _ gobgplog.Fields) { panic(msg) }
func (quietLogger) Fatal(msg string, _ gobgplog.Fields) { panic(msg) }
func (quietLogger) Error(string, gobgplog.Fields)       {}
func (quietLogger) Warn(string, gobgplog.Fields)        {}
func (quietLogger) Info(string, gobgplog.Fields)        {}
func (quietLogger) Debug(string, gobgplog.Fields)       {}
func (quietLogger) SetLevel(gobgplog.LogLevel)          {}
func (quietLogger) GetLevel() gobgplog.LogLevel         { return gobgplog.ErrorLevel }

// nlriPrefix decodes the IPv4 unicast prefix of a path.
func nlriPrefix(p *api.Path) netip.Prefix {
	var nlri api.IPAddressPrefix
	if err := p.GetNlri().UnmarshalTo(&nlri); err != nil {
		return netip.Prefix{}
	}
	addr, err := netip.ParseAddr(nlri.Prefix)
	if err != nil {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(addr, int(nlri.PrefixLen))
}

func (r *benchRouter) neighbour(b *testing.B) *api.Peer {
	var peer *api.Peer
	err := r.srv.ListPeer(context.Background(), &api.ListPeerRequest{Address: "127.0.0.1", EnableAdvertised: true},
		func(p *api.Peer) { peer = p })
	if err != nil || peer == nil {
		b.Fatalf("%s: neighbour missing (%v)", r.name, err)
	}
	return peer
}

func (r *benchRouter) awaitEstablished(b *testing.B, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for r.neighbour(b).GetState().GetSessionState() != api.PeerState_ESTABLISHED {
		if time.Now().After(deadline) {
			b.Fatalf("%s: no session within %v", r.name, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// count returns the number of prefixes the router holds from the speaker.
func (r *benchRouter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, have := range r.have {
		if have {
			n++
		}
	}
	return n
}

func (r *benchRouter) awaitCount(b *testing.B, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	progress := time.Now()
	for got := r.count(); got != n; got = r.count() {
		if time.Now().After(deadline) {
			b.Fatalf("%s: %d prefixes after %v, want %d", r.name, got, timeout, n)
		}
		if time.Since(progress) > 30*time.Second {
			progress = time.Now()
			b.Logf("%s: %d prefixes of %d", r.name, got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The watch and the RIB agree.
	if acc := r.accepted(b); acc != uint64(n) {
		b.Fatalf("%s: the watch counts %d prefixes, the RIB %d", r.name, n, acc)
	}
}

func (r *benchRouter) accepted(b *testing.B) uint64 {
	var sum uint64
	for _, af := range r.neighbour(b).GetAfiSafis() {
		sum += af.GetState().GetAccepted()
	}
	return sum
}

// awaitPrefix waits until the router holds the prefix.
func (r *benchRouter) awaitPrefix(b *testing.B, prefix netip.Prefix, timeout time.Duration) {
	r.mu.Lock()
	if r.have[prefix] {
		r.mu.Unlock()
		return
	}
	c := r.arrived[prefix]
	if c == nil {
		c = make(chan struct{})
		r.arrived[prefix] = c
	}
	r.mu.Unlock()
	select {
	case <-c:
	case <-time.After(timeout):
		b.Fatalf("%s: no %s within %v", r.name, prefix, timeout)
	}
}

// flops returns how many times the session went down after being established.
func (r *benchRouter) flops(b *testing.B) uint32 {
	return r.neighbour(b).GetState().GetFlops()
}
