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

package bgp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/server"
	"k8s.io/utils/clock"

	"github.com/ferrolb/ferrolb/internal/advertise"
)

// Option configures the GoBGP Router.
type Option func(*gobgpRouter)

// WithLogger sets the logger; GoBGP's own messages go to it at V(1) and V(2).
func WithLogger(l logr.Logger) Option { return func(r *gobgpRouter) { r.log = l } }

// WithClock sets the clock the Router waits with.
func WithClock(c clock.WithTicker) Option { return func(r *gobgpRouter) { r.clock = c } }

// WithNodeName sets the node name, the last resort for a router ID (see New).
func WithNodeName(name string) Option { return func(r *gobgpRouter) { r.nodeName = name } }

// WithIdleHoldTime sets how long a session rests after going down before reconnecting; DefaultIdleHoldTime
// unless set. Whole seconds, at least 1.
func WithIdleHoldTime(d time.Duration) Option { return func(r *gobgpRouter) { r.idleHold = d } }

// WithWithdrawWait bounds how long removing a session waits for its withdrawals to be sent before closing
// it; 2 s unless set. Close waits as long as its context allows instead.
func WithWithdrawWait(d time.Duration) Option { return func(r *gobgpRouter) { r.withdrawWait = d } }

// withHostNetwork replaces the host lookups, for tests.
func withHostNetwork(h hostNetwork) Option { return func(r *gobgpRouter) { r.host = h } }

// New returns a Router embedding GoBGP v3: one BgpServer per session, dialling only, rejecting every inbound
// route, with fast reconnects (DefaultConnectTime, DefaultIdleHoldTime).
//
// A session's router ID is, in order: Session.RouterID; its IPv4 source address; the IPv4 address the kernel
// would dial the peer from; the first IPv4 address on the interface holding that address; the little-endian
// CRC32 of the node name (WithNodeName), as MetalLB's native speaker does.
func New(opts ...Option) Router {
	r := &gobgpRouter{
		log:          logr.Discard(),
		clock:        clock.RealClock{},
		idleHold:     DefaultIdleHoldTime,
		withdrawWait: 2 * time.Second,
		host:         systemNetwork{},
		sessions:     map[string]*instance{},
		routes:       map[string]map[netip.Prefix]*advertise.Route{},
	}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

var _ Router = (*gobgpRouter)(nil)

type gobgpRouter struct {
	log          logr.Logger
	clock        clock.WithTicker
	nodeName     string
	idleHold     time.Duration
	withdrawWait time.Duration
	host         hostNetwork

	// mu serialises every change and read of the sessions.
	mu       sync.Mutex
	sessions map[string]*instance
	// routes are the routes each session should carry, by session name and prefix. A route is never
	// modified, only replaced: the announced paths share it while it holds.
	routes map[string]map[netip.Prefix]*advertise.Route
	// idle are stopped servers kept for reuse: GoBGP v3's Serve loop never returns, so a discarded server
	// would leak its goroutine.
	idle   []*server.BgpServer
	closed bool
}

// instance is one session and the BgpServer that runs it.
type instance struct {
	session  Session
	key      string
	routerID netip.Addr
	srv      *server.BgpServer
	stop     context.CancelFunc // stops the event watch
	// refused says why the session was shut down after the OPEN; heldBack, why routes are held back, by
	// prefix.
	refused  string
	heldBack map[netip.Prefix]error
	// announced is what the adapter put in the server's RIB, by prefix; nil when unknown (a new server, or a
	// RIB operation failed), which makes the next reconcilePaths list the RIB instead.
	announced map[netip.Prefix]announcedPath
}

// announcedPath is a path the adapter added: what it was built from, to compare and to withdraw it. route is
// the session's route itself (routes are replaced, never modified), so that a route that did not change costs
// no copy. path is set only for a path found in the RIB whose route is unknown: keeping every GoBGP path
// would cost about 1 KB per route and session, and a known one is built again to withdraw it.
type announcedPath struct {
	route    *advertise.Route
	nextHop  netip.Addr
	internal bool
	path     *api.Path
}

// withdrawal returns the path to withdraw.
func (a *announcedPath) withdrawal() (*api.Path, error) {
	if a.path != nil {
		return a.path, nil
	}
	return buildPath(a.route, a.nextHop, a.internal)
}

// same reports whether the path was built from exactly this route, next hop and session kind.
func (a *announcedPath) same(r *advertise.Route, nextHop netip.Addr, internal bool) bool {
	if a.route == nil || a.nextHop != nextHop || a.internal != internal {
		return false
	}
	return sameRoute(a.route, r)
}

// sameRoute reports whether two routes are equal.
func sameRoute(a, b *advertise.Route) bool {
	return a == b || a.Prefix == b.Prefix && a.LocalPref == b.LocalPref &&
		slices.Equal(a.Communities, b.Communities) && slices.Equal(a.LargeCommunities, b.LargeCommunities)
}

func (r *gobgpRouter) SetPeers(ctx context.Context, sessions []Session) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("BGP router closed")
	}
	var errs []error
	desired := map[string]Session{}
	for _, s := range sessions {
		if err := s.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := desired[s.Name]; dup {
			errs = append(errs, fmt.Errorf("session %q given twice: %w", s.Name, ErrInvalidSession))
			continue
		}
		desired[s.Name] = s
	}

	for _, name := range slices.Sorted(maps.Keys(r.sessions)) {
		inst := r.sessions[name]
		if s, ok := desired[name]; ok && s.Key() == inst.key {
			continue
		}
		r.log.Info("Removing BGP session", "peer", name, "address", inst.session.PeerAddrPort())
		wctx, cancel := context.WithTimeout(ctx, r.withdrawWait)
		err := r.remove(wctx, inst)
		cancel()
		delete(r.sessions, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("removing session %q: %w", name, err))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(desired)) {
		s := desired[name]
		inst := r.sessions[name]
		if inst == nil {
			var err error
			r.log.Info("Adding BGP session", "peer", name, "address", s.PeerAddrPort())
			if inst, err = r.add(ctx, s); err != nil {
				errs = append(errs, fmt.Errorf("adding session %q: %w", name, err))
				continue
			}
			r.sessions[name] = inst
		}
		// Next hop overrides are not part of the key: take them, and re-announce if they changed.
		inst.session = s
		if err := r.ensurePeer(ctx, inst); err != nil {
			errs = append(errs, err)
		}
		if err := r.reconcilePaths(ctx, inst); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *gobgpRouter) SetRoutes(ctx context.Context, routes map[string][]advertise.Route) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("BGP router closed")
	}
	desired := make(map[string]map[netip.Prefix]*advertise.Route, len(routes))
	for name, rs := range routes {
		prev := r.routes[name]
		m := make(map[netip.Prefix]*advertise.Route, len(rs))
		for i := range rs {
			prefix := rs[i].Prefix.Masked()
			// A route that did not change keeps its object: the announced path shares it, and compares
			// by pointer.
			if p := prev[prefix]; p != nil && sameRoute(p, &rs[i]) {
				m[prefix] = p
			} else {
				m[prefix] = cloneRoute(&rs[i])
			}
		}
		desired[name] = m
	}
	r.routes = desired
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.sessions)) {
		if err := r.reconcilePaths(ctx, r.sessions[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *gobgpRouter) UpdateRoutes(ctx context.Context, changes advertise.Changes) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("BGP router closed")
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		routes := r.routes[name]
		if routes == nil {
			routes = map[netip.Prefix]*advertise.Route{}
			r.routes[name] = routes
		}
		prefixes := make([]netip.Prefix, 0, len(changes[name]))
		for prefix, route := range changes[name] {
			prefix = prefix.Masked()
			if route == nil {
				delete(routes, prefix)
			} else {
				routes[prefix] = cloneRoute(route)
			}
			prefixes = append(prefixes, prefix)
		}
		if inst := r.sessions[name]; inst != nil {
			if err := r.reconcilePrefixes(ctx, inst, prefixes); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (r *gobgpRouter) Peers(ctx context.Context) []PeerState {
	r.mu.Lock()
	defer r.mu.Unlock()
	states := make([]PeerState, 0, len(r.sessions))
	for _, name := range slices.Sorted(maps.Keys(r.sessions)) {
		states = append(states, r.peerState(ctx, r.sessions[name]))
	}
	return states
}

func (r *gobgpRouter) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	// Withdraw everywhere first, then wait and stop: the routers drop the routes as fast as they can, and no
	// session waits for another's withdrawals.
	var errs []error
	pending := map[string]withdrawal{}
	for _, name := range slices.Sorted(maps.Keys(r.sessions)) {
		w, err := r.withdrawAll(ctx, r.sessions[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("withdrawing routes of session %q: %w", name, err))
		}
		pending[name] = w
	}
	for _, name := range slices.Sorted(maps.Keys(r.sessions)) {
		inst := r.sessions[name]
		if err := r.waitSent(ctx, inst, pending[name]); err != nil {
			errs = append(errs, fmt.Errorf("session %q: %w", name, err))
		}
		if err := r.stop(ctx, inst); err != nil {
			errs = append(errs, fmt.Errorf("stopping session %q: %w", name, err))
		}
		delete(r.sessions, name)
	}
	return errors.Join(errs...)
}

// add starts a server for the session and configures its neighbour.
func (r *gobgpRouter) add(ctx context.Context, s Session) (*instance, error) {
	rid, err := r.routerID(&s)
	if err != nil {
		return nil, err
	}
	srv, err := r.startServer(ctx, &s, rid)
	if err != nil {
		return nil, err
	}
	inst := &instance{session: s, key: s.Key(), routerID: rid, srv: srv}
	if err := srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(&s, r.idleHold)}); err != nil {
		_ = r.stop(ctx, inst)
		return nil, fmt.Errorf("adding neighbour %s: %w", s.Address, err)
	}
	watchCtx, cancel := context.WithCancel(context.Background())
	inst.stop = cancel
	err = srv.WatchEvent(watchCtx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, func(ev *api.WatchEventResponse) {
		pe := ev.GetPeer()
		if pe == nil || pe.Type != api.WatchEventResponse_PeerEvent_STATE || pe.Peer.GetState() == nil {
			return
		}
		if pe.Peer.State.SessionState == api.PeerState_ESTABLISHED {
			// Never call the server from its own callback.
			go r.established(s.Name, inst, pe.Peer.State.PeerAsn)
		}
	})
	if err != nil {
		_ = r.stop(ctx, inst)
		return nil, fmt.Errorf("watching session: %w", err)
	}
	return inst, nil
}

// startServer returns a started BgpServer for the session, reusing a stopped one if any.
func (r *gobgpRouter) startServer(ctx context.Context, s *Session, rid netip.Addr) (*server.BgpServer, error) {
	global := &api.Global{
		Asn:        s.MyASN,
		RouterId:   rid.String(),
		ListenPort: -1, // dial only: no listener on :179, no CAP_NET_BIND_SERVICE
	}
	var srv *server.BgpServer
	if n := len(r.idle); n > 0 {
		srv, r.idle = r.idle[n-1], r.idle[:n-1]
		if err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: global}); err != nil {
			r.log.V(1).Info("Discarding a stopped BGP server that does not restart", "error", err.Error())
			srv = nil
		}
	}
	if srv == nil {
		srv = server.NewBgpServer(server.LoggerOption(newLogger(r.log.WithValues("peer", s.Name))))
		go srv.Serve()
		if err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: global}); err != nil {
			r.idle = append(r.idle, srv)
			return nil, fmt.Errorf("starting BGP: %w", err)
		}
	}
	if err := rejectInbound(ctx, srv); err != nil {
		_ = srv.StopBgp(ctx, &api.StopBgpRequest{})
		r.idle = append(r.idle, srv)
		return nil, fmt.Errorf("rejecting inbound routes: %w", err)
	}
	return srv, nil
}

// rejectInboundPolicy rejects the routes peers send: the speaker never needs them, and keeping them costs
// memory and can interfere. GoBGP applies the global import policy to the paths the API adds as well, so a
// default of REJECT would drop ferrolb's own routes: the policy rejects what comes from a peer, internal or
// external, and the default accepts the rest, the locally originated paths.
const rejectInboundPolicy = "ferrolb-reject-inbound"

func rejectInbound(ctx context.Context, srv *server.BgpServer) error {
	reject := &api.Actions{RouteAction: api.RouteAction_REJECT}
	err := srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: &api.Policy{
		Name: rejectInboundPolicy,
		Statements: []*api.Statement{
			{Name: rejectInboundPolicy + "-ebgp", Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_EXTERNAL}, Actions: reject},
			{Name: rejectInboundPolicy + "-ibgp", Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_INTERNAL}, Actions: reject},
		},
	}})
	if err != nil {
		return err
	}
	return srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name:          "global",
		Direction:     api.PolicyDirection_IMPORT,
		Policies:      []*api.Policy{{Name: rejectInboundPolicy}},
		DefaultAction: api.RouteAction_ACCEPT,
	}})
}

// remove withdraws the session's routes, waits until they are sent (bounded by ctx) and stops its server.
func (r *gobgpRouter) remove(ctx context.Context, inst *instance) error {
	w, err := r.withdrawAll(ctx, inst)
	errs := []error{err, r.waitSent(ctx, inst, w)}
	// The wait is bounded by ctx; stopping must still happen.
	errs = append(errs, r.stop(context.WithoutCancel(ctx), inst))
	return errors.Join(errs...)
}

// stop shuts the session down (CEASE, peer de-configured) and keeps its server for reuse.
func (r *gobgpRouter) stop(ctx context.Context, inst *instance) error {
	if inst.stop != nil {
		inst.stop()
	}
	// StopBgp has hung in GoBGP before: never wait for it past the deadline.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- inst.srv.StopBgp(context.Background(), &api.StopBgpRequest{}) }()
	select {
	case err := <-done:
		if err == nil {
			r.idle = append(r.idle, inst.srv)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("stopping BGP: %w", ctx.Err())
	}
}

// ensurePeer re-adds the neighbour if the server lost it.
func (r *gobgpRouter) ensurePeer(ctx context.Context, inst *instance) error {
	found := false
	err := inst.srv.ListPeer(ctx, &api.ListPeerRequest{Address: inst.session.Address.Unmap().String()}, func(*api.Peer) { found = true })
	if err != nil || found {
		return err
	}
	if inst.refused != "" {
		return nil // shut down on purpose, see established
	}
	r.log.Info("Re-adding missing BGP neighbour", "peer", inst.session.Name)
	return inst.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(&inst.session, r.idleHold)})
}

// established runs when a session reaches the established state.
func (r *gobgpRouter) established(name string, inst *instance, peerAS uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.sessions[name] != inst {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := &inst.session
	if s.DynamicASN == DynamicASNExternal && peerAS == s.localASN() {
		// GoBGP accepts any AS when it expects none; "external" must refuse the local one, as FRR's
		// "remote-as external" does.
		inst.refused = fmt.Sprintf("peer presented AS %d, the local AS, but dynamicASN is external", peerAS)
		r.log.Info("Refusing BGP peer", "peer", name, "reason", inst.refused)
		if err := inst.srv.DisablePeer(ctx, &api.DisablePeerRequest{Address: s.Address.Unmap().String(), Communication: inst.refused}); err != nil {
			r.log.Error(err, "Cannot shut down BGP peer", "peer", name)
		}
		return
	}
	// The local address is known now: routes of the other family may have been waiting for a next hop.
	if len(inst.heldBack) > 0 {
		if err := r.reconcilePaths(ctx, inst); err != nil {
			r.log.Error(err, "Cannot announce BGP routes", "peer", name)
		}
	}
}

type listedPath struct {
	path        *api.Path
	fingerprint string
}

// wantedPath is a route a session should carry, with its next hop.
type wantedPath struct {
	route   *advertise.Route
	nextHop netip.Addr
}

// reconcilePaths makes the server's RIB hold exactly the session's routes, touching only what differs. With
// inst.announced known, a route that did not change costs a comparison, not a GoBGP path built and listed
// (about 10 µs each, which at 10,000 routes made every one-Service change cost 100 ms).
func (r *gobgpRouter) reconcilePaths(ctx context.Context, inst *instance) error {
	routes := r.routes[inst.session.Name]
	if inst.announced == nil {
		// Unknown: take what the RIB holds. A path whose attributes match stays as it is.
		if err := r.readAnnounced(ctx, inst); err != nil {
			return err
		}
	}
	prefixes := make([]netip.Prefix, 0, len(routes)+len(inst.announced))
	for prefix := range routes {
		prefixes = append(prefixes, prefix)
	}
	for prefix := range inst.announced {
		if _, ok := routes[prefix]; !ok {
			prefixes = append(prefixes, prefix)
		}
	}
	inst.heldBack = nil
	return r.applyPaths(ctx, inst, prefixes)
}

// reconcilePrefixes makes the server's RIB hold the session's routes for these prefixes, as reconcilePaths
// does for all, at a cost in proportion to the prefixes only.
func (r *gobgpRouter) reconcilePrefixes(ctx context.Context, inst *instance, prefixes []netip.Prefix) error {
	if inst.announced == nil {
		return r.reconcilePaths(ctx, inst)
	}
	for _, prefix := range prefixes {
		delete(inst.heldBack, prefix)
	}
	return r.applyPaths(ctx, inst, prefixes)
}

// readAnnounced learns what the server's RIB holds: a path whose attributes are those of the session's route
// for its prefix is taken as announced from it, and any other path as one to replace or withdraw.
func (r *gobgpRouter) readAnnounced(ctx context.Context, inst *instance) error {
	have, err := listLocalPaths(ctx, inst.srv)
	if err != nil {
		return fmt.Errorf("session %q: listing paths: %w", inst.session.Name, err)
	}
	internal := inst.session.Internal()
	want, _ := r.wanted(ctx, inst, slices.Collect(maps.Keys(have)))
	inst.announced = make(map[netip.Prefix]announcedPath, len(have))
	for prefix, h := range have {
		a := announcedPath{path: h.path}
		if w, ok := want[prefix]; ok {
			attrs, _ := buildAttrs(w.route, w.nextHop, internal)
			if fingerprint(attrs) == h.fingerprint {
				a = announcedPath{route: w.route, nextHop: w.nextHop, internal: internal}
			}
		}
		inst.announced[prefix] = a
	}
	return nil
}

// wanted returns the routes the session should carry among these prefixes, with their next hops, and the
// routes held back for want of a next hop.
func (r *gobgpRouter) wanted(ctx context.Context, inst *instance, prefixes []netip.Prefix) (map[netip.Prefix]wantedPath, map[netip.Prefix]error) {
	s := &inst.session
	routes := r.routes[s.Name]
	var (
		ifaceAddrs  []netip.Addr
		ifaceErr    error
		ifaceLooked bool
		heldBack    map[netip.Prefix]error
	)
	want := make(map[netip.Prefix]wantedPath, len(prefixes))
	for _, prefix := range prefixes {
		route, ok := routes[prefix]
		if !ok || !s.Carries(prefix) {
			continue
		}
		if s.Address.Unmap().Is4() != prefix.Addr().Is4() && !ifaceLooked {
			ifaceLooked = true
			ifaceAddrs, ifaceErr = r.interfaceAddrs(ctx, inst)
		}
		nh, err := nextHopFor(prefix, s, ifaceAddrs)
		if err != nil {
			if ifaceErr != nil {
				err = fmt.Errorf("%w: %w", err, ifaceErr)
			}
			if heldBack == nil {
				heldBack = map[netip.Prefix]error{}
			}
			heldBack[prefix] = err
			continue
		}
		want[prefix] = wantedPath{route: route, nextHop: nh}
	}
	return want, heldBack
}

// applyPaths makes the server's RIB hold the session's routes for these prefixes: it withdraws the paths of
// those the session should not carry, and adds those that are new or changed, in prefix order.
func (r *gobgpRouter) applyPaths(ctx context.Context, inst *instance, prefixes []netip.Prefix) error {
	s := &inst.session
	internal := s.Internal()
	want, heldBack := r.wanted(ctx, inst, prefixes)
	for prefix, err := range heldBack {
		if inst.heldBack == nil {
			inst.heldBack = map[netip.Prefix]error{}
		}
		inst.heldBack[prefix] = err
	}
	// Only what changed is sorted (for a stable order of UPDATEs): sorting every prefix on every call
	// would cost more than the comparisons.
	var gone, changed []netip.Prefix
	for _, prefix := range prefixes {
		a, announced := inst.announced[prefix]
		w, wanted := want[prefix]
		switch {
		case announced && !wanted:
			gone = append(gone, prefix)
		case wanted && (!announced || !a.same(w.route, w.nextHop, internal)):
			changed = append(changed, prefix)
		}
	}
	slices.SortFunc(gone, advertise.ComparePrefixes)
	slices.SortFunc(changed, advertise.ComparePrefixes)

	var errs []error
	failed := false
	for _, prefix := range gone {
		a := inst.announced[prefix]
		p, err := a.withdrawal()
		if err != nil {
			errs = append(errs, fmt.Errorf("withdrawing %s: %w", prefix, err))
			failed = true
			continue
		}
		if err := inst.srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: p.Family, Path: p}); err != nil {
			errs = append(errs, fmt.Errorf("withdrawing %s: %w", prefix, err))
			failed = true
			continue
		}
		delete(inst.announced, prefix)
	}
	for _, prefix := range changed {
		w := want[prefix]
		path, err := buildPath(w.route, w.nextHop, internal)
		if err != nil {
			if inst.heldBack == nil {
				inst.heldBack = map[netip.Prefix]error{}
			}
			inst.heldBack[prefix] = fmt.Errorf("building path for %s: %w", prefix, err)
			continue
		}
		// Adding a path for a prefix the server already announces replaces it: the peer gets one UPDATE
		// with the new attributes (an implicit withdrawal), and the session stays up.
		if _, err := inst.srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: path}); err != nil {
			errs = append(errs, fmt.Errorf("announcing %s: %w", prefix, err))
			failed = true
			continue
		}
		inst.announced[prefix] = announcedPath{route: w.route, nextHop: w.nextHop, internal: internal}
	}
	if failed {
		inst.announced = nil // list the RIB next time
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("session %q: %w", s.Name, err)
	}
	return nil
}

// cloneRoute copies the route, so that the caller's slices may change.
func cloneRoute(r *advertise.Route) *advertise.Route {
	c := *r
	c.Communities = slices.Clone(r.Communities)
	c.LargeCommunities = slices.Clone(r.LargeCommunities)
	return &c
}

// listLocalPaths returns the paths the server originates, by prefix.
func listLocalPaths(ctx context.Context, srv *server.BgpServer) (map[netip.Prefix]listedPath, error) {
	have := map[netip.Prefix]listedPath{}
	var errs []error
	for _, f := range []*api.Family{
		{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
	} {
		err := srv.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: f}, func(d *api.Destination) {
			for _, p := range d.Paths {
				// Inbound routes are rejected: every path of the RIB is one the adapter added.
				nlri, err := apiutil.GetNativeNlri(p)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				prefix, err := prefixOf(nlri)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				attrs, err := apiutil.GetNativePathAttributes(p)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				have[prefix] = listedPath{path: p, fingerprint: fingerprint(attrs)}
			}
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return have, errors.Join(errs...)
}

// withdrawal is what withdrawAll saw before withdrawing: whether UPDATEs must be waited for.
type withdrawal struct {
	updates uint64
	// families is the number of address families the peer had routes in: at least one UPDATE each.
	families int
}

// withdrawAll withdraws every route of the session explicitly, so that the router drops them at once
// instead of when the session closes (or, with graceful restart, after the restart time).
func (r *gobgpRouter) withdrawAll(ctx context.Context, inst *instance) (withdrawal, error) {
	var w withdrawal
	peer, err := getPeer(ctx, inst)
	if err != nil {
		return w, err
	}
	if peer != nil && peer.State.GetSessionState() == api.PeerState_ESTABLISHED {
		w.updates = peer.State.GetMessages().GetSent().GetUpdate()
		announced := inst.announced
		if announced == nil {
			if err := r.readAnnounced(ctx, inst); err != nil {
				return w, err
			}
			announced = inst.announced
		}
		families := map[bool]bool{}
		for prefix := range announced {
			families[prefix.Addr().Is4()] = true
		}
		w.families = len(families)
	}
	inst.announced = nil
	var errs []error
	for _, f := range []*api.Family{
		{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
	} {
		if err := inst.srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: f}); err != nil {
			errs = append(errs, err)
		}
	}
	return w, errors.Join(errs...)
}

// waitSent waits until the withdrawals have been written to the session, or ctx ends.
func (r *gobgpRouter) waitSent(ctx context.Context, inst *instance, w withdrawal) error {
	if w.families == 0 {
		return nil
	}
	ticker := r.clock.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		peer, err := getPeer(ctx, inst)
		if err != nil {
			return err
		}
		if peer == nil || peer.State.GetSessionState() != api.PeerState_ESTABLISHED {
			return nil // nothing more can be sent
		}
		if peer.State.GetMessages().GetSent().GetUpdate() >= w.updates+uint64(w.families) && peer.State.GetOutQ() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for withdrawals to be sent: %w", ctx.Err())
		case <-ticker.C():
		}
	}
}

// getPeer returns GoBGP's view of the session's neighbour; nil if it has none. It never asks for the
// advertised counts: GoBGP computes them by running the export policy over every path of the RIB, which at
// 10,000 routes cost megabytes and milliseconds on each of the session poller's calls. The adapter's own
// count of the paths it put in the RIB is the same number.
func getPeer(ctx context.Context, inst *instance) (*api.Peer, error) {
	var peer *api.Peer
	err := inst.srv.ListPeer(ctx, &api.ListPeerRequest{Address: inst.session.Address.Unmap().String()},
		func(p *api.Peer) { peer = p })
	return peer, err
}

func (r *gobgpRouter) peerState(ctx context.Context, inst *instance) PeerState {
	s := &inst.session
	st := PeerState{Name: s.Name, Peer: s.PeerAddrPort(), State: "unknown", PeerASN: s.peerASN()}
	for prefix := range r.routes[s.Name] {
		if s.Carries(prefix) {
			st.Desired++
		}
	}
	peer, err := getPeer(ctx, inst)
	switch {
	case err != nil:
		st.Error = err.Error()
		return st
	case peer == nil:
		st.Error = "neighbour missing from GoBGP"
		return st
	}
	state := peer.GetState()
	st.State = sessionState(state.GetSessionState())
	st.Up = state.GetSessionState() == api.PeerState_ESTABLISHED
	if state.GetPeerAsn() != 0 {
		st.PeerASN = state.GetPeerAsn()
	}
	st.Flops = state.GetFlops()
	st.UpdatesSent = state.GetMessages().GetSent().GetUpdate()
	st.UpdatesReceived = state.GetMessages().GetReceived().GetUpdate()
	if st.Up {
		if a, err := netip.ParseAddr(peer.GetTransport().GetLocalAddress()); err == nil && !a.IsUnspecified() {
			st.LocalAddress = a.Unmap()
		}
		if t := peer.GetTimers().GetState().GetUptime(); t != nil && t.Seconds > 0 {
			st.Since = t.AsTime()
		}
	} else if t := peer.GetTimers().GetState().GetDowntime(); t != nil && t.Seconds > 0 {
		st.Since = t.AsTime()
	}
	if st.Up {
		// Every path of the server's RIB goes to its one neighbour: the export policy accepts all, and the
		// adapter adds paths of the session's families only.
		st.Advertised = len(inst.announced)
	}
	st.Error = inst.refused
	if len(inst.heldBack) > 0 {
		st.Error = joinNonEmpty(st.Error, heldBackError(inst.heldBack).Error())
	}
	return st
}

// heldBackError joins the reasons routes are held back, in prefix order.
func heldBackError(heldBack map[netip.Prefix]error) error {
	var errs []error
	for _, prefix := range slices.SortedFunc(maps.Keys(heldBack), advertise.ComparePrefixes) {
		errs = append(errs, heldBack[prefix])
	}
	return errors.Join(errs...)
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// interfaceAddrs returns the addresses on the interface holding the session's local address: its source
// address, the local address of the established connection, or the address the kernel would dial from.
func (r *gobgpRouter) interfaceAddrs(ctx context.Context, inst *instance) ([]netip.Addr, error) {
	local := inst.session.SourceAddress.Unmap()
	if !local.IsValid() {
		if peer, err := getPeer(ctx, inst); err == nil && peer != nil &&
			peer.State.GetSessionState() == api.PeerState_ESTABLISHED {
			if a, err := netip.ParseAddr(peer.GetTransport().GetLocalAddress()); err == nil && !a.IsUnspecified() {
				local = a.Unmap()
			}
		}
	}
	if !local.IsValid() {
		var err error
		if local, err = r.host.routeSource(inst.session.Address.Unmap()); err != nil {
			return nil, err
		}
	}
	return r.host.interfaceAddrs(local)
}

// routerID derives the session's BGP identifier (see New).
func (r *gobgpRouter) routerID(s *Session) (netip.Addr, error) {
	if s.RouterID.IsValid() {
		return s.RouterID, nil
	}
	if src := s.SourceAddress.Unmap(); src.Is4() {
		return src, nil
	}
	local, err := r.host.routeSource(s.Address.Unmap())
	if err == nil && local.Is4() && !local.IsUnspecified() {
		return local, nil
	}
	if err == nil {
		if addrs, err := r.host.interfaceAddrs(local); err == nil {
			for _, a := range addrs {
				if a.Is4() && !a.IsUnspecified() {
					return a, nil
				}
			}
		}
	}
	if r.nodeName != "" {
		return routerIDFromName(r.nodeName), nil
	}
	return netip.Addr{}, fmt.Errorf("session %q: no router ID: set routerID, an IPv4 sourceAddress, or the node name: %w", s.Name, ErrInvalidSession)
}
