package allocator

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRangeToPrefixes(t *testing.T) {
	tests := []struct {
		first, last string
		want        []string
		wantErr     string
	}{
		{"10.0.0.5", "10.0.0.20", []string{"10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/29", "10.0.0.16/30", "10.0.0.20/32"}, ""},
		{"10.0.0.1", "10.0.0.1", []string{"10.0.0.1/32"}, ""},
		{"192.168.1.0", "192.168.1.255", []string{"192.168.1.0/24"}, ""},
		{"10.0.0.64", "10.0.0.70", []string{"10.0.0.64/30", "10.0.0.68/31", "10.0.0.70/32"}, ""},
		{"0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}, ""},
		{"255.255.255.255", "255.255.255.255", []string{"255.255.255.255/32"}, ""},
		{"fd00::3", "fd00::12", []string{"fd00::3/128", "fd00::4/126", "fd00::8/125", "fd00::10/127", "fd00::12/128"}, ""},
		{
			"2001:db8::ffff:ffff:ffff:fffe", "2001:db8:0:1::1",
			[]string{"2001:db8::ffff:ffff:ffff:fffe/127", "2001:db8:0:1::/127"}, "",
		},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"::/0"}, ""},
		{"::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", nil, ""}, // 254 prefixes, checked below
		{"10.0.0.2", "10.0.0.1", nil, "address range 10.0.0.2-10.0.0.1 starts after it ends"},
		{"10.0.0.1", "fd00::1", nil, "address range 10.0.0.1-fd00::1 mixes IPv4 and IPv6"},
		{"fe80::1%eth0", "fe80::2%eth0", nil, "address range fe80::1%eth0-fe80::2%eth0 must not have zones"},
	}
	for _, tt := range tests {
		t.Run(tt.first+"-"+tt.last, func(t *testing.T) {
			got, err := RangeToPrefixes(netip.MustParseAddr(tt.first), netip.MustParseAddr(tt.last))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrInvalidRange) {
					t.Fatalf("error = %v, want %q wrapping ErrInvalidRange", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(got) != 254 {
					t.Errorf("got %d prefixes, want 254", len(got))
				}
				return
			}
			var want []netip.Prefix
			for _, s := range tt.want {
				want = append(want, netip.MustParsePrefix(s))
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := RangeToPrefixes(netip.Addr{}, netip.MustParseAddr("10.0.0.1")); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("invalid address: error = %v, want ErrInvalidRange", err)
	}
}

// FuzzRangeToPrefixes checks that the prefixes cover exactly [first, last], in ascending order, and are
// minimal: no prefix's parent lies inside the range, otherwise it and its sibling could merge.
func FuzzRangeToPrefixes(f *testing.F) {
	f.Add(uint64(0), uint64(0x0a000005), uint64(0), uint64(0x0a000014), true)
	f.Add(uint64(0), uint64(0), ^uint64(0), ^uint64(0), false)
	f.Add(uint64(0x20010db800000000), ^uint64(0)-1, uint64(0x20010db800000001), uint64(1), false)
	f.Fuzz(func(t *testing.T, hi1, lo1, hi2, lo2 uint64, v4 bool) {
		fam, width := IPv6, 128
		if v4 {
			fam, width, hi1, hi2, lo1, lo2 = IPv4, 32, 0, 0, lo1&0xffffffff, lo2&0xffffffff
		}
		first, last := Uint128{hi1, lo1}, Uint128{hi2, lo2}
		got, err := RangeToPrefixes(addrFrom(fam, first), addrFrom(fam, last))
		if last.less(first) {
			if !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("reversed range: error = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 2*width {
			t.Fatalf("%d prefixes for a %d-bit range", len(got), width)
		}
		next := first
		for i, p := range got {
			lo, hi := prefixBounds(p)
			if p != p.Masked() || familyOf(p.Addr()) != fam || lo != next || last.less(hi) {
				t.Fatalf("prefix %d %s does not continue the cover at %v", i, p, next)
			}
			if p.Bits() > 0 {
				plo, phi := prefixBounds(netip.PrefixFrom(p.Addr(), p.Bits()-1))
				if !plo.less(first) && !last.less(phi) {
					t.Fatalf("prefix %s is not maximal: its parent fits in the range", p)
				}
			}
			if i == len(got)-1 && hi != last {
				t.Fatalf("cover ends at %v, want %v", hi, last)
			}
			next = hi.inc()
		}
	})
}
