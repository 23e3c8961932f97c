package allocator_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/allocator"
)

// model is a naive reference allocator written the way MetalLB's works: it scans every address of every CIDR
// and recomputes everything from the list of allocations. It is only fit for tiny pools, which is the point:
// it is simple enough to be obviously right.
type model struct {
	pools  []allocator.Pool
	allocs map[string]modelAlloc
}

type modelAlloc struct {
	svc  allocator.Service
	pool string
	ips  []netip.Addr
}

var errModelExhausted = errors.New("no available IPs")

func (m *model) poolOf(ip netip.Addr) string {
	for _, p := range m.pools {
		if p.AvoidBuggyIPs && ip.Is4() && (ip.As4()[3] == 0 || ip.As4()[3] == 255) {
			continue
		}
		for _, c := range p.CIDRs {
			if c.Contains(ip) {
				return p.Name
			}
		}
	}
	return ""
}

func (m *model) poolOfAll(ips []netip.Addr) string {
	if len(ips) == 0 {
		return ""
	}
	name := m.poolOf(ips[0])
	for _, ip := range ips[1:] {
		if m.poolOf(ip) != name {
			return ""
		}
	}
	return name
}

func (m *model) pool(name string) (allocator.Pool, bool) {
	for _, p := range m.pools {
		if p.Name == name {
			return p, true
		}
	}
	return allocator.Pool{}, false
}

// users returns the allocations holding ip, sorted by service key.
func (m *model) users(ip netip.Addr) []modelAlloc {
	var out []modelAlloc
	for _, al := range m.allocs {
		if slices.Contains(al.ips, ip) {
			out = append(out, al)
		}
	}
	slices.SortFunc(out, func(a, b modelAlloc) int { return strings.Compare(a.svc.Key, b.svc.Key) })
	return out
}

func (m *model) checkSharing(svc allocator.Service, ip netip.Addr) error {
	users := m.users(ip)
	if len(users) == 0 {
		return nil
	}
	existing := users[0].svc
	sharable := existing.SharingKey != "" && svc.SharingKey == existing.SharingKey && svc.BackendKey == existing.BackendKey
	var others []string
	for _, u := range users {
		if u.svc.Key != svc.Key {
			others = append(others, u.svc.Key)
		}
	}
	if !sharable && len(others) > 0 {
		return fmt.Errorf("can't change sharing key for %q, address also in use by %s", svc.Key, strings.Join(others, ","))
	}
	for _, p := range svc.Ports {
		for _, u := range users {
			if u.svc.Key != svc.Key && slices.Contains(u.svc.Ports, p) {
				return fmt.Errorf("port %s is already in use on %q", p, ip.String())
			}
		}
	}
	return nil
}

// lowest scans p's CIDRs in order, address by address.
func (m *model) lowest(p allocator.Pool, is4 bool, svc allocator.Service) (netip.Addr, bool) {
	for _, c := range p.CIDRs {
		if c.Addr().Is4() != is4 {
			continue
		}
		for ip := c.Masked().Addr(); ip.IsValid() && c.Contains(ip); ip = ip.Next() {
			if m.poolOf(ip) != p.Name {
				continue // excluded by avoidBuggyIPs
			}
			if m.checkSharing(svc, ip) == nil {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

func (m *model) pick(p allocator.Pool, fam allocator.Family, svc allocator.Service) ([]netip.Addr, bool) {
	var ips []netip.Addr
	for _, is4 := range []bool{true, false} {
		if (is4 && fam&allocator.IPv4 == 0) || (!is4 && fam&allocator.IPv6 == 0) {
			continue
		}
		ip, ok := m.lowest(p, is4, svc)
		if !ok {
			return nil, false
		}
		ips = append(ips, ip)
	}
	return ips, true
}

func (m *model) commit(svc allocator.Service, pool string, ips []netip.Addr) allocator.Allocation {
	m.allocs[svc.Key] = modelAlloc{svc: svc, pool: pool, ips: ips}
	return allocator.Allocation{Pool: pool, IPs: slices.Clone(ips)}
}

func (m *model) allocate(svc allocator.Service, fam allocator.Family, pools []string) (allocator.Allocation, error) {
	if cur, ok := m.allocs[svc.Key]; ok {
		return m.assign(svc, cur.ips, nil)
	}
	for _, name := range pools {
		if _, ok := m.pool(name); !ok {
			return allocator.Allocation{}, fmt.Errorf("unknown pool %q", name)
		}
	}
	for _, name := range pools {
		p, _ := m.pool(name)
		if !p.AutoAssign {
			continue
		}
		if ips, ok := m.pick(p, fam, svc); ok {
			return m.commit(svc, p.Name, ips), nil
		}
	}
	return allocator.Allocation{}, errModelExhausted
}

func (m *model) preferDualStack(svc allocator.Service, primary allocator.Family, pools []string) (
	allocator.Allocation, error) {
	for _, fam := range []allocator.Family{allocator.DualStack, primary, allocator.DualStack &^ primary} {
		al, err := m.allocate(svc, fam, pools)
		if !errors.Is(err, errModelExhausted) {
			return al, err
		}
	}
	return allocator.Allocation{}, errModelExhausted
}

func (m *model) allocateFromPool(svc allocator.Service, fam allocator.Family, name string) (
	allocator.Allocation, error) {
	if cur, ok := m.allocs[svc.Key]; ok {
		return m.assign(svc, cur.ips, nil)
	}
	p, ok := m.pool(name)
	if !ok {
		return allocator.Allocation{}, fmt.Errorf("unknown pool %q", name)
	}
	ips, ok := m.pick(p, fam, svc)
	if !ok {
		return allocator.Allocation{}, fmt.Errorf("no available IPs in pool %s for %s IPFamily", name, fam)
	}
	return m.commit(svc, p.Name, ips), nil
}

func (m *model) addFamily(svc allocator.Service, fam allocator.Family) (allocator.Allocation, error) {
	cur, ok := m.allocs[svc.Key]
	if !ok {
		return allocator.Allocation{}, fmt.Errorf("service %q has no addresses", svc.Key)
	}
	if len(cur.ips) != 1 || cur.ips[0].Is4() == (fam == allocator.IPv4) {
		return allocator.Allocation{}, fmt.Errorf("service %q already has an %s address", svc.Key, fam)
	}
	p, _ := m.pool(cur.pool)
	ip, ok := m.lowest(p, fam == allocator.IPv4, svc)
	if !ok {
		return allocator.Allocation{}, fmt.Errorf("no available IPs in pool %s for %s IPFamily", cur.pool, fam)
	}
	return m.assign(svc, []netip.Addr{cur.ips[0], ip}, nil)
}

func (m *model) assign(svc allocator.Service, ips []netip.Addr, allowed func(string) bool) (
	allocator.Allocation, error) {
	name := m.poolOfAll(ips)
	switch {
	case name == "":
		return allocator.Allocation{}, fmt.Errorf("%q is not allowed in config", ips)
	case allowed != nil && !allowed(name):
		return allocator.Allocation{}, fmt.Errorf("pool %s not compatible for ip assignment", name)
	case len(ips) > 2:
		return allocator.Allocation{}, fmt.Errorf("more than two addresses %q", ips)
	case len(ips) == 2 && ips[0].Is4() == ips[1].Is4():
		return allocator.Allocation{}, fmt.Errorf("%q %q has the same family", ips[0], ips[1])
	}
	for _, ip := range ips {
		if err := m.checkSharing(svc, ip); err != nil {
			return allocator.Allocation{}, err
		}
	}
	return m.commit(svc, name, ips), nil
}

func (m *model) setPools(pools []allocator.Pool) []string {
	m.pools = pools
	var lost []string
	for key, al := range m.allocs {
		name := m.poolOfAll(al.ips)
		if name == "" {
			lost = append(lost, key)
			delete(m.allocs, key)
			continue
		}
		al.pool = name
		m.allocs[key] = al
	}
	slices.Sort(lost)
	return lost
}

func (m *model) stats(name string) (allocator.PoolStats, bool) {
	p, ok := m.pool(name)
	if !ok {
		return allocator.PoolStats{}, false
	}
	var total, used [2]uint64 // [0] IPv4, [1] IPv6
	for _, c := range p.CIDRs {
		for ip := c.Masked().Addr(); ip.IsValid() && c.Contains(ip); ip = ip.Next() {
			if m.poolOf(ip) == name {
				total[familyIndex(ip)]++
				if len(m.users(ip)) > 0 {
					used[familyIndex(ip)]++
				}
			}
		}
	}
	return allocator.PoolStats{IPv4: counters(total[0], used[0]), IPv6: counters(total[1], used[1])}, true
}

func familyIndex(ip netip.Addr) int {
	if ip.Is4() {
		return 0
	}
	return 1
}

// TestAgainstModel runs random operation sequences on the Allocator and on the model and requires the same
// results, the same chosen addresses, the same allocations and the same counters after every operation.
func TestAgainstModel(t *testing.T) {
	configs := modelConfigs(t)
	poolNames := []string{"A", "A2", "B", "C", "Z"}
	var candidates []netip.Addr
	for ip := netip.MustParseAddr("10.0.0.250"); ip != netip.MustParseAddr("10.0.1.6"); ip = ip.Next() {
		candidates = append(candidates, ip)
	}
	candidates = append(candidates, addrs(
		"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.63", "10.0.0.64", "10.0.0.65", "10.0.0.70", "10.0.0.71",
		"fd00::", "fd00::3", "fd00::4", "fd00::12", "fd00::13", "fd00::100", "fd00::107", "fd00::108")...)

	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 42))
			a, m := allocator.New(), &model{allocs: map[string]modelAlloc{}}
			if _, err := a.SetPools(configs[0]); err != nil {
				t.Fatal(err)
			}
			m.setPools(configs[0])
			for i := range 600 {
				desc, got, want := randomOp(rng, a, m, configs, poolNames, candidates)
				if diff := cmp.Diff(want, got, addrComparer); diff != "" {
					t.Fatalf("op %d %s: (-model +allocator):\n%s", i, desc, diff)
				}
				compareState(t, a, m, poolNames, fmt.Sprintf("after op %d %s", i, desc))
			}
		})
	}
}

func modelConfigs(t *testing.T) [][]allocator.Pool {
	a := allocator.Pool{Name: "A", AutoAssign: true,
		CIDRs: append(prefixes("10.0.0.0/26"), addrRange(t, "fd00::3", "fd00::12")...)}
	b := allocator.Pool{Name: "B", CIDRs: append(addrRange(t, "10.0.0.64", "10.0.0.70"), prefixes("fd00::100/125")...)}
	c := allocator.Pool{Name: "C", AutoAssign: true, CIDRs: prefixes("10.0.1.0/30", "10.0.0.252/30")}
	shrunk := a
	shrunk.CIDRs = append(prefixes("10.0.0.0/27"), addrRange(t, "fd00::3", "fd00::8")...)
	buggyA, buggyC := a, c
	buggyA.AvoidBuggyIPs, buggyC.AvoidBuggyIPs = true, true
	renamed := a
	renamed.Name = "A2"
	withC := a
	withC.CIDRs = append(slices.Clone(c.CIDRs), a.CIDRs...)
	v4Only := a
	v4Only.CIDRs = prefixes("10.0.0.0/26")
	cV6 := c
	cV6.CIDRs = append(slices.Clone(c.CIDRs), addrRange(t, "fd00::3", "fd00::12")...)
	return [][]allocator.Pool{
		{a, b, c},
		{shrunk, b, c},
		{buggyA, b, buggyC},
		{renamed, b, c},
		{withC, b},
		{v4Only, b, cV6},
	}
}

var modelPorts = []allocator.Port{tcp(80), udp(80), tcp(443), udp(53)}

func randomService(rng *rand.Rand) allocator.Service {
	s := allocator.Service{
		Key:        fmt.Sprintf("s%d", rng.IntN(25)),
		SharingKey: []string{"", "k", "k", "k", "j"}[rng.IntN(5)],
		BackendKey: []string{"", "", "", "b"}[rng.IntN(4)],
	}
	for range rng.IntN(3) {
		s.Ports = append(s.Ports, modelPorts[rng.IntN(len(modelPorts))])
	}
	return s
}

func randomFamily(rng *rand.Rand) allocator.Family {
	return []allocator.Family{allocator.IPv4, allocator.IPv4, allocator.IPv6, allocator.DualStack}[rng.IntN(4)]
}

func randomPools(rng *rand.Rand, names []string) []string {
	perm := rng.Perm(len(names))
	var out []string
	for _, i := range perm[:rng.IntN(len(names))+1] {
		if names[i] != "Z" || rng.IntN(8) == 0 { // an unknown pool now and then
			out = append(out, names[i])
		}
	}
	return out
}

type opResult struct {
	Pool string
	IPs  []netip.Addr
	Err  string
	Lost []string
	OK   bool
}

func result(al allocator.Allocation, err error) opResult {
	if err != nil {
		return opResult{Err: err.Error()}
	}
	return opResult{Pool: al.Pool, IPs: al.IPs}
}

func randomOp(rng *rand.Rand, a *allocator.Allocator, m *model, configs [][]allocator.Pool, poolNames []string,
	candidates []netip.Addr) (string, opResult, opResult) {
	svc := randomService(rng)
	switch op := rng.IntN(100); {
	case op < 30:
		fam, pools := randomFamily(rng), randomPools(rng, poolNames)
		return fmt.Sprintf("Allocate(%+v, %s, %v)", svc, fam, pools),
			result(a.Allocate(svc, fam, pools)), result(m.allocate(svc, fam, pools))
	case op < 38:
		fam, name := randomFamily(rng), poolNames[rng.IntN(len(poolNames))]
		return fmt.Sprintf("AllocateFromPool(%+v, %s, %s)", svc, fam, name),
			result(a.AllocateFromPool(svc, fam, name)), result(m.allocateFromPool(svc, fam, name))
	case op < 43:
		primary, pools := []allocator.Family{allocator.IPv4, allocator.IPv6}[rng.IntN(2)], randomPools(rng, poolNames)
		return fmt.Sprintf("AllocatePreferDualStack(%+v, %s, %v)", svc, primary, pools),
			result(a.AllocatePreferDualStack(svc, primary, pools)), result(m.preferDualStack(svc, primary, pools))
	case op < 48:
		fam := []allocator.Family{allocator.IPv4, allocator.IPv6}[rng.IntN(2)]
		return fmt.Sprintf("AddFamily(%+v, %s)", svc, fam), result(a.AddFamily(svc, fam)), result(m.addFamily(svc, fam))
	case op < 70:
		var ips []netip.Addr
		for range 1 + rng.IntN(2) + rng.IntN(2)*rng.IntN(2) {
			ips = append(ips, candidates[rng.IntN(len(candidates))])
		}
		var allowed []string
		var filter func(string) bool
		if rng.IntN(4) == 0 {
			allowed = randomPools(rng, poolNames)
			filter = func(p string) bool { return slices.Contains(allowed, p) }
		}
		return fmt.Sprintf("Assign(%+v, %v, %v)", svc, ips, allowed),
			result(a.Assign(svc, ips, filter)), result(m.assign(svc, ips, filter))
	case op < 97:
		_, held := m.allocs[svc.Key]
		delete(m.allocs, svc.Key)
		return fmt.Sprintf("Release(%s)", svc.Key), opResult{OK: a.Release(svc.Key)}, opResult{OK: held}
	default:
		pools := configs[rng.IntN(len(configs))]
		lost, err := a.SetPools(pools)
		got := opResult{Lost: lost, OK: err == nil}
		return fmt.Sprintf("SetPools(%v)", pools), got, opResult{Lost: m.setPools(pools), OK: true}
	}
}

func compareState(t *testing.T, a *allocator.Allocator, m *model, poolNames []string, when string) {
	t.Helper()
	for i := range 25 {
		key := fmt.Sprintf("s%d", i)
		got, gotOK := a.Allocation(key)
		al, wantOK := m.allocs[key]
		want := allocator.Allocation{Pool: al.pool, IPs: al.ips}
		if gotOK != wantOK || wantOK && cmp.Diff(want, got, addrComparer) != "" {
			t.Fatalf("%s: Allocation(%s) = %v %v, model %v %v", when, key, got, gotOK, want, wantOK)
		}
	}
	for _, name := range poolNames {
		got, gotOK := a.Stats(name)
		want, wantOK := m.stats(name)
		if diff := cmp.Diff(want, got); gotOK != wantOK || diff != "" {
			t.Fatalf("%s: Stats(%s) known %v, model %v (-model +allocator):\n%s", when, name, gotOK, wantOK, diff)
		}
	}
}
