package attackpath

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Reach is a node within the blast radius and the most likely way to reach it.
type Reach struct {
	Node       int32
	Likelihood float64 // of the most likely path from a start
	Hops       int
	Via        EdgeID // the last edge of that path, -1 for a start
}

// BlastRadius returns the nodes reachable from the from set with a likelihood of at least
// minLikelihood (0: any), each with its most likely path (forward Dijkstra; among equally likely
// paths the one with fewer hops), most likely first, then fewer hops, then lower index. The
// starts are included with likelihood 1. At most limit nodes are returned (0: no limit): the
// most likely ones.
func (g *Graph) BlastRadius(ctx context.Context, from []int32, minLikelihood float64, limit int) ([]Reach, error) {
	switch {
	case len(from) == 0:
		return nil, fmt.Errorf("%w: blast radius needs a start", ErrBadQuery)
	case math.IsNaN(minLikelihood) || minLikelihood < 0 || minLikelihood > 1:
		return nil, fmt.Errorf("%w: min likelihood = %v, want 0 to 1", ErrBadQuery, minLikelihood)
	case limit < 0:
		return nil, fmt.Errorf("%w: limit = %d", ErrBadQuery, limit)
	}
	if err := g.checkNodes("start", from); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := int(g.n)
	maxCost := likelihoodUnits(minLikelihood, 0) // plus a unit of rounding slack per hop
	dist := make([]uint64, n)
	hops := make([]int32, n)
	via := make([]EdgeID, n)
	lik := make([]float64, n)
	done := newBitset(n)
	for i := range dist {
		dist[i] = math.MaxUint64
	}
	var h itemHeap
	for _, v := range from {
		if dist[v] != 0 {
			dist[v], hops[v], via[v], lik[v] = 0, 0, -1, 1
			h.push(item{key: 0, node: uint64(v)})
		}
	}
	var out []Reach
	for pops := 1; len(h) > 0 && (limit == 0 || len(out) < limit); pops++ {
		if pops%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		it := h.pop()
		u := int32(uint32(it.node))
		if done.has(int(u)) {
			continue
		}
		done.set(int(u))
		if lik[u] >= minLikelihood {
			out = append(out, Reach{Node: u, Likelihood: lik[u], Hops: int(hops[u]), Via: via[u]})
		}
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			v := g.outTo[e]
			if done.has(int(v)) {
				continue
			}
			nd, nh := dist[u]+uint64(g.outCost[e]), hops[u]+1
			if nd > maxCost+uint64(nh) || nd > dist[v] || nd == dist[v] && nh >= hops[v] {
				continue
			}
			dist[v], hops[v], via[v], lik[v] = nd, nh, EdgeID(e), lik[u]*g.outP[e]
			// Order by cost, then hops, then node.
			h.push(item{key: nd, node: uint64(nh)<<32 | uint64(uint32(v))})
		}
	}
	slices.SortFunc(out, func(a, b Reach) int {
		switch {
		case a.Likelihood != b.Likelihood:
			if a.Likelihood > b.Likelihood {
				return -1
			}
			return 1
		case a.Hops != b.Hops:
			return a.Hops - b.Hops
		}
		return int(a.Node - b.Node)
	})
	return out, nil
}
