package operator_test

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/render"
)

var (
	metallbKey    = types.NamespacedName{Namespace: ns, Name: "metallb"}
	controllerKey = types.NamespacedName{Namespace: ns, Name: render.ControllerName}
	speakerKey    = types.NamespacedName{Namespace: ns, Name: render.SpeakerName}
)

// getMetalLB returns the resource named key.
func getMetalLB(ctx context.Context, key types.NamespacedName) *metallbv1beta1.MetalLB {
	GinkgoHelper()
	m := &metallbv1beta1.MetalLB{}
	Expect(k8s.Get(ctx, key, m)).To(Succeed())
	return m
}

// updateSpec sets the spec of the metallb resource.
func updateSpec(ctx context.Context, spec metallbv1beta1.MetalLBSpec) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		m := &metallbv1beta1.MetalLB{}
		if err := k8s.Get(ctx, metallbKey, m); err != nil {
			return err
		}
		m.Spec = spec
		return k8s.Update(ctx, m)
	})).To(Succeed())
}

// condition returns a condition of the resource named key, nil if it has none.
func condition(ctx context.Context, key types.NamespacedName, t string) func() *metav1.Condition {
	return func() *metav1.Condition {
		m := &metallbv1beta1.MetalLB{}
		if err := k8s.Get(ctx, key, m); err != nil {
			return nil
		}
		return meta.FindStatusCondition(m.Status.Conditions, t)
	}
}

// haveCondition matches a condition with the status and reason.
func haveCondition(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), WithTransform(func(c *metav1.Condition) metav1.ConditionStatus { return c.Status }, Equal(status)),
		WithTransform(func(c *metav1.Condition) string { return c.Reason }, Equal(reason)))
}

// eventuallyCondition waits for a condition of the metallb resource.
func eventuallyCondition(ctx context.Context, t string, status metav1.ConditionStatus, reason string) {
	GinkgoHelper()
	Eventually(condition(ctx, metallbKey, t)).Should(haveCondition(status, reason), "condition %s", t)
}

func deployment(ctx context.Context) *appsv1.Deployment {
	GinkgoHelper()
	d := &appsv1.Deployment{}
	Eventually(func() error { return k8s.Get(ctx, controllerKey, d) }).Should(Succeed())
	return d
}

func daemonSet(ctx context.Context) *appsv1.DaemonSet {
	GinkgoHelper()
	ds := &appsv1.DaemonSet{}
	Eventually(func() error { return k8s.Get(ctx, speakerKey, ds) }).Should(Succeed())
	return ds
}

// speakerPod and controllerPod return the operands' pod templates, once the predicate holds.
func speakerPod(ctx context.Context, ok func(corev1.PodSpec, metav1.ObjectMeta) bool) corev1.PodTemplateSpec {
	GinkgoHelper()
	var t corev1.PodTemplateSpec
	Eventually(func() bool {
		ds := &appsv1.DaemonSet{}
		if err := k8s.Get(ctx, speakerKey, ds); err != nil {
			return false
		}
		t = ds.Spec.Template
		return ok(t.Spec, t.ObjectMeta)
	}).Should(BeTrue(), "speaker pod template: %+v", &t)
	return t
}

func controllerPod(ctx context.Context, ok func(corev1.PodSpec, metav1.ObjectMeta) bool) corev1.PodTemplateSpec {
	GinkgoHelper()
	var t corev1.PodTemplateSpec
	Eventually(func() bool {
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, controllerKey, d); err != nil {
			return false
		}
		t = d.Spec.Template
		return ok(t.Spec, t.ObjectMeta)
	}).Should(BeTrue(), "controller pod template: %+v", &t)
	return t
}

func hasArg(p corev1.PodSpec, arg string) bool { return slices.Contains(p.Containers[0].Args, arg) }

// setControllerStatus plays the Deployment controller: it observes the current generation, with ready
// replicas updated and available.
func setControllerStatus(ctx context.Context, ready int32, conds ...appsv1.DeploymentCondition) {
	GinkgoHelper()
	Eventually(func() error {
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, controllerKey, d); err != nil {
			return err
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1,
			ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: 1 - ready, Conditions: conds}
		return k8s.Status().Update(ctx, d)
	}).Should(Succeed())
}

// setSpeakerStatus plays the DaemonSet controller: desired pods scheduled and updated, available of them
// ready.
func setSpeakerStatus(ctx context.Context, desired, available int32) {
	GinkgoHelper()
	Eventually(func() error {
		ds := &appsv1.DaemonSet{}
		if err := k8s.Get(ctx, speakerKey, ds); err != nil {
			return err
		}
		ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: desired,
			CurrentNumberScheduled: desired, UpdatedNumberScheduled: desired, NumberReady: available,
			NumberAvailable: available, NumberUnavailable: desired - available}
		return k8s.Status().Update(ctx, ds)
	}).Should(Succeed())
}

// rollOut marks both operands rolled out on both nodes and waits for the resource to say so.
func rollOut(ctx context.Context) {
	GinkgoHelper()
	setControllerStatus(ctx, 1)
	setSpeakerStatus(ctx, 2, 2)
	eventuallyCondition(ctx, metallbv1beta1.ConditionAvailable, metav1.ConditionTrue, "AllOperandsAvailable")
	eventuallyCondition(ctx, metallbv1beta1.ConditionProgressing, metav1.ConditionFalse, "RolloutComplete")
}

// reconciles is how many times the operator reconciled.
func reconciles() float64 {
	n, err := reconcileTotal()
	Expect(err).NotTo(HaveOccurred())
	return n
}

// reconcileTotal sums controller-runtime's reconcile counter of the metallb controller.
func reconcileTotal() (float64, error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "metallb" {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum, nil
}

// settle waits until the operator has sent no write for a second.
func settle() {
	GinkgoHelper()
	Eventually(func() int {
		n := writes.count()
		// A reconcile that is still running finishes within this.
		<-time.After(time.Second)
		return writes.count() - n
	}).WithTimeout(30 * time.Second).Should(BeZero())
}

// gone reports whether obj no longer exists.
func gone(ctx context.Context, obj client.Object) func() bool {
	return func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}
}

func metallbKeyIn(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}
