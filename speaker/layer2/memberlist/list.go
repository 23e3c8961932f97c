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
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	ml "github.com/hashicorp/memberlist"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// DefaultPort is memberlist's and MetalLB's port, used for both UDP (probes, gossip) and TCP (join,
// push/pull, fallback pings).
const DefaultPort = 7946

// ErrClosed is returned by Join and Leave once the list has been shut down.
var ErrClosed = errors.New("memberlist is shut down")

// ErrKeyMismatch is wrapped by Join's error when a peer answered but could not be understood because
// it gossips with another key, or without one.
var ErrKeyMismatch = errors.New("gossip key mismatch")

// Options configures New.
type Options struct {
	// Name is this speaker's member name: the node name, as in MetalLB. Required, unique per cluster.
	Name string
	// BindAddr is the address to listen on and advertise: the pod IP (speakers run on the host
	// network). Required; the wildcard address is refused because peers need a routable address.
	BindAddr string
	// BindPort is the UDP and TCP port; 0 means DefaultPort. Join uses it for addresses without a port.
	BindPort int
	// SecretKey is the raw shared secret (the content of SecretKeyFile), turned into the gossip key
	// by DeriveKey. Empty means unencrypted gossip, logged as a warning.
	SecretKey []byte
	// Tuning is the protocol profile; the zero value means FastTimers().
	Tuning Tuning
	// Logger receives this package's messages and, at V(1), memberlist's own log lines.
	Logger logr.Logger
	// Clock drives the Discover loop; nil means the real clock.
	Clock clock.WithTicker

	// transport replaces memberlist's UDP/TCP transport (tests: ephemeral ports, partitions).
	transport ml.NodeAwareTransport
	// onEvent observes every membership event memberlist reports (tests: counting deaths).
	onEvent func(kind eventKind, node string)
}

// List is this speaker's view of which speakers are alive.
type List struct {
	ml      *ml.Memberlist
	view    *view
	meta    *meta
	log     logr.Logger
	clock   clock.WithTicker
	port    int
	changes chan struct{}

	mu   sync.Mutex
	shut bool
}

// New starts memberlist on opts.BindAddr and returns with this speaker as the only member; call Join
// or Discover to find the others.
func New(opts Options) (*List, error) {
	if opts.Name == "" {
		return nil, errors.New("memberlist: node name is required")
	}
	bind, err := netip.ParseAddr(opts.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("memberlist: bind address %q: %w", opts.BindAddr, err)
	}
	if bind.IsUnspecified() {
		return nil, fmt.Errorf("memberlist: bind address %s is not an address peers can reach", bind)
	}
	if opts.BindPort == 0 {
		opts.BindPort = DefaultPort
	}
	if opts.BindPort < 0 || opts.BindPort > 65535 {
		return nil, fmt.Errorf("memberlist: bind port %d out of range", opts.BindPort)
	}
	if opts.Tuning == (Tuning{}) {
		opts.Tuning = FastTimers()
	}
	if err := opts.Tuning.Validate(); err != nil {
		return nil, fmt.Errorf("memberlist: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	logger := opts.Logger.WithValues("memberName", opts.Name)

	changes := make(chan struct{}, 1)
	l := &List{
		view: &view{self: opts.Name, changes: changes, observe: opts.onEvent, members: make(map[string]netip.AddrPort),
			starting: sets.New[string]()},
		meta:    &meta{},
		log:     logger,
		clock:   opts.Clock,
		port:    opts.BindPort,
		changes: changes,
	}

	conf := ml.DefaultLANConfig()
	opts.Tuning.apply(conf)
	conf.Name = opts.Name
	conf.BindAddr = bind.String()
	conf.BindPort = opts.BindPort
	conf.AdvertiseAddr = bind.String()
	conf.AdvertisePort = opts.BindPort
	conf.Logger = log.New(logWriter{logger.V(1)}, "", 0)
	conf.Events = l.view
	conf.Delegate = l.meta
	if opts.transport != nil {
		conf.Transport = opts.transport
	}
	if len(opts.SecretKey) > 0 {
		conf.SecretKey = DeriveKey(opts.SecretKey)
	} else {
		logger.Info("Memberlist gossip is not encrypted: no secret key given")
	}

	m, err := ml.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("memberlist: starting on %s: %w",
			net.JoinHostPort(conf.BindAddr, strconv.Itoa(conf.BindPort)), err)
	}
	l.ml = m
	return l, nil
}

// Members returns the names of the live members, this speaker included: the candidates of the layer-2
// election. Suspected members are still included: they have not been declared dead yet. Members that are
// still starting (SetReady not called yet) are left out, except this speaker itself.
func (l *List) Members() sets.Set[string] {
	return l.view.names()
}

// SetReady tells the other speakers that this one announces what it wins: until then they leave it out of
// their elections and go on announcing its addresses, so that a restarted speaker, which joins before it has
// read the cluster, never makes them withdraw before it answers itself. A member without this metadata
// (a MetalLB speaker) counts as ready.
func (l *List) SetReady(timeout time.Duration) error {
	if !l.meta.setReady() {
		return nil
	}
	if err := l.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("memberlist: announcing readiness: %w", err)
	}
	return nil
}

// Changes signals that Members may have changed (a join, leave, death or update). Signals are
// coalesced: the channel holds at most one, so a slow reader sees one signal for a burst of changes
// and must re-read Members rather than count signals. A signal is already pending when New returns
// (this speaker joining its own list).
func (l *List) Changes() <-chan struct{} {
	return l.changes
}

// Join contacts the addresses that are not live members yet ("ip" or "ip:port"; a missing port means
// Options.BindPort) and merges their view of the cluster into ours. It returns how many of them it
// reached; the error is nil when at least one was reached or there was nothing to join, like
// memberlist's Join.
func (l *List) Join(addrs []string) (int, error) {
	if l.closed() {
		return 0, ErrClosed
	}
	known := l.view.addrs()
	var todo []string
	for _, a := range addrs {
		ap, err := l.addrPort(a)
		if err != nil {
			// Not an IP literal: let memberlist resolve it, we cannot tell whether it is a member.
			todo = append(todo, a)
			continue
		}
		if !known[ap] {
			todo = append(todo, ap.String())
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	n, err := l.ml.Join(todo)
	if err != nil {
		return n, fmt.Errorf("joining %v: %w", todo, joinError(err))
	}
	return n, nil
}

// joinError flattens memberlist's multi-line multierror into one line and marks key mismatches.
func joinError(err error) error {
	errs := []error{err}
	if m, ok := err.(interface{ WrappedErrors() []error }); ok {
		errs = m.WrappedErrors()
	}
	msgs := make([]string, 0, len(errs))
	mismatch := false
	for _, e := range errs {
		msg := e.Error()
		// memberlist's wording for "the peer uses another key, or none": "no installed keys could
		// decrypt the message", "remote state is encrypted and encryption is not configured", ...
		if strings.Contains(msg, "encrypt") || strings.Contains(msg, "decrypt") {
			mismatch = true
		}
		msgs = append(msgs, msg)
	}
	joined := errors.New(strings.Join(msgs, "; "))
	if mismatch {
		return fmt.Errorf("%w (do all speakers share the same memberlist secret?): %w", ErrKeyMismatch, joined)
	}
	return joined
}

// addrPort parses "ip" or "ip:port", defaulting the port to ours.
func (l *List) addrPort(s string) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), uint16(l.port)), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// Leave tells the other speakers that this one is going away, then shuts down. The others drop it as
// soon as the leave message reaches them by gossip (a gossip interval or two), without the suspicion
// period a crash goes through, so they can take over its addresses at once. Leave waits at most
// timeout for the message to be sent; it shuts down even when that wait times out.
func (l *List) Leave(timeout time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shut {
		return ErrClosed
	}
	l.shut = true
	leaveErr := l.ml.Leave(timeout)
	if leaveErr != nil {
		leaveErr = fmt.Errorf("memberlist: leaving: %w", leaveErr)
	}
	return errors.Join(leaveErr, l.shutdown())
}

// Shutdown stops this speaker's memberlist without telling anybody: to the others it looks like a
// crash, detected by probing. Use Leave for a graceful stop. Calling it again is a no-op.
func (l *List) Shutdown() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shut {
		return nil
	}
	l.shut = true
	return l.shutdown()
}

func (l *List) shutdown() error {
	if err := l.ml.Shutdown(); err != nil {
		return fmt.Errorf("memberlist: shutting down: %w", err)
	}
	return nil
}

func (l *List) closed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shut
}

// eventKind names a memberlist membership event.
type eventKind string

const (
	eventJoin   eventKind = "join"
	eventLeave  eventKind = "leave" // a graceful leave or a death: memberlist reports both the same way
	eventUpdate eventKind = "update"
)

// view is this speaker's copy of the live members, kept from memberlist's events.
//
// It exists because memberlist's Members returns pointers into its own node table, whose address
// fields it rewrites under a lock the caller cannot take (a data race the race detector reports as
// soon as a member rejoins). Events are delivered with that lock held, so copying there is safe, and
// the copy changes in the same order as memberlist's table: join on dead/left → alive, leave on
// alive/suspect → dead/left, nothing on alive ↔ suspect (a suspect is still a member).
type view struct {
	self    string
	changes chan struct{}
	observe func(eventKind, string)

	mu      sync.Mutex
	members map[string]netip.AddrPort
	// starting are the members whose metadata says they are not ready yet.
	starting sets.Set[string]
}

var _ ml.EventDelegate = (*view)(nil)

func (v *view) NotifyJoin(n *ml.Node)   { v.notify(eventJoin, n) }
func (v *view) NotifyLeave(n *ml.Node)  { v.notify(eventLeave, n) }
func (v *view) NotifyUpdate(n *ml.Node) { v.notify(eventUpdate, n) }

// notify runs with memberlist's node lock held, so it must never block.
func (v *view) notify(kind eventKind, n *ml.Node) {
	v.mu.Lock()
	if kind == eventLeave {
		delete(v.members, n.Name)
		v.starting.Delete(n.Name)
	} else {
		ip, _ := netip.AddrFromSlice(n.Addr)
		v.members[n.Name] = netip.AddrPortFrom(ip.Unmap(), n.Port)
		if isStarting(n.Meta) {
			v.starting.Insert(n.Name)
		} else {
			v.starting.Delete(n.Name)
		}
	}
	v.mu.Unlock()

	if v.observe != nil {
		v.observe(kind, n.Name)
	}
	select {
	case v.changes <- struct{}{}:
	default: // a signal is already pending; the reader will see this change too
	}
}

func (v *view) names() sets.Set[string] {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := sets.New[string]()
	for name := range v.members {
		if name == v.self || !v.starting.Has(name) {
			s.Insert(name)
		}
	}
	return s
}

// The node metadata a speaker gossips: one byte, metaStarting until SetReady, then metaReady.
const (
	metaStarting byte = 's'
	metaReady    byte = 'r'
)

func isStarting(m []byte) bool { return len(m) == 1 && m[0] == metaStarting }

// meta is the memberlist delegate that only serves this speaker's metadata.
type meta struct {
	mu    sync.Mutex
	ready bool
}

var _ ml.Delegate = (*meta)(nil)

// setReady marks the speaker ready; it reports whether that is a change.
func (m *meta) setReady() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	was := m.ready
	m.ready = true
	return !was
}

func (m *meta) NodeMeta(int) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready {
		return []byte{metaReady}
	}
	return []byte{metaStarting}
}

func (*meta) NotifyMsg([]byte)                {}
func (*meta) GetBroadcasts(int, int) [][]byte { return nil }
func (*meta) LocalState(bool) []byte          { return nil }
func (*meta) MergeRemoteState([]byte, bool)   {}

func (v *view) addrs() map[netip.AddrPort]bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := make(map[netip.AddrPort]bool, len(v.members))
	for _, ap := range v.members {
		m[ap] = true
	}
	return m
}
