package allocator

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Port is one (protocol, port) pair a service exposes. Services sharing an address must not have a Port in
// common; TCP/80 and UDP/80 are different Ports.
type Port struct {
	// Protocol is spec.ports[].protocol: "TCP", "UDP" or "SCTP".
	Protocol string
	// Port is spec.ports[].port.
	Port int32
}

// String returns the port as MetalLB prints it, e.g. "TCP/80".
func (p Port) String() string { return p.Protocol + "/" + strconv.Itoa(int(p.Port)) }

func comparePorts(a, b Port) int {
	if c := cmp.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	return cmp.Compare(a.Port, b.Port)
}

// Service is what the allocator needs to know about a Service.
type Service struct {
	// Key identifies the service, conventionally "namespace/name"; error messages quote it.
	Key string
	// SharingKey is the metallb.io/allow-shared-ip annotation. Empty means the service never shares.
	SharingKey string
	// BackendKey must be equal for services sharing an address. With externalTrafficPolicy Local it is the
	// selector, because every service on the address is announced from the nodes of the same endpoints;
	// with Cluster it is empty.
	BackendKey string
	// Ports are the service's (protocol, port) pairs.
	Ports []Port
}

func (s Service) key() shareKey { return shareKey{sharing: s.SharingKey, backend: s.BackendKey} }

// normalized returns s with duplicate ports dropped, in a slice of its own. The order is kept: conflicts are
// reported for the first conflicting port in the service's order, as MetalLB does.
func (s Service) normalized() Service {
	ports := make([]Port, 0, len(s.Ports))
	for _, p := range s.Ports {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	s.Ports = ports
	return s
}

type shareKey struct{ sharing, backend string }

// sharesWith reports whether addresses used under key k may also be used under key n (MetalLB's sharingOK).
func (k shareKey) sharesWith(n shareKey) bool {
	return k.sharing != "" && k == n
}

// ipUse is the keys of the services using one address, in order of arrival. Everything else about the
// address (its pool, sharing key, ports) follows from their allocations.
type ipUse struct {
	first string
	more  []string // further users of a shared address
}

func (u ipUse) users() []string { return append([]string{u.first}, u.more...) }

// without returns u minus the service svcKey; its first is "" when no user is left.
func (u ipUse) without(svcKey string) ipUse {
	if u.first == svcKey {
		if len(u.more) == 0 {
			return ipUse{}
		}
		return ipUse{first: u.more[0], more: u.more[1:]}
	}
	u.more = slices.DeleteFunc(u.more, func(k string) bool { return k == svcKey })
	return u
}

// ports returns the ports of all users of u, sorted; they are disjoint, because sharing requires it.
func (a *Allocator) ports(u ipUse) []Port {
	var ports []Port
	for _, k := range u.users() {
		al := a.services[k]
		ports = append(ports, al.ports...)
	}
	slices.SortFunc(ports, comparePorts)
	return ports
}

// checkSharing returns why svc may not use the address ip, in use as u, or nil (MetalLB's checkSharing). A
// service that is the only user of an address may change its keys; the message names the other users. All
// users of an address have the same keys, because sharing requires it.
func (a *Allocator) checkSharing(ip netip.Addr, u ipUse, svc Service) error {
	users := u.users()
	existing := a.services[u.first]
	if !existing.key().sharesWith(svc.key()) {
		others := slices.DeleteFunc(users, func(k string) bool { return k == svc.Key })
		if len(others) > 0 {
			slices.Sort(others)
			return errorf(ErrSharingConflict, "can't change sharing key for %q, address also in use by %s",
				svc.Key, strings.Join(others, ","))
		}
	}
	for _, p := range svc.Ports {
		for _, k := range users {
			if al := a.services[k]; k != svc.Key && slices.Contains(al.ports, p) {
				return errorf(ErrSharingConflict, "port %s is already in use on %q", p, ip.String())
			}
		}
	}
	return nil
}

// portSet holds the shareable addresses whose services together use exactly ports.
//
// Grouping shareable addresses by port set is what keeps "lowest shareable address" from scanning: a port set
// either conflicts with the request's ports or not, for all its addresses at once, so a request looks at each
// port set once (O(log n) for the lowest member) instead of at each address.
type portSet struct {
	ports   []Port
	members tree[struct{}] // ordinals
}

func signature(ports []Port) string {
	var b strings.Builder
	for i, p := range ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// addShareable records the address with ordinal ord in fp, used under key as u, as shareable, if key allows sharing.
func (a *Allocator) addShareable(fp *familyPool, ord Uint128, key shareKey, u ipUse) {
	if key.sharing == "" {
		return
	}
	sets := fp.shareable[key]
	if sets == nil {
		sets = map[string]*portSet{}
		fp.shareable[key] = sets
	}
	ports := a.ports(u)
	sig := signature(ports)
	set := sets[sig]
	if set == nil {
		set = &portSet{ports: ports}
		sets[sig] = set
	}
	set.members.insert(ord, struct{}{})
}

// removeShareable undoes addShareable; call it before the users of the address change.
func (a *Allocator) removeShareable(fp *familyPool, ord Uint128, key shareKey, u ipUse) {
	if key.sharing == "" {
		return
	}
	sets := fp.shareable[key]
	sig := signature(a.ports(u))
	set := sets[sig]
	set.members.delete(ord)
	if set.members.len == 0 {
		delete(sets, sig)
	}
	if len(sets) == 0 {
		delete(fp.shareable, key)
	}
}

// lowestShareable returns the lowest ordinal in [lo, hi] already in use that svc may share.
func (fp *familyPool) lowestShareable(svc Service, lo, hi Uint128) (Uint128, bool) {
	sets := fp.shareable[svc.key()]
	if len(sets) == 0 {
		return Uint128{}, false
	}
	ports := slices.SortedFunc(slices.Values(svc.Ports), comparePorts)
	var best Uint128
	found := false
	for _, set := range sets {
		if !disjoint(set.ports, ports) {
			continue
		}
		if k, ok := set.members.ceil(lo); ok && !hi.less(k) && (!found || k.less(best)) {
			best, found = k, true
		}
	}
	return best, found
}

// disjoint reports whether two sorted port lists have no port in common.
func disjoint(a, b []Port) bool {
	for len(a) > 0 && len(b) > 0 {
		switch c := comparePorts(a[0], b[0]); {
		case c < 0:
			a = a[1:]
		case c > 0:
			b = b[1:]
		default:
			return false
		}
	}
	return true
}
