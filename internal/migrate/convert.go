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
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

// DefaultNamespace is where MetalLB's converter puts the resources when the ConfigMap names no namespace.
const DefaultNamespace = "metallb-system"

// defaultHoldTime is the hold time MetalLB's converter gives a peer without hold-time.
const defaultHoldTime = 90 * time.Second

// Object is a converted object: a Kubernetes object with metadata and its apiVersion and kind set.
// controller-runtime's client.Object is the same interface, so objects can be applied as they are.
type Object interface {
	metav1.Object
	runtime.Object
}

// Result is a converted configuration: the metallb.io resources of one namespace.
type Result struct {
	Peers             []v1beta2.BGPPeer
	Pools             []v1beta1.IPAddressPool
	BGPAdvertisements []v1beta1.BGPAdvertisement
	L2Advertisements  []v1beta1.L2Advertisement
	BFDProfiles       []v1beta1.BFDProfile
	Communities       []v1beta1.Community
	// Renames are the pools and BFD profiles whose name normalisation changed, pools first, each in document
	// order.
	Renames []Rename
}

// Rename is a legacy name that NormalizeName changed.
type Rename struct {
	// Kind is IPAddressPool or BFDProfile.
	Kind string
	From string
	To   string
}

// Objects returns every object of the result in MetalLB's output order: BGPPeers, IPAddressPools,
// BGPAdvertisements, L2Advertisements, BFDProfiles, Communities. It is an apply order too: ferrolb's webhooks
// accept references to objects that do not exist yet, and the controller and speaker wait for them.
func (r *Result) Objects() []Object {
	var objs []Object
	for i := range r.Peers {
		objs = append(objs, &r.Peers[i])
	}
	for i := range r.Pools {
		objs = append(objs, &r.Pools[i])
	}
	for i := range r.BGPAdvertisements {
		objs = append(objs, &r.BGPAdvertisements[i])
	}
	for i := range r.L2Advertisements {
		objs = append(objs, &r.L2Advertisements[i])
	}
	for i := range r.BFDProfiles {
		objs = append(objs, &r.BFDProfiles[i])
	}
	for i := range r.Communities {
		objs = append(objs, &r.Communities[i])
	}
	return objs
}

// Resources returns the result as config.Parse takes it.
func (r *Result) Resources() config.Resources {
	return config.Resources{
		Pools:             r.Pools,
		Peers:             r.Peers,
		BFDProfiles:       r.BFDProfiles,
		BGPAdvertisements: r.BGPAdvertisements,
		L2Advertisements:  r.L2Advertisements,
		Communities:       r.Communities,
	}
}

// Convert maps a legacy configuration onto metallb.io resources in namespace, exactly as MetalLB's
// converter does (reference: metallb-operator.md §5.3), and validates them with config.Parse.
//
// Where MetalLB's converter writes something other than what MetalLB v0.12 ran, Convert returns an ErrorList
// instead: a pool without a protocol or with an unknown one (MetalLB silently drops its advertisement), a
// layer2 pool with bgp-advertisements, a name that is not valid or collides with another after normalisation,
// an unparsable hold-time or keepalive-time, and every problem config.Parse finds in the converted objects,
// located in the legacy document. Only a conversion without problems of its own is passed to config.Parse. A
// configuration that defines nothing is ErrEmpty.
func Convert(legacy *Legacy, namespace string) (*Result, error) {
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return nil, fmt.Errorf("invalid namespace %q: %s", namespace, strings.Join(errs, "; "))
	}
	if legacy == nil || legacy.empty() {
		return nil, ErrEmpty
	}
	c := &converter{namespace: namespace, res: &Result{}, origins: map[string]*origin{}}
	// In the order of the legacy schema, so problems come in document order.
	c.peers(legacy.Peers)
	c.communities(legacy.BGPCommunities)
	c.pools(legacy.Pools)
	c.bfdProfiles(legacy.BFDProfiles)
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	if _, err := config.Parse(c.res.Resources()); err != nil {
		return nil, c.located(err)
	}
	return c.res, nil
}

// converter holds the state of one Convert call.
type converter struct {
	namespace string
	res       *Result
	errs      ErrorList
	// origins locates every converted object in the legacy document, by kind/name.
	origins map[string]*origin
}

// origin is where a converted object came from.
type origin struct {
	object, path string
	// keyPrefix is prepended to the legacy keys of the object's fields: an advertisement comes from an entry of
	// its pool's bgp-advertisements.
	keyPrefix string
	// aliases are the Community's alias names, in spec.communities order.
	aliases []string
}

func (c *converter) fail(object, path, key, format string, args ...any) {
	c.errs = append(c.errs, &Error{Object: object, Path: path, Key: key, Detail: fmt.Sprintf(format, args...)})
}

func (c *converter) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: c.namespace}
}

func (c *converter) record(kind, name string, o *origin) {
	c.origins[kind+"/"+name] = o
}

// claim normalises the name of the legacy pool or BFD profile at path and checks that no earlier one of the
// kind ends up with the same name. taken maps the names claimed so far to the path that claimed them.
func (c *converter) claim(kind, object, path, name string, taken map[string]string) string {
	if name == "" {
		c.fail(object, path, "name", "missing name")
		return ""
	}
	normalized, err := NormalizeName(name)
	if err != nil {
		c.fail(object, path, "name", "%v", err)
		return ""
	}
	if other, ok := taken[normalized]; ok {
		if normalized == name {
			c.fail(object, path, "name", "%q is already the name of %s", name, other)
		} else {
			c.fail(object, path, "name", "%q becomes %q, which is already the name of %s", name, normalized, other)
		}
		return ""
	}
	taken[normalized] = fmt.Sprintf("%s (%s)", object, path)
	if normalized != name {
		c.res.Renames = append(c.res.Renames, Rename{Kind: kind, From: name, To: normalized})
	}
	return normalized
}

func (c *converter) bfdProfiles(profiles []BFDProfile) {
	taken := map[string]string{}
	for i, p := range profiles {
		path := fmt.Sprintf("bfd-profiles[%d]", i)
		object := bfdObject(p.Name)
		name := c.claim("BFDProfile", object, path, p.Name, taken)
		obj := v1beta1.BFDProfile{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "BFDProfile"},
			ObjectMeta: c.meta(name),
			Spec: v1beta1.BFDProfileSpec{
				ReceiveInterval:  p.ReceiveInterval,
				TransmitInterval: p.TransmitInterval,
				DetectMultiplier: p.DetectMultiplier,
				EchoInterval:     p.EchoInterval,
				// MetalLB's converter always writes echoMode and passiveMode.
				EchoMode:    new(p.EchoMode),
				PassiveMode: new(p.PassiveMode),
				MinimumTTL:  p.MinimumTTL,
			},
		}
		c.res.BFDProfiles = append(c.res.BFDProfiles, obj)
		c.record("BFDProfile", name, &origin{object: object, path: path})
	}
}

func (c *converter) pools(pools []Pool) {
	taken := map[string]string{}
	l2, bgp := 0, 0
	for i, p := range pools {
		path := fmt.Sprintf("address-pools[%d]", i)
		object := poolObject(p.Name)
		name := c.claim("IPAddressPool", object, path, p.Name, taken)
		switch p.Protocol {
		case ProtocolBGP, ProtocolLayer2:
		case "":
			c.fail(object, path, "protocol", `missing protocol, must be "bgp" or "layer2"`)
		default:
			c.fail(object, path, "protocol", `unknown protocol %q, must be "bgp" or "layer2"`, p.Protocol)
		}
		if p.Protocol == ProtocolLayer2 && len(p.BGPAdvertisements) > 0 {
			c.fail(object, path, "bgp-advertisements", "a layer2 pool cannot have bgp-advertisements (MetalLB v0.12 refused it)")
		}

		c.res.Pools = append(c.res.Pools, v1beta1.IPAddressPool{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "IPAddressPool"},
			ObjectMeta: c.meta(name),
			Spec: v1beta1.IPAddressPoolSpec{
				Addresses:     slices.Clone(p.Addresses),
				AutoAssign:    p.AutoAssign,
				AvoidBuggyIPs: isTrue(p.AvoidBuggyIPs),
			},
		})
		c.record("IPAddressPool", name, &origin{object: object, path: path})

		for j, adv := range p.BGPAdvertisements {
			bgp++
			c.bgpAdvertisement(bgp, name, v1beta1.BGPAdvertisementSpec{
				AggregationLength:   adv.AggregationLength,
				AggregationLengthV6: adv.AggregationLengthV6,
				LocalPref:           adv.LocalPref,
				Communities:         slices.Clone(adv.Communities),
			}, &origin{object: object, path: path, keyPrefix: fmt.Sprintf("bgp-advertisements[%d]", j)})
		}
		if p.Protocol == ProtocolBGP && len(p.BGPAdvertisements) == 0 {
			bgp++
			c.bgpAdvertisement(bgp, name, v1beta1.BGPAdvertisementSpec{}, &origin{object: object, path: path, keyPrefix: "protocol"})
		}
		if p.Protocol == ProtocolLayer2 {
			l2++
			advName := l2AdvertisementName(l2)
			c.res.L2Advertisements = append(c.res.L2Advertisements, v1beta1.L2Advertisement{
				TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "L2Advertisement"},
				ObjectMeta: c.meta(advName),
				Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{name}},
			})
			c.record("L2Advertisement", advName, &origin{object: object, path: path, keyPrefix: "protocol"})
		}
	}
}

func (c *converter) bgpAdvertisement(n int, pool string, spec v1beta1.BGPAdvertisementSpec, o *origin) {
	name := bgpAdvertisementName(n)
	spec.IPAddressPools = []string{pool}
	c.res.BGPAdvertisements = append(c.res.BGPAdvertisements, v1beta1.BGPAdvertisement{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "BGPAdvertisement"},
		ObjectMeta: c.meta(name),
		Spec:       spec,
	})
	c.record("BGPAdvertisement", name, o)
}

func (c *converter) peers(peers []Peer) {
	for i, p := range peers {
		path := fmt.Sprintf("peers[%d]", i)
		object := peerName(i)
		if p.PeerAddress != "" {
			object = fmt.Sprintf("%s at %s", object, p.PeerAddress)
		}
		spec := v1beta2.BGPPeerSpec{
			MyASN:        p.MyASN,
			ASN:          p.PeerASN,
			PeerAddress:  p.PeerAddress,
			SrcAddress:   p.SourceAddress,
			Port:         p.PeerPort,
			RouterID:     p.RouterID,
			Password:     p.Password,
			EBGPMultiHop: p.EBGPMultiHop,
		}
		hold, err := holdTime(p.HoldTime)
		if err != nil {
			c.fail(object, path, "hold-time", "%v", err)
		}
		spec.HoldTime = &metav1.Duration{Duration: hold}
		if p.KeepaliveTime != "" {
			keepalive, err := time.ParseDuration(p.KeepaliveTime)
			if err != nil {
				c.fail(object, path, "keepalive-time", "invalid keepalive time %q: %v", p.KeepaliveTime, err)
			}
			spec.KeepaliveTime = &metav1.Duration{Duration: keepalive.Truncate(time.Second)}
		}
		if p.BFDProfile != "" {
			// The profile was renamed the same way.
			name, err := NormalizeName(p.BFDProfile)
			if err != nil {
				c.fail(object, path, "bfd-profile", "%v", err)
			}
			spec.BFDProfile = name
		}
		for _, sel := range p.NodeSelectors {
			spec.NodeSelectors = append(spec.NodeSelectors, labelSelector(sel))
		}
		name := peerName(i)
		c.res.Peers = append(c.res.Peers, v1beta2.BGPPeer{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1beta2.GroupVersion.String(), Kind: "BGPPeer"},
			ObjectMeta: c.meta(name),
			Spec:       spec,
		})
		c.record("BGPPeer", name, &origin{object: object, path: path})
	}
}

// holdTime is MetalLB's reading of a peer's hold-time: 90s when absent, whole seconds (truncated), and 0 or
// at least 3s (RFC 4271 §4.2).
func holdTime(s string) (time.Duration, error) {
	if s == "" {
		return defaultHoldTime, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return defaultHoldTime, fmt.Errorf("invalid hold time %q: %v", s, err)
	}
	d = d.Truncate(time.Second)
	if d != 0 && d < 3*time.Second {
		return d, fmt.Errorf("invalid hold time %q: must be 0 or >=3s", s)
	}
	return d, nil
}

func labelSelector(sel NodeSelector) metav1.LabelSelector {
	var out metav1.LabelSelector
	if len(sel.MatchLabels) > 0 {
		out.MatchLabels = maps.Clone(sel.MatchLabels)
	}
	for _, e := range sel.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{
			Key:      e.Key,
			Operator: metav1.LabelSelectorOperator(e.Operator),
			Values:   slices.Clone(e.Values),
		})
	}
	return out
}

func (c *converter) communities(aliases map[string]string) {
	if len(aliases) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(aliases))
	spec := v1beta1.CommunitySpec{}
	for _, name := range names {
		spec.Communities = append(spec.Communities, v1beta1.CommunityAlias{Name: name, Value: aliases[name]})
	}
	c.res.Communities = append(c.res.Communities, v1beta1.Community{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "Community"},
		ObjectMeta: c.meta(communityName),
		Spec:       spec,
	})
	c.record("Community", communityName, &origin{object: "bgp-communities", aliases: names})
}

func poolObject(name string) string {
	if name == "" {
		return "pool without a name"
	}
	return fmt.Sprintf("pool %q", name)
}

func bfdObject(name string) string {
	if name == "" {
		return "bfd profile without a name"
	}
	return fmt.Sprintf("bfd profile %q", name)
}

// located turns config.Parse's problems with the converted objects into problems of the legacy objects they
// came from, with legacy keys, so the user knows what to fix in the ConfigMap.
func (c *converter) located(err error) error {
	var list config.ErrorList
	if !errors.As(err, &list) {
		return fmt.Errorf("validating the converted resources: %w", err)
	}
	var out ErrorList
	for _, oe := range list {
		o, ok := c.origins[oe.Kind+"/"+oe.Name]
		for _, fe := range oe.Errs {
			if !ok {
				out = append(out, &Error{Object: fmt.Sprintf("%s %q", oe.Kind, oe.Name), Key: fe.Field, Detail: fe.ErrorBody()})
				continue
			}
			out = append(out, &Error{Object: o.object, Path: o.path, Key: o.legacyKey(fe.Field), Detail: fe.ErrorBody()})
		}
	}
	return out
}

// crToLegacy maps the JSON names of the converted objects' fields to the legacy keys they were written as.
var crToLegacy = map[string]string{
	// IPAddressPool
	"addresses":     "addresses",
	"autoAssign":    "auto-assign",
	"avoidBuggyIPs": "avoid-buggy-ips",
	// BGPAdvertisement
	"aggregationLength":   "aggregation-length",
	"aggregationLengthV6": "aggregation-length-v6",
	"localPref":           "localpref",
	"communities":         "communities",
	// BGPPeer
	"myASN":            "my-asn",
	"peerASN":          "peer-asn",
	"peerAddress":      "peer-address",
	"sourceAddress":    "source-address",
	"peerPort":         "peer-port",
	"holdTime":         "hold-time",
	"keepaliveTime":    "keepalive-time",
	"routerID":         "router-id",
	"nodeSelectors":    "node-selectors",
	"matchLabels":      "match-labels",
	"matchExpressions": "match-expressions",
	"password":         "password",
	"bfdProfile":       "bfd-profile",
	"ebgpMultiHop":     "ebgp-multihop",
	// BFDProfile
	"receiveInterval":  "receive-interval",
	"transmitInterval": "transmit-interval",
	"detectMultiplier": "detect-multiplier",
	"echoInterval":     "echo-interval",
	"echoMode":         "echo-mode",
	"passiveMode":      "passive-mode",
	"minimumTtl":       "minimum-ttl",
}

// legacyKey translates a field path of a converted object (spec.nodeSelectors[0].matchLabels) into the legacy
// key it came from (node-selectors[0].match-labels). Fields the legacy schema has no key for are kept.
func (o *origin) legacyKey(fieldPath string) string {
	if o.aliases != nil {
		// spec.communities[i]...: the i-th alias, in sorted order.
		rest, ok := strings.CutPrefix(fieldPath, "spec.communities[")
		if idx, _, found := strings.Cut(rest, "]"); ok && found {
			if i, err := strconv.Atoi(idx); err == nil && i >= 0 && i < len(o.aliases) {
				return strconv.Quote(o.aliases[i])
			}
		}
		return fieldPath
	}
	var key string
	switch {
	case fieldPath == "metadata.name":
		key = "name"
	case fieldPath == "spec.ipAddressPools" || strings.HasPrefix(fieldPath, "spec.ipAddressPools["):
		// The advertisement's pool is the pool itself.
		key = ""
	default:
		segments := strings.Split(strings.TrimPrefix(fieldPath, "spec."), ".")
		for i, s := range segments {
			base, index, _ := strings.Cut(s, "[")
			if legacy, ok := crToLegacy[base]; ok {
				base = legacy
			}
			if index != "" {
				base += "[" + index
			}
			segments[i] = base
		}
		key = strings.Join(segments, ".")
	}
	switch {
	case o.keyPrefix == "":
		return key
	case key == "" || key == "name":
		return o.keyPrefix
	}
	return o.keyPrefix + "." + key
}
