package attackpath

import (
	"fmt"
	"math"
)

// Changes describes a new version of a graph, relative to an existing one.
type Changes struct {
	// AddNodes appends this many nodes, numbered from the old NumNodes.
	AddNodes int
	// RemoveNodes drops every edge to or from these nodes (the nodes stay, isolated, so that
	// indexes keep their meaning), including added edges.
	RemoveNodes []int32
	// RemoveEdges drops the existing edges with these Refs.
	RemoveEdges []int64
	// SetP sets the probability of the existing edges with these Refs; a p that Build would
	// not project (NaN, ≤ 0) drops them, p > 1 is clamped.
	SetP map[int64]float64
	// AddEdges appends edges, validated and normalised as by Build.
	AddEdges []Edge
}

// WithChanges returns a new Graph with c applied; g is unchanged. The result equals Build of
// g's edges in EdgeID order (as changed) followed by c.AddEdges, but is computed in linear time
// without hashing edges that c does not name: one pass marks the kept edges, one places them,
// and the in-CSR is re-derived by counting sort.
//
// Cached potentials that the changes cannot affect carry over (design §3.7): a target set's
// potentials stay exact unless a removed or costlier edge was tight (on a cheapest path) or an
// added or cheaper edge improves on them, and its hop bounds stay valid unless an added edge
// shortens them.
func (g *Graph) WithChanges(c Changes) (*Graph, error) {
	if c.AddNodes < 0 || int64(g.n)+int64(c.AddNodes) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: adding %d nodes to %d", ErrBadGraph, c.AddNodes, g.n)
	}
	n := int(g.n) + c.AddNodes
	removed := newBitset(n)
	for i, v := range c.RemoveNodes {
		if v < 0 || int(v) >= n {
			return nil, fmt.Errorf("%w: removed node %d (#%d) out of range [0, %d)", ErrBadGraph, v, i, n)
		}
		removed.set(int(v))
	}
	for i := range c.AddEdges {
		if err := checkEdge(n, &c.AddEdges[i]); err != nil {
			return nil, fmt.Errorf("%w: added edge %d: %w", ErrBadGraph, i, err)
		}
	}
	var removeRef map[int64]struct{}
	if len(c.RemoveEdges) > 0 {
		removeRef = make(map[int64]struct{}, len(c.RemoveEdges))
		for _, r := range c.RemoveEdges {
			removeRef[r] = struct{}{}
		}
	}
	dropped := func(from, to int32) bool { return removed.has(int(from)) || removed.has(int(to)) }

	// Pass 1: decide which old edges stay, and count out-degrees into outOff[v+2].
	m := len(g.outTo)
	keep := newBitset(m)
	outOff := make([]uint32, n+2)
	kept := 0
	pots := g.cachedPotentials()
	for e := range m {
		from, to := g.outFrom[e], g.outTo[e]
		if dropped(from, to) {
			pots.removed(from, to, g.outCost[e])
			continue
		}
		if removeRef != nil {
			if _, ok := removeRef[g.outRef[e]]; ok {
				pots.removed(from, to, g.outCost[e])
				continue
			}
		}
		if p, ok := c.SetP[g.outRef[e]]; ok {
			p, ok := normP(p)
			if !ok {
				pots.removed(from, to, g.outCost[e])
				continue
			}
			pots.removed(from, to, g.outCost[e])
			pots.added(from, to, costUnits(p))
		}
		keep.set(e)
		outOff[from+2]++
		kept++
	}
	for i := range c.AddEdges {
		a := &c.AddEdges[i]
		if _, ok := normP(a.P); ok && a.From != a.To && !dropped(a.From, a.To) {
			p, _ := normP(a.P)
			pots.added(a.From, a.To, costUnits(p))
			outOff[a.From+2]++
			kept++
		}
	}
	if kept > maxEdges {
		return nil, fmt.Errorf("%w: %d edges (at most %d)", ErrBadGraph, kept, maxEdges)
	}

	// Pass 2: place the old edges, then the added ones.
	ng := newGraph(n, kept, outOff)
	for e := range m {
		if !keep.has(e) {
			continue
		}
		from := g.outFrom[e]
		id := ng.outOff[from+1]
		ng.outOff[from+1]++
		ng.outFrom[id], ng.outTo[id], ng.outRef[id] = from, g.outTo[e], g.outRef[e]
		ng.outP[id], ng.outCost[id] = g.outP[e], g.outCost[e]
		if p, ok := c.SetP[g.outRef[e]]; ok {
			p, _ = normP(p)
			ng.outP[id], ng.outCost[id] = p, costUnits(p)
		}
	}
	for i := range c.AddEdges {
		a := &c.AddEdges[i]
		p, ok := normP(a.P)
		if !ok || a.From == a.To || dropped(a.From, a.To) {
			continue
		}
		id := ng.outOff[a.From+1]
		ng.outOff[a.From+1]++
		ng.outFrom[id], ng.outTo[id], ng.outP[id], ng.outRef[id] = a.From, a.To, p, a.Ref
		ng.outCost[id] = costUnits(p)
	}
	ng.outOff = ng.outOff[:n+1]
	ng.buildIn()
	pots.carry(ng)
	return ng, nil
}

// carried tracks which cached potentials survive a change.
type carried []*potEntry

// cachedPotentials returns the completed entries of g's cache.
func (g *Graph) cachedPotentials() carried {
	g.pots.mu.Lock()
	defer g.pots.mu.Unlock()
	var out carried
	for _, e := range g.pots.entries {
		select {
		case <-e.ready:
			out = append(out, e)
		default:
		}
	}
	return out
}

// removed drops the entries on which the edge from → to of the given cost was tight. A
// removal keeps every hop bound a lower bound.
func (c carried) removed(from, to int32, cost uint32) {
	for i, e := range c {
		if e == nil {
			continue
		}
		if d := e.pot.dist[to]; d != infDist && uint64(d)+uint64(cost) <= uint64(e.pot.dist[from]) {
			c[i] = nil
		}
	}
}

// added drops the entries that the edge from → to of the given cost would improve, in cost or
// in hops. A new node (beyond the entry's arrays) has no path to a target yet.
func (c carried) added(from, to int32, cost uint32) {
	for i, e := range c {
		if e == nil {
			continue
		}
		n := int32(len(e.pot.dist))
		dTo, hTo := uint32(infDist), uint8(255)
		if to < n {
			dTo, hTo = e.pot.dist[to], e.pot.hops[to]
		}
		dFrom, hFrom := uint32(infDist), uint8(255)
		if from < n {
			dFrom, hFrom = e.pot.dist[from], e.pot.hops[from]
		}
		if dTo != infDist && (uint64(dTo)+uint64(cost) < uint64(dFrom) || int(hTo)+1 < int(hFrom)) {
			c[i] = nil
		}
	}
}

// carry installs the surviving entries in ng's cache, extended to its nodes.
func (c carried) carry(ng *Graph) {
	n := int(ng.n)
	for _, e := range c {
		if e == nil {
			continue
		}
		// A fresh struct: the post-dominators, if computed, may not hold any more.
		pot := &potentials{dist: e.pot.dist, hops: e.pot.hops}
		if len(pot.dist) < n {
			dist := make([]uint32, n)
			hops := make([]uint8, n)
			copy(dist, pot.dist)
			copy(hops, pot.hops)
			for v := len(pot.dist); v < n; v++ {
				dist[v], hops[v] = infDist, 255
			}
			pot.dist, pot.hops = dist, hops
		}
		ne := &potEntry{key: e.key, ready: make(chan struct{}), pot: pot}
		close(ne.ready)
		ng.pots.entries = append(ng.pots.entries, ne)
	}
}
