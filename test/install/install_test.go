package install_test

import (
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// The release image make install-manifest writes dist/install.yaml for.
const releaseImage = "quay.io/ferrolb/ferrolb:v0.1.0"

var _ = Describe("dist/install.yaml", Ordered, func() {
	var objs []*unstructured.Unstructured
	BeforeAll(func() { objs = installObjects() })

	It("passes a server-side apply dry run, object by object, CRDs and the namespace applied first", func(ctx context.Context) {
		// The dry run of an object in metallb-system needs the namespace, and a kubectl apply of the file
		// creates the CRDs before anything else: those are dry-run, then applied, first.
		var rest []*unstructured.Unstructured
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" && o.GetKind() != "Namespace" {
				rest = append(rest, o)
				continue
			}
			Expect(apply(ctx, o, true)).To(Succeed(), "dry run of %s %s", o.GetKind(), o.GetName())
			Expect(apply(ctx, o, false)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				continue
			}
			Eventually(func(g Gomega) {
				crd := &apiextensionsv1.CustomResourceDefinition{}
				g.Expect(k8s.Get(ctx, client.ObjectKey{Name: o.GetName()}, crd)).To(Succeed())
				g.Expect(crd.Status.Conditions).To(ContainElement(And(
					HaveField("Type", apiextensionsv1.Established), HaveField("Status", apiextensionsv1.ConditionTrue))))
			}).Should(Succeed(), "CRD %s established", o.GetName())
		}
		Expect(rest).NotTo(BeEmpty())
		for _, o := range rest {
			Expect(apply(ctx, o, true)).To(Succeed(), "dry run of %s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
		}
	})

	It("holds the install contract's objects", func() {
		By("the CRDs, BGPPeer's converted through the webhook Service")
		var crds []string
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				crds = append(crds, o.GetName())
			}
		}
		Expect(crds).To(ConsistOf("bfdprofiles.metallb.io", "bgpadvertisements.metallb.io", "bgppeers.metallb.io",
			"communities.metallb.io", "configurationstates.metallb.io", "ipaddresspools.metallb.io",
			"l2advertisements.metallb.io", "metallbs.metallb.io", "servicebgpstatuses.metallb.io", "servicel2statuses.metallb.io"))
		peers := &apiextensionsv1.CustomResourceDefinition{}
		convert(find(objs, "CustomResourceDefinition", "", "bgppeers.metallb.io"), peers)
		Expect(peers.Spec.Versions).To(ConsistOf(HaveField("Name", "v1beta1"), HaveField("Name", "v1beta2")))
		Expect(peers.Spec.Conversion.Webhook.ClientConfig.Service).To(And(HaveField("Namespace", ns),
			HaveField("Name", webhook.DefaultServiceName), HaveField("Path", HaveValue(Equal(webhook.PathConvert)))))

		By("the operator: its Deployment, ServiceAccount and the roles of config/rbac/role.yaml")
		operator := &appsv1.Deployment{}
		convert(find(objs, "Deployment", ns, "ferrolb-operator"), operator)
		Expect(operator.Labels).To(Equal(map[string]string{"app.kubernetes.io/name": "ferrolb", "app.kubernetes.io/component": "operator"}))
		Expect(*operator.Spec.Replicas).To(BeEquivalentTo(1))
		pod := operator.Spec.Template.Spec
		Expect(pod.ServiceAccountName).To(Equal("ferrolb-operator"))
		Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
		Expect(pod.Tolerations).To(ContainElement(HaveField("Key", "node-role.kubernetes.io/control-plane")))
		Expect(pod.Containers).To(HaveLen(1))
		manager := pod.Containers[0]
		Expect(manager.Name).To(Equal("manager"))
		Expect(manager.Image).To(Equal(releaseImage))
		Expect(manager.Command).To(Equal([]string{"/manager"}))
		Expect(manager.Args).To(Equal([]string{"--leader-elect", "--disable-operand-webhooks",
			"--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"}))
		Expect(manager.Env).To(ConsistOf(
			corev1.EnvVar{Name: "OPERATOR_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			corev1.EnvVar{Name: "CONTROLLER_IMAGE", Value: releaseImage},
			corev1.EnvVar{Name: "SPEAKER_IMAGE", Value: releaseImage}))
		Expect(manager.LivenessProbe.HTTPGet).To(And(HaveField("Path", "/healthz"), HaveField("Port", intstr.FromInt32(8081))))
		Expect(manager.ReadinessProbe.HTTPGet).To(And(HaveField("Path", "/readyz"), HaveField("Port", intstr.FromInt32(8081))))
		expectRestricted(manager)
		find(objs, "ServiceAccount", ns, "ferrolb-operator")

		generated := generatedRoles()
		clusterRole := &rbacv1.ClusterRole{}
		convert(find(objs, "ClusterRole", "", "ferrolb-operator"), clusterRole)
		Expect(clusterRole.Rules).To(Equal(generated["/manager-role"].Rules))
		expectBound(find(objs, "ClusterRoleBinding", "", "ferrolb-operator"), "ClusterRole", "ferrolb-operator", "ferrolb-operator")
		for _, space := range []string{ns, "kube-system"} {
			role := &rbacv1.Role{}
			convert(find(objs, "Role", space, "ferrolb-operator"), role)
			Expect(role.Rules).To(Equal(generated[space+"/manager-role"].Rules), space)
			expectBound(find(objs, "RoleBinding", space, "ferrolb-operator"), "Role", "ferrolb-operator", "ferrolb-operator")
		}

		By("the webhook server: cmd/controller in onlywebhook mode behind metallb-webhook-service")
		server := &appsv1.Deployment{}
		convert(find(objs, "Deployment", ns, "ferrolb-webhook-server"), server)
		Expect(server.Spec.Template.Labels).To(Equal(map[string]string{"app.kubernetes.io/name": "ferrolb", "app.kubernetes.io/component": "webhook-server"}))
		Expect(server.Spec.Template.Spec.ServiceAccountName).To(Equal("ferrolb-webhook-server"))
		container := server.Spec.Template.Spec.Containers[0]
		Expect(container.Image).To(Equal(releaseImage))
		Expect(container.Command).To(Equal([]string{"/controller"}))
		Expect(container.Args).To(ContainElements("--webhook-mode=onlywebhook", "--webhook-port=9443"))
		Expect(container.Ports).To(ContainElement(HaveField("ContainerPort", BeEquivalentTo(9443))))
		expectRestricted(container)
		find(objs, "ServiceAccount", ns, "ferrolb-webhook-server")
		expectBound(find(objs, "ClusterRoleBinding", "", "ferrolb-webhook-server"), "ClusterRole", "ferrolb-webhook-server", "ferrolb-webhook-server")
		expectBound(find(objs, "RoleBinding", ns, "ferrolb-webhook-server"), "Role", "ferrolb-webhook-server", "ferrolb-webhook-server")

		svc := &corev1.Service{}
		convert(find(objs, "Service", ns, webhook.DefaultServiceName), svc)
		Expect(svc.Spec.Selector).To(Equal(server.Spec.Template.Labels))
		Expect(svc.Spec.Ports).To(ConsistOf(And(HaveField("Port", BeEquivalentTo(443)), HaveField("TargetPort", intstr.FromInt32(9443)))))

		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		convert(find(objs, "ValidatingWebhookConfiguration", "", webhook.DefaultWebhookConfigName), vwc)
		var paths []string
		for _, w := range vwc.Webhooks {
			Expect(w.ClientConfig.Service).To(And(HaveField("Namespace", ns), HaveField("Name", webhook.DefaultServiceName)), w.Name)
			Expect(w.ClientConfig.CABundle).To(BeEmpty(), "the rotator injects it; a caBundle here would be reset on every apply")
			paths = append(paths, *w.ClientConfig.Service.Path)
		}
		Expect(paths).To(ConsistOf(webhook.PathIPAddressPool, webhook.PathBGPPeer, webhook.PathBGPAdvertisement,
			webhook.PathL2Advertisement, webhook.PathCommunity, webhook.PathBFDProfile, webhook.PathMetalLB))
		metallb := webhook.MetalLBWebhook(ns, webhook.DefaultServiceName)
		Expect(vwc.Webhooks).To(ContainElement(And(HaveField("Name", metallb.Name), HaveField("Rules", metallb.Rules),
			HaveField("FailurePolicy", metallb.FailurePolicy), HaveField("SideEffects", metallb.SideEffects))))
	})
})

// expectRestricted checks the container runs as the restricted Pod Security profile asks.
func expectRestricted(c corev1.Container) {
	GinkgoHelper()
	Expect(c.SecurityContext).To(And(
		HaveField("AllowPrivilegeEscalation", HaveValue(BeFalse())),
		HaveField("ReadOnlyRootFilesystem", HaveValue(BeTrue())),
		HaveField("Capabilities.Drop", ConsistOf(corev1.Capability("ALL")))), c.Name)
}

// expectBound checks the binding grants the role to the ServiceAccount of metallb-system.
func expectBound(u *unstructured.Unstructured, kind, role, serviceAccount string) {
	GinkgoHelper()
	b := &rbacv1.RoleBinding{} // a ClusterRoleBinding has the same roleRef and subjects
	convert(u, b)
	Expect(b.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}))
	Expect(b.Subjects).To(Equal([]rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: serviceAccount}}))
}

// generatedRoles are the roles of config/rbac/role.yaml by namespace/name.
func generatedRoles() map[string]*rbacv1.Role {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	roles := map[string]*rbacv1.Role{}
	for _, u := range decodeAll(data) {
		r := &rbacv1.Role{}
		Expect(yaml.Unmarshal(mustJSON(u), r)).To(Succeed())
		roles[r.Namespace+"/"+r.Name] = r
	}
	return roles
}

func mustJSON(u *unstructured.Unstructured) []byte {
	GinkgoHelper()
	data, err := u.MarshalJSON()
	Expect(err).NotTo(HaveOccurred())
	return data
}

func convert(u *unstructured.Unstructured, into any) {
	GinkgoHelper()
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true)).To(Succeed(),
		"%s %s", u.GetKind(), u.GetName())
}
