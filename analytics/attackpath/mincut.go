package attackpath

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Infinite is the cost of a node or edge that cannot be fixed (cut).
const Infinite int64 = math.MaxInt64

// MaxCutCost bounds a finite cut cost, so that no flow sum can overflow.
const MaxCutCost int64 = 1 << 36

// Cut is a minimum cut between sources and targets.
type Cut struct {
	Nodes []int32  // ascending
	Edges []EdgeID // ascending
	// Value is the total cost of the cut, equal to the maximum flow.
	Value int64
	// Infinite is set when no finite cut exists (a path of unfixable nodes and edges, or a
	// source that is a target); Nodes and Edges are then empty.
	Infinite bool
}

// MinCut returns the cheapest set of nodes and edges whose removal leaves no path from a
// source to a target. Sources and targets themselves are never cut. nodeCost(v) is the cost of
// removing v (nil: 1 for every node) and edgeCost(e) that of removing e (nil: Infinite for
// every edge); a cost is Infinite or 0 to MaxCutCost (otherwise an ErrBadQuery error).
//
// It runs Dinic's max-flow on the node-split graph (v_in → v_out with capacity nodeCost(v),
// u_out → v_in with edgeCost(e), a super-source into every source and every target into a
// super-sink with infinite capacity), held implicitly over the graph's CSRs: 32 bytes per node
// and 16 per edge. ctx is checked between augmentations.
func (g *Graph) MinCut(ctx context.Context, sources, targets []int32, nodeCost func(v int32) int64, edgeCost func(e EdgeID) int64) (Cut, error) {
	if len(sources) == 0 || len(targets) == 0 {
		return Cut{}, fmt.Errorf("%w: min cut needs sources and targets", ErrBadQuery)
	}
	if err := g.checkNodes("source", sources); err != nil {
		return Cut{}, err
	}
	if err := g.checkNodes("target", targets); err != nil {
		return Cut{}, err
	}
	f, err := newFlow(g, sources, targets, nodeCost, edgeCost)
	if err != nil {
		return Cut{}, err
	}
	if f.infinitePath() {
		return Cut{Infinite: true}, nil
	}
	value, err := f.maxFlow(ctx)
	if err != nil {
		return Cut{}, err
	}
	return f.cut(value), nil
}

// flow is Dinic's state over the implicit node-split graph. Vertex 2v is v_in, 2v+1 is v_out,
// 2n the super-source and 2n+1 the super-sink.
type flow struct {
	g          *Graph
	isSource   bitset
	isTarget   bitset
	sources    []int32
	ncap, nfl  []int64 // per node: capacity and flow of v_in → v_out
	ecap, efl  []int64 // per edge
	level      []int32
	next       []int32 // current arc per vertex
	queue      []int32
	src, sink  int32
	n          int32
	pathVertex []int32
	pathArc    []int32
}

func newFlow(g *Graph, sources, targets []int32, nodeCost func(int32) int64, edgeCost func(EdgeID) int64) (*flow, error) {
	n := int(g.n)
	f := &flow{g: g, n: g.n, isSource: newBitset(n), isTarget: newBitset(n),
		ncap: make([]int64, n), nfl: make([]int64, n), ecap: make([]int64, len(g.outTo)), efl: make([]int64, len(g.outTo)),
		level: make([]int32, 2*n+2), next: make([]int32, 2*n+2), src: int32(2 * n), sink: int32(2*n + 1)}
	for _, s := range sources {
		if !f.isSource.has(int(s)) {
			f.isSource.set(int(s))
			f.sources = append(f.sources, s)
		}
	}
	for _, t := range targets {
		f.isTarget.set(int(t))
	}
	check := func(c int64, what string, i int) error {
		if c != Infinite && (c < 0 || c > MaxCutCost) {
			return fmt.Errorf("%w: %s %d costs %d (want 0 to %d, or Infinite)", ErrBadQuery, what, i, c, MaxCutCost)
		}
		return nil
	}
	for v := range int32(n) {
		switch {
		case f.isSource.has(int(v)) || f.isTarget.has(int(v)):
			f.ncap[v] = Infinite
		case nodeCost == nil:
			f.ncap[v] = 1
		default:
			f.ncap[v] = nodeCost(v)
			if err := check(f.ncap[v], "node", int(v)); err != nil {
				return nil, err
			}
		}
	}
	for e := range f.ecap {
		if edgeCost == nil {
			f.ecap[e] = Infinite
			continue
		}
		f.ecap[e] = edgeCost(EdgeID(e))
		if err := check(f.ecap[e], "edge", e); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// degree returns the number of residual arcs of vertex x.
func (f *flow) degree(x int32) int32 {
	g := f.g
	switch {
	case x == f.src:
		return int32(len(f.sources))
	case x == f.sink:
		return 0
	case x&1 == 0:
		v := x >> 1
		d := 1 + int32(g.inOff[v+1]-g.inOff[v])
		if f.isTarget.has(int(v)) {
			d++
		}
		return d
	default:
		v := x >> 1
		return 1 + int32(g.outOff[v+1]-g.outOff[v])
	}
}

// arc returns the head and residual capacity of arc i of vertex x. The arcs of v_in are the
// node arc, the reversed in-edges, then the arc to the sink if v is a target; those of v_out
// are the reversed node arc then the out-edges.
func (f *flow) arc(x, i int32) (int32, int64) {
	g := f.g
	if x == f.src {
		return 2 * f.sources[i], Infinite
	}
	v := x >> 1
	if x&1 == 0 {
		if i == 0 {
			return x + 1, f.ncap[v] - f.nfl[v]
		}
		j := g.inOff[v] + uint32(i-1)
		if j >= g.inOff[v+1] {
			return f.sink, Infinite
		}
		return 2*g.inFrom[j] + 1, f.efl[g.inEdge[j]]
	}
	if i == 0 {
		return x - 1, f.nfl[v]
	}
	e := g.outOff[v] + uint32(i-1)
	return 2 * g.outTo[e], f.ecap[e] - f.efl[e]
}

// push sends c units along arc i of vertex x.
func (f *flow) push(x, i int32, c int64) {
	g := f.g
	if x == f.src {
		return
	}
	v := x >> 1
	if x&1 == 0 {
		if i == 0 {
			f.nfl[v] += c
			return
		}
		j := g.inOff[v] + uint32(i-1)
		if j < g.inOff[v+1] {
			f.efl[g.inEdge[j]] -= c
		}
		return
	}
	if i == 0 {
		f.nfl[v] -= c
		return
	}
	f.efl[g.outOff[v]+uint32(i-1)] += c
}

// infinitePath reports whether the sink is reachable over infinite arcs only.
func (f *flow) infinitePath() bool {
	seen := newBitset(int(2*f.n + 2))
	stack := []int32{f.src}
	seen.set(int(f.src))
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == f.sink {
			return true
		}
		for i := range f.degree(x) {
			y, _ := f.arc(x, i)
			if seen.has(int(y)) || !f.infiniteArc(x, i) {
				continue
			}
			seen.set(int(y))
			stack = append(stack, y)
		}
	}
	return false
}

// infiniteArc reports whether arc i of x is a forward arc of infinite capacity.
func (f *flow) infiniteArc(x, i int32) bool {
	g := f.g
	if x == f.src {
		return true
	}
	v := x >> 1
	if x&1 == 0 {
		if i == 0 {
			return f.ncap[v] == Infinite
		}
		return g.inOff[v]+uint32(i-1) >= g.inOff[v+1] // the sink arc; reversed edges are not forward
	}
	return i > 0 && f.ecap[g.outOff[v]+uint32(i-1)] == Infinite
}

// bfs layers the residual graph from the source; it reports whether the sink is reachable.
// It stops at the sink's level: deeper vertices cannot be on a shortest augmenting path.
func (f *flow) bfs() bool {
	g := f.g
	for i := range f.level {
		f.level[i] = -1
	}
	f.queue = append(f.queue[:0], f.src)
	f.level[f.src] = 0
	visit := func(y, l int32) {
		if f.level[y] < 0 {
			f.level[y] = l
			f.queue = append(f.queue, y)
		}
	}
	for h := 0; h < len(f.queue); h++ {
		x := f.queue[h]
		l := f.level[x] + 1
		if ls := f.level[f.sink]; ls >= 0 && l > ls {
			break
		}
		switch v := x >> 1; {
		case x == f.src:
			for _, s := range f.sources {
				visit(2*s, l)
			}
		case x&1 == 0: // v_in
			if f.ncap[v]-f.nfl[v] > 0 {
				visit(x+1, l)
			}
			for j := g.inOff[v]; j < g.inOff[v+1]; j++ {
				if f.efl[g.inEdge[j]] > 0 {
					visit(2*g.inFrom[j]+1, l)
				}
			}
			if f.isTarget.has(int(v)) {
				visit(f.sink, l)
			}
		default: // v_out
			if f.nfl[v] > 0 {
				visit(x-1, l)
			}
			for e := g.outOff[v]; e < g.outOff[v+1]; e++ {
				if f.ecap[e]-f.efl[e] > 0 {
					visit(2*g.outTo[e], l)
				}
			}
		}
	}
	return f.level[f.sink] >= 0
}

// advance moves x's current arc to the next admissible arc (residual, one level down) and
// returns its head, or false when x has none left.
func (f *flow) advance(x int32) (int32, bool) {
	g := f.g
	want := f.level[x] + 1
	i := f.next[x]
	switch v := x >> 1; {
	case x == f.src:
		for ; int(i) < len(f.sources); i++ {
			if y := 2 * f.sources[i]; f.level[y] == want {
				f.next[x] = i
				return y, true
			}
		}
	case x&1 == 0: // v_in: node arc, reversed in-edges, sink arc
		if i == 0 {
			if f.level[x+1] == want && f.ncap[v]-f.nfl[v] > 0 {
				return x + 1, true
			}
			i = 1
		}
		lo, hi := g.inOff[v], g.inOff[v+1]
		sinkArc := int32(hi-lo) + 1
		for ; i < sinkArc; i++ {
			j := lo + uint32(i-1)
			if y := 2*g.inFrom[j] + 1; f.level[y] == want && f.efl[g.inEdge[j]] > 0 {
				f.next[x] = i
				return y, true
			}
		}
		if i == sinkArc {
			if f.isTarget.has(int(v)) && f.level[f.sink] == want {
				f.next[x] = i
				return f.sink, true
			}
			i++
		}
	default: // v_out: reversed node arc, out-edges
		if i == 0 {
			if f.level[x-1] == want && f.nfl[v] > 0 {
				return x - 1, true
			}
			i = 1
		}
		lo, hi := g.outOff[v], g.outOff[v+1]
		for end := int32(hi-lo) + 1; i < end; i++ {
			e := lo + uint32(i-1)
			if y := 2 * g.outTo[e]; f.level[y] == want && f.ecap[e]-f.efl[e] > 0 {
				f.next[x] = i
				return y, true
			}
		}
	}
	f.next[x] = i
	return -1, false
}

// maxFlow runs Dinic's phases; it returns the flow value.
func (f *flow) maxFlow(ctx context.Context) (int64, error) {
	var total int64
	steps := 0
	for f.bfs() {
		clear(f.next)
		for {
			steps++
			if steps%256 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
			}
			c := f.augment()
			if c == 0 {
				break
			}
			total += c
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// augment finds one path in the level graph from the current arcs (iteratively) and pushes
// its bottleneck; it returns 0 when the level graph is exhausted.
func (f *flow) augment() int64 {
	f.pathVertex, f.pathArc = f.pathVertex[:0], f.pathArc[:0]
	x := f.src
	for {
		if x == f.sink {
			c := Infinite
			for k, u := range f.pathVertex {
				_, res := f.arc(u, f.pathArc[k])
				c = min(c, res)
			}
			for k, u := range f.pathVertex {
				f.push(u, f.pathArc[k], c)
			}
			return c
		}
		if y, ok := f.advance(x); ok {
			f.pathVertex = append(f.pathVertex, x)
			f.pathArc = append(f.pathArc, f.next[x])
			x = y
			continue
		}
		// Dead end: retreat.
		f.level[x] = -1
		if len(f.pathVertex) == 0 {
			return 0
		}
		x = f.pathVertex[len(f.pathVertex)-1]
		f.pathVertex, f.pathArc = f.pathVertex[:len(f.pathVertex)-1], f.pathArc[:len(f.pathArc)-1]
		f.next[x]++
	}
}

// cut reads the minimum cut off the residual graph of a maximum flow: the saturated arcs from
// the source side to the sink side.
func (f *flow) cut(value int64) Cut {
	g := f.g
	side := newBitset(int(2*f.n + 2))
	side.set(int(f.src))
	queue := []int32{f.src}
	for h := 0; h < len(queue); h++ {
		x := queue[h]
		for i := range f.degree(x) {
			if y, res := f.arc(x, i); res > 0 && !side.has(int(y)) {
				side.set(int(y))
				queue = append(queue, y)
			}
		}
	}
	c := Cut{Value: value}
	for v := range f.n {
		in, out := side.has(int(2*v)), side.has(int(2*v+1))
		if in && !out {
			c.Nodes = append(c.Nodes, v)
		}
		if !out {
			continue
		}
		for e := g.outOff[v]; e < g.outOff[v+1]; e++ {
			if !side.has(int(2 * g.outTo[e])) {
				c.Edges = append(c.Edges, EdgeID(e))
			}
		}
	}
	slices.Sort(c.Nodes)
	return c
}
