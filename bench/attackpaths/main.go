// Command attackpaths benchmarks attack-path analysis on seeded synthetic attack graphs
// (bench/attackgen) stored in the real Neo4j: the projection from Neo4j into the engine, top-10
// paths through the engine and through GraphQL (the real server, in-process), a full report run,
// and, for contrast, Cypher SHORTEST 10 by hop count for one entry→jewel pair. It prints
// name=value lines; the last is top10_graphql_p95_ms_100k.
//
//	go run ./bench/attackpaths [--sizes 100000,1000000] [--seed 1] [--iterations 200]
//
// Graphs are stored as twins named after their seed and size and reused by later runs. Entry
// nodes are zones marked internet, jewels data stores marked crown jewel, the rest services,
// identities, credentials and data stores; steps are ATTACK relationships of rule "synthetic",
// which derivation leaves alone.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/bench/attackgen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/migrations"
)

func main() {
	sizes := flag.String("sizes", "100000,1000000", "graph sizes in nodes (six edges per node), comma-separated")
	seed := flag.Uint64("seed", 1, "generator seed")
	iterations := flag.Int("iterations", 200, "measured queries per measurement")
	flag.Parse()
	if err := run(*sizes, *seed, *iterations); err != nil {
		fmt.Fprintln(os.Stderr, "bench-attackpaths:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-attackpaths: "+format+"\n", args...)
}

func run(sizeList string, seed uint64, iterations int) error {
	ctx := context.Background()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		uri = "bolt://127.0.0.1:7687"
	}
	db, err := graph.Open(graph.Config{URI: uri, User: os.Getenv("NEO4J_USER"), Password: os.Getenv("NEO4J_PASSWORD")})
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("%w (start one with scripts/neo4j-local.sh start)", err)
	}
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		return err
	}
	if _, err := (&graph.Migrator{DB: db, Log: zerolog.Nop()}).Apply(ctx, migs); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sectwin-bench-attackpaths-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := bus.Open(ctx, bus.Config{StoreDir: dir, Name: "bench-attackpaths", Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx))
	api := apitest.New(db, b, apitest.Options{Log: zerolog.Nop()})
	defer api.Close()

	var lines []string
	emit := func(name string, v any) { lines = append(lines, fmt.Sprintf("%s=%v", name, v)) }
	var last string
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < attackgen.MinNodes {
			return fmt.Errorf("size %q is not a number of nodes ≥ %d", s, attackgen.MinNodes)
		}
		suffix := sizeName(n)
		res := attackgen.Generate(attackgen.Config{Seed: seed, Nodes: n})
		twin := fmt.Sprintf("bench-attack-%d-%s", seed, suffix)
		if err := store(ctx, db, twin, res); err != nil {
			return err
		}
		token, err := api.Token([]auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
		if err != nil {
			return err
		}

		// Projection from Neo4j, with the heap it adds.
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		snap, err := api.Attacks.Project(ctx, twin)
		if err != nil {
			return err
		}
		project := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		g := snap.Graph()
		logf("%s: projected %d nodes and %d steps in %s", twin, g.NumNodes(), g.NumEdges(), project.Round(time.Millisecond))
		emit("nodes_"+suffix, g.NumNodes())
		emit("edges_"+suffix, g.NumEdges())
		emit("project_seconds_"+suffix, fmt.Sprintf("%.2f", project.Seconds()))
		emit("engine_bytes_per_edge_"+suffix, fmt.Sprintf("%.1f", float64(g.MemoryBytes())/float64(g.NumEdges())))
		emit("projection_heap_bytes_per_edge_"+suffix, fmt.Sprintf("%.1f", float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(g.NumEdges())))

		// Top-10 from one entry (rotating) to every jewel, through the engine.
		rng := rand.New(rand.NewPCG(seed, 7))
		// The generator numbers nodes its own way; the projection by internal id.
		toSnap := func(gen []int32) ([]int32, error) {
			out := make([]int32, len(gen))
			for i, x := range gen {
				l, _ := labelOf(res.Nodes[x].Layer)
				j, ok := snap.Lookup(graph.NodeRef{Label: l, Key: res.Nodes[x].Name})
				if !ok {
					return nil, fmt.Errorf("generated node %s is not in the projection", res.Nodes[x].Name)
				}
				out[i] = j
			}
			return out, nil
		}
		entries := res.Entries
		pick := func() int32 { return entries[rng.IntN(len(entries))] }
		snapEntries, err := toSnap(entries)
		if err != nil {
			return err
		}
		jewels, err := toSnap(res.Jewels)
		if err != nil {
			return err
		}
		engine := make([]time.Duration, 0, iterations)
		enginePaths := 0
		for i := 0; i < iterations+20; i++ {
			src := snapEntries[rng.IntN(len(snapEntries))]
			t := time.Now()
			paths, err := g.TopK(ctx, attackpath.Query{Sources: []int32{src}, Targets: jewels, K: 10})
			if err != nil {
				return err
			}
			enginePaths += len(paths)
			if i >= 20 {
				engine = append(engine, time.Since(t))
			}
		}
		if enginePaths == 0 {
			return fmt.Errorf("the engine found no path in %d queries: the benchmark measures nothing", iterations+20)
		}
		emit("top10_engine_paths_"+suffix, enginePaths)
		emit("top10_engine_p50_ms_"+suffix, ms(pct(engine, 50)))
		emit("top10_engine_p95_ms_"+suffix, ms(pct(engine, 95)))

		// The same through GraphQL, with every hop explained.
		const q = `query($t: String!, $e: ID!) { attackPaths(twin: $t, from: {ids: [$e]}, k: 10) {
  paths { rank likelihood explanation entry { id } target { id } hops { from { id } to { id } probability rule technique explanation } } } }`
		gq := make([]time.Duration, 0, iterations)
		found := 0
		for i := 0; i < iterations+20; i++ {
			e := res.Nodes[pick()].Name
			t := time.Now()
			r, err := api.Query(ctx, token, q, map[string]any{"t": twin, "e": graph.ID(graph.LabelZone, twin, e)})
			if err != nil {
				return err
			}
			if len(r.Errors) > 0 || r.Status != http.StatusOK {
				return fmt.Errorf("attackPaths: HTTP %d %+v", r.Status, r.Errors)
			}
			if i >= 20 {
				gq = append(gq, time.Since(t))
			}
			var out struct {
				AttackPaths struct{ Paths []struct{ Rank int } }
			}
			if err := json.Unmarshal(r.Data, &out); err != nil {
				return fmt.Errorf("attackPaths: %w", err)
			}
			found += len(out.AttackPaths.Paths)
		}
		if found == 0 {
			return fmt.Errorf("attackPaths through GraphQL found no path in %d queries: the benchmark measures nothing", iterations+20)
		}
		emit("top10_graphql_paths_"+suffix, found)
		emit("top10_graphql_p50_ms_"+suffix, ms(pct(gq, 50)))
		emit("top10_graphql_p95_ms_"+suffix, ms(pct(gq, 95)))
		if last == "" || suffix == "100k" { // the contract's headline number comes last
			last = fmt.Sprintf("top10_graphql_p95_ms_%s=%s", suffix, ms(pct(gq, 95)))
		}

		if n <= 200_000 {
			// A full report run: top paths, exposure, choke points, fix plan, diff with the last
			// run, rendering check and storage; warm on the live projection as scheduled runs
			// find it, then cold, deriving the attack graph from the twin first.
			for _, cold := range []bool{false, true} {
				if cold {
					api.Attacks.Invalidate(twin)
				}
				t0 := time.Now()
				r, err := api.Query(ctx, token, `mutation($t: String!) { runAttackPathReport(twin: $t) { id paths } }`, map[string]any{"t": twin})
				if err != nil {
					return err
				}
				if len(r.Errors) > 0 {
					return fmt.Errorf("runAttackPathReport: %s", r.Errors[0].Message)
				}
				name := "report_run_seconds_"
				if cold {
					name = "report_run_cold_seconds_"
				}
				emit(name+suffix, fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
			}

			// Cypher SHORTEST 10 by hop count, one entry → one jewel pair, for contrast.
			from, to := res.Nodes[entries[0]].Name, res.Nodes[jewels[0]].Name
			cy := make([]time.Duration, 0, 50)
			for i := 0; i < 55; i++ {
				t := time.Now()
				if err := shortest(ctx, db, twin, from, to); err != nil {
					return err
				}
				if i >= 5 {
					cy = append(cy, time.Since(t))
				}
			}
			emit("cypher_shortest10_p95_ms_"+suffix, ms(pct(cy, 95)))
		}
		api.Attacks.Forget(twin)
	}
	for _, l := range lines {
		if l != last {
			fmt.Println(l)
		}
	}
	fmt.Println(last)
	return nil
}

func shortest(ctx context.Context, db *graph.DB, twin, from, to string) error {
	_, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (a:Zone {twin: $twin, name: $from}), (b:DataStore {twin: $twin, name: $to})
MATCH p = SHORTEST 10 (a)-[:ATTACK]->{1,12}(b) RETURN length(p)`, map[string]any{"twin": twin, "from": from, "to": to})
		if err != nil {
			return nil, err
		}
		return res.Collect(ctx)
	})
	return err
}

func sizeName(n int) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "m"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// labelOf maps generator layers to twin labels.
func labelOf(l attackgen.Layer) (label string, props map[string]any) {
	switch l {
	case attackgen.Entry:
		return graph.LabelZone, map[string]any{"internet": true}
	case attackgen.Workload:
		return graph.LabelService, nil
	case attackgen.Identity:
		return graph.LabelIdentity, nil
	case attackgen.Credential:
		return graph.LabelCredential, nil
	case attackgen.Jewel:
		return graph.LabelDataStore, map[string]any{"crownJewel": true, "criticality": "CRITICAL", "criticalityRank": 4}
	}
	return graph.LabelDataStore, nil
}

// store writes the generated graph as a twin unless a complete copy is stored.
func store(ctx context.Context, db *graph.DB, twin string, res *attackgen.Result) error {
	recs, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		r, err := tx.Run(ctx, `MATCH ()-[r:ATTACK]->() WHERE r.twin = $twin RETURN count(r)`, map[string]any{"twin": twin})
		if err != nil {
			return nil, err
		}
		rec, err := r.Single(ctx)
		if err != nil {
			return nil, err
		}
		return rec.Values[0], nil
	})
	if err != nil {
		return err
	}
	if recs.(int64) == int64(len(res.Edges)) {
		logf("reusing twin %s (%d steps stored)", twin, len(res.Edges))
		return nil
	}
	if _, err := (graph.Twins{DB: db}).Delete(ctx, twin); err != nil && !errors.Is(err, graph.ErrTwinNotFound) {
		return err
	}
	if _, _, err := (graph.Twins{DB: db}).Ensure(ctx, twin, "synthetic attack graph (bench/attackpaths)"); err != nil {
		return err
	}
	// Nodes are created label by label and remembered by internal id, so that steps are written
	// by id lookups rather than index seeks: the 1M-node graph is written in minutes, not hours.
	start := time.Now()
	ids := make([]int64, len(res.Nodes))
	byLayer := map[attackgen.Layer][]int{}
	for i, n := range res.Nodes {
		byLayer[n.Layer] = append(byLayer[n.Layer], i)
	}
	for layer, idx := range byLayer {
		l, props := labelOf(layer)
		for chunk := range slices.Chunk(idx, 20_000) {
			names := make([]string, len(chunk))
			for j, i := range chunk {
				names[j] = res.Nodes[i].Name
			}
			got, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
				r, err := tx.Run(ctx, fmt.Sprintf(`UNWIND $names AS name CREATE (n:%s) SET n = $props, n.name = name, n.twin = $twin RETURN id(n)`, l),
					map[string]any{"names": names, "props": props, "twin": twin})
				if err != nil {
					return nil, err
				}
				recs, err := r.Collect(ctx)
				if err != nil {
					return nil, err
				}
				out := make([]int64, len(recs))
				for j, rec := range recs {
					out[j] = rec.Values[0].(int64)
				}
				return out, nil
			})
			if err != nil {
				return fmt.Errorf("write %s nodes: %w", l, err)
			}
			for j, id := range got.([]int64) {
				ids[chunk[j]] = id
			}
		}
	}
	logf("wrote %s: %d nodes in %s", twin, len(res.Nodes), time.Since(start).Round(time.Second))
	const cypher = `UNWIND $rows AS row MATCH (a) WHERE id(a) = row[0] MATCH (b) WHERE id(b) = row[1]
CREATE (a)-[:ATTACK {twin: $twin, rule: 'synthetic', p: row[2], hash: ''}]->(b)`
	written, lastLog := 0, time.Now()
	for chunk := range slices.Chunk(res.Edges, 20_000) {
		rows := make([][]any, len(chunk))
		for j, e := range chunk {
			rows[j] = []any{ids[e.From], ids[e.To], e.P}
		}
		_, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			r, err := tx.Run(ctx, cypher, map[string]any{"rows": rows, "twin": twin})
			if err != nil {
				return nil, err
			}
			return r.Consume(ctx)
		})
		if err != nil {
			return fmt.Errorf("write steps: %w", err)
		}
		written += len(chunk)
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			logf("writing %s: %d/%d steps (%.0f%%), %s elapsed", twin, written, len(res.Edges), 100*float64(written)/float64(len(res.Edges)), time.Since(start).Round(time.Second))
		}
	}
	logf("wrote %s: %d nodes, %d steps in %s", twin, len(res.Nodes), len(res.Edges), time.Since(start).Round(time.Second))
	return nil
}
