package operator_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/render"
	"github.com/ferrolb/ferrolb/test/testenv"
)

var (
	benchRounds = flag.Int("bench.rounds", 20, "BenchmarkOperator: MetalLB resources created and deleted")
	benchResync = flag.Int("bench.resyncs", 360, "BenchmarkOperator: resyncs of the steady state (one per 10 s of an hour)")
)

// BenchmarkOperator measures the operator against a real kube-apiserver and etcd (envtest) and prints a table
// (docs/benchmarks.md):
//
//   - apply: a MetalLB resource is created (the first one right after the operator starts is reported on its
//     own), and the clock runs until a watch sees its first status (the
//     operator writes it after applying every operand); every operand must exist by then. The resource is
//     deleted and the operands removed (envtest has no garbage collector) before the next round;
//
//   - steady state: with the operands rolled out, an hour of a quiet cluster is compressed into -bench.resyncs
//     rounds, each one an informer resync of every object the operator watches (SyncPeriod), a heartbeat of
//     every Node, and a direct Reconcile; the operator's writes are
//     counted (the answer must be 0).
//
//     go test -run '^$' -bench Operator -benchtime=1x ./test/operator/
func BenchmarkOperator(b *testing.B) {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	for b.Loop() {
		benchOperator(b, *benchRounds, *benchResync)
	}
}

// benchSyncPeriod is the operator's informer resync period in the steady-state phase.
const benchSyncPeriod = 100 * time.Millisecond

func benchOperator(b *testing.B, rounds, resyncs int) {
	ctx := b.Context()
	e, err := testenv.New()
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := e.Start()
	if err != nil {
		b.Fatal(err)
	}
	// Cleanups run last in, first out: the operator stops before the API server.
	b.Cleanup(func() { _ = e.Stop() })
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	must(b, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	nodes := []string{"node-1", "node-2"}
	for _, name := range nodes {
		must(b, c.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{"kubernetes.io/os": "linux", "kubernetes.io/hostname": name}}}))
	}
	user, err := e.AddUser(envtest.User{Name: operatorUser, Groups: []string{"system:authenticated"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	must(b, testenv.GrantGeneratedRole(ctx, c, operatorUser))
	counter := &writeCounter{}
	opCfg := rest.CopyConfig(user.Config())
	// The client limits main.go gets from ctrl.GetConfig.
	opCfg.QPS, opCfg.Burst = 20, 30
	opCfg.Wrap(counter.wrap)
	r := startBenchOperator(b, opCfg)

	want, err := render.Render(&metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.MetalLBName}},
		settings, render.WithWebhooks(true))
	if err != nil {
		b.Fatal(err)
	}
	// The first round starts the operator's informers and workers (controller-runtime starts them with the
	// controller): it is the operator's start, not an apply, and is reported on its own.
	warmup := timeApply(b, c, counter, len(want.All()))
	deleteStack(b, c)
	var applied []time.Duration
	for i := range rounds {
		d := timeApply(b, c, counter, len(want.All()))
		applied = append(applied, d)
		if i < rounds-1 {
			deleteStack(b, c)
		}
	}

	// The last stack stays: roll it out and keep the cluster quiet.
	rollOutBench(b, c)
	n0, rec0 := counter.count(), reconcileCount(b)
	req := reconcile.Request{NamespacedName: metallbKey}
	start := time.Now()
	for i := range resyncs {
		heartbeat(b, c, nodes, i)
		if _, err := r.Reconcile(ctx, req); err != nil {
			b.Fatal(err)
		}
		time.Sleep(benchSyncPeriod)
	}
	elapsed := time.Since(start)
	reconciled := reconcileCount(b) - rec0 + float64(resyncs)
	writes := counter.since(n0)

	slices.Sort(applied)
	fmt.Printf("\nBenchmarkOperator: %d operand objects per MetalLB resource, %d rounds\n", len(want.All()), rounds)
	fmt.Printf("| measure | value |\n|---|---:|\n")
	fmt.Printf("| first CR after the operator started → every operand applied | %d ms |\n", warmup.Milliseconds())
	fmt.Printf("| CR created → every operand applied, p50 | %d ms |\n", applied[len(applied)/2].Milliseconds())
	fmt.Printf("| CR created → every operand applied, p99 (max of %d) | %d ms |\n", rounds, applied[len(applied)-1].Milliseconds())
	fmt.Printf("| steady state: resyncs + heartbeats (%s) | %d |\n", elapsed.Round(time.Second), resyncs)
	fmt.Printf("| steady state: reconciles | %.0f |\n", reconciled)
	fmt.Printf("| steady state: operator writes | %d |\n", len(writes))
	b.ReportMetric(float64(applied[len(applied)/2].Microseconds())/1000, "apply-p50-ms")
	b.ReportMetric(float64(applied[len(applied)-1].Microseconds())/1000, "apply-max-ms")
	b.ReportMetric(float64(len(writes)), "steady-writes")
	if len(writes) > 0 {
		b.Errorf("the steady state wrote %d times: %v", len(writes), writes)
	}
}

// startBenchOperator runs the operator as main.go does, with an informer resync every benchSyncPeriod, and
// returns a second reconciler on the same client for direct Reconcile calls.
func startBenchOperator(b *testing.B, cfg *rest.Config) *controllers.MetalLBReconciler {
	opts := controllers.MetalLBCacheOptions(ns)
	opts.SyncPeriod = ptrTo(benchSyncPeriod)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testenv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  opts,
		Controller:             config.Controller{SkipNameValidation: ptrTo(true)},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := &controllers.MetalLBReconciler{Client: mgr.GetClient(), Settings: settings}
	must(b, r.SetupWithManager(mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			b.Error(err)
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		b.Fatal("the operator's cache did not sync")
	}
	return &controllers.MetalLBReconciler{Client: mgr.GetClient(), APIReader: r.APIReader, Discovery: r.Discovery, Settings: settings}
}

// timeApply creates the MetalLB resource and returns the time until a watch sees the status the operator
// writes after applying every operand; it checks that the operator applied want objects by then.
func timeApply(b *testing.B, c client.WithWatch, counter *writeCounter, want int) time.Duration {
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	w, err := c.Watch(ctx, &metallbv1beta1.MetalLBList{}, client.InNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	n0 := counter.count()
	start := time.Now()
	must(b, c.Create(ctx, &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.MetalLBName}}))
	for ev := range w.ResultChan() {
		m, ok := ev.Object.(*metallbv1beta1.MetalLB)
		if !ok || ev.Type == watch.Deleted || m.Status.ObservedGeneration == 0 {
			continue
		}
		d := time.Since(start)
		if got := applies(counter.since(n0)); got < want {
			b.Fatalf("status written after %d applies, want %d", got, want)
		}
		return d
	}
	b.Fatal("no status within a minute")
	return 0
}

// applies counts the server-side applies (PATCH requests) among writes.
func applies(writes []string) int {
	n := 0
	for _, w := range writes {
		if strings.HasPrefix(w, "PATCH ") {
			n++
		}
	}
	return n
}

// deleteStack deletes the MetalLB resource, waits for the operator to release it, and deletes the namespaced
// operands as the garbage collector would.
func deleteStack(b *testing.B, c client.Client) {
	ctx := b.Context()
	must(b, c.Delete(ctx, &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.MetalLBName}}))
	deadline := time.Now().Add(time.Minute)
	for !apierrors.IsNotFound(c.Get(ctx, metallbKey, &metallbv1beta1.MetalLB{})) {
		if time.Now().After(deadline) {
			b.Fatal("the MetalLB resource was not released within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sel := client.MatchingLabels{"app.kubernetes.io/managed-by": "ferrolb-operator"}
	for _, o := range []client.Object{&appsv1.Deployment{}, &appsv1.DaemonSet{}, &corev1.Service{}, &corev1.ServiceAccount{},
		&corev1.Secret{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}} {
		must(b, client.IgnoreNotFound(c.DeleteAllOf(ctx, o, client.InNamespace(ns), sel)))
	}
}

// rollOutBench plays the Deployment and DaemonSet controllers and waits for Available.
func rollOutBench(b *testing.B, c client.Client) {
	ctx := b.Context()
	d := &appsv1.Deployment{}
	must(b, c.Get(ctx, controllerKey, d))
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	must(b, c.Status().Update(ctx, d))
	ds := &appsv1.DaemonSet{}
	must(b, c.Get(ctx, speakerKey, ds))
	ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: 2, CurrentNumberScheduled: 2,
		UpdatedNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2}
	must(b, c.Status().Update(ctx, ds))
	deadline := time.Now().Add(time.Minute)
	for {
		m := &metallbv1beta1.MetalLB{}
		must(b, c.Get(ctx, metallbKey, m))
		if meta.IsStatusConditionTrue(m.Status.Conditions, metallbv1beta1.ConditionAvailable) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("not Available within a minute: %+v", m.Status.Conditions)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Let the reconciles the rollout caused finish.
	time.Sleep(time.Second)
}

// heartbeat updates every Node's Ready condition heartbeat, as kubelets do.
func heartbeat(b *testing.B, c client.Client, nodes []string, i int) {
	ctx := b.Context()
	for _, name := range nodes {
		n := &corev1.Node{}
		must(b, c.Get(ctx, client.ObjectKey{Name: name}, n))
		now := metav1.NewTime(time.Unix(1_700_000_000+int64(i)*10, 0))
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: metav1.NewTime(time.Unix(1_700_000_000, 0))}}
		must(b, c.Status().Update(ctx, n))
	}
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// reconcileCount is how many times the operator reconciled, from controller-runtime's metrics.
func reconcileCount(b *testing.B) float64 {
	n, err := reconcileTotal()
	must(b, err)
	return n
}
