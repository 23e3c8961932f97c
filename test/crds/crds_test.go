package crds_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/test/testenv"
)

const ns = "metallb-system"

var _ = Describe("Valid manifests", Ordered, func() {
	It("applies every seed manifest unchanged", func(ctx context.Context) {
		applyFiles(ctx, glob("testdata/seeds/*.yaml"))
	})

	It("applies every sample in config/samples", func(ctx context.Context) {
		var files []string
		for _, f := range glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "*.yaml")) {
			if filepath.Base(f) != "kustomization.yaml" {
				files = append(files, f)
			}
		}
		Expect(files).NotTo(BeEmpty())
		applyFiles(ctx, files)
	})

	DescribeTable("reads back with MetalLB's defaults applied",
		func(ctx context.Context, apiVersion, kind, name string, want map[string]any) {
			obj := get(ctx, apiVersion, kind, name)
			for path, value := range want {
				got, found, err := unstructured.NestedFieldNoCopy(obj.Object, strings.Split(path, ".")...)
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(BeTrue(), "%s %s has no %s", kind, name, path)
				Expect(got).To(BeEquivalentTo(value), "%s %s: %s", kind, name, path)
			}
		},
		Entry("seed pool", "metallb.io/v1beta1", "IPAddressPool", "pool-lan",
			map[string]any{"spec.autoAssign": true, "spec.avoidBuggyIPs": false}),
		Entry("seed BGPAdvertisement without spec", "metallb.io/v1beta1", "BGPAdvertisement", "bgp-advertisement",
			map[string]any{"spec.aggregationLength": 32, "spec.aggregationLengthV6": 128}),
		Entry("seed BGPPeer", "metallb.io/v1beta2", "BGPPeer", "router-2001",
			map[string]any{"spec.peerPort": 179, "spec.disableMP": false, "spec.dualStackAddressFamily": false}),
		Entry("seed L2Advertisement", "metallb.io/v1beta1", "L2Advertisement", "pool-lan",
			map[string]any{"spec.ipAddressPools": []any{"pool-lan"}}),
		Entry("sample pool", "metallb.io/v1beta1", "IPAddressPool", "first-pool",
			map[string]any{"spec.autoAssign": true, "spec.avoidBuggyIPs": false}),
		Entry("sample pool with autoAssign false", "metallb.io/v1beta1", "IPAddressPool", "web-pool",
			map[string]any{"spec.autoAssign": false, "spec.serviceAllocation.priority": 50}),
		Entry("sample aggregated advertisement", "metallb.io/v1beta1", "BGPAdvertisement", "aggregated",
			map[string]any{"spec.aggregationLength": 24, "spec.aggregationLengthV6": 124}),
		Entry("sample advertisement with defaults", "metallb.io/v1beta1", "BGPAdvertisement", "edge",
			map[string]any{"spec.aggregationLength": 32, "spec.aggregationLengthV6": 128, "spec.localPref": 100}),
		Entry("sample 4-byte ASN peer", "metallb.io/v1beta2", "BGPPeer", "rack-r1",
			map[string]any{"spec.myASN": 4200000001, "spec.peerASN": 4200000001, "spec.peerPort": 1179}),
		Entry("sample v1beta1 peer read as v1beta2", "metallb.io/v1beta2", "BGPPeer", "legacy-router",
			map[string]any{"spec.peerAddress": "10.0.0.2", "spec.peerPort": 179}),
	)

	It("warns that BGPPeer v1beta1 is deprecated", func() {
		Expect(warnings.all()).To(ContainElement("v1beta1 is deprecated, please use v1beta2"))
	})

	DescribeTable("documents every field for kubectl explain",
		func(resource, apiVersion, want string) {
			// The API server publishes a new CRD's OpenAPI asynchronously, some time after the CRD is served.
			Eventually(func() (string, error) {
				out, stderr, err := env.ControlPlane.KubeCtl().Run("explain", resource, "--api-version="+apiVersion)
				if err != nil {
					return "", fmt.Errorf("kubectl explain: %w: %s", err, readAll(stderr))
				}
				return readAll(out), nil
			}).WithTimeout(30 * time.Second).Should(ContainSubstring(want))
		},
		Entry(nil, "bgppeers.spec.peerPort", "metallb.io/v1beta2", "peerPort is the TCP port to dial, in the range 1-16384."),
		Entry(nil, "ipaddresspools.spec.autoAssign", "metallb.io/v1beta1", "autoAssign lets the controller pick addresses"),
		Entry(nil, "metallbs.spec.nodeSelector", "metallb.io/v1beta1", "nodeSelector limits the nodes the speaker DaemonSet runs on"),
		Entry(nil, "configurationstates.status.result", "metallb.io/v1beta1", "result is Valid, Invalid"),
	)

	It("refuses a change of enableGracefulRestart on an existing peer", func(ctx context.Context) {
		peer := &metallbv1beta2.BGPPeer{}
		peer.Namespace, peer.Name = ns, "graceful"
		peer.Spec = metallbv1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, PeerAddress: "10.0.0.9", EnableGracefulRestart: true}
		Expect(k8s.Create(ctx, peer)).To(Succeed())
		peer.Spec.EnableGracefulRestart = false
		expectInvalid(k8s.Update(ctx, peer), "spec.enableGracefulRestart", "EnableGracefulRestart cannot be changed after creation")
		peer.Spec.EnableGracefulRestart = true
		peer.Spec.PeerAddress = "10.0.0.10"
		Expect(k8s.Update(ctx, peer)).To(Succeed(), "other fields stay mutable")
	})

	It("keeps the node of a ServiceL2Status immutable", func(ctx context.Context) {
		st := obj("metallb.io/v1beta1", "ServiceL2Status", "l2-immutable", nil)
		Expect(k8s.Create(ctx, st)).To(Succeed())
		Expect(unstructured.SetNestedField(st.Object, "node-a", "status", "node")).To(Succeed())
		Expect(k8s.Status().Update(ctx, st)).To(Succeed())
		Expect(unstructured.SetNestedField(st.Object, "node-b", "status", "node")).To(Succeed())
		expectInvalid(k8s.Status().Update(ctx, st), "status.node", "Value is immutable")
	})
})

var _ = Describe("Invalid manifests", func() {
	DescribeTable("are refused by the schema or CEL with the field named",
		func(ctx context.Context, apiVersion, kind string, spec map[string]any, field, message string) {
			name := "invalid-" + strings.ToLower(kind)
			u := obj(apiVersion, kind, name, spec)
			expectInvalid(k8s.Create(ctx, u), field, message)
		},
		Entry("BFDProfile receiveInterval below 10", "metallb.io/v1beta1", "BFDProfile",
			map[string]any{"receiveInterval": 5}, "spec.receiveInterval", "greater than or equal to 10"),
		Entry("BFDProfile detectMultiplier below 2", "metallb.io/v1beta1", "BFDProfile",
			map[string]any{"detectMultiplier": 1}, "spec.detectMultiplier", "greater than or equal to 2"),
		Entry("BFDProfile transmitInterval above 60000", "metallb.io/v1beta1", "BFDProfile",
			map[string]any{"transmitInterval": 60001}, "spec.transmitInterval", "less than or equal to 60000"),
		Entry("BFDProfile echoInterval below 10", "metallb.io/v1beta1", "BFDProfile",
			map[string]any{"echoInterval": 9}, "spec.echoInterval", "greater than or equal to 10"),
		Entry("BFDProfile minimumTtl above 254", "metallb.io/v1beta1", "BFDProfile",
			map[string]any{"minimumTtl": 255}, "spec.minimumTtl", "less than or equal to 254"),
		Entry("BGPAdvertisement aggregationLength 33", "metallb.io/v1beta1", "BGPAdvertisement",
			map[string]any{"aggregationLength": 33}, "spec.aggregationLength", "less than or equal to 32"),
		Entry("BGPAdvertisement aggregationLength 0", "metallb.io/v1beta1", "BGPAdvertisement",
			map[string]any{"aggregationLength": 0}, "spec.aggregationLength", "greater than or equal to 1"),
		Entry("BGPAdvertisement aggregationLengthV6 129", "metallb.io/v1beta1", "BGPAdvertisement",
			map[string]any{"aggregationLengthV6": 129}, "spec.aggregationLengthV6", "less than or equal to 128"),
		Entry("BGPAdvertisement serviceSelectors with aggregationLength", "metallb.io/v1beta1", "BGPAdvertisement",
			map[string]any{"aggregationLength": 24, "serviceSelectors": []any{map[string]any{"matchLabels": map[string]any{"a": "b"}}}},
			"spec", "serviceSelectors and aggregationLength are mutually exclusive"),
		Entry("BGPPeer peerPort 0", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerPort": 0}), "spec.peerPort", "greater than or equal to 1"),
		Entry("BGPPeer peerPort above 16384", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerPort": 16385}), "spec.peerPort", "less than or equal to 16384"),
		Entry("BGPPeer v1beta1 peerPort above 16384", "metallb.io/v1beta1", "BGPPeer",
			peer(map[string]any{"peerPort": 20000}), "spec.peerPort", "less than or equal to 16384"),
		Entry("BGPPeer myASN 0", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"myASN": 0}), "spec.myASN", "missing local ASN"),
		Entry("BGPPeer myASN above 32 bits", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"myASN": 4294967296}), "spec.myASN", "less than or equal to 4294967295"),
		Entry("BGPPeer both peerASN and dynamicASN", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"dynamicASN": "external"}), "spec.dynamicASN", "both peer ASN and dynamicASN specified"),
		Entry("BGPPeer neither peerASN nor dynamicASN", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerASN": nil}), "spec.peerASN", "missing peer ASN and dynamicASN"),
		Entry("BGPPeer unknown dynamicASN", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerASN": nil, "dynamicASN": "sideways"}), "spec.dynamicASN", "supported values"),
		Entry("BGPPeer both peerAddress and interface", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"interface": "eth1"}), "spec.interface", "peer has both Address and Interface specified"),
		Entry("BGPPeer neither peerAddress nor interface", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerAddress": nil}), "spec.peerAddress", "peer has no Address or Interface specified"),
		Entry("BGPPeer peerAddress not an IP", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerAddress": "router.example"}), "spec.peerAddress", "invalid BGPPeer address"),
		Entry("BGPPeer sourceAddress not an IP", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"sourceAddress": "10.0.0"}), "spec.sourceAddress", "invalid source IP"),
		Entry("BGPPeer routerID not an IP", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"routerID": "1.2.3"}), "spec.routerID", "invalid router ID"),
		Entry("BGPPeer ebgpMultiHop on an iBGP session", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"peerASN": 64500, "ebgpMultiHop": true}), "spec.ebgpMultiHop", "invalid ebgp-multihop parameter set for an ibgp peer"),
		Entry("BGPPeer both password and passwordSecret", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"password": "p", "passwordSecret": map[string]any{"name": "s"}}), "spec.passwordSecret", "can not have both password and secret ref set"),
		Entry("BGPPeer keepaliveTime above holdTime", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"holdTime": "9s", "keepaliveTime": "10s"}), "spec.keepaliveTime", "must be lower than holdTime"),
		Entry("BGPPeer holdTime below 3s", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"holdTime": "2s"}), "spec.holdTime", "must be 0 or >=3s"),
		Entry("BGPPeer connectTime 0", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"connectTime": "0s"}), "spec.connectTime", "connect time should be between 1 seconds to 65535"),
		Entry("BGPPeer connectTime above 65535s", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"connectTime": "65536s"}), "spec.connectTime", "connect time should be between 1 seconds to 65535"),
		Entry("BGPPeer connectTime not whole seconds", "metallb.io/v1beta2", "BGPPeer",
			peer(map[string]any{"connectTime": "1500ms"}), "spec.connectTime", "connect time should contain a whole number of seconds"),
		Entry("IPAddressPool without addresses", "metallb.io/v1beta1", "IPAddressPool",
			map[string]any{"addresses": []any{}}, "spec.addresses", "should have at least 1 items"),
		Entry("IPAddressPool without spec", "metallb.io/v1beta1", "IPAddressPool",
			nil, "spec", "Required value"),
		Entry("L2Advertisement preferred node weight 0", "metallb.io/v1beta1", "L2Advertisement",
			map[string]any{"preferredNodeSelectors": []any{map[string]any{"weight": 0, "preference": map[string]any{}}}},
			"spec.preferredNodeSelectors[0].weight", "greater than or equal to 1"),
		Entry("Community standard value above 16 bits", "metallb.io/v1beta1", "Community",
			map[string]any{"communities": []any{map[string]any{"name": "a", "value": "65536:1"}}},
			"spec.communities[0].value", "invalid community value"),
		Entry("Community large value with three fields", "metallb.io/v1beta1", "Community",
			map[string]any{"communities": []any{map[string]any{"name": "a", "value": "large:1:2"}}},
			"spec.communities[0].value", "invalid community value"),
		Entry("MetalLB logLevel verbose", "metallb.io/v1beta1", "MetalLB",
			map[string]any{"logLevel": "verbose"}, "spec.logLevel", "supported values"),
		Entry("MetalLB invalid loadBalancerClass", "metallb.io/v1beta1", "MetalLB",
			map[string]any{"loadBalancerClass": "-ferrolb/bad class"}, "spec.loadBalancerClass", "should match"),
		Entry("MetalLB toleration seconds without NoExecute", "metallb.io/v1beta1", "MetalLB",
			map[string]any{"speakerTolerations": []any{map[string]any{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 30}}},
			"spec.speakerTolerations", "SpeakerToleration effect must be NoExecute when tolerationSeconds is set"),
		Entry("MetalLB controller toleration seconds without NoExecute", "metallb.io/v1beta1", "MetalLB",
			map[string]any{"controllerTolerations": []any{map[string]any{"key": "k", "operator": "Exists", "tolerationSeconds": 30}}},
			"spec.controllerTolerations", "ControllerToleration effect must be NoExecute when tolerationSeconds is set"),
	)
})

// peer is a valid v1beta2 BGPPeer spec with the given fields changed; a nil value removes the field.
func peer(changes map[string]any) map[string]any {
	spec := map[string]any{"myASN": 64500, "peerASN": 64501, "peerAddress": "10.0.0.1"}
	for k, v := range changes {
		if v == nil {
			delete(spec, k)
		} else {
			spec[k] = v
		}
	}
	return spec
}

func obj(apiVersion, kind, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}

func get(ctx context.Context, apiVersion, kind, name string) *unstructured.Unstructured {
	u := obj(apiVersion, kind, name, nil)
	ExpectWithOffset(1, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, u)).To(Succeed())
	return u
}

// expectInvalid asserts that err is the API server refusing an object as Invalid, with a cause naming field
// and a message containing message.
func expectInvalid(err error, field, message string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
	var status apierrors.APIStatus
	Expect(errors.As(err, &status)).To(BeTrue())
	var fields []string
	for _, c := range status.Status().Details.Causes {
		fields = append(fields, c.Field)
		if c.Field == field {
			Expect(c.Message).To(ContainSubstring(message), "cause for %s", field)
			return
		}
	}
	Fail("no cause for field " + field + " in " + strings.Join(fields, ", ") + ": " + err.Error())
}

func readAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}

func glob(pattern string) []string {
	files, err := filepath.Glob(pattern)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, files).NotTo(BeEmpty(), pattern)
	return files
}

// applyFiles server-side applies every document of every file, as `kubectl apply --server-side` would.
func applyFiles(ctx context.Context, files []string) {
	GinkgoHelper()
	for _, f := range files {
		data, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			err := dec.Decode(&u.Object)
			if errors.Is(err, io.EOF) {
				break
			}
			Expect(err).NotTo(HaveOccurred(), f)
			if len(u.Object) == 0 {
				continue
			}
			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("ferrolb-test"))).
				To(Succeed(), "%s: %s %s", filepath.Base(f), u.GetKind(), u.GetName())
		}
	}
}
