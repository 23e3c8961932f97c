package install_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// TestBundleValidates runs the checks `operator-sdk bundle validate ./bundle` runs (the default validators and
// the object checks), plus the optional suite "operatorframework" (OperatorHub, its capabilities and
// categories, APIs removed by the Kubernetes version ferrolb is tested against, good practices). Left out:
// the multiple-architectures check, which inspects the images with a container engine, and the deprecated
// community-operators one. Warnings are logged; any error fails.
func TestBundleValidates(t *testing.T) {
	bundle, err := manifests.GetBundleFromDir(filepath.Join(testenv.RepoRoot(), "bundle"))
	if err != nil {
		t.Fatalf("loading bundle/ (make bundle): %v", err)
	}
	validators := validation.DefaultBundleValidators.WithValidators(
		validation.ObjectValidator,
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.AlphaDeprecatedAPIsValidator,
		validation.GoodPracticesValidator,
	)
	objs := append(bundle.ObjectsToValidate(), map[string]string{"k8s-version": "1.37"})
	for _, r := range validators.Validate(objs...) {
		for _, w := range r.Warnings {
			t.Logf("warning: %s: %v", r.Name, w)
		}
		for _, e := range r.Errors {
			t.Errorf("%s: %v", r.Name, e)
		}
	}
}

// TestBundleContent checks what OLM installs from bundle/ against the install contract.
func TestBundleContent(t *testing.T) {
	bundle, err := manifests.GetBundleFromDir(filepath.Join(testenv.RepoRoot(), "bundle"))
	if err != nil {
		t.Fatalf("loading bundle/ (make bundle): %v", err)
	}
	csv := bundle.CSV
	if got := csv.Spec.InstallModes; !slices.Contains(got, operatorsv1alpha1.InstallMode{Type: operatorsv1alpha1.InstallModeTypeAllNamespaces, Supported: true}) {
		t.Errorf("install modes %v: AllNamespaces is not supported", got)
	}
	if csv.Spec.MinKubeVersion == "" {
		t.Error("no minKubeVersion")
	}
	if want := []operatorsv1alpha1.RelatedImage{{Name: "ferrolb", Image: releaseImage}}; !cmp.Equal(want, csv.Spec.RelatedImages) {
		t.Errorf("relatedImages %v, want %v", csv.Spec.RelatedImages, want)
	}

	var owned []string
	for _, d := range csv.Spec.CustomResourceDefinitions.Owned {
		owned = append(owned, d.Name+"/"+d.Version)
	}
	var crds []string
	for _, crd := range bundle.V1CRDs {
		for _, v := range crd.Spec.Versions {
			crds = append(crds, crd.Name+"/"+v.Name)
		}
	}
	slices.Sort(crds)
	if diff := cmp.Diff(crds, owned); diff != "" || !slices.Contains(owned, "bgppeers.metallb.io/v1beta2") {
		t.Errorf("owned CRDs are not the bundle's CRD versions (-bundle +owned):\n%s", diff)
	}

	var examples []struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     map[string]any
	}
	if err := json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples: %v", err)
	}
	empty := false
	for _, e := range examples {
		empty = empty || e.Kind == "MetalLB" && e.Metadata.Name == "metallb" && e.Spec != nil && len(e.Spec) == 0
	}
	if !empty {
		t.Error("alm-examples has no MetalLB metallb with an empty spec")
	}

	deployments := map[string]operatorsv1alpha1.StrategyDeploymentSpec{}
	for _, d := range csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs {
		deployments[d.Name] = d
	}
	server, ok := deployments["ferrolb-webhook-server"]
	if _, operator := deployments["ferrolb-operator"]; !ok || !operator || len(deployments) != 2 {
		t.Fatalf("%d deployments, want ferrolb-operator and ferrolb-webhook-server", len(deployments))
	}
	c := server.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--disable-cert-rotation") || len(c.VolumeMounts) != 0 {
		t.Errorf("webhook server: args %v, mounts %v; want --disable-cert-rotation and no mount where OLM puts its certificate", c.Args, c.VolumeMounts)
	}

	var accounts []string
	for _, p := range csv.Spec.InstallStrategy.StrategySpec.ClusterPermissions {
		accounts = append(accounts, p.ServiceAccountName)
	}
	if want := []string{"controller", "ferrolb-operator", "ferrolb-webhook-server", "speaker"}; !cmp.Equal(want, accounts) {
		t.Errorf("clusterPermissions for %v, want %v", accounts, want)
	}

	type hook struct {
		Type       operatorsv1alpha1.WebhookAdmissionType
		Path       string
		Deployment string
		Port       int32
		Target     string
	}
	var hooks []hook
	for _, w := range csv.Spec.WebhookDefinitions {
		hooks = append(hooks, hook{w.Type, *w.WebhookPath, w.DeploymentName, w.ContainerPort, w.TargetPort.String()})
	}
	var want []hook
	for _, p := range []string{webhook.PathBFDProfile, webhook.PathBGPAdvertisement, webhook.PathBGPPeer, webhook.PathCommunity,
		webhook.PathIPAddressPool, webhook.PathL2Advertisement, webhook.PathMetalLB} {
		want = append(want, hook{operatorsv1alpha1.ValidatingAdmissionWebhook, p, "ferrolb-webhook-server", 443, "9443"})
	}
	want = append(want, hook{operatorsv1alpha1.ConversionWebhook, webhook.PathConvert, "ferrolb-webhook-server", 443, "9443"})
	if diff := cmp.Diff(want, hooks); diff != "" {
		t.Errorf("webhookdefinitions (-want +got):\n%s", diff)
	}
}
