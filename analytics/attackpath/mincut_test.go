package attackpath

import (
	"context"
	"errors"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// edmondsKarp is an independent max-flow on an explicit capacity matrix.
func edmondsKarp(capacity [][]int64, s, t int) int64 {
	n := len(capacity)
	res := make([][]int64, n)
	for i := range res {
		res[i] = slices.Clone(capacity[i])
	}
	var total int64
	for {
		prev := make([]int, n)
		for i := range prev {
			prev[i] = -1
		}
		prev[s] = s
		queue := []int{s}
		for len(queue) > 0 && prev[t] < 0 {
			u := queue[0]
			queue = queue[1:]
			for v := range n {
				if prev[v] < 0 && res[u][v] > 0 {
					prev[v] = u
					queue = append(queue, v)
				}
			}
		}
		if prev[t] < 0 {
			return total
		}
		b := int64(1) << 62
		for v := t; v != s; v = prev[v] {
			b = min(b, res[prev[v]][v])
		}
		for v := t; v != s; v = prev[v] {
			res[prev[v]][v] -= b
			res[v][prev[v]] += b
		}
		total += b
	}
}

const ekInf = int64(1) << 50

// splitCapacities builds the node-split graph of MinCut's doc comment as a matrix.
func splitCapacities(g *Graph, sources, targets []int32, nodeCost func(int32) int64, edgeCost func(EdgeID) int64) [][]int64 {
	n := g.NumNodes()
	c := make([][]int64, 2*n+2)
	for i := range c {
		c[i] = make([]int64, 2*n+2)
	}
	conv := func(x int64) int64 {
		if x == Infinite {
			return ekInf
		}
		return x
	}
	for v := range int32(n) {
		if slices.Contains(sources, v) || slices.Contains(targets, v) {
			c[2*v][2*v+1] = ekInf
		} else {
			c[2*v][2*v+1] = conv(nodeCost(v))
		}
	}
	for e := range EdgeID(g.NumEdges()) {
		u, v := g.EdgeFrom(e), g.EdgeTo(e)
		c[2*u+1][2*v] = min(ekInf, c[2*u+1][2*v]+conv(edgeCost(e)))
	}
	for _, s := range sources {
		c[2*n][2*s] = ekInf
	}
	for _, t := range targets {
		c[2*t][2*n+1] = ekInf
	}
	return c
}

// flowCase is a random case with disjoint sources and targets, of up to maxN nodes, with an
// average out-degree up to 6: enough flow for augmenting paths to need the reverse arcs.
func flowCase(rng *rand.Rand, maxN int) randomCase {
	for {
		c := genCase(rng, maxN)
		if rng.IntN(2) == 0 {
			// Denser: add random edges.
			for range c.n * (1 + rng.IntN(4)) {
				c.edges = append(c.edges, Edge{From: int32(rng.IntN(c.n)), To: int32(rng.IntN(c.n)), P: 0.5, Ref: int64(len(c.edges))})
			}
		}
		c.targets = slices.DeleteFunc(c.targets, func(t int32) bool { return slices.Contains(c.sources, t) })
		if len(c.targets) > 0 {
			return c
		}
	}
}

func TestMinCutMatchesMaxFlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ctx := context.Background()
	for iter := range 500 {
		c := flowCase(rng, 20)
		if iter%5 == 0 {
			c = flowCase(rng, 60)
		}
		g := mustBuild(t, c.n, c.edges)
		costs := make([]int64, c.n+g.NumEdges())
		for i := range costs {
			switch rng.IntN(6) {
			case 0:
				costs[i] = Infinite
			case 1:
				costs[i] = 0
			default:
				costs[i] = 1 + rng.Int64N(9)
			}
		}
		nodeCost := func(v int32) int64 { return costs[v] }
		edgeCost := func(e EdgeID) int64 { return costs[c.n+int(e)] }
		cut, err := g.MinCut(ctx, c.sources, c.targets, nodeCost, edgeCost)
		if err != nil {
			t.Fatal(err)
		}
		want := edmondsKarp(splitCapacities(g, c.sources, c.targets, nodeCost, edgeCost), 2*c.n, 2*c.n+1)
		if want >= ekInf {
			if !cut.Infinite {
				t.Fatalf("case %d: cut %+v, want infinite", iter, cut)
			}
			continue
		}
		if cut.Infinite || cut.Value != want {
			t.Fatalf("case %d: cut %+v, want value %d", iter, cut, want)
		}
		checkCut(t, g, c, cut, nodeCost, edgeCost)
	}
}

// checkCut checks that the cut costs its value and disconnects the targets.
func checkCut(t *testing.T, g *Graph, c randomCase, cut Cut, nodeCost func(int32) int64, edgeCost func(EdgeID) int64) {
	t.Helper()
	var sum int64
	rn, re := map[int32]bool{}, map[EdgeID]bool{}
	for _, v := range cut.Nodes {
		if slices.Contains(c.sources, v) || slices.Contains(c.targets, v) {
			t.Fatalf("cut %+v has source or target %d", cut, v)
		}
		sum += nodeCost(v)
		rn[v] = true
	}
	for _, e := range cut.Edges {
		sum += edgeCost(e)
		re[e] = true
	}
	if sum != cut.Value {
		t.Fatalf("cut %+v costs %d", cut, sum)
	}
	seen := reachable(g, c.sources, rn, re)
	for _, tg := range c.targets {
		if seen[tg] {
			t.Fatalf("cut %+v leaves target %d reachable", cut, tg)
		}
	}
}

// TestMinCutMatchesSubsets compares unit-cost vertex cuts with the smallest disconnecting
// subset, by enumeration.
func TestMinCutMatchesSubsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ctx := context.Background()
	for iter := range 300 {
		c := flowCase(rng, 10)
		g := mustBuild(t, c.n, c.edges)
		cut, err := g.MinCut(ctx, c.sources, c.targets, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var free []int32
		for v := range int32(c.n) {
			if !slices.Contains(c.sources, v) && !slices.Contains(c.targets, v) {
				free = append(free, v)
			}
		}
		best := -1
		for mask := range 1 << len(free) {
			size := bits.OnesCount(uint(mask))
			if best >= 0 && size >= best {
				continue
			}
			removed := map[int32]bool{}
			for i, v := range free {
				if mask&(1<<i) != 0 {
					removed[v] = true
				}
			}
			seen := reachable(g, c.sources, removed, nil)
			if !slices.ContainsFunc(c.targets, func(tg int32) bool { return seen[tg] }) {
				best = size
			}
		}
		if best < 0 {
			if !cut.Infinite {
				t.Fatalf("case %d: cut %+v, want infinite", iter, cut)
			}
			continue
		}
		if cut.Infinite || cut.Value != int64(best) || len(cut.Edges) != 0 {
			t.Fatalf("case %d: cut %+v, want %d nodes", iter, cut, best)
		}
		checkCut(t, g, c, cut, func(int32) int64 { return 1 }, func(EdgeID) int64 { return Infinite })
	}
}

func TestMinCutErrors(t *testing.T) {
	g := mustBuild(t, 3, []Edge{{From: 0, To: 1, P: 1}, {From: 1, To: 2, P: 1}})
	ctx := context.Background()
	tests := []struct {
		name             string
		sources, targets []int32
		nodeCost         func(int32) int64
		edgeCost         func(EdgeID) int64
	}{
		{"no sources", nil, []int32{2}, nil, nil},
		{"no targets", []int32{0}, nil, nil, nil},
		{"source out of range", []int32{3}, []int32{2}, nil, nil},
		{"target out of range", []int32{0}, []int32{-2}, nil, nil},
		{"negative node cost", []int32{0}, []int32{2}, func(int32) int64 { return -1 }, nil},
		{"huge edge cost", []int32{0}, []int32{2}, nil, func(EdgeID) int64 { return MaxCutCost + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := g.MinCut(ctx, tt.sources, tt.targets, tt.nodeCost, tt.edgeCost); !errors.Is(err, ErrBadQuery) {
				t.Errorf("err = %v, want ErrBadQuery", err)
			}
		})
	}
	cut, err := g.MinCut(ctx, []int32{0}, []int32{0}, nil, nil)
	if err != nil || !cut.Infinite {
		t.Errorf("source = target: %+v, %v; want infinite", cut, err)
	}
	cut, err = g.MinCut(ctx, []int32{0}, []int32{2}, nil, nil)
	if err != nil || cut.Value != 1 || !slices.Equal(cut.Nodes, []int32{1}) {
		t.Errorf("chain: %+v, %v; want node 1", cut, err)
	}
	cut, err = g.MinCut(ctx, []int32{0}, []int32{2}, func(int32) int64 { return 5 }, func(EdgeID) int64 { return 2 })
	if err != nil || cut.Value != 2 || len(cut.Edges) != 1 {
		t.Errorf("cheap edges: %+v, %v; want one edge", cut, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.MinCut(cancelled, []int32{0}, []int32{2}, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
