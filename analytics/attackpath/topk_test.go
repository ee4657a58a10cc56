package attackpath

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestTopKMatchesBruteForce compares TopK with the brute-force enumeration of every simple
// path on random graphs, path by path (nodes and edges), ties included.
func TestTopKMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for iter := range 1500 {
		c := genCase(rng, 20)
		if iter%4 == 0 {
			c = genCase(rng, 9) // small graphs hit the corner cases more often
		}
		g := mustBuild(t, c.n, c.edges)
		if iter%2 == 1 {
			g.pdomAfter = 1 // prune with post-dominators from the first search on
		}
		q := Query{Sources: c.sources, Targets: c.targets, K: 1 + rng.IntN(10)}
		switch rng.IntN(5) {
		case 0:
			q.MaxHops = 1 + rng.IntN(4)
		case 1:
			q.MinLikelihood = rng.Float64() * rng.Float64()
		case 2:
			q.Exclude = randomExclusion(rng, g)
		case 3:
			q.K = 1 + rng.IntN(60)
		}
		got, err := g.TopK(ctx, q)
		if err != nil {
			t.Fatalf("case %d: %v", iter, err)
		}
		want := bruteForcePaths(g, q)
		if len(got) != len(want) {
			t.Fatalf("case %d (n=%d, %d edges, q=%+v): %d paths, want %d\ngot  %v\nwant %v",
				iter, c.n, len(c.edges), q, len(got), len(want), nodesOf(got), bfNodes(want))
		}
		for i, p := range got {
			w := want[i]
			if !slices.Equal(p.Nodes, w.nodes) || !slices.Equal(p.Edges, w.edges) {
				t.Fatalf("case %d: path %d = %v %v, want %v %v\ngot  %v\nwant %v",
					iter, i, p.Nodes, p.Edges, w.nodes, w.edges, nodesOf(got), bfNodes(want))
			}
			checkPath(t, g, c, q, p)
			if i > 0 && p.Likelihood > got[i-1].Likelihood*(1+1e-5) {
				t.Fatalf("case %d: path %d more likely than path %d", iter, i, i-1)
			}
		}
	}
}

// checkPath checks a path against the definition, and its likelihood against the input
// probabilities.
func checkPath(t *testing.T, g *Graph, c randomCase, q Query, p Path) {
	t.Helper()
	if len(p.Nodes) < 2 || len(p.Edges) != len(p.Nodes)-1 {
		t.Fatalf("malformed path %v %v", p.Nodes, p.Edges)
	}
	if !slices.Contains(c.sources, p.Nodes[0]) || !slices.Contains(c.targets, p.Nodes[len(p.Nodes)-1]) {
		t.Fatalf("path %v does not go from a source to a target", p.Nodes)
	}
	seen := map[int32]bool{}
	l := 1.0
	for i, v := range p.Nodes {
		if seen[v] {
			t.Fatalf("path %v repeats %d", p.Nodes, v)
		}
		if i > 0 && i < len(p.Nodes)-1 && slices.Contains(c.targets, v) {
			t.Fatalf("path %v goes through target %d", p.Nodes, v)
		}
		seen[v] = true
		if i > 0 {
			e := p.Edges[i-1]
			if g.EdgeFrom(e) != p.Nodes[i-1] || g.EdgeTo(e) != v {
				t.Fatalf("path %v: edge %d is %d->%d", p.Nodes, e, g.EdgeFrom(e), g.EdgeTo(e))
			}
			l *= min(c.edgeByRef(g.EdgeRef(e)).P, 1)
		}
	}
	if !relClose(p.Likelihood, l, 1e-12) || !relClose(p.Cost, -math.Log(l), 1e-9) && l > 0 {
		t.Fatalf("path %v: likelihood %v cost %v, want %v", p.Nodes, p.Likelihood, p.Cost, l)
	}
	if q.MaxHops > 0 && len(p.Edges) > q.MaxHops {
		t.Fatalf("path %v longer than %d", p.Nodes, q.MaxHops)
	}
}

func (c randomCase) edgeByRef(ref int64) Edge {
	for _, e := range c.edges {
		if e.Ref == ref {
			return e
		}
	}
	panic("no such ref")
}

func randomExclusion(rng *rand.Rand, g *Graph) *Exclusion {
	x := &Exclusion{}
	for range rng.IntN(3) {
		x.Nodes = append(x.Nodes, int32(rng.IntN(g.NumNodes())))
	}
	if g.NumEdges() > 0 {
		for range rng.IntN(4) {
			x.Edges = append(x.Edges, EdgeID(rng.IntN(g.NumEdges())))
		}
	}
	return x
}

func nodesOf(ps []Path) [][]int32 {
	var out [][]int32
	for _, p := range ps {
		out = append(out, p.Nodes)
	}
	return out
}

func bfNodes(ps []bfPath) [][]int32 {
	var out [][]int32
	for _, p := range ps {
		out = append(out, p.nodes)
	}
	return out
}

func TestTopKCases(t *testing.T) {
	ctx := context.Background()
	// 0 -> 1 -> 2 -> 3, 0 -> 2 (p .5), cycle 2 -> 0, 4 isolated.
	g := mustBuild(t, 5, []Edge{
		{From: 0, To: 1, P: 0.9, Ref: 1}, {From: 1, To: 2, P: 0.9, Ref: 2}, {From: 2, To: 3, P: 1, Ref: 3},
		{From: 0, To: 2, P: 0.5, Ref: 4}, {From: 2, To: 0, P: 1, Ref: 5},
	})
	// The cheapest way to 2 (via 1 and 6) is too long to continue cheaply under 4 hops; the
	// search must fall back to (node, hops) states to find 0 2 4 5 3.
	shadow := mustBuild(t, 7, []Edge{
		{From: 0, To: 1, P: 1}, {From: 1, To: 6, P: 1}, {From: 6, To: 2, P: 1}, {From: 0, To: 2, P: 0.5},
		{From: 2, To: 3, P: 0.1}, {From: 2, To: 4, P: 1}, {From: 4, To: 5, P: 1}, {From: 5, To: 3, P: 1},
	})
	tests := []struct {
		name  string
		graph *Graph // nil: g
		q     Query
		want  [][]int32
	}{
		{"two paths", nil, Query{Sources: []int32{0}, Targets: []int32{3}, K: 5}, [][]int32{{0, 1, 2, 3}, {0, 2, 3}}},
		{"k cuts", nil, Query{Sources: []int32{0}, Targets: []int32{3}, K: 1}, [][]int32{{0, 1, 2, 3}}},
		{"disconnected target", nil, Query{Sources: []int32{0}, Targets: []int32{4}, K: 3}, nil},
		{"source is target: no 0-hop path", nil, Query{Sources: []int32{0}, Targets: []int32{0}, K: 3}, nil},
		{"not through a target", nil, Query{Sources: []int32{0}, Targets: []int32{2, 3}, K: 10},
			[][]int32{{0, 1, 2}, {0, 2}}},
		{"through another source", nil, Query{Sources: []int32{0, 1}, Targets: []int32{3}, K: 10},
			[][]int32{{1, 2, 3}, {0, 1, 2, 3}, {0, 2, 3}}},
		{"source is a target of another source", nil, Query{Sources: []int32{1, 2}, Targets: []int32{2}, K: 10},
			[][]int32{{1, 2}}},
		{"min likelihood", nil, Query{Sources: []int32{0}, Targets: []int32{3}, K: 5, MinLikelihood: 0.6}, [][]int32{{0, 1, 2, 3}}},
		{"max hops", nil, Query{Sources: []int32{0}, Targets: []int32{3}, K: 5, MaxHops: 2}, [][]int32{{0, 2, 3}}},
		{"exclude node", nil, Query{Sources: []int32{0}, Targets: []int32{3}, K: 5, Exclude: &Exclusion{Nodes: []int32{1}}}, [][]int32{{0, 2, 3}}},
		{"hop bound shadows a label", shadow, Query{Sources: []int32{0}, Targets: []int32{3}, K: 5, MaxHops: 4},
			[][]int32{{0, 2, 4, 5, 3}, {0, 1, 6, 2, 3}, {0, 2, 3}}},
		{"excluded source", nil, Query{Sources: []int32{0}, Targets: []int32{3}, K: 5, Exclude: &Exclusion{Nodes: []int32{0}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gr := g
			if tt.graph != nil {
				gr = tt.graph
			}
			got, err := gr.TopK(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(nodesOf(got), tt.want, slices.Equal) {
				t.Errorf("got %v, want %v", nodesOf(got), tt.want)
			}
		})
	}
}

func TestTopKBadQuery(t *testing.T) {
	g := mustBuild(t, 3, []Edge{{From: 0, To: 1, P: 1}, {From: 1, To: 2, P: 1}})
	ok := Query{Sources: []int32{0}, Targets: []int32{2}, K: 1}
	tests := []struct {
		name string
		edit func(*Query)
	}{
		{"k zero", func(q *Query) { q.K = 0 }},
		{"k negative", func(q *Query) { q.K = -1 }},
		{"k too large", func(q *Query) { q.K = MaxK + 1 }},
		{"no sources", func(q *Query) { q.Sources = nil }},
		{"no targets", func(q *Query) { q.Targets = []int32{} }},
		{"source out of range", func(q *Query) { q.Sources = []int32{3} }},
		{"negative source", func(q *Query) { q.Sources = []int32{-1} }},
		{"target out of range", func(q *Query) { q.Targets = []int32{0, 7} }},
		{"negative max hops", func(q *Query) { q.MaxHops = -1 }},
		{"max hops too large", func(q *Query) { q.MaxHops = MaxMaxHops + 1 }},
		{"min likelihood NaN", func(q *Query) { q.MinLikelihood = math.NaN() }},
		{"min likelihood > 1", func(q *Query) { q.MinLikelihood = 1.5 }},
		{"excluded node out of range", func(q *Query) { q.Exclude = &Exclusion{Nodes: []int32{9}} }},
		{"excluded edge out of range", func(q *Query) { q.Exclude = &Exclusion{Edges: []EdgeID{2}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ok
			tt.edit(&q)
			if _, err := g.TopK(context.Background(), q); !errors.Is(err, ErrBadQuery) {
				t.Errorf("err = %v, want ErrBadQuery", err)
			}
		})
	}
	if _, err := g.TopK(context.Background(), ok); err != nil {
		t.Fatalf("valid query: %v", err)
	}
}

func TestTopKCancelled(t *testing.T) {
	g := mustBuild(t, 2, []Edge{{From: 0, To: 1, P: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.TopK(ctx, Query{Sources: []int32{0}, Targets: []int32{1}, K: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEmptyGraph(t *testing.T) {
	g := mustBuild(t, 0, nil)
	if g.NumNodes() != 0 || g.NumEdges() != 0 {
		t.Fatal("empty graph not empty")
	}
	if _, err := g.TopK(context.Background(), Query{Sources: []int32{0}, Targets: []int32{0}, K: 1}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("err = %v, want ErrBadQuery", err)
	}
}

// TestConcurrentQueries runs queries on one graph from several goroutines (run with -race):
// the potentials cache and the searcher pool are shared.
func TestConcurrentQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	c := genCase(rng, 20)
	for len(c.edges) < 30 {
		c = genCase(rng, 20)
	}
	g := mustBuild(t, c.n, c.edges)
	var queries []Query
	var want [][]Path
	for i := range 12 {
		q := Query{Sources: []int32{int32(i % c.n)}, Targets: []int32{int32((i * 7) % c.n), int32((i + 3) % c.n)}, K: 5}
		p, err := g.TopK(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		queries, want = append(queries, q), append(want, p)
	}
	g = mustBuild(t, c.n, c.edges) // a cold cache
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for r := range 50 {
				i := (w + r) % len(queries)
				got, err := g.TopK(context.Background(), queries[i])
				if err == nil && !slices.EqualFunc(nodesOf(got), nodesOf(want[i]), slices.Equal) {
					err = fmt.Errorf("query %d: %v, want %v", i, nodesOf(got), nodesOf(want[i]))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
