// Command graphql measures what sectwin's GraphQL API costs over the Cypher it stands for: for
// each standard analyst query, the latency of the GraphQL request over HTTP (the real server,
// in-process, over the real Neo4j and an embedded NATS) against the same answer asked of Neo4j
// directly with hand-written Cypher through the driver. It prints name=value lines; the last,
// graphql_vs_cypher_ratio, is the geometric mean of the three p50 ratios (goal: at most 1.3).
//
// The twin is synthetic (bench/twingen), named after its seed and size and kept between runs:
// a later run with the same --seed and --nodes reuses it once it checks complete.
//
//	go run ./bench/graphql [--nodes 100000] [--seed 1] [--iterations 200] [--fresh] [--keep=false]
//
// GraphQL and Cypher requests alternate (and swap order every iteration), so that the
// machine's noise hits both alike.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/bench/twingen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/migrations"
)

type options struct {
	nodes, iterations, warmup int
	seed                      int64
	keep, fresh               bool
	cpuprofile                string
}

func main() {
	var o options
	flag.IntVar(&o.nodes, "nodes", 100_000, "nodes in the synthetic twin")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the synthetic twin")
	flag.IntVar(&o.iterations, "iterations", 200, "measured requests per query and path, after warm-up")
	flag.IntVar(&o.warmup, "warmup", 30, "unmeasured requests per query and path first")
	flag.BoolVar(&o.keep, "keep", true, "keep the twin for the next run with the same --seed and --nodes (--keep=false deletes it at the end)")
	flag.BoolVar(&o.fresh, "fresh", false, "regenerate the twin even when a complete one is stored")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured phase to this file")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-graphql:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench-graphql: "+format+"\n", args...) }

func openDB(ctx context.Context) (*graph.DB, error) {
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		uri = "bolt://127.0.0.1:7687"
	}
	db, err := graph.Open(graph.Config{URI: uri, User: os.Getenv("NEO4J_USER"), Password: os.Getenv("NEO4J_PASSWORD")})
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		return nil, fmt.Errorf("%w (start one with scripts/neo4j-local.sh start)", err)
	}
	return db, nil
}

func run(o options) error {
	ctx := context.Background()
	db, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		return err
	}
	if _, err := (&graph.Migrator{DB: db, Log: zerolog.Nop()}).Apply(ctx, migs); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}

	// The twin.
	cfg := twingen.Config{Seed: o.seed, Nodes: o.nodes}
	t0 := time.Now()
	tw := twingen.Generate(cfg)
	genTime := time.Since(t0)
	twin := twingen.Name(tw.Config())
	logf("generated %d nodes and %d edges in %s", tw.Nodes(), tw.Edges(), genTime.Round(time.Millisecond))
	t0 = time.Now()
	last := time.Time{}
	reused, err := tw.Load(ctx, db, twin, o.fresh, func(done, total int) {
		if time.Since(last) < 2*time.Second && done < total {
			return
		}
		last = time.Now()
		el := time.Since(t0)
		eta := time.Duration(float64(el) / float64(done) * float64(total-done))
		logf("writing twin %s: %d/%d rows (%.0f%%), %s elapsed, about %s to go", twin, done, total,
			100*float64(done)/float64(total), el.Round(time.Second), eta.Round(time.Second))
	})
	if err != nil {
		return err
	}
	loadTime := time.Since(t0)
	if reused {
		logf("reusing twin %s (complete, checked in %s)", twin, loadTime.Round(time.Millisecond))
	} else {
		logf("wrote twin %s in %s (%.0f rows/s)", twin, loadTime.Round(time.Second), float64(tw.Rows())/loadTime.Seconds())
	}
	if !o.keep {
		defer func() {
			logf("deleting twin %s (--keep=false)", twin)
			if _, err := (graph.Twins{DB: db}).Delete(context.WithoutCancel(ctx), twin); err != nil {
				logf("delete twin %s: %v", twin, err)
			}
		}()
	}

	// The server, on its own driver so that its transactions can be counted.
	serverDB, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer serverDB.Close(ctx)
	dir, err := os.MkdirTemp("", "sectwin-bench-graphql-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := bus.Open(ctx, bus.Config{StoreDir: dir, Port: 0, Name: "bench-graphql", Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx))
	api := apitest.New(serverDB, b, apitest.Options{Log: zerolog.Nop()})
	defer api.Close()
	token, err := api.Token([]auth.Scope{auth.ScopeRead}, twin)
	if err != nil {
		return err
	}

	cases, err := analystQueries(tw, twin)
	if err != nil {
		return err
	}
	bn := &bencher{api: api, token: token, db: db, serverDB: serverDB, twin: twin}
	for _, c := range cases {
		if err := bn.validate(ctx, c); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	fmt.Printf("twin_nodes=%d\ntwin_edges=%d\n", tw.Nodes(), tw.Edges())
	fmt.Printf("twin_generate_s=%.2f\n", genTime.Seconds())
	if reused {
		fmt.Println("twin_reused=1")
	} else {
		fmt.Printf("twin_reused=0\ntwin_write_s=%.1f\n", loadTime.Seconds())
	}
	fmt.Printf("iterations=%d\n", o.iterations)

	// Fixed costs, for reading the ratios: one Neo4j round trip, one trivial GraphQL request.
	rtt, err := bn.baseline(o, func() error { return bn.cypher(ctx, "RETURN 1", nil, nil) })
	if err != nil {
		return err
	}
	fmt.Printf("neo4j_roundtrip_p50_ms=%.3f\n", ms(rtt))
	typename, err := bn.baseline(o, func() error {
		_, err := bn.graphql(ctx, "{ __typename }", nil)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("graphql_typename_p50_ms=%.3f\n", ms(typename))

	var ratios []float64
	for _, c := range cases {
		r, err := bn.measure(ctx, c, o)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		ratio := float64(r.gql.p50) / float64(r.cypher.p50)
		ratios = append(ratios, ratio)
		fmt.Printf("graphql_%[1]s_p50_ms=%.3[2]f\ngraphql_%[1]s_p95_ms=%.3[3]f\ncypher_%[1]s_p50_ms=%.3[4]f\ncypher_%[1]s_p95_ms=%.3[5]f\n",
			c.name, ms(r.gql.p50), ms(r.gql.p95), ms(r.cypher.p50), ms(r.cypher.p95))
		fmt.Printf("graphql_%s_neo4j_tx_per_request=%.2f\n", c.name, r.txPerRequest)
		fmt.Printf("%s_ratio=%.3f\n", c.name, ratio)
	}
	logSum := 0.0
	for _, r := range ratios {
		logSum += math.Log(r)
	}
	fmt.Printf("graphql_vs_cypher_ratio=%.3f\n", math.Exp(logSum/float64(len(ratios))))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// query is one analyst query, asked both ways, rotating over inputs.
type query struct {
	name   string
	inputs []string
	gql    string
	vars   func(in string) map[string]any
	cypher string
	params func(in string) map[string]any
	// check validates both answers for one input: the GraphQL data and the Cypher records.
	check func(in string, data json.RawMessage, recs []*neo4j.Record) error
}

func analystQueries(tw *twingen.Twin, twin string) ([]query, error) {
	deep := tw.DeepPurls(8, 3)
	vulns := tw.VulnsWithServices(8, 100)
	prefixes := tw.PurlPrefixes(101)
	if len(deep) == 0 || len(vulns) == 0 || len(prefixes) == 0 {
		return nil, fmt.Errorf("the twin offers no inputs: %d deep purls, %d vulnerabilities reaching services, %d prefixes", len(deep), len(vulns), len(prefixes))
	}
	logf("inputs: %d purls with deep trees, %d vulnerabilities reaching services, prefixes %v", len(deep), len(vulns), prefixes)
	return []query{
		{
			name:   "component_deps",
			inputs: deep,
			gql: `query Deps($twin: String!, $purl: String!) {
  component(twin: $twin, purl: $purl) { purl name dependencies(depth: 3) { depth component { purl name version } } }
}`,
			vars: func(in string) map[string]any { return map[string]any{"twin": twin, "purl": in} },
			cypher: `MATCH (c:Component {twin: $twin, purl: $purl})
MATCH p = ANY SHORTEST (c)-[:DEPENDS_ON]->{1,3}(d:Component)
WITH c, d, length(p) AS depth
ORDER BY depth, d.purl LIMIT 100
RETURN c.purl, c.name, depth, d.purl, d.name, d.version`,
			params: func(in string) map[string]any { return map[string]any{"twin": twin, "purl": in} },
			check: func(in string, data json.RawMessage, recs []*neo4j.Record) error {
				var d struct {
					Component *struct {
						Purl         string
						Dependencies []struct {
							Depth     int
							Component struct{ Purl, Name, Version string }
						}
					}
				}
				if err := json.Unmarshal(data, &d); err != nil {
					return err
				}
				if d.Component == nil || d.Component.Purl != in {
					return fmt.Errorf("component %s: not found over GraphQL", in)
				}
				n, _ := tw.DependencyCount(in, 3)
				want := min(n, 100)
				deps := d.Component.Dependencies
				if len(deps) != want || len(recs) != want || len(deps) == 0 {
					return fmt.Errorf("component %s: %d dependencies over GraphQL, %d over Cypher, want %d", in, len(deps), len(recs), want)
				}
				for i, r := range recs {
					if p, _ := r.Get("d.purl"); p != deps[i].Component.Purl || deps[i].Component.Version == "" {
						return fmt.Errorf("component %s: dependency %d is %v over Cypher, %+v over GraphQL", in, i, p, deps[i])
					}
				}
				if deps[len(deps)-1].Depth < 2 {
					return fmt.Errorf("component %s: the tree is only %d deep", in, deps[len(deps)-1].Depth)
				}
				return nil
			},
		},
		{
			name:   "affected_services",
			inputs: vulns,
			gql: `query Affected($twin: String!, $id: String!) {
  vulnerability(twin: $twin, id: $id) { affectedServices { service { name } components { purl } exposures { zone port } } }
}`,
			vars: func(in string) map[string]any { return map[string]any{"twin": twin, "id": in} },
			cypher: `MATCH (v:Vulnerability {twin: $twin, vulnerabilityId: $id})-[:AFFECTS]->(c:Component)<-[:CONTAINS]-(:Artifact)<-[:RUNS]-(s:Service)
WITH s, collect(DISTINCT c.purl) AS components
ORDER BY s.name LIMIT 100
OPTIONAL MATCH (s)-[e:EXPOSES]->(z:Zone)
RETURN s.name, components, collect(CASE WHEN z IS NULL THEN null ELSE [z.name, e.port] END) AS exposures
ORDER BY s.name`,
			params: func(in string) map[string]any { return map[string]any{"twin": twin, "id": in} },
			check: func(in string, data json.RawMessage, recs []*neo4j.Record) error {
				var d struct {
					Vulnerability *struct {
						AffectedServices []struct {
							Service    struct{ Name string }
							Components []struct{ Purl string }
						}
					}
				}
				if err := json.Unmarshal(data, &d); err != nil {
					return err
				}
				if d.Vulnerability == nil {
					return fmt.Errorf("vulnerability %s: not found over GraphQL", in)
				}
				got := d.Vulnerability.AffectedServices
				want := min(len(tw.AffectedServices(in)), 100)
				if len(got) != want || len(recs) != want || want == 0 {
					return fmt.Errorf("vulnerability %s: %d services over GraphQL, %d over Cypher, want %d", in, len(got), len(recs), want)
				}
				for i, r := range recs {
					name, _ := r.Get("s.name")
					if name != got[i].Service.Name || len(got[i].Components) == 0 {
						return fmt.Errorf("vulnerability %s: service %d is %v over Cypher, %+v over GraphQL", in, i, name, got[i])
					}
				}
				return nil
			},
		},
		{
			name:   "components_page",
			inputs: prefixes,
			gql: `query Page($twin: String!, $prefix: String!) {
  components(twin: $twin, first: 100, where: {purlPrefix: $prefix}) { pageInfo { hasNextPage endCursor } edges { cursor node { purl name version } } }
}`,
			vars: func(in string) map[string]any { return map[string]any{"twin": twin, "prefix": in} },
			// The best hand-written form: naming twin first in ORDER BY lets the (twin, purl)
			// index supply the order, as graph.Page does.
			cypher: `MATCH (n:Component {twin: $t}) WHERE n.purl STARTS WITH $p RETURN n ORDER BY n.twin, n.purl LIMIT 101`,
			params: func(in string) map[string]any { return map[string]any{"t": twin, "p": in} },
			check: func(in string, data json.RawMessage, recs []*neo4j.Record) error {
				var d struct {
					Components struct {
						PageInfo struct{ HasNextPage bool }
						Edges    []struct {
							Cursor string
							Node   struct{ Purl string }
						}
					}
				}
				if err := json.Unmarshal(data, &d); err != nil {
					return err
				}
				c := d.Components
				if len(c.Edges) != 100 || !c.PageInfo.HasNextPage || len(recs) != 101 {
					return fmt.Errorf("prefix %s: %d edges (next page %v) over GraphQL, %d records over Cypher", in, len(c.Edges), c.PageInfo.HasNextPage, len(recs))
				}
				for i, e := range c.Edges {
					n, _ := recs[i].Values[0].(neo4j.Node)
					if e.Node.Purl != n.Props["purl"] || e.Cursor == "" {
						return fmt.Errorf("prefix %s: item %d is %v over Cypher, %+v over GraphQL", in, i, n.Props["purl"], e)
					}
				}
				return nil
			},
		},
	}, nil
}

type bencher struct {
	api      *apitest.API
	token    string
	db       *graph.DB // the Cypher side
	serverDB *graph.DB // the server's
	twin     string
}

// graphql runs one request and fails on transport, HTTP or GraphQL errors.
func (bn *bencher) graphql(ctx context.Context, q string, vars map[string]any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r, err := bn.api.Query(ctx, bn.token, q, vars)
	if err != nil {
		return nil, err
	}
	if r.Status != 200 || len(r.Errors) > 0 {
		return nil, fmt.Errorf("GraphQL status %d, errors %+v", r.Status, r.Errors)
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return nil, errors.New("GraphQL answered no data")
	}
	return r.Data, nil
}

// cypher runs one read transaction and collects its records into *out (when not nil).
func (bn *bencher) cypher(ctx context.Context, q string, params map[string]any, out *[]*neo4j.Record) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	recs, err := bn.db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, q, params)
		if err != nil {
			return nil, err
		}
		return res.Collect(ctx)
	})
	if err == nil && out != nil {
		*out = recs.([]*neo4j.Record)
	}
	return err
}

func (bn *bencher) validate(ctx context.Context, c query) error {
	for _, in := range c.inputs {
		data, err := bn.graphql(ctx, c.gql, c.vars(in))
		if err != nil {
			return fmt.Errorf("input %s: %w", in, err)
		}
		var recs []*neo4j.Record
		if err := bn.cypher(ctx, c.cypher, c.params(in), &recs); err != nil {
			return fmt.Errorf("input %s: cypher: %w", in, err)
		}
		if err := c.check(in, data, recs); err != nil {
			return err
		}
	}
	return nil
}

type latencies struct{ p50, p95 time.Duration }

func summarise(d []time.Duration) latencies {
	slices.Sort(d)
	return latencies{p50: d[len(d)/2], p95: d[min(len(d)-1, len(d)*95/100)]}
}

type result struct {
	gql, cypher  latencies
	txPerRequest float64
}

// measure alternates GraphQL and Cypher requests, swapping which goes first every iteration,
// rotating over the inputs.
func (bn *bencher) measure(ctx context.Context, c query, o options) (result, error) {
	var gql, cy []time.Duration
	var tx int64
	for i := -o.warmup; i < o.iterations; i++ {
		in := c.inputs[(i+o.warmup)%len(c.inputs)]
		doGQL := func() error {
			before := bn.serverDB.Transactions()
			t0 := time.Now()
			_, err := bn.graphql(ctx, c.gql, c.vars(in))
			d := time.Since(t0)
			if i >= 0 {
				gql = append(gql, d)
				tx += bn.serverDB.Transactions() - before
			}
			return err
		}
		doCypher := func() error {
			t0 := time.Now()
			var recs []*neo4j.Record
			err := bn.cypher(ctx, c.cypher, c.params(in), &recs)
			d := time.Since(t0)
			if err == nil && len(recs) == 0 {
				err = fmt.Errorf("cypher for %s answered nothing", in)
			}
			if i >= 0 {
				cy = append(cy, d)
			}
			return err
		}
		first, second := doGQL, doCypher
		if i%2 != 0 {
			first, second = doCypher, doGQL
		}
		if err := first(); err != nil {
			return result{}, fmt.Errorf("input %s: %w", in, err)
		}
		if err := second(); err != nil {
			return result{}, fmt.Errorf("input %s: %w", in, err)
		}
	}
	return result{gql: summarise(gql), cypher: summarise(cy), txPerRequest: float64(tx) / float64(len(gql))}, nil
}

// baseline is the p50 of fn over the warm-up and iterations.
func (bn *bencher) baseline(o options, fn func() error) (time.Duration, error) {
	var d []time.Duration
	for i := -o.warmup; i < o.iterations; i++ {
		t0 := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		if i >= 0 {
			d = append(d, time.Since(t0))
		}
	}
	return summarise(d).p50, nil
}
