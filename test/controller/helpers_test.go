package controller_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

func ctrlConfig() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}

// Every spec gets its own namespace (and testenv.NewRange its own addresses), so that what one spec leaves
// behind cannot change what the next one sees.
var nsSeq atomic.Int32

// newNamespace creates a namespace for the spec's Services. envtest has no namespace controller, so
// namespaces are never deleted; each spec simply uses a new one.
func newNamespace(ctx context.Context, labels map[string]string) string {
	GinkgoHelper()
	name := fmt.Sprintf("spec-%d", nsSeq.Add(1))
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})).To(Succeed())
	return name
}

type poolOption func(*metallbv1beta1.IPAddressPool)

func manual() poolOption {
	return func(p *metallbv1beta1.IPAddressPool) { p.Spec.AutoAssign = ptr.To(false) }
}

func allocateTo(sa metallbv1beta1.ServiceAllocation) poolOption {
	return func(p *metallbv1beta1.IPAddressPool) { p.Spec.AllocateTo = &sa }
}

// createPool creates a pool in ferrolb's namespace and waits until the controller has loaded it, so that
// the Services a spec creates next see it. It is deleted after the spec, and the spec ends only once the
// controller has dropped it, so the next spec sees a configuration without it.
func createPool(ctx context.Context, name string, addresses []string, opts ...poolOption) *metallbv1beta1.IPAddressPool {
	GinkgoHelper()
	p := createPoolNoWait(ctx, name, addresses, opts...)
	Eventually(func() bool {
		_, ok := metricValue("metallb_allocator_addresses_total", map[string]string{"pool": name})
		return ok
	}).Should(BeTrue(), "the controller should load pool %s", name)
	return p
}

// createPoolNoWait creates a pool the controller may refuse.
func createPoolNoWait(ctx context.Context, name string, addresses []string, opts ...poolOption) *metallbv1beta1.IPAddressPool {
	GinkgoHelper()
	p := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: addresses}}
	for _, o := range opts {
		o(p)
	}
	Expect(k8s.Create(ctx, p)).To(Succeed())
	DeferCleanup(deletePool, name)
	return p
}

// awaitQuiet waits until the controller's Service and Event writes have stopped for a moment, so that
// counting starts after the writes (events are recorded asynchronously) of what came before.
func awaitQuiet() {
	GinkgoHelper()
	var last [2]int
	Eventually(func() bool {
		s, e := writes.count()
		quiet := last == [2]int{s, e}
		last = [2]int{s, e}
		return quiet
	}).WithPolling(300 * time.Millisecond).Should(BeTrue())
}

// deletePool deletes a pool and waits until the controller has dropped it from its configuration (its
// metrics are removed then).
func deletePool(ctx context.Context, name string) {
	GinkgoHelper()
	p := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	err := k8s.Delete(ctx, p)
	if apierrors.IsNotFound(err) {
		return // deleted by the spec, which waited for it or restarted the controller
	}
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() bool {
		_, ok := metricValue("metallb_allocator_addresses_total", map[string]string{"pool": name})
		return ok
	}).Should(BeFalse(), "the controller still counts pool %s", name)
}

type serviceOption func(*corev1.Service)

func annotate(key, value string) serviceOption {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[key] = value
	}
}

func loadBalancerIP(ip string) serviceOption {
	return func(s *corev1.Service) { s.Spec.LoadBalancerIP = ip }
}

// ports sets the Service's ports, e.g. ports("TCP", 80, "UDP", 53).
func ports(pairs ...any) serviceOption {
	return func(s *corev1.Service) {
		s.Spec.Ports = nil
		for i := 0; i < len(pairs); i += 2 {
			p := corev1.ServicePort{Name: fmt.Sprintf("p%d", i/2), Protocol: corev1.Protocol(pairs[i].(string)), Port: int32(pairs[i+1].(int))}
			s.Spec.Ports = append(s.Spec.Ports, p)
		}
	}
}

func class(c string) serviceOption {
	return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c }
}

func families(policy corev1.IPFamilyPolicy, fams ...corev1.IPFamily) serviceOption {
	return func(s *corev1.Service) { s.Spec.IPFamilyPolicy, s.Spec.IPFamilies = &policy, fams }
}

func labelled(labels map[string]string) serviceOption {
	return func(s *corev1.Service) { s.Labels = labels }
}

// local sets externalTrafficPolicy Local and the selector.
func local(selector map[string]string) serviceOption {
	return func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Selector = selector
	}
}

// newService returns a LoadBalancer Service on TCP/80 without node ports (envtest has no use for them, and
// they would run out).
func newService(namespace, name string, opts ...serviceOption) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Ports:                         []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// createService creates a Service; it is deleted after the spec.
func createService(ctx context.Context, namespace, name string, opts ...serviceOption) *corev1.Service {
	GinkgoHelper()
	s := newService(namespace, name, opts...)
	Expect(k8s.Create(ctx, s)).To(Succeed())
	DeferCleanup(func(ctx context.Context) {
		Expect(client.IgnoreNotFound(k8s.Delete(ctx, s))).To(Succeed())
	})
	return s
}

// update changes a Service with f, retrying on conflicts.
func update(ctx context.Context, svc *corev1.Service, f func(*corev1.Service)) {
	GinkgoHelper()
	Eventually(func() error {
		cur := get(ctx, svc)
		f(cur)
		return k8s.Update(ctx, cur)
	}).Should(Succeed())
}

// get reads a Service from the API server.
func get(ctx context.Context, svc *corev1.Service) *corev1.Service {
	GinkgoHelper()
	cur := &corev1.Service{}
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), cur)).To(Succeed())
	return cur
}

func ingressIPs(svc *corev1.Service) []string {
	var ips []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	return ips
}

func condition(svc *corev1.Service) *metav1.Condition {
	return meta.FindStatusCondition(svc.Status.Conditions, assign.ConditionType)
}

// expectAssigned waits until the Service shows exactly ips (in order), from pool, with a True condition.
func expectAssigned(ctx context.Context, svc *corev1.Service, pool string, ips ...string) *corev1.Service {
	GinkgoHelper()
	var cur *corev1.Service
	Eventually(func(g Gomega) {
		cur = &corev1.Service{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), cur)).To(Succeed())
		g.Expect(ingressIPs(cur)).To(Equal(ips))
		g.Expect(cur.Annotations).To(HaveKeyWithValue(assign.AnnotationAllocatedFromPool, pool))
		c := condition(cur)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(assign.ReasonAllocated))
		g.Expect(c.Message).To(ContainSubstring(pool))
	}).Should(Succeed(), "Service %s/%s should get %v from %s", svc.Namespace, svc.Name, ips, pool)
	return cur
}

// expectPending waits until the Service has no address, no pool annotation, and a False condition with
// reason and a message that says why.
func expectPending(ctx context.Context, svc *corev1.Service, reason string) *corev1.Service {
	GinkgoHelper()
	var cur *corev1.Service
	Eventually(func(g Gomega) {
		cur = &corev1.Service{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), cur)).To(Succeed())
		g.Expect(cur.Status.LoadBalancer.Ingress).To(BeEmpty())
		g.Expect(cur.Annotations).NotTo(HaveKey(assign.AnnotationAllocatedFromPool))
		c := condition(cur)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(reason))
		g.Expect(c.Message).NotTo(BeEmpty())
	}).Should(Succeed(), "Service %s/%s should be pending with %s", svc.Namespace, svc.Name, reason)
	return cur
}

// namespaceEvents returns the controller's events.k8s.io Events in a namespace (the API server records some
// of its own about Services, e.g. ClusterIPNotAllocated from its repair loop).
func namespaceEvents(ctx context.Context, namespace string) []eventsv1.Event {
	GinkgoHelper()
	var list eventsv1.EventList
	Expect(k8s.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
	return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool { return e.ReportingController != "metallb-controller" })
}

// eventsOf returns the events.k8s.io Events about the Service.
func eventsOf(ctx context.Context, svc *corev1.Service) []eventsv1.Event {
	GinkgoHelper()
	return slices.DeleteFunc(namespaceEvents(ctx, svc.Namespace), func(e eventsv1.Event) bool {
		return e.Regarding.Kind != "Service" || e.Regarding.Name != svc.Name
	})
}

func reasons(events []eventsv1.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

// expectEvent waits for an event of type and reason about the Service, recorded by the controller, whose
// note contains note.
func expectEvent(ctx context.Context, svc *corev1.Service, typ, reason, note string) {
	GinkgoHelper()
	Eventually(func() []eventsv1.Event { return eventsOf(ctx, svc) }).Should(ContainElement(And(
		HaveField("Type", typ), HaveField("Reason", reason), HaveField("Note", ContainSubstring(note)),
	)), "Service %s/%s should have a %s event", svc.Namespace, svc.Name, reason)
}

// metricValue returns the sum of the series of metric name whose labels include labels, and whether there is
// any, from controller-runtime's registry (what its metrics endpoint serves).
func metricValue(name string, labels map[string]string) (float64, bool) {
	GinkgoHelper()
	sum, found, err := gather(name, labels)
	Expect(err).NotTo(HaveOccurred())
	return sum, found
}

func gather(name string, labels map[string]string) (sum float64, found bool, err error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return 0, false, err
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				found = true
				sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return sum, found, nil
}

func hasLabels(m *dto.Metric, labels map[string]string) bool {
	matched := 0
	for _, l := range m.GetLabel() {
		if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
			matched++
		}
	}
	return matched == len(labels)
}

// metric returns metricValue's sum, 0 when there is no such series.
func metric(name string, labels map[string]string) float64 {
	GinkgoHelper()
	v, _ := metricValue(name, labels)
	return v
}

// serviceReconciles is how many Service reconciliations the controller has run.
func serviceReconciles() float64 {
	GinkgoHelper()
	return metric("controller_runtime_reconcile_total", map[string]string{"controller": "service"})
}

// awaitServiceReconciles waits until the controller ran at least n Service reconciliations since it had run
// since, and has nothing left to do.
func awaitServiceReconciles(since float64, n int) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(serviceReconciles() - since).To(BeNumerically(">=", n))
		g.Expect(metric("workqueue_depth", map[string]string{"name": "service"})).To(BeZero())
		g.Expect(metric("controller_runtime_active_workers", map[string]string{"controller": "service"})).To(BeZero())
	}).Should(Succeed())
}

// touchConfiguration makes the controller reload its configuration, and so converge every Service again,
// by creating a pool no Service uses; the pool is deleted after the spec.
func touchConfiguration(ctx context.Context, name string) {
	GinkgoHelper()
	createPool(ctx, name, []string{testenv.NewRange().V4(32)}, manual())
}

// deleteAndWait deletes an object and waits until it is gone.
func deleteAndWait(ctx context.Context, obj client.Object) {
	GinkgoHelper()
	Expect(client.IgnoreNotFound(k8s.Delete(ctx, obj))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue())
}

// labelNamespace replaces a namespace's labels (the API server keeps kubernetes.io/metadata.name).
func labelNamespace(ctx context.Context, name string, labels map[string]string) {
	GinkgoHelper()
	Eventually(func() error {
		n := &corev1.Namespace{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		n.Labels = labels
		return k8s.Update(ctx, n)
	}).Should(Succeed())
}
