package operator_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/internal/migrate"
	"github.com/ferrolb/ferrolb/test/testenv"
)

const (
	migrated        = metallbv1beta1.ConditionMigrated
	migrationFailed = metallbv1beta1.ConditionMigrationFailed
	// appsNS holds the specs' Services.
	appsNS = "migration-apps"
)

// The migration's specs share one metallb resource of their own, created after the first legacy ConfigMap:
// the resource of "The metallb resource" is deleted first, and this one at the end. For the time of the
// container, the operator deploys the controller without its webhooks (envtest cannot reach them), the
// configuration resources' webhooks are served by the suite instead, and the controller's allocation runs
// in-process.
var _ = Describe("The migration of a legacy ConfigMap", Ordered, func() {
	bgpSeed := readLegacy("legacy-bgp-two-peers.yaml")
	layer2Seed := readLegacy("legacy-layer2.yaml")
	placeholderSeed := readLegacy("legacy-layer2-placeholder.yaml")
	bgpKey := client.ObjectKeyFromObject(bgpSeed)
	var legacy *corev1.ConfigMap

	BeforeAll(func(ctx context.Context) {
		deleteMetalLB(ctx)
		restartOperator(true)
		DeferCleanup(func() { restartOperator(false) })
		installConfigWebhooks(ctx)
		startAllocation()
		Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appsNS}}))).To(Succeed())
		DeferCleanup(func(ctx context.Context) {
			deleteMetalLB(ctx)
			deleteConfiguration(ctx)
			for _, cm := range []*corev1.ConfigMap{bgpSeed, layer2Seed, placeholderSeed} {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, cm.DeepCopy()))).To(Succeed())
			}
		})
	})

	It("converts a legacy ConfigMap created before the metallb resource, through the webhooks", func(ctx context.Context) {
		legacy = bgpSeed.DeepCopy()
		Expect(k8s.Create(ctx, legacy)).To(Succeed())
		Expect(k8s.Create(ctx, &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "metallb"},
			Spec: metallbv1beta1.MetalLBSpec{ConfigMigration: &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name}}})).To(Succeed())

		eventuallyCondition(ctx, migrated, condTrue, controllers.ReasonResourcesUpToDate)
		eventuallyCondition(ctx, migrationFailed, condFalse, "AsExpected")
		Expect(getMetalLB(ctx, metallbKey).Status.Migration).To(Equal(&metallbv1beta1.MigrationStatus{
			ConfigMap: bgpSeed.Name, ResourceVersion: legacy.ResourceVersion, Resources: 4, UpToDate: 4}))

		// What the command line tool writes for the same ConfigMap is what exists, with the origin added.
		for _, obj := range cliObjects("legacy-bgp-two-peers.yaml") {
			live := liveObject(ctx, obj)
			Expect(live).NotTo(BeNil(), "%T %s", obj, obj.GetName())
			Expect(decide(ctx, obj, live)).To(Equal(migrate.ActionUpToDate), "%T %s", obj, obj.GetName())
			Expect(live.GetLabels()).To(HaveKeyWithValue(migrate.LabelMigrated, "true"))
			Expect(live.GetLabels()).NotTo(HaveKey("app.kubernetes.io/managed-by"), "the operator must neither update nor prune it")
			Expect(live.GetAnnotations()).To(HaveKeyWithValue(migrate.AnnotationMigratedFrom, bgpKey.String()))
			Expect(live.GetOwnerReferences()).To(BeEmpty())
		}
		pool := &metallbv1beta1.IPAddressPool{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "default"}, pool)).To(Succeed())
		Expect(pool.Spec.Addresses).To(Equal([]string{"192.168.32.0/24"}))
		Expect(pool.Spec.AvoidBuggyIPs).To(BeTrue())
		peers := &metallbv1beta2.BGPPeerList{}
		Expect(k8s.List(ctx, peers, client.InNamespace(ns))).To(Succeed())
		Expect(peers.Items).To(ConsistOf(
			HaveField("Spec.PeerAddress", "192.168.33.2"), HaveField("Spec.PeerAddress", "192.168.33.4")))

		// The webhooks were in the way: they refuse a pool overlapping the migrated one.
		overlapping := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "overlap"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"192.168.32.128/25"}}}
		Expect(k8s.Create(ctx, overlapping, client.DryRunAll)).To(MatchError(ContainSubstring("overlap")))
		expectLegacyUnchanged(ctx, legacy)
	})

	It("gives a Service the first address of the legacy pool that avoid-buggy-ips allows", func(ctx context.Context) {
		svc := createLoadBalancer(ctx, "bgp")
		expectIngress(ctx, svc, "192.168.32.1")
	})

	It("writes nothing on a resync", func(ctx context.Context) {
		settle()
		n, r := writes.count(), reconciles()
		poke(ctx)
		Eventually(reconciles).Should(BeNumerically(">", r))
		Consistently(func() []string { return writes.since(n) }).Should(BeEmpty())
	})

	It("creates again a converted resource that is deleted while the ConfigMap is there", func(ctx context.Context) {
		adv := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgpadvertisement1"}}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(adv), adv)).To(Succeed())
		uid := adv.UID
		Expect(k8s.Delete(ctx, adv)).To(Succeed())
		Eventually(func() types.UID {
			fresh := &metallbv1beta1.BGPAdvertisement{}
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(adv), fresh)
			return fresh.UID
		}).Should(And(Not(BeEmpty()), Not(Equal(uid))))
		eventuallyCondition(ctx, migrated, condTrue, controllers.ReasonResourcesUpToDate)
	})

	It("reports a converted resource changed since as a conflict, and leaves it", func(ctx context.Context) {
		key := types.NamespacedName{Namespace: ns, Name: "peer2"}
		setHoldTime := func(d time.Duration) {
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
				p := &metallbv1beta2.BGPPeer{}
				if err := k8s.Get(ctx, key, p); err != nil {
					return err
				}
				p.Spec.HoldTime = &metav1.Duration{Duration: d}
				return k8s.Update(ctx, p)
			})).To(Succeed())
		}
		setHoldTime(30 * time.Second)
		eventuallyCondition(ctx, migrationFailed, condTrue, controllers.ReasonConflict)
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonIncomplete)
		Expect(condition(ctx, metallbKey, migrationFailed)()).To(HaveField("Message",
			ContainSubstring("BGPPeer/peer2 exists with another spec (converted from this ConfigMap earlier, changed since)")))
		Expect(getMetalLB(ctx, metallbKey).Status.Migration).To(And(HaveField("UpToDate", BeEquivalentTo(3)),
			HaveField("Conflicts", Equal([]string{"BGPPeer/peer2"}))))
		Consistently(func() time.Duration {
			p := &metallbv1beta2.BGPPeer{}
			Expect(k8s.Get(ctx, key, p)).To(Succeed())
			return p.Spec.HoldTime.Duration
		}).Should(Equal(30 * time.Second))

		// Back to the converted spec, written another way: no conflict.
		setHoldTime(90 * time.Second)
		eventuallyCondition(ctx, migrated, condTrue, controllers.ReasonResourcesUpToDate)
		eventuallyCondition(ctx, migrationFailed, condFalse, "AsExpected")
	})

	It("creates nothing when disabled", func(ctx context.Context) {
		setMigration(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name, Mode: metallbv1beta1.MigrationDisabled})
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonMigrationDisabled)
		eventuallyCondition(ctx, migrationFailed, condFalse, controllers.ReasonMigrationDisabled)
		Expect(getMetalLB(ctx, metallbKey).Status.Migration).To(BeNil())
		deleteConfiguration(ctx)
		Consistently(configurationCount(ctx)).Should(BeZero())
	})

	It("in a dry run, writes the converted resources into a generated ConfigMap and creates nothing", func(ctx context.Context) {
		setMigration(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name, Mode: metallbv1beta1.MigrationDryRun})
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonDryRun)
		eventuallyCondition(ctx, migrationFailed, condFalse, "AsExpected")
		generatedName := bgpSeed.Name + controllers.GeneratedConfigMapSuffix
		Expect(condition(ctx, metallbKey, migrated)()).To(HaveField("Message", ContainSubstring("ConfigMap "+generatedName)))
		Expect(getMetalLB(ctx, metallbKey).Status.Migration).To(And(HaveField("GeneratedConfigMap", generatedName),
			HaveField("Resources", BeEquivalentTo(4)), HaveField("UpToDate", BeZero())))
		Consistently(configurationCount(ctx)).Should(BeZero())

		generated := &corev1.ConfigMap{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: generatedName}, generated)).To(Succeed())
		m := getMetalLB(ctx, metallbKey)
		Expect(generated.OwnerReferences).To(ConsistOf(And(HaveField("UID", m.UID), HaveField("Kind", "MetalLB"))))
		Expect(generated.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "ferrolb-operator"))
		resources := generated.Data[controllers.GeneratedConfigMapKey]
		Expect(migrate.Verify([]byte(resources))).To(Succeed())
		want, err := migrate.ConvertConfigMap(liveLegacy(ctx, bgpKey))
		Expect(err).NotTo(HaveOccurred())
		Expect(resources).To(Equal(string(want.YAML)))
		// A resync of the dry run writes nothing either.
		settle()
		n, r := writes.count(), reconciles()
		poke(ctx)
		Eventually(reconciles).Should(BeNumerically(">", r))
		Consistently(func() []string { return writes.since(n) }).Should(BeEmpty())

		// Applied by hand, as a user would after reading it: what Apply creates is what was shown.
		applyStream(ctx, resources)
		Eventually(func() *metallbv1beta1.MigrationStatus { return getMetalLB(ctx, metallbKey).Status.Migration }).
			Should(HaveField("UpToDate", BeEquivalentTo(4)))
		n = writes.count()
		setMigration(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name})
		eventuallyCondition(ctx, migrated, condTrue, controllers.ReasonResourcesUpToDate)
		Eventually(gone(ctx, generated)).Should(BeTrue(), "the dry run's ConfigMap goes with the dry run")
		settle()
		for _, w := range writes.since(n) {
			Expect(w).NotTo(HavePrefix("POST"), "nothing to create once the dry run was applied")
		}
		expectLegacyUnchanged(ctx, legacy)
	})

	It("leaves a resource of the user with another spec as it is, reports it, and creates the others", func(ctx context.Context) {
		setMigration(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name, Mode: metallbv1beta1.MigrationDisabled})
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonMigrationDisabled)
		deleteConfiguration(ctx)
		// The user's own pool of that name, and a peer written by hand like the converted one.
		users := &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"192.168.40.0/24"}}}
		Expect(k8s.Create(ctx, users)).To(Succeed())
		Expect(k8s.Create(ctx, &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "peer1"},
			Spec: metallbv1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, PeerAddress: "192.168.33.2", Port: 179,
				HoldTime: &metav1.Duration{Duration: 90 * time.Second}}})).To(Succeed())

		setMigration(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name, Mode: metallbv1beta1.MigrationApply})
		eventuallyCondition(ctx, migrationFailed, condTrue, controllers.ReasonConflict)
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonIncomplete)
		Expect(condition(ctx, metallbKey, migrationFailed)()).To(HaveField("Message",
			ContainSubstring("IPAddressPool/default exists with another spec (not created by the migration)")))
		Eventually(func() *metallbv1beta1.MigrationStatus { return getMetalLB(ctx, metallbKey).Status.Migration }).
			Should(And(HaveField("UpToDate", BeEquivalentTo(3)), HaveField("Conflicts", Equal([]string{"IPAddressPool/default"}))))
		for _, name := range []string{"peer2"} {
			Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &metallbv1beta2.BGPPeer{})).To(Succeed())
		}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "bgpadvertisement1"}, &metallbv1beta1.BGPAdvertisement{})).To(Succeed())
		Consistently(func() *metallbv1beta1.IPAddressPool {
			p := &metallbv1beta1.IPAddressPool{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(users), p)).To(Succeed())
			return p
		}).Should(And(HaveField("Generation", users.Generation), HaveField("Spec.Addresses", users.Spec.Addresses),
			HaveField("Labels", BeEmpty()), HaveField("Annotations", BeEmpty())))
		svc := createLoadBalancer(ctx, "users")
		expectIngress(ctx, svc, "192.168.40.0")

		// The user deletes their pool: the converted one is created.
		Expect(k8s.Delete(ctx, svc)).To(Succeed())
		Expect(k8s.Delete(ctx, users)).To(Succeed())
		eventuallyCondition(ctx, migrated, condTrue, controllers.ReasonResourcesUpToDate)
		eventuallyCondition(ctx, migrationFailed, condFalse, "AsExpected")
		expectLegacyUnchanged(ctx, legacy)
	})

	It("refuses an invalid legacy ConfigMap naming the pool and the key, and creates nothing", func(ctx context.Context) {
		Expect(k8s.Delete(ctx, legacy)).To(Succeed())
		Eventually(condition(ctx, metallbKey, migrated)).Should(BeNil())
		deleteConfiguration(ctx)
		legacy = placeholderSeed.DeepCopy()
		Expect(k8s.Create(ctx, legacy)).To(Succeed())
		// Without spec.configMigration: the ConfigMap named config, in mode Apply.
		setMigration(ctx, nil)
		eventuallyCondition(ctx, migrationFailed, condTrue, controllers.ReasonInvalidLegacyConfig)
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonInvalidLegacyConfig)
		Expect(condition(ctx, metallbKey, migrationFailed)()).To(HaveField("Message", And(
			ContainSubstring("ConfigMap metallb-system/config"),
			ContainSubstring(`pool "metallb-ip-space" (address-pools[0]): addresses[0]`),
			ContainSubstring("10.10.XX.200-10.10.XX.250"))))
		Consistently(configurationCount(ctx)).Should(BeZero())
		expectLegacyUnchanged(ctx, legacy)
	})

	It("converts the ConfigMap again when it is edited: a layer2 pool", func(ctx context.Context) {
		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cm := liveLegacy(ctx, client.ObjectKeyFromObject(legacy))
			cm.Data = layer2Seed.Data
			return k8s.Update(ctx, cm)
		})).To(Succeed())
		eventuallyCondition(ctx, migrated, condTrue, controllers.ReasonResourcesUpToDate)
		eventuallyCondition(ctx, migrationFailed, condFalse, "AsExpected")
		l2 := &metallbv1beta1.L2Advertisement{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "l2advertisement1"}, l2)).To(Succeed())
		Expect(l2.Spec.IPAddressPools).To(Equal([]string{"default"}))
		svc := createLoadBalancer(ctx, "layer2")
		expectIngress(ctx, svc, "192.168.1.240")
	})

	It("drops the conditions when the legacy ConfigMap goes, and keeps the resources", func(ctx context.Context) {
		n := configurationCount(ctx)()
		Expect(k8s.Delete(ctx, legacy)).To(Succeed())
		Eventually(condition(ctx, metallbKey, migrated)).Should(BeNil())
		Eventually(condition(ctx, metallbKey, migrationFailed)).Should(BeNil())
		Expect(getMetalLB(ctx, metallbKey).Status.Migration).To(BeNil())
		Consistently(configurationCount(ctx)).Should(Equal(n))
	})

	It("retries creating what a webhook could not be asked about, until it can", func(ctx context.Context) {
		deleteConfiguration(ctx)
		unreachable := installUnreachablePoolWebhook(ctx)
		legacy = bgpSeed.DeepCopy()
		Expect(k8s.Create(ctx, legacy)).To(Succeed())
		setMigration(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: bgpSeed.Name})
		eventuallyCondition(ctx, migrationFailed, condTrue, controllers.ReasonCreateFailed)
		eventuallyCondition(ctx, migrated, condFalse, controllers.ReasonIncomplete)
		Expect(condition(ctx, metallbKey, migrationFailed)()).To(HaveField("Message",
			ContainSubstring("IPAddressPool/default could not be created (retrying)")))
		Expect(getMetalLB(ctx, metallbKey).Status.Migration).To(HaveField("UpToDate", BeEquivalentTo(3)))

		Expect(k8s.Delete(ctx, unreachable)).To(Succeed())
		// The retries back off exponentially.
		Eventually(condition(ctx, metallbKey, migrated)).WithTimeout(time.Minute).
			Should(haveCondition(condTrue, controllers.ReasonResourcesUpToDate))
		eventuallyCondition(ctx, migrationFailed, condFalse, "AsExpected")
		expectLegacyUnchanged(ctx, legacy)
	})
})

var _ = Describe("spec.configMigration", func() {
	dryRunCreate := func(ctx context.Context, c *metallbv1beta1.ConfigMigration) (*metallbv1beta1.MetalLB, error) {
		m := &metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: otherNS, Name: "metallb"},
			Spec: metallbv1beta1.MetalLBSpec{ConfigMigration: c}}
		return m, k8s.Create(ctx, m, client.DryRunAll)
	}

	It("defaults to the ConfigMap config in mode Apply", func(ctx context.Context) {
		m, err := dryRunCreate(ctx, &metallbv1beta1.ConfigMigration{})
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Spec.ConfigMigration).To(Equal(&metallbv1beta1.ConfigMigration{ConfigMapName: "config",
			Mode: metallbv1beta1.MigrationApply}))
	})

	It("refuses an unknown mode and a name that is not a ConfigMap's", func(ctx context.Context) {
		_, err := dryRunCreate(ctx, &metallbv1beta1.ConfigMigration{Mode: "Sometimes"})
		Expect(err).To(MatchError(And(ContainSubstring("spec.configMigration.mode"), ContainSubstring("Unsupported value"))))
		_, err = dryRunCreate(ctx, &metallbv1beta1.ConfigMigration{ConfigMapName: "Config_Map"})
		Expect(err).To(MatchError(ContainSubstring("spec.configMigration.configMapName")))
	})
})

// readLegacy reads a legacy ConfigMap of testdata.
func readLegacy(file string) *corev1.ConfigMap {
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		panic(err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(raw, cm); err != nil {
		panic(fmt.Sprintf("%s: %v", file, err))
	}
	return cm
}

// cliObjects are what the command line tool converts a testdata file into.
func cliObjects(file string) []migrate.Object {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	Expect(err).NotTo(HaveOccurred())
	conv, err := migrate.ConvertFile(raw, "")
	Expect(err).NotTo(HaveOccurred())
	return conv.Result.Objects()
}

// liveLegacy reads a legacy ConfigMap from the API server.
func liveLegacy(ctx context.Context, key types.NamespacedName) *corev1.ConfigMap {
	GinkgoHelper()
	cm := &corev1.ConfigMap{}
	Expect(k8s.Get(ctx, key, cm)).To(Succeed())
	return cm
}

// expectLegacyUnchanged checks that the operator neither changed nor took the legacy ConfigMap.
func expectLegacyUnchanged(ctx context.Context, created *corev1.ConfigMap) {
	GinkgoHelper()
	cm := liveLegacy(ctx, client.ObjectKeyFromObject(created))
	Expect(cm.ResourceVersion).To(Equal(created.ResourceVersion))
	Expect(cm.OwnerReferences).To(BeEmpty())
	Expect(cm.Finalizers).To(BeEmpty())
	Expect(cm.Data).To(Equal(created.Data))
}

// liveObject reads the object of obj's kind and name, nil if there is none.
func liveObject(ctx context.Context, obj migrate.Object) client.Object {
	GinkgoHelper()
	live := obj.DeepCopyObject().(client.Object)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(live), live); apierrors.IsNotFound(err) {
		return nil
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	return live
}

// decide compares a converted object with the live one, with the defaults of its CRD in the API server.
func decide(ctx context.Context, want migrate.Object, live client.Object) migrate.Action {
	GinkgoHelper()
	gvk := want.GetObjectKind().GroupVersionKind()
	mapping, err := k8s.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	Expect(err).NotTo(HaveOccurred())
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	Expect(k8s.Get(ctx, types.NamespacedName{Name: mapping.Resource.Resource + "." + gvk.Group}, crd)).To(Succeed())
	schema, err := migrate.VersionSchema(crd.Object, gvk.Version)
	Expect(err).NotTo(HaveOccurred())
	action, err := migrate.Decide(want, live, schema)
	Expect(err).NotTo(HaveOccurred())
	return action
}

// setMigration sets spec.configMigration of the metallb resource.
func setMigration(ctx context.Context, c *metallbv1beta1.ConfigMigration) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		m := getMetalLB(ctx, metallbKey)
		m.Spec.ConfigMigration = c
		return k8s.Update(ctx, m)
	})).To(Succeed())
}

// deleteMetalLB deletes the metallb resource, if there is one, waits until it is gone, and plays the
// garbage collector envtest does not run: the namespaced objects it owned go too, so that the next resource
// starts from nothing.
func deleteMetalLB(ctx context.Context) {
	GinkgoHelper()
	m := &metallbv1beta1.MetalLB{}
	if err := k8s.Get(ctx, metallbKey, m); apierrors.IsNotFound(err) {
		return
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(client.IgnoreNotFound(k8s.Delete(ctx, m))).To(Succeed())
	Eventually(gone(ctx, m)).Should(BeTrue())
	for _, kind := range []string{"Deployment", "DaemonSet"} {
		collectGarbage(ctx, m.UID, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind + "List"})
	}
	for _, kind := range []string{"Service", "ServiceAccount", "Secret", "ConfigMap"} {
		collectGarbage(ctx, m.UID, corev1.SchemeGroupVersion.WithKind(kind+"List"))
	}
	for _, kind := range []string{"Role", "RoleBinding"} {
		collectGarbage(ctx, m.UID, schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: kind + "List"})
	}
}

// collectGarbage deletes the objects of a kind in the namespace that owner owns.
func collectGarbage(ctx context.Context, owner types.UID, list schema.GroupVersionKind) {
	GinkgoHelper()
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(list)
	Expect(k8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
	for i := range l.Items {
		o := &l.Items[i]
		for _, ref := range o.OwnerReferences {
			if ref.UID == owner {
				o.SetGroupVersionKind(list.GroupVersion().WithKind(strings.TrimSuffix(list.Kind, "List")))
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, o))).To(Succeed())
			}
		}
	}
}

// configurationLists are the kinds a legacy configuration converts to, in an order they can be deleted in
// (a BFDProfile a peer refers to cannot be).
func configurationLists() []client.ObjectList {
	return []client.ObjectList{&metallbv1beta2.BGPPeerList{}, &metallbv1beta1.BGPAdvertisementList{},
		&metallbv1beta1.L2AdvertisementList{}, &metallbv1beta1.IPAddressPoolList{}, &metallbv1beta1.CommunityList{},
		&metallbv1beta1.BFDProfileList{}}
}

// configurationCount counts the configuration resources of the namespace.
func configurationCount(ctx context.Context) func() int {
	return func() int {
		n := 0
		for _, l := range configurationLists() {
			Expect(k8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
			n += len(itemsOf(l))
		}
		return n
	}
}

// deleteConfiguration deletes every configuration resource of the namespace and waits until they are gone.
func deleteConfiguration(ctx context.Context) {
	GinkgoHelper()
	for _, l := range configurationLists() {
		Expect(k8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
		for _, o := range itemsOf(l) {
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, o))).To(Succeed())
		}
	}
	Eventually(configurationCount(ctx)).Should(BeZero())
}

// itemsOf returns the items of a list.
func itemsOf(l client.ObjectList) []client.Object {
	GinkgoHelper()
	items, err := meta.ExtractList(l)
	Expect(err).NotTo(HaveOccurred())
	out := make([]client.Object, len(items))
	for i, it := range items {
		out[i] = it.(client.Object)
	}
	return out
}

// applyStream creates the objects of a YAML stream such as WriteYAML writes, as kubectl apply would.
func applyStream(ctx context.Context, stream string) {
	GinkgoHelper()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal(doc, &u.Object)).To(Succeed())
		if len(u.Object) == 0 {
			continue // the header comment
		}
		Expect(k8s.Create(ctx, u)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
	}
}

// installConfigWebhooks installs the configuration resources' webhooks of config/webhook, pointing at the
// suite's webhook server as envtest points the operator's, until the container ends.
func installConfigWebhooks(ctx context.Context) {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml"))
	Expect(err).NotTo(HaveOccurred())
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	Expect(yaml.UnmarshalStrict(raw, vwc)).To(Succeed())
	wo := env.WebhookInstallOptions
	base := "https://" + net.JoinHostPort(wo.LocalServingHost, strconv.Itoa(wo.LocalServingPort))
	for i := range vwc.Webhooks {
		w := &vwc.Webhooks[i]
		Expect(w.ClientConfig.Service).NotTo(BeNil())
		w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: new(base + *w.ClientConfig.Service.Path),
			CABundle: wo.LocalServingCAData}
	}
	vwc.Name = "ferrolb-config-webhooks"
	Expect(k8s.Create(ctx, vwc)).To(Succeed())
	DeferCleanup(func(ctx context.Context) { Expect(k8s.Delete(ctx, vwc)).To(Succeed()) })
	// In force once a pool outside the namespace is refused.
	Eventually(func() error {
		return k8s.Create(ctx, &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: otherNS, Name: "probe"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"10.99.0.0/24"}}}, client.DryRunAll)
	}).Should(MatchError(ContainSubstring("resource must be created in " + ns + " namespace")))
}

// startAllocation runs the controller binary's allocation reconcilers in-process, as an administrator (the
// controller's own permissions are test/controller's), until the container ends.
func startAllocation() {
	GinkgoHelper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 testenv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: new(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.SetupAllocation(mgr, controllers.AllocationOptions{Namespace: ns})).To(Succeed())
	DeferCleanup(run(mgr))
}

// createLoadBalancer creates a LoadBalancer Service in appsNS, deleted after the spec.
func createLoadBalancer(ctx context.Context, name string) *corev1.Service {
	GinkgoHelper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: appsNS, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: new(false),
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}}}
	Expect(k8s.Create(ctx, svc)).To(Succeed())
	DeferCleanup(func(ctx context.Context) { Expect(client.IgnoreNotFound(k8s.Delete(ctx, svc))).To(Succeed()) })
	return svc
}

// expectIngress waits until the Service has exactly the addresses ips.
func expectIngress(ctx context.Context, svc *corev1.Service, ips ...string) {
	GinkgoHelper()
	Eventually(func() []string {
		cur := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), cur)).To(Succeed())
		var got []string
		for _, in := range cur.Status.LoadBalancer.Ingress {
			got = append(got, in.IP)
		}
		return got
	}).Should(Equal(ips), "Service %s", svc.Name)
}

// installUnreachablePoolWebhook installs a webhook for CREATE of IPAddressPools that the API server cannot reach,
// with failurePolicy Fail, and waits until it is in force.
func installUnreachablePoolWebhook(ctx context.Context) *admissionregistrationv1.ValidatingWebhookConfiguration {
	GinkgoHelper()
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "unreachable"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "unreachable.ferrolb.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: new("https://127.0.0.1:1/validate")},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{"metallb.io"}, APIVersions: []string{"*"}, Resources: []string{"ipaddresspools"}}}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
		}}}
	Expect(k8s.Create(ctx, vwc)).To(Succeed())
	DeferCleanup(func(ctx context.Context) { Expect(client.IgnoreNotFound(k8s.Delete(ctx, vwc))).To(Succeed()) })
	Eventually(func() error {
		return k8s.Create(ctx, &metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{"10.99.0.0/24"}}}, client.DryRunAll)
	}).Should(MatchError(ContainSubstring("failed calling webhook")))
	return vwc
}
