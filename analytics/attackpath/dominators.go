package attackpath

import "slices"

// DomTree is the dominator tree of a graph from a virtual root linked to a set of sources:
// d dominates v when every path from a source to v passes through d (every node dominates
// itself).
type DomTree struct {
	num    []int32 // node → preorder number (root 0), -1 if unreachable
	vert   []int32 // number → node (vert[0] = -1, the root)
	idom   []int32 // number → number of its immediate dominator
	tin    []int32 // number → entry time in the dominator tree
	tout   []int32 // number → exit time (exclusive)
	parent []int32 // number → depth-first search parent (only while building)
}

// Dominators computes the dominator tree from a virtual root with an edge to each source, in
// O(E log N): Semi-NCA (Georgiadis), i.e. Lengauer–Tarjan semidominators with path compression,
// then each immediate dominator as the nearest common ancestor of its semidominator and its
// depth-first parent. The tree holds 4 int32 per reachable node and 1 per node. A source out of range is an
// ErrBadQuery error.
func (g *Graph) Dominators(sources []int32) (*DomTree, error) {
	if err := g.checkNodes("source", sources); err != nil {
		return nil, err
	}
	return dominatorTree(int(g.n), sources, csr{g.outOff, g.outTo}, csr{g.inOff, g.inFrom}), nil
}

// postDominators returns the dominator tree of the reversed graph from the targets: d
// post-dominates v when every path from v to a target passes through d.
func (g *Graph) postDominators(targets []int32) *DomTree {
	return dominatorTree(int(g.n), targets, csr{g.inOff, g.inFrom}, csr{g.outOff, g.outTo})
}

// csr is one direction of adjacency: the neighbours of v are adj[off[v]:off[v+1]].
type csr struct {
	off []uint32
	adj []int32
}

// dominatorTree runs Semi-NCA from a virtual root linked to roots, over the successors succ
// and predecessors pred of n nodes.
func dominatorTree(n int, roots []int32, succ, pred csr) *DomTree {
	t := &DomTree{num: make([]int32, n)}
	for i := range t.num {
		t.num[i] = -1
	}
	isRoot := newBitset(n)
	for _, s := range roots {
		isRoot.set(int(s))
	}
	t.dfs(succ, roots)
	k := len(t.vert)

	// Semidominators, in decreasing preorder, with Lengauer–Tarjan's link-eval forest under
	// path compression. A node's slot holds its forest ancestor (-1 until linked) and the least
	// semidominator on its compressed path, side by side for locality; a node is linked only
	// once its semidominator is final.
	type slot struct{ anc, semi int32 }
	slots := make([]slot, k)
	semi := make([]int32, k)
	for i := range k {
		slots[i] = slot{-1, int32(i)}
		semi[i] = int32(i)
	}
	var stack []int32
	// evalSemi returns the least semidominator on the forest path from x up to, not
	// including, its forest root; x itself if unlinked (then x is not yet processed, and
	// its semidominator is still its own number).
	evalSemi := func(x int32) int32 {
		if slots[x].anc < 0 {
			return x
		}
		stack = stack[:0]
		for y := x; slots[slots[y].anc].anc >= 0; y = slots[y].anc {
			stack = append(stack, y)
		}
		for i := len(stack) - 1; i >= 0; i-- {
			z := &slots[stack[i]]
			a := slots[z.anc]
			z.semi = min(z.semi, a.semi)
			z.anc = a.anc
		}
		return slots[x].semi
	}
	for w := int32(k - 1); w >= 1; w-- {
		v := t.vert[w]
		if isRoot.has(int(v)) {
			semi[w] = 0
		}
		for _, u := range pred.adj[pred.off[v]:pred.off[v+1]] {
			if x := t.num[u]; x >= 0 {
				semi[w] = min(semi[w], evalSemi(x))
			}
		}
		slots[w] = slot{t.parent[w], semi[w]}
	}
	// Immediate dominators, in increasing preorder: the nearest ancestor of the parent, in
	// the tree built so far, that is not below the semidominator.
	t.idom = make([]int32, k)
	for w := int32(1); w < int32(k); w++ {
		x := t.parent[w]
		for x > semi[w] {
			x = t.idom[x]
		}
		t.idom[w] = x
	}
	t.intervals(semi, t.parent) // reuse as scratch
	t.parent = nil
	return t
}

// dfs numbers the nodes reachable from roots in preorder, iteratively.
func (t *DomTree) dfs(succ csr, roots []int32) {
	t.vert = append(make([]int32, 0, 1024), -1)
	t.parent = append(make([]int32, 0, 1024), -1)
	type frame struct {
		v    int32
		next uint32
	}
	var stack []frame
	visit := func(v, parent int32) {
		t.num[v] = int32(len(t.vert))
		t.vert = append(t.vert, v)
		t.parent = append(t.parent, parent)
		stack = append(stack, frame{v, succ.off[v]})
	}
	for _, s := range roots {
		if t.num[s] >= 0 {
			continue
		}
		visit(s, 0)
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == succ.off[f.v+1] {
				stack = stack[:len(stack)-1]
				continue
			}
			w := succ.adj[f.next]
			f.next++
			if t.num[w] < 0 {
				visit(w, t.num[f.v])
			}
		}
	}
}

// intervals numbers the dominator tree in preorder so that d dominates v iff
// tin[d] ≤ tin[v] < tout[d]. It uses childOff and kids as scratch (len k each).
func (t *DomTree) intervals(childOff, kids []int32) {
	k := len(t.vert)
	// Children lists by counting sort of idom; childOff[d] ends up as the start of d's children.
	clear(childOff)
	for w := 1; w < k; w++ {
		childOff[t.idom[w]]++
	}
	sum := int32(0)
	for d := range k {
		c := childOff[d]
		childOff[d] = sum
		sum += c
	}
	pos := slices.Clone(childOff)
	for w := 1; w < k; w++ {
		d := t.idom[w]
		kids[pos[d]] = int32(w)
		pos[d]++
	}
	end := func(d int32) int32 {
		if int(d)+1 < k {
			return childOff[d+1]
		}
		return int32(k - 1)
	}
	t.tin = make([]int32, k)
	t.tout = make([]int32, k)
	clock := int32(0)
	stack := []int32{0}
	t.tin[0] = clock
	clock++
	next := pos // reuse: next child to visit, per node
	copy(next, childOff)
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		if next[d] == end(d) {
			t.tout[d] = clock
			stack = stack[:len(stack)-1]
			continue
		}
		c := kids[next[d]]
		next[d]++
		t.tin[c] = clock
		clock++
		stack = append(stack, c)
	}
}

// Reachable reports whether v is reachable from a source.
func (t *DomTree) Reachable(v int32) bool { return v >= 0 && int(v) < len(t.num) && t.num[v] >= 0 }

// Idom returns the immediate dominator of v: -1 when v is unreachable, or when only the
// virtual root dominates it (the sources, and nodes reachable from sources with no common
// dominator).
func (t *DomTree) Idom(v int32) int32 {
	if !t.Reachable(v) {
		return -1
	}
	return t.vert[t.idom[t.num[v]]]
}

// Dominates reports whether d dominates v (both reachable; every node dominates itself).
func (t *DomTree) Dominates(d, v int32) bool {
	if !t.Reachable(d) || !t.Reachable(v) {
		return false
	}
	x, y := t.num[d], t.num[v]
	return t.tin[x] <= t.tin[y] && t.tin[y] < t.tout[x]
}

// Subtree returns the number of nodes d dominates, itself included (0 if unreachable).
func (t *DomTree) Subtree(d int32) int {
	if !t.Reachable(d) {
		return 0
	}
	x := t.num[d]
	return int(t.tout[x] - t.tin[x])
}

// ChokePoint is a node that every path from the sources to some targets must cross.
type ChokePoint struct {
	Node int32
	// Targets is the number of reachable targets it dominates.
	Targets int
	// Dominated is the number of nodes it dominates, itself included.
	Dominated int
}

// ChokePoints returns the nodes, other than sources and targets, that dominate at least one
// reachable target, by Targets descending, then Node ascending.
func (g *Graph) ChokePoints(sources, targets []int32) ([]ChokePoint, error) {
	if err := g.checkNodes("target", targets); err != nil {
		return nil, err
	}
	t, err := g.Dominators(sources)
	if err != nil {
		return nil, err
	}
	k := len(t.vert)
	cnt := make([]int32, k)
	excluded := newBitset(int(g.n))
	for _, s := range sources {
		excluded.set(int(s))
	}
	for _, v := range targets {
		excluded.set(int(v))
		if t.Reachable(v) {
			cnt[t.num[v]] = 1 // once, however often v is listed
		}
	}
	// Children have higher preorder numbers than their immediate dominators.
	for w := k - 1; w >= 1; w-- {
		cnt[t.idom[w]] += cnt[w]
	}
	var out []ChokePoint
	for w := 1; w < k; w++ {
		v := t.vert[w]
		if cnt[w] > 0 && !excluded.has(int(v)) {
			out = append(out, ChokePoint{Node: v, Targets: int(cnt[w]), Dominated: int(t.tout[w] - t.tin[w])})
		}
	}
	slices.SortFunc(out, func(a, b ChokePoint) int {
		if a.Targets != b.Targets {
			return b.Targets - a.Targets
		}
		return int(a.Node - b.Node)
	})
	return out, nil
}
