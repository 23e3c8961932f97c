package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/speaker/bgp"
	"github.com/ferrolb/ferrolb/speaker/layer2"
)

// Options configure a speaker.
type Options struct {
	// NodeName is the node the speaker runs on (--node-name).
	NodeName string
	// Namespace is ferrolb's namespace: configuration, ConfigurationState and ServiceL2Status objects.
	Namespace string
	// LoadBalancerClass selects the Services to announce (--lb-class); empty means those without a class.
	LoadBalancerClass string
	// IgnoreExcludeLB keeps nodes labelled node.kubernetes.io/exclude-from-external-load-balancers in the
	// election (--ignore-exclude-lb).
	IgnoreExcludeLB bool
	// Refresh, when positive, re-sends gratuitous ARP/NDP for every owned address at that period, for
	// switches whose MAC tables age out before the routers' ARP caches (--gratuitous-refresh).
	Refresh time.Duration
	// Announcer answers ARP and NDP for the addresses the node owns.
	Announcer layer2.Announcer
	// Members tells which nodes run a live speaker; nil disables memberlist, and every node is then assumed
	// to run one (MetalLB's behaviour).
	Members Membership
	// Owner, if set, owns the objects the speaker creates (its pod), so that they go with it.
	Owner *metav1.OwnerReference
	// Ready, if set, is called once, when the speaker has put its first valid configuration in force and
	// converged every Service against it: from then on it announces what it wins (memberlist tells the
	// other speakers, which until then go on announcing for it).
	Ready func()
	// Router, if set, holds the node's BGP sessions and routes (speaker/bgp); nil turns BGP off.
	Router bgp.Router
	// Clock paces the BGP route updates and session polling; nil means the real clock.
	Clock clock.WithTicker
}

// Membership is the view of the live speakers (speaker/layer2/memberlist).
type Membership interface {
	// Members returns the names of the nodes with a live speaker, this one included.
	Members() sets.Set[string]
	// Changes signals, coalesced, that Members changed.
	Changes() <-chan struct{}
}

// Speaker is the state shared by the speaker's reconcilers: the last valid configuration and what this node
// announces. The lock is held around decisions and Announcer calls, never around API calls.
type Speaker struct {
	client.Client
	o        Options
	recorder events.EventRecorder

	mu        sync.Mutex
	cfg       *config.Config // nil until a configuration was valid once
	announced map[types.NamespacedName]announcement
	// owners are the Services announced with each address: an address is withdrawn with its last Service.
	owners map[netip.Addr]sets.Set[types.NamespacedName]

	// frozen stops every change of announcements: set while the speaker hands over on shutdown.
	frozen atomic.Bool
	// ready is done once the first configuration is in force and every Service converged; converged is
	// true from then on.
	ready     sync.Once
	converged atomic.Bool
	// all receives a signal to converge every Service again (configuration, nodes or members changed).
	all chan event.GenericEvent

	// BGP state, under mu. peers are the configuration's peers that select this node, by name order;
	// bgpAnnounced the addresses each Service advertises from this node, and rib its routes.
	// routesChanged asks, coalesced, for the routes that changed to be handed to the Router.
	peers         []*config.Peer
	bgpAnnounced  map[types.NamespacedName][]netip.Addr
	rib           *advertise.RIB
	routesChanged chan struct{}

	// reader reads past the cache; indexes find EndpointSlices and status objects by Service; statusQueue asks the StatusReconciler to write a Service's status
	// objects; created are the status objects the speaker created that the cache may not show yet, by kind
	// and Service, under createdMu.
	reader      client.Reader
	indexes     serviceIndexes
	statusQueue *requests
	createdMu   sync.Mutex
	created     map[createdStatus]string
}

// announcement is what the node announces for one Service.
type announcement struct {
	ips     []netip.Addr
	ifaces  layer2.InterfaceSet
	refresh time.Duration
}

// New returns a speaker without configuration; Setup adds its reconcilers to a manager.
func New(c client.Client, recorder events.EventRecorder, o Options) *Speaker {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return &Speaker{
		Client: c, o: o, recorder: recorder,
		announced: map[types.NamespacedName]announcement{},
		owners:    map[netip.Addr]sets.Set[types.NamespacedName]{},
		all:       make(chan event.GenericEvent, 1),

		bgpAnnounced:  map[types.NamespacedName][]netip.Addr{},
		rib:           advertise.NewRIB(),
		routesChanged: make(chan struct{}, 1),

		reader:      c,
		statusQueue: &requests{pending: sets.New[reconcile.Request]()},
		created:     map[createdStatus]string{},
	}
}

// Setup creates a speaker and adds its reconcilers to mgr.
func Setup(mgr ctrl.Manager, o Options) (*Speaker, error) {
	if o.NodeName == "" {
		return nil, fmt.Errorf("the speaker needs its node name (--node-name or METALLB_NODE_NAME)")
	}
	if o.Announcer == nil {
		return nil, fmt.Errorf("the speaker needs a layer-2 announcer")
	}
	s := New(mgr.GetClient(), mgr.GetEventRecorder("metallb-speaker"), o)
	s.reader = mgr.GetAPIReader()
	var err error
	if s.indexes, err = addIndexes(context.Background(), mgr.GetCache()); err != nil {
		return nil, err
	}
	if err := (&ConfigReconciler{Speaker: s}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the configuration reconciler: %w", err)
	}
	if err := (&ServiceReconciler{Speaker: s}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Service reconciler: %w", err)
	}
	if err := (&StatusReconciler{Speaker: s}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the status reconciler: %w", err)
	}
	if o.Members != nil {
		if err := mgr.Add(membersRunnable{s}); err != nil {
			return nil, fmt.Errorf("setting up memberlist changes: %w", err)
		}
	}
	if err := mgr.Add(metricsRunnable{s}); err != nil {
		return nil, fmt.Errorf("setting up metrics: %w", err)
	}
	if o.Router != nil {
		if err := mgr.Add(routesRunnable{s}); err != nil {
			return nil, fmt.Errorf("setting up BGP route updates: %w", err)
		}
		if err := mgr.Add(sessionsRunnable{s}); err != nil {
			return nil, fmt.Errorf("setting up BGP session events: %w", err)
		}
	}
	return s, nil
}

// Freeze stops every change of announcements, for the hand-over on shutdown: the node leaves memberlist,
// the other speakers take its addresses over, and meanwhile it goes on answering for them.
func (s *Speaker) Freeze() { s.frozen.Store(true) }

// Announced returns the addresses the node announces, sorted.
func (s *Speaker) Announced() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	ips := make([]netip.Addr, 0, len(s.owners))
	for ip := range s.owners {
		ips = append(ips, ip)
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	return ips
}

// config returns the configuration in force, nil before the first valid one.
func (s *Speaker) config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// setConfig puts a valid configuration in force, with the peers that select this node, and converges every
// Service against it.
func (s *Speaker) setConfig(cfg *config.Config, peers []*config.Peer) {
	s.mu.Lock()
	s.cfg = cfg
	s.peers = peers
	s.rib.SetPeers(peers)
	s.mu.Unlock()
	s.routesChangedNow()
	s.convergeAll()
}

// convergeAll asks for every Service to be converged again; requests coalesce.
func (s *Speaker) convergeAll() {
	select {
	case s.all <- event.GenericEvent{Object: &corev1.Service{}}:
	default:
	}
}

// announce makes the node announce the Service's addresses; it reports whether that is news (the Service
// was not announced, or with other addresses).
func (s *Speaker) announce(key types.NamespacedName, a announcement) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.announced[key]
	for _, ip := range prev.ips {
		if !slices.Contains(a.ips, ip) {
			s.release(key, ip)
		}
	}
	for _, ip := range a.ips {
		if s.owners[ip] == nil {
			s.owners[ip] = sets.New[types.NamespacedName]()
		}
		s.owners[ip].Insert(key)
		s.o.Announcer.SetOwned(ip, a.ifaces, a.refresh)
	}
	s.announced[key] = a
	return !had || !slices.Equal(prev.ips, a.ips)
}

// withdraw stops announcing the Service's addresses; it returns those the Service had.
func (s *Speaker) withdraw(key types.NamespacedName) []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.announced[key]
	if !had {
		return nil
	}
	for _, ip := range prev.ips {
		s.release(key, ip)
	}
	delete(s.announced, key)
	return prev.ips
}

// release drops the Service from the owners of ip, and the address itself with its last Service. The lock
// must be held.
func (s *Speaker) release(key types.NamespacedName, ip netip.Addr) {
	owners := s.owners[ip]
	owners.Delete(key)
	if owners.Len() == 0 {
		delete(s.owners, ip)
		s.o.Announcer.Withdraw(ip)
	}
}

// requests is a source of reconcile requests from the speaker's own code: the ServiceReconciler asks the
// StatusReconciler for a Service's status objects through it. Requests made before the controller starts
// wait for it.
type requests struct {
	mu      sync.Mutex
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	pending sets.Set[reconcile.Request]
}

var _ source.TypedSource[reconcile.Request] = (*requests)(nil)

// Start hands the requests to the controller's queue, now and from then on.
func (q *requests) Start(_ context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = queue
	for req := range q.pending {
		queue.Add(req)
	}
	q.pending = nil
	return nil
}

// add asks for the Service to be reconciled.
func (q *requests) add(key types.NamespacedName) {
	q.mu.Lock()
	defer q.mu.Unlock()
	req := reconcile.Request{NamespacedName: key}
	if q.queue == nil {
		q.pending.Insert(req)
		return
	}
	q.queue.Add(req)
}

// membersRunnable converges every Service when memberlist's view changes.
type membersRunnable struct{ s *Speaker }

func (m membersRunnable) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.s.o.Members.Changes():
			m.s.convergeAll()
		}
	}
}

// NeedLeaderElection is false: every speaker announces for its own node.
func (membersRunnable) NeedLeaderElection() bool { return false }
