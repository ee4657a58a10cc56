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
	flag.Parse()
	if err := run(*components, *deps); err != nil {
		fmt.Fprintln(os.Stderr, "bench-ingest:", err)
		os.Exit(1)
	}
}

func run(components, deps int) error {
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
	stamp := time.Now().UnixNano()
	ingestTwin, rawTwin := fmt.Sprintf("bench-ingest-%d", stamp), fmt.Sprintf("bench-raw-%d", stamp)
	defer func() {
		for _, t := range []string{ingestTwin, rawTwin} {
			_, _ = graph.Twins{DB: db}.Delete(ctx, t)
		}
	}()
	fmt.Fprintf(os.Stderr, "bench-ingest: SBOM of %d components, %d dependencies, %d vulnerabilities (%.1f MiB)\n",
		want.Components, want.Dependencies, want.Vulnerabilities, float64(len(sbom))/(1<<20))

	// The pipeline: POST with ?wait until DONE.
	t0 := time.Now()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ingest?wait=600s&twin="+ingestTwin, bytes.NewReader(sbom))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var out struct {
		Job jobs.Job `json:"job"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	ingestTime := time.Since(t0)
	if err != nil || out.Job.State != jobs.Done {
		return fmt.Errorf("ingest ended %s (%v): %+v", out.Job.State, err, out.Job.Errors)
	}
	fmt.Fprintf(os.Stderr, "bench-ingest: pipeline done in %s\n", ingestTime.Round(time.Millisecond))

	// The same rows, raw: one transaction of UNWIND … MERGE per label and per edge type.
	doc, err := formats.Parse("cyclonedx", sbom)
	if err != nil {
		return err
	}
	batch, _ := pipeline.Assemble(doc, "")
	if _, _, err := (graph.Twins{DB: db}).Ensure(ctx, rawTwin, ""); err != nil {
		return err
	}
	t1 := time.Now()
	if err := rawWrite(ctx, db, rawTwin, batch); err != nil {
		return err
	}
	rawTime := time.Since(t1)
	fmt.Fprintf(os.Stderr, "bench-ingest: raw write done in %s\n", rawTime.Round(time.Millisecond))

	writeTwin := fmt.Sprintf("bench-write-%d", stamp)
	defer func() { _, _ = graph.Twins{DB: db}.Delete(ctx, writeTwin) }()
	if _, _, err := (graph.Twins{DB: db}).Ensure(ctx, writeTwin, ""); err != nil {
		return err
	}
	t2 := time.Now()
	if _, err := db.Write(ctx, writeTwin, batch, graph.WriteOptions{Source: "bench"}); err != nil {
		return err
	}
	writeTime := time.Since(t2)
	fmt.Printf("graph_write_seconds=%.3f\n", writeTime.Seconds())
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
	fmt.Printf("sbom_components=%d\nsbom_dependencies=%d\nsbom_bytes=%d\nnodes=%d\nedges=%d\n", want.Components, want.Dependencies, len(sbom), a.TotalNodes(), a.TotalEdges())
	fmt.Printf("ingest_seconds=%.3f\nraw_seconds=%.3f\ningest_vs_raw_ratio=%.3f\n", ingestTime.Seconds(), rawTime.Seconds(), rawTime.Seconds()/ingestTime.Seconds())
	return nil
}

// rawWrite is what a hand-written loader would do: UNWIND … MERGE on the natural keys, setting
// the properties, without validation, provenance or a queue.
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
				res, err := tx.Run(ctx, fmt.Sprintf("UNWIND $rows AS row MERGE (n:%s {twin: $twin, %s: row.key}) SET n += row.props", label, k.Key),
					map[string]any{"twin": twin, "rows": rows})
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
MERGE (a)-[r:%s]->(b) SET r += row.props`, g.from, fk.Key, g.to, tk.Key, g.typ), map[string]any{"twin": twin, "rows": rows})
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
