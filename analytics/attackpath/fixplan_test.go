package attackpath

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFixPlanProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	ctx := context.Background()
	for iter := range 300 {
		c := genCase(rng, 16)
		g := mustBuild(t, c.n, c.edges)
		q := Query{Sources: c.sources, Targets: c.targets, K: 1 + rng.IntN(10)}
		costs := make([]float64, c.n+g.NumEdges())
		fixable := make([]bool, len(costs))
		for i := range costs {
			costs[i] = float64(rng.IntN(5))
			fixable[i] = rng.IntN(4) != 0
		}
		opts := FixOptions{
			MaxActions:     1 + rng.IntN(5),
			TargetResidual: []float64{0, 0.1, 0.5}[rng.IntN(3)],
			NodeCost:       func(v int32) (float64, bool) { return costs[v], fixable[v] },
			EdgeCost:       func(e EdgeID) (float64, bool) { return costs[c.n+int(e)], fixable[c.n+int(e)] },
		}
		plan, err := g.FixPlan(ctx, q, opts)
		if err != nil {
			t.Fatal(err)
		}
		initial, err := g.TopK(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if plan.InitialMass != mass(initial) {
			t.Fatalf("case %d: initial mass %v, want %v", iter, plan.InitialMass, mass(initial))
		}
		ex := &Exclusion{}
		removed := 0.0
		for _, a := range plan.Actions {
			switch {
			case a.Node >= 0 && a.Edge < 0:
				if slices.Contains(c.sources, a.Node) || slices.Contains(c.targets, a.Node) {
					t.Fatalf("case %d: plan removes source or target %d", iter, a.Node)
				}
				if !fixable[a.Node] || a.Cost != costs[a.Node] {
					t.Fatalf("case %d: action %+v: fixable %v cost %v", iter, a, fixable[a.Node], costs[a.Node])
				}
				ex.Nodes = append(ex.Nodes, a.Node)
			case a.Node < 0 && a.Edge >= 0:
				if !fixable[c.n+int(a.Edge)] || a.Cost != costs[c.n+int(a.Edge)] {
					t.Fatalf("case %d: action %+v not fixable at that cost", iter, a)
				}
				ex.Edges = append(ex.Edges, a.Edge)
			default:
				t.Fatalf("case %d: malformed action %+v", iter, a)
			}
			if a.MassRemoved < 0 {
				t.Fatalf("case %d: action %+v removes negative mass", iter, a)
			}
			removed += a.MassRemoved
		}
		q.Exclude = ex
		residual, err := g.TopK(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(plan.ResidualMass-mass(residual)) > 1e-12 || math.Abs(plan.InitialMass-plan.ResidualMass-removed) > 1e-9 {
			t.Fatalf("case %d: plan %+v; residual mass recomputed %v, removed %v", iter, plan, mass(residual), removed)
		}
		if plan.InitialMass > 0 && math.Abs(plan.RemovedPct-100*(plan.InitialMass-plan.ResidualMass)/plan.InitialMass) > 1e-9 {
			t.Fatalf("case %d: removed %v%%", iter, plan.RemovedPct)
		}
		// Why it stopped.
		if len(plan.Actions) < opts.MaxActions && len(residual) > 0 && plan.ResidualMass > opts.TargetResidual*plan.InitialMass {
			for _, p := range residual {
				for _, v := range p.Nodes {
					if fixable[v] && !slices.Contains(c.sources, v) && !slices.Contains(c.targets, v) {
						t.Fatalf("case %d: stopped with fixable node %d on a path", iter, v)
					}
				}
				for _, e := range p.Edges {
					if fixable[c.n+int(e)] {
						t.Fatalf("case %d: stopped with fixable edge %d on a path", iter, e)
					}
				}
			}
		}
		// The first action has the best ratio on the initial paths.
		if len(plan.Actions) > 0 {
			ratio := func(m, cost float64) float64 {
				if cost <= 0 {
					return math.Inf(1)
				}
				return m / cost
			}
			a := plan.Actions[0]
			var got float64
			if a.Node >= 0 {
				got = ratio(nodeMassOf(initial, a.Node), a.Cost)
			} else {
				got = ratio(edgeMassOf(initial, a.Edge), a.Cost)
			}
			for v := range int32(c.n) {
				if fixable[v] && !slices.Contains(c.sources, v) && !slices.Contains(c.targets, v) {
					if m := nodeMassOf(initial, v); m > 0 && ratio(m, costs[v]) > got {
						t.Fatalf("case %d: first action %+v (ratio %v), node %d has %v", iter, a, got, v, ratio(m, costs[v]))
					}
				}
			}
		}
	}
}

func nodeMassOf(paths []Path, v int32) float64 {
	m := 0.0
	for _, p := range paths {
		if slices.Contains(p.Nodes, v) {
			m += p.Likelihood
		}
	}
	return m
}

func edgeMassOf(paths []Path, e EdgeID) float64 {
	m := 0.0
	for _, p := range paths {
		if slices.Contains(p.Edges, e) {
			m += p.Likelihood
		}
	}
	return m
}

func TestFixPlanChain(t *testing.T) {
	// Two routes from 0 to 4: via 1 (likely) and via 2 -> 3; node 1 is expensive.
	g := mustBuild(t, 5, []Edge{
		{From: 0, To: 1, P: 0.9}, {From: 1, To: 4, P: 0.9}, {From: 0, To: 2, P: 0.5}, {From: 2, To: 3, P: 1}, {From: 3, To: 4, P: 0.5},
	})
	q := Query{Sources: []int32{0}, Targets: []int32{4}, K: 10}
	plan, err := g.FixPlan(context.Background(), q, FixOptions{
		NodeCost: func(v int32) (float64, bool) { return map[int32]float64{1: 10, 2: 1, 3: 1}[v], true },
		EdgeCost: func(EdgeID) (float64, bool) { return 0, false },
	})
	if err != nil {
		t.Fatal(err)
	}
	// 0.25/1 beats 0.81/10, so node 2 goes first, then node 1.
	if len(plan.Actions) != 2 || plan.Actions[0].Node != 2 || plan.Actions[1].Node != 1 ||
		plan.ResidualMass != 0 || plan.RemovedPct != 100 || math.Abs(plan.InitialMass-1.06) > 1e-12 {
		t.Fatalf("plan %+v", plan)
	}
	if _, err := g.FixPlan(context.Background(), Query{Sources: []int32{0}, K: 1}, FixOptions{}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("no targets: err = %v", err)
	}
}
