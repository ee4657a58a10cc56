package anomaly

// lru is an exact set of at most capacity keys in order of last use, some of them pinned
// (never evicted). Each key owns a slot, a dense index in [0, capacity) that callers use to keep
// per-key values in parallel slices; when a key is evicted its slot goes to the key that
// evicted it. Slots are handed out in order 0, 1, 2… so parallel slices grow by appending.
type lru[K comparable] struct {
	index    map[K]int32
	nodes    []lruNode[K]
	head     int32 // most recently used unpinned slot, or -1
	tail     int32 // least recently used unpinned slot, or -1
	capacity int
	pinned   int
}

type lruNode[K comparable] struct {
	key        K
	prev, next int32 // towards head and towards tail in the recency list; -1 at the ends
	pinned     bool
}

func newLRU[K comparable](capacity int) lru[K] {
	return lru[K]{index: make(map[K]int32), head: -1, tail: -1, capacity: capacity}
}

// len is the number of keys held.
func (l *lru[K]) len() int { return len(l.index) }

// get returns k's slot without changing the order.
func (l *lru[K]) get(k K) (int32, bool) {
	s, ok := l.index[k]
	return s, ok
}

// touch makes slot the most recently used (pinned slots are not in the order).
func (l *lru[K]) touch(s int32) {
	if l.nodes[s].pinned || l.head == s {
		return
	}
	l.unlink(s)
	l.pushFront(s)
}

// add inserts k, which must be absent, as the most recently used key. When the set is full it
// first evicts the least recently used unpinned key and reuses its slot; evicted tells whether
// it did. ok is false, and nothing changes, when the set is full of pinned keys.
func (l *lru[K]) add(k K) (slot int32, evicted bool, ok bool) {
	if len(l.nodes) < l.capacity {
		slot = int32(len(l.nodes))
		l.nodes = append(l.nodes, lruNode[K]{key: k, prev: -1, next: -1})
	} else {
		if l.tail < 0 {
			return -1, false, false
		}
		slot = l.tail
		l.unlink(slot)
		delete(l.index, l.nodes[slot].key)
		l.nodes[slot].key = k
		evicted = true
	}
	l.index[k] = slot
	l.pushFront(slot)
	return slot, evicted, true
}

// pin takes slot out of the recency order for good.
func (l *lru[K]) pin(s int32) {
	if l.nodes[s].pinned {
		return
	}
	l.unlink(s)
	l.nodes[s].pinned = true
	l.pinned++
}

func (l *lru[K]) unlink(s int32) {
	n := &l.nodes[s]
	if n.prev >= 0 {
		l.nodes[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next >= 0 {
		l.nodes[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

func (l *lru[K]) pushFront(s int32) {
	n := &l.nodes[s]
	n.prev, n.next = -1, l.head
	if l.head >= 0 {
		l.nodes[l.head].prev = s
	}
	l.head = s
	if l.tail < 0 {
		l.tail = s
	}
}
