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
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Decode parses the payload of a legacy ConfigMap's `config` key.
//
// Decoding is strict, as MetalLB v0.12's own parser was: a key the legacy schema does not have, a key given
// twice or a value of the wrong type is an error naming the pool, peer or profile and the key, never
// ignored. Every such problem is reported, as an ErrorList. Values are not interpreted here: Convert checks
// them. A blank or null payload is ErrEmpty.
func Decode(data []byte) (*Legacy, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	doc, err := yamlValue(data)
	if err != nil {
		return nil, fmt.Errorf("parsing the legacy configuration: %w", err)
	}
	if doc == nil {
		return nil, ErrEmpty
	}
	d := &decoder{}
	top, ok := doc.(map[string]any)
	if !ok {
		d.fail(&Error{Object: "configuration", Detail: fmt.Sprintf(
			"must be a mapping with the keys peers, bgp-communities, address-pools and bfd-profiles, got %s", describe(doc))})
		return nil, d.errs
	}
	legacy := d.legacy(top)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return legacy, nil
}

// yamlValue parses one YAML document into JSON values (map[string]any, []any, string, json.Number, bool or
// nil). Duplicate keys are an error. Numbers stay json.Number, so large integers are not rounded.
func yamlValue(data []byte) (any, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decoder collects the problems of one Decode call.
type decoder struct {
	errs ErrorList
}

func (d *decoder) fail(e *Error) {
	d.errs = append(d.errs, e)
}

// Legacy keys, in the order of the legacy schema; problems are reported in this order.
var (
	topKeys      = []string{"peers", "bgp-communities", "address-pools", "bfd-profiles"}
	peerKeys     = []string{"my-asn", "peer-asn", "peer-address", "source-address", "peer-port", "hold-time", "keepalive-time", "router-id", "node-selectors", "password", "bfd-profile", "ebgp-multihop"}
	selectorKeys = []string{"match-labels", "match-expressions"}
	exprKeys     = []string{"key", "operator", "values"}
	poolKeys     = []string{"name", "protocol", "addresses", "auto-assign", "avoid-buggy-ips", "bgp-advertisements"}
	advKeys      = []string{"aggregation-length", "aggregation-length-v6", "localpref", "communities"}
	bfdKeys      = []string{"name", "receive-interval", "transmit-interval", "detect-multiplier", "echo-interval", "echo-mode", "passive-mode", "minimum-ttl"}
)

func (d *decoder) legacy(top map[string]any) *Legacy {
	m := d.mapping(top, "configuration", "", "", topKeys)
	legacy := &Legacy{}
	for i, v := range m.list("peers") {
		path := fmt.Sprintf("peers[%d]", i)
		object := peerObject(i, v)
		if pm, ok := m.entry(v, object, path, "peers", peerKeys); ok {
			legacy.Peers = append(legacy.Peers, d.peer(pm))
		}
	}
	if v, ok := m.value("bgp-communities"); ok {
		legacy.BGPCommunities = d.communities(m, v)
	}
	for i, v := range m.list("address-pools") {
		path := fmt.Sprintf("address-pools[%d]", i)
		if pm, ok := m.entry(v, namedObject("pool", v), path, "address-pools", poolKeys); ok {
			legacy.Pools = append(legacy.Pools, d.pool(pm))
		}
	}
	for i, v := range m.list("bfd-profiles") {
		path := fmt.Sprintf("bfd-profiles[%d]", i)
		if bm, ok := m.entry(v, namedObject("bfd profile", v), path, "bfd-profiles", bfdKeys); ok {
			legacy.BFDProfiles = append(legacy.BFDProfiles, d.bfdProfile(bm))
		}
	}
	m.finish()
	return legacy
}

func (d *decoder) peer(m *mapping) Peer {
	p := Peer{
		MyASN:         uint32(m.number("my-asn", 0, math.MaxUint32)),
		PeerASN:       uint32(m.number("peer-asn", 0, math.MaxUint32)),
		PeerAddress:   m.str("peer-address"),
		SourceAddress: m.str("source-address"),
		PeerPort:      uint16(m.number("peer-port", 0, math.MaxUint16)),
		HoldTime:      m.str("hold-time"),
		KeepaliveTime: m.str("keepalive-time"),
		RouterID:      m.str("router-id"),
	}
	for i, v := range m.list("node-selectors") {
		if sm, ok := m.nested(v, fmt.Sprintf("node-selectors[%d]", i), selectorKeys); ok {
			p.NodeSelectors = append(p.NodeSelectors, d.nodeSelector(sm))
		}
	}
	p.Password = m.str("password")
	p.BFDProfile = m.str("bfd-profile")
	p.EBGPMultiHop = isTrue(m.boolean("ebgp-multihop"))
	m.finish()
	return p
}

func (d *decoder) nodeSelector(m *mapping) NodeSelector {
	s := NodeSelector{MatchLabels: m.stringMap("match-labels")}
	for i, v := range m.list("match-expressions") {
		if em, ok := m.nested(v, fmt.Sprintf("match-expressions[%d]", i), exprKeys); ok {
			s.MatchExpressions = append(s.MatchExpressions, SelectorRequirement{
				Key:      em.str("key"),
				Operator: em.str("operator"),
				Values:   em.strings("values"),
			})
			em.finish()
		}
	}
	m.finish()
	return s
}

func (d *decoder) communities(m *mapping, v any) map[string]string {
	aliases, ok := v.(map[string]any)
	if !ok {
		m.fail("bgp-communities", "must be a mapping of alias names to community values, got %s", describe(v))
		return nil
	}
	out := make(map[string]string, len(aliases))
	for _, name := range slices.Sorted(maps.Keys(aliases)) {
		switch value := aliases[name].(type) {
		case string:
			out[name] = value
		default:
			d.fail(&Error{Object: "bgp-communities", Key: strconv.Quote(name),
				Detail: fmt.Sprintf("must be a community value such as \"65535:65281\" (quoted), got %s", describe(value))})
		}
	}
	return out
}

func (d *decoder) pool(m *mapping) Pool {
	p := Pool{
		Name:          m.str("name"),
		Protocol:      m.str("protocol"),
		Addresses:     m.strings("addresses"),
		AutoAssign:    m.boolean("auto-assign"),
		AvoidBuggyIPs: m.boolean("avoid-buggy-ips"),
	}
	for i, v := range m.list("bgp-advertisements") {
		if am, ok := m.nested(v, fmt.Sprintf("bgp-advertisements[%d]", i), advKeys); ok {
			adv := BGPAdvertisement{
				AggregationLength:   am.int32Ptr("aggregation-length"),
				AggregationLengthV6: am.int32Ptr("aggregation-length-v6"),
				LocalPref:           uint32(am.number("localpref", 0, math.MaxUint32)),
				Communities:         am.strings("communities"),
			}
			am.finish()
			p.BGPAdvertisements = append(p.BGPAdvertisements, adv)
		}
	}
	m.finish()
	return p
}

func (d *decoder) bfdProfile(m *mapping) BFDProfile {
	b := BFDProfile{
		Name:             m.str("name"),
		ReceiveInterval:  m.uint32Ptr("receive-interval"),
		TransmitInterval: m.uint32Ptr("transmit-interval"),
		DetectMultiplier: m.uint32Ptr("detect-multiplier"),
		EchoInterval:     m.uint32Ptr("echo-interval"),
	}
	b.EchoMode = isTrue(m.boolean("echo-mode"))
	b.PassiveMode = isTrue(m.boolean("passive-mode"))
	b.MinimumTTL = m.uint32Ptr("minimum-ttl")
	m.finish()
	return b
}

// peerObject names the i-th peer the way its converted BGPPeer is named, with its address when it has one.
func peerObject(i int, v any) string {
	name := peerName(i)
	if m, ok := v.(map[string]any); ok {
		if addr, ok := m["peer-address"].(string); ok && addr != "" {
			return fmt.Sprintf("%s at %s", name, addr)
		}
	}
	return name
}

// namedObject names a pool or BFD profile by its name as written.
func namedObject(kind string, v any) string {
	if m, ok := v.(map[string]any); ok {
		if name, ok := m["name"].(string); ok && name != "" {
			return fmt.Sprintf("%s %q", kind, name)
		}
	}
	return kind + " without a name"
}

// mapping is one legacy mapping being read. Its accessors report values of the wrong type; finish reports
// the keys no accessor asked for.
type mapping struct {
	d            *decoder
	object, path string
	prefix       string // prepended to keys, for mappings nested in an object
	m            map[string]any
	known        []string
	read         map[string]bool
}

func (d *decoder) mapping(m map[string]any, object, path, prefix string, known []string) *mapping {
	return &mapping{d: d, object: object, path: path, prefix: prefix, m: m, known: known, read: map[string]bool{}}
}

// entry reads the list element v of the key list as a new object.
func (m *mapping) entry(v any, object, path, list string, known []string) (*mapping, bool) {
	em, ok := v.(map[string]any)
	if !ok {
		m.d.fail(&Error{Object: object, Path: path, Detail: fmt.Sprintf("each entry of %s must be a mapping, got %s", list, describe(v))})
		return nil, false
	}
	return m.d.mapping(em, object, path, "", known), true
}

// nested reads v as a mapping inside the current object, under the key key.
func (m *mapping) nested(v any, key string, known []string) (*mapping, bool) {
	nm, ok := v.(map[string]any)
	if !ok {
		m.fail(key, "must be a mapping, got %s", describe(v))
		return nil, false
	}
	return m.d.mapping(nm, m.object, m.path, m.prefix+key+".", known), true
}

func (m *mapping) fail(key, format string, args ...any) {
	m.d.fail(&Error{Object: m.object, Path: m.path, Key: m.prefix + key, Detail: fmt.Sprintf(format, args...)})
}

// value returns the value of key; a null value counts as absent, as it did for MetalLB.
func (m *mapping) value(key string) (any, bool) {
	m.read[key] = true
	v, ok := m.m[key]
	return v, ok && v != nil
}

func (m *mapping) str(key string) string {
	v, ok := m.value(key)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		m.fail(key, "must be a string, got %s (quote it)", describe(v))
	}
	return s
}

func (m *mapping) boolean(key string) *bool {
	v, ok := m.value(key)
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		m.fail(key, "must be true or false, got %s", describe(v))
		return nil
	}
	return &b
}

// number returns the integer value of key, 0 when it is absent or invalid.
func (m *mapping) number(key string, lowest, highest int64) int64 {
	n, _ := m.numberOK(key, lowest, highest)
	return n
}

func (m *mapping) numberOK(key string, lowest, highest int64) (int64, bool) {
	v, ok := m.value(key)
	if !ok {
		return 0, false
	}
	num, ok := v.(json.Number)
	if !ok {
		m.fail(key, "must be an integer, got %s", describe(v))
		return 0, false
	}
	n, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil || n < lowest || n > highest {
		m.fail(key, "must be an integer from %d to %d, got %s", lowest, highest, num)
		return 0, false
	}
	return n, true
}

func (m *mapping) uint32Ptr(key string) *uint32 {
	n, ok := m.numberOK(key, 0, math.MaxUint32)
	if !ok {
		return nil
	}
	u := uint32(n)
	return &u
}

func (m *mapping) int32Ptr(key string) *int32 {
	n, ok := m.numberOK(key, math.MinInt32, math.MaxInt32)
	if !ok {
		return nil
	}
	i := int32(n)
	return &i
}

// list returns the elements of the list at key.
func (m *mapping) list(key string) []any {
	v, ok := m.value(key)
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		m.fail(key, "must be a list, got %s", describe(v))
	}
	return l
}

func (m *mapping) strings(key string) []string {
	var out []string
	for i, v := range m.list(key) {
		s, ok := v.(string)
		if !ok {
			m.fail(fmt.Sprintf("%s[%d]", key, i), "must be a string, got %s (quote it)", describe(v))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (m *mapping) stringMap(key string) map[string]string {
	v, ok := m.value(key)
	if !ok {
		return nil
	}
	sm, ok := v.(map[string]any)
	if !ok {
		m.fail(key, "must be a mapping, got %s", describe(v))
		return nil
	}
	out := make(map[string]string, len(sm))
	for _, k := range slices.Sorted(maps.Keys(sm)) {
		s, ok := sm[k].(string)
		if !ok {
			m.fail(key+"."+k, "must be a string, got %s (quote it)", describe(sm[k]))
			continue
		}
		out[k] = s
	}
	return out
}

// finish reports every key of the mapping that is not a legacy key, in lexical order, with the legacy key
// it was probably meant to be: CR spellings such as autoAssign are a common slip.
func (m *mapping) finish() {
	for _, k := range slices.Sorted(maps.Keys(m.m)) {
		if m.read[k] {
			continue
		}
		if slices.Contains(m.known, k) {
			// A known key no accessor read: only reachable for keys read conditionally.
			continue
		}
		detail := "unknown key"
		if guess := closestKey(k, m.known); guess != "" {
			detail = fmt.Sprintf("unknown key, did you mean %q?", guess)
		}
		m.d.fail(&Error{Object: m.object, Path: m.path, Key: m.prefix + k, Detail: detail})
	}
}

// closestKey returns the legacy key that k spells differently (autoAssign, auto_assign, Auto-Assign for
// auto-assign), or "".
func closestKey(k string, known []string) string {
	simple := func(s string) string {
		return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
	}
	for _, candidate := range known {
		if simple(candidate) == simple(k) {
			return candidate
		}
	}
	return ""
}

// describe names a JSON value's type, with the value when it is short, for messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func isTrue(b *bool) bool {
	return b != nil && *b
}
