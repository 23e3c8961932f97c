//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api"
	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

var _ = Describe("The controller", func() {
	It("runs as a pod and assigns a Service an address of the lab's layer 2 range", func(ctx SpecContext) {
		c := controllerRuntimeClient()
		installCRDs()
		ns := f.Namespace(ctx, "controller")
		deployController(ctx, c, ns, false)

		By("configuring a pool in the lab's layer 2 range")
		first := lab.L2VIPRange4[0]
		pool := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "l2"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{first.String() + "-" + first.Next().Next().String()}}}
		Expect(c.Create(ctx, pool)).To(Succeed())

		By("creating a LoadBalancer Service")
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
				Ports: []corev1.ServicePort{{Port: 80}}}}
		Expect(c.Create(ctx, svc)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			got := &corev1.Service{}
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(svc), got)).To(Succeed())
			g.Expect(got.Status.LoadBalancer.Ingress).To(HaveLen(1))
			g.Expect(got.Status.LoadBalancer.Ingress[0].IP).To(Equal(first.String()))
			g.Expect(got.Annotations).To(HaveKeyWithValue(assign.AnnotationAllocatedFromPool, "l2"))
			cond := meta.FindStatusCondition(got.Status.Conditions, assign.ConditionType)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(assign.ReasonAllocated))
		}).Should(Succeed())

		By("reporting the configuration as valid and counting the address in the pool's status")
		Eventually(ctx, func(g Gomega) {
			state := &metallbv1beta1.ConfigurationState{}
			g.Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "controller"}, state)).To(Succeed())
			g.Expect(state.Status.Result).To(Equal(metallbv1beta1.ConfigurationResultValid))
			got := &metallbv1beta1.IPAddressPool{}
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pool), got)).To(Succeed())
			g.Expect(got.Status.AssignedIPv4).To(BeEquivalentTo(1))
			g.Expect(got.Status.AvailableIPv4).To(BeEquivalentTo(2))
		}).Should(Succeed())
	}, SpecTimeout(specTimeout))
})

func controllerRuntimeClient() client.Client {
	GinkgoHelper()
	cfg, err := f.Lab.RESTConfig()
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// installCRDs installs (or updates) every ferrolb CRD in the lab's cluster; they stay for later specs.
func installCRDs() {
	GinkgoHelper()
	cfg, err := f.Lab.RESTConfig()
	Expect(err).NotTo(HaveOccurred())
	_, err = envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{repoPath("config", "crd", "bases")}, ErrorIfPathMissing: true})
	Expect(err).NotTo(HaveOccurred())
}

// deployController runs the controller binary of the project image in ns, configured from ns, with the
// ClusterRole generated from the reconcilers' RBAC markers, and waits until it is available. Everything it
// creates goes away with the spec.
//
// With webhooks, the controller serves them behind MetalLB's Service and manages their certificate, which needs
// the namespaced Role of config/rbac/role.yaml (its Secret) in ns.
func deployController(ctx context.Context, c client.Client, ns string, webhooks bool) {
	GinkgoHelper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "controller"}}
	Expect(c.Create(ctx, sa)).To(Succeed())
	bindRoles(ctx, c, ns, sa)
	labels := map[string]string{"app": "metallb", "component": "controller"}
	args := []string{"/controller", "--namespace=" + ns, "--metrics-bind-address=0"}
	var mounts []corev1.VolumeMount
	var volumes []corev1.Volume
	if webhooks {
		// The certificate is written into the cert dir; the root filesystem is read-only.
		mounts = []corev1.VolumeMount{{Name: "certs", MountPath: "/tmp/k8s-webhook-server/serving-certs"}}
		volumes = []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	} else {
		args = append(args, "--webhook-mode=disabled")
	}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "controller"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "controller",
					Volumes:            volumes,
					Containers: []corev1.Container{{
						VolumeMounts:    mounts,
						Ports:           []corev1.ContainerPort{{Name: "webhook", ContainerPort: 9443}},
						Name:            "controller",
						Image:           lab.ProjectImage,
						ImagePullPolicy: corev1.PullNever,
						Command:         args,
						Env: []corev1.EnvVar{{Name: "METALLB_POD_NAME", ValueFrom: &corev1.EnvVarSource{
							FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
							Path: "/readyz", Port: intstr.FromInt32(17472)}}},
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
					}},
				},
			},
		},
	}
	Expect(c.Create(ctx, dep)).To(Succeed())
	Eventually(ctx, func(g Gomega) {
		got := &appsv1.Deployment{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(dep), got)).To(Succeed())
		g.Expect(got.Status.AvailableReplicas).To(BeEquivalentTo(1))
	}).Should(Succeed(), "the controller Deployment becomes available")
}

// bindRoles binds the service account to copies of the roles generated from the controller's RBAC markers:
// the ClusterRole, the Role of ferrolb's namespace (moved to ns), and the Roles of the namespaces in also
// (the operator's kube-system Role), which stay in their namespace. They go away with the spec.
func bindRoles(ctx context.Context, c client.Client, ns string, sa *corev1.ServiceAccount, also ...string) {
	GinkgoHelper()
	data, err := os.ReadFile(repoPath("config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa.Name}}
	var objs []client.Object
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var meta metav1.TypeMeta
		Expect(yaml.Unmarshal([]byte(doc), &meta)).To(Succeed())
		switch meta.Kind {
		case "ClusterRole":
			role := &rbacv1.ClusterRole{}
			Expect(yaml.Unmarshal([]byte(doc), role)).To(Succeed())
			role.ObjectMeta = metav1.ObjectMeta{Name: "e2e-" + ns + "-" + sa.Name}
			objs = append(objs, role, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
				Subjects: subjects})
		case "Role":
			role := &rbacv1.Role{}
			Expect(yaml.Unmarshal([]byte(doc), role)).To(Succeed())
			switch {
			case role.Namespace == "metallb-system":
				role.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: "e2e-" + sa.Name}
			case slices.Contains(also, role.Namespace):
				role.ObjectMeta = metav1.ObjectMeta{Namespace: role.Namespace, Name: "e2e-" + ns + "-" + sa.Name}
			default:
				continue // the operator's Roles elsewhere (kube-system), not the operands'
			}
			objs = append(objs, role, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: role.Namespace, Name: role.Name},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
				Subjects: subjects})
		}
	}
	Expect(objs).To(HaveLen(4+2*len(also)), "config/rbac/role.yaml holds a ClusterRole, a Role of metallb-system and one of each namespace in %v", also)
	for _, o := range objs {
		Expect(c.Create(ctx, o)).To(Succeed())
	}
	DeferCleanup(func(ctx SpecContext) {
		for _, o := range objs {
			Expect(client.IgnoreNotFound(c.Delete(ctx, o))).To(Succeed())
		}
	})
}

// repoPath is a path in the source tree (the suite runs from test/e2e).
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{"..", ".."}, elem...)...)
}
