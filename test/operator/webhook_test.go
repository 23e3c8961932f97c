package operator_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
)

// The webhook's resources are in another namespace, so that the operator deploys nothing from them.
var _ = Describe("The MetalLB webhook", func() {
	create := func(ctx context.Context, name string, spec metallbv1beta1.MetalLBSpec) error {
		m := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: otherNS, Name: name}, Spec: spec}
		err := k8s.Create(ctx, m)
		if err == nil {
			DeferCleanup(func(ctx context.Context) { Expect(k8s.Delete(ctx, m)).To(Succeed()) })
		}
		return err
	}

	It("accepts a valid resource, and refuses an invalid update of it", func(ctx context.Context) {
		Expect(create(ctx, "valid", metallbv1beta1.MetalLBSpec{LogLevel: "debug", BGPBackend: metallbv1beta1.NativeMode,
			SpeakerConfig: &metallbv1beta1.Config{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100,
					PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}}}}},
			SpeakerTolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo[int64](5)}}})).To(Succeed())
		// The operator writes the resource's status meanwhile: retry conflicts.
		var err error
		Eventually(func() bool {
			m := getMetalLB(ctx, metallbKeyIn(otherNS, "valid"))
			m.Spec.BGPBackend = "frr-k8s"
			err = k8s.Update(ctx, m)
			return apierrors.IsConflict(err)
		}).Should(BeFalse())
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.bgpBackend"))
	})

	weighted := func(w int32) []corev1.PreferredSchedulingTerm {
		return []corev1.PreferredSchedulingTerm{{Weight: w, Preference: corev1.NodeSelectorTerm{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "a", Operator: corev1.NodeSelectorOpExists}}}}}
	}
	podWeighted := func(w int32) []corev1.WeightedPodAffinityTerm {
		return []corev1.WeightedPodAffinityTerm{{Weight: w, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}}
	}
	DescribeTable("refuses an invalid resource, naming the field",
		func(ctx context.Context, spec metallbv1beta1.MetalLBSpec, field string) {
			err := create(ctx, "invalid", spec)
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(field))
		},
		Entry("speaker toleration with tolerationSeconds but not NoExecute",
			metallbv1beta1.MetalLBSpec{SpeakerTolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptrTo[int64](5)}}}, "speakerTolerations"),
		Entry("controller toleration with tolerationSeconds but not NoExecute",
			metallbv1beta1.MetalLBSpec{ControllerTolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists,
				TolerationSeconds: ptrTo[int64](5)}}}, "controllerTolerations"),
		Entry("speaker node affinity weight 0",
			metallbv1beta1.MetalLBSpec{SpeakerConfig: &metallbv1beta1.Config{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: weighted(0)}}}},
			"spec.speakerConfig.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
		Entry("controller node affinity weight 101",
			metallbv1beta1.MetalLBSpec{ControllerConfig: &metallbv1beta1.Config{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: weighted(101)}}}},
			"spec.controllerConfig.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
		Entry("speaker pod affinity weight 101",
			metallbv1beta1.MetalLBSpec{SpeakerConfig: &metallbv1beta1.Config{Affinity: &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: podWeighted(101)}}}},
			"spec.speakerConfig.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
		Entry("controller pod anti-affinity weight 0",
			metallbv1beta1.MetalLBSpec{ControllerConfig: &metallbv1beta1.Config{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: podWeighted(0)}}}},
			"spec.controllerConfig.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
		Entry("bgpBackend frr", metallbv1beta1.MetalLBSpec{BGPBackend: metallbv1beta1.FRRMode}, "spec.bgpBackend"),
		Entry("bgpBackend frr-k8s-external", metallbv1beta1.MetalLBSpec{BGPBackend: metallbv1beta1.FRRK8sExternalMode}, "spec.bgpBackend"),
		Entry("unknown bgpBackend", metallbv1beta1.MetalLBSpec{BGPBackend: "bird"}, "spec.bgpBackend"),
		Entry("invalid priorityClassName", metallbv1beta1.MetalLBSpec{SpeakerConfig: &metallbv1beta1.Config{PriorityClassName: "Not_Valid"}},
			"spec.speakerConfig.priorityClassName"),
	)
})
