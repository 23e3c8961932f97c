package allocator

import (
	"math"
	"math/big"
	"math/bits"
)

// Uint128 is an unsigned 128-bit integer. Pool sizes and address ordinals need it: an IPv6 /64 pool holds 2^64
// addresses and a /48 holds 2^80, which neither int64 nor uint64 can count.
type Uint128 struct {
	Hi, Lo uint64
}

var maxUint128 = Uint128{Hi: math.MaxUint64, Lo: math.MaxUint64}

func (u Uint128) cmp(v Uint128) int {
	switch {
	case u.Hi < v.Hi, u.Hi == v.Hi && u.Lo < v.Lo:
		return -1
	case u == v:
		return 0
	default:
		return 1
	}
}

func (u Uint128) less(v Uint128) bool { return u.Hi < v.Hi || u.Hi == v.Hi && u.Lo < v.Lo }

// inc returns u+1, wrapping at 2^128; callers check for maxUint128 first where that matters.
func (u Uint128) inc() Uint128 {
	lo, carry := bits.Add64(u.Lo, 1, 0)
	return Uint128{Hi: u.Hi + carry, Lo: lo}
}

// dec returns u-1, wrapping at 0; callers check for zero first where that matters.
func (u Uint128) dec() Uint128 {
	lo, borrow := bits.Sub64(u.Lo, 1, 0)
	return Uint128{Hi: u.Hi - borrow, Lo: lo}
}

// add64 returns u+d, wrapping at 2^128; callers add only what cannot overflow.
func (u Uint128) add64(d uint64) Uint128 {
	lo, carry := bits.Add64(u.Lo, d, 0)
	return Uint128{Hi: u.Hi + carry, Lo: lo}
}

func (u Uint128) sub(v Uint128) Uint128 {
	lo, borrow := bits.Sub64(u.Lo, v.Lo, 0)
	return Uint128{Hi: u.Hi - v.Hi - borrow, Lo: lo}
}

// addSat returns u+v, saturating at 2^128-1 (only a pool covering all of ::/0 reaches it).
func (u Uint128) addSat(v Uint128) Uint128 {
	lo, carry := bits.Add64(u.Lo, v.Lo, 0)
	hi, overflow := bits.Add64(u.Hi, v.Hi, carry)
	if overflow != 0 {
		return maxUint128
	}
	return Uint128{Hi: hi, Lo: lo}
}

// Int64 returns u as an int64, saturating at math.MaxInt64: the IPAddressPool status fields are int64.
func (u Uint128) Int64() int64 {
	if u.Hi != 0 || u.Lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u.Lo)
}

// Float64 returns u rounded to the nearest float64, for Prometheus gauges.
func (u Uint128) Float64() float64 {
	f, _ := new(big.Float).SetInt(u.Big()).Float64()
	return f
}

// Big returns u as a new big.Int.
func (u Uint128) Big() *big.Int {
	b := new(big.Int).SetUint64(u.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.Lo))
}

// String returns u in decimal.
func (u Uint128) String() string { return u.Big().String() }
