package attackpath

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBlastRadiusMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	ctx := context.Background()
	for iter := range 400 {
		c := genCase(rng, 20)
		g := mustBuild(t, c.n, c.edges)
		minL := 0.0
		if rng.IntN(2) == 0 {
			minL = rng.Float64() * rng.Float64()
		}
		limit := 0
		if rng.IntN(4) == 0 {
			limit = 1 + rng.IntN(c.n)
		}
		got, err := g.BlastRadius(ctx, c.sources, minL, limit)
		if err != nil {
			t.Fatal(err)
		}
		// Best likelihood per node (Bellman-Ford on products).
		best := make([]float64, c.n)
		for _, s := range c.sources {
			best[s] = 1
		}
		for range c.n {
			for e := range EdgeID(g.NumEdges()) {
				best[g.EdgeTo(e)] = max(best[g.EdgeTo(e)], best[g.EdgeFrom(e)]*g.EdgeP(e))
			}
		}
		byNode := map[int32]Reach{}
		for i, r := range got {
			if i > 0 && r.Likelihood > got[i-1].Likelihood {
				t.Fatalf("case %d: not sorted: %+v", iter, got)
			}
			byNode[r.Node] = r
			if !relClose(r.Likelihood, best[r.Node], 1e-5) || r.Likelihood < minL {
				t.Fatalf("case %d: node %d likelihood %v, want %v (min %v)", iter, r.Node, r.Likelihood, best[r.Node], minL)
			}
			// Follow Via back to a start.
			l, hops := 1.0, 0
			for v := r.Node; ; {
				e := byNodeVia(got, v)
				if e < 0 {
					if !slices.Contains(c.sources, v) {
						t.Fatalf("case %d: node %d's path starts at %d", iter, r.Node, v)
					}
					break
				}
				l *= g.EdgeP(e)
				hops++
				v = g.EdgeFrom(e)
				if hops > c.n {
					t.Fatalf("case %d: Via loops", iter)
				}
			}
			if !relClose(l, r.Likelihood, 1e-12) || hops != r.Hops {
				t.Fatalf("case %d: node %d: path has likelihood %v and %d hops, reported %v and %d", iter, r.Node, l, hops, r.Likelihood, r.Hops)
			}
		}
		for v := range int32(c.n) {
			_, ok := byNode[v]
			want := best[v] > 0 && best[v] >= minL
			if math.Abs(best[v]-minL) < 1e-6 || limit > 0 {
				continue // at the threshold, or cut by the limit: checked below
			}
			if ok != want {
				t.Fatalf("case %d: node %d (best %v, min %v) reported = %v", iter, v, best[v], minL, ok)
			}
		}
		if limit > 0 {
			if len(got) > limit {
				t.Fatalf("case %d: %d nodes, limit %d", iter, len(got), limit)
			}
			if len(got) > 0 {
				worst := got[len(got)-1].Likelihood
				for v := range int32(c.n) {
					if _, ok := byNode[v]; !ok && best[v] > worst*(1+1e-5) && len(got) == limit {
						t.Fatalf("case %d: node %d (%v) left out for a less likely one (%v)", iter, v, best[v], worst)
					}
				}
			}
		}
	}
}

// byNodeVia returns the Via of v in rs (rs holds every node on the paths it reports, since
// a path's prefixes are at least as likely).
func byNodeVia(rs []Reach, v int32) EdgeID {
	for _, r := range rs {
		if r.Node == v {
			return r.Via
		}
	}
	panic("node of a reported path not reported")
}

func TestBlastRadiusErrors(t *testing.T) {
	g := mustBuild(t, 2, []Edge{{From: 0, To: 1, P: 0.5}})
	ctx := context.Background()
	tests := []struct {
		name  string
		from  []int32
		minL  float64
		limit int
	}{
		{"no start", nil, 0, 0},
		{"start out of range", []int32{2}, 0, 0},
		{"min likelihood NaN", []int32{0}, math.NaN(), 0},
		{"min likelihood negative", []int32{0}, -0.5, 0},
		{"negative limit", []int32{0}, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := g.BlastRadius(ctx, tt.from, tt.minL, tt.limit); !errors.Is(err, ErrBadQuery) {
				t.Errorf("err = %v, want ErrBadQuery", err)
			}
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.BlastRadius(cancelled, []int32{0}, 0, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	got, err := g.BlastRadius(ctx, []int32{0}, 0, 0)
	want := []Reach{{Node: 0, Likelihood: 1, Via: -1}, {Node: 1, Likelihood: 0.5, Hops: 1, Via: 0}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("BlastRadius = %+v, %v; want %+v", got, err, want)
	}
}
