package attackpath

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"
)

// ErrBadGraph is wrapped by the errors of Build and WithChanges for an invalid edge list.
var ErrBadGraph = errors.New("attackpath: invalid graph")

// Edge is an input edge: a step from From to To that succeeds with probability P. Ref is the
// caller's identity for the edge; the engine returns it and never interprets it.
type Edge struct {
	From, To int32
	P        float64
	Ref      int64
}

// EdgeID identifies an edge of a Graph: its position in the out-CSR, so the out-edges of a node
// are contiguous. EdgeIDs are only meaningful for the Graph that issued them.
type EdgeID int32

// Graph is an immutable attack graph held as an out-CSR and an in-CSR. All methods are safe
// for concurrent use.
type Graph struct {
	n int32

	// Out-CSR: the out-edges of v are EdgeIDs outOff[v] to outOff[v+1]-1.
	outOff  []uint32
	outFrom []int32
	outTo   []int32
	outCost []uint32 // integer cost, see costUnits
	outP    []float64
	outRef  []int64

	// In-CSR: the in-edges of v are positions inOff[v] to inOff[v+1]-1; inEdge maps a position
	// to its EdgeID, in ascending order within a node.
	inOff  []uint32
	inFrom []int32
	inCost []uint32
	inEdge []EdgeID

	pots     potCache
	searches sync.Pool // *searcher
	// pdomAfter is how many heap pops a path search may take without a result before the
	// searches of the query start pruning with post-dominators (see searcher.guarded).
	pdomAfter int
}

// maxEdges bounds the edges of a Graph (EdgeID is an int32).
const maxEdges = math.MaxInt32

// Build projects n nodes and the edges into a Graph. Edges with P NaN or ≤ 0 are not
// projected, nor are self-loops; P > 1 is clamped to 1. An endpoint out of [0, n) is an error
// naming the edge's index. The out-edges of a node keep their order in edges.
//
// Build sorts by counting (two passes over edges and a few allocations, none per edge).
func Build(n int, edges []Edge) (*Graph, error) {
	if n < 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d nodes", ErrBadGraph, n)
	}
	// Pass 1: validate and count out-degrees into outOff[v+2] (see place).
	outOff := make([]uint32, n+2)
	m := 0
	for i := range edges {
		e := &edges[i]
		if err := checkEdge(n, e); err != nil {
			return nil, fmt.Errorf("%w: edge %d: %w", ErrBadGraph, i, err)
		}
		if _, ok := normP(e.P); ok && e.From != e.To {
			outOff[e.From+2]++
			m++
		}
	}
	if m > maxEdges {
		return nil, fmt.Errorf("%w: %d edges (at most %d)", ErrBadGraph, m, maxEdges)
	}
	g := newGraph(n, m, outOff)
	// Pass 2: place.
	for i := range edges {
		e := &edges[i]
		p, ok := normP(e.P)
		if !ok || e.From == e.To {
			continue
		}
		id := g.outOff[e.From+1]
		g.outOff[e.From+1]++
		g.outFrom[id], g.outTo[id], g.outP[id], g.outRef[id] = e.From, e.To, p, e.Ref
		g.outCost[id] = costUnits(p)
	}
	g.outOff = g.outOff[:n+1]
	g.buildIn()
	return g, nil
}

func checkEdge(n int, e *Edge) error {
	if e.From < 0 || int(e.From) >= n {
		return fmt.Errorf("from %d out of range [0, %d)", e.From, n)
	}
	if e.To < 0 || int(e.To) >= n {
		return fmt.Errorf("to %d out of range [0, %d)", e.To, n)
	}
	return nil
}

// newGraph allocates a Graph of n nodes and m edges whose out-degrees are counted in
// outOff[v+2] (len n+2); it turns the counts into placement cursors: after placing every
// edge of v at outOff[v+1]++, outOff[:n+1] holds the offsets.
func newGraph(n, m int, outOff []uint32) *Graph {
	for v := 2; v < len(outOff); v++ {
		outOff[v] += outOff[v-1]
	}
	return &Graph{
		n:         int32(n),
		pdomAfter: 4096 + n/64,
		outOff:    outOff,
		outFrom:   make([]int32, m),
		outTo:     make([]int32, m),
		outCost:   make([]uint32, m),
		outP:      make([]float64, m),
		outRef:    make([]int64, m),
	}
}

// buildIn derives the in-CSR from the out-CSR (a stable counting sort by target).
func (g *Graph) buildIn() {
	n, m := int(g.n), len(g.outTo)
	inOff := make([]uint32, n+2)
	for _, w := range g.outTo {
		inOff[w+2]++
	}
	for v := 2; v < len(inOff); v++ {
		inOff[v] += inOff[v-1]
	}
	g.inFrom = make([]int32, m)
	g.inCost = make([]uint32, m)
	g.inEdge = make([]EdgeID, m)
	for e, w := range g.outTo {
		pos := inOff[w+1]
		inOff[w+1]++
		g.inFrom[pos] = g.outFrom[e]
		g.inCost[pos] = g.outCost[e]
		g.inEdge[pos] = EdgeID(e)
	}
	g.inOff = inOff[:n+1]
}

// NumNodes returns the number of nodes.
func (g *Graph) NumNodes() int { return int(g.n) }

// NumEdges returns the number of projected edges.
func (g *Graph) NumEdges() int { return len(g.outTo) }

// EdgeFrom returns the tail of edge e.
func (g *Graph) EdgeFrom(e EdgeID) int32 { return g.outFrom[e] }

// EdgeTo returns the head of edge e.
func (g *Graph) EdgeTo(e EdgeID) int32 { return g.outTo[e] }

// EdgeP returns the probability of edge e, as projected (clamped to 1).
func (g *Graph) EdgeP(e EdgeID) float64 { return g.outP[e] }

// EdgeRef returns the caller's identity of edge e.
func (g *Graph) EdgeRef(e EdgeID) int64 { return g.outRef[e] }

// EdgeCost returns the cost of edge e used for ranking: −ln p rounded to CostResolution.
func (g *Graph) EdgeCost(e EdgeID) float64 { return unitsToCost(uint64(g.outCost[e])) }

// OutRange returns the out-edges of v as the half-open range [first, end).
func (g *Graph) OutRange(v int32) (first, end EdgeID) {
	return EdgeID(g.outOff[v]), EdgeID(g.outOff[v+1])
}

// Out iterates over the out-edges of v in EdgeID order.
func (g *Graph) Out(v int32) iter.Seq[EdgeID] {
	return func(yield func(EdgeID) bool) {
		for e := g.outOff[v]; e < g.outOff[v+1]; e++ {
			if !yield(EdgeID(e)) {
				return
			}
		}
	}
}

// In iterates over the in-edges of v in EdgeID order.
func (g *Graph) In(v int32) iter.Seq[EdgeID] {
	return func(yield func(EdgeID) bool) {
		for _, e := range g.inEdge[g.inOff[v]:g.inOff[v+1]] {
			if !yield(e) {
				return
			}
		}
	}
}

// MemoryBytes returns the bytes held by the graph's arrays: not its caches nor per-query
// state (see the package documentation).
func (g *Graph) MemoryBytes() int64 {
	four := cap(g.outOff) + cap(g.outFrom) + cap(g.outTo) + cap(g.outCost) + cap(g.inOff) +
		cap(g.inFrom) + cap(g.inCost) + cap(g.inEdge)
	eight := cap(g.outP) + cap(g.outRef)
	return 4*int64(four) + 8*int64(eight)
}

// validNode reports whether v is a node of g.
func (g *Graph) validNode(v int32) bool { return v >= 0 && v < g.n }

// validEdge reports whether e is an edge of g.
func (g *Graph) validEdge(e EdgeID) bool { return e >= 0 && int(e) < len(g.outTo) }
