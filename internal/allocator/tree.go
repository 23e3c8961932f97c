package allocator

// tree is a B-tree from Uint128 keys (address ordinals) to values, which also keeps, for every child, the
// number of keys under it. Those sizes make it an order-statistic tree: the rank of a key, and with it the
// lowest absent key at or after a given one, are single descents, so "lowest free address" costs O(log n)
// however the addresses in use are spread. It holds the addresses in use of a pool family (value: their
// users) and the members of a shareable port set (no value).
//
// A B-tree rather than a binary tree because at 100k entries the cost is cache misses, not comparisons: a node
// holds up to 31 keys in contiguous arrays, so a lookup touches four or five nodes instead of about twenty
// scattered binary-tree nodes, and inserting or deleting allocates or frees only on a split or merge.
type tree[V any] struct {
	root *bnode[V]
	len  int
}

// A full node (maxKeys) splits into two halves of 15 keys; a node merges or borrows only when it would drop
// below minKeys. The gap between the two keeps insert-delete churn on one node from splitting and merging it
// every time, and merging two minimal nodes around their separator still fits a node. Every node but the
// root has at least minKeys+1 = 8 children, so the height stays below log8(n)+1.
const (
	maxKeys = 31
	minKeys = 7
)

type bnode[V any] struct {
	n    int
	keys [maxKeys]Uint128
	vals [maxKeys]V
	br   *branch[V] // nil for leaves
}

// branch is what only internal nodes have: children kids[0..n] and the number of keys under each.
type branch[V any] struct {
	kids  [maxKeys + 1]*bnode[V]
	sizes [maxKeys + 1]int
}

func (x *bnode[V]) leaf() bool { return x.br == nil }

// size counts the keys under x, in O(node).
func (x *bnode[V]) size() int {
	n := x.n
	if !x.leaf() {
		for _, s := range x.br.sizes[:x.n+1] {
			n += s
		}
	}
	return n
}

// index returns the first i with keys[i] >= k, and whether keys[i] == k. It scans linearly: on a node not in
// cache, reading its keys in order lets the hardware prefetcher stream them, where a binary search would wait
// for each probe's cache miss in turn.
func (x *bnode[V]) index(k Uint128) (int, bool) {
	i := 0
	for i < x.n && x.keys[i].less(k) {
		i++
	}
	return i, i < x.n && x.keys[i] == k
}

// get returns the value of k.
func (t *tree[V]) get(k Uint128) (V, bool) {
	for x := t.root; x != nil; {
		i, found := x.index(k)
		if found {
			return x.vals[i], true
		}
		if x.leaf() {
			break
		}
		x = x.br.kids[i]
	}
	var zero V
	return zero, false
}

// ceil returns the smallest key >= k.
func (t *tree[V]) ceil(k Uint128) (Uint128, bool) {
	var key Uint128
	ok := false
	for x := t.root; x != nil; {
		i, found := x.index(k)
		if found {
			return x.keys[i], true
		}
		if i < x.n { // keys in kids[i] lie between k and keys[i], so a deeper hit replaces this one
			key, ok = x.keys[i], true
		}
		if x.leaf() {
			break
		}
		x = x.br.kids[i]
	}
	return key, ok
}

// rank returns the number of keys below k, and whether k is a key.
func (t *tree[V]) rank(k Uint128) (int, bool) {
	r := 0
	for x := t.root; x != nil; {
		i, found := x.index(k)
		r += i
		if x.leaf() {
			return r, found
		}
		for _, s := range x.br.sizes[:i] {
			r += s
		}
		if found {
			return r + x.br.sizes[i], true
		}
		x = x.br.kids[i]
	}
	return r, false
}

// lowestAbsent returns the lowest value in [lo, hi] that is not a key.
//
// With keys in order key(0) < key(1) < ..., key(j)-j never decreases. If lo is the key of index r, the keys
// lo, lo+1, ... continue up to the first index j with key(j)-j > lo-r, and lo+(j-r) is the answer: one rank
// and one descent for j, whatever the number of consecutive keys in between.
func (t *tree[V]) lowestAbsent(lo, hi Uint128) (Uint128, bool) {
	r, found := t.rank(lo)
	if !found {
		return lo, true
	}
	j := t.firstAbove(lo.sub(Uint128{Lo: uint64(r)}))
	last := lo.add64(uint64(j - 1 - r)) // a key, so no overflow
	if last == maxUint128 || !last.less(hi) {
		return Uint128{}, false
	}
	return last.inc(), true
}

// firstAbove returns the smallest index j with key(j)-j > c, or len if there is none.
func (t *tree[V]) firstAbove(c Uint128) int {
	ans := t.len
	for x, base := t.root, 0; x != nil; {
		idx := base // index of the next key of x in order
		var next *bnode[V]
		nextBase := 0
		hit := false
		for i := 0; i < x.n && !hit; i++ {
			if !x.leaf() {
				idx += x.br.sizes[i] // the keys of kids[i] come first
			}
			if hit = c.less(x.keys[i].sub(Uint128{Lo: uint64(idx)})); hit {
				ans = idx // and the answer may still be under kids[i]
				if !x.leaf() {
					next, nextBase = x.br.kids[i], idx-x.br.sizes[i]
				}
			}
			idx++
		}
		if !hit && !x.leaf() {
			next, nextBase = x.br.kids[x.n], idx
		}
		x, base = next, nextBase
	}
	return ans
}

// put sets the value of k, inserting it if absent.
func (t *tree[V]) put(k Uint128, v V) {
	for x := t.root; x != nil; {
		i, found := x.index(k)
		if found {
			x.vals[i] = v
			return
		}
		if x.leaf() {
			break
		}
		x = x.br.kids[i]
	}
	t.insert(k, v)
}

// insert adds k, which must be absent. Full nodes are split on the way down, so the leaf has room.
func (t *tree[V]) insert(k Uint128, v V) {
	if t.root == nil {
		t.root = &bnode[V]{}
	}
	if t.root.n == maxKeys {
		old := t.root
		t.root = &bnode[V]{br: &branch[V]{}}
		t.root.br.kids[0], t.root.br.sizes[0] = old, t.len
		t.root.splitChild(0)
	}
	t.len++
	for x := t.root; ; {
		i, _ := x.index(k)
		if x.leaf() {
			x.insertAt(i, k, v)
			return
		}
		if x.br.kids[i].n == maxKeys {
			x.splitChild(i)
			if x.keys[i].less(k) {
				i++
			}
		}
		x.br.sizes[i]++
		x = x.br.kids[i]
	}
}

func (x *bnode[V]) insertAt(i int, k Uint128, v V) {
	copy(x.keys[i+1:x.n+1], x.keys[i:x.n])
	copy(x.vals[i+1:x.n+1], x.vals[i:x.n])
	x.keys[i], x.vals[i] = k, v
	x.n++
}

func (x *bnode[V]) removeAt(i int) {
	copy(x.keys[i:x.n-1], x.keys[i+1:x.n])
	copy(x.vals[i:x.n-1], x.vals[i+1:x.n])
	x.n--
	var zero V
	x.vals[x.n] = zero // drop what the value references
}

// splitChild splits the full kids[i] around its median, which moves up into x.
func (x *bnode[V]) splitChild(i int) {
	const half = maxKeys / 2
	y := x.br.kids[i]
	z := &bnode[V]{n: half}
	copy(z.keys[:], y.keys[half+1:y.n])
	copy(z.vals[:], y.vals[half+1:y.n])
	if !y.leaf() {
		z.br = &branch[V]{}
		copy(z.br.kids[:], y.br.kids[half+1:y.n+1])
		copy(z.br.sizes[:], y.br.sizes[half+1:y.n+1])
		clear(y.br.kids[half+1 : y.n+1])
		clear(y.br.sizes[half+1 : y.n+1])
	}
	mk, mv := y.keys[half], y.vals[half]
	clear(y.vals[half:y.n])
	y.n = half
	zSize := z.size()
	copy(x.br.kids[i+2:x.n+2], x.br.kids[i+1:x.n+1])
	copy(x.br.sizes[i+2:x.n+2], x.br.sizes[i+1:x.n+1])
	x.br.kids[i+1], x.br.sizes[i+1] = z, zSize
	x.br.sizes[i] -= zSize + 1
	x.insertAt(i, mk, mv)
}

// delete removes k if present. On the way down every node visited is first given more than minKeys keys
// (borrowing from or merging with a sibling), so removing from it never underflows.
func (t *tree[V]) delete(k Uint128) {
	if _, found := t.get(k); !found {
		return // the sizes below are decremented on the way down, so k must be there
	}
	t.len--
	for x := t.root; ; {
		i, found := x.index(k)
		switch {
		case x.leaf():
			x.removeAt(i)
			if t.root.n == 0 {
				t.root = nil
			}
			return
		case found && x.br.kids[i].n > minKeys:
			// Replace k by its predecessor, then delete the predecessor from the left subtree.
			pk, pv := x.br.kids[i].last()
			x.keys[i], x.vals[i] = pk, pv
			k = pk
		case found && x.br.kids[i+1].n > minKeys:
			sk, sv := x.br.kids[i+1].first()
			x.keys[i], x.vals[i] = sk, sv
			k = sk
			i++
		case found:
			x.merge(i) // kids[i] now holds k in its middle, and 2*minKeys+1 keys in all
		case x.br.kids[i].n == minKeys:
			i = x.fill(i)
		}
		x.br.sizes[i]--
		if x == t.root && x.n == 0 { // the root's last key went down in a merge
			t.root = x.br.kids[0]
		}
		x = x.br.kids[i]
	}
}

func (x *bnode[V]) first() (Uint128, V) {
	for !x.leaf() {
		x = x.br.kids[0]
	}
	return x.keys[0], x.vals[0]
}

func (x *bnode[V]) last() (Uint128, V) {
	for !x.leaf() {
		x = x.br.kids[x.n]
	}
	return x.keys[x.n-1], x.vals[x.n-1]
}

// fill gives kids[i], which has minKeys keys, at least one more, and returns the index of the child now
// covering its keys (it moves left when merged into its left sibling).
func (x *bnode[V]) fill(i int) int {
	switch {
	case i > 0 && x.br.kids[i-1].n > minKeys:
		x.rotateRight(i)
	case i < x.n && x.br.kids[i+1].n > minKeys:
		x.rotateLeft(i)
	case i < x.n:
		x.merge(i)
	default:
		x.merge(i - 1)
		i--
	}
	return i
}

// rotateRight moves the separator keys[i-1] down into kids[i], and the last key of kids[i-1] up, with the
// subtree between them.
func (x *bnode[V]) rotateRight(i int) {
	c, s := x.br.kids[i], x.br.kids[i-1]
	c.insertAt(0, x.keys[i-1], x.vals[i-1])
	moved := 1
	if !c.leaf() {
		copy(c.br.kids[1:c.n+1], c.br.kids[0:c.n])
		copy(c.br.sizes[1:c.n+1], c.br.sizes[0:c.n])
		c.br.kids[0], c.br.sizes[0] = s.br.kids[s.n], s.br.sizes[s.n]
		moved += s.br.sizes[s.n]
		s.br.kids[s.n], s.br.sizes[s.n] = nil, 0
	}
	x.keys[i-1], x.vals[i-1] = s.keys[s.n-1], s.vals[s.n-1]
	s.removeAt(s.n - 1)
	x.br.sizes[i-1] -= moved
	x.br.sizes[i] += moved
}

// rotateLeft moves the separator keys[i] down into kids[i], and the first key of kids[i+1] up, with the
// subtree between them.
func (x *bnode[V]) rotateLeft(i int) {
	c, s := x.br.kids[i], x.br.kids[i+1]
	c.insertAt(c.n, x.keys[i], x.vals[i])
	moved := 1
	x.keys[i], x.vals[i] = s.keys[0], s.vals[0]
	if !c.leaf() {
		c.br.kids[c.n], c.br.sizes[c.n] = s.br.kids[0], s.br.sizes[0]
		moved += s.br.sizes[0]
		copy(s.br.kids[0:s.n], s.br.kids[1:s.n+1])
		copy(s.br.sizes[0:s.n], s.br.sizes[1:s.n+1])
		s.br.kids[s.n], s.br.sizes[s.n] = nil, 0
	}
	s.removeAt(0)
	x.br.sizes[i] += moved
	x.br.sizes[i+1] -= moved
}

// merge joins kids[i], the separator keys[i] and kids[i+1] into kids[i].
func (x *bnode[V]) merge(i int) {
	c, s := x.br.kids[i], x.br.kids[i+1]
	c.keys[c.n], c.vals[c.n] = x.keys[i], x.vals[i]
	copy(c.keys[c.n+1:], s.keys[:s.n])
	copy(c.vals[c.n+1:], s.vals[:s.n])
	if !c.leaf() {
		copy(c.br.kids[c.n+1:], s.br.kids[:s.n+1])
		copy(c.br.sizes[c.n+1:], s.br.sizes[:s.n+1])
	}
	c.n += 1 + s.n
	x.br.sizes[i] += 1 + x.br.sizes[i+1]
	copy(x.br.kids[i+1:x.n], x.br.kids[i+2:x.n+1])
	copy(x.br.sizes[i+1:x.n], x.br.sizes[i+2:x.n+1])
	x.br.kids[x.n], x.br.sizes[x.n] = nil, 0
	x.removeAt(i)
}

// each calls fn for every entry in key order.
func (t *tree[V]) each(fn func(k Uint128, v V)) {
	var walk func(x *bnode[V])
	walk = func(x *bnode[V]) {
		for i := 0; i <= x.n; i++ {
			if !x.leaf() {
				walk(x.br.kids[i])
			}
			if i < x.n {
				fn(x.keys[i], x.vals[i])
			}
		}
	}
	if t.root != nil {
		walk(t.root)
	}
}
