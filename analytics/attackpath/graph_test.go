package attackpath

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBuild(t *testing.T) {
	edges := []Edge{
		{From: 2, To: 0, P: 0.5, Ref: 10},
		{From: 0, To: 1, P: 1.5, Ref: 11},         // clamped
		{From: 0, To: 2, P: 0, Ref: 12},           // dropped
		{From: 1, To: 1, P: 0.9, Ref: 13},         // self-loop, dropped
		{From: 0, To: 2, P: math.NaN(), Ref: 14},  // dropped
		{From: 0, To: 2, P: -0.3, Ref: 15},        // dropped
		{From: 0, To: 2, P: 0.25, Ref: 16},        // kept after 11
		{From: 1, To: 2, P: math.Inf(1), Ref: 17}, // clamped
		{From: 2, To: 1, P: 5e-324, Ref: 18},      // smallest p
	}
	g := mustBuild(t, 4, edges)
	if g.NumNodes() != 4 || g.NumEdges() != 5 {
		t.Fatalf("%d nodes, %d edges", g.NumNodes(), g.NumEdges())
	}
	type row struct {
		from, to int32
		p        float64
		ref      int64
	}
	want := []row{{0, 1, 1, 11}, {0, 2, 0.25, 16}, {1, 2, 1, 17}, {2, 0, 0.5, 10}, {2, 1, 5e-324, 18}}
	for e := range EdgeID(g.NumEdges()) {
		got := row{g.EdgeFrom(e), g.EdgeTo(e), g.EdgeP(e), g.EdgeRef(e)}
		if got != want[e] {
			t.Errorf("edge %d = %+v, want %+v", e, got, want[e])
		}
		if c := g.EdgeCost(e); math.Abs(c+math.Log(want[e].p)) > CostResolution {
			t.Errorf("edge %d: cost %v for p %v", e, c, want[e].p)
		}
	}
	if got := slices.Collect(g.Out(0)); !slices.Equal(got, []EdgeID{0, 1}) {
		t.Errorf("Out(0) = %v", got)
	}
	if got := slices.Collect(g.In(2)); !slices.Equal(got, []EdgeID{1, 2}) {
		t.Errorf("In(2) = %v", got)
	}
	if got := slices.Collect(g.Out(3)); len(got) != 0 {
		t.Errorf("Out(3) = %v", got)
	}
	if lo, hi := g.OutRange(2); lo != 3 || hi != 5 {
		t.Errorf("OutRange(2) = %d, %d", lo, hi)
	}
	if mb := g.MemoryBytes(); mb <= 0 || mb > 64*5+64*4 {
		t.Errorf("MemoryBytes = %d", mb)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		edges []Edge
		want  string
	}{
		{"negative n", -1, nil, "-1 nodes"},
		{"from out of range", 2, []Edge{{From: 0, To: 1, P: 1}, {From: 2, To: 0, P: 1}}, "edge 1: from 2"},
		{"to out of range", 2, []Edge{{From: 0, To: -1, P: 1}}, "edge 0: to -1"},
		{"out of range even if dropped", 2, []Edge{{From: 0, To: 5, P: 0}}, "edge 0: to 5"},
		{"edges on an empty graph", 0, []Edge{{From: 0, To: 0, P: 1}}, "edge 0: from 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.n, tt.edges)
			if !errors.Is(err, ErrBadGraph) || !containsStr(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrBadGraph mentioning %q", err, tt.want)
			}
		})
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestBuildCSR checks both CSRs against the edge list on random graphs.
func TestBuildCSR(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		c := genCase(rng, 30)
		g := mustBuild(t, c.n, c.edges)
		var kept []Edge
		for _, e := range c.edges {
			if p, ok := normP(e.P); ok && e.From != e.To {
				e.P = p
				kept = append(kept, e)
			}
		}
		slices.SortStableFunc(kept, func(a, b Edge) int { return int(a.From - b.From) })
		if g.NumEdges() != len(kept) {
			t.Fatalf("%d edges, want %d", g.NumEdges(), len(kept))
		}
		for e, w := range kept {
			id := EdgeID(e)
			if g.EdgeFrom(id) != w.From || g.EdgeTo(id) != w.To || g.EdgeP(id) != w.P || g.EdgeRef(id) != w.Ref {
				t.Fatalf("edge %d = %d->%d, want %+v", e, g.EdgeFrom(id), g.EdgeTo(id), w)
			}
		}
		in := 0
		for v := range int32(c.n) {
			prev := EdgeID(-1)
			for e := range g.In(v) {
				if g.EdgeTo(e) != v || e <= prev {
					t.Fatalf("In(%d) has %d (%d->%d) after %d", v, e, g.EdgeFrom(e), g.EdgeTo(e), prev)
				}
				prev = e
				in++
			}
			for i := g.inOff[v]; i < g.inOff[v+1]; i++ {
				if g.inFrom[i] != g.EdgeFrom(g.inEdge[i]) || g.inCost[i] != g.outCost[g.inEdge[i]] {
					t.Fatal("in-CSR arrays disagree with the out-CSR")
				}
			}
		}
		if in != g.NumEdges() {
			t.Fatalf("%d in-edges, %d edges", in, g.NumEdges())
		}
	}
}

func TestPotentials(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		c := genCase(rng, 20)
		g := mustBuild(t, c.n, c.edges)
		pot, err := g.Potentials(c.targets)
		if err != nil {
			t.Fatal(err)
		}
		// Bellman-Ford on the float64 costs −ln p.
		want := make([]float64, c.n)
		for v := range want {
			want[v] = math.Inf(1)
		}
		for _, v := range c.targets {
			want[v] = 0
		}
		for range c.n {
			for e := range EdgeID(g.NumEdges()) {
				u, v := g.EdgeFrom(e), g.EdgeTo(e)
				want[u] = min(want[u], want[v]-math.Log(g.EdgeP(e)))
			}
		}
		for v := range want {
			if math.IsInf(want[v], 1) != math.IsInf(float64(pot[v]), 1) ||
				!math.IsInf(want[v], 1) && math.Abs(float64(pot[v])-want[v]) > 1e-5*(1+want[v]) {
				t.Fatalf("pot[%d] = %v, want %v", v, pot[v], want[v])
			}
		}
		// Cached: the same answer again, whatever the order of the targets.
		rev := slices.Clone(c.targets)
		slices.Reverse(rev)
		again, _ := g.Potentials(rev)
		if !slices.Equal(pot, again) {
			t.Fatal("cached potentials differ")
		}
	}
	g := mustBuild(t, 2, nil)
	for _, targets := range [][]int32{nil, {2}, {-1}} {
		if _, err := g.Potentials(targets); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Potentials(%v): err = %v, want ErrBadQuery", targets, err)
		}
	}
}

func TestPotentialsCacheBounded(t *testing.T) {
	g := mustBuild(t, 20, []Edge{{From: 0, To: 1, P: 0.5}})
	for v := range int32(20) {
		if _, err := g.Potentials([]int32{v}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(g.pots.entries); n != potCacheSize {
		t.Fatalf("%d cached target sets, want %d", n, potCacheSize)
	}
}
