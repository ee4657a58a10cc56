package attackpath

import (
	"context"
	"math"
	"slices"
)

// searcher holds the state of the path searches of one query. Its dense arrays are reset in
// O(1) by stamping, and it is pooled on the Graph between queries.
type searcher struct {
	g   *Graph
	ctx context.Context

	stamp      uint32
	seen       []uint32 // a node's label is valid iff seen[v] == stamp
	closed     []uint32 // settled iff closed[v] == stamp
	blockStamp uint32
	blocked    []uint32 // blocked iff blocked[v] == blockStamp
	cost       []uint64
	hops       []uint16
	pred       []int32
	predEdge   []EdgeID
	heap       itemHeap
	queue      []int32
	pops       int

	// Per query.
	pot      *potentials
	targets  []int32
	isTarget bitset
	exNode   bitset   // nil: none
	exEdge   bitset   // nil: none
	pdom     *DomTree // post-dominators of the targets, once a search proved costly
	guards   []int32  // per search: pdom intervals [tin, tout) of nodes a path may not reach
}

func (g *Graph) getSearcher(ctx context.Context) *searcher {
	s, _ := g.searches.Get().(*searcher)
	if s == nil {
		n := int(g.n)
		s = &searcher{
			g:          g,
			blockStamp: 1, // nothing blocked
			seen:       make([]uint32, n),
			closed:     make([]uint32, n),
			blocked:    make([]uint32, n),
			cost:       make([]uint64, n),
			hops:       make([]uint16, n),
			pred:       make([]int32, n),
			predEdge:   make([]EdgeID, n),
		}
	}
	s.ctx = ctx
	s.pops = 0
	return s
}

func (g *Graph) putSearcher(s *searcher) {
	s.ctx, s.pot, s.targets, s.isTarget, s.exNode, s.exEdge, s.pdom = nil, nil, nil, nil, nil, nil, nil
	s.heap, s.guards = s.heap[:0], s.guards[:0]
	g.searches.Put(s)
}

// setTargets prepares the searcher for paths to targets.
func (s *searcher) setTargets(targets []int32) {
	s.pot = s.g.potentials(targets)
	s.targets = targets
	if s.pot.pdomReady.Load() {
		s.pdom = s.pot.pdom
	}
	s.isTarget = newBitset(int(s.g.n))
	for _, t := range targets {
		s.isTarget.set(int(t))
	}
}

// setExclusion sets the nodes and edges the searches leave out.
func (s *searcher) setExclusion(nodes []int32, edges []EdgeID) {
	s.exNode, s.exEdge = nil, nil
	if len(nodes) > 0 {
		s.exNode = newBitset(int(s.g.n))
		for _, v := range nodes {
			s.exNode.set(int(v))
		}
	}
	if len(edges) > 0 {
		s.exEdge = newBitset(len(s.g.outTo))
		for _, e := range edges {
			s.exEdge.set(int(e))
		}
	}
}

func (s *searcher) excludedNode(v int32) bool { return s.exNode != nil && s.exNode.has(int(v)) }

func (s *searcher) excludedEdge(e uint32) bool { return s.exEdge != nil && s.exEdge.has(int(e)) }

// nextStamp invalidates all labels.
func (s *searcher) nextStamp() {
	s.stamp++
	if s.stamp == 0 {
		clear(s.seen)
		clear(s.closed)
		s.stamp = 1
	}
}

// block makes nodes unusable by the following searches (until the next call).
func (s *searcher) block(nodes []int32) {
	s.blockStamp++
	if s.blockStamp == 0 {
		clear(s.blocked)
		s.blockStamp = 1
	}
	for _, v := range nodes {
		s.blocked[v] = s.blockStamp
	}
}

// setGuards prepares the post-dominator pruning of a single-start search: a node all of
// whose paths to the targets pass through a blocked node or the start (which a path cannot
// revisit) leads nowhere. Only nodes that post-dominate others are worth checking.
func (s *searcher) setGuards(sp *spurSpec) {
	s.guards = s.guards[:0]
	if s.pdom == nil || len(sp.starts) != 1 {
		return
	}
	add := func(b int32) {
		if x := s.pdom.num[b]; x >= 0 && s.pdom.tout[x]-s.pdom.tin[x] > 1 {
			s.guards = append(s.guards, s.pdom.tin[x], s.pdom.tout[x])
		}
	}
	for _, b := range sp.blocked {
		add(b)
	}
	add(sp.starts[0])
}

// guarded reports whether v is post-dominated by a guard.
func (s *searcher) guarded(v int32) bool {
	x := s.pdom.num[v]
	if x < 0 {
		return true // no target reachable at all
	}
	t := s.pdom.tin[x]
	for i := 0; i < len(s.guards); i += 2 {
		if s.guards[i] <= t && t < s.guards[i+1] {
			return true
		}
	}
	return false
}

// costly notes that a search has run long without a result: from now on the query's searches
// prune with post-dominators, which ends searches that have no way around the root path.
func (s *searcher) costly(sp *spurSpec) {
	if s.pdom == nil {
		s.pdom = s.g.postDominatorsOf(s.pot, s.targets)
		s.setGuards(sp)
	}
}

// tick counts a heap pop and checks the context every ctxCheckEvery pops.
func (s *searcher) tick() error {
	s.pops++
	if s.pops%ctxCheckEvery == 0 {
		return s.ctx.Err()
	}
	return nil
}

// spurSpec describes one search: the best path (by cost, then hops, then node sequence) from
// one of starts to a target, where every label carries cost0 and hops0 of a root path.
type spurSpec struct {
	starts  []int32
	blocked []int32 // the nodes block was called with
	cost0   uint64
	hops0   int
	forbid  []int32 // sorted nodes the (single) start may not step to
	maxHops int     // on the total hops
	maxCost uint64  // on the total cost
}

// spurResult is the searched part of a path: nodes from the start, the edges between them and
// the total cost (including cost0).
type spurResult struct {
	nodes []int32
	edges []EdgeID
	cost  uint64
}

// search returns the best path sp allows. It first searches with one label per node (A*).
// That is exact unless the hop bound cut labels off and a label with fewer hops was shadowed
// by a cheaper one at a cost that could beat the result (see nodeSearch); then it searches
// again over (node, hops) states, bounded by the first result's cost.
func (s *searcher) search(sp *spurSpec) (spurResult, bool, error) {
	res, ok, pruned, shadow, err := s.nodeSearch(sp)
	if err != nil || !pruned {
		return res, ok, err
	}
	if ok && shadow > res.cost || !ok && shadow == math.MaxUint64 {
		return res, ok, nil
	}
	if !ok && !s.anyPath(sp) {
		return res, false, nil
	}
	exact := *sp
	if ok {
		exact.maxCost = min(exact.maxCost, res.cost)
	}
	return s.layeredSearch(&exact)
}

func key(f uint64, hops int) uint64 { return f<<8 | uint64(hops) }

// completes reports whether a label of v with h hops ends a path: a target reached over at
// least one edge. Such labels are never expanded, so paths end at their first target.
func (s *searcher) completes(v int32, h int) bool {
	return h >= 1 && s.isTarget.has(int(v))
}

// nodeSearch is A* over nodes, guided by the potentials, which are exactly consistent on any
// subgraph. Keys order labels by (cost + potential, hops); equal labels keep the
// lexicographically smaller node sequence, which is exact because a label's predecessors
// have smaller keys and are settled first.
//
// Under a hop bound one label per node is not always enough: a cheaper label may shadow one
// with fewer hops whose continuation alone fits the bound. pruned reports whether the bound cut
// any label off, and shadow is the least key cost (cost + potential) of a label rejected or
// replaced in favour of one with more hops. A path within the bound that beats the result
// has all its labels kept, or one of them shadowed; so the result is exact if nothing was
// pruned or if shadow exceeds its cost.
func (s *searcher) nodeSearch(sp *spurSpec) (res spurResult, ok, pruned bool, shadow uint64, err error) {
	shadow = math.MaxUint64
	g, pot := s.g, s.pot
	s.nextStamp()
	s.heap = s.heap[:0]
	s.setGuards(sp)
	pops := 0
	for _, v := range sp.starts {
		if s.excludedNode(v) || s.blocked[v] == s.blockStamp || pot.dist[v] == infDist ||
			sp.hops0+int(pot.hops[v]) > sp.maxHops || s.seen[v] == s.stamp {
			continue
		}
		f := sp.cost0 + uint64(pot.dist[v])
		if f > sp.maxCost {
			continue
		}
		s.seen[v], s.cost[v], s.hops[v], s.pred[v], s.predEdge[v] = s.stamp, sp.cost0, uint16(sp.hops0), -1, -1
		s.heap.push(item{key: key(f, sp.hops0), node: uint64(v)})
	}
	best := int32(-1)
	var bestKey uint64
	for len(s.heap) > 0 {
		it := s.heap.pop()
		if best >= 0 && it.key != bestKey {
			break
		}
		u := int32(it.node)
		if s.closed[u] == s.stamp {
			continue
		}
		s.closed[u] = s.stamp
		if err := s.tick(); err != nil {
			return res, false, false, shadow, err
		}
		if pops++; pops == g.pdomAfter && best < 0 {
			s.costly(sp)
		}
		hu := int(s.hops[u])
		if s.completes(u, hu) {
			if best < 0 || s.lexLess(u, best) {
				best, bestKey = u, it.key
			}
			continue
		}
		if best >= 0 {
			continue
		}
		gu, nh := s.cost[u], hu+1
		atStart := hu == sp.hops0
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if s.excludedEdge(e) {
				continue
			}
			v := g.outTo[e]
			if s.blocked[v] == s.blockStamp || s.excludedNode(v) {
				continue
			}
			if atStart && len(sp.forbid) > 0 {
				if _, found := slices.BinarySearch(sp.forbid, v); found {
					continue
				}
			}
			d := pot.dist[v]
			if d == infDist || len(s.guards) > 0 && s.guarded(v) {
				continue
			}
			if nh+int(pot.hops[v]) > sp.maxHops {
				// A start has one label only, so cutting its edges off loses nothing.
				pruned = pruned || !atStart
				continue
			}
			ng := gu + uint64(g.outCost[e])
			f := ng + uint64(d)
			if f > sp.maxCost {
				continue
			}
			if s.seen[v] == s.stamp {
				gv, hv := s.cost[v], int(s.hops[v])
				if s.closed[v] == s.stamp || ng > gv || ng == gv && (nh > hv || nh == hv && !s.lexLess(u, s.pred[v])) {
					if nh < hv {
						shadow = min(shadow, f)
					}
					continue
				}
				if hv < nh {
					shadow = min(shadow, gv+uint64(d))
				}
			}
			s.seen[v], s.cost[v], s.hops[v], s.pred[v], s.predEdge[v] = s.stamp, ng, uint16(nh), u, EdgeID(e)
			s.heap.push(item{key: key(f, nh), node: uint64(v)})
		}
	}
	if best < 0 {
		return res, false, pruned, shadow, nil
	}
	h := int(s.hops[best]) - sp.hops0
	res = spurResult{nodes: make([]int32, h+1), edges: make([]EdgeID, h), cost: s.cost[best]}
	for v, i := best, h; v >= 0; v, i = s.pred[v], i-1 {
		res.nodes[i] = v
		if i > 0 {
			res.edges[i-1] = s.predEdge[v]
		}
	}
	return res, true, pruned, shadow, nil
}

// anyPath reports whether sp allows any path at all, by a breadth-first search (fewest hops
// first, so the hop bound is exact).
func (s *searcher) anyPath(sp *spurSpec) bool {
	g, pot := s.g, s.pot
	s.nextStamp()
	queue := s.queue[:0]
	for _, v := range sp.starts {
		if s.excludedNode(v) || s.blocked[v] == s.blockStamp || pot.dist[v] == infDist || s.seen[v] == s.stamp {
			continue
		}
		s.seen[v], s.hops[v] = s.stamp, uint16(sp.hops0)
		queue = append(queue, v)
	}
	defer func() { s.queue = queue[:0] }()
	for i := 0; i < len(queue); i++ {
		u := queue[i]
		nh := int(s.hops[u]) + 1
		atStart := nh-1 == sp.hops0
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			v := g.outTo[e]
			if s.excludedEdge(e) || s.seen[v] == s.stamp || s.blocked[v] == s.blockStamp || s.excludedNode(v) ||
				pot.dist[v] == infDist || nh+int(pot.hops[v]) > sp.maxHops || len(s.guards) > 0 && s.guarded(v) {
				continue
			}
			if atStart && len(sp.forbid) > 0 {
				if _, found := slices.BinarySearch(sp.forbid, v); found {
					continue
				}
			}
			if s.isTarget.has(int(v)) {
				return true
			}
			s.seen[v], s.hops[v] = s.stamp, uint16(nh)
			queue = append(queue, v)
		}
	}
	return false
}

// lexLess reports whether the label chain ending at a is lexicographically smaller than the
// one ending at b; both have the same number of hops and consist of settled nodes.
func (s *searcher) lexLess(a, b int32) bool {
	less := false
	for a != b && a >= 0 && b >= 0 {
		less = a < b
		a, b = s.pred[a], s.pred[b]
	}
	return less
}

// layLabel is a label of the layered search: the best walk reaching a node in exactly some
// number of hops.
type layLabel struct {
	cost   uint64
	pred   uint64 // state, or noState
	edge   EdgeID
	closed bool
}

const noState = math.MaxUint64

func state(v int32, h int) uint64 { return uint64(v)<<8 | uint64(h) }

func stateNode(st uint64) int32 { return int32(st >> 8) }

// layeredSearch is A* over (node, hops) states: exact under the hop bound. Its optimum is a
// simple path: removing a cycle from a walk never raises its cost and lowers its hops. Starts
// are never re-entered, so the start's restrictions cannot be bypassed through a cycle.
func (s *searcher) layeredSearch(sp *spurSpec) (res spurResult, ok bool, err error) {
	g, pot := s.g, s.pot
	s.costly(sp) // a layered search is costly by nature
	s.setGuards(sp)
	labels := make(map[uint64]*layLabel)
	isStart := make(map[int32]bool, len(sp.starts))
	var h itemHeap
	for _, v := range sp.starts {
		if s.excludedNode(v) || s.blocked[v] == s.blockStamp || pot.dist[v] == infDist ||
			sp.hops0+int(pot.hops[v]) > sp.maxHops || isStart[v] {
			continue
		}
		f := sp.cost0 + uint64(pot.dist[v])
		if f > sp.maxCost {
			continue
		}
		isStart[v] = true
		st := state(v, sp.hops0)
		labels[st] = &layLabel{cost: sp.cost0, pred: noState, edge: -1}
		h.push(item{key: key(f, sp.hops0), node: st})
	}
	lexLess := func(a, b uint64) bool {
		less := false
		for a != b && a != noState && b != noState {
			less = stateNode(a) < stateNode(b)
			a, b = labels[a].pred, labels[b].pred
		}
		return less
	}
	best := uint64(noState)
	var bestKey uint64
	for len(h) > 0 {
		it := h.pop()
		if best != noState && it.key != bestKey {
			break
		}
		st := it.node
		lu := labels[st]
		if lu.closed {
			continue
		}
		lu.closed = true
		if err := s.tick(); err != nil {
			return res, false, err
		}
		u, hu := stateNode(st), int(st&0xff)
		if s.completes(u, hu) {
			if best == noState || lexLess(st, best) {
				best, bestKey = st, it.key
			}
			continue
		}
		if best != noState {
			continue
		}
		nh := hu + 1
		atStart := hu == sp.hops0
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if s.excludedEdge(e) {
				continue
			}
			v := g.outTo[e]
			if isStart[v] || s.blocked[v] == s.blockStamp || s.excludedNode(v) {
				continue
			}
			if atStart && len(sp.forbid) > 0 {
				if _, found := slices.BinarySearch(sp.forbid, v); found {
					continue
				}
			}
			d := pot.dist[v]
			if d == infDist || nh+int(pot.hops[v]) > sp.maxHops || len(s.guards) > 0 && s.guarded(v) {
				continue
			}
			ng := lu.cost + uint64(g.outCost[e])
			f := ng + uint64(d)
			if f > sp.maxCost {
				continue
			}
			sv := state(v, nh)
			lv := labels[sv]
			if lv != nil {
				if lv.closed || ng > lv.cost || ng == lv.cost && !lexLess(st, lv.pred) {
					continue
				}
			} else {
				lv = &layLabel{}
				labels[sv] = lv
			}
			lv.cost, lv.pred, lv.edge = ng, st, EdgeID(e)
			h.push(item{key: key(f, nh), node: sv})
		}
	}
	if best == noState {
		return res, false, nil
	}
	n := int(best&0xff) - sp.hops0
	res = spurResult{nodes: make([]int32, n+1), edges: make([]EdgeID, n), cost: labels[best].cost}
	for st, i := best, n; st != noState; i-- {
		l := labels[st]
		res.nodes[i] = stateNode(st)
		if i > 0 {
			res.edges[i-1] = l.edge
		}
		st = l.pred
	}
	return res, true, nil
}
