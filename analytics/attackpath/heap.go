package attackpath

import "math/bits"

// item is a heap entry of the path searches: key orders, node is the node or search state.
type item struct {
	key  uint64
	node uint64
}

func (a item) less(b item) bool {
	return a.key < b.key || a.key == b.key && a.node < b.node
}

// itemHeap is a binary min-heap of items.
type itemHeap []item

func (h *itemHeap) push(x item) {
	a := append(*h, x)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !x.less(a[p]) {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = x
	*h = a
}

func (h *itemHeap) pop() item {
	a := *h
	top := a[0]
	n := len(a) - 1
	x := a[n]
	a = a[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1].less(a[c]) {
			c++
		}
		if !a[c].less(x) {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = x
	}
	*h = a
	return top
}

// radixHeap is a monotone priority queue of (uint32 key, node) pairs, packed as key<<32|node:
// every pushed key must be at least the last popped one, as in Dijkstra's algorithm. Bucket i
// holds the entries whose key first differs from the last popped key at bit i-1.
type radixHeap struct {
	last    uint32
	size    int
	buckets [33][]uint64
}

func (h *radixHeap) bucket(key uint32) int { return bits.Len32(key ^ h.last) }

func (h *radixHeap) push(key uint32, node int32) {
	b := h.bucket(key)
	h.buckets[b] = append(h.buckets[b], uint64(key)<<32|uint64(uint32(node)))
	h.size++
}

// pop returns the entry with the smallest key (any, among equal keys).
func (h *radixHeap) pop() (uint32, int32) {
	if len(h.buckets[0]) == 0 {
		i := 1
		for len(h.buckets[i]) == 0 {
			i++
		}
		// Redistribute bucket i around its minimum key: all its entries land in lower buckets.
		b := h.buckets[i]
		minKey := uint32(b[0] >> 32)
		for _, x := range b[1:] {
			minKey = min(minKey, uint32(x>>32))
		}
		h.last = minKey
		for _, x := range b {
			j := h.bucket(uint32(x >> 32))
			h.buckets[j] = append(h.buckets[j], x)
		}
		h.buckets[i] = b[:0]
	}
	b := h.buckets[0]
	x := b[len(b)-1]
	h.buckets[0] = b[:len(b)-1]
	h.size--
	return uint32(x >> 32), int32(uint32(x))
}
