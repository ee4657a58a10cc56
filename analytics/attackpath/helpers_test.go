package attackpath

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomCase is a small random graph with a query, for the property tests.
type randomCase struct {
	n       int
	edges   []Edge
	sources []int32
	targets []int32
}

// genCase draws a graph of 2 to maxN nodes: random density, probabilities from a small set
// (so that ties, including p = 1, are common) or uniform, parallel edges, self-loops, cycles,
// and 1 to 3 sources and targets that may overlap.
func genCase(rng *rand.Rand, maxN int) randomCase {
	n := 2 + rng.IntN(maxN-1)
	// An average out-degree of 0.5 to 3.5 (denser for few nodes) keeps the number of simple
	// paths small enough to enumerate.
	density := min(0.9, (0.5+3*rng.Float64())/float64(n))
	ps := []float64{1, 1, 0.5, 0.9, 0.25, 0.8, 0.1}
	var edges []Edge
	ref := int64(1000)
	for u := range n {
		for v := range n {
			if rng.Float64() >= density {
				continue
			}
			copies := 1
			if rng.IntN(10) == 0 {
				copies = 2
			}
			for range copies {
				p := ps[rng.IntN(len(ps))]
				if rng.IntN(3) == 0 {
					p = 0.01 + 0.99*rng.Float64()
				}
				edges = append(edges, Edge{From: int32(u), To: int32(v), P: p, Ref: ref})
				ref++
			}
		}
	}
	rng.Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })
	pick := func() []int32 {
		k := 1 + rng.IntN(min(3, n))
		out := make([]int32, k)
		for i := range out {
			out[i] = int32(rng.IntN(n))
		}
		return out
	}
	return randomCase{n: n, edges: edges, sources: pick(), targets: pick()}
}

func mustBuild(t testing.TB, n int, edges []Edge) *Graph {
	t.Helper()
	g, err := Build(n, edges)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// bfPath is a path found by brute force.
type bfPath struct {
	nodes []int32
	edges []EdgeID
	units uint64
}

// bruteForcePaths enumerates every path of q's definition (TopK's doc comment: simple, from a
// source, at least one edge, ending at the first target it reaches) by depth-first search, sorted in ranking order, cut at q.K and q.MinLikelihood. Between two nodes it takes
// the cheapest edge with the lowest EdgeID.
func bruteForcePaths(g *Graph, q Query) []bfPath {
	maxHops := q.MaxHops
	if maxHops == 0 {
		maxHops = DefaultMaxHops
	}
	exN, exE := map[int32]bool{}, map[EdgeID]bool{}
	if q.Exclude != nil {
		for _, v := range q.Exclude.Nodes {
			exN[v] = true
		}
		for _, e := range q.Exclude.Edges {
			exE[e] = true
		}
	}
	isT := map[int32]bool{}
	for _, t := range q.Targets {
		isT[t] = true
	}
	n := g.NumNodes()
	best := func(u, v int32) (EdgeID, bool) {
		var be EdgeID = -1
		for e := range g.Out(u) {
			if g.EdgeTo(e) != v || exE[e] {
				continue
			}
			if be < 0 || g.outCost[e] < g.outCost[be] {
				be = e
			}
		}
		return be, be >= 0
	}
	var all []bfPath
	var nodes []int32
	var edges []EdgeID
	onPath := make([]bool, n)
	var dfs func(u int32, units uint64)
	dfs = func(u int32, units uint64) {
		if len(edges) > 0 && isT[u] {
			all = append(all, bfPath{nodes: slices.Clone(nodes), edges: slices.Clone(edges), units: units})
			return // a path ends at its first target
		}
		if len(edges) == maxHops {
			return
		}
		for v := range int32(n) {
			if onPath[v] || exN[v] {
				continue
			}
			e, ok := best(u, v)
			if !ok {
				continue
			}
			onPath[v] = true
			nodes, edges = append(nodes, v), append(edges, e)
			dfs(v, units+uint64(g.outCost[e]))
			nodes, edges = nodes[:len(nodes)-1], edges[:len(edges)-1]
			onPath[v] = false
		}
	}
	srcs := slices.Clone(q.Sources)
	slices.Sort(srcs)
	for _, s := range slices.Compact(srcs) {
		if exN[s] {
			continue
		}
		onPath[s] = true
		nodes = append(nodes[:0], s)
		dfs(s, 0)
		onPath[s] = false
	}
	slices.SortFunc(all, func(a, b bfPath) int {
		if a.units != b.units {
			if a.units < b.units {
				return -1
			}
			return 1
		}
		if len(a.nodes) != len(b.nodes) {
			return len(a.nodes) - len(b.nodes)
		}
		return slices.Compare(a.nodes, b.nodes)
	})
	var out []bfPath
	for _, p := range all {
		if len(out) == q.K {
			break
		}
		l := 1.0
		for _, e := range p.edges {
			l *= g.EdgeP(e)
		}
		if q.MinLikelihood > 0 && l < q.MinLikelihood {
			break
		}
		out = append(out, p)
	}
	return out
}

// reachable returns the nodes reachable from sources without crossing removed nodes or edges.
func reachable(g *Graph, sources []int32, removedN map[int32]bool, removedE map[EdgeID]bool) []bool {
	seen := make([]bool, g.NumNodes())
	var stack []int32
	for _, s := range sources {
		if !removedN[s] && !seen[s] {
			seen[s] = true
			stack = append(stack, s)
		}
	}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for e := range g.Out(u) {
			v := g.EdgeTo(e)
			if removedE[e] || removedN[v] || seen[v] {
				continue
			}
			seen[v] = true
			stack = append(stack, v)
		}
	}
	return seen
}

func relClose(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}
