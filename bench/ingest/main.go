// Command ingest measures the ingest pipeline against the database's own write speed: it posts
// a generated CycloneDX SBOM (10 000 components, 50 000 dependency edges by default) to the real
// POST /ingest, times it until the job is DONE, then writes the same nodes and edges into another
// twin with plain UNWIND … MERGE statements through the driver, in the same run. It prints
// name=value lines, ending with ingest_vs_raw_ratio (raw time over ingest time; goal ≥ 0.8).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/bench/sbomgen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/formats"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/pipeline"
	"github.com/sectwin/sectwin/ingest/webhook"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/migrations"
	"github.com/sectwin/sectwin/resolvers"
)

func main() {
	components := flag.Int("components", 10_000, "components in the SBOM")
	deps := flag.Int("dependencies", 50_000, "dependency edges in the SBOM")
	rounds := flag.Int("rounds", 5, "rounds of (pipeline, raw write), alternating which goes first")
	flag.Parse()
	if err := run(*components, *deps, max(*rounds, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "bench-ingest:", err)
		os.Exit(1)
	}
}

func run(components, deps, rounds int) error {
	ctx := context.Background()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		return fmt.Errorf("set NEO4J_URI, or run 'make bench-ingest', which starts Neo4j")
	}
	db, err := graph.Open(graph.Config{URI: uri})
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		return err
	}
	if _, err := (&graph.Migrator{DB: db, Log: zerolog.Nop()}).Apply(ctx, migs); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-ingest-nats")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := bus.Open(ctx, bus.Config{StoreDir: dir, Name: "bench-ingest", Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer b.Close(ctx)
	js, err := jobs.Open(ctx, b.JetStream())
	if err != nil {
		return err
	}
	docs, err := pipeline.OpenDocs(ctx, b.JetStream())
	if err != nil {
		return err
	}
	p := &pipeline.Pipeline{Bus: b, Jobs: js, Docs: docs, Graph: db, Parse: formats.Parse, Log: zerolog.Nop(), MaxDeliver: 5}
	stop, err := b.Consume(ctx, bus.ConsumerSpec{Stream: bus.StreamIngest, Durable: "bench", AckWait: 5 * time.Minute}, p.Handle)
	if err != nil {
		return err
	}
	defer stop()
	store := graph.Tokens{DB: db}
	secret, rec, err := auth.Issue(ctx, store, auth.IssueRequest{Name: "bench-ingest", Scopes: []auth.Scope{auth.ScopeIngest, auth.ScopeRead}, Twins: []string{"*"}}, time.Now())
	if err != nil {
		return err
	}
	defer db.AutoCommit(ctx, "MATCH (t:ApiToken {id: $id}) DELETE t", map[string]any{"id": rec.ID})
	srv := httptest.NewServer(server.New(server.Options{Log: zerolog.Nop(), Auth: auth.NewAuthenticator(store, time.Minute),
		Resolver: &resolvers.Resolver{Graph: db}, MaxComplexity: 1000,
		Ingest: &webhook.Handler{Pipeline: p, Parse: formats.Parse, Graph: db}}))
	defer srv.Close()

	sbom, want := sbomgen.CycloneDX(sbomgen.Spec{Seed: 42, Components: components, Dependencies: deps, Vulnerabilities: components / 50, Subject: "bench"})
	doc, err := formats.Parse("cyclonedx", sbom)
	if err != nil {
		return err
	}
	batch, _ := pipeline.Assemble(doc, "")
	fmt.Fprintf(os.Stderr, "bench-ingest: SBOM of %d components, %d dependencies, %d vulnerabilities (%.1f MiB), %d rounds\n",
		want.Components, want.Dependencies, want.Vulnerabilities, float64(len(sbom))/(1<<20), rounds)

	// Rounds alternate the two paths, each into a fresh twin, so that the machine's noise and
	// the database's warm-up hit both alike; medians are compared.
	var ingestTimes, rawTimes []time.Duration
	var nodes, edges int
	for round := range rounds {
		stamp := time.Now().UnixNano()
		ingestTwin, rawTwin := fmt.Sprintf("bench-ingest-%d", stamp), fmt.Sprintf("bench-raw-%d", stamp)
		first, second := "ingest", "raw"
		if round%2 == 1 {
			first, second = second, first
		}
		for _, path := range []string{first, second} {
			t0 := time.Now()
			if path == "ingest" {
				if err := postAndWait(srv.URL, secret, ingestTwin, sbom); err != nil {
					return err
				}
				ingestTimes = append(ingestTimes, time.Since(t0))
			} else {
				if _, _, err := (graph.Twins{DB: db}).Ensure(ctx, rawTwin, ""); err != nil {
					return err
				}
				t0 = time.Now()
				if err := rawWrite(ctx, db, rawTwin, batch); err != nil {
					return err
				}
				rawTimes = append(rawTimes, time.Since(t0))
			}
		}
		a, err := db.Stats(ctx, ingestTwin)
		if err != nil {
			return err
		}
		r, err := db.Stats(ctx, rawTwin)
		if err != nil {
			return err
		}
		if a.TotalNodes() != r.TotalNodes() || a.TotalEdges() != r.TotalEdges() {
			return fmt.Errorf("the two writes differ: pipeline %d nodes %d edges, raw %d nodes %d edges", a.TotalNodes(), a.TotalEdges(), r.TotalNodes(), r.TotalEdges())
		}
		nodes, edges = a.TotalNodes(), a.TotalEdges()
		for _, t := range []string{ingestTwin, rawTwin} {
			if _, err := (graph.Twins{DB: db}).Delete(ctx, t); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "bench-ingest: round %d: pipeline %s, raw %s\n", round+1, ingestTimes[round].Round(time.Millisecond), rawTimes[round].Round(time.Millisecond))
	}
	ingestTime, rawTime := median(ingestTimes), median(rawTimes)
	fmt.Printf("sbom_components=%d\nsbom_dependencies=%d\nsbom_bytes=%d\nnodes=%d\nedges=%d\nrounds=%d\n", want.Components, want.Dependencies, len(sbom), nodes, edges, rounds)
	fmt.Printf("ingest_seconds=%.3f\nraw_seconds=%.3f\ningest_vs_raw_ratio=%.3f\n", ingestTime.Seconds(), rawTime.Seconds(), rawTime.Seconds()/ingestTime.Seconds())
	return nil
}

// rawWrite is what a hand-written loader would do: UNWIND … MERGE on the natural keys, setting
// the same properties, provenance included (as plain values: a raw loader keeps no history),
// without validation or a queue.
func rawWrite(ctx context.Context, db *graph.DB, twin string, b graph.Batch) error {
	nodes := map[string][]map[string]any{}
	for _, n := range b.Nodes {
		nodes[n.Label] = append(nodes[n.Label], map[string]any{"key": n.Key, "props": n.Props})
	}
	type group struct{ typ, from, to string }
	edges := map[group][]map[string]any{}
	for _, e := range b.Edges {
		g := group{e.Type, e.From.Label, e.To.Label}
		edges[g] = append(edges[g], map[string]any{"from": e.From.Key, "to": e.To.Key, "props": e.Props})
	}
	_, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		for _, label := range slices.Sorted(maps.Keys(nodes)) {
			k, _ := graph.KindOf(label)
			for rows := range slices.Chunk(nodes[label], 5000) {
				res, err := tx.Run(ctx, fmt.Sprintf("UNWIND $rows AS row MERGE (n:%s {twin: $twin, %s: row.key}) SET n += row.props, n.sources = $sources, n.firstSeen = $now, n.lastSeen = $now", label, k.Key),
					map[string]any{"twin": twin, "rows": rows, "sources": []string{"raw"}, "now": time.Now().UTC()})
				if err != nil {
					return nil, err
				}
				if _, err := res.Consume(ctx); err != nil {
					return nil, err
				}
			}
		}
		for g, list := range edges {
			fk, _ := graph.KindOf(g.from)
			tk, _ := graph.KindOf(g.to)
			for rows := range slices.Chunk(list, 5000) {
				res, err := tx.Run(ctx, fmt.Sprintf(`UNWIND $rows AS row
MATCH (a:%s {twin: $twin, %s: row.from}) MATCH (b:%s {twin: $twin, %s: row.to})
MERGE (a)-[r:%s]->(b) SET r += row.props, r.sources = $sources, r.firstSeen = $now, r.lastSeen = $now`, g.from, fk.Key, g.to, tk.Key, g.typ),
					map[string]any{"twin": twin, "rows": rows, "sources": []string{"raw"}, "now": time.Now().UTC()})
				if err != nil {
					return nil, err
				}
				if _, err := res.Consume(ctx); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	})
	return err
}

// postAndWait posts the SBOM with ?wait and checks the job is DONE.
func postAndWait(base, token, twin string, sbom []byte) error {
	req, _ := http.NewRequest(http.MethodPost, base+"/ingest?wait=600s&twin="+twin, bytes.NewReader(sbom))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Job jobs.Job `json:"job"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Job.State != jobs.Done {
		return fmt.Errorf("ingest ended %s (%v): %+v", out.Job.State, err, out.Job.Errors)
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
