package attackgen

import (
	"math"
	"reflect"
	"testing"
)

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Nodes: 5000}
	a, b := Generate(cfg), Generate(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same config generated different graphs")
	}
	c := Generate(Config{Seed: 8, Nodes: 5000})
	if reflect.DeepEqual(a.Edges, c.Edges) {
		t.Fatal("different seeds generated the same edges")
	}
}

func TestShape(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		nodes int
		edges int
	}{
		{"default", Config{Seed: 1}, DefaultNodes, DefaultNodes * DefaultOutDegree},
		{"100k", Config{Seed: 2, Nodes: 100_000}, 100_000, 600_000},
		{"degree 3.5", Config{Seed: 3, Nodes: 20_000, OutDegree: 3.5}, 20_000, 70_000},
		{"tiny", Config{Seed: 4, Nodes: 1}, MinNodes, MinNodes * DefaultOutDegree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Generate(tt.cfg)
			if len(r.Nodes) != tt.nodes || len(r.Edges) != tt.edges || len(r.Kinds) != tt.edges {
				t.Fatalf("%d nodes, %d edges, %d kinds; want %d, %d", len(r.Nodes), len(r.Edges), len(r.Kinds), tt.nodes, tt.edges)
			}
			checkNodes(t, r)
			checkEdges(t, r)
		})
	}
}

func checkNodes(t *testing.T, r *Result) {
	t.Helper()
	n := float64(len(r.Nodes))
	want := map[Layer]float64{Entry: EntryShare, Workload: WorkloadShare, Identity: IdentityShare,
		Credential: CredentialShare, Jewel: JewelShare, Data: 1 - EntryShare - WorkloadShare - IdentityShare - CredentialShare - JewelShare}
	var count [numLayers]int
	names := make(map[string]bool, len(r.Nodes))
	for i, nd := range r.Nodes {
		if nd.Index != int32(i) {
			t.Fatalf("node %d has index %d", i, nd.Index)
		}
		if names[nd.Name] {
			t.Fatalf("duplicate name %q", nd.Name)
		}
		names[nd.Name] = true
		if i > 0 && nd.Layer < r.Nodes[i-1].Layer {
			t.Fatalf("layers not contiguous at %d", i)
		}
		count[nd.Layer]++
	}
	for l := range numLayers {
		if count[l] == 0 {
			t.Errorf("no %s node", l)
		}
		if got := float64(count[l]) / n; count[l] > 1 && math.Abs(got-want[l]) > 0.01 {
			t.Errorf("%s: share %.4f, want %.4f", l, got, want[l])
		}
		if int(r.Layers[l][1]-r.Layers[l][0]) != count[l] {
			t.Errorf("%s: range %v, count %d", l, r.Layers[l], count[l])
		}
	}
	if len(r.Entries) != count[Entry] || len(r.Jewels) != count[Jewel] {
		t.Errorf("%d entries, %d jewels; want %d, %d", len(r.Entries), len(r.Jewels), count[Entry], count[Jewel])
	}
	for _, v := range r.Entries {
		if r.LayerOf(v) != Entry {
			t.Errorf("entry %d is a %s", v, r.LayerOf(v))
		}
	}
	for _, v := range r.Jewels {
		if r.LayerOf(v) != Jewel {
			t.Errorf("jewel %d is a %s", v, r.LayerOf(v))
		}
	}
	if r.Nodes[0].Name != "entry-0" || r.Nodes[len(r.Nodes)-1].Name != "jewel-"+itoa(count[Jewel]-1) {
		t.Errorf("names %q .. %q", r.Nodes[0].Name, r.Nodes[len(r.Nodes)-1].Name)
	}
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func checkEdges(t *testing.T, r *Result) {
	t.Helper()
	var kinds [4]int
	epss, high := 0, 0
	for i, e := range r.Edges {
		if e.From == e.To {
			t.Fatalf("edge %d is a self-loop", i)
		}
		if !(e.P > 0.001 && e.P <= 1) {
			t.Fatalf("edge %d: p = %v", i, e.P)
		}
		if e.P < 0.7 {
			epss++
		}
		if e.P > 0.7 {
			high++
		}
		ft, tt := r.LayerOf(e.From).tier(), r.LayerOf(e.To).tier()
		k := r.Kinds[i]
		var ok bool
		switch k {
		case Forward:
			ok = tt == ft+1
		case Lateral:
			ok = tt == ft
		case Backward:
			ok = tt == ft-1
		case Skip:
			ok = tt >= ft+2
		}
		if !ok {
			t.Fatalf("edge %d (%v): tiers %d -> %d", i, k, ft, tt)
		}
		kinds[k]++
	}
	m := float64(len(r.Edges))
	// tol is a 5-sigma binomial tolerance plus what fallback kinds shift.
	tol := func(p float64) float64 { return 5*math.Sqrt(p*(1-p)/m) + 0.005 }
	for k, want := range []float64{ForwardShare, LateralShare, BackwardShare, SkipShare} {
		if got := float64(kinds[k]) / m; math.Abs(got-want) > tol(want) {
			t.Errorf("kind %d: share %.4f, want %.4f", k, got, want)
		}
	}
	// An EPSS-like p is below 0.7 when u² < ln 700 / ln 970, so for 0.3 × 0.9757 of the edges.
	wantLow := DefaultEPSSFraction * math.Sqrt(math.Log(700)/math.Log(970))
	if got := float64(epss) / m; math.Abs(got-wantLow) > tol(wantLow) {
		t.Errorf("share of edges with p < 0.7: %.4f, want %.4f", got, wantLow)
	}
	if got := float64(high) / m; math.Abs(got-(1-wantLow)) > tol(wantLow) {
		t.Errorf("share of edges with p > 0.7: %.4f, want %.4f", got, 1-wantLow)
	}
}

// TestJewelsReachable checks that in the default configuration every jewel is reachable from
// the entries (a breadth-first search over the edges).
func TestJewelsReachable(t *testing.T) {
	for seed := range uint64(3) {
		r := Generate(Config{Seed: seed, Nodes: 20_000})
		n := len(r.Nodes)
		off := make([]int32, n+1)
		for _, e := range r.Edges {
			off[e.From+1]++
		}
		for i := range n {
			off[i+1] += off[i]
		}
		adj := make([]int32, len(r.Edges))
		pos := append([]int32(nil), off[:n]...)
		for _, e := range r.Edges {
			adj[pos[e.From]] = e.To
			pos[e.From]++
		}
		seen := make([]bool, n)
		queue := append([]int32(nil), r.Entries...)
		for _, v := range queue {
			seen[v] = true
		}
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range adj[off[v]:off[v+1]] {
				if !seen[w] {
					seen[w] = true
					queue = append(queue, w)
				}
			}
		}
		for _, j := range r.Jewels {
			if !seen[j] {
				t.Errorf("seed %d: jewel %d unreachable from the entries", seed, j)
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(Config{Seed: 1, Nodes: 100_000})
	}
}
