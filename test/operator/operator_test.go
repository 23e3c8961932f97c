package operator_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/render"
)

const (
	available   = metallbv1beta1.ConditionAvailable
	progressing = metallbv1beta1.ConditionProgressing
	degraded    = metallbv1beta1.ConditionDegraded
	upgradeable = metallbv1beta1.ConditionUpgradeable
)

var (
	condTrue  = metav1.ConditionTrue
	condFalse = metav1.ConditionFalse
)

// The specs of this container share the one resource the operator deploys from, in order: creation, every
// field, the conditions, drift, the preflight checks, and deletion last.
var _ = Describe("The metallb resource", Ordered, func() {
	BeforeAll(func(ctx context.Context) {
		Expect(k8s.Create(ctx, &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "metallb"}})).To(Succeed())
	})

	Context("when created", func() {
		It("deploys every rendered operand, namespaced ones owned by the resource", func(ctx context.Context) {
			m := getMetalLB(ctx, metallbKey)
			want, err := render.Render(m, settings, render.WithMemberlistKey([]byte("k")))
			Expect(err).NotTo(HaveOccurred())
			for _, o := range want.All() {
				live := &unstructured.Unstructured{}
				live.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
				Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(o), live) }).Should(Succeed(),
					"%s %s", live.GetKind(), o.GetName())
				Expect(live.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "ferrolb-operator"))
				if o.GetNamespace() == "" {
					Expect(live.GetOwnerReferences()).To(BeEmpty(), "cluster-scoped %s %s", live.GetKind(), live.GetName())
					continue
				}
				Expect(live.GetOwnerReferences()).To(ConsistOf(And(
					HaveField("UID", m.UID), HaveField("Kind", "MetalLB"), HaveField("Controller", Equal(ptrTo(true))))),
					"%s %s", live.GetKind(), live.GetName())
				Expect(live.GetManagedFields()).To(ContainElement(HaveField("Manager", controllers.FieldManager)))
			}
		})

		It("adds its finalizer", func(ctx context.Context) {
			Eventually(func() []string { return getMetalLB(ctx, metallbKey).Finalizers }).
				Should(ContainElement(controllers.MetalLBFinalizer))
		})

		It("runs the images of the operator's environment", func(ctx context.Context) {
			Expect(deployment(ctx).Spec.Template.Spec.Containers[0].Image).To(Equal(controllerImage))
			Expect(daemonSet(ctx).Spec.Template.Spec.Containers[0].Image).To(Equal(speakerImage))
		})

		It("reports a rollout in progress until the operands run", func(ctx context.Context) {
			eventuallyCondition(ctx, progressing, condTrue, "RollingOut")
			eventuallyCondition(ctx, available, condFalse, "OperandsUnavailable")
			eventuallyCondition(ctx, degraded, condFalse, "AsExpected")
			eventuallyCondition(ctx, upgradeable, condFalse, "RollingOut")
			Expect(getMetalLB(ctx, metallbKey).Status.ObservedGeneration).To(Equal(getMetalLB(ctx, metallbKey).Generation))
		})
	})

	Context("conditions", func() {
		It("says the speakers are unavailable while only the controller runs", func(ctx context.Context) {
			setControllerStatus(ctx, 1)
			setSpeakerStatus(ctx, 2, 0)
			eventuallyCondition(ctx, available, condFalse, "SpeakerUnavailable")
			eventuallyCondition(ctx, progressing, condTrue, "RollingOut")
		})

		It("says the controller is unavailable while only speakers run", func(ctx context.Context) {
			setControllerStatus(ctx, 0)
			setSpeakerStatus(ctx, 2, 2)
			eventuallyCondition(ctx, available, condFalse, "ControllerUnavailable")
		})

		It("is healthy once both are rolled out, with every condition observing the generation", func(ctx context.Context) {
			rollOut(ctx)
			eventuallyCondition(ctx, degraded, condFalse, "AsExpected")
			eventuallyCondition(ctx, upgradeable, condTrue, "AsExpected")
			m := getMetalLB(ctx, metallbKey)
			Expect(m.Status.ObservedGeneration).To(Equal(m.Generation))
			for _, c := range m.Status.Conditions {
				Expect(c.ObservedGeneration).To(Equal(m.Generation), c.Type)
			}
		})

		It("keeps the transition time of conditions that did not change", func(ctx context.Context) {
			before := condition(ctx, metallbKey, available)()
			Expect(before).NotTo(BeNil())
			setSpeakerStatus(ctx, 2, 1) // one speaker restarting: still available, rolling
			eventuallyCondition(ctx, progressing, condTrue, "RollingOut")
			Expect(condition(ctx, metallbKey, available)().LastTransitionTime).To(Equal(before.LastTransitionTime))
			rollOut(ctx)
		})

		It("goes through Progressing after a spec change, then back to healthy", func(ctx context.Context) {
			gen := daemonSet(ctx).Generation
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LogLevel: "debug"})
			Eventually(func() int64 { return daemonSet(ctx).Generation }).Should(BeNumerically(">", gen))
			eventuallyCondition(ctx, progressing, condTrue, "RollingOut")
			eventuallyCondition(ctx, upgradeable, condFalse, "RollingOut")
			rollOut(ctx)
			eventuallyCondition(ctx, upgradeable, condTrue, "AsExpected")
		})

		It("is Degraded when the controller's rollout exceeds its deadline", func(ctx context.Context) {
			setControllerStatus(ctx, 0, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing,
				Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"})
			eventuallyCondition(ctx, degraded, condTrue, "RolloutStalled")
			eventuallyCondition(ctx, upgradeable, condFalse, "RolloutStalled")
			rollOut(ctx)
			eventuallyCondition(ctx, degraded, condFalse, "AsExpected")
		})

		It("is Degraded with InvalidSpec for a resource admitted before a rule existed, and recovers", func(ctx context.Context) {
			// Without the webhook, as a resource written before the operator was installed.
			vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			Expect(k8s.Get(ctx, types.NamespacedName{Name: "ferrolb-operator-webhook-configuration"}, vwc)).To(Succeed())
			Expect(k8s.Delete(ctx, vwc)).To(Succeed())
			DeferCleanup(reinstallWebhook)
			Eventually(func() error {
				m := getMetalLB(ctx, metallbKey)
				m.Spec = metallbv1beta1.MetalLBSpec{BGPBackend: metallbv1beta1.FRRMode}
				return k8s.Update(ctx, m)
			}).Should(Succeed())
			eventuallyCondition(ctx, degraded, condTrue, "InvalidSpec")
			Expect(condition(ctx, metallbKey, degraded)().Message).To(ContainSubstring("spec.bgpBackend"))
			eventuallyCondition(ctx, progressing, condFalse, "InvalidSpec")
			// The operands stay as they were.
			Expect(hasArg(daemonSet(ctx).Spec.Template.Spec, "--log-level=debug")).To(BeTrue())

			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LogLevel: "debug"})
			eventuallyCondition(ctx, degraded, condFalse, "AsExpected")
			rollOut(ctx)
		})
	})

	Context("resync", func() {
		It("writes nothing when nothing changed", func(ctx context.Context) {
			rollOut(ctx)
			settle()
			n, r := writes.count(), reconciles()
			// An annotation is a change that does not concern the operands: a resync.
			Eventually(func() error {
				m := getMetalLB(ctx, metallbKey)
				if m.Annotations == nil {
					m.Annotations = map[string]string{}
				}
				m.Annotations["test.ferrolb.io/resync"] = time.Now().String()
				return k8s.Update(ctx, m)
			}).Should(Succeed())
			Eventually(reconciles).Should(BeNumerically(">", r))
			Consistently(func() []string { return writes.since(n) }).Should(BeEmpty())
		})

		It("writes nothing when an operand's status changes without changing the conditions", func(ctx context.Context) {
			settle()
			n, r := writes.count(), reconciles()
			setSpeakerStatus(ctx, 2, 2) // the same counts, a new resourceVersion only if it differs
			Eventually(func() error {
				ds := daemonSet(ctx)
				ds.Status.NumberMisscheduled = 0
				ds.Status.CollisionCount = ptrTo[int32](1)
				return k8s.Status().Update(ctx, ds)
			}).Should(Succeed())
			Eventually(reconciles).Should(BeNumerically(">", r))
			Consistently(func() []string { return writes.since(n) }).Should(BeEmpty())
		})
	})

	Context("every spec field reaches the operands", func() {
		AfterAll(func(ctx context.Context) { updateSpec(ctx, metallbv1beta1.MetalLBSpec{}) })

		It("nodeSelector: the speakers' node selector, with kubernetes.io/os", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{SpeakerNodeSelector: map[string]string{"rack": "1"}})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool {
				return p.NodeSelector["rack"] == "1" && p.NodeSelector["kubernetes.io/os"] == "linux"
			})
			Expect(deployment(ctx).Spec.Template.Spec.NodeSelector).NotTo(HaveKey("rack"))
		})

		It("speakerTolerations: after the control-plane defaults", func(ctx context.Context) {
			t := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "lb", Effect: corev1.TaintEffectNoSchedule}
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{SpeakerTolerations: []corev1.Toleration{t}})
			pod := speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return len(p.Tolerations) == 3 })
			Expect(pod.Spec.Tolerations[0].Key).To(Equal("node-role.kubernetes.io/control-plane"))
			Expect(pod.Spec.Tolerations[2]).To(Equal(t))
		})

		It("logLevel: both binaries' --log-level, info by default", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LogLevel: "warn"})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=warn") })
			controllerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=warn") })
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=info") })
		})

		It("loadBalancerClass: both binaries' --lb-class", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LoadBalancerClass: "example.com/ferrolb"})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--lb-class=example.com/ferrolb") })
			controllerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--lb-class=example.com/ferrolb") })
		})

		It("controllerNodeSelector and controllerTolerations: the controller's", func(ctx context.Context) {
			t := corev1.Toleration{Key: "infra", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
				TolerationSeconds: ptrTo[int64](30)}
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{ControllerNodeSelector: map[string]string{"infra": "true"},
				ControllerTolerations: []corev1.Toleration{t}})
			controllerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool {
				return p.NodeSelector["infra"] == "true" && len(p.Tolerations) == 1 && p.Tolerations[0].Key == "infra"
			})
			Expect(daemonSet(ctx).Spec.Template.Spec.NodeSelector).NotTo(HaveKey("infra"))
		})

		It("controllerConfig: priority and runtime class, affinity, pod annotations, main-container resources", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{ControllerConfig: testConfig("ctrl")})
			pod := controllerPod(ctx, func(p corev1.PodSpec, m metav1.ObjectMeta) bool { return m.Annotations["ctrl"] == "yes" })
			expectConfig(pod, "ctrl")
		})

		It("speakerConfig: the same for the speakers", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{SpeakerConfig: testConfig("spk")})
			pod := speakerPod(ctx, func(p corev1.PodSpec, m metav1.ObjectMeta) bool { return m.Annotations["spk"] == "yes" })
			expectConfig(pod, "spk")
		})

		It("a field removed from the spec is removed from the operands", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{})
			speakerPod(ctx, func(p corev1.PodSpec, m metav1.ObjectMeta) bool {
				_, ok := m.Annotations["spk"]
				return !ok && p.PriorityClassName == "" && p.Affinity == nil
			})
		})

		It("ignoreExcludeLB: the speakers' --ignore-exclude-lb", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{IgnoreExcludeLB: true})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--ignore-exclude-lb") })
			Expect(hasArg(deployment(ctx).Spec.Template.Spec, "--ignore-exclude-lb")).To(BeFalse())
		})

		It("bgpBackend native, image and frrk8sConfig: accepted, images still from the environment", func(ctx context.Context) {
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{BGPBackend: metallbv1beta1.NativeMode, MetalLBImage: "example.com/other:1",
				FRRK8SConfig: &metallbv1beta1.FRRK8SConfig{AlwaysBlock: []string{"10.0.0.0/8"}}, LogLevel: "error"})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=error") })
			Expect(daemonSet(ctx).Spec.Template.Spec.Containers[0].Image).To(Equal(speakerImage))
			Expect(deployment(ctx).Spec.Template.Spec.Containers[0].Image).To(Equal(controllerImage))
			eventuallyCondition(ctx, degraded, condFalse, "AsExpected")
		})
	})

	Context("drift", func() {
		It("brings back a deleted DaemonSet", func(ctx context.Context) {
			ds := daemonSet(ctx)
			Expect(k8s.Delete(ctx, ds)).To(Succeed())
			Eventually(func() types.UID { return daemonSet(ctx).UID }).ShouldNot(Equal(ds.UID))
		})

		It("restores the edited args of the controller Deployment", func(ctx context.Context) {
			// The args of the current spec: an earlier spec's change may still be on its way.
			level := getMetalLB(ctx, metallbKey).Spec.LogLevel
			if level == "" {
				level = "info"
			}
			Eventually(func() bool { return hasArg(deployment(ctx).Spec.Template.Spec, "--log-level="+level) }).Should(BeTrue())
			settle()
			want := deployment(ctx).Spec.Template.Spec.Containers[0].Args
			Eventually(func() error {
				d := deployment(ctx)
				d.Spec.Template.Spec.Containers[0].Args = []string{"--log-level=all"}
				return k8s.Update(ctx, d)
			}).Should(Succeed())
			Eventually(func() []string { return deployment(ctx).Spec.Template.Spec.Containers[0].Args }).Should(Equal(want))
		})

		It("brings back a deleted cluster-scoped operand", func(ctx context.Context) {
			cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + ":speaker"}}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cr), cr)).To(Succeed())
			Expect(k8s.Delete(ctx, cr)).To(Succeed())
			Eventually(func() types.UID {
				fresh := &rbacv1.ClusterRole{}
				_ = k8s.Get(ctx, client.ObjectKeyFromObject(cr), fresh)
				return fresh.UID
			}).ShouldNot(SatisfyAny(BeEmpty(), Equal(cr.UID)))
		})

		It("keeps the memberlist key, also across a spec change that rolls the speakers", func(ctx context.Context) {
			s := &corev1.Secret{}
			Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: render.MemberlistSecretName}, s)).To(Succeed())
			key := s.Data[render.MemberlistSecretKey]
			Expect(key).NotTo(BeEmpty())
			hash := daemonSet(ctx).Spec.Template.Annotations[render.AnnotationMemberlistKeyHash]
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LogLevel: "debug"})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=debug") })
			Expect(daemonSet(ctx).Spec.Template.Annotations[render.AnnotationMemberlistKeyHash]).To(Equal(hash))
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			Expect(s.Data[render.MemberlistSecretKey]).To(Equal(key))
		})
	})

	Context("ServiceMonitors", func() {
		It("are deployed while their CRD exists, and pruned with the metrics reader role when it goes", func(ctx context.Context) {
			crd := serviceMonitorCRD()
			Expect(k8s.Create(ctx, crd)).To(Succeed())
			reader := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + ":" + render.MetricsReaderName}}
			for _, name := range []string{"controller-monitor", "speaker-monitor"} {
				sm := &unstructured.Unstructured{}
				sm.SetAPIVersion("monitoring.coreos.com/v1")
				sm.SetKind("ServiceMonitor")
				Eventually(func() error { return k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, sm) }).
					WithTimeout(40 * time.Second).Should(Succeed())
				Expect(sm.GetOwnerReferences()).To(HaveLen(1))
			}
			Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(reader), reader) }).Should(Succeed())

			Expect(k8s.Delete(ctx, crd)).To(Succeed())
			Eventually(gone(ctx, reader)).WithTimeout(40 * time.Second).Should(BeTrue())
			// The rest stays.
			Expect(k8s.Get(ctx, types.NamespacedName{Name: ns + ":speaker"}, &rbacv1.ClusterRole{})).To(Succeed())
		})

		It("pruning leaves alone objects without the operator's labels", func(ctx context.Context) {
			foreign := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "foreign",
				Labels: map[string]string{"app": "metallb", "component": "speaker"}},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
			Expect(k8s.Create(ctx, foreign)).To(Succeed())
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LogLevel: "info"})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=info") })
			Consistently(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(foreign), foreign) }).Should(Succeed())
		})
		It("pruning leaves alone another namespace's operator's cluster-scoped objects", func(ctx context.Context) {
			// What an operator in namespace "other" deploys for its own MetalLB resource, also named metallb.
			theirs := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "other:" + render.MetricsReaderName,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "ferrolb-operator", "app.kubernetes.io/instance": "metallb",
					"app.kubernetes.io/component": "metrics", render.LabelNamespace: "other"}}}
			Expect(k8s.Create(ctx, theirs)).To(Succeed())
			DeferCleanup(func(ctx context.Context) { Expect(client.IgnoreNotFound(k8s.Delete(ctx, theirs))).To(Succeed()) })
			updateSpec(ctx, metallbv1beta1.MetalLBSpec{LogLevel: "warn"})
			speakerPod(ctx, func(p corev1.PodSpec, _ metav1.ObjectMeta) bool { return hasArg(p, "--log-level=warn") })
			Consistently(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(theirs), theirs) }).Should(Succeed())
		})
	})

	Context("preflight checks", func() {
		It("finds kube-proxy in IPVS mode without strictARP, and clears when it is set", func(ctx context.Context) {
			eventuallyCondition(ctx, controllers.ConditionStrictARPRequired, condFalse, "KubeProxyConfigNotFound")
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-proxy"},
				Data: map[string]string{"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: false\n"}}
			Expect(k8s.Create(ctx, cm)).To(Succeed())
			poke(ctx)
			eventuallyCondition(ctx, controllers.ConditionStrictARPRequired, condTrue, "IPVSWithoutStrictARP")
			cm.Data["config.conf"] = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: true\n"
			Expect(k8s.Update(ctx, cm)).To(Succeed())
			poke(ctx)
			eventuallyCondition(ctx, controllers.ConditionStrictARPRequired, condFalse, "StrictARPEnabled")
			// A finding does not make the stack unhealthy.
			eventuallyCondition(ctx, degraded, condFalse, "AsExpected")
		})

		It("finds k3s' ServiceLB", func(ctx context.Context) {
			eventuallyCondition(ctx, controllers.ConditionConflictingLoadBalancer, condFalse, "NoConflictFound")
			svclb := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "svclb-traefik-1234"},
				Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "svclb"}},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "svclb"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "lb", Image: "rancher/klipper-lb"}}}}}}
			Expect(k8s.Create(ctx, svclb)).To(Succeed())
			poke(ctx)
			eventuallyCondition(ctx, controllers.ConditionConflictingLoadBalancer, condTrue, "K3sServiceLBPresent")
			Expect(condition(ctx, metallbKey, controllers.ConditionConflictingLoadBalancer)().Message).To(ContainSubstring("svclb-traefik-1234"))
			Expect(k8s.Delete(ctx, svclb)).To(Succeed())
			poke(ctx)
			eventuallyCondition(ctx, controllers.ConditionConflictingLoadBalancer, condFalse, "NoConflictFound")
		})

		It("finds nodes that get no speaker, and speaker pods that cannot be scheduled", func(ctx context.Context) {
			rollOut(ctx)
			eventuallyCondition(ctx, controllers.ConditionSpeakersUnschedulable, condFalse, "AllNodesCovered")
			setSpeakerStatus(ctx, 1, 1) // a tainted node: only one of two gets a speaker
			eventuallyCondition(ctx, controllers.ConditionSpeakersUnschedulable, condTrue, "NodesWithoutSpeaker")

			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "speaker-pending",
				Labels: daemonSet(ctx).Spec.Template.Labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "speaker", Image: speakerImage}}}}
			Expect(k8s.Create(ctx, pod)).To(Succeed())
			pod.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
				Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}}
			Expect(k8s.Status().Update(ctx, pod)).To(Succeed())
			eventuallyCondition(ctx, controllers.ConditionSpeakersUnschedulable, condTrue, "SpeakerPodsUnschedulable")
			Expect(k8s.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
			setSpeakerStatus(ctx, 2, 2)
			eventuallyCondition(ctx, controllers.ConditionSpeakersUnschedulable, condFalse, "AllNodesCovered")
		})
	})

	Context("other MetalLB resources", func() {
		It("a resource with another name is Degraded with IncorrectMetalLBResourceName and deploys nothing", func(ctx context.Context) {
			bad := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "second"},
				Spec: metallbv1beta1.MetalLBSpec{LogLevel: "all"}}
			Expect(k8s.Create(ctx, bad)).To(Succeed())
			key := client.ObjectKeyFromObject(bad)
			Eventually(condition(ctx, key, degraded)).Should(haveCondition(condTrue, "IncorrectMetalLBResourceName"))
			for _, t := range []string{available, progressing, upgradeable} {
				Expect(condition(ctx, key, t)()).To(haveCondition(condFalse, "IncorrectMetalLBResourceName"))
			}
			Expect(getMetalLB(ctx, key).Finalizers).To(BeEmpty())
			Expect(hasArg(daemonSet(ctx).Spec.Template.Spec, "--log-level=all")).To(BeFalse())
			sas := &corev1.ServiceAccountList{}
			Expect(k8s.List(ctx, sas, client.MatchingLabels{"app.kubernetes.io/instance": "second"})).To(Succeed())
			Expect(sas.Items).To(BeEmpty())

			// Deleting it leaves the stack alone.
			uid := daemonSet(ctx).UID
			Expect(k8s.Delete(ctx, bad)).To(Succeed())
			Eventually(gone(ctx, bad)).Should(BeTrue())
			Consistently(func() types.UID { return daemonSet(ctx).UID }).Should(Equal(uid))
			eventuallyCondition(ctx, available, condTrue, "AllOperandsAvailable")
		})

		It("a resource in another namespace says why nothing happens", func(ctx context.Context) {
			elsewhere := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: otherNS, Name: "metallb"}}
			Expect(k8s.Create(ctx, elsewhere)).To(Succeed())
			key := client.ObjectKeyFromObject(elsewhere)
			Eventually(condition(ctx, key, degraded)).Should(haveCondition(condTrue, "NotInOperatorNamespace"))
			Expect(condition(ctx, key, degraded)().Message).To(ContainSubstring(ns))
			Expect(getMetalLB(ctx, key).Finalizers).To(BeEmpty())
			Expect(k8s.Delete(ctx, elsewhere)).To(Succeed())
		})
	})

	Context("when deleted", func() {
		It("deletes the cluster-scoped operands, then lets the resource go", func(ctx context.Context) {
			m := getMetalLB(ctx, metallbKey)
			objs, err := render.Render(m, settings, render.WithMemberlistKey([]byte("k")), render.WithServiceMonitors(true))
			Expect(err).NotTo(HaveOccurred())
			Expect(objs.ClusterScoped()).NotTo(BeEmpty())
			Expect(k8s.Delete(ctx, m)).To(Succeed())
			Eventually(gone(ctx, m)).Should(BeTrue())
			for _, o := range objs.ClusterScoped() {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
				u.SetName(o.GetName())
				Expect(gone(ctx, u)()).To(BeTrue(), "%s %s", u.GetKind(), u.GetName())
			}
			for _, list := range []client.ObjectList{&rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{},
				&admissionregistrationv1.ValidatingWebhookConfigurationList{}} {
				Expect(k8s.List(ctx, list, client.MatchingLabels{"app.kubernetes.io/managed-by": "ferrolb-operator"})).To(Succeed())
				Expect(list).To(HaveField("Items", BeEmpty()))
			}
			// The namespaced ones are the garbage collector's, which envtest does not run: they are owned.
			Expect(daemonSet(ctx).OwnerReferences).To(ContainElement(HaveField("UID", m.UID)))
		})

		It("a new resource takes the operands over, keeping the memberlist key", func(ctx context.Context) {
			s := &corev1.Secret{}
			Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: render.MemberlistSecretName}, s)).To(Succeed())
			key := s.Data[render.MemberlistSecretKey]
			m := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "metallb"}}
			Expect(k8s.Create(ctx, m)).To(Succeed())
			Eventually(func() []metav1.OwnerReference {
				_ = k8s.Get(ctx, client.ObjectKeyFromObject(s), s)
				return s.OwnerReferences
			}).Should(ConsistOf(HaveField("UID", m.UID)))
			Expect(s.Data[render.MemberlistSecretKey]).To(Equal(key))
			Eventually(func() error {
				return k8s.Get(ctx, types.NamespacedName{Name: ns + ":speaker"}, &rbacv1.ClusterRole{})
			}).Should(Succeed())
		})
	})
})

// poke makes the operator reconcile: the preflight checks read objects it does not watch.
func poke(ctx context.Context) {
	GinkgoHelper()
	Eventually(func() error {
		m := getMetalLB(ctx, metallbKey)
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations["test.ferrolb.io/poke"] = time.Now().Format(time.RFC3339Nano)
		return k8s.Update(ctx, m)
	}).Should(Succeed())
}

// reinstallWebhook puts the operator's webhook configuration back, as envtest installed it.
func reinstallWebhook(ctx context.Context) {
	GinkgoHelper()
	for _, vwc := range env.WebhookInstallOptions.ValidatingWebhooks {
		fresh := vwc.DeepCopy()
		fresh.ResourceVersion, fresh.UID = "", ""
		Expect(k8s.Create(ctx, fresh)).To(Succeed())
	}
}

func testConfig(prefix string) *metallbv1beta1.Config {
	return &metallbv1beta1.Config{
		PriorityClassName: prefix + "-priority",
		RuntimeClassName:  prefix + "-runtime",
		Annotations:       map[string]string{prefix: "yes"},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
			Weight: 50, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: prefix, Operator: corev1.NodeSelectorOpExists}}}}}}},
		Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100Mi")}},
	}
}

func expectConfig(pod corev1.PodTemplateSpec, prefix string) {
	GinkgoHelper()
	Expect(pod.Spec.PriorityClassName).To(Equal(prefix + "-priority"))
	Expect(pod.Spec.RuntimeClassName).To(Equal(ptrTo(prefix + "-runtime")))
	Expect(pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Preference.MatchExpressions[0].Key).To(Equal(prefix))
	Expect(pod.Spec.Containers[0].Resources.Limits.Memory().String()).To(Equal("100Mi"))
}

// serviceMonitorCRD is a minimal monitoring.coreos.com ServiceMonitor CRD.
func serviceMonitorCRD() *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "servicemonitors.monitoring.coreos.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "monitoring.coreos.com",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "servicemonitors", Singular: "servicemonitor",
				Kind: "ServiceMonitor", ListKind: "ServiceMonitorList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve}}}},
		},
	}
}
