package attackpath

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDominatorsMatchBruteForce checks the dominator tree against the definition: d dominates
// a reachable t iff t is unreachable from the sources once d is removed.
func TestDominatorsMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 400 {
		c := genCase(rng, 20)
		g := mustBuild(t, c.n, c.edges)
		dt, err := g.Dominators(c.sources)
		if err != nil {
			t.Fatal(err)
		}
		reach := reachable(g, c.sources, nil, nil)
		// dom[t] lists the strict dominators of t.
		dom := make([][]int32, c.n)
		for d := range int32(c.n) {
			without := reachable(g, c.sources, map[int32]bool{d: true}, nil)
			for v := range int32(c.n) {
				if dt.Reachable(v) != reach[v] {
					t.Fatalf("case %d: Reachable(%d) = %v", iter, v, dt.Reachable(v))
				}
				want := reach[v] && reach[d] && (d == v || !without[v])
				if dt.Dominates(d, v) != want {
					t.Fatalf("case %d: Dominates(%d, %d) = %v, want %v", iter, d, v, !want, want)
				}
				if want && d != v {
					dom[v] = append(dom[v], d)
				}
			}
		}
		for v := range int32(c.n) {
			// The immediate dominator is the strict dominator dominated by all the others.
			want := int32(-1)
			for _, d := range dom[v] {
				if want < 0 || len(dom[d]) > len(dom[want]) {
					want = d
				}
			}
			if got := dt.Idom(v); got != want {
				t.Fatalf("case %d: Idom(%d) = %d, want %d (strict dominators %v)", iter, v, got, want, dom[v])
			}
			if n := dt.Subtree(v); reach[v] {
				count := 0
				for w := range int32(c.n) {
					if dt.Dominates(v, w) {
						count++
					}
				}
				if n != count {
					t.Fatalf("case %d: Subtree(%d) = %d, want %d", iter, v, n, count)
				}
			}
		}
		checkChokePoints(t, g, c, dom, reach)
	}
}

func checkChokePoints(t *testing.T, g *Graph, c randomCase, dom [][]int32, reach []bool) {
	t.Helper()
	cps, err := g.ChokePoints(c.sources, c.targets)
	if err != nil {
		t.Fatal(err)
	}
	count := map[int32]int{}
	targets := slices.Clone(c.targets)
	slices.Sort(targets)
	for _, tg := range slices.Compact(targets) {
		if !reach[tg] {
			continue
		}
		for _, d := range dom[tg] {
			if !slices.Contains(c.sources, d) && !slices.Contains(c.targets, d) {
				count[d]++
			}
		}
	}
	var want []ChokePoint
	for d, n := range count {
		want = append(want, ChokePoint{Node: d, Targets: n})
	}
	slices.SortFunc(want, func(a, b ChokePoint) int {
		if a.Targets != b.Targets {
			return b.Targets - a.Targets
		}
		return int(a.Node - b.Node)
	})
	if len(cps) != len(want) {
		t.Fatalf("choke points %+v, want %+v", cps, want)
	}
	for i := range cps {
		if cps[i].Node != want[i].Node || cps[i].Targets != want[i].Targets || cps[i].Dominated < 1 {
			t.Fatalf("choke points %+v, want %+v", cps, want)
		}
	}
}

func TestDominatorsCases(t *testing.T) {
	// 0 -> 1 -> 2 -> 3 and 0 -> 4 -> 2: 2 dominates 3, 1 and 4 do not.
	g := mustBuild(t, 6, []Edge{
		{From: 0, To: 1, P: 1}, {From: 1, To: 2, P: 1}, {From: 2, To: 3, P: 1}, {From: 0, To: 4, P: 1}, {From: 4, To: 2, P: 1},
	})
	dt, err := g.Dominators([]int32{0})
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range []int32{-1, 0, 0, 2, 0, -1} {
		if got := dt.Idom(int32(v)); got != want {
			t.Errorf("Idom(%d) = %d, want %d", v, got, want)
		}
	}
	if dt.Reachable(5) || dt.Reachable(-1) || dt.Reachable(6) || dt.Dominates(0, 5) {
		t.Error("unreachable node reported reachable or dominated")
	}
	cps, err := g.ChokePoints([]int32{0}, []int32{3, 5})
	if err != nil {
		t.Fatal(err)
	}
	if want := []ChokePoint{{Node: 2, Targets: 1, Dominated: 2}}; !slices.Equal(cps, want) {
		t.Errorf("ChokePoints = %+v, want %+v", cps, want)
	}
	// Two sources: nothing but the root dominates 2 when both reach it separately.
	dt, _ = g.Dominators([]int32{1, 4})
	if got := dt.Idom(2); got != -1 {
		t.Errorf("two sources: Idom(2) = %d, want -1", got)
	}
	for _, bad := range [][]int32{{6}, {-1}} {
		if _, err := g.Dominators(bad); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Dominators(%v): err = %v", bad, err)
		}
		if _, err := g.ChokePoints([]int32{0}, bad); !errors.Is(err, ErrBadQuery) {
			t.Errorf("ChokePoints(targets %v): err = %v", bad, err)
		}
	}
}

// TestDominatorsDeepChain runs on a long path, where a recursive implementation would need a
// deep stack.
func TestDominatorsDeepChain(t *testing.T) {
	const n = 200_000
	edges := make([]Edge, 0, n)
	for v := range int32(n - 1) {
		edges = append(edges, Edge{From: v, To: v + 1, P: 1})
	}
	edges = append(edges, Edge{From: n - 1, To: 0, P: 1})
	g := mustBuild(t, n, edges)
	dt, err := g.Dominators([]int32{0})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int32{1, 1000, n - 1} {
		if got := dt.Idom(v); got != v-1 {
			t.Fatalf("Idom(%d) = %d", v, got)
		}
	}
	cps, _ := g.ChokePoints([]int32{0}, []int32{n - 1})
	if len(cps) != n-2 {
		t.Fatalf("%d choke points, want %d", len(cps), n-2)
	}
}
