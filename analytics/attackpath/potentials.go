package attackpath

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// potCacheSize is how many target sets' potentials a Graph keeps.
const potCacheSize = 8

// potentials is what a Graph caches per target set.
type potentials struct {
	// dist[v] is the integer cost of the cheapest path from v to a target (infDist if none),
	// saturated just below infDist.
	dist []uint32
	// hops[v] is the fewest edges from v to a target (saturated at 255; 255 if none).
	hops []uint8

	// pdom is the post-dominator tree from the targets, computed on first need; pdomReady
	// says it is, so that later queries use it from the start.
	pdomOnce  sync.Once
	pdom      *DomTree
	pdomReady atomic.Bool
}

// postDominatorsOf returns the post-dominator tree of the target set whose potentials p are.
func (g *Graph) postDominatorsOf(p *potentials, targets []int32) *DomTree {
	p.pdomOnce.Do(func() {
		p.pdom = g.postDominators(targets)
		p.pdomReady.Store(true)
	})
	return p.pdom
}

type potEntry struct {
	key   string
	ready chan struct{} // closed once pot is set
	pot   *potentials
}

// potCache is a small LRU of potentials, most recently used last.
type potCache struct {
	mu      sync.Mutex
	entries []*potEntry
}

// Potentials returns, for every node, the cost −ln p of the most likely path from it to the
// nearest of targets, to CostResolution (0 for a target, +Inf when no target is reachable). It is a reverse
// multi-target Dijkstra over the in-CSR; the Graph caches the result for its last few target
// sets, and TopK and FixPlan reuse it.
func (g *Graph) Potentials(targets []int32) ([]float32, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: no targets", ErrBadQuery)
	}
	if err := g.checkNodes("target", targets); err != nil {
		return nil, err
	}
	pot := g.potentials(targets)
	out := make([]float32, len(pot.dist))
	for v, d := range pot.dist {
		if d == infDist {
			out[v] = float32(math.Inf(1))
		} else {
			out[v] = float32(unitsToCost(uint64(d)))
		}
	}
	return out, nil
}

// potentials returns the cached potentials of a target set, computing them on a miss. Two
// goroutines asking for the same set compute it once.
func (g *Graph) potentials(targets []int32) *potentials {
	key := targetKey(targets)
	c := &g.pots
	c.mu.Lock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
			c.mu.Unlock()
			<-e.ready
			return e.pot
		}
	}
	e := &potEntry{key: key, ready: make(chan struct{})}
	if len(c.entries) == potCacheSize {
		c.entries = append(c.entries[:0:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, e)
	c.mu.Unlock()

	e.pot = g.computePotentials(targets)
	close(e.ready)
	return e.pot
}

// targetKey encodes a target set (sorted, without duplicates) as a map key.
func targetKey(targets []int32) string {
	t := slices.Clone(targets)
	slices.Sort(t)
	t = slices.Compact(t)
	b := make([]byte, 4*len(t))
	for i, v := range t {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return string(b)
}

// computePotentials runs the reverse Dijkstra and a reverse breadth-first search (for the hop
// bounds) from targets.
func (g *Graph) computePotentials(targets []int32) *potentials {
	n := int(g.n)
	dist := make([]uint32, n)
	for i := range dist {
		dist[i] = infDist
	}
	var h radixHeap
	for _, t := range targets {
		if dist[t] != 0 {
			dist[t] = 0
			h.push(0, t)
		}
	}
	for h.size > 0 {
		d, v := h.pop()
		if d != dist[v] {
			continue
		}
		for i := g.inOff[v]; i < g.inOff[v+1]; i++ {
			nd := uint32(min(uint64(d)+uint64(g.inCost[i]), infDist-1))
			if u := g.inFrom[i]; nd < dist[u] {
				dist[u] = nd
				h.push(nd, u)
			}
		}
	}

	hops := make([]uint8, n)
	for i := range hops {
		hops[i] = math.MaxUint8
	}
	queue := make([]int32, 0, len(targets))
	for _, t := range targets {
		if hops[t] != 0 {
			hops[t] = 0
			queue = append(queue, t)
		}
	}
	for i := 0; i < len(queue); i++ {
		v := queue[i]
		hv := hops[v]
		if hv >= math.MaxUint8-1 {
			break
		}
		for j := g.inOff[v]; j < g.inOff[v+1]; j++ {
			if u := g.inFrom[j]; hops[u] == math.MaxUint8 {
				hops[u] = hv + 1
				queue = append(queue, u)
			}
		}
	}
	return &potentials{dist: dist, hops: hops}
}
