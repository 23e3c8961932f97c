package speaker

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/internal/election"
	"github.com/ferrolb/ferrolb/speaker/bgp"
)

// Events the speaker records on a BGPPeer when one of the node's sessions with it changes state.
const (
	EventSessionUp   = "sessionUp"
	EventSessionDown = "sessionDown"
)

// reasonNodeUnknown: the speaker's own Node is not in the cache, so no BGPAdvertisement can select it.
const reasonNodeUnknown = "nodeUnknown"

const (
	// routesDelay is how long the route updater waits, after a change, for more changes before it hands
	// them to the Router: a burst (every Service converged after a restart or a configuration change) makes a
	// handful of calls instead of one per Service, and a single change still reaches the router at once.
	routesDelay = 10 * time.Millisecond
	// routesRetryMax bounds the wait before handing the table again after the Router refused some of it.
	routesRetryMax = 30 * time.Second
	// sessionPoll is how often the session states are read for the sessionUp/sessionDown events.
	sessionPoll = time.Second
	// peersRetry is when the configuration is applied again after the Router refused some sessions.
	peersRetry = 30 * time.Second
)

// nodeSessions returns the configuration's peers that select the node with these labels, in name order,
// with their sessions. A peer the BGP speaker cannot honour makes the configuration invalid for this node.
func nodeSessions(cfg *config.Config, nodeLabels map[string]string) ([]*config.Peer, []bgp.Session, error) {
	var (
		peers    []*config.Peer
		sessions []bgp.Session
		errs     []error
	)
	for _, name := range slices.Sorted(maps.Keys(cfg.Peers)) {
		p := cfg.Peers[name]
		if !p.SelectsNode(labels.Set(nodeLabels)) {
			continue
		}
		s, err := bgp.SessionFromPeer(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		peers, sessions = append(peers, p), append(sessions, s)
	}
	return peers, sessions, errors.Join(errs...)
}

// advertiseBGP records what the node advertises for the Service, its addresses and their advertisements,
// and asks for the routes to be updated if they changed. It reports whether the Service is news (not
// advertised before, or with other addresses).
func (s *Speaker) advertiseBGP(key types.NamespacedName, ips []netip.Addr, adverts []advertise.Advertisement) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.bgpAnnounced[key]
	if s.rib.SetService(key.String(), adverts) {
		s.routesChangedNow()
	}
	s.bgpAnnounced[key] = ips
	return !had || !slices.Equal(prev, ips)
}

// withdrawBGP forgets what the node advertised for the Service; it returns the Service's addresses.
func (s *Speaker) withdrawBGP(key types.NamespacedName) []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.bgpAnnounced[key]
	if !had {
		return nil
	}
	delete(s.bgpAnnounced, key)
	if s.rib.SetService(key.String(), nil) {
		s.routesChangedNow()
	}
	return prev
}

// routesChangedNow asks, coalesced, for the routes to be handed to the Router again.
func (s *Speaker) routesChangedNow() {
	select {
	case s.routesChanged <- struct{}{}:
	default:
	}
}

// routeChanges returns the routes that changed since the last call, or, with full set or when the RIB says
// every route may have changed, the whole table.
func (s *Speaker) routeChanges(full bool) (advertise.Changes, map[string][]advertise.Route) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, all := s.rib.Changes()
	if full || all {
		return nil, s.rib.Routes()
	}
	return changes, nil
}

// reconcileBGP advertises the Service over BGP from this node when advertise.ForService says so, and
// withdraws it otherwise.
func (r *ServiceReconciler) reconcileBGP(ctx context.Context, cfg *config.Config, pool string, svc *corev1.Service,
	ips []netip.Addr, in election.Input) {
	if r.o.Router == nil {
		return
	}
	key := client.ObjectKeyFromObject(svc)
	node := in.Nodes[r.o.NodeName]
	if node == nil {
		r.stopBGP(ctx, key, reasonNodeUnknown)
		return
	}
	var opts []advertise.Option
	if r.o.IgnoreExcludeLB {
		opts = append(opts, advertise.WithIgnoreExcludeLB())
	}
	adverts, reason := advertise.ForService(node, svc, in.EndpointSlices, cfg, pool, opts...)
	if reason != "" {
		r.stopBGP(ctx, key, reason)
		return
	}
	changed := r.advertiseBGP(key, ips, adverts)
	if changed {
		ctrl.LoggerFrom(ctx).Info("Advertising over BGP", "service", klog.KObj(svc), "ips", ips, "peers", r.bgpPeers(key))
		// Its own action: the recorder folds events that differ only in their note into one series, and
		// the layer-2 nodeAssigned of the same node must stay a separate event.
		r.recorder.Eventf(eventRef(svc), nil, corev1.EventTypeNormal, EventNodeAssigned, "Advertise",
			"announcing from node %q with protocol %q", r.o.NodeName, "bgp")
	}
}

// stopBGP withdraws the Service's routes, if the node advertised them.
func (r *ServiceReconciler) stopBGP(ctx context.Context, key types.NamespacedName, reason string) {
	if r.o.Router == nil {
		return
	}
	if ips := r.withdrawBGP(key); len(ips) > 0 {
		ctrl.LoggerFrom(ctx).Info("Withdrawn from BGP", "service", key, "ips", ips, "reason", reason)
	}
}

// routesRunnable hands the routes that changed to the Router, coalescing bursts; the whole table the first
// time, when the peers changed, and after the Router refused some of it.
type routesRunnable struct{ s *Speaker }

func (r routesRunnable) Start(ctx context.Context) error {
	s := r.s
	log := ctrl.Log.WithName("bgp").WithValues("node", s.o.NodeName)
	retry := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.routesChanged:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.o.Clock.After(routesDelay):
		}
		// Changes signalled during the wait are in what is handed now.
		select {
		case <-s.routesChanged:
		default:
		}
		if s.frozen.Load() {
			continue // shutting down: the Router withdraws everything on Close
		}
		changes, table := s.routeChanges(retry > 0)
		var err error
		if table != nil {
			err = s.o.Router.SetRoutes(ctx, table)
		} else {
			err = s.o.Router.UpdateRoutes(ctx, changes)
		}
		if err != nil {
			// The changes are spent: the retry hands the whole table.
			retry = min(max(2*retry, time.Second), routesRetryMax)
			log.Error(err, "Handing the routes to the BGP router; retrying", "retryIn", retry)
			select {
			case <-ctx.Done():
				return nil
			case <-s.o.Clock.After(retry):
			}
			s.routesChangedNow()
			continue
		}
		retry = 0
		log.V(1).Info("Routes handed to the BGP router", "full", table != nil, "sessions", max(len(table), len(changes)))
	}
}

// NeedLeaderElection is false: every speaker advertises from its own node.
func (routesRunnable) NeedLeaderElection() bool { return false }

// sessionsRunnable polls the state of the node's sessions and records an event on the BGPPeer, and a log
// line, when one goes up, or goes down after it was up.
type sessionsRunnable struct{ s *Speaker }

func (r sessionsRunnable) Start(ctx context.Context) error {
	s := r.s
	log := ctrl.Log.WithName("bgp").WithValues("node", s.o.NodeName)
	ticker := s.o.Clock.NewTicker(sessionPoll)
	defer ticker.Stop()
	up := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		}
		seen := map[string]bool{}
		for _, p := range s.o.Router.Peers(ctx) {
			seen[p.Name] = true
			was := up[p.Name]
			up[p.Name] = p.Up
			switch {
			case p.Up && !was:
				log.Info("BGP session up", "peer", p.Name, "address", p.Peer, "event", EventSessionUp)
				s.recorder.Eventf(s.peerRef(ctx, p.Name), nil, corev1.EventTypeNormal, EventSessionUp, "Connect",
					"BGP session from node %q to %s established", s.o.NodeName, p.Peer)
			case !p.Up && was:
				why := p.State
				if p.Error != "" {
					why += ": " + p.Error
				}
				log.Info("BGP session down", "peer", p.Name, "address", p.Peer, "state", p.State, "error", p.Error, "event", EventSessionDown)
				s.recorder.Eventf(s.peerRef(ctx, p.Name), nil, corev1.EventTypeWarning, EventSessionDown, "Connect",
					"BGP session from node %q to %s down (%s)", s.o.NodeName, p.Peer, why)
			}
		}
		// A session removed by the configuration is no news.
		for name := range up {
			if !seen[name] {
				delete(up, name)
			}
		}
	}
}

// NeedLeaderElection is false: every speaker reports its own sessions.
func (sessionsRunnable) NeedLeaderElection() bool { return false }

// peerRef is the BGPPeer an event is about, from the cache, without its resourceVersion so that the recorder
// folds repeated events into one series.
func (s *Speaker) peerRef(ctx context.Context, name string) *metallbv1beta2.BGPPeer {
	ref := &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: s.o.Namespace, Name: name}}
	peer := &metallbv1beta2.BGPPeer{}
	if err := s.Get(ctx, client.ObjectKeyFromObject(ref), peer); err == nil {
		ref.UID = peer.UID
	}
	return ref
}
