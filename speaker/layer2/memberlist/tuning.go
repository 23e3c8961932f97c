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

package memberlist

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	ml "github.com/hashicorp/memberlist"
)

// ConfigFile is where MetalLB's speaker looks for memberlist overrides (mounted from a ConfigMap).
const ConfigFile = "/etc/metallb/memberlist/config.json"

// Tuning holds the memberlist protocol settings that MetalLB's config.json can override: the failure
// detector's timers plus the few gossip and buffer knobs that file also carries. Field names are the
// JSON keys. See FastTimers for what each one costs and buys.
type Tuning struct {
	TCPTimeout              time.Duration
	IndirectChecks          int
	RetransmitMult          int
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	PushPullInterval        time.Duration
	ProbeTimeout            time.Duration
	ProbeInterval           time.Duration
	DisableTcpPings         bool // spelled like memberlist's field, the key MetalLB users already write
	AwarenessMaxMultiplier  int
	GossipNodes             int
	GossipInterval          time.Duration
	GossipToTheDeadTime     time.Duration
	GossipVerifyIncoming    bool
	GossipVerifyOutgoing    bool
	EnableCompression       bool
	HandoffQueueDepth       int
	UDPBufferSize           int
	QueueCheckInterval      time.Duration
}

// FastTimers is ferrolb's default LAN profile: a crashed speaker is dropped by every other speaker in
// about one second (MetalLB's LAN defaults take four to five).
//
// How memberlist (v0.5.x, state.go) detects a crash, for a cluster of N ≤ 10 speakers:
//
//  1. Every speaker probes one peer per ProbeInterval, walking a shuffled list, so some survivor
//     starts probing the dead node within about one ProbeInterval (W, 0–200 ms, mean ≈ 100 ms at N=3).
//  2. The probe fails only when its deadline, ProbeInterval (200 ms), passes: ProbeTimeout merely
//     decides when the indirect and TCP fallback probes are sent, and a late direct ack still counts.
//  3. The prober then suspects the node for SuspicionMult × max(1, log10 N) × ProbeInterval =
//     3 × 1 × 200 ms = 600 ms. Lifeguard starts that timer at SuspicionMaxTimeoutMult times as long
//     (2.4 s) and brings it down to 600 ms once k = SuspicionMult−2 = 1 other speaker confirms by its
//     own failed probe; in a 2-node cluster k is 0 and 600 ms applies at once.
//  4. The dead message reaches the other survivors by gossip within one GossipInterval (100 ms); they
//     started their own suspicion timers one gossip hop after the prober, so they converge anyway.
//
// Expected detection: W + 200 + 600 + ≤100 ms ≈ 0.9–1.1 s, worst case ≈ 1.2 s while confirmations
// flow; 2.4 s + 400 ms if no second speaker can confirm. Larger clusters scale step 3 by log10 N
// (N=100: 1.2 s of suspicion, N=1000: 1.8 s).
//
// Why a live speaker is not declared dead: it must miss a whole 200 ms probe window (direct, indirect
// and TCP), and then fail to refute the suspicion, which is piggy-backed on the next probe and gossiped
// to it, for another 600 ms; and unless the cluster has only two members, a second speaker must fail
// to reach it as well. A GC pause (well under 1 ms in Go) or the 10 ms scheduler slices of a loaded
// 2-core node are two orders of magnitude below that; CPU throttling by a CFS quota delays by at most
// one 100 ms period. A speaker whose own probes fail without nacks suspects itself (awareness) and
// stretches its probe deadline up to AwarenessMaxMultiplier × ProbeInterval = 1.6 s, so a starved
// speaker slows its own accusations instead of evicting healthy peers.
//
// Cost: 5 probes per second per speaker plus their acks, independent of cluster size; gossip only
// while there is news.
func FastTimers() Tuning {
	return Tuning{
		// Streams are used by Join and push/pull only (the TCP fallback ping uses the probe deadline).
		// A live LAN peer answers a SYN in well under a millisecond; 2 s bounds how long one Discover
		// round waits for each listed-but-dead address.
		TCPTimeout: 2 * time.Second,
		// Three relays for the indirect probe: a lossy path between the prober and the target alone
		// cannot get the target suspected. Capped by the number of other live members.
		IndirectChecks: 3,
		// Each broadcast is sent 4 × ceil(log10(N+1)) times: reaches every node with high probability.
		RetransmitMult: 4,
		// 3 × ProbeInterval = 600 ms of suspicion for N ≤ 10, and k = 3−2 = 1 independent confirmation
		// needed to get there (see above). 2 would give k = 0: one sick prober could evict a peer alone.
		SuspicionMult: 3,
		// An unconfirmed suspicion lasts 4 × 600 ms = 2.4 s: about MetalLB's minimum, and long enough
		// for a speaker that is itself isolated or starved to recover before it evicts anybody.
		SuspicionMaxTimeoutMult: 4,
		// Full state exchange with one random member, anti-entropy for gossip that was lost. memberlist
		// stretches it for N > 32. Cheap (one TCP exchange, ~100 bytes per member).
		PushPullInterval: 10 * time.Second,
		// When the direct ack is this late, ask IndirectChecks relays and try TCP. LAN RTT is well under
		// 1 ms; 100 ms still leaves the relays 100 ms of the 200 ms probe window to answer.
		ProbeTimeout: 100 * time.Millisecond,
		// Step 1 and 2 above: the main knob for detection time (≈ 5 × ProbeInterval in total).
		ProbeInterval: 200 * time.Millisecond,
		// TCP fallback pings rescue a speaker whose UDP is being dropped (full socket buffer under
		// load), within the same probe deadline: no cost to detection time.
		DisableTcpPings: false,
		// A speaker that fails probes without getting nacks from the relays stretches its own probe
		// deadline up to 8 × 200 ms = 1.6 s: memberlist's default, and the reason a starved prober
		// does not flap healthy peers.
		AwarenessMaxMultiplier: 8,
		// Send pending gossip to 3 random members every 100 ms (memberlist LAN: 200 ms): halves the
		// time the dead message takes to reach the survivors; idle when there is nothing to say.
		GossipNodes:    3,
		GossipInterval: 100 * time.Millisecond,
		// A node declared dead still receives our gossip for 5 s, so that a speaker that was only
		// paused sees its death notice and refutes it (it is back in Members at once). 5 s covers the
		// ~0.5 s the notice is retransmitted many times over; after that, the dead node is forgotten
		// and only Discover brings it back. memberlist's 30 s kept gossip going to dead nodes, wasting
		// some of the 3 gossip targets per round that should carry the news to live ones.
		GossipToTheDeadTime: 5 * time.Second,
		// Encrypted clusters refuse plaintext gossip in both directions.
		GossipVerifyIncoming: true,
		GossipVerifyOutgoing: true,
		// Push/pull state of large clusters compresses well; memberlist's and MetalLB's default.
		EnableCompression: true,
		// memberlist defaults: 1024 queued inbound packets; 1400-byte packets fit a 1500-byte MTU.
		HandoffQueueDepth:  1024,
		UDPBufferSize:      1400,
		QueueCheckInterval: 30 * time.Second,
	}
}

// WANTimers is memberlist's WAN profile, selected by --ml-wan-config like in MetalLB: 5 s probes and
// 6 × log10 N × 5 s of suspicion, for speakers spread over high-latency links.
func WANTimers() Tuning {
	return fromConfig(ml.DefaultWANConfig())
}

// fromConfig reads a Tuning out of a memberlist config.
func fromConfig(c *ml.Config) Tuning {
	return Tuning{
		TCPTimeout:              c.TCPTimeout,
		IndirectChecks:          c.IndirectChecks,
		RetransmitMult:          c.RetransmitMult,
		SuspicionMult:           c.SuspicionMult,
		SuspicionMaxTimeoutMult: c.SuspicionMaxTimeoutMult,
		PushPullInterval:        c.PushPullInterval,
		ProbeTimeout:            c.ProbeTimeout,
		ProbeInterval:           c.ProbeInterval,
		DisableTcpPings:         c.DisableTcpPings,
		AwarenessMaxMultiplier:  c.AwarenessMaxMultiplier,
		GossipNodes:             c.GossipNodes,
		GossipInterval:          c.GossipInterval,
		GossipToTheDeadTime:     c.GossipToTheDeadTime,
		GossipVerifyIncoming:    c.GossipVerifyIncoming,
		GossipVerifyOutgoing:    c.GossipVerifyOutgoing,
		EnableCompression:       c.EnableCompression,
		HandoffQueueDepth:       c.HandoffQueueDepth,
		UDPBufferSize:           c.UDPBufferSize,
		QueueCheckInterval:      c.QueueCheckInterval,
	}
}

// apply copies t into a memberlist config.
func (t Tuning) apply(c *ml.Config) {
	c.TCPTimeout = t.TCPTimeout
	c.IndirectChecks = t.IndirectChecks
	c.RetransmitMult = t.RetransmitMult
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.PushPullInterval = t.PushPullInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.ProbeInterval = t.ProbeInterval
	c.DisableTcpPings = t.DisableTcpPings
	c.AwarenessMaxMultiplier = t.AwarenessMaxMultiplier
	c.GossipNodes = t.GossipNodes
	c.GossipInterval = t.GossipInterval
	c.GossipToTheDeadTime = t.GossipToTheDeadTime
	c.GossipVerifyIncoming = t.GossipVerifyIncoming
	c.GossipVerifyOutgoing = t.GossipVerifyOutgoing
	c.EnableCompression = t.EnableCompression
	c.HandoffQueueDepth = t.HandoffQueueDepth
	c.UDPBufferSize = t.UDPBufferSize
	c.QueueCheckInterval = t.QueueCheckInterval
}

// Validate rejects settings that would silently break the failure detector rather than tune it: a zero
// ProbeInterval turns probing off, a zero AwarenessMaxMultiplier scales every probe deadline to zero,
// a zero RetransmitMult drops every broadcast, and so on.
func (t Tuning) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	atLeast := func(name string, v, lowest int) {
		if v < lowest {
			errs = append(errs, fmt.Errorf("%s must be at least %d, got %d", name, lowest, v))
		}
	}
	positive("TCPTimeout", t.TCPTimeout)
	positive("ProbeTimeout", t.ProbeTimeout)
	positive("ProbeInterval", t.ProbeInterval)
	positive("QueueCheckInterval", t.QueueCheckInterval)
	// Zero is memberlist's documented "off" for these two.
	if t.PushPullInterval < 0 {
		errs = append(errs, fmt.Errorf("PushPullInterval must not be negative, got %s", t.PushPullInterval))
	}
	if t.GossipInterval < 0 {
		errs = append(errs, fmt.Errorf("GossipInterval must not be negative, got %s", t.GossipInterval))
	}
	if t.GossipToTheDeadTime < 0 {
		errs = append(errs, fmt.Errorf("GossipToTheDeadTime must not be negative, got %s", t.GossipToTheDeadTime))
	}
	atLeast("IndirectChecks", t.IndirectChecks, 0)
	atLeast("RetransmitMult", t.RetransmitMult, 1)
	atLeast("SuspicionMult", t.SuspicionMult, 1)
	atLeast("SuspicionMaxTimeoutMult", t.SuspicionMaxTimeoutMult, 1)
	atLeast("AwarenessMaxMultiplier", t.AwarenessMaxMultiplier, 1)
	atLeast("GossipNodes", t.GossipNodes, 0)
	atLeast("HandoffQueueDepth", t.HandoffQueueDepth, 1)
	// Below this not even an encrypted ping fits.
	atLeast("UDPBufferSize", t.UDPBufferSize, 512)
	return errors.Join(errs...)
}

// LoadConfigFile overrides base with the keys present in a MetalLB memberlist config.json: a JSON object
// whose keys are Tuning's field names, durations written as Go duration strings ("200ms"), counts as
// numbers, switches as booleans. Keys match case-insensitively, like encoding/json matches struct
// fields. Unlike MetalLB, which replaces the whole profile so that an omitted key becomes zero, keys
// that are absent keep base's value. An unknown key is an error naming it (a typo must not pass
// silently), and so is a result that fails Validate.
func LoadConfigFile(path string, base Tuning) (Tuning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("reading memberlist config: %w", err)
	}
	t, err := parseConfig(data, base)
	if err != nil {
		return base, fmt.Errorf("memberlist config %s: %w", path, err)
	}
	return t, nil
}

func parseConfig(data []byte, base Tuning) (Tuning, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return base, fmt.Errorf("decoding JSON: %w", err)
	}
	if raw == nil {
		return base, errors.New("decoding JSON: expected an object")
	}
	t := base
	fields := t.fields()
	for key, value := range raw {
		f, ok := lookupField(fields, key)
		if !ok {
			return base, fmt.Errorf("unknown key %q", key)
		}
		if err := f.set(value); err != nil {
			return base, fmt.Errorf("key %q: %w", key, err)
		}
	}
	if err := t.Validate(); err != nil {
		return base, err
	}
	return t, nil
}

// field is one config.json key bound to the Tuning field it sets.
type field struct {
	name string
	set  func(json.RawMessage) error
}

func (t *Tuning) fields() []field {
	return []field{
		durationField("TCPTimeout", &t.TCPTimeout),
		intField("IndirectChecks", &t.IndirectChecks),
		intField("RetransmitMult", &t.RetransmitMult),
		intField("SuspicionMult", &t.SuspicionMult),
		intField("SuspicionMaxTimeoutMult", &t.SuspicionMaxTimeoutMult),
		durationField("PushPullInterval", &t.PushPullInterval),
		durationField("ProbeTimeout", &t.ProbeTimeout),
		durationField("ProbeInterval", &t.ProbeInterval),
		boolField("DisableTcpPings", &t.DisableTcpPings),
		intField("AwarenessMaxMultiplier", &t.AwarenessMaxMultiplier),
		intField("GossipNodes", &t.GossipNodes),
		durationField("GossipInterval", &t.GossipInterval),
		durationField("GossipToTheDeadTime", &t.GossipToTheDeadTime),
		boolField("GossipVerifyIncoming", &t.GossipVerifyIncoming),
		boolField("GossipVerifyOutgoing", &t.GossipVerifyOutgoing),
		boolField("EnableCompression", &t.EnableCompression),
		intField("HandoffQueueDepth", &t.HandoffQueueDepth),
		intField("UDPBufferSize", &t.UDPBufferSize),
		durationField("QueueCheckInterval", &t.QueueCheckInterval),
	}
}

func lookupField(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return field{}, false
}

func durationField(name string, dst *time.Duration) field {
	return field{name: name, set: func(v json.RawMessage) error {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("want a duration string such as \"200ms\": %w", err)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*dst = d
		return nil
	}}
}

func intField(name string, dst *int) field {
	return field{name: name, set: func(v json.RawMessage) error {
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("want an integer: %w", err)
		}
		return nil
	}}
}

func boolField(name string, dst *bool) field {
	return field{name: name, set: func(v json.RawMessage) error {
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		return nil
	}}
}
