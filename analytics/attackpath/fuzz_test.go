package attackpath

import (
	"context"
	"math"
	"slices"
	"testing"
)

// fuzzInput decodes bytes into a small graph and a query: n, then the counts of sources and
// targets, K, MaxHops and MinLikelihood, the sources and targets, then an edge per 3 bytes.
// Out-of-range indexes are kept on purpose (some), to exercise validation.
func fuzzInput(data []byte) (n int, edges []Edge, q Query) {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	n = next() % 12
	ns, nt := next()%4, next()%4
	q.K = next()%12 - 1
	q.MaxHops = next()%8 - 1
	if b := next(); b < 200 {
		q.MinLikelihood = float64(b) / 255
	}
	node := func() int32 { return int32(next()%(n+2)) - 1 } // -1 and n are out of range
	for range ns {
		q.Sources = append(q.Sources, node())
	}
	for range nt {
		q.Targets = append(q.Targets, node())
	}
	for len(data) >= 3 && len(edges) < 40 {
		from, to := int32(next()%max(n, 1)), int32(next()%max(n, 1))
		var p float64
		switch b := next(); b {
		case 255:
			p = math.NaN()
		case 254:
			p = 2
		case 253:
			p = -1
		default:
			p = float64(b) / 252
		}
		edges = append(edges, Edge{From: from, To: to, P: p, Ref: int64(len(edges))})
	}
	return n, edges, q
}

// FuzzEngine runs every analysis on small decoded graphs: nothing may panic, and TopK must
// agree with brute force.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{4, 1, 1, 3, 0, 255, 1, 4, 0, 1, 200, 1, 2, 100, 2, 3, 252, 3, 0, 252})
	f.Add([]byte{3, 2, 2, 5, 3, 10, 1, 2, 2, 1, 0, 1, 252, 1, 2, 126, 2, 0, 252, 0, 2, 63})
	f.Add([]byte{6, 3, 3, 11, 7, 255, 1, 2, 3, 4, 5, 6, 0, 1, 252, 1, 2, 252, 2, 0, 252, 2, 3, 100, 3, 4, 254, 4, 5, 255, 5, 1, 253, 1, 5, 0})
	f.Add([]byte{0, 1, 1, 2, 0, 0, 0, 0})
	f.Add([]byte{11, 3, 3, 11, 0, 250, 1, 2, 3, 10, 11, 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		n, edges, q := fuzzInput(data)
		g, err := Build(n, edges)
		if err != nil {
			return
		}
		if len(data)%2 == 1 {
			g.pdomAfter = 1
		}
		ctx := context.Background()
		paths, err := g.TopK(ctx, q)
		if err == nil {
			want := bruteForcePaths(g, q)
			if len(paths) != len(want) {
				t.Fatalf("TopK: %d paths, brute force %d", len(paths), len(want))
			}
			for i := range paths {
				if !slices.Equal(paths[i].Nodes, want[i].nodes) {
					t.Fatalf("TopK path %d = %v, brute force %v", i, paths[i].Nodes, want[i].nodes)
				}
			}
			NoisyOR(EdgeDisjoint(paths))
		}
		g.Potentials(q.Targets)
		g.Dominators(q.Sources)
		g.ChokePoints(q.Sources, q.Targets)
		cut, err := g.MinCut(ctx, q.Sources, q.Targets, nil, func(e EdgeID) int64 { return int64(e % 3) })
		if err == nil && !cut.Infinite {
			rn, re := map[int32]bool{}, map[EdgeID]bool{}
			for _, v := range cut.Nodes {
				rn[v] = true
			}
			for _, e := range cut.Edges {
				re[e] = true
			}
			seen := reachable(g, q.Sources, rn, re)
			for _, tg := range q.Targets {
				if seen[tg] {
					t.Fatalf("cut %+v leaves %d reachable", cut, tg)
				}
			}
		}
		g.BlastRadius(ctx, q.Sources, q.MinLikelihood, q.K)
		g.FixPlan(ctx, q, FixOptions{MaxActions: 3})
		if ng, err := g.WithChanges(Changes{AddNodes: 1, RemoveNodes: q.Targets, AddEdges: edges[:len(edges)/2]}); err == nil {
			ng.TopK(ctx, q)
		}
	})
}
