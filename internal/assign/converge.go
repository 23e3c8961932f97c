package assign

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/allocator"
	"github.com/ferrolb/ferrolb/internal/config"
)

// ConditionType is the Service condition that says whether ferrolb gave the Service its addresses, and if
// not, why.
const ConditionType = "metallb.io/IPAllocated"

// Reasons of the ConditionType condition.
const (
	ReasonAllocated            = "Allocated"
	ReasonInvalidRequest       = "InvalidRequest"
	ReasonNoClusterIP          = "NoClusterIP"
	ReasonNoPoolConfigured     = "NoIPAddressPool"
	ReasonNoMatchingPool       = "NoMatchingPool"
	ReasonUnknownPool          = "UnknownPool"
	ReasonPoolNotCompatible    = "PoolNotCompatible"
	ReasonPoolExhausted        = "PoolExhausted"
	ReasonRequestedIPNotInPool = "RequestedIPNotInPool"
	ReasonRequestedIPInUse     = "RequestedIPInUse"
	ReasonSharingConflict      = "SharingConflict"
	ReasonClassNotHandled      = "LoadBalancerClassNotHandled"
)

// Event reasons, MetalLB's.
const (
	EventIPAllocated            = "IPAllocated"
	EventAllocationFailed       = "AllocationFailed"
	EventClearAssignment        = "ClearAssignment"
	EventLoadBalancerFailed     = "LoadBalancerFailed"
	EventAdditionalAssignFailed = "AdditionalAssignFailed"
	EventDeprecatedAnnotation   = "deprecatedAnnotation"
)

// Event is an event to record on the Service.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// Outcome is what a Service should show after converging.
type Outcome struct {
	// IPs are the addresses the Service holds, in allocation order (IPv4 first for dual-stack), or none.
	IPs []netip.Addr
	// Pool is the pool the IPs come from.
	Pool string
	// Reason and Message are the ConditionType condition's; it is True when Reason is ReasonAllocated.
	Reason  string
	Message string
	// Events are what happened, for the Service's events. The caller records them only when the outcome
	// differs from what the Service shows, so a Service reconciled again without change emits nothing.
	Events []Event
}

// Allocated reports whether the Service holds addresses.
func (o Outcome) Allocated() bool { return o.Reason == ReasonAllocated }

// Converge brings the allocator's view of the Service in line with the configuration and returns what the
// Service should show. current are the addresses the Service shows in its status. With an invalid request
// the Service's addresses are released. cfg must not be nil; a valid configuration without pools releases
// every address, as MetalLB does.
func Converge(cfg *config.Config, alloc *allocator.Allocator, req Request, reqErr error, current []netip.Addr) Outcome {
	key := req.Service.Key
	if reqErr != nil {
		alloc.Release(key)
		reason := ReasonInvalidRequest
		if errors.Is(reqErr, ErrNoClusterIP) {
			reason = ReasonNoClusterIP
		}
		return failed(reason, reqErr.Error(), Event{Warning: true, Reason: EventLoadBalancerFailed, Message: reqErr.Error()})
	}
	if len(cfg.Pools) == 0 {
		alloc.Release(key)
		return failed(ReasonNoPoolConfigured, "no IPAddressPool is configured", allocationFailed(key, "no IPAddressPool is configured"))
	}
	var events []Event
	if len(current) > 0 {
		out, err := keep(cfg, alloc, req, current)
		if err == nil {
			return out
		}
		alloc.Release(key)
		events = append(events, Event{Reason: EventClearAssignment,
			Message: fmt.Sprintf("current IP for %q not allowed by config, will attempt for new IP assignment: %s", key, err)})
	}
	out := allocate(cfg, alloc, req)
	out.Events = append(events, out.Events...)
	return out
}

// keep re-validates the addresses the Service holds against the request and the configuration, and assigns
// them again, so that a restarted controller rebuilds its state and never moves a valid address.
func keep(cfg *config.Config, alloc *allocator.Allocator, req Request, current []netip.Addr) (Outcome, error) {
	al, err := reassign(cfg, alloc, req, current)
	if err != nil {
		return Outcome{}, err
	}
	out := allocated(al)
	if req.PreferDualStack && len(al.IPs) == 1 {
		// Try to add the missing family from the same pool.
		missing := allocator.DualStack &^ familyOf(al.IPs[0])
		if more, err := alloc.AddFamily(req.Service, missing); err == nil {
			out = allocated(more)
			out.Events = []Event{{Reason: EventIPAllocated, Message: fmt.Sprintf("Assigned additional IP %q", more.IPs[1])}}
		} else {
			out.Events = []Event{{Reason: EventAdditionalAssignFailed, Message: fmt.Sprintf("Failed to assign additional IP for %q: %s", req.Service.Key, err)}}
		}
	}
	return out, nil
}

// reassign assigns the Service the addresses it shows again, if the request and the configuration still
// allow them. Only PreferDualStack, or a request for these very addresses, accepts fewer families than the
// cluster IPs have.
func reassign(cfg *config.Config, alloc *allocator.Allocator, req Request, current []netip.Addr) (allocator.Allocation, error) {
	var fam allocator.Family
	for _, ip := range current {
		if req.Family&familyOf(ip) == 0 {
			return allocator.Allocation{}, fmt.Errorf("%s does not match the ipFamily of the service", ip)
		}
		fam |= familyOf(ip)
	}
	switch {
	case len(req.IPs) > 0 && !sameAddrs(req.IPs, current):
		return allocator.Allocation{}, fmt.Errorf("the service requests %q", req.IPs)
	case len(req.IPs) == 0 && fam != req.Family && !req.PreferDualStack:
		// RequireDualStack with one address: allocate both families again.
		return allocator.Allocation{}, fmt.Errorf("%q does not match the ipFamily of the service", addrStrings(current))
	}
	if req.Pool != "" {
		if pool, ok := alloc.PoolFor(current...); !ok || pool != req.Pool {
			return allocator.Allocation{}, fmt.Errorf("the service requests pool %q", req.Pool)
		}
	}
	return alloc.Assign(req.Service, current, allows(cfg, req))
}

// Restore assigns the Service the addresses it shows, current, if the request and the configuration still
// allow them, and reports whether it did. Unlike Converge it never allocates: a restarted controller restores
// every Service that shows addresses before it converges any, so that no Service is given an address another
// Service shows and has not been restored yet.
func Restore(cfg *config.Config, alloc *allocator.Allocator, req Request, current []netip.Addr) bool {
	if len(current) == 0 || len(cfg.Pools) == 0 {
		return false
	}
	_, err := reassign(cfg, alloc, req, current)
	return err == nil
}

func allocate(cfg *config.Config, alloc *allocator.Allocator, req Request) Outcome {
	var (
		al  allocator.Allocation
		err error
	)
	switch {
	case len(req.IPs) > 0:
		al, err = alloc.Assign(req.Service, req.IPs, allows(cfg, req))
	case req.Pool != "":
		al, err = fromPool(cfg, alloc, req)
	default:
		al, err = automatic(cfg, alloc, req)
	}
	if err != nil {
		reason, msg := explain(err, req)
		return failed(reason, msg, allocationFailed(req.Service.Key, msg))
	}
	out := allocated(al)
	out.Events = []Event{{Reason: EventIPAllocated, Message: fmt.Sprintf("Assigned IP %q", addrStrings(al.IPs))}}
	return out
}

// allows is the pool filter for requested addresses: the pool must accept the Service (serviceAllocation)
// and be the requested pool, if the Service names one.
func allows(cfg *config.Config, req Request) func(string) bool {
	return func(name string) bool {
		p := cfg.Pools[name]
		return p != nil && p.Allows(req.Namespace, req.Labels) && (req.Pool == "" || req.Pool == name)
	}
}

func fromPool(cfg *config.Config, alloc *allocator.Allocator, req Request) (allocator.Allocation, error) {
	p := cfg.Pools[req.Pool]
	if p == nil {
		return allocator.Allocation{}, errUnknownPool{req.Pool}
	}
	if !p.Allows(req.Namespace, req.Labels) {
		return allocator.Allocation{}, errPoolNotCompatible{req.Pool}
	}
	if !req.PreferDualStack {
		return alloc.AllocateFromPool(req.Service, req.Family, req.Pool)
	}
	var err error
	for _, fam := range []allocator.Family{allocator.DualStack, req.Primary, allocator.DualStack &^ req.Primary} {
		var al allocator.Allocation
		if al, err = alloc.AllocateFromPool(req.Service, fam, req.Pool); err == nil {
			return al, nil
		}
	}
	return allocator.Allocation{}, err
}

// automatic tries the pools pinned to the Service first, then the unrestricted ones (reference §4.4).
func automatic(cfg *config.Config, alloc *allocator.Allocator, req Request) (allocator.Allocation, error) {
	cands := cfg.Candidates(req.Namespace, req.Labels)
	if len(cands.Pinned)+len(cands.Unrestricted) == 0 {
		return allocator.Allocation{}, errNoMatchingPool{}
	}
	var tried []string
	for _, pools := range [][]*config.Pool{cands.Pinned, cands.Unrestricted} {
		if len(pools) == 0 {
			continue
		}
		names := make([]string, len(pools))
		for i, p := range pools {
			names[i] = p.Name
		}
		tried = append(tried, names...)
		var (
			al  allocator.Allocation
			err error
		)
		if req.PreferDualStack {
			al, err = alloc.AllocatePreferDualStack(req.Service, req.Primary, names)
		} else {
			al, err = alloc.Allocate(req.Service, req.Family, names)
		}
		if !errors.Is(err, allocator.ErrPoolExhausted) {
			return al, err
		}
	}
	return allocator.Allocation{}, errExhausted{pools: tried, family: req.Family}
}

type errUnknownPool struct{ pool string }

func (e errUnknownPool) Error() string { return fmt.Sprintf("unknown pool %q", e.pool) }

type errPoolNotCompatible struct{ pool string }

func (e errPoolNotCompatible) Error() string {
	return fmt.Sprintf("pool %s not compatible for ip assignment", e.pool)
}

type errNoMatchingPool struct{}

func (errNoMatchingPool) Error() string {
	return "no IPAddressPool with autoAssign allows this service (check the pools' serviceAllocation)"
}

type errExhausted struct {
	pools  []string
	family allocator.Family
}

func (e errExhausted) Error() string {
	return fmt.Sprintf("no available IPs: every address of %s is in use (pools tried: %s)", e.family, strings.Join(e.pools, ", "))
}

// explain maps an allocation error to the condition's reason and message.
func explain(err error, req Request) (reason, msg string) {
	var (
		unknown      errUnknownPool
		incompatible errPoolNotCompatible
		noMatch      errNoMatchingPool
		exhausted    errExhausted
	)
	switch {
	case errors.As(err, &unknown):
		return ReasonUnknownPool, err.Error()
	case errors.As(err, &incompatible), errors.Is(err, allocator.ErrPoolNotCompatible):
		if len(req.IPs) > 0 && req.Pool != "" {
			return ReasonPoolNotCompatible, fmt.Sprintf("requested loadBalancer IP(s) %q is not compatible with requested address pool %s", addrStrings(req.IPs), req.Pool)
		}
		return ReasonPoolNotCompatible, err.Error()
	case errors.As(err, &noMatch):
		return ReasonNoMatchingPool, err.Error()
	case errors.As(err, &exhausted), errors.Is(err, allocator.ErrPoolExhausted):
		return ReasonPoolExhausted, err.Error()
	case errors.Is(err, allocator.ErrNotInPool):
		return ReasonRequestedIPNotInPool, err.Error()
	case errors.Is(err, allocator.ErrSharingConflict) && req.Service.SharingKey == "":
		// The Service does not ask to share: the address is simply taken.
		return ReasonRequestedIPInUse, err.Error()
	case errors.Is(err, allocator.ErrSharingConflict):
		// The Service asks to share, and the rules refuse it (key, selector or port).
		return ReasonSharingConflict, err.Error()
	}
	return ReasonInvalidRequest, err.Error()
}

func allocated(al allocator.Allocation) Outcome {
	return Outcome{
		IPs:     al.IPs,
		Pool:    al.Pool,
		Reason:  ReasonAllocated,
		Message: fmt.Sprintf("assigned %s from pool %s", strings.Join(addrStrings(al.IPs), ", "), al.Pool),
	}
}

func failed(reason, msg string, ev Event) Outcome {
	return Outcome{Reason: reason, Message: msg, Events: []Event{ev}}
}

func allocationFailed(key, msg string) Event {
	return Event{Warning: true, Reason: EventAllocationFailed, Message: fmt.Sprintf("Failed to allocate IP for %q: %s", key, msg)}
}

func addrStrings(ips []netip.Addr) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// AllocatorPools converts the configuration's pools for allocator.SetPools, in name order.
func AllocatorPools(cfg *config.Config) []allocator.Pool {
	pools := make([]allocator.Pool, 0, len(cfg.Pools))
	for _, p := range cfg.Pools {
		pools = append(pools, allocator.Pool{Name: p.Name, CIDRs: p.CIDRs, AvoidBuggyIPs: p.AvoidBuggyIPs, AutoAssign: p.AutoAssign})
	}
	slices.SortFunc(pools, func(a, b allocator.Pool) int { return strings.Compare(a.Name, b.Name) })
	return pools
}
