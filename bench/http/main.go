// Command http measures the cost of sectwin's HTTP stack in one run, against the real Neo4j
// (NEO4J_URI, default bolt://127.0.0.1:7687) and an embedded NATS, and prints name=value lines.
//
// The figures that travel between machines are the ratios: an authenticated GraphQL request
// against /healthz (router, metrics and logging only) on the same server in the same run.
//
//	go run ./bench/http [-duration 3s] [-concurrency 8]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/resolvers"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long each case runs")
	conc := flag.Int("concurrency", 8, "concurrent clients")
	flag.Parse()
	if err := run(*duration, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, conc int) error {
	ctx := context.Background()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		uri = "bolt://127.0.0.1:7687"
	}
	db, err := graph.Open(graph.Config{URI: uri})
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("%w (start one with scripts/neo4j-local.sh start)", err)
	}
	dir, err := os.MkdirTemp("", "sectwin-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := bus.Open(ctx, bus.Config{StoreDir: filepath.Join(dir, "nats"), Port: 0, Name: "bench", Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer b.Close(ctx)

	store := graph.Tokens{DB: db}
	secret, rec, err := auth.Issue(ctx, store, auth.IssueRequest{Name: "bench", Scopes: []auth.Scope{auth.ScopeRead}, Twins: []string{"*"}}, time.Now())
	if err != nil {
		return err
	}
	defer db.AutoCommit(context.WithoutCancel(ctx), "MATCH (t:ApiToken {id: $id}) DELETE t", map[string]any{"id": rec.ID})

	srv := httptest.NewServer(server.New(server.Options{
		Log:           zerolog.Nop(),
		Auth:          auth.NewAuthenticator(store, 30*time.Second),
		Resolver:      &resolvers.Resolver{Version: "bench", Neo4j: db, Migrations: &graph.Migrator{DB: db}},
		Checks:        []server.Check{{Name: "neo4j", Fn: db.Ping}, {Name: "nats", Fn: b.Check}},
		MaxComplexity: 1000,
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}

	type result struct {
		rps      float64
		p50, p99 time.Duration
	}
	measure := func(method, path, body string, token string) (result, error) {
		var n atomic.Int64
		var mu sync.Mutex
		var lat []time.Duration
		var firstErr atomic.Value
		deadline := time.Now().Add(duration)
		var wg sync.WaitGroup
		start := time.Now()
		for range conc {
			wg.Go(func() {
				var local []time.Duration
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
					if token != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					if body != "" {
						req.Header.Set("Content-Type", "application/json")
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							err = fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
						}
					}
					if err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					local = append(local, time.Since(t0))
					n.Add(1)
				}
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if err, _ := firstErr.Load().(error); err != nil {
			return result{}, err
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		if len(lat) == 0 {
			return result{}, fmt.Errorf("%s: no requests completed", path)
		}
		return result{rps: float64(n.Load()) / time.Since(start).Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}, nil
	}

	cases := []struct{ name, method, path, body, token string }{
		{"healthz", "GET", "/healthz", "", ""},
		{"graphql_typename", "POST", "/graphql", `{"query":"{ __typename }"}`, secret},
		{"graphql_serverinfo", "POST", "/graphql", `{"query":"{ serverInfo { neo4jVersion schemaVersion } }"}`, secret},
	}
	res := map[string]result{}
	for _, c := range cases {
		r, err := measure(c.method, c.path, c.body, c.token)
		if err != nil {
			return err
		}
		res[c.name] = r
		fmt.Printf("%s_rps=%.0f\n%s_p50_us=%d\n%s_p99_us=%d\n", c.name, r.rps, c.name, r.p50.Microseconds(), c.name, r.p99.Microseconds())
	}
	fmt.Printf("graphql_typename_vs_healthz_throughput=%.3f\n", res["graphql_typename"].rps/res["healthz"].rps)
	fmt.Printf("graphql_serverinfo_vs_typename_throughput=%.3f\n", res["graphql_serverinfo"].rps/res["graphql_typename"].rps)
	fmt.Printf("concurrency=%d\nduration_s=%.0f\n", conc, duration.Seconds())
	return nil
}
