package attackpath

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestWithChangesMatchesBuild checks WithChanges against Build of the changed edge list.
func TestWithChangesMatchesBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	carriedSets := 0
	defer func() {
		if carriedSets == 0 {
			t.Error("no potentials carried over")
		}
	}()
	for iter := range 300 {
		c := genCase(rng, 20)
		g := mustBuild(t, c.n, c.edges)
		before := snapshot(g)
		var ch Changes
		ch.AddNodes = rng.IntN(3)
		n := c.n + ch.AddNodes
		refs := make([]int64, 0, g.NumEdges())
		for e := range EdgeID(g.NumEdges()) {
			refs = append(refs, g.EdgeRef(e))
		}
		for range rng.IntN(3) {
			ch.RemoveNodes = append(ch.RemoveNodes, int32(rng.IntN(n)))
		}
		if len(refs) > 0 {
			for range rng.IntN(4) {
				ch.RemoveEdges = append(ch.RemoveEdges, refs[rng.IntN(len(refs))])
			}
			ch.SetP = map[int64]float64{}
			for range rng.IntN(4) {
				ch.SetP[refs[rng.IntN(len(refs))]] = []float64{0, -1, 0.3, 1, 2, math.NaN(), 0.77}[rng.IntN(7)]
			}
		}
		ch.RemoveEdges = append(ch.RemoveEdges, 999_999) // unknown refs are ignored
		for range rng.IntN(5) {
			ch.AddEdges = append(ch.AddEdges, Edge{From: int32(rng.IntN(n)), To: int32(rng.IntN(n)),
				P: []float64{0, 0.5, 1, 1.5}[rng.IntN(4)], Ref: int64(5000 + rng.IntN(100))})
		}
		// Warm the cache with a few target sets, so that some carry over.
		targetSets := [][]int32{c.targets, c.sources, {int32(rng.IntN(c.n))}}
		for _, ts := range targetSets {
			g.potentials(ts)
		}
		got, err := g.WithChanges(ch)
		if err != nil {
			t.Fatal(err)
		}
		// The expected edge list.
		var want []Edge
		for e := range EdgeID(g.NumEdges()) {
			x := Edge{From: g.EdgeFrom(e), To: g.EdgeTo(e), P: g.EdgeP(e), Ref: g.EdgeRef(e)}
			if slices.Contains(ch.RemoveNodes, x.From) || slices.Contains(ch.RemoveNodes, x.To) || slices.Contains(ch.RemoveEdges, x.Ref) {
				continue
			}
			if p, ok := ch.SetP[x.Ref]; ok {
				x.P = p
			}
			want = append(want, x)
		}
		for _, a := range ch.AddEdges {
			if !slices.Contains(ch.RemoveNodes, a.From) && !slices.Contains(ch.RemoveNodes, a.To) {
				want = append(want, a)
			}
		}
		wg := mustBuild(t, n, want)
		if !reflect.DeepEqual(snapshot(got), snapshot(wg)) {
			t.Fatalf("case %d: WithChanges(%+v) differs from Build", iter, ch)
		}
		// Carried potentials are exact, and their hop bounds lower bounds.
		carriedSets += len(got.pots.entries)
		for _, ts := range targetSets {
			fresh := wg.computePotentials(ts)
			pot := got.potentials(ts)
			if !slices.Equal(pot.dist, fresh.dist) {
				t.Fatalf("case %d: potentials of %v after %+v: %v, want %v", iter, ts, ch, pot.dist, fresh.dist)
			}
			for v := range pot.hops {
				if pot.hops[v] > fresh.hops[v] {
					t.Fatalf("case %d: hop bound of %d is %d, distance %d", iter, v, pot.hops[v], fresh.hops[v])
				}
			}
		}
		if !reflect.DeepEqual(snapshot(g), before) {
			t.Fatalf("case %d: WithChanges modified the original", iter)
		}
	}
}

// snapshot copies a graph's arrays.
func snapshot(g *Graph) [][]any {
	return [][]any{{g.n}, {slices.Clone(g.outOff), slices.Clone(g.outFrom), slices.Clone(g.outTo), slices.Clone(g.outCost),
		slices.Clone(g.outP), slices.Clone(g.outRef)}, {slices.Clone(g.inOff), slices.Clone(g.inFrom), slices.Clone(g.inCost), slices.Clone(g.inEdge)}}
}

// TestWithChangesHopBound adds an edge that shortens the hops to the target without making it
// cheaper: the cached hop bounds would stop being lower bounds.
func TestWithChangesHopBound(t *testing.T) {
	g := mustBuild(t, 4, []Edge{{From: 0, To: 1, P: 1}, {From: 1, To: 2, P: 1}, {From: 2, To: 3, P: 1}})
	target := []int32{3}
	if h := g.potentials(target).hops[0]; h != 3 {
		t.Fatalf("hops[0] = %d", h)
	}
	ng, err := g.WithChanges(Changes{AddEdges: []Edge{{From: 0, To: 3, P: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	if h := ng.potentials(target).hops[0]; h != 1 {
		t.Fatalf("after the shortcut, hops[0] = %d, want 1", h)
	}
	paths, err := ng.TopK(context.Background(), Query{Sources: []int32{0}, Targets: target, K: 2, MaxHops: 1})
	if err != nil || len(paths) != 1 || len(paths[0].Nodes) != 2 {
		t.Fatalf("TopK = %v, %v; want the shortcut", paths, err)
	}
	// A cheaper edge elsewhere keeps the cache.
	ng2, _ := ng.WithChanges(Changes{AddEdges: []Edge{{From: 3, To: 0, P: 1}}})
	if len(ng2.pots.entries) != 1 {
		t.Fatal("potentials not carried over an irrelevant edge")
	}
}

func TestWithChangesErrors(t *testing.T) {
	g := mustBuild(t, 3, []Edge{{From: 0, To: 1, P: 1}})
	tests := []struct {
		name string
		c    Changes
	}{
		{"negative add nodes", Changes{AddNodes: -1}},
		{"removed node out of range", Changes{RemoveNodes: []int32{3}}},
		{"added edge out of range", Changes{AddEdges: []Edge{{From: 0, To: 3, P: 1}}}},
		{"added edge from a negative node", Changes{AddEdges: []Edge{{From: -1, To: 0, P: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := g.WithChanges(tt.c); !errors.Is(err, ErrBadGraph) {
				t.Errorf("err = %v, want ErrBadGraph", err)
			}
		})
	}
	// An added node can take edges.
	ng, err := g.WithChanges(Changes{AddNodes: 1, AddEdges: []Edge{{From: 1, To: 3, P: 0.5, Ref: 7}}})
	if err != nil || ng.NumNodes() != 4 || ng.NumEdges() != 2 || ng.EdgeRef(1) != 7 {
		t.Fatalf("add node: %v", err)
	}
}

func TestNoisyOR(t *testing.T) {
	tests := []struct {
		name  string
		paths []Path
		want  float64
	}{
		{"none", nil, 0},
		{"one", []Path{{Likelihood: 0.3}}, 0.3},
		{"two", []Path{{Likelihood: 0.5}, {Likelihood: 0.5}}, 0.75},
		{"certain", []Path{{Likelihood: 1}, {Likelihood: 0.2}}, 1},
	}
	for _, tt := range tests {
		if got := NoisyOR(tt.paths); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("%s: NoisyOR = %v, want %v", tt.name, got, tt.want)
		}
	}
	ps := []Path{{Edges: []EdgeID{1, 2}}, {Edges: []EdgeID{2, 3}}, {Edges: []EdgeID{4}}}
	if got := EdgeDisjoint(ps); len(got) != 2 || got[1].Edges[0] != 4 {
		t.Errorf("EdgeDisjoint = %+v", got)
	}
}
