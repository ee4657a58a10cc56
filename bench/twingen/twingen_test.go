package twingen_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sectwin/sectwin/bench/twingen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// rows materialises a twin.
func rows(t *twingen.Twin) (nodes []graph.NodeRow, edges []graph.EdgeRow) {
	for b := range t.Batches(0) {
		nodes = append(nodes, b.Nodes...)
		edges = append(edges, b.Edges...)
	}
	return nodes, edges
}

func TestDeterministic(t *testing.T) {
	cfg := twingen.Config{Seed: 7, Nodes: 10_000}
	n1, e1 := rows(twingen.Generate(cfg))
	n2, e2 := rows(twingen.Generate(cfg))
	if !reflect.DeepEqual(n1, n2) || !reflect.DeepEqual(e1, e2) {
		t.Fatal("the same config generated different twins")
	}
	n3, _ := rows(twingen.Generate(twingen.Config{Seed: 8, Nodes: 10_000}))
	if reflect.DeepEqual(n1, n3) {
		t.Fatal("different seeds generated the same twin")
	}
}

func TestNodeCount(t *testing.T) {
	for _, target := range []int{10_000, 35_000, 100_000} {
		tw := twingen.Generate(twingen.Config{Seed: 1, Nodes: target})
		if n := tw.Stats().TotalNodes(); n < target*95/100 || n > target*105/100 {
			t.Errorf("target %d: %d nodes", target, n)
		}
		if tw.Stats().TotalNodes() != tw.Nodes() || tw.Stats().TotalEdges() != tw.Edges() {
			t.Errorf("target %d: Stats disagrees with Nodes/Edges", target)
		}
	}
}

func TestShape(t *testing.T) {
	tw := twingen.Generate(twingen.Config{Seed: 3, Nodes: 50_000})
	s := tw.Stats()
	share := func(label string) float64 { return float64(s.Nodes[label]) / float64(s.TotalNodes()) }
	if f := share(graph.LabelComponent); f < 0.83 || f > 0.87 {
		t.Errorf("components are %.3f of the nodes", f)
	}
	if f := share(graph.LabelVulnerability); f < 0.07 || f > 0.09 {
		t.Errorf("vulnerabilities are %.3f of the nodes", f)
	}
	if z := s.Nodes[graph.LabelZone]; z < 5 || z > 20 {
		t.Errorf("%d zones", z)
	}
	for _, l := range []string{graph.LabelArtifact, graph.LabelService, graph.LabelHost, graph.LabelIdentity,
		graph.LabelCredential, graph.LabelDataStore, graph.LabelFinding} {
		if s.Nodes[l] == 0 {
			t.Errorf("no %s", l)
		}
	}
	nodes, edges := rows(tw)
	byKey := map[graph.NodeRef]graph.NodeRow{}
	for _, n := range nodes {
		byKey[graph.NodeRef{Label: n.Label, Key: n.Key}] = n
	}
	out := map[string]map[graph.NodeRef]int{}
	in := map[string]map[graph.NodeRef]int{}
	internetExposed := 0
	for _, e := range edges {
		if out[e.Type] == nil {
			out[e.Type], in[e.Type] = map[graph.NodeRef]int{}, map[graph.NodeRef]int{}
		}
		out[e.Type][e.From]++
		in[e.Type][e.To]++
		if e.Type == "EXPOSES" && byKey[e.To].Props["internet"] == true {
			internetExposed++
		}
	}
	for a, k := range out["CONTAINS"] {
		if k < 50 || k > 400 {
			t.Errorf("artifact %s contains %d components", a.Key, k)
		}
	}
	for _, n := range nodes {
		ref := graph.NodeRef{Label: n.Label, Key: n.Key}
		if n.Label == graph.LabelService && out["RUNS"][ref] != 1 {
			t.Errorf("service %s runs %d artifacts", n.Key, out["RUNS"][ref])
		}
		if n.Label == graph.LabelHost && out["IN_ZONE"][ref] != 1 {
			t.Errorf("host %s is in %d zones", n.Key, out["IN_ZONE"][ref])
		}
	}
	if f := float64(internetExposed) / float64(s.Nodes[graph.LabelService]); f < 0.02 || f > 0.1 {
		t.Errorf("%.3f of the services are exposed to the internet", f)
	}
	if r := s.Edges["REACHES"]; r > 4*s.Nodes[graph.LabelZone] {
		t.Errorf("%d REACHES between %d zones: not sparse", r, s.Nodes[graph.LabelZone])
	}
	// AFFECTS: mostly one to three components per vulnerability.
	few := 0
	for _, k := range out["AFFECTS"] {
		if k >= 1 && k <= 3 {
			few++
		}
	}
	if f := float64(few) / float64(s.Nodes[graph.LabelVulnerability]); f < 0.8 {
		t.Errorf("only %.2f of the vulnerabilities affect 1 to 3 components", f)
	}
	// Scores plausibly distributed.
	sev := map[string]int{}
	kev, lowEPSS, vulns := 0, 0, 0
	for _, n := range nodes {
		if n.Label != graph.LabelVulnerability {
			continue
		}
		vulns++
		sev[n.Props["severity"].(string)]++
		if n.Props["kev"] == true {
			kev++
		}
		if e, ok := n.Props["epss"].(float64); ok && e < 0.05 {
			lowEPSS++
		}
		if c, ok := n.Props["cvssScore"].(float64); ok && (c < 0 || c > 10) {
			t.Errorf("cvss %v", c)
		}
	}
	if f := float64(sev["HIGH"]+sev["CRITICAL"]) / float64(vulns); f < 0.3 || f > 0.7 {
		t.Errorf("HIGH and CRITICAL are %.2f of the vulnerabilities: %v", f, sev)
	}
	if sev["CRITICAL"] > vulns/4 || sev["LOW"] == 0 || sev["UNKNOWN"] == 0 {
		t.Errorf("severities %v", sev)
	}
	if f := float64(kev) / float64(vulns); f == 0 || f > 0.05 {
		t.Errorf("KEV share %.3f", f)
	}
	if f := float64(lowEPSS) / float64(vulns); f < 0.6 {
		t.Errorf("only %.2f of the vulnerabilities have EPSS below 0.05", f)
	}
}

// TestHeavyTail: preferential attachment gives DEPENDS_ON a heavy-tailed in-degree (a few core
// packages depended on by very many), while out-degrees stay mostly between 3 and 15.
func TestHeavyTail(t *testing.T) {
	tw := twingen.Generate(twingen.Config{Seed: 11, Nodes: 50_000})
	nodes, edges := rows(tw)
	in, out := map[string]int{}, map[string]int{}
	for _, e := range edges {
		if e.Type == "DEPENDS_ON" {
			in[e.To.Key]++
			out[e.From.Key]++
		}
	}
	var ins, outs []int
	for _, n := range nodes {
		if n.Label == graph.LabelComponent {
			ins = append(ins, in[n.Key])
			outs = append(outs, out[n.Key])
		}
	}
	slices.Sort(ins)
	total := 0
	for _, d := range ins {
		total += d
	}
	median, maxIn := ins[len(ins)/2], ins[len(ins)-1]
	top := 0
	for _, d := range ins[len(ins)-len(ins)/100:] {
		top += d
	}
	t.Logf("DEPENDS_ON in-degree: median %d, p99 %d, max %d; top 1%% of components take %.0f%% of the edges",
		median, ins[len(ins)*99/100], maxIn, 100*float64(top)/float64(total))
	if maxIn < 100*max(median, 1) {
		t.Errorf("max in-degree %d is not ≫ median %d", maxIn, median)
	}
	if float64(top) < 0.2*float64(total) {
		t.Errorf("the top 1%% of components take only %d of %d DEPENDS_ON", top, total)
	}
	leaves, mid, nonLeaves := 0, 0, 0
	for _, d := range outs {
		switch {
		case d == 0:
			leaves++
		default:
			nonLeaves++
			if d >= 3 && d <= 15 {
				mid++
			}
		}
	}
	t.Logf("out-degree: %d leaves, %d of %d others between 3 and 15", leaves, mid, nonLeaves)
	if float64(mid) < 0.75*float64(nonLeaves) {
		t.Errorf("only %d of %d components with dependencies have 3 to 15", mid, nonLeaves)
	}
	if leaves == 0 || leaves > len(outs)/4 {
		t.Errorf("%d leaves of %d components", leaves, len(outs))
	}
}

// TestRowsValid: every batch passes the model's validation, every edge joins labels its kind
// allows, between nodes of the twin, and no two edges would MERGE into one.
func TestRowsValid(t *testing.T) {
	tw := twingen.Generate(twingen.Config{Seed: 5, Nodes: 20_000})
	keys := map[graph.NodeRef]bool{}
	seen := map[string]bool{}
	batches := 0
	for b := range tw.Batches(5000) {
		batches++
		if len(b.Nodes)+len(b.Edges) > 5000 || (len(b.Nodes) > 0 && len(b.Edges) > 0) {
			t.Fatalf("batch %d: %d nodes and %d edges", batches, len(b.Nodes), len(b.Edges))
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("batch %d: %v", batches, err)
		}
		for _, n := range b.Nodes {
			r := graph.NodeRef{Label: n.Label, Key: n.Key}
			if keys[r] {
				t.Fatalf("node %v twice", r)
			}
			keys[r] = true
		}
		for _, e := range b.Edges {
			ek, ok := graph.EdgeKindOf(e.Type)
			if !ok || !ek.Allows(e.From.Label, e.To.Label) {
				t.Fatalf("%s from %s to %s is not allowed", e.Type, e.From.Label, e.To.Label)
			}
			if !keys[e.From] || !keys[e.To] {
				t.Fatalf("%s %v -> %v: an endpoint is not among the nodes written before", e.Type, e.From, e.To)
			}
			id := fmt.Sprint(e.Type, e.From, e.To)
			for _, kp := range ek.KeyProps {
				id += fmt.Sprint(e.Props[kp])
			}
			if seen[id] {
				t.Fatalf("edge %s twice", id)
			}
			seen[id] = true
		}
	}
	if len(keys) != tw.Nodes() || len(seen) != tw.Edges() || batches != (tw.Nodes()+4999)/5000+(tw.Edges()+4999)/5000 {
		t.Fatalf("%d nodes, %d edges in %d batches; want %d, %d", len(keys), len(seen), batches, tw.Nodes(), tw.Edges())
	}
}

func TestInputs(t *testing.T) {
	tw := twingen.Generate(twingen.Config{Seed: 2, Nodes: 20_000})
	deep := tw.DeepPurls(8, 3)
	if len(deep) != 8 {
		t.Fatalf("DeepPurls: %v", deep)
	}
	for _, p := range deep {
		n, d := tw.DependencyCount(p, 3)
		if d != 3 || n < 20 {
			t.Errorf("%s reaches %d components, at most %d deep", p, n, d)
		}
	}
	vulns := tw.VulnsWithServices(8, 100)
	if len(vulns) == 0 {
		t.Fatal("no vulnerability reaches services")
	}
	for _, v := range vulns {
		if s := tw.AffectedServices(v); len(s) < 2 || len(s) > 100 {
			t.Errorf("%s reaches %d services", v, len(s))
		}
	}
	prefixes := tw.PurlPrefixes(101)
	if !slices.Contains(prefixes, "pkg:npm/") || len(prefixes) < 3 {
		t.Errorf("prefixes %v", prefixes)
	}
	if twingen.Name(tw.Config()) != "gen-s2-n20000" {
		t.Errorf("name %q", twingen.Name(tw.Config()))
	}
}

// TestWrite writes a small twin into the real Neo4j, checks the counts, and that a second Load
// reuses it.
func TestWrite(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tw := twingen.Generate(twingen.Config{Seed: 4, Nodes: 5000, BatchRows: 8000})
	calls, last := 0, 0
	reused, err := tw.Load(ctx, db, twin, false, func(done, total int) {
		calls++
		if done <= last || total != tw.Rows() {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	})
	if err != nil || reused {
		t.Fatalf("load: reused %v, %v", reused, err)
	}
	if last != tw.Rows() || calls != (tw.Nodes()+7999)/8000+(tw.Edges()+7999)/8000 {
		t.Errorf("progress ended at %d of %d after %d calls", last, tw.Rows(), calls)
	}
	got, err := db.Stats(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}
	want := tw.Stats()
	if !maps.Equal(got.Nodes, want.Nodes) || !maps.Equal(got.Edges, want.Edges) {
		t.Fatalf("Neo4j holds\n%v\n%v\nwant\n%v\n%v", got.Nodes, got.Edges, want.Nodes, want.Edges)
	}
	t.Logf("wrote %d nodes and %d edges", got.TotalNodes(), got.TotalEdges())
	if reused, err := tw.Load(ctx, db, twin, false, nil); err != nil || !reused {
		t.Fatalf("second load: reused %v, %v", reused, err)
	}
	// Another config's twin is not taken for this one.
	other := twingen.Generate(twingen.Config{Seed: 5, Nodes: 5000})
	if ok, err := other.Present(ctx, db, twin); err != nil || ok {
		t.Fatalf("Present for another seed: %v, %v", ok, err)
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		twingen.Generate(twingen.Config{Seed: 1, Nodes: 100_000})
	}
}

func BenchmarkMaterialise100k(b *testing.B) {
	tw := twingen.Generate(twingen.Config{Seed: 1, Nodes: 100_000})
	for b.Loop() {
		for range tw.Batches(0) {
		}
	}
}
