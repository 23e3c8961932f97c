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
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/advertise"
	"github.com/ferrolb/ferrolb/internal/config"
)

// Router holds the node's BGP sessions and the routes each announces. Its methods are safe for concurrent
// use; each call is level-based: it states the whole desired state, and the Router changes only what differs.
type Router interface {
	// SetPeers makes the sessions exactly these, by Session.Name. A session is re-created only when a
	// parameter of its Session other than the next hop overrides changed (Session.Key); adding or removing
	// one session never touches another. Sessions that cannot be opened are skipped and reported in the
	// returned error (errors.Is ErrUnsupported or ErrInvalidSession), the others are still applied.
	SetPeers(ctx context.Context, sessions []Session) error
	// SetRoutes makes each session, by name, carry exactly its routes; sessions absent from the map carry
	// none. Routes of families the session does not carry are ignored. Routes are added, changed (the path
	// is re-announced with its new attributes, without resetting the session) and withdrawn one by one.
	// Routes of names with no session are kept and announced once SetPeers adds it.
	SetRoutes(ctx context.Context, routes map[string][]advertise.Route) error
	// UpdateRoutes changes the routes of the prefixes it names only (advertise.RIB.Changes): for each session
	// by name, a prefix maps to its route, or to nil when the session no longer carries it. The routes of the
	// other prefixes stay as the previous calls left them, so a change costs in proportion to its size.
	UpdateRoutes(ctx context.Context, changes advertise.Changes) error
	// Peers returns the state of every session, sorted by name.
	Peers(ctx context.Context) []PeerState
	// Close withdraws every route, waits (bounded by ctx) until the withdrawals are sent, then closes
	// every session. The Router must not be used afterwards.
	Close(ctx context.Context) error
}

var (
	// ErrUnsupported marks a Session asking for something the speaker cannot do.
	ErrUnsupported = errors.New("not supported by the BGP speaker")
	// ErrInvalidSession marks a Session missing something it needs.
	ErrInvalidSession = errors.New("invalid BGP session")
)

// Capabilities are the optional BGPPeer features the GoBGP speaker implements, for
// config.WithSpeakerCapabilities: localASN and dynamicASN (see Session.DynamicASN for what "external"
// means here); no BFD (GoBGP v3 has none), no VRF, no unnumbered sessions.
var Capabilities = config.SpeakerCapabilities{LocalASN: true, DynamicASN: true}

// DynamicASN is how a session without a peer ASN accepts the peer's AS.
type DynamicASN string

const (
	// DynamicASNInternal accepts the local AS only: exactly a peer ASN equal to the local one.
	DynamicASNInternal DynamicASN = "internal"
	// DynamicASNExternal accepts any AS but the local one. GoBGP accepts any AS; the adapter checks the AS the
	// peer presents once the session is established and shuts the session down (PeerState.Error says
	// why) if it is the local one.
	DynamicASNExternal DynamicASN = "external"
)

// Default timers. GoBGP's own defaults (120 s between connection attempts, 30 s idle after a reset) would
// leave a router that rebooted without routes for minutes.
const (
	// DefaultHoldTime is proposed when the session sets none, as MetalLB does (RFC 4271 §10 suggests 90 s).
	DefaultHoldTime = 90 * time.Second
	// DefaultConnectTime is the interval between connection attempts when the session sets none.
	DefaultConnectTime = 2 * time.Second
	// DefaultIdleHoldTime is how long a session rests after it went down before it reconnects.
	DefaultIdleHoldTime = 2 * time.Second
)

// Session is a BGP session the node opens: a BGPPeer resolved for this node.
type Session struct {
	// Name is the BGPPeer's name; it identifies the session.
	Name string
	// MyASN is the local AS; LocalASN, if set, replaces it towards this peer.
	MyASN, LocalASN uint32
	// PeerASN is the AS expected from the peer; 0 with DynamicASN set.
	PeerASN    uint32
	DynamicASN DynamicASN
	// Address and Port are the peer's.
	Address netip.Addr
	Port    uint16
	// SourceAddress is the local address to dial from; the zero Addr lets the kernel choose.
	SourceAddress netip.Addr
	// RouterID is the BGP identifier; the zero Addr derives one (see New).
	RouterID netip.Addr
	// HoldTime and KeepaliveTime are whole seconds; 0 means DefaultHoldTime and a third of the hold time.
	HoldTime, KeepaliveTime time.Duration
	// ConnectTime is the interval between connection attempts, whole seconds; 0 means DefaultConnectTime.
	ConnectTime time.Duration
	// Password is the TCP MD5 signature password (RFC 2385). Never logged.
	Password string
	// EBGPMultiHop lets an eBGP peer be more than one hop away (TTL 255).
	EBGPMultiHop bool
	// GracefulRestart negotiates graceful restart (RFC 4724) for the session's families.
	GracefulRestart bool
	// DualStack carries IPv4 and IPv6 routes; otherwise the session carries the family of Address only.
	DualStack bool
	// NextHopIPv4 and NextHopIPv6 override the next hop of the routes of their family. Unset, routes of the
	// session's own family take the session's local address, and routes of the other family the node's
	// address of that family on the interface that holds the session's local address (never an IPv4-mapped
	// IPv6 address). They do not belong to the session's key: changing them re-announces routes only.
	NextHopIPv4, NextHopIPv6 netip.Addr
}

// SessionFromPeer converts a validated BGPPeer, already selected for this node, into a Session. It refuses,
// with ErrUnsupported, what GoBGP v3 cannot do: BFD, VRFs, unnumbered sessions and a hold time of 0 (GoBGP
// takes 0 as "unset" and would silently propose 90 s instead of disabling keepalives).
func SessionFromPeer(p *config.Peer) (Session, error) {
	var errs []error
	unsupported := func(field string) { errs = append(errs, fmt.Errorf("peer %s: %s: %w", p.Name, field, ErrUnsupported)) }
	if p.BFDProfile != "" {
		unsupported("bfdProfile")
	}
	if p.VRF != "" {
		unsupported("vrf")
	}
	if p.Interface != "" {
		unsupported("interface")
	}
	if p.HoldTime != nil && *p.HoldTime == 0 {
		unsupported("holdTime 0")
	}
	s := Session{
		Name:            p.Name,
		MyASN:           p.MyASN,
		LocalASN:        p.LocalASN,
		PeerASN:         p.PeerASN,
		Address:         p.Address,
		Port:            p.Port,
		SourceAddress:   p.SourceAddress,
		RouterID:        p.RouterID,
		Password:        p.Password,
		EBGPMultiHop:    p.EBGPMultiHop,
		GracefulRestart: p.EnableGracefulRestart,
		DualStack:       p.DualStackAddressFamily,
	}
	switch p.DynamicASN {
	case "":
	case v1beta2.InternalASNMode:
		s.DynamicASN = DynamicASNInternal
	case v1beta2.ExternalASNMode:
		s.DynamicASN = DynamicASNExternal
	default:
		errs = append(errs, fmt.Errorf("peer %s: dynamicASN %q: %w", p.Name, p.DynamicASN, ErrUnsupported))
	}
	if p.HoldTime != nil {
		s.HoldTime = *p.HoldTime
	}
	if p.KeepaliveTime != nil {
		s.KeepaliveTime = *p.KeepaliveTime
	}
	if p.ConnectTime != nil {
		s.ConnectTime = *p.ConnectTime
	}
	return s, errors.Join(errs...)
}

// localASN is the AS the session presents.
func (s *Session) localASN() uint32 { return cmp.Or(s.LocalASN, s.MyASN) }

// Internal reports whether the session is iBGP as configured. With DynamicASNExternal it is not; a peer
// presenting the local AS anyway is refused.
func (s *Session) Internal() bool {
	switch s.DynamicASN {
	case DynamicASNInternal:
		return true
	case DynamicASNExternal:
		return false
	}
	return s.PeerASN == s.localASN()
}

// Carries reports whether the session carries routes of the prefix's family.
func (s *Session) Carries(prefix netip.Prefix) bool {
	return s.DualStack || s.Address.Unmap().Is4() == prefix.Addr().Is4()
}

// PeerAddrPort is the peer's address and port, the "peer" label of MetalLB's metrics.
func (s *Session) PeerAddrPort() netip.AddrPort {
	return netip.AddrPortFrom(s.Address.Unmap(), cmp.Or(s.Port, 179))
}

// validate refuses a Session GoBGP cannot open.
func (s *Session) validate() error {
	var errs []error
	invalid := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("session %q: %s: %w", s.Name, fmt.Sprintf(format, args...), ErrInvalidSession))
	}
	unsupported := func(what string) {
		errs = append(errs, fmt.Errorf("session %q: %s: %w", s.Name, what, ErrUnsupported))
	}
	if s.Name == "" {
		invalid("no name")
	}
	if s.MyASN == 0 {
		invalid("no local ASN")
	}
	switch {
	case s.PeerASN == 0 && s.DynamicASN == "":
		invalid("no peer ASN")
	case s.PeerASN != 0 && s.DynamicASN != "":
		invalid("both peer ASN and dynamic ASN")
	case s.DynamicASN != "" && s.DynamicASN != DynamicASNInternal && s.DynamicASN != DynamicASNExternal:
		invalid("dynamic ASN %q", s.DynamicASN)
	}
	if !s.Address.IsValid() || s.Address.IsUnspecified() {
		invalid("no peer address")
	}
	if s.SourceAddress.IsValid() && s.SourceAddress.Unmap().Is4() != s.Address.Unmap().Is4() {
		invalid("source address %s and peer address %s of different families", s.SourceAddress, s.Address)
	}
	if s.RouterID.IsValid() && (!s.RouterID.Is4() || s.RouterID.IsUnspecified()) {
		invalid("router ID %s is not a non-zero IPv4 address", s.RouterID)
	}
	if s.HoldTime < 0 || s.KeepaliveTime < 0 || s.ConnectTime < 0 {
		invalid("negative timer")
	}
	if s.HoldTime > 0 && s.HoldTime < 3*time.Second {
		invalid("hold time %s: must be at least 3s", s.HoldTime)
	}
	if s.HoldTime > 0 && s.KeepaliveTime > s.HoldTime {
		invalid("keepalive time %s above hold time %s", s.KeepaliveTime, s.HoldTime)
	}
	if s.HoldTime == 0 && s.KeepaliveTime > 0 {
		unsupported("a keepalive time without a hold time")
	}
	for _, nh := range []struct {
		addr netip.Addr
		v4   bool
	}{{s.NextHopIPv4, true}, {s.NextHopIPv6, false}} {
		if nh.addr.IsValid() && (nh.addr.Is4() != nh.v4 || nh.addr.IsUnspecified() || nh.addr.Is4In6()) {
			invalid("next hop override %s", nh.addr)
		}
	}
	return errors.Join(errs...)
}

// PeerState is the state of one session.
type PeerState struct {
	// Name is the session's name.
	Name string
	// Peer is the peer's address and port.
	Peer netip.AddrPort
	// State is the BGP FSM state: idle, connect, active, opensent, openconfirm or established.
	State string
	// Up is true in the established state.
	Up bool
	// LocalAddress is the session's local address once established.
	LocalAddress netip.Addr
	// PeerASN is the AS the peer presented, or the configured one.
	PeerASN uint32
	// Since is when the session last went up (Up) or down; zero if it never did.
	Since time.Time
	// Flops counts the times the session went down after being established.
	Flops uint32
	// UpdatesSent and UpdatesReceived count UPDATE messages.
	UpdatesSent, UpdatesReceived uint64
	// Advertised is the number of prefixes the session announces; Desired, the number it should.
	Advertised, Desired int
	// Error says why the session or some of its routes are held back; empty when nothing is.
	Error string
}
