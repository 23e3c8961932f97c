/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

const namespace = "ferrolb-system"

// cmpOptions compares configurations: selectors by their string form, addresses and prefixes by value.
var cmpOptions = cmp.Options{
	cmp.Comparer(func(a, b labels.Selector) bool { return a.String() == b.String() }),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

func objectMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

func ipPool(name string, addresses ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{ObjectMeta: objectMeta(name), Spec: v1beta1.IPAddressPoolSpec{Addresses: addresses}}
}

// bgpPeer returns a valid eBGP peer, changed by the mutators.
func bgpPeer(name string, mutators ...func(*v1beta2.BGPPeerSpec)) v1beta2.BGPPeer {
	p := v1beta2.BGPPeer{
		ObjectMeta: objectMeta(name),
		Spec:       v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, PeerAddress: "192.0.2.1"},
	}
	for _, mutate := range mutators {
		mutate(&p.Spec)
	}
	return p
}

func bgpAdvertisement(name string, spec v1beta1.BGPAdvertisementSpec) v1beta1.BGPAdvertisement {
	return v1beta1.BGPAdvertisement{ObjectMeta: objectMeta(name), Spec: spec}
}

func l2Advertisement(name string, spec v1beta1.L2AdvertisementSpec) v1beta1.L2Advertisement {
	return v1beta1.L2Advertisement{ObjectMeta: objectMeta(name), Spec: spec}
}

func node(name string, nodeLabels map[string]string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nodeLabels}}
}

func selector(matchLabels map[string]string) metav1.LabelSelector {
	return metav1.LabelSelector{MatchLabels: matchLabels}
}

func mustSelector(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func mustParse(t *testing.T, res Resources, opts ...Option) *Config {
	t.Helper()
	cfg, err := Parse(res, opts...)
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	return cfg
}

// errorLines returns the lines of err's message, nil for no error.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// parseErrors parses res and returns the lines of the error, checking that the error is an ErrorList.
func parseErrors(t *testing.T, res Resources, opts ...Option) []string {
	t.Helper()
	cfg, err := Parse(res, opts...)
	if err == nil {
		return nil
	}
	if cfg != nil {
		t.Errorf("Parse returned a Config with an error")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Errorf("Parse error is a %T, want an ErrorList", err)
	}
	return errorLines(err)
}
