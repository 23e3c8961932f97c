package allocator

import (
	"encoding/binary"
	"net/netip"
)

// Family is the set of address families a request needs.
type Family uint8

const (
	// IPv4 asks for one IPv4 address.
	IPv4 Family = 1 << iota
	// IPv6 asks for one IPv6 address.
	IPv6
	// DualStack asks for one IPv4 and one IPv6 address from the same pool.
	DualStack = IPv4 | IPv6
)

// String returns MetalLB's name for the family, as it appears in its error messages.
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	case DualStack:
		return "dual"
	default:
		return "unknown"
	}
}

func (f Family) valid() bool { return f == IPv4 || f == IPv6 || f == DualStack }

// other returns the single family that is not f.
func (f Family) other() Family { return DualStack &^ f }

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// addrValue returns a as a number: 32 bits for IPv4, 128 for IPv6.
func addrValue(a netip.Addr) Uint128 {
	if a.Is4() {
		b := a.As4()
		return Uint128{Lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return Uint128{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:])}
}

// addrFrom is the inverse of addrValue.
func addrFrom(f Family, v Uint128) netip.Addr {
	if f == IPv4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(v.Lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], v.Hi)
	binary.BigEndian.PutUint64(b[8:], v.Lo)
	return netip.AddrFrom16(b)
}

// prefixBounds returns the first and last address of p as numbers.
func prefixBounds(p netip.Prefix) (first, last Uint128) {
	first = addrValue(p.Masked().Addr())
	hostBits := p.Addr().BitLen() - p.Bits()
	return first, orLowBits(first, hostBits)
}

// orLowBits sets the n lowest bits of v.
func orLowBits(v Uint128, n int) Uint128 {
	switch {
	case n == 0:
		return v
	case n < 64:
		return Uint128{Hi: v.Hi, Lo: v.Lo | (1<<n - 1)}
	default:
		return Uint128{Hi: v.Hi | (1<<(n-64) - 1), Lo: ^uint64(0)}
	}
}

// isBuggy reports whether a is an IPv4 address ending in .0 or .255: smurf protection in some CPE firmware
// drops traffic to them, so avoidBuggyIPs keeps them out of a pool.
func isBuggy(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	last := a.As4()[3]
	return last == 0 || last == 255
}

// nonBuggyBelow counts the IPv4 addresses below x (x <= 2^32) that do not end in .0 or .255. For an address
// that does not itself end in .0 or .255 it is a dense, order-preserving ordinal; see family.ordinal.
func nonBuggyBelow(x uint64) uint64 {
	n := (x >> 8) * 254
	if low := x & 0xff; low > 0 {
		n += min(low-1, 254)
	}
	return n
}

// nonBuggyAt is the inverse of nonBuggyBelow on addresses not ending in .0 or .255.
func nonBuggyAt(ordinal uint64) uint64 { return (ordinal/254)<<8 | (ordinal%254 + 1) }
