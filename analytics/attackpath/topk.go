package attackpath

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
)

// TopK returns the q.K most likely paths from q.Sources to q.Targets, most likely first.
//
// A path is a sequence of distinct nodes v0, …, vh with h ≥ 1 (0-hop paths are not paths, even
// when a source is also a target), where v0 is a source, vh is a target and each vi → vi+1 is
// an edge; it may pass through other sources and targets. Parallel edges do not make distinct
// paths: a path takes the most likely edge between consecutive nodes (the lowest EdgeID among
// equals). Paths are ranked by likelihood (see the package documentation on ties), then by
// fewer hops, then by the lexicographically smaller node sequence.
//
// Paths longer than q.MaxHops are left out, and the enumeration stops at the first path less
// likely than q.MinLikelihood; q.Exclude removes nodes and edges for this query. Disconnected
// targets give no paths and no error. Invalid input gives an error wrapping ErrBadQuery; a
// cancelled ctx gives ctx.Err().
//
// The algorithm is Yen's, with Lawler's restriction of spur nodes, over a virtual super-source
// linked to every source; the spur searches are A* with the target set's potentials as an
// exactly consistent heuristic (removing edges only raises distances).
func (g *Graph) TopK(ctx context.Context, q Query) ([]Path, error) {
	q, err := g.normalize(q)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := g.getSearcher(ctx)
	defer g.putSearcher(s)
	s.setTargets(q.Targets)
	if q.Exclude != nil {
		s.setExclusion(q.Exclude.Nodes, q.Exclude.Edges)
	}
	cands, err := s.yen(q)
	if err != nil {
		return nil, err
	}
	return g.paths(cands), nil
}

// cand is a path found by Yen's algorithm.
type cand struct {
	nodes []int32
	edges []EdgeID
	cost  uint64 // integer cost
	dev   int    // index of the node it deviated at from its parent (-1: the super-source)
}

// candLess is the ranking order: cost, hops, node sequence.
func candLess(a, b *cand) bool {
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	if len(a.nodes) != len(b.nodes) {
		return len(a.nodes) < len(b.nodes)
	}
	return slices.Compare(a.nodes, b.nodes) < 0
}

// candHeap is a min-heap of candidates in ranking order.
type candHeap []*cand

func (h *candHeap) push(c *cand) {
	a := append(*h, c)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !candLess(c, a[p]) {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = c
	*h = a
}

func (h *candHeap) pop() *cand {
	a := *h
	top := a[0]
	n := len(a) - 1
	x := a[n]
	a[n] = nil
	a = a[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && candLess(a[c+1], a[c]) {
			c++
		}
		if !candLess(a[c], x) {
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

func pathKey(nodes []int32) string {
	b := make([]byte, 4*len(nodes))
	for i, v := range nodes {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return string(b)
}

// yen enumerates the q.K best paths in ranking order; the searcher's targets and exclusion
// are set.
func (s *searcher) yen(q Query) ([]*cand, error) {
	maxCost := uint64(math.MaxUint64)
	if q.MinLikelihood > 0 {
		maxCost = likelihoodUnits(q.MinLikelihood, q.MaxHops)
	}
	sources := slices.Clone(q.Sources)
	slices.Sort(sources)
	sources = slices.Compact(sources)

	var accepted []*cand
	var b candHeap
	known := make(map[string]struct{})
	add := func(c *cand) {
		k := pathKey(c.nodes)
		if _, ok := known[k]; !ok {
			known[k] = struct{}{}
			b.push(c)
		}
	}
	if err := s.superSpur(sources, nil, q.MaxHops, maxCost, add); err != nil {
		return nil, err
	}
	var share []*cand // accepted paths sharing the current root
	var forbid []int32
	for len(b) > 0 && len(accepted) < q.K {
		p := b.pop()
		if q.MinLikelihood > 0 && s.g.likelihood(p.edges) < q.MinLikelihood {
			break
		}
		accepted = append(accepted, p)
		if len(accepted) == q.K {
			break
		}
		share = append(share[:0], accepted...)
		rootCost := uint64(0)
		for i := -1; i < len(p.nodes); i++ {
			if i >= 0 {
				// Keep the accepted paths whose root p.nodes[:i+1] is p's.
				share = slices.DeleteFunc(share, func(c *cand) bool { return len(c.nodes) <= i || c.nodes[i] != p.nodes[i] })
				if i > 0 {
					rootCost += uint64(s.g.outCost[p.edges[i-1]])
				}
			}
			if i < p.dev {
				continue
			}
			if i == -1 {
				used := make([]int32, 0, len(accepted))
				for _, c := range accepted {
					used = append(used, c.nodes[0])
				}
				slices.Sort(used)
				if err := s.superSpur(sources, used, q.MaxHops, maxCost, add); err != nil {
					return nil, err
				}
				continue
			}
			forbid = forbid[:0]
			forbidSink := false
			for _, c := range share {
				if len(c.nodes) == i+1 {
					forbidSink = true
				} else {
					forbid = append(forbid, c.nodes[i+1])
				}
			}
			slices.Sort(forbid)
			s.block(p.nodes[:i])
			sp := spurSpec{starts: p.nodes[i : i+1], cost0: rootCost, hops0: i, forbid: forbid,
				forbidSink: forbidSink, maxHops: q.MaxHops, maxCost: maxCost}
			r, ok, err := s.search(&sp)
			if err != nil {
				return nil, err
			}
			if ok {
				c := &cand{cost: r.cost, dev: i,
					nodes: append(slices.Clip(p.nodes[:i]), r.nodes...),
					edges: append(slices.Clip(p.edges[:i]), r.edges...)}
				add(c)
			}
		}
	}
	return accepted, nil
}

// superSpur searches from the super-source: from every source not in used (sorted), for the
// best path, and adds it. A source that is also a target is searched on its own, because in a
// search from all sources its start label would hide the paths from other sources ending at it.
func (s *searcher) superSpur(sources, used []int32, maxHops int, maxCost uint64, add func(*cand)) error {
	s.block(nil)
	var plain []int32
	var both []int32
	for _, v := range sources {
		if _, found := slices.BinarySearch(used, v); found {
			continue
		}
		if s.isTarget.has(int(v)) {
			both = append(both, v)
		} else {
			plain = append(plain, v)
		}
	}
	run := func(starts []int32) error {
		sp := spurSpec{starts: starts, hops0: 0, maxHops: maxHops, maxCost: maxCost}
		r, ok, err := s.search(&sp)
		if ok {
			add(&cand{nodes: r.nodes, edges: r.edges, cost: r.cost, dev: -1})
		}
		return err
	}
	if len(plain) > 0 {
		if err := run(plain); err != nil {
			return err
		}
	}
	for i := range both {
		if err := run(both[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// likelihood is the product of the edges' p.
func (g *Graph) likelihood(edges []EdgeID) float64 {
	l := 1.0
	for _, e := range edges {
		l *= g.outP[e]
	}
	return l
}

// paths converts candidates to Paths.
func (g *Graph) paths(cands []*cand) []Path {
	out := make([]Path, len(cands))
	for i, c := range cands {
		cost := 0.0
		for _, e := range c.edges {
			cost -= math.Log(g.outP[e])
		}
		out[i] = Path{Nodes: c.nodes, Edges: c.edges, Likelihood: g.likelihood(c.edges), Cost: cost}
	}
	return out
}
