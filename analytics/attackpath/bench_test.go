package attackpath

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sectwin/sectwin/bench/attackgen"
)

// Benchmarks run on attackgen graphs at 100k nodes / 600k edges; -attackpath.large adds
// 1M nodes / 6M edges (a few GB of memory and minutes):
//
//	go test ./analytics/attackpath/ -run XXX -bench . -benchtime 20x
//	go test ./analytics/attackpath/ -run XXX -bench . -benchtime 5x -attackpath.large
var large = flag.Bool("attackpath.large", false, "also benchmark at 1M nodes / 6M edges")

type benchFixture struct {
	gen   *attackgen.Result
	edges []Edge
	g     *Graph
}

var fixtures struct {
	sync.Mutex
	m map[int]*benchFixture
}

// fixture returns the attackgen graph of n nodes (seed 1, default shape), built once per run.
func fixture(b testing.TB, n int) *benchFixture {
	b.Helper()
	fixtures.Lock()
	defer fixtures.Unlock()
	if f := fixtures.m[n]; f != nil {
		return f
	}
	r := attackgen.Generate(attackgen.Config{Seed: 1, Nodes: n})
	edges := make([]Edge, len(r.Edges))
	for i, e := range r.Edges {
		edges[i] = Edge{From: e.From, To: e.To, P: e.P, Ref: int64(i)}
	}
	g, err := Build(len(r.Nodes), edges)
	if err != nil {
		b.Fatal(err)
	}
	if fixtures.m == nil {
		fixtures.m = map[int]*benchFixture{}
	}
	f := &benchFixture{gen: r, edges: edges, g: g}
	fixtures.m[n] = f
	return f
}

func sizes() []int {
	if *large {
		return []int{100_000, 1_000_000}
	}
	return []int{100_000}
}

func sizeName(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			for b.Loop() {
				if _, err := Build(len(f.gen.Nodes), f.edges); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.g.MemoryBytes())/float64(f.g.NumEdges()), "B/edge")
		})
	}
}

func BenchmarkWithChanges(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			c := Changes{RemoveEdges: []int64{1, 2, 3}, SetP: map[int64]float64{10: 0.01},
				AddEdges: []Edge{{From: 0, To: f.gen.Jewels[0], P: 0.9, Ref: -1}}}
			for b.Loop() {
				if _, err := f.g.WithChanges(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPotentials(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			for b.Loop() {
				f.g.computePotentials(f.gen.Jewels) // uncached
			}
		})
	}
}

// topKQueries are 20 queries: 10 from a random tenth of the entries to all the jewels (the
// first from all entries), and 10 from one random entry to one random jewel, where the paths
// are fewer and the spur searches work harder.
func topKQueries(f *benchFixture, k int) []Query {
	rng := rand.New(rand.NewPCG(1, 1))
	qs := []Query{{Sources: f.gen.Entries, Targets: f.gen.Jewels, K: k}}
	for range 9 {
		var src []int32
		for _, v := range f.gen.Entries {
			if rng.IntN(10) == 0 {
				src = append(src, v)
			}
		}
		qs = append(qs, Query{Sources: src, Targets: f.gen.Jewels, K: k})
	}
	for range 10 {
		e, j := f.gen.Entries[rng.IntN(len(f.gen.Entries))], f.gen.Jewels[rng.IntN(len(f.gen.Jewels))]
		qs = append(qs, Query{Sources: []int32{e}, Targets: []int32{j}, K: k})
	}
	return qs
}

// benchTopK runs the queries round-robin on warm potentials (computed before the clock starts
// for each query) and reports the latency p50, p95 and max.
func benchTopK(b *testing.B, k int) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			qs := topKQueries(f, k)
			ctx := context.Background()
			var lat []time.Duration
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				f.g.potentials(q.Targets) // warm epoch
				start := time.Now()
				paths, err := f.g.TopK(ctx, q)
				lat = append(lat, time.Since(start))
				if err != nil || len(paths) != k {
					b.Fatalf("%d paths, %v", len(paths), err)
				}
				i++
			}
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
	b.ReportMetric(q(1), "max-ms")
}

func BenchmarkTopK10(b *testing.B)  { benchTopK(b, 10) }
func BenchmarkTopK100(b *testing.B) { benchTopK(b, 100) }

// BenchmarkTopKChoke adds one target behind a single jewel, a choke point: every spur search
// at the jewel has no way around, which post-dominator pruning ends at once (the first query
// pays for the post-dominator tree: the max).
func BenchmarkTopKChoke(b *testing.B) {
	for _, n := range sizes() {
		for _, k := range []int{10, 100} {
			b.Run(fmt.Sprintf("%s/k%d", sizeName(n), k), func(b *testing.B) {
				f := fixture(b, n)
				x := int32(f.g.NumNodes())
				g, err := f.g.WithChanges(Changes{AddNodes: 1, AddEdges: []Edge{{From: f.gen.Jewels[0], To: x, P: 0.9}}})
				if err != nil {
					b.Fatal(err)
				}
				q := Query{Sources: f.gen.Entries, Targets: []int32{x}, K: k}
				g.potentials(q.Targets)
				ctx := context.Background()
				var lat []time.Duration
				for b.Loop() {
					start := time.Now()
					if paths, err := g.TopK(ctx, q); err != nil || len(paths) != k {
						b.Fatalf("%d paths, %v", len(paths), err)
					}
					lat = append(lat, time.Since(start))
				}
				reportLatency(b, lat)
			})
		}
	}
}

func BenchmarkDominators(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			for b.Loop() {
				if _, err := f.g.Dominators(f.gen.Entries); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMinCut cuts between the entries and the jewels, nodes at cost 1 and edges at
// cost 3 (some entries have edges straight to a jewel, so edges must be cuttable).
func BenchmarkMinCut(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			ctx := context.Background()
			var cut Cut
			for b.Loop() {
				var err error
				cut, err = f.g.MinCut(ctx, f.gen.Entries, f.gen.Jewels, nil, func(EdgeID) int64 { return 3 })
				if err != nil || cut.Infinite {
					b.Fatal(cut.Infinite, err)
				}
			}
			b.ReportMetric(float64(cut.Value), "cut-value")
			b.ReportMetric(float64(len(cut.Nodes)), "cut-nodes")
			b.ReportMetric(float64(len(cut.Edges)), "cut-edges")
		})
	}
}

func BenchmarkBlastRadius(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			ctx := context.Background()
			for b.Loop() {
				if _, err := f.g.BlastRadius(ctx, f.gen.Entries[:1], 0.01, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFixPlan(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			ctx := context.Background()
			q := Query{Sources: f.gen.Entries, Targets: f.gen.Jewels, K: 20}
			for b.Loop() {
				if _, err := f.g.FixPlan(ctx, q, FixOptions{MaxActions: 5}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
