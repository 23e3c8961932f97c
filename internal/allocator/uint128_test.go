package allocator

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUint128Conversions(t *testing.T) {
	tests := []struct {
		name      string
		in        Uint128
		wantInt64 int64
		wantFloat float64
		wantStr   string
	}{
		{"zero", Uint128{}, 0, 0, "0"},
		{"254", Uint128{Lo: 254}, 254, 254, "254"},
		{"max int64", Uint128{Lo: math.MaxInt64}, math.MaxInt64, 0x1p63, "9223372036854775807"},
		{"2^63 saturates", Uint128{Lo: 1 << 63}, math.MaxInt64, 0x1p63, "9223372036854775808"},
		{"2^64 (/64)", Uint128{Hi: 1}, math.MaxInt64, 0x1p64, "18446744073709551616"},
		{"2^80 (/48)", Uint128{Hi: 1 << 16}, math.MaxInt64, 0x1p80, "1208925819614629174706176"},
		{"2^128-1", maxUint128, math.MaxInt64, 0x1p128, "340282366920938463463374607431768211455"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := struct {
				I int64
				F float64
				S string
			}{tt.in.Int64(), tt.in.Float64(), tt.in.String()}
			want := struct {
				I int64
				F float64
				S string
			}{tt.wantInt64, tt.wantFloat, tt.wantStr}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("conversions of %v (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestUint128Arithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  Uint128
		want Uint128
	}{
		{"inc carries", Uint128{Lo: math.MaxUint64}.inc(), Uint128{Hi: 1}},
		{"dec borrows", Uint128{Hi: 1}.dec(), Uint128{Lo: math.MaxUint64}},
		{"sub borrows", Uint128{Hi: 1, Lo: 2}.sub(Uint128{Lo: 3}), Uint128{Lo: math.MaxUint64}},
		{"addSat carries", Uint128{Lo: math.MaxUint64}.addSat(Uint128{Lo: 1}), Uint128{Hi: 1}},
		{"addSat saturates", maxUint128.addSat(Uint128{Lo: 1}), maxUint128},
		{"addSat 2^127+2^127", Uint128{Hi: 1 << 63}.addSat(Uint128{Hi: 1 << 63}), maxUint128},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNonBuggyOrdinals(t *testing.T) {
	// Walk a few /24s: every address not ending in .0/.255 must get the next ordinal, in order.
	next := uint64(0)
	for x := uint64(0); x < 4*256; x++ {
		if low := x & 0xff; low == 0 || low == 255 {
			continue
		}
		if got := nonBuggyBelow(x); got != next {
			t.Fatalf("nonBuggyBelow(%d) = %d, want %d", x, got, next)
		}
		if got := nonBuggyAt(next); got != x {
			t.Fatalf("nonBuggyAt(%d) = %d, want %d", next, got, x)
		}
		next++
	}
	if got, want := nonBuggyBelow(1<<32), uint64(1<<24*254); got != want {
		t.Errorf("nonBuggyBelow(2^32) = %d, want %d", got, want)
	}
}
