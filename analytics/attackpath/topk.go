package attackpath

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
)

// TopK returns the q.K most likely paths from q.Sources to q.Targets, most likely first.
//
// A path is a sequence of distinct nodes v0, …, vh with h ≥ 1 where v0 is a source, vh is a
// target, no node in between is a target, and each vi → vi+1 is an edge. So a path ends at the
// first target it reaches (the continuation to a further target is a path of that target's
// own), it may pass through other sources, and a source that is also a target has no 0-hop
// path but starts paths to other targets and ends paths from other sources. Parallel edges do
// not make distinct paths: a path takes the most likely edge between consecutive nodes (the
// lowest EdgeID among equals). Paths are ranked by likelihood (see the package documentation on ties), then by
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

// candidates is Yen's candidate set B, ranked, and capped at the number of paths still
// needed: a candidate ranked below that can never be accepted, since candidates found later
// only push it further down. The cap also bounds the cost of useful spur paths.
type candidates struct {
	worstFirst []*cand // in reverse ranking order, so the best is last
	known      map[string]struct{}
}

// add inserts c unless it is known or ranks below the need best candidates.
func (b *candidates) add(c *cand, need int) {
	k := pathKey(c.nodes)
	if _, ok := b.known[k]; ok {
		return
	}
	w := b.worstFirst
	if len(w) >= need && !candLess(c, w[0]) {
		return
	}
	i, _ := slices.BinarySearchFunc(w, c, func(x, c *cand) int {
		if candLess(c, x) {
			return -1 // x ranks below c: x comes first
		}
		return 1
	})
	w = slices.Insert(w, i, c)
	b.known[k] = struct{}{}
	if len(w) > need {
		delete(b.known, pathKey(w[0].nodes))
		w = w[1:]
	}
	b.worstFirst = w
}

// pop removes and returns the best candidate.
func (b *candidates) pop() *cand {
	w := b.worstFirst
	c := w[len(w)-1]
	w[len(w)-1] = nil
	b.worstFirst = w[:len(w)-1]
	return c
}

// bound returns the highest cost a new candidate may have to still be accepted.
func (b *candidates) bound(need int) uint64 {
	if len(b.worstFirst) < need {
		return math.MaxUint64
	}
	return b.worstFirst[0].cost
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
	b := candidates{known: make(map[string]struct{})}
	need := q.K
	add := func(c *cand) { b.add(c, need) }
	spurMax := func() uint64 { return min(maxCost, b.bound(need)) }
	if err := s.superSpur(sources, nil, q.MaxHops, maxCost, add); err != nil {
		return nil, err
	}
	var share []*cand // accepted paths sharing the current root
	var forbid []int32
	for len(b.worstFirst) > 0 && len(accepted) < q.K {
		p := b.pop()
		if q.MinLikelihood > 0 && s.g.likelihood(p.edges) < q.MinLikelihood {
			break
		}
		accepted = append(accepted, p)
		// Accepted paths stay known, so that no spur finds them again.
		need--
		if need == 0 {
			break
		}
		// Spur from the super-source (i = -1) and from p's nodes but its last (no path goes on
		// through a target), from where p deviated from its parent on (Lawler).
		share = append(share[:0], accepted...)
		rootCost := uint64(0)
		for i := -1; i < len(p.nodes)-1; i++ {
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
				if err := s.superSpur(sources, used, q.MaxHops, spurMax(), add); err != nil {
					return nil, err
				}
				continue
			}
			// The root's last node is no target (or is the source), so every path sharing the
			// root goes on.
			forbid = forbid[:0]
			for _, c := range share {
				forbid = append(forbid, c.nodes[i+1])
			}
			slices.Sort(forbid)
			s.block(p.nodes[:i])
			sp := spurSpec{starts: p.nodes[i : i+1], blocked: p.nodes[:i], cost0: rootCost, hops0: i, forbid: forbid,
				maxHops: q.MaxHops, maxCost: spurMax()}
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
// search from all sources its start label would hide the paths from other sources ending at
// it; so such sources cost a search each.
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
