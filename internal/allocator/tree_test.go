package allocator

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// checkBTree verifies key order, node fill, uniform leaf depth and the recorded subtree sizes, and returns
// the subtree's depth and size.
func checkBTree[V any](t *testing.T, x *bnode[V], root bool, lo, hi *Uint128) (int, int) {
	t.Helper()
	if x.n > maxKeys || (!root && x.n < minKeys) || (root && x.n == 0) {
		t.Fatalf("node with %d keys", x.n)
	}
	for i := range x.n {
		k := x.keys[i]
		if (i > 0 && !x.keys[i-1].less(k)) || (lo != nil && !lo.less(k)) || (hi != nil && !k.less(*hi)) {
			t.Fatalf("key %v out of order", k)
		}
	}
	if x.leaf() {
		return 1, x.n
	}
	depth, size := 0, x.n
	for i := 0; i <= x.n; i++ {
		klo, khi := lo, hi
		if i > 0 {
			klo = &x.keys[i-1]
		}
		if i < x.n {
			khi = &x.keys[i]
		}
		d, s := checkBTree(t, x.br.kids[i], false, klo, khi)
		if i > 0 && d != depth {
			t.Fatalf("leaves at depths %d and %d", depth, d)
		}
		if s != x.br.sizes[i] {
			t.Fatalf("child %d holds %d keys, recorded %d", i, s, x.br.sizes[i])
		}
		depth, size = d, size+s
	}
	for i := x.n + 1; i <= maxKeys; i++ {
		if x.br.kids[i] != nil || x.br.sizes[i] != 0 {
			t.Fatalf("stale child %d of a node with %d keys", i, x.n)
		}
	}
	return depth + 1, size
}

// TestTreeAgainstSortedSlice runs random puts and deletes against a sorted slice: phases that mostly insert,
// then mostly delete, then a drain in random order exercise splits, rotations and merges at every level.
func TestTreeAgainstSortedSlice(t *testing.T) {
	const keyRange = 20000
	rng := rand.New(rand.NewPCG(1, 2))
	var tr tree[uint64]
	var keys []uint64
	check := func() int {
		t.Helper()
		if tr.len != len(keys) {
			t.Fatalf("len %d, want %d", tr.len, len(keys))
		}
		if tr.root == nil {
			return 0
		}
		depth, size := checkBTree(t, tr.root, true, nil, nil)
		if size != len(keys) {
			t.Fatalf("%d keys in the nodes, want %d", size, len(keys))
		}
		return depth
	}
	maxDepth := 0
	for step := range 90000 {
		k := rng.Uint64N(keyRange)
		i, found := slices.BinarySearch(keys, k)
		insertBias := 3 - 2*(step/30000%2) // out of 4: 3 in the insert phases, 1 in the delete phase
		if rng.IntN(4) < insertBias {
			tr.put(Uint128{Lo: k}, 2*k)
			if !found {
				keys = slices.Insert(keys, i, k)
			}
		} else {
			tr.delete(Uint128{Lo: k})
			if found {
				keys = slices.Delete(keys, i, i+1)
			}
		}
		if step%100 == 0 {
			maxDepth = max(maxDepth, check())
		}
		q := rng.Uint64N(keyRange + 20)
		qi, qfound := slices.BinarySearch(keys, q)
		if v, ok := tr.get(Uint128{Lo: q}); ok != qfound || ok && v != 2*q {
			t.Fatalf("get(%d) = %d %v", q, v, ok)
		}
		if r, ok := tr.rank(Uint128{Lo: q}); r != qi || ok != qfound {
			t.Fatalf("rank(%d) = %d %v, want %d %v", q, r, ok, qi, qfound)
		}
		if c, ok := tr.ceil(Uint128{Lo: q}); ok != (qi < len(keys)) || ok && c.Lo != keys[qi] {
			t.Fatalf("ceil(%d) = %v %v", q, c, ok)
		}
	}
	if maxDepth < 3 {
		t.Errorf("tree reached depth %d, want at least 3", maxDepth)
	}
	var walked []uint64
	tr.each(func(k Uint128, v uint64) { walked = append(walked, k.Lo) })
	if !slices.Equal(walked, keys) {
		t.Fatalf("each visited %d keys out of order or incomplete", len(walked))
	}
	for n, i := range rng.Perm(len(keys)) {
		tr.delete(Uint128{Lo: keys[i]})
		tr.delete(Uint128{Lo: keys[i]}) // deleting an absent key changes nothing
		if tr.len != len(keys)-n-1 {
			t.Fatalf("len %d after %d deletes of %d keys", tr.len, n+1, len(keys))
		}
		if tr.root != nil && n%50 == 0 {
			checkBTree(t, tr.root, true, nil, nil)
		}
	}
	if tr.root != nil || tr.len != 0 {
		t.Errorf("tree not empty after deleting every key: len %d", tr.len)
	}
}

// TestLowestAbsentAgainstBitmap toggles random values of a small universe, in clusters so that long runs of
// consecutive keys form and split, and checks lowestAbsent against a scan of a bitmap.
func TestLowestAbsentAgainstBitmap(t *testing.T) {
	const size = 3000
	rng := rand.New(rand.NewPCG(3, 4))
	var tr tree[struct{}]
	var in [size]bool
	for range 30000 {
		x := rng.IntN(size)
		if rng.IntN(3) > 0 { // grow or shrink a run rather than pick a new spot
			for x+1 < size && in[x] == in[x+1] {
				x++
			}
		}
		if in[x] {
			tr.delete(Uint128{Lo: uint64(x)})
		} else {
			tr.insert(Uint128{Lo: uint64(x)}, struct{}{})
		}
		in[x] = !in[x]
		lo := rng.IntN(size)
		hi := lo + rng.IntN(size-lo)
		want := -1
		for y := lo; y <= hi; y++ {
			if !in[y] {
				want = y
				break
			}
		}
		got, ok := tr.lowestAbsent(Uint128{Lo: uint64(lo)}, Uint128{Lo: uint64(hi)})
		if ok != (want >= 0) || ok && got.Lo != uint64(want) {
			t.Fatalf("lowestAbsent(%d, %d) = %v %v, want %d", lo, hi, got, ok, want)
		}
	}
}

func TestLowestAbsentEdges(t *testing.T) {
	var tr tree[struct{}]
	tr.insert(maxUint128, struct{}{})
	tr.insert(Uint128{}, struct{}{})
	if _, ok := tr.lowestAbsent(maxUint128, maxUint128); ok {
		t.Errorf("lowestAbsent found a value in a full range")
	}
	if got, _ := tr.lowestAbsent(Uint128{}, maxUint128); got != (Uint128{Lo: 1}) {
		t.Errorf("lowestAbsent(0, max) = %v, want 1", got)
	}
	tr.delete(maxUint128)
	if got, ok := tr.lowestAbsent(maxUint128.dec(), maxUint128); !ok || got != maxUint128.dec() {
		t.Errorf("lowestAbsent(max-1, max) = %v %v, want max-1", got, ok)
	}
}
