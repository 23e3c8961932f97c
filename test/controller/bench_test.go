package controller_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/assign"
	"github.com/ferrolb/ferrolb/test/testenv"
)

var (
	benchServices  = flag.Int("bench.services", 10000, "BenchmarkController: Services to allocate in bulk")
	benchLatencies = flag.Int("bench.latencies", 500, "BenchmarkController: Services created one by one for the latency")
	benchQPSFlag   = flag.Float64("bench.qps", benchQPS, "BenchmarkController: the controller's client QPS (negative: no client-side limit)")
	benchBurstFlag = flag.Int("bench.burst", benchBurst, "BenchmarkController: the controller's client burst")
	benchWorkersFl = flag.Int("bench.workers", benchWorkers, "BenchmarkController: the controller's workers and the floor's goroutines")
	benchFloorQPS  = flag.Float64("bench.floor-qps", -1, "BenchmarkController: the floor client's QPS (negative: no client-side limit)")
)

// Client settings of cmd/controller, used by the controller and by the floor client alike.
const (
	benchQPS     = 1000
	benchBurst   = 2000
	benchWorkers = 16 // cmd/controller's --max-concurrent-reconciles
)

// BenchmarkController measures the controller against a real kube-apiserver and etcd (envtest) and prints a
// table (docs/benchmarks.md):
//
//   - floor: a trivial client writes what the controller writes for a Service (addresses, condition and pool
//     annotation, in one patch of the status subresource) for n Services of a class the controller ignores,
//     with the controller's client QPS and as many workers; a second floor also records the IPAllocated event
//     per Service that issue #4 requires, through a client of its own as the controller's recorder does. Both
//     run right before and right after the bulk run; the better run counts;
//   - bulk: n Services wait without an address (no pool: their condition says NoIPAddressPool); a pool is
//     created, and the clock runs until a watch has seen every one of them with its address;
//   - latency: the floor's Services are deleted; with the n Services assigned, Services are created one at a
//     time, each timed from the create request to the watch event that shows its address;
//   - resync: the configuration changes under the assigned Services, every one is converged again, and the
//     Service and Event writes are counted (the answer must be 0).
//
// One iteration takes minutes; -bench.services and -bench.latencies make it smaller:
//
//	go test -run '^$' -bench Controller -benchtime=1x -timeout 30m ./test/controller/
func BenchmarkController(b *testing.B) {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	for b.Loop() {
		benchController(b, *benchServices, *benchLatencies)
	}
}

func benchController(b *testing.B, n, latencies int) {
	ctx := b.Context()
	env, err := testenv.New()
	if err != nil {
		b.Fatal(err)
	}
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16") // room for 2n Services
	admin, err := env.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	version, err := kubernetes.NewForConfigOrDie(admin).Discovery().ServerVersion()
	if err != nil {
		b.Fatal(err)
	}
	mark := time.Now()
	phase := func(name string) {
		b.Logf("%-30s %6.1f s", name, time.Since(mark).Seconds())
		mark = time.Now()
	}

	// The loader only sets the stage; it is not measured.
	loaderCfg := rest.CopyConfig(admin)
	loaderCfg.QPS, loaderCfg.Burst = 5000, 5000
	loader := newClient(b, loaderCfg)
	for _, name := range []string{ns, "bench", "floor"} {
		if err := loader.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			b.Fatal(err)
		}
	}
	watch := newIngressWatch(ctx, b, admin)
	// The floor's Services have a class of their own: the controller leaves them alone.
	parallel(b, n, 32, func(i int) error {
		return loader.Create(ctx, benchService("floor", i, class("bench.ferrolb.io/floor")))
	})
	parallel(b, n, 32, func(i int) error { return loader.Create(ctx, benchService("bench", i)) })
	phase("create Services")

	// The floors run right before and right after the bulk run, with the controller running (it watches
	// every Service and ignores the floor's), so that all three see the same processes, and load from
	// elsewhere on the machine shows in both floors.
	measured := rest.CopyConfig(admin)
	measured.QPS, measured.Burst = float32(*benchQPSFlag), *benchBurstFlag
	floorCfg := rest.CopyConfig(admin)
	floorCfg.QPS, floorCfg.Burst = float32(*benchFloorQPS), *benchBurstFlag
	floorClient, eventsClient := newClient(b, floorCfg), newClient(b, floorCfg)
	var floors, floorsEv []float64
	runFloors := func() {
		round := len(floors)
		floors = append(floors, floor(ctx, b, floorClient, nil, n, round))
		floorsEv = append(floorsEv, floor(ctx, b, floorClient, eventsClient, n, 2+round))
		phase("floors")
	}

	// The controller: every Service first says it waits for a pool.
	counter := &writeCounter{}
	ctrlCfg := rest.CopyConfig(measured)
	ctrlCfg.Wrap(counter.wrap)
	mgr, err := ctrl.NewManager(ctrlCfg, ctrl.Options{Scheme: testenv.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: ctrlConfig()})
	if err != nil {
		b.Fatal(err)
	}
	if err := controllers.SetupAllocation(mgr, controllers.AllocationOptions{Namespace: ns, MaxConcurrentReconciles: *benchWorkersFl}); err != nil {
		b.Fatal(err)
	}
	mgrCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	defer func() { stop(); <-done }()
	watch.await(b, "bench", n, func(s *corev1.Service) bool {
		c := meta.FindStatusCondition(s.Status.Conditions, assign.ConditionType)
		return c != nil && c.Reason == assign.ReasonNoPoolConfigured
	})
	idle(b, counter)
	phase("controller: NoIPAddressPool")
	runFloors()

	// Bulk: the pool appears.
	servicesBefore, eventsBefore := counter.count()
	otherBefore := counter.otherWrites()
	start := time.Now()
	if err := loader.Create(ctx, &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
		Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"172.20.0.0/16"}}}); err != nil {
		b.Fatal(err)
	}
	last := watch.await(b, "bench", n, func(s *corev1.Service) bool { return len(s.Status.LoadBalancer.Ingress) == 1 })
	bulkTime := last.Sub(start)
	// The Events are paced behind the status writes: how long until the last is written.
	for _, e := counter.count(); e-eventsBefore < n; _, e = counter.count() {
		time.Sleep(10 * time.Millisecond)
	}
	eventLag := time.Since(last)
	idle(b, counter)
	servicesAfter, eventsAfter := counter.count()
	otherWrites := counter.otherWrites() - otherBefore
	phase("controller: bulk")
	runFloors()
	// The latency is measured with exactly the n + latencies Services in the API server.
	parallel(b, n, 32, func(i int) error {
		return loader.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "floor", Name: fmt.Sprintf("svc-%d", i)}})
	})
	watch.awaitGone(b, "floor")
	idle(b, counter)
	phase("delete the floor's Services")

	// Latency: one Service at a time, with n assigned.
	var lat, fromWatch []time.Duration
	for i := range latencies {
		svc := benchService("bench", n+i)
		sent := time.Now()
		if err := loader.Create(ctx, svc); err != nil {
			b.Fatal(err)
		}
		added, assigned := watch.awaitIP(b, "bench", svc.Name)
		lat = append(lat, assigned.Sub(sent))
		fromWatch = append(fromWatch, assigned.Sub(added))
	}
	slices.Sort(lat)
	slices.Sort(fromWatch)
	idle(b, counter)
	phase("latency")

	// Resync: a configuration change makes the controller converge every Service again.
	services, events := counter.count()
	reconciled := reconcileCount()
	if err := loader.Create(ctx, &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrelated"},
		Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"172.30.0.0/24"}}}); err != nil {
		b.Fatal(err)
	}
	for reconcileCount()-reconciled < float64(n+latencies) {
		time.Sleep(50 * time.Millisecond)
	}
	idle(b, counter)
	services2, events2 := counter.count()
	phase("resync")

	bulk := float64(n) / bulkTime.Seconds()
	floorBest, floorEvBest := slices.Max(floors), slices.Max(floorsEv)
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	b.ReportMetric(bulk, "services/s")
	b.ReportMetric(floorBest, "floor/s")
	b.ReportMetric(bulk/floorBest, "ratio")
	b.ReportMetric(bulk/floorEvBest, "ratio-events")
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	fmt.Printf(`
Controller benchmark: %d Services, kube-apiserver %s (envtest), client QPS %.0f burst %d, %d workers, floor QPS %.0f, GOMAXPROCS %d
| measure                                                        | value |
|----------------------------------------------------------------|-------|
| floor: status patches/s (before / after the bulk run)          | %.0f / %.0f |
| floor with events: status patch + event, Services/s            | %.0f / %.0f |
| controller: pending → assigned, Services/s                     | %.0f (%.1f s) |
| … last IPAllocated Event written after the last address        | %.1f s |
| ratio to the floor / to the floor with events                  | %.2f / %.2f |
| create → IP latency p50 / p99 (%d creates)                    | %.1f ms / %.1f ms |
| … from the watch event of the create, p50 / p99                | %.1f ms / %.1f ms |
| writes per allocation: Service / Event; pool status writes     | %.2f / %.2f; %d |
| resync of %d assigned Services: Service / Event writes      | %d / %d |
`, n, version.GitVersion, *benchQPSFlag, *benchBurstFlag, *benchWorkersFl, *benchFloorQPS, runtime.GOMAXPROCS(0),
		floors[0], floors[1], floorsEv[0], floorsEv[1], bulk, bulkTime.Seconds(), eventLag.Seconds(), bulk/floorBest, bulk/floorEvBest,
		latencies, ms(p50), ms(p99), ms(percentile(fromWatch, 50)), ms(percentile(fromWatch, 99)),
		float64(servicesAfter-servicesBefore)/float64(n), float64(eventsAfter-eventsBefore)/float64(n), otherWrites,
		n+latencies, services2-services, events2-events)
}

func newClient(b *testing.B, cfg *rest.Config) client.Client {
	b.Helper()
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchService(namespace string, i int, opts ...serviceOption) *corev1.Service {
	return newService(namespace, fmt.Sprintf("svc-%d", i), opts...)
}

// floor writes, for each of the n floor Services, what the controller writes for a Service in one patch of
// the status subresource, from benchWorkers goroutines; with events, it also records the IPAllocated event,
// through a client of its own, as the controller's recorder does. It returns the Services per second.
func floor(ctx context.Context, b *testing.B, c client.Client, events client.Client, n, round int) float64 {
	b.Helper()
	start := time.Now()
	parallel(b, n, *benchWorkersFl, func(i int) error {
		ip := netip.AddrFrom4([4]byte{172, byte(21 + round), byte(i >> 8), byte(i)}).String()
		patch := map[string]any{
			"metadata": map[string]any{"annotations": map[string]string{assign.AnnotationAllocatedFromPool: fmt.Sprintf("floor-%d", round)}},
			"status": map[string]any{
				"loadBalancer": map[string]any{"ingress": []map[string]string{{"ip": ip}}},
				"conditions": []metav1.Condition{{Type: assign.ConditionType, Status: metav1.ConditionTrue, Reason: assign.ReasonAllocated,
					Message: fmt.Sprintf("assigned %s from pool floor-%d", ip, round), LastTransitionTime: metav1.Now()}},
			},
		}
		raw, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "floor", Name: fmt.Sprintf("svc-%d", i)}}
		if err := c.Status().Patch(ctx, svc, client.RawPatch(types.MergePatchType, raw)); err != nil {
			return err
		}
		if events == nil {
			return nil
		}
		now := metav1.NowMicro()
		return events.Create(ctx, &eventsv1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: "floor", Name: fmt.Sprintf("svc-%d.%d", i, now.UnixNano())},
			EventTime:  now, ReportingController: "floor", ReportingInstance: "floor", Action: "Allocate",
			Reason: assign.EventIPAllocated, Type: corev1.EventTypeNormal, Note: fmt.Sprintf("Assigned IP [%q]", ip),
			Regarding: corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: "floor", Name: svc.Name, UID: svc.UID},
		})
	})
	return float64(n) / time.Since(start).Seconds()
}

// parallel runs f(0) … f(n-1) on workers goroutines.
func parallel(b *testing.B, n, workers int, f func(i int) error) {
	b.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	work := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range work {
				if err := f(i); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// ingressWatch watches Services and remembers when each first showed an address.
type ingressWatch struct {
	mu      sync.Mutex
	objects map[types.NamespacedName]*corev1.Service
	added   map[types.NamespacedName]time.Time
	firstIP map[types.NamespacedName]time.Time
	changed chan struct{}
}

func newIngressWatch(ctx context.Context, b *testing.B, cfg *rest.Config) *ingressWatch {
	b.Helper()
	// Protobuf, as controllers use: the API server encodes each change once for both watches, so observing
	// costs the server (and the CPU it shares) next to nothing. All namespaces: the floor is watched too.
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	w := &ingressWatch{objects: map[types.NamespacedName]*corev1.Service{}, firstIP: map[types.NamespacedName]time.Time{},
		added:   map[types.NamespacedName]time.Time{},
		changed: make(chan struct{}, 1)}
	cs := kubernetes.NewForConfigOrDie(cfg)
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "services", metav1.NamespaceAll, fields.Everything())
	inf := cache.NewSharedIndexInformer(lw, &corev1.Service{}, 0, cache.Indexers{})
	see := func(obj any) {
		s, ok := obj.(*corev1.Service)
		if !ok {
			return
		}
		now := time.Now()
		key := types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
		w.mu.Lock()
		if _, seen := w.added[key]; !seen {
			w.added[key] = now
		}
		w.objects[key] = s
		if _, seen := w.firstIP[key]; !seen && len(s.Status.LoadBalancer.Ingress) > 0 {
			w.firstIP[key] = now
		}
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	gone := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if s, ok := obj.(*corev1.Service); ok {
			w.mu.Lock()
			delete(w.objects, types.NamespacedName{Namespace: s.Namespace, Name: s.Name})
			w.mu.Unlock()
		}
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: see, UpdateFunc: func(_, o any) { see(o) },
		DeleteFunc: gone}); err != nil {
		b.Fatal(err)
	}
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		b.Fatal("watch did not sync")
	}
	return w
}

// await waits until n Services of the namespace satisfy ok, and returns when the last of them was seen
// first with an address (or now, if ok is not about addresses).
func (w *ingressWatch) await(b *testing.B, namespace string, n int, ok func(*corev1.Service) bool) time.Time {
	b.Helper()
	deadline := time.After(10 * time.Minute)
	for {
		w.mu.Lock()
		count, last := 0, time.Time{}
		for key, s := range w.objects {
			if key.Namespace == namespace && ok(s) {
				count++
				if t := w.firstIP[key]; t.After(last) {
					last = t
				}
			}
		}
		w.mu.Unlock()
		if count >= n {
			if last.IsZero() {
				last = time.Now()
			}
			return last
		}
		select {
		case <-w.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			b.Fatalf("only %d of %d Services in %s got there", count, n, namespace)
		}
	}
}

// awaitGone waits until the namespace has no Services left.
func (w *ingressWatch) awaitGone(b *testing.B, namespace string) {
	b.Helper()
	deadline := time.After(10 * time.Minute)
	for {
		w.mu.Lock()
		left := 0
		for key := range w.objects {
			if key.Namespace == namespace {
				left++
			}
		}
		w.mu.Unlock()
		if left == 0 {
			return
		}
		select {
		case <-w.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			b.Fatalf("%d Services left in %s", left, namespace)
		}
	}
}

// awaitIP returns when the Service was first seen, and first seen with an address.
func (w *ingressWatch) awaitIP(b *testing.B, namespace, name string) (added, assigned time.Time) {
	b.Helper()
	key := types.NamespacedName{Namespace: namespace, Name: name}
	deadline := time.After(time.Minute)
	for {
		w.mu.Lock()
		t, ok := w.firstIP[key]
		a := w.added[key]
		w.mu.Unlock()
		if ok {
			return a, t
		}
		select {
		case <-w.changed:
		case <-time.After(time.Millisecond):
		case <-deadline:
			b.Fatalf("Service %s got no address", key)
		}
	}
}

// reconcileCount is how many Service reconciliations the controllers of this process ran.
func reconcileCount() float64 {
	return metricSum("controller_runtime_reconcile_total", map[string]string{"controller": "service"})
}

// idle waits until the Service controller has nothing to do and the controller's writes stopped.
func idle(b *testing.B, counter *writeCounter) {
	b.Helper()
	for quiet := 0; quiet < 10; {
		s, e := counter.count()
		time.Sleep(100 * time.Millisecond)
		s2, e2 := counter.count()
		busy := metricSum("workqueue_depth", map[string]string{"name": "service"}) +
			metricSum("controller_runtime_active_workers", map[string]string{"controller": "service"})
		if s == s2 && e == e2 && busy == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)*p+99)/100-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// metricSum is gather's sum, for the benchmark (no Gomega).
func metricSum(name string, labels map[string]string) float64 {
	sum, _, _ := gather(name, labels)
	return sum
}
