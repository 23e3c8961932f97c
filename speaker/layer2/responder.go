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

package layer2

import (
	"container/heap"
	"context"
	"hash/fnv"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/mdlayher/ethernet"
	"k8s.io/utils/clock"
)

const (
	// GratuitousCount is the number of gratuitous rounds sent on takeover. RFC 4861 §7.2.6: a node may send
	// at most MAX_NEIGHBOR_ADVERTISEMENT = 3 unsolicited NAs; ARP uses the same count.
	GratuitousCount = 3
	// GratuitousInterval separates the rounds: 0, 1.1 s, 2.2 s. The first goes out at once, as failover time
	// runs until the clients learn the new owner. RFC 4861 §7.2.6 spaces unsolicited NAs at least RetransTimer
	// (1 s) apart, and Linux kernels before 4.12/4.13 ignore an ARP update that arrives within locktime (1 s)
	// of the previous one, so a round at 0.5 s would be wasted on them; 1.1 s (MetalLB's spacing) clears both.
	GratuitousInterval = 1100 * time.Millisecond
	// MinRefresh is the shortest period of gratuitous refresh; shorter periods are raised to it. Refresh exists
	// to outlast switch FDB and router ARP aging, which count in minutes.
	MinRefresh = 5 * time.Second
	// DefaultRescanInterval is how often interfaces are rescanned, as in MetalLB.
	DefaultRescanInterval = 10 * time.Second
)

// Option configures a Responder.
type Option func(*options)

type options struct {
	clock   clock.WithTicker
	log     logr.Logger
	exclude []string
	rescan  time.Duration
	metrics *Metrics
	sys     system
}

// WithClock sets the clock timers run on; tests pass a fake one.
func WithClock(c clock.WithTicker) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger.
func WithLogger(l logr.Logger) Option { return func(o *options) { o.log = l } }

// WithExcludePatterns replaces DefaultExcludePatterns: interfaces whose name matches one of the regular
// expressions get no responder (announcedInterfacesToExclude of /etc/metallb/excludel2.yaml).
func WithExcludePatterns(patterns ...string) Option {
	return func(o *options) { o.exclude = slices.Clone(patterns) }
}

// WithRescanInterval sets the period of interface scans, DefaultRescanInterval unless set.
func WithRescanInterval(d time.Duration) Option { return func(o *options) { o.rescan = d } }

// WithMetrics sets the counters to update; without it they are kept but registered nowhere.
func WithMetrics(m *Metrics) Option { return func(o *options) { o.metrics = m } }

// system is what the Responder needs from the operating system; sys_linux.go implements it with sockets
// and /sys, tests with fakes.
type system interface {
	// links lists the interfaces.
	links() ([]Link, error)
	// dialARP opens a raw ARP socket on the interface.
	dialARP(l Link) (arpConn, error)
	// dialNDP opens an NDP socket on the interface and returns the link-local address it sends from.
	dialNDP(l Link) (ndpConn, netip.Addr, error)
}

// Responder is the Announcer over real interfaces: it owns addresses and runs the ARP and NDP responders.
// It is safe for concurrent use.
type Responder struct {
	clock       clock.WithTicker
	log         logr.Logger
	exclude     []*regexp.Regexp
	rescanEvery time.Duration
	metrics     *Metrics
	sys         system

	// mu guards the owned addresses and the links. Every packet about an address is sent holding it (read),
	// and Withdraw takes it (write), so no packet for an address leaves once Withdraw returned.
	mu    sync.RWMutex
	owned map[netip.Addr]*ownedIP
	links map[string]*link
	// gen numbers bursts and refresh schedules, so that stale timer events are recognised.
	gen uint64
	// dialErrs holds the last error opening each interface, logged once until it changes.
	dialErrs map[string]string

	// schedMu guards events; it is taken after mu, never before.
	schedMu sync.Mutex
	events  eventHeap
	wake    chan struct{}
	rescan  chan struct{}
	readers sync.WaitGroup
}

var _ Announcer = (*Responder)(nil)

// ownedIP is an address the node owns.
type ownedIP struct {
	ifaces  InterfaceSet
	refresh time.Duration
	// burstGen and refreshGen identify the current gratuitous burst and refresh schedule.
	burstGen, refreshGen uint64
}

// link is an interface with its responders.
type link struct {
	Link
	want roles
	arp  *arpResponder
	ndp  *ndpResponder
	// dead is set when a read loop fails; the next scan replaces the link.
	dead   atomic.Bool
	closed atomic.Bool
}

func (l *link) close() {
	l.closed.Store(true)
	if l.arp != nil {
		_ = l.arp.conn.Close()
	}
	if l.ndp != nil {
		_ = l.ndp.conn.Close()
	}
}

// New returns a Responder. It owns nothing and opens no socket until Run.
func New(opts ...Option) (*Responder, error) {
	o := options{
		clock:   clock.RealClock{},
		log:     logr.Discard(),
		exclude: DefaultExcludePatterns,
		rescan:  DefaultRescanInterval,
		sys:     defaultSystem(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	exclude, err := compilePatterns(o.exclude)
	if err != nil {
		return nil, err
	}
	if o.metrics == nil {
		if o.metrics, err = NewMetrics(nil); err != nil {
			return nil, err
		}
	}
	return &Responder{
		clock:       o.clock,
		log:         o.log,
		exclude:     exclude,
		rescanEvery: o.rescan,
		metrics:     o.metrics,
		sys:         o.sys,
		owned:       map[netip.Addr]*ownedIP{},
		links:       map[string]*link{},
		dialErrs:    map[string]string{},
		wake:        make(chan struct{}, 1),
		rescan:      make(chan struct{}, 1),
	}, nil
}

// normalize strips what does not make an address different on the wire.
func normalize(ip netip.Addr) netip.Addr {
	return ip.Unmap().WithZone("")
}

// SetOwned implements Announcer.
func (r *Responder) SetOwned(ip netip.Addr, ifaces InterfaceSet, refresh time.Duration) {
	ip = normalize(ip)
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() {
		return
	}
	if refresh > 0 && refresh < MinRefresh {
		refresh = MinRefresh
	}
	if refresh < 0 {
		refresh = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	o, known := r.owned[ip]
	if !known {
		o = &ownedIP{}
		r.owned[ip] = o
	}
	if !known || !o.ifaces.Equal(ifaces) {
		old := o.ifaces
		o.ifaces = ifaces
		if ip.Is6() {
			for name, l := range r.links {
				if l.ndp == nil {
					continue
				}
				switch was, is := old.Contains(name), ifaces.Contains(name); {
				case is && !was:
					r.join(l, ip)
				case was && !is:
					r.leave(l, ip)
				}
			}
		}
		r.gen++
		o.burstGen = r.gen
		r.sendGratuitousLocked(ip, o, "")
		r.push(event{due: now.Add(GratuitousInterval), ip: ip, gen: o.burstGen, round: 1})
	}
	if !known || o.refresh != refresh {
		o.refresh = refresh
		r.gen++
		o.refreshGen = r.gen
		if refresh > 0 {
			r.push(event{due: now.Add(refreshPhase(ip, refresh)), ip: ip, gen: o.refreshGen, refresh: true})
		}
	}
}

// refreshPhase is the delay of an address's first refresh, in (0, refresh]: a hash of the address spreads
// the refreshes of addresses taken over together (at startup, on a node's failure) across the period
// instead of sending them in one burst, and the period after that first refresh is exact.
func refreshPhase(ip netip.Addr, refresh time.Duration) time.Duration {
	h := fnv.New64a()
	b := ip.As16()
	_, _ = h.Write(b[:])
	return refresh - time.Duration(h.Sum64()%uint64(refresh))
}

// Withdraw implements Announcer.
func (r *Responder) Withdraw(ip netip.Addr) {
	ip = normalize(ip)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.owned[ip]; !ok {
		return
	}
	delete(r.owned, ip)
	if ip.Is6() {
		for _, l := range r.links {
			if l.ndp != nil {
				r.leave(l, ip)
			}
		}
	}
	// Pending events of ip find it gone and are dropped when due.
}

// Owned implements Announcer.
func (r *Responder) Owned() []netip.Addr {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.SortedFunc(maps.Keys(r.owned), netip.Addr.Compare)
}

// Interfaces implements Announcer.
func (r *Responder) Interfaces() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.links))
}

// Rescan implements Announcer.
func (r *Responder) Rescan() {
	select {
	case r.rescan <- struct{}{}:
	default:
	}
}

// Run implements Announcer. It scans interfaces at once, then every rescan interval and on Rescan.
func (r *Responder) Run(ctx context.Context) error {
	r.scan()
	ticker := r.clock.NewTicker(r.rescanEvery)
	defer ticker.Stop()
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		r.runScheduler(ctx)
	}()
	for {
		select {
		case <-ctx.Done():
			<-schedDone
			r.closeAll()
			return nil
		case <-ticker.C():
			r.scan()
		case <-r.rescan:
			r.scan()
		}
	}
}

func (r *Responder) closeAll() {
	r.mu.Lock()
	for name, l := range r.links {
		l.close()
		delete(r.links, name)
	}
	r.mu.Unlock()
	r.readers.Wait()
}

// scan brings the links in line with the interfaces: it closes the responders of interfaces that no longer
// qualify or changed, and opens those of new ones (and of roles whose socket failed to open before).
func (r *Responder) scan() {
	found, err := r.sys.links()
	if err != nil {
		r.noteDialError("", err)
		return
	}
	want := map[string]Link{}
	roleOf := map[string]roles{}
	for _, l := range found {
		if q := qualify(l, r.exclude); q.arp || q.ndp {
			want[l.Name], roleOf[l.Name] = l, q
		}
	}

	r.mu.Lock()
	var stale, retry []*link
	for name, cur := range r.links {
		w, ok := want[name]
		if !ok || cur.dead.Load() || !sameLink(cur, w, roleOf[name]) {
			stale = append(stale, cur)
			delete(r.links, name)
			continue
		}
		if cur.want.arp && cur.arp == nil || cur.want.ndp && cur.ndp == nil {
			retry = append(retry, cur)
		}
	}
	var fresh []*link
	for name, w := range want {
		if _, ok := r.links[name]; !ok {
			fresh = append(fresh, &link{Link: w, want: roleOf[name]})
		}
	}
	r.mu.Unlock()

	for _, l := range stale {
		l.close()
		r.log.Info("Stopped layer 2 responders", "interface", l.Name)
	}
	for _, l := range append(fresh, retry...) {
		r.open(l)
	}
}

func sameLink(cur *link, w Link, want roles) bool {
	return cur.Index == w.Index && string(cur.HardwareAddr) == string(w.HardwareAddr) &&
		cur.LinkLocal == w.LinkLocal && cur.want == want
}

// open dials the responders the link lacks, and installs them: the link starts answering, joins the
// solicited-node groups of the owned IPv6 addresses, and sends a gratuitous burst for every owned address
// it carries, as they are newly announced on it.
func (r *Responder) open(l *link) {
	var arpR *arpResponder
	var ndpR *ndpResponder
	if l.want.arp && l.arp == nil {
		conn, err := r.sys.dialARP(l.Link)
		r.noteDialError(l.Name+"/arp", err)
		if err == nil {
			arpR = &arpResponder{name: l.Name, mac: l.HardwareAddr, conn: conn}
		}
	}
	if l.want.ndp && l.ndp == nil {
		conn, src, err := r.sys.dialNDP(l.Link)
		r.noteDialError(l.Name+"/ndp", err)
		if err == nil {
			ndpR = &ndpResponder{name: l.Name, mac: l.HardwareAddr, linkLocal: src.WithZone(""), conn: conn,
				groups: map[netip.Addr]int{}, joined: map[netip.Addr]netip.Addr{}}
		}
	}
	if arpR == nil && ndpR == nil {
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.links[l.Name]; ok && cur != l || l.closed.Load() {
		// Replaced meanwhile; only scan opens links, so this is defensive.
		for _, c := range []interface{ Close() error }{connOf(arpR), connOf(ndpR)} {
			if c != nil {
				_ = c.Close()
			}
		}
		return
	}
	r.links[l.Name] = l
	if arpR != nil {
		l.arp = arpR
		r.readers.Add(1)
		go r.readARP(l, arpR)
	}
	if ndpR != nil {
		l.ndp = ndpR
		r.readers.Add(1)
		go r.readNDP(l, ndpR)
	}
	r.log.Info("Started layer 2 responders", "interface", l.Name, "arp", l.arp != nil, "ndp", l.ndp != nil)
	now := r.clock.Now()
	for ip, o := range r.owned {
		if !o.ifaces.Contains(l.Name) || ip.Is4() && arpR == nil || ip.Is6() && ndpR == nil {
			continue
		}
		if ip.Is6() {
			r.join(l, ip)
		}
		r.sendGratuitousLocked(ip, o, l.Name)
		r.push(event{due: now.Add(GratuitousInterval), ip: ip, gen: o.burstGen, round: 1, only: l.Name})
	}
}

func connOf[T interface{ *arpResponder | *ndpResponder }](resp T) interface{ Close() error } {
	switch v := any(resp).(type) {
	case *arpResponder:
		if v != nil {
			return v.conn
		}
	case *ndpResponder:
		if v != nil {
			return v.conn
		}
	}
	return nil
}

// noteDialError logs an error opening an interface once, until it changes or goes away.
func (r *Responder) noteDialError(key string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		delete(r.dialErrs, key)
		return
	}
	if r.dialErrs[key] == err.Error() {
		return
	}
	r.dialErrs[key] = err.Error()
	if key == "" {
		r.log.Error(err, "Listing interfaces failed")
		return
	}
	r.log.Error(err, "Opening layer 2 responder failed, retrying at the next scan", "responder", key)
}

func (r *Responder) join(l *link, ip netip.Addr) {
	if err := l.ndp.join(ip); err != nil {
		r.log.Error(err, "Joining solicited-node multicast group failed", "interface", l.Name, "ip", ip)
	}
}

func (r *Responder) leave(l *link, ip netip.Addr) {
	if err := l.ndp.leave(ip); err != nil {
		r.log.V(1).Info("Leaving solicited-node multicast group failed", "interface", l.Name, "ip", ip, "error", err.Error())
	}
}

// sendGratuitousLocked sends one gratuitous round for ip on its interfaces, or only on the named one. The
// caller holds mu.
func (r *Responder) sendGratuitousLocked(ip netip.Addr, o *ownedIP, only string) {
	for name, l := range r.links {
		if only != "" && name != only || !o.ifaces.Contains(name) {
			continue
		}
		switch {
		case ip.Is4() && l.arp != nil:
			frames, err := gratuitousARP(ip, l.arp.mac)
			if err != nil {
				r.log.Error(err, "Building gratuitous ARP failed", "interface", name, "ip", ip)
				continue
			}
			for _, f := range frames {
				if err := l.arp.conn.WriteFrame(f, ethernet.Broadcast); err != nil {
					r.log.V(1).Info("Sending gratuitous ARP failed", "interface", name, "ip", ip, "error", err.Error())
					continue
				}
				r.metrics.gratuitousSent(ip)
			}
		case ip.Is6() && l.ndp != nil:
			// RFC 4861 §7.2.6: unsolicited NAs go to all-nodes with Solicited clear and, as the owner
			// changed, Override set.
			if err := l.ndp.conn.WriteTo(neighborAdvertisement(ip, l.ndp.mac, false), allNodes); err != nil {
				r.log.V(1).Info("Sending unsolicited neighbor advertisement failed", "interface", name, "ip", ip, "error", err.Error())
				continue
			}
			r.metrics.gratuitousSent(ip)
		}
	}
}

// readARP answers the ARP requests arriving on one link until its socket closes.
func (r *Responder) readARP(l *link, resp *arpResponder) {
	defer r.readers.Done()
	buf := make([]byte, 256)
	for {
		n, err := resp.conn.ReadFrame(buf)
		if err != nil {
			if !l.closed.Load() {
				r.log.Error(err, "Reading ARP failed, reopening at the next scan", "interface", l.Name)
				l.dead.Store(true)
			}
			return
		}
		r.handleARP(l, resp, buf[:n])
	}
}

// handleARP answers one received frame if it is an ARP request for an address owned on this link.
func (r *Responder) handleARP(l *link, resp *arpResponder, frame []byte) {
	req, ok := parseARPRequest(frame, resp.mac)
	if !ok {
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	o := r.owned[req.TargetIP]
	if o == nil || !o.ifaces.Contains(l.Name) || r.links[l.Name] != l {
		return
	}
	r.metrics.requestReceived(req.TargetIP)
	reply, err := arpReply(req, resp.mac)
	if err != nil {
		return
	}
	if err := resp.conn.WriteFrame(reply, req.SenderHardwareAddr); err != nil {
		r.log.V(1).Info("Sending ARP reply failed", "interface", l.Name, "ip", req.TargetIP, "error", err.Error())
		return
	}
	r.metrics.responseSent(req.TargetIP)
}

// readNDP answers the Neighbor Solicitations arriving on one link until its socket closes.
func (r *Responder) readNDP(l *link, resp *ndpResponder) {
	defer r.readers.Done()
	buf := make([]byte, 1500)
	for {
		n, hopLimit, src, err := resp.conn.ReadFrom(buf)
		if err != nil {
			if !l.closed.Load() {
				r.log.Error(err, "Reading NDP failed, reopening at the next scan", "interface", l.Name)
				l.dead.Store(true)
			}
			return
		}
		r.handleNDP(l, resp, buf[:n], hopLimit, src)
	}
}

// handleNDP answers one received ICMPv6 message if it is a valid Neighbor Solicitation for an address owned
// on this link, with a Neighbor Advertisement from the link-local address.
func (r *Responder) handleNDP(l *link, resp *ndpResponder, b []byte, hopLimit int, src netip.Addr) {
	if src.WithZone("") == resp.linkLocal {
		return
	}
	target, dst, solicited, ok := parseNS(b, hopLimit, src)
	if !ok {
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	o := r.owned[target]
	if o == nil || !o.ifaces.Contains(l.Name) || r.links[l.Name] != l {
		return
	}
	r.metrics.requestReceived(target)
	if err := resp.conn.WriteTo(neighborAdvertisement(target, resp.mac, solicited), dst); err != nil {
		r.log.V(1).Info("Sending neighbor advertisement failed", "interface", l.Name, "ip", target, "error", err.Error())
		return
	}
	r.metrics.responseSent(target)
}

// event is a timed gratuitous round.
type event struct {
	due time.Time
	ip  netip.Addr
	gen uint64
	// refresh marks a refresh round; otherwise round numbers the burst round (0 went out at once).
	refresh bool
	round   int
	// only limits a burst round to one interface (one newly opened); "" means every interface of the IP.
	only string
}

type eventHeap []event

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h eventHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)        { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// push schedules an event and wakes the scheduler if it is the next one due.
func (r *Responder) push(e event) {
	r.schedMu.Lock()
	heap.Push(&r.events, e)
	first := r.events[0] == e
	r.schedMu.Unlock()
	if first {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// runScheduler fires events when due until ctx is done.
func (r *Responder) runScheduler(ctx context.Context) {
	for {
		r.schedMu.Lock()
		pending := len(r.events) > 0
		var next time.Time
		if pending {
			next = r.events[0].due
		}
		r.schedMu.Unlock()
		if !pending {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
				continue
			}
		}
		d := next.Sub(r.clock.Now())
		if d <= 0 {
			r.runDue()
			continue
		}
		t := r.clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.wake:
			t.Stop()
		case <-t.C():
		}
	}
}

// runDue fires the events that are due.
func (r *Responder) runDue() {
	now := r.clock.Now()
	for {
		r.schedMu.Lock()
		if len(r.events) == 0 || r.events[0].due.After(now) {
			r.schedMu.Unlock()
			return
		}
		e := heap.Pop(&r.events).(event)
		r.schedMu.Unlock()
		r.fire(e, now)
	}
}

// fire sends the round of an event if it is still current, and schedules the next one.
func (r *Responder) fire(e event, now time.Time) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	o := r.owned[e.ip]
	if o == nil {
		return
	}
	if e.refresh {
		if o.refreshGen != e.gen {
			return
		}
		r.sendGratuitousLocked(e.ip, o, "")
		next := e.due.Add(o.refresh)
		if !next.After(now) {
			next = now.Add(o.refresh)
		}
		e.due = next
		r.push(e)
		return
	}
	if o.burstGen != e.gen || e.only != "" && r.links[e.only] == nil {
		return
	}
	r.sendGratuitousLocked(e.ip, o, e.only)
	if e.round+1 < GratuitousCount {
		e.due = e.due.Add(GratuitousInterval)
		e.round++
		r.push(e)
	}
}
