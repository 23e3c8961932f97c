package allocator

import (
	"math/bits"
	"net/netip"
)

// RangeToPrefixes returns the minimal list of prefixes covering exactly the inclusive range first-last, in
// ascending order. Pools are given as prefixes; a MetalLB address range such as "10.0.0.5-10.0.0.20" becomes
// [10.0.0.5/32 10.0.0.6/31 10.0.0.8/29 10.0.0.16/30 10.0.0.20/32], and because the prefixes ascend the
// allocator still hands out the range's addresses lowest first. At most 2×(address bits) prefixes result.
func RangeToPrefixes(first, last netip.Addr) ([]netip.Prefix, error) {
	switch {
	case !first.IsValid() || !last.IsValid():
		return nil, errorf(ErrInvalidRange, "invalid address range %s-%s", first, last)
	case first.Zone() != "" || last.Zone() != "":
		return nil, errorf(ErrInvalidRange, "address range %s-%s must not have zones", first, last)
	case first.Is4() != last.Is4():
		return nil, errorf(ErrInvalidRange, "address range %s-%s mixes IPv4 and IPv6", first, last)
	case last.Less(first):
		return nil, errorf(ErrInvalidRange, "address range %s-%s starts after it ends", first, last)
	}
	fam, width := familyOf(first), first.BitLen()
	cur, end := addrValue(first), addrValue(last)
	var prefixes []netip.Prefix
	for {
		// The largest block that starts at cur (alignment) and does not go past end (remaining size).
		hostBits := min(trailingZeros(cur, width), floorLog2Span(cur, end))
		prefixes = append(prefixes, netip.PrefixFrom(addrFrom(fam, cur), width-hostBits))
		blockLast := orLowBits(cur, hostBits)
		if blockLast == end {
			return prefixes, nil
		}
		cur = blockLast.inc()
	}
}

// trailingZeros returns the number of trailing zero bits of v, at most width.
func trailingZeros(v Uint128, width int) int {
	if v.Lo != 0 {
		return min(bits.TrailingZeros64(v.Lo), width)
	}
	if v.Hi != 0 {
		return min(64+bits.TrailingZeros64(v.Hi), width)
	}
	return width
}

// floorLog2Span returns floor(log2(hi-lo+1)), the host bits of the largest power-of-two block fitting in [lo, hi].
func floorLog2Span(lo, hi Uint128) int {
	d := hi.sub(lo)
	if d == maxUint128 {
		return 128
	}
	n := d.inc()
	if n.Hi != 0 {
		return 64 + bits.Len64(n.Hi) - 1
	}
	return bits.Len64(n.Lo) - 1
}
