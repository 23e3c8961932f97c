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

package migrate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// problem is what a test expects of one Error: the object and key exactly, a part of the detail.
type problem struct {
	object, path, key, detail string
}

// TestConversionErrors feeds configurations MetalLB's converter gets wrong, or MetalLB v0.12 refused, and
// expects every problem, in order, naming the pool, peer or profile and the key.
func TestConversionErrors(t *testing.T) {
	const peer = "peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n"
	tests := []struct {
		name  string
		input string
		want  []problem
	}{
		{
			name:  "unknown protocol l2",
			input: "address-pools:\n- name: office\n  protocol: l2\n  addresses: [10.0.0.0/24]\n",
			want:  []problem{{`pool "office"`, "address-pools[0]", "protocol", `unknown protocol "l2", must be "bgp" or "layer2"`}},
		},
		{
			name:  "missing protocol",
			input: "address-pools:\n- name: office\n  addresses: [10.0.0.0/24]\n",
			want:  []problem{{`pool "office"`, "address-pools[0]", "protocol", "missing protocol"}},
		},
		{
			name:  "name collision after normalisation",
			input: "address-pools:\n- name: pool-a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: Pool_A\n  protocol: layer2\n  addresses: [10.0.1.0/24]\n",
			want:  []problem{{`pool "Pool_A"`, "address-pools[1]", "name", `"Pool_A" becomes "pool-a", which is already the name of pool "pool-a" (address-pools[0])`}},
		},
		{
			name:  "duplicate pool name",
			input: "address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: a\n  protocol: layer2\n  addresses: [10.0.1.0/24]\n",
			want:  []problem{{`pool "a"`, "address-pools[1]", "name", `"a" is already the name of pool "a" (address-pools[0])`}},
		},
		{
			name:  "BFD profile collision after normalisation",
			input: "bfd-profiles:\n- name: Fast\n- name: fast\n",
			want:  []problem{{`bfd profile "fast"`, "bfd-profiles[1]", "name", `"fast" is already the name of bfd profile "Fast" (bfd-profiles[0])`}},
		},
		{
			name:  "pool name without a letter",
			input: "address-pools:\n- name: \"2024\"\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n",
			want:  []problem{{`pool "2024"`, "address-pools[0]", "name", "has no letter"}},
		},
		{
			name:  "pool without a name",
			input: "address-pools:\n- protocol: layer2\n  addresses: [10.0.0.0/24]\n",
			want:  []problem{{"pool without a name", "address-pools[0]", "name", "missing name"}},
		},
		{
			name:  "unknown pool key with a hint",
			input: "address-pools:\n- name: office\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n  autoAssign: false\n",
			want:  []problem{{`pool "office"`, "address-pools[0]", "autoAssign", `unknown key, did you mean "auto-assign"?`}},
		},
		{
			name:  "unknown top-level key",
			input: "adress-pools:\n- name: office\n",
			want:  []problem{{"configuration", "", "adress-pools", "unknown key"}},
		},
		{
			name:  "unknown keys of a peer and its node selector, in order",
			input: peer + "  vrf: red\n  node-selectors:\n  - matchLabels: {a: b}\n",
			want: []problem{
				{"peer1 at 10.0.0.1", "peers[0]", "node-selectors[0].matchLabels", `unknown key, did you mean "match-labels"?`},
				{"peer1 at 10.0.0.1", "peers[0]", "vrf", "unknown key"},
			},
		},
		{
			name:  "hold time below 3s",
			input: peer + "  hold-time: 2s\n",
			want:  []problem{{"peer1 at 10.0.0.1", "peers[0]", "hold-time", `invalid hold time "2s": must be 0 or >=3s`}},
		},
		{
			name:  "hold time not a duration string; type problems stop before conversion",
			input: peer + "  hold-time: 90\n  keepalive-time: soon\n",
			want: []problem{
				{"peer1 at 10.0.0.1", "peers[0]", "hold-time", "must be a string, got the number 90"},
			},
		},
		{
			name:  "unparsable keepalive time",
			input: peer + "  keepalive-time: soon\n",
			want:  []problem{{"peer1 at 10.0.0.1", "peers[0]", "keepalive-time", `invalid keepalive time "soon"`}},
		},
		{
			name:  "keepalive above hold time (config.Parse)",
			input: peer + "  hold-time: 9s\n  keepalive-time: 10s\n",
			want:  []problem{{"peer1 at 10.0.0.1", "peers[0]", "keepalive-time", "must be lower than holdTime"}},
		},
		{
			name:  "values of the wrong type",
			input: "peers:\n- my-asn: AS64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n  password: 0123\n  peer-port: 70000\naddress-pools:\n- name: office\n  protocol: layer2\n  addresses: 10.0.0.0/24\n  auto-assign: maybe\n",
			want: []problem{
				{"peer1 at 10.0.0.1", "peers[0]", "my-asn", `must be an integer, got the string "AS64500"`},
				{"peer1 at 10.0.0.1", "peers[0]", "peer-port", "must be an integer from 0 to 65535, got 70000"},
				{"peer1 at 10.0.0.1", "peers[0]", "password", "must be a string, got the number 83 (quote it)"},
				{`pool "office"`, "address-pools[0]", "addresses", "must be a list"},
				{`pool "office"`, "address-pools[0]", "auto-assign", `must be true or false, got the string "maybe"`},
			},
		},
		{
			name:  "layer2 pool with bgp-advertisements",
			input: "address-pools:\n- name: office\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - localpref: 100\n",
			want:  []problem{{`pool "office"`, "address-pools[0]", "bgp-advertisements", "a layer2 pool cannot have bgp-advertisements"}},
		},
		{
			name:  "invalid address (config.Parse)",
			input: "address-pools:\n- name: office\n  protocol: layer2\n  addresses:\n  - 10.0.0.0/24\n  - 10.10.XX.200-10.10.XX.250\n",
			want:  []problem{{`pool "office"`, "address-pools[0]", "addresses[1]", `invalid CIDR "10.10.XX.200-10.10.XX.250" in pool "office"`}},
		},
		{
			name:  "overlapping pools (config.Parse)",
			input: "address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: b\n  protocol: bgp\n  addresses: [10.0.0.128/25]\n",
			want:  []problem{{`pool "b"`, "address-pools[1]", "addresses[0]", "overlaps with already defined CIDR"}},
		},
		{
			name:  "peer referencing a missing BFD profile (config.Parse)",
			input: peer + "  bfd-profile: Slow_Profile\nbfd-profiles:\n- name: fast\n",
			want:  []problem{{"peer1 at 10.0.0.1", "peers[0]", "bfd-profile", "referencing non existing bfd profile slow-profile"}},
		},
		{
			name:  "undefined community alias (config.Parse)",
			input: peer + "address-pools:\n- name: dc\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - aggregation-length: 32\n  - aggregation-length: 24\n    communities: [65000:1, no-advertise]\n",
			want:  []problem{{`pool "dc"`, "address-pools[0]", "bgp-advertisements[1].communities[1]", "no-advertise"}},
		},
		{
			name:  "invalid community value (config.Parse)",
			input: "bgp-communities:\n  ok: 65535:65281\n  bad: 70000:1\n",
			want:  []problem{{"bgp-communities", "", `"bad"`, "70000:1"}},
		},
		{
			name:  "community value not a string",
			input: "bgp-communities:\n  bad: 12\n",
			want:  []problem{{"bgp-communities", "", `"bad"`, "must be a community value"}},
		},
		{
			name:  "missing ASN and ebgp-multihop on an iBGP peer (config.Parse)",
			input: "peers:\n- peer-asn: 64501\n  peer-address: 10.0.0.1\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.0.0.2\n  ebgp-multihop: true\n",
			want: []problem{
				{"peer1 at 10.0.0.1", "peers[0]", "my-asn", "missing local ASN"},
				{"peer2 at 10.0.0.2", "peers[1]", "ebgp-multihop", "invalid ebgp-multihop parameter set for an ibgp peer"},
			},
		},
		{
			name:  "BFD value out of range (config.Parse)",
			input: "bfd-profiles:\n- name: fast\n  receive-interval: 5\n",
			want:  []problem{{`bfd profile "fast"`, "bfd-profiles[0]", "receive-interval", "5"}},
		},
		{
			name:  "entries that are not mappings",
			input: "peers:\n- 10.0.0.1\naddress-pools: [office]\n",
			want: []problem{
				{"peer1", "peers[0]", "", "each entry of peers must be a mapping"},
				{"pool without a name", "address-pools[0]", "", "each entry of address-pools must be a mapping"},
			},
		},
		{
			name:  "top level a list",
			input: "- name: office\n",
			want:  []problem{{"configuration", "", "", "must be a mapping"}},
		},
		{
			name: "problems of every object, in document order",
			input: "address-pools:\n- name: a\n  protocol: l2\n  addresses: [10.0.0.0/24]\n- name: b\n  protocol: layer3\n  addresses: [10.0.1.0/24]\n" +
				peer + "  hold-time: 1s\n",
			want: []problem{
				{"peer1 at 10.0.0.1", "peers[0]", "hold-time", "must be 0 or >=3s"},
				{`pool "a"`, "address-pools[0]", "protocol", `unknown protocol "l2"`},
				{`pool "b"`, "address-pools[1]", "protocol", `unknown protocol "layer3"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := convertPayload(tt.input)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("got %v, want an ErrorList", err)
			}
			var got []problem
			for _, e := range list {
				got = append(got, problem{e.Object, e.Path, e.Key, e.Detail})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.object != w.object || g.path != w.path || g.key != w.key || !strings.Contains(g.detail, w.detail) {
					t.Errorf("problem %d:\n got %#v\nwant %#v (detail as a substring)", i, g, w)
				}
				// The message names the object and the key.
				msg := list[i].Error()
				if !strings.Contains(msg, w.object) || !strings.Contains(msg, w.key) {
					t.Errorf("message %q does not name %s and %s", msg, w.object, w.key)
				}
			}
			// The same input gives the same message.
			if again := convertPayload(tt.input); again == nil || again.Error() != err.Error() {
				t.Errorf("second run gave %v, want %v", again, err)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	for _, input := range []string{"", "  \n", "null", "# only a comment\n", "{}", "peers: []\naddress-pools: []\n"} {
		if err := convertPayload(input); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: got %v, want ErrEmpty", input, err)
		}
	}
}

func TestConvertNamespace(t *testing.T) {
	legacy := &Legacy{Pools: []Pool{{Name: "a", Protocol: ProtocolLayer2, Addresses: []string{"10.0.0.0/24"}}}}
	for _, ns := range []string{"", "Metallb", "metallb_system", strings.Repeat("a", 64)} {
		if _, err := Convert(legacy, ns); err == nil || !strings.Contains(err.Error(), "invalid namespace") {
			t.Errorf("Convert in namespace %q: got %v, want an invalid namespace error", ns, err)
		}
	}
	res, err := Convert(legacy, "lb")
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range res.Objects() {
		if obj.GetNamespace() != "lb" {
			t.Errorf("%s %s is in namespace %q, want lb", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), obj.GetNamespace())
		}
	}
}

func TestErrorListMessage(t *testing.T) {
	one := &Error{Object: `pool "a"`, Path: "address-pools[0]", Key: "protocol", Detail: "missing protocol"}
	top := &Error{Object: "configuration", Key: "x", Detail: "unknown key"}
	whole := &Error{Object: "peer1", Path: "peers[0]", Detail: "must be a mapping"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "one", err: ErrorList{one}, want: `pool "a" (address-pools[0]): protocol: missing protocol`},
		{name: "no path", err: top, want: "configuration: x: unknown key"},
		{name: "no key", err: whole, want: "peer1 (peers[0]): must be a mapping"},
		{name: "several", err: ErrorList{one, top}, want: "2 problems:\n  pool \"a\" (address-pools[0]): protocol: missing protocol\n  configuration: x: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// convertPayload decodes and converts a bare configuration.
func convertPayload(payload string) error {
	legacy, err := Decode([]byte(payload))
	if err != nil {
		return err
	}
	_, err = Convert(legacy, DefaultNamespace)
	return err
}
