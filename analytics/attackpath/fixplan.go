package attackpath

import (
	"context"
	"math"
	"slices"
)

// FixOptions tunes FixPlan.
type FixOptions struct {
	// MaxActions bounds the plan (0: 10).
	MaxActions int
	// TargetResidual stops the plan once ResidualMass/InitialMass ≤ TargetResidual.
	TargetResidual float64
	// NodeCost returns the cost of fixing (removing) a node and whether it can be fixed at all
	// (nil: every node can, at cost 1).
	NodeCost func(v int32) (cost float64, fixable bool)
	// EdgeCost does the same for an edge (nil: every edge can, at cost 1).
	EdgeCost func(e EdgeID) (cost float64, fixable bool)
}

// FixAction is one step of a fix plan: remove a node (Edge is -1) or an edge (Node is -1).
type FixAction struct {
	Node int32
	Edge EdgeID
	// MassRemoved is how much the top-K path mass fell when this action was added to the
	// previous ones (paths that were below the top K may have surfaced).
	MassRemoved float64
	Cost        float64
}

// FixPlan is a sequence of fixes and their effect on the path mass.
type FixPlan struct {
	Actions []FixAction
	// InitialMass is the sum of the likelihoods of the top-K paths without fixes;
	// ResidualMass that with every action applied.
	InitialMass, ResidualMass float64
	// RemovedPct is 100 × (InitialMass − ResidualMass) / InitialMass (0 when there is no mass).
	RemovedPct float64
}

// FixPlan builds a greedy fix plan for the paths of q (a weighted hitting set over the top-K
// paths, after Sheyner et al.): it repeatedly picks the fixable node or edge of the current
// top-K paths that removes the most path mass per unit of cost (a cost ≤ 0 is free; ties go to
// more mass, then nodes before edges, then the lower index), excludes it, and runs TopK again so
// that paths previously ranked below K surface. Sources and targets are never picked. It stops
// after opts.MaxActions actions, at opts.TargetResidual, or when no fixable element is left on
// the paths.
func (g *Graph) FixPlan(ctx context.Context, q Query, opts FixOptions) (FixPlan, error) {
	q, err := g.normalize(q)
	if err != nil {
		return FixPlan{}, err
	}
	maxActions := opts.MaxActions
	if maxActions <= 0 {
		maxActions = defaultMaxFixes
	}
	nodeCost, edgeCost := opts.NodeCost, opts.EdgeCost
	if nodeCost == nil {
		nodeCost = func(int32) (float64, bool) { return 1, true }
	}
	if edgeCost == nil {
		edgeCost = func(EdgeID) (float64, bool) { return 1, true }
	}
	endpoint := newBitset(int(g.n))
	for _, v := range q.Sources {
		endpoint.set(int(v))
	}
	for _, v := range q.Targets {
		endpoint.set(int(v))
	}
	ex := &Exclusion{}
	if q.Exclude != nil {
		ex.Nodes = slices.Clone(q.Exclude.Nodes)
		ex.Edges = slices.Clone(q.Exclude.Edges)
	}
	q.Exclude = ex

	paths, err := g.TopK(ctx, q)
	if err != nil {
		return FixPlan{}, err
	}
	plan := FixPlan{InitialMass: mass(paths)}
	plan.ResidualMass = plan.InitialMass
	nodeMass := map[int32]float64{}
	edgeMass := map[EdgeID]float64{}
	for len(plan.Actions) < maxActions && len(paths) > 0 &&
		plan.ResidualMass > opts.TargetResidual*plan.InitialMass {
		clear(nodeMass)
		clear(edgeMass)
		for _, p := range paths {
			for _, v := range p.Nodes {
				if !endpoint.has(int(v)) {
					nodeMass[v] += p.Likelihood
				}
			}
			for _, e := range p.Edges {
				edgeMass[e] += p.Likelihood
			}
		}
		best := FixAction{Node: -1, Edge: -1}
		bestRatio, bestMass := math.Inf(-1), 0.0
		consider := func(node int32, edge EdgeID, m, cost float64) {
			ratio := math.Inf(1)
			if cost > 0 {
				ratio = m / cost
			}
			better := ratio > bestRatio || ratio == bestRatio && m > bestMass
			if !better && ratio == bestRatio && m == bestMass {
				// Nodes before edges, then the lower index.
				switch {
				case best.Node >= 0 && node >= 0:
					better = node < best.Node
				case best.Node < 0 && node >= 0:
					better = true
				case best.Node < 0 && node < 0:
					better = edge < best.Edge
				}
			}
			if better {
				best, bestRatio, bestMass = FixAction{Node: node, Edge: edge, Cost: max(cost, 0)}, ratio, m
			}
		}
		for v, m := range nodeMass {
			if c, ok := nodeCost(v); ok && !math.IsNaN(c) {
				consider(v, -1, m, c)
			}
		}
		for e, m := range edgeMass {
			if c, ok := edgeCost(e); ok && !math.IsNaN(c) {
				consider(-1, e, m, c)
			}
		}
		if best.Node < 0 && best.Edge < 0 {
			break
		}
		if best.Node >= 0 {
			ex.Nodes = append(ex.Nodes, best.Node)
		} else {
			ex.Edges = append(ex.Edges, best.Edge)
		}
		if paths, err = g.TopK(ctx, q); err != nil {
			return FixPlan{}, err
		}
		residual := mass(paths)
		best.MassRemoved = plan.ResidualMass - residual
		plan.ResidualMass = residual
		plan.Actions = append(plan.Actions, best)
	}
	if plan.InitialMass > 0 {
		plan.RemovedPct = 100 * (plan.InitialMass - plan.ResidualMass) / plan.InitialMass
	}
	return plan, nil
}

// mass is the sum of the paths' likelihoods.
func mass(paths []Path) float64 {
	m := 0.0
	for _, p := range paths {
		m += p.Likelihood
	}
	return m
}
