// Command telemetry measures how fast the operations twin absorbs telemetry, and how soon a
// change becomes visible through GraphQL. It writes a fresh twin (deleted at the end) of
// --entities hosts, with names and addresses, in eight zones joined by REACHES rules; starts
// the live-state worker as serve wires it (internal/opstwin: the worker with its detectors,
// the real Neo4j, an embedded NATS with a temporary store) and the real HTTP server; generates
// a seeded mix of --events telemetry events, encoded with telemetry.Encode before the clock
// starts: 70% flows (a few talkers and destinations dominate, ports from a small set, 2%
// outside the design, 3% from the internet), 15% auth, 10% metrics and 5% alerts; and
// publishes them to telemetry.<twin>.<kind> through JetStream from --publishers goroutines,
// each on its own connection with --inflight asynchronous publishes at most, with source/id as
// message id, as fast as they go or at --rate.
//
// telemetry_events_per_sec is the absorption rate: events applied by the worker
// (Worker.Stats) per second from the first publish until the last is applied. Meanwhile, every
// --probe-every a probe is published (a CRITICAL alert, which the generated ones never are,
// with a rule of its own) and one poller asks GraphQL (alerts(twin:, since:, severity:)) until
// it is visible, polling only after the worker has committed a window (or once a second):
// publish→visible is the latency. The worker's store, decoder, announcer and observer are
// wrapped to split its time (ApplyOps, decode, aggregation, announcements, detectors, and the
// rest: fetching, waiting and acknowledging), and the same aggregated windows are then applied
// again with ApplyOps alone, to a copy of the twin, as the raw baseline. --neo4j-sample splits
// Neo4j's time by statement (SHOW TRANSACTIONS on this process's connections); --cpuprofile
// profiles the process.
//
// The server is wired as internal/apitest wires it, but not through it: apitest starts a
// live-state worker of its own, and a second worker on the same durable consumer would take
// part of the windows, out of this bench's sight.
//
// It prints name=value lines, the last telemetry_p99_visible_ms. A run that exceeds --timeout,
// or in which nothing is applied for 10 minutes, still prints what it measured
// (telemetry_complete=0; probes not yet visible count with their age) and exits 1.
//
//	go run ./bench/telemetry [--events 1000000] [--entities 10000] [--seed 1] [--publishers 4]
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/livestate"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/opstwin"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/migrations"
	"github.com/sectwin/sectwin/resolvers"
)

type options struct {
	events, entities, publishers, inflight int
	seed                                   uint64
	rate, maxBatch                         int
	window, baselineMax                    time.Duration
	probeEvery, poll, timeout              time.Duration
	cpuprofile                             string
	baseline, neo4jSample, verbose         bool
}

func main() {
	var o options
	flag.IntVar(&o.events, "events", 1_000_000, "events to publish")
	flag.IntVar(&o.entities, "entities", 10_000, "hosts of the generated twin")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the twin and the events")
	flag.IntVar(&o.publishers, "publishers", 4, "publisher goroutines, each on its own NATS connection")
	flag.IntVar(&o.inflight, "inflight", 4096, "asynchronous publishes in flight per publisher")
	flag.IntVar(&o.rate, "rate", 0, "offered load in events per second over all publishers (0: as fast as they go)")
	flag.IntVar(&o.maxBatch, "window-events", 0, "the worker's MaxBatch, events per window (0: its default, as serve runs it)")
	flag.DurationVar(&o.window, "window", 0, "the worker's Window, how long it waits to fill one (0: its default, as serve runs it)")
	flag.DurationVar(&o.probeEvery, "probe-every", 100*time.Millisecond, "interval between visibility probes")
	flag.DurationVar(&o.poll, "poll", 20*time.Millisecond, "interval between GraphQL polls while a probe is pending")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Hour, "how long the run may take to absorb every event (it also fails when nothing is applied for 10 minutes)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed run to this file")
	flag.BoolVar(&o.baseline, "baseline", true, "apply the same aggregated windows with ApplyOps alone afterwards, to a copy of the twin")
	flag.DurationVar(&o.baselineMax, "baseline-max", 2*time.Minute, "stop the raw baseline after this long (the windows replayed so far give its rate)")
	flag.BoolVar(&o.neo4jSample, "neo4j-sample", false, "sample Neo4j's running transactions (SHOW TRANSACTIONS) to split its time by statement")
	flag.BoolVar(&o.verbose, "v", false, "log the server's warnings to stderr")
	flag.Parse()
	o.publishers = max(o.publishers, 1)
	o.inflight = max(o.inflight, 1)
	o.events = max(o.events, 1)
	o.entities = max(o.entities, 100)
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-telemetry:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-telemetry: "+format+"\n", args...)
}

// twinPrefix names the bench's twins; a run deletes its own, and the ones an interrupted run
// left behind.
const twinPrefix = "bench-telemetry-"

// stallLimit fails a run in which the worker applies nothing for this long.
const stallLimit = 10 * time.Minute

// probeSeverity is the severity only probes carry: the generated alerts are LOW to HIGH.
const probeSeverity = telemetry.SeverityCritical

func run(o options) error {
	// Ctrl-C ends the run early but still deletes its twins.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		return fmt.Errorf("set NEO4J_URI, or run 'make bench-telemetry', which starts Neo4j")
	}
	db, err := graph.Open(graph.Config{URI: uri, User: os.Getenv("NEO4J_USER"), Password: os.Getenv("NEO4J_PASSWORD")})
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("%w (start one with scripts/neo4j-local.sh start)", err)
	}
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		return err
	}
	if _, err := (&graph.Migrator{DB: db, Log: zerolog.Nop()}).Apply(ctx, migs); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	twins := graph.Twins{DB: db}
	if err := deleteLeftovers(ctx, twins); err != nil {
		return err
	}

	// The twin, fresh: its telemetry cursor starts at 0, as the new stream does.
	runID := randomHex(4)
	twin := fmt.Sprintf("%s%d-%s", twinPrefix, o.seed, runID)
	m := newModel(o.entities, o.seed)
	t0 := time.Now()
	var made []string
	defer func() {
		c := context.WithoutCancel(ctx)
		for _, t := range made {
			t1 := time.Now()
			if n, err := twins.Delete(c, t); err != nil {
				logf("cleanup: %v", err)
			} else {
				logf("deleted twin %s (%d nodes) in %s", t, n, time.Since(t1).Round(time.Millisecond))
			}
		}
	}()
	made = append(made, twin)
	if err := m.write(ctx, db, twin); err != nil {
		return err
	}
	logf("wrote twin %s: %d hosts (%d serving) in %d zones, %d REACHES rules, in %s", twin, len(m.hosts), len(m.servers), len(m.zones),
		len(m.reaches), time.Since(t0).Round(time.Millisecond))

	// The events, encoded before the clock starts: the producers are elsewhere in production.
	t0 = time.Now()
	msgs, mix, err := m.generate(twin, o.events, o.seed, time.Now())
	if err != nil {
		return err
	}
	bytes := 0
	for _, msg := range msgs {
		bytes += len(msg.data)
	}
	logf("generated %d events (%s) in %s: %.0f bytes each on average", len(msgs), mix, time.Since(t0).Round(time.Millisecond), float64(bytes)/float64(len(msgs)))

	// The server's side: an embedded NATS listening on a random port (the publishers connect as
	// sensors would), the live-state worker as serve wires it, the HTTP server.
	dir, err := os.MkdirTemp("", "bench-telemetry-nats-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := zerolog.Nop()
	if o.verbose {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	}
	natsToken := randomHex(16)
	b, err := bus.Open(ctx, bus.Config{StoreDir: dir, Port: -1, Token: natsToken, Name: "bench-telemetry", Logger: log})
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx))
	ops, err := opstwin.New(b, db, config.Ops{}, log)
	if err != nil {
		return err
	}
	ts := &timedStore{db: db, live: graph.NewLiveState(db), keep: o.baseline, seen: map[string]time.Time{}, committed: map[string]time.Time{}}
	ops.Worker.Store = ts
	ops.Worker.MaxBatch, ops.Worker.Window = o.maxBatch, o.window
	ops.Worker.Decode = ts.decode
	ops.Worker.Announce = &timedAnnouncer{inner: ops.Worker.Announce, ts: ts}
	if ops.Worker.Observe != nil {
		ops.Worker.Observe = &timedObserver{inner: ops.Worker.Observe, ts: ts}
	}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	if err := ops.Start(wctx); err != nil {
		return err
	}
	closing := make(chan struct{})
	srv := httptest.NewServer(server.New(server.Options{Log: log, Auth: auth.NewAuthenticator(graph.Tokens{DB: db}, time.Minute),
		Resolver:  &resolvers.Resolver{Version: "bench", Neo4j: db, Graph: db, Changes: events.NATS{Bus: b, Log: log}, AlertBus: ops.Events},
		Telemetry: ops.Hook, MaxDepth: 12, MaxAliases: 30, MaxComplexity: 200000, Closing: closing}))
	defer srv.Close()
	defer close(closing)
	secret, rec, err := auth.Issue(ctx, graph.Tokens{DB: db}, auth.IssueRequest{Name: tokenName, Scopes: []auth.Scope{auth.ScopeRead}, Twins: []string{twin}}, time.Now())
	if err != nil {
		return err
	}
	defer db.AutoCommit(context.WithoutCancel(ctx), "MATCH (t:ApiToken {id: $id}) DELETE t", map[string]any{"id": rec.ID})
	gql := &client{url: srv.URL + "/graphql", token: secret}

	// A first probe, untimed, sees the worker consume and the server answer.
	pr := &prober{b: b, gql: gql, ts: ts, twin: twin, entity: m.probe, prefix: "bench-probe-" + runID + "-", pending: map[string]probe{}}
	warm, err := pr.once(ctx, 60*time.Second)
	if err != nil {
		return fmt.Errorf("warm-up probe: %w", err)
	}
	logf("warm-up probe visible after %s", warm.Round(time.Millisecond))
	base := ops.Worker.Stats()
	ts.reset()

	// The timed run.
	var sampler *neo4jSampler
	if o.neo4jSample {
		sampler = &neo4jSampler{db: db}
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
	pub, err := newPublishers(b.ClientURL(), natsToken, o.publishers, o.inflight)
	if err != nil {
		return err
	}
	defer pub.close()
	rctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var bg sync.WaitGroup
	if sampler != nil {
		bg.Go(func() { sampler.run(rctx) })
	}
	bg.Go(func() { pr.publishLoop(rctx, o.probeEvery) })
	bg.Go(func() { pr.pollLoop(rctx, o.poll) })

	start := time.Now()
	pubDone := make(chan error, 1)
	go func() { pubDone <- pub.publish(rctx, msgs, o.rate) }()
	var pubTime time.Duration
	deadline := time.After(o.timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastLog := start
	maxBacklog := int64(0)
	var probesStopped bool
	var end time.Time
	var failed error // a timeout: what was measured is still printed
	lastDone, lastProgress := int64(0), start
	for end.IsZero() {
		select {
		case err := <-pubDone:
			if err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			pubTime = time.Since(start)
			pubDone = nil
			logf("published %d events in %s (%.0f/s; %d duplicates)", len(msgs), pubTime.Round(time.Millisecond), float64(len(msgs))/pubTime.Seconds(), pub.dups.Load())
		case <-deadline:
			st := ops.Worker.Stats()
			failed = fmt.Errorf("timed out after %s (--timeout): %d of %d events published, %d applied, %d malformed, %d windows; the numbers printed are of that part",
				o.timeout, pub.acked.Load(), len(msgs), st.Applied-base.Applied, st.Malformed-base.Malformed, st.Windows-base.Windows)
			end = time.Now()
			continue
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %d of %d events applied", ops.Worker.Stats().Applied-base.Applied, len(msgs))
		}
		st := ops.Worker.Stats()
		done := st.Applied - base.Applied + st.Malformed - base.Malformed
		want := int64(len(msgs)) - pub.dups.Load()
		maxBacklog = max(maxBacklog, pub.acked.Load()-(done-pr.sent()))
		// Probes stop once the generated events are nearly in; the last ones are then waited for.
		if !probesStopped && pubDone == nil && done-pr.sent() >= want {
			probesStopped = true
			pr.stopPublishing()
		}
		if probesStopped && done >= want+pr.sent() {
			end = time.Now()
			break
		}
		if done > lastDone {
			lastDone, lastProgress = done, time.Now()
		} else if time.Since(lastProgress) > stallLimit {
			failed = fmt.Errorf("nothing applied for %s: %d of %d events applied; the numbers printed are of that part", stallLimit, done, len(msgs))
			end = time.Now()
			continue
		}
		if el := time.Since(start); time.Since(lastLog) >= 5*time.Second && (el < time.Minute || time.Since(lastLog) >= 30*time.Second) {
			lastLog = time.Now()
			eta := "?"
			if done > 0 {
				eta = time.Duration(float64(want-done) / (float64(done) / el.Seconds()) * float64(time.Second)).Round(time.Second).String()
			}
			logf("%s: %d published, %d applied (%.0f/s, %s to go), %d windows, backlog %d, probes %d visible (p50 %.0f ms)", el.Round(time.Second),
				pub.acked.Load(), done, float64(done)/el.Seconds(), eta, st.Windows-base.Windows, pub.acked.Load()-(done-pr.sent()), pr.visibleCount(), ms(pr.pct(50)))
			if sampler != nil {
				logf("Neo4j statements so far: %s", sampler.summary())
			}
		}
	}
	wall := end.Sub(start)
	// The probes still pending get the poller's last chance, then the run stops.
	if failed == nil {
		pr.drain(5 * time.Second)
	} else {
		pr.drain(0)
	}
	stopRun()
	bg.Wait()
	if o.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	st := ops.Worker.Stats()
	applied := st.Applied - base.Applied
	malformed := st.Malformed - base.Malformed
	windows := st.Windows - base.Windows
	absorbed := int64(len(msgs)) - pub.dups.Load()
	if failed != nil {
		absorbed = max(applied+malformed-int64(ts.probesCommitted()), 0)
	}
	if pubTime == 0 {
		pubTime = wall
	}
	absorb := float64(absorbed) / wall.Seconds()
	logf("absorbed %d events in %s: %.0f/s; %d windows (%.0f events each)", absorbed, wall.Round(time.Millisecond), absorb, windows, float64(applied)/float64(max(windows, 1)))
	split := ts.split(wall)
	logf("worker time: %s", split)
	logf("windows: %s", ts.windowSummary())
	if sampler != nil {
		logf("Neo4j statements (share of samples with a running transaction, %d samples): %s", sampler.samples.Load(), sampler.summary())
	}
	vis := pr.latencies()
	if failed != nil {
		ages := pr.pendingAges()
		logf("%d probes still pending count with their age as a lower bound of their latency", len(ages))
		vis = append(vis, ages...)
	}
	logf("probes: %d sent (%d skipped: too many pending), %d visible, %d missing; publish→decoded p50 %.0f ms, publish→committed p50 %.0f / p99 %.0f ms, publish→visible p50 %.0f / p99 %.0f / max %.0f ms",
		pr.sent(), pr.skippedCount(), len(vis), pr.missing(), ms(pr.stagePct(stageDecoded, 50)), ms(pr.stagePct(stageCommitted, 50)), ms(pr.stagePct(stageCommitted, 99)),
		ms(pct(vis, 50)), ms(pct(vis, 99)), ms(pct(vis, 100)))

	// How long the analyst's connections query takes on what the run left.
	connMS, nConn, err := gql.connectionsTime(ctx, twin)
	if err != nil {
		logf("connections query: %v", err)
	}

	// The raw baseline: the same windows, in order, with ApplyOps alone (for --baseline-max at
	// most).
	rawRate := 0.0
	if o.baseline && failed == nil {
		raw := twin + "-raw"
		made = append(made, raw)
		if err := m.write(ctx, db, raw); err != nil {
			return err
		}
		n, events, rawTime, err := ts.replay(ctx, db, raw, o.baselineMax)
		if err != nil {
			return fmt.Errorf("raw baseline: %w", err)
		}
		rawRate = float64(events) / rawTime.Seconds()
		logf("raw baseline: %d of %d windows (%d events) applied with ApplyOps alone in %s: %.0f events/s", n, len(ts.batches), events, rawTime.Round(time.Millisecond), rawRate)
	}

	if len(vis) == 0 && failed == nil {
		return fmt.Errorf("no probe became visible through GraphQL")
	}
	complete := 1
	if failed != nil {
		complete = 0
	}
	fmt.Printf("telemetry_events=%d\ntelemetry_entities=%d\ntelemetry_publishers=%d\n", len(msgs), len(m.hosts), o.publishers)
	fmt.Printf("telemetry_complete=%d\n", complete)
	fmt.Printf("telemetry_publish_per_sec=%.0f\n", float64(pub.acked.Load())/pubTime.Seconds())
	fmt.Printf("telemetry_events_per_sec=%.0f\n", absorb)
	fmt.Printf("telemetry_absorb_seconds=%.2f\n", wall.Seconds())
	fmt.Printf("telemetry_max_backlog=%d\n", maxBacklog)
	fmt.Printf("telemetry_windows=%d\ntelemetry_events_per_window=%.0f\ntelemetry_malformed=%d\n", windows, float64(applied)/float64(max(windows, 1)), malformed)
	fmt.Printf("telemetry_applyops_share=%.3f\ntelemetry_decode_share=%.3f\ntelemetry_detectors_share=%.3f\n", split.applyShare(), split.decodeShare(),
		split.observe.Seconds()/wall.Seconds())
	fmt.Printf("telemetry_applyops_p50_ms=%.1f\ntelemetry_applyops_p99_ms=%.1f\n", ms(ts.applyPct(50)), ms(ts.applyPct(99)))
	if rawRate > 0 {
		fmt.Printf("telemetry_raw_applyops_events_per_sec=%.0f\ntelemetry_vs_raw_ratio=%.3f\n", rawRate, absorb/rawRate)
	}
	if connMS > 0 {
		fmt.Printf("telemetry_connections_query_ms=%.1f\ntelemetry_connections_rows=%d\n", connMS, nConn)
	}
	fmt.Printf("telemetry_probes=%d\ntelemetry_probes_skipped=%d\ntelemetry_probes_missing=%d\n", pr.sent(), pr.skippedCount(), pr.missing())
	fmt.Printf("telemetry_p50_committed_ms=%.1f\ntelemetry_p99_committed_ms=%.1f\n", ms(pr.stagePct(stageCommitted, 50)), ms(pr.stagePct(stageCommitted, 99)))
	fmt.Printf("telemetry_p50_visible_ms=%.1f\ntelemetry_max_visible_ms=%.1f\n", ms(pct(vis, 50)), ms(pct(vis, 100)))
	fmt.Printf("telemetry_p99_visible_ms=%.1f\n", ms(pct(vis, 99)))
	return failed
}

// deleteLeftovers deletes the twins an interrupted run left.
func deleteLeftovers(ctx context.Context, twins graph.Twins) error {
	all, err := twins.List(ctx, nil, true)
	if err != nil {
		return err
	}
	for _, t := range all {
		if strings.HasPrefix(t.Name, twinPrefix) && !runOfOwnerAlive(t.Description) {
			n, err := twins.Delete(ctx, t.Name)
			if err != nil {
				return fmt.Errorf("delete leftover twin %s: %w", t.Name, err)
			}
			logf("deleted leftover twin %s (%d nodes)", t.Name, n)
		}
	}
	// And the read tokens of killed runs, for twins that are gone.
	return twins.DB.AutoCommit(ctx, `MATCH (t:ApiToken {name: $name})
WHERE NOT EXISTS { MATCH (w:Twin) WHERE w.name IN t.twins }
DELETE t`, map[string]any{"name": tokenName})
}

// tokenName names the read token a run issues.
const tokenName = "bench-telemetry"

// ownerTag describes a bench twin with the process that made it, so that a concurrent run
// does not take it for a leftover.
func ownerTag() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("bench-telemetry: generated, deleted after the run (host=%s pid=%d)", host, os.Getpid())
}

// runOfOwnerAlive reports whether the process a twin's description names still runs here.
func runOfOwnerAlive(desc string) bool {
	var host string
	var pid int
	i := strings.Index(desc, "(host=")
	if i < 0 {
		return false
	}
	if _, err := fmt.Sscanf(strings.ReplaceAll(desc[i:], " pid=", " "), "(host=%s %d)", &host, &pid); err != nil {
		return false
	}
	if h, _ := os.Hostname(); h != host || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is the p-th percentile (nearest rank) of ds; it sorts ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// ---- the twin ----

type zoneSpec struct {
	name   string
	share  float64 // of the hosts
	ports  []int   // what its servers listen on
	serves float64 // share of its hosts that serve
}

var zoneSpecs = []zoneSpec{
	{"dmz", 0.04, []int{443, 80}, 1},
	{"web", 0.08, []int{443, 8443}, 1},
	{"app", 0.12, []int{8080, 9090}, 1},
	{"data", 0.04, []int{5432, 6379, 3306}, 1},
	{"mgmt", 0.02, []int{22, 53}, 1},
	{"office", 0.45, []int{445, 3389}, 0.02},
	{"ot", 0.15, []int{502, 44818}, 0.1},
	{"lab", 0.10, []int{8080, 22}, 0.1},
}

// reachSpec is a REACHES rule between zones (port 0: any).
type reachSpec struct {
	from, to string
	port     int
	proto    string
}

var reachSpecs = []reachSpec{
	{"internet", "dmz", 443, "tcp"},
	{"internet", "dmz", 80, "tcp"},
	{"dmz", "web", 443, "tcp"},
	{"web", "app", 8080, "tcp"},
	{"web", "app", 9090, "tcp"},
	{"app", "data", 5432, "tcp"},
	{"app", "data", 6379, "tcp"},
	{"app", "data", 3306, "tcp"},
	{"office", "web", 443, "tcp"},
	{"office", "dmz", 443, "tcp"},
	{"mgmt", "office", 22, "tcp"},
	{"mgmt", "app", 22, "tcp"},
	{"mgmt", "data", 22, "tcp"},
	{"office", "mgmt", 53, "udp"},
	{"app", "mgmt", 53, "udp"},
	{"lab", "app", 0, ""},
	{"dmz", "mgmt", 53, "udp"},
	{"web", "mgmt", 53, "udp"},
	{"data", "mgmt", 53, "udp"},
	{"ot", "mgmt", 53, "udp"},
	{"lab", "mgmt", 53, "udp"},
}

type host struct {
	name, addr string
	zone       int
	port       int
	proto      string
}

type model struct {
	zones   []zoneSpec
	reaches []reachSpec
	hosts   []host
	servers []int   // hosts that serve, by popularity
	byZone  [][]int // hosts that serve, per zone, by popularity
	dns     []int   // the resolvers everyone talks to
	talkers []int   // hosts by talkativeness
	out     [][]rule
	probe   string
}

func newModel(n int, seed uint64) *model {
	rng := mrand.New(mrand.NewPCG(seed, 0x7e1e))
	m := &model{zones: zoneSpecs, reaches: reachSpecs, probe: "probe-host"}
	for i := range n {
		u, z := rng.Float64(), 0
		for acc := 0.0; z < len(zoneSpecs)-1; z++ {
			if acc += zoneSpecs[z].share; u < acc {
				break
			}
		}
		h := host{name: fmt.Sprintf("h%05d", i), addr: fmt.Sprintf("10.%d.%d.%d", z, i/250, 1+i%250), zone: z}
		if zs := zoneSpecs[z]; rng.Float64() < zs.serves {
			h.port, h.proto = zs.ports[rng.IntN(len(zs.ports))], "tcp"
			if h.port == 53 {
				h.proto = "udp"
				m.dns = append(m.dns, i)
			} else {
				m.servers = append(m.servers, i)
			}
		}
		m.hosts = append(m.hosts, h)
	}
	if len(m.dns) == 0 { // a resolver there must be
		m.dns = append(m.dns, m.servers[0])
	}
	rng.Shuffle(len(m.servers), func(i, j int) { m.servers[i], m.servers[j] = m.servers[j], m.servers[i] })
	m.byZone = make([][]int, len(m.zones))
	for _, i := range m.servers {
		m.byZone[m.hosts[i].zone] = append(m.byZone[m.hosts[i].zone], i)
	}
	m.talkers = rng.Perm(n)
	m.index()
	return m
}

// write stores the twin: zones, hosts (names, addresses, IN_ZONE), REACHES rules and the probe
// host, in batches of at most 2 000 hosts.
func (m *model) write(ctx context.Context, db *graph.DB, twin string) error {
	if _, _, err := (graph.Twins{DB: db}).Ensure(ctx, twin, ownerTag()); err != nil {
		return err
	}
	opt := graph.WriteOptions{Source: "bench-telemetry"}
	var zb graph.Batch
	zb.Nodes = append(zb.Nodes, graph.NodeRow{Label: graph.LabelZone, Key: "internet", Props: map[string]any{"internet": true, "trust": "UNTRUSTED"}})
	for _, z := range m.zones {
		zb.Nodes = append(zb.Nodes, graph.NodeRow{Label: graph.LabelZone, Key: z.name, Props: map[string]any{"trust": "MEDIUM"}})
	}
	for _, r := range m.reaches {
		zb.Edges = append(zb.Edges, graph.EdgeRow{Type: "REACHES", From: graph.NodeRef{Label: graph.LabelZone, Key: r.from},
			To: graph.NodeRef{Label: graph.LabelZone, Key: r.to}, Props: map[string]any{"port": r.port, "proto": r.proto}})
	}
	zb.Nodes = append(zb.Nodes, graph.NodeRow{Label: graph.LabelHost, Key: m.probe, Props: map[string]any{"addresses": []string{"10.255.255.1"}, "type": "VM"}})
	zb.Edges = append(zb.Edges, graph.EdgeRow{Type: "IN_ZONE", From: graph.NodeRef{Label: graph.LabelHost, Key: m.probe}, To: graph.NodeRef{Label: graph.LabelZone, Key: "mgmt"}})
	if _, err := db.Write(ctx, twin, zb, opt); err != nil {
		return fmt.Errorf("write zones: %w", err)
	}
	for chunk := range slices.Chunk(m.hosts, 2000) {
		var hb graph.Batch
		for _, h := range chunk {
			hb.Nodes = append(hb.Nodes, graph.NodeRow{Label: graph.LabelHost, Key: h.name, Props: map[string]any{"addresses": []string{h.addr}, "os": "linux", "type": "VM"}})
			hb.Edges = append(hb.Edges, graph.EdgeRow{Type: "IN_ZONE", From: graph.NodeRef{Label: graph.LabelHost, Key: h.name},
				To: graph.NodeRef{Label: graph.LabelZone, Key: m.zones[h.zone].name}})
		}
		if _, err := db.Write(ctx, twin, hb, opt); err != nil {
			return fmt.Errorf("write hosts: %w", err)
		}
	}
	return nil
}

// zoneDMZ is the index of the DMZ in zoneSpecs.
const zoneDMZ = 0

// rule is a REACHES rule from a zone's side.
type rule struct {
	zone, port int
	proto      string
}

// index builds m.out: the rules each zone's hosts may follow, DNS aside.
func (m *model) index() {
	byName := map[string]int{}
	for i, z := range m.zones {
		byName[z.name] = i
	}
	m.out = make([][]rule, len(m.zones))
	for _, r := range m.reaches {
		from, ok1 := byName[r.from]
		to, ok2 := byName[r.to]
		if ok1 && ok2 && r.port != 53 && len(m.byZone[to]) > 0 {
			m.out[from] = append(m.out[from], rule{zone: to, port: r.port, proto: r.proto})
		}
	}
}

// pick is a server of a zone, the popular ones more often; a zone without one gives any server.
func (m *model) pick(zone int, z *mrand.Zipf) host {
	list := m.byZone[zone]
	if len(list) == 0 {
		list = m.servers
	}
	return m.hosts[list[int(z.Uint64())%len(list)]]
}

// pickPort is a server of a zone listening on port (0: any), the popular ones more often.
func (m *model) pickPort(zone, port int, z *mrand.Zipf, rng *mrand.Rand) host {
	for range 20 {
		if h := m.pick(zone, z); port == 0 || h.port == port {
			return h
		}
	}
	list := m.byZone[zone]
	for range 200 {
		if h := m.hosts[list[rng.IntN(len(list))]]; h.port == port {
			return h
		}
	}
	return m.pick(zone, z)
}

// ---- the events ----

type message struct {
	subject, id string
	data        []byte
}

var (
	commonPorts = []int{22, 443, 80, 445, 3389, 8080}
	metricNames = []string{"cpu.util", "mem.used", "disk.used", "net.rx"}
	techniques  = []string{"T1046", "T1110", "T1059.001", "T1021", "T1071", "", "", ""}
	severities  = []string{telemetry.SeverityLow, telemetry.SeverityMedium, telemetry.SeverityHigh}
	sensors     = []string{"suricata", "zeek", "falco", "wazuh"}
)

// generate makes n events, seeded, about the twin: flows (70%), auth (15%), metrics (10%) and
// alerts (5%), and encodes them in parallel.
func (m *model) generate(twin string, n int, seed uint64, at time.Time) ([]message, string, error) {
	rng := mrand.New(mrand.NewPCG(seed, 0xe7e7))
	talk := mrand.NewZipf(rng, 1.2, 1, uint64(len(m.talkers)-1))
	serve := mrand.NewZipf(rng, 1.1, 1, uint64(len(m.servers)-1))
	users := mrand.NewZipf(rng, 1.1, 1, 1999)
	rules := mrand.NewZipf(rng, 1.3, 1, 39)
	ext := mrand.NewZipf(rng, 1.2, 1, 511)
	end := func(h host) string { // sensors mostly see addresses
		if rng.Float64() < 0.8 {
			return h.addr
		}
		return h.name
	}
	evs := make([]telemetry.Event, n)
	var kinds [4]int
	for i := range evs {
		e := telemetry.Event{ID: fmt.Sprintf("%d-%d", seed, i), Twin: twin, Time: at.Add(time.Duration(i) * time.Microsecond)}
		u := rng.Float64()
		switch {
		case u < 0.70:
			kinds[0]++
			f := &telemetry.Flow{Proto: "tcp", Bytes: 200 + int64(rng.ExpFloat64()*20000)}
			src := m.hosts[m.talkers[talk.Uint64()]]
			switch v := rng.Float64(); {
			case v < 0.03: // from the internet to the DMZ
				f.Src = fmt.Sprintf("203.0.%d.%d", 113+ext.Uint64()/256, 1+ext.Uint64()%254)
				f.Dst, f.Port = end(m.pick(zoneDMZ, serve)), 443
			case v < 0.18: // name resolution
				f.Src, f.Dst, f.Port, f.Proto = end(src), end(m.hosts[m.dns[rng.IntN(len(m.dns))]]), 53, "udp"
			case v < 0.20: // what the design does not allow: anywhere, on a common port
				f.Src, f.Dst, f.Port = end(src), end(m.hosts[m.servers[rng.IntN(len(m.servers))]]), commonPorts[rng.IntN(len(commonPorts))]
			default: // what the design allows: a rule of the source's zone, or its own zone
				f.Src = end(src)
				rules := m.out[src.zone]
				if len(rules) == 0 || rng.Float64() < 0.2 {
					d := m.pick(src.zone, serve)
					f.Dst, f.Port = end(d), d.port
					if d.port == 0 {
						f.Port = commonPorts[rng.IntN(len(commonPorts))]
					}
					break
				}
				r := rules[rng.IntN(len(rules))]
				d := m.pickPort(r.zone, r.port, serve, rng)
				f.Dst, f.Port, f.Proto = end(d), cmp.Or(r.port, d.port), cmp.Or(r.proto, "tcp")
			}
			f.Packets = f.Bytes/1000 + 1
			e.Kind, e.Source, e.Flow = telemetry.KindFlow, fmt.Sprintf("urn:sectwin:bench-telemetry:zeek-%d", i%8), f
		case u < 0.85:
			kinds[1]++
			a := &telemetry.Auth{Principal: fmt.Sprintf("user%04d", users.Uint64()), Outcome: telemetry.OutcomeSuccess,
				Src: m.hosts[m.talkers[talk.Uint64()]].addr, Target: m.hosts[m.servers[serve.Uint64()]].name, Method: "publickey"}
			if rng.Float64() < 0.08 {
				a.Outcome, a.Method = telemetry.OutcomeFailure, "password"
			}
			e.Kind, e.Source, e.Auth = telemetry.KindAuth, fmt.Sprintf("urn:sectwin:bench-telemetry:sshd-%d", i%4), a
		case u < 0.95:
			kinds[2]++
			mt := &telemetry.Metric{Entity: m.hosts[rng.IntN(len(m.hosts))].name, Name: metricNames[rng.IntN(len(metricNames))],
				Value: float64(rng.IntN(10000)) / 100, Unit: "%"}
			e.Kind, e.Source, e.Metric = telemetry.KindMetric, fmt.Sprintf("urn:sectwin:bench-telemetry:node-exporter-%d", i%4), mt
		default:
			kinds[3]++
			r := int(rules.Uint64())
			h := m.hosts[m.talkers[talk.Uint64()]]
			a := &telemetry.Alert{Source: sensors[r%len(sensors)], Rule: fmt.Sprintf("bench-rule-%02d", r), Severity: severities[r%len(severities)],
				Entity: end(h), Technique: techniques[r%len(techniques)], Message: "synthetic detection (bench-telemetry)"}
			e.Kind, e.Source, e.Alert = telemetry.KindAlert, fmt.Sprintf("urn:sectwin:bench-telemetry:%s-%d", a.Source, i%2), a
		}
		evs[i] = e
	}
	out := make([]message, n)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				data, err := telemetry.Encode(evs[i])
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("event %d: %w", i, err))
					mu.Unlock()
					return
				}
				out[i] = message{subject: telemetry.Subject(twin, evs[i].Kind), id: evs[i].Source + "/" + evs[i].ID, data: data}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, "", firstErr
	}
	f := func(k int) float64 { return 100 * float64(kinds[k]) / float64(n) }
	return out, fmt.Sprintf("%.1f%% flows, %.1f%% auth, %.1f%% metrics, %.1f%% alerts", f(0), f(1), f(2), f(3)), nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ---- publishing ----

type publishers struct {
	conns []*nats.Conn
	js    []jetstream.JetStream
	acked atomic.Int64
	dups  atomic.Int64
	errs  atomic.Int64
	err   atomic.Value
}

func newPublishers(url, token string, n, inflight int) (*publishers, error) {
	if url == "" {
		return nil, errors.New("the embedded NATS does not listen")
	}
	p := &publishers{}
	for i := range n {
		nc, err := nats.Connect(url, nats.Token(token), nats.Name(fmt.Sprintf("bench-telemetry-publisher-%d", i)))
		if err != nil {
			p.close()
			return nil, err
		}
		p.conns = append(p.conns, nc)
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(inflight),
			jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, _ *nats.Msg, ack *jetstream.PubAck) {
				p.acked.Add(1)
				if ack.Duplicate {
					p.dups.Add(1)
				}
			}),
			jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
				p.errs.Add(1)
				p.err.CompareAndSwap(nil, fmt.Errorf("%s: %w", m.Subject, err))
			}))
		if err != nil {
			p.close()
			return nil, err
		}
		p.js = append(p.js, js)
	}
	return p, nil
}

// publish sends msgs, message i from publisher i mod n, at about rate events per second in all
// (0: unpaced), and waits until every one is acknowledged.
func (p *publishers) publish(ctx context.Context, msgs []message, rate int) error {
	n := len(p.js)
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := time.Now()
	for w := range n {
		wg.Go(func() {
			js := p.js[w]
			sent := 0
			for i := w; i < len(msgs); i += n {
				if rate > 0 && sent%64 == 0 {
					due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				for {
					_, err := js.PublishAsync(msgs[i].subject, msgs[i].data, jetstream.WithMsgID(msgs[i].id), jetstream.WithStallWait(30*time.Second))
					if err == nil {
						break
					}
					if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || ctx.Err() != nil {
						errs[w] = err
						return
					}
				}
				sent++
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				errs[w] = ctx.Err()
			case <-time.After(2 * time.Minute):
				errs[w] = fmt.Errorf("%d publishes not acknowledged after 2 minutes", js.PublishAsyncPending())
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if e, _ := p.err.Load().(error); e != nil {
		return fmt.Errorf("%d publishes failed; the first: %w", p.errs.Load(), e)
	}
	return nil
}

func (p *publishers) close() {
	for _, nc := range p.conns {
		nc.Close()
	}
}

// ---- the worker, timed ----

// windowStat is one ApplyOps call.
type windowStat struct {
	dur                        time.Duration
	events                     int
	flows, alerts, seen, nodes int
	applied                    bool
}

// timedStore wraps the worker's store and decoder, and (through timedAnnouncer) its
// announcer, to see where the worker's time goes. Every method runs on the worker's goroutine,
// except what the prober and the report read, under mu.
type timedStore struct {
	db   *graph.DB
	live *graph.LiveState // what serve's worker writes through
	keep bool

	mu                              sync.Mutex
	windows                         []windowStat
	batches                         []keptBatch
	decoded                         int // events decoded since the last ApplyOps
	decodeT, aggT, applyT, announce time.Duration
	observe                         time.Duration
	lastApplyEnd, lastDecodeEnd     time.Time
	inWindow                        bool
	applying                        time.Time // when the ApplyOps in flight started
	commits                         int       // ApplyOps calls ever, the warm-up's included
	// seen and committed: when the worker decoded and committed each probe (by rule).
	seen, committed map[string]time.Time
}

func (s *timedStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows, s.batches, s.decoded = nil, nil, 0
	clear(s.seen)
	clear(s.committed)
	s.decodeT, s.aggT, s.applyT, s.announce, s.observe = 0, 0, 0, 0, 0
	s.lastApplyEnd, s.inWindow = time.Time{}, false
}

func (s *timedStore) decode(twin, kind string, data []byte) (telemetry.Event, error) {
	t0 := time.Now()
	ev, err := telemetry.DecodeFor(twin, kind, data)
	t1 := time.Now()
	s.mu.Lock()
	s.decodeT += t1.Sub(t0)
	if err == nil {
		s.decoded++
	}
	s.inWindow, s.lastDecodeEnd = true, t1
	if err == nil && ev.Alert != nil && ev.Alert.Severity == probeSeverity {
		s.seen[ev.Alert.Rule] = t1
	}
	s.mu.Unlock()
	return ev, err
}

func (s *timedStore) TelemetryCursor(ctx context.Context, twin, stream string) (uint64, error) {
	return s.live.TelemetryCursor(ctx, twin, stream)
}

func (s *timedStore) ApplyOps(ctx context.Context, twin string, b graph.OpsBatch) (graph.OpsResult, error) {
	t0 := time.Now()
	s.mu.Lock()
	s.applying = t0
	s.mu.Unlock()
	res, err := s.live.ApplyOps(ctx, twin, b)
	t1 := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applying = time.Time{}
	if s.inWindow {
		s.aggT += t0.Sub(s.lastDecodeEnd)
		s.inWindow = false
	}
	s.applyT += t1.Sub(t0)
	s.lastApplyEnd = t1
	s.commits++
	if err != nil {
		return res, err
	}
	// The reader decodes the next window while this one is applied: count this one's events
	// from its rows (every generated flow and alert stands for one event, every auth and
	// metric gives one seen row).
	events := len(b.Seen) + len(b.Deploys)
	for _, f := range b.Flows {
		events += int(f.Count)
	}
	for _, a := range b.Alerts {
		events += int(a.Count)
	}
	s.windows = append(s.windows, windowStat{dur: t1.Sub(t0), events: events, flows: len(b.Flows), alerts: len(b.Alerts), seen: len(b.Seen), nodes: len(res.Nodes), applied: res.Applied})
	if s.keep && res.Applied {
		s.batches = append(s.batches, keptBatch{b: b, events: events})
	}
	s.decoded = 0
	for _, a := range b.Alerts {
		if a.Severity == probeSeverity {
			s.committed[a.Rule] = t1
		}
	}
	return res, nil
}

type timedAnnouncer struct {
	inner livestate.Announcer
	ts    *timedStore
}

func (a *timedAnnouncer) Publish(ctx context.Context, c events.Change) error {
	t0 := time.Now()
	err := a.inner.Publish(ctx, c)
	a.ts.addAnnounce(time.Since(t0))
	return err
}

func (a *timedAnnouncer) PublishAlerts(ctx context.Context, r events.AlertsRaised) error {
	t0 := time.Now()
	err := a.inner.PublishAlerts(ctx, r)
	a.ts.addAnnounce(time.Since(t0))
	return err
}

// timedObserver times the detectors that watch each window (they run on the worker's goroutine).
type timedObserver struct {
	inner livestate.Observer
	ts    *timedStore
}

func (o *timedObserver) Window(ctx context.Context, twin string, evs []telemetry.Event, res graph.OpsResult) {
	t0 := time.Now()
	o.inner.Window(ctx, twin, evs, res)
	d := time.Since(t0)
	o.ts.mu.Lock()
	o.ts.observe += d
	o.ts.mu.Unlock()
}

func (s *timedStore) addAnnounce(d time.Duration) {
	s.mu.Lock()
	s.announce += d
	s.mu.Unlock()
}

// workerSplit is where the worker's wall time went.
type workerSplit struct {
	wall, decode, agg, apply, announce, observe time.Duration
}

func (s *timedStore) split(wall time.Duration) workerSplit {
	s.mu.Lock()
	defer s.mu.Unlock()
	apply := s.applyT
	if !s.applying.IsZero() { // a run cut short
		apply += time.Since(s.applying)
	}
	return workerSplit{wall: wall, decode: s.decodeT, agg: s.aggT, apply: apply, announce: s.announce, observe: s.observe}
}

func (w workerSplit) applyShare() float64  { return w.apply.Seconds() / w.wall.Seconds() }
func (w workerSplit) decodeShare() float64 { return w.decode.Seconds() / w.wall.Seconds() }

func (w workerSplit) String() string {
	rest := w.wall - w.decode - w.agg - w.apply - w.announce - w.observe
	f := func(d time.Duration) string {
		return fmt.Sprintf("%s (%.0f%%)", d.Round(time.Millisecond), 100*d.Seconds()/w.wall.Seconds())
	}
	return fmt.Sprintf("of %s: ApplyOps %s, decode %s, aggregate %s, announce %s, detectors %s, fetch+ack+idle %s", w.wall.Round(time.Millisecond),
		f(w.apply), f(w.decode), f(w.agg), f(w.announce), f(w.observe), f(rest))
}

func (s *timedStore) windowCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

func (s *timedStore) applyPct(p float64) time.Duration {
	s.mu.Lock()
	ds := make([]time.Duration, 0, len(s.windows))
	for _, w := range s.windows {
		ds = append(ds, w.dur)
	}
	s.mu.Unlock()
	return pct(ds, p)
}

func (s *timedStore) windowSummary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.windows) == 0 {
		return "none"
	}
	var flows, alerts, seen, nodes int
	var dur time.Duration
	for _, w := range s.windows {
		flows, alerts, seen, nodes, dur = flows+w.flows, alerts+w.alerts, seen+w.seen, nodes+w.nodes, dur+w.dur
	}
	n := float64(len(s.windows))
	per := func(x int) float64 { return float64(x) / n }
	return fmt.Sprintf("%d ApplyOps calls, on average %.0f flow rows, %.0f alert rows, %.0f seen rows, %.0f nodes touched, %.1f ms (%.1f µs per flow row)",
		len(s.windows), per(flows), per(alerts), per(seen), per(nodes), ms(dur)/n, float64(dur.Microseconds())/float64(max(flows, 1)))
}

// keptBatch is an applied window kept for the raw baseline, with the events it stands for.
type keptBatch struct {
	b      graph.OpsBatch
	events int
}

// replay applies the kept windows to another twin with ApplyOps alone, in order, until limit has
// passed, and returns how many windows and events it applied and the time it took.
func (s *timedStore) replay(ctx context.Context, db *graph.DB, twin string, limit time.Duration) (n, events int, took time.Duration, err error) {
	s.mu.Lock()
	batches := slices.Clone(s.batches)
	s.mu.Unlock()
	live := graph.NewLiveState(db)
	t0 := time.Now()
	for _, kb := range batches {
		if time.Since(t0) > limit {
			break
		}
		if _, err := live.ApplyOps(ctx, twin, kb.b); err != nil {
			return 0, 0, 0, err
		}
		n, events = n+1, events+kb.events
	}
	return n, events, time.Since(t0), nil
}

// probesCommitted is how many probes the worker has committed.
func (s *timedStore) probesCommitted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.committed)
}

// ---- probes ----

type stage int

const (
	stageDecoded stage = iota
	stageCommitted
)

type probe struct {
	rule string
	sent time.Time
}

// prober publishes probe alerts and polls GraphQL until each is visible.
type prober struct {
	b            *bus.Bus
	gql          *client
	ts           *timedStore
	twin, entity string
	prefix       string

	mu      sync.Mutex
	n       int
	pending map[string]probe
	sentAt  map[string]time.Time
	visible []time.Duration
	lost    int
	skipped int
	stopped bool
	n0      int // probes sent before the timed run
}

// maxPending bounds the probes waiting to be seen: a poll returns at most 500 alerts, newest
// first, so more would hide the oldest. A probe not sent for it is counted as skipped.
const maxPending = 400

func (p *prober) send(ctx context.Context) error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil
	}
	if len(p.pending) >= maxPending {
		p.skipped++
		p.mu.Unlock()
		return nil
	}
	p.n++
	rule := fmt.Sprintf("%s%05d", p.prefix, p.n)
	p.mu.Unlock()
	now := time.Now()
	e := telemetry.Event{ID: rule, Source: "urn:sectwin:bench-telemetry:probe", Time: now, Twin: p.twin, Kind: telemetry.KindAlert,
		Alert: &telemetry.Alert{Source: "bench-probe", Rule: rule, Severity: probeSeverity, Entity: p.entity, Message: "visibility probe"}}
	data, err := telemetry.Encode(e)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.pending[rule] = probe{rule: rule, sent: now}
	if p.sentAt == nil {
		p.sentAt = map[string]time.Time{}
	}
	p.sentAt[rule] = now
	p.mu.Unlock()
	return p.b.Publish(ctx, telemetry.Subject(p.twin, telemetry.KindAlert), data, e.Source+"/"+e.ID)
}

// once sends one probe and polls until it is visible.
func (p *prober) once(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	if err := p.send(ctx); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := p.poll(ctx); err != nil {
			return 0, err
		}
		p.mu.Lock()
		if len(p.pending) == 0 {
			d := p.visible[0]
			p.visible, p.n0, p.sentAt = nil, p.n, nil
			p.mu.Unlock()
			return d, nil
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("not visible through GraphQL after %s", timeout)
}

func (p *prober) publishLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.send(ctx); err != nil && ctx.Err() == nil {
				logf("probe: %v", err)
			}
		}
	}
}

func (p *prober) stopPublishing() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
}

func (p *prober) pollLoop(ctx context.Context, every time.Duration) {
	lastWindows, lastPoll := -1, time.Time{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			idle := len(p.pending) == 0
			p.mu.Unlock()
			// Nothing new can be visible before the worker commits a window: the poller waits
			// for one (or a second) rather than load Neo4j while the worker is behind.
			w := p.ts.windowCount()
			if idle || (w == lastWindows && time.Since(lastPoll) < time.Second) {
				continue
			}
			lastWindows, lastPoll = w, time.Now()
			if err := p.poll(ctx); err != nil && ctx.Err() == nil {
				logf("poll: %v", err)
			}
		}
	}
}

// poll asks GraphQL for the CRITICAL alerts since the oldest pending probe and records the
// probes it finds.
func (p *prober) poll(ctx context.Context) error {
	p.mu.Lock()
	since := time.Time{}
	for _, pr := range p.pending {
		if since.IsZero() || pr.sent.Before(since) {
			since = pr.sent
		}
	}
	p.mu.Unlock()
	if since.IsZero() {
		return nil
	}
	var out struct {
		Alerts []struct {
			Rule string `json:"rule"`
		} `json:"alerts"`
	}
	err := p.gql.query(ctx, `query($t: String!, $s: Time) { alerts(twin: $t, since: $s, severity: "CRITICAL", first: 500) { rule } }`,
		map[string]any{"t": p.twin, "s": since.Add(-time.Second).UTC().Format(time.RFC3339Nano)}, &out)
	now := time.Now()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range out.Alerts {
		if pr, ok := p.pending[a.Rule]; ok {
			p.visible = append(p.visible, now.Sub(pr.sent))
			delete(p.pending, a.Rule)
		}
	}
	return nil
}

// drain polls until no probe is pending or d has passed; the rest count as lost.
func (p *prober) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.pending)
		p.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	p.lost = len(p.pending)
	p.mu.Unlock()
}

func (p *prober) sent() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.n - p.n0)
}

func (p *prober) skippedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.skipped
}

func (p *prober) missing() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func (p *prober) visibleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.visible)
}

// pendingAges are how long ago the probes not yet visible were sent.
func (p *prober) pendingAges() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Duration
	for _, pr := range p.pending {
		out = append(out, time.Since(pr.sent))
	}
	return out
}

func (p *prober) latencies() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.visible)
}

func (p *prober) pct(q float64) time.Duration { return pct(p.latencies(), q) }

// stagePct is the q-th percentile of publish→decoded or publish→committed over the probes.
func (p *prober) stagePct(st stage, q float64) time.Duration {
	p.mu.Lock()
	sent := maps.Clone(p.sentAt)
	p.mu.Unlock()
	p.ts.mu.Lock()
	at := p.ts.seen
	if st == stageCommitted {
		at = p.ts.committed
	}
	var ds []time.Duration
	for rule, t := range sent {
		if a, ok := at[rule]; ok {
			ds = append(ds, a.Sub(t))
		}
	}
	p.ts.mu.Unlock()
	return pct(ds, q)
}

// ---- Neo4j sampling ----

// neo4jSampler samples Neo4j's running transactions and counts the statements they run.
type neo4jSampler struct {
	db      *graph.DB
	mu      sync.Mutex
	counts  map[string]int
	samples atomic.Int64
}

var statementClasses = []struct{ prefix, name string }{
	{"MERGE (c:TelemetryCursor", "cursor"},
	{"UNWIND $names AS e", "resolve endpoints"},
	{"UNWIND $rows AS row\nMATCH (n:Host", "seen (hosts)"},
	{"UNWIND $rows AS row\nMATCH (n:Service", "seen (services)"},
	{"UNWIND $rows AS f", "flows"},
	{"UNWIND $rows AS row\nMERGE (a:Alert", "alerts"},
	{"MATCH (a:Alert", "alerts read (GraphQL)"},
}

func (s *neo4jSampler) run(ctx context.Context) {
	var ports map[string]bool
	var portsAt time.Time
	s.counts = map[string]int{}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		out, err := s.db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			res, err := tx.Run(ctx, "SHOW TRANSACTIONS YIELD currentQuery, status, clientAddress", nil)
			if err != nil {
				return nil, err
			}
			return res.Collect(ctx)
		})
		if err != nil {
			if ctx.Err() == nil {
				logf("neo4j sampling stopped: %v", err)
			}
			return
		}
		if time.Since(portsAt) > 500*time.Millisecond {
			ports, portsAt = ownPorts(), time.Now()
		}
		s.samples.Add(1)
		s.mu.Lock()
		for _, r := range out.([]*neo4j.Record) {
			q, _ := r.Values[0].(string)
			addr, _ := r.Values[2].(string)
			if _, port, ok := strings.Cut(addr, ":"); !ok || !ports[port] {
				continue // another process's transaction
			}
			if strings.HasPrefix(q, "SHOW TRANSACTIONS") {
				continue
			}
			name := strings.Join(strings.Fields(q), " ")
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			if q == "" {
				name = "between statements (commit, client)"
			}
			for _, c := range statementClasses {
				if strings.HasPrefix(q, c.prefix) {
					name = c.name
					break
				}
			}
			s.counts[name]++
		}
		s.mu.Unlock()
	}
}

// ownPorts are the local ports of this process's TCP connections, as decimal strings: Neo4j
// sees them as its clients' ports.
func ownPorts() map[string]bool {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	ports := map[string]bool{}
	for _, f := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || !inodes[fs[9]] {
				continue
			}
			if _, hexPort, ok := strings.Cut(fs[1], ":"); ok {
				var port int
				if _, err := fmt.Sscanf(hexPort, "%x", &port); err == nil {
					ports[fmt.Sprint(port)] = true
				}
			}
		}
	}
	return ports
}

func (s *neo4jSampler) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	names := make([]string, 0, len(s.counts))
	for k, v := range s.counts {
		total += v
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return s.counts[names[i]] > s.counts[names[j]] })
	if len(names) > 8 {
		names = names[:8]
	}
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(s.counts[k])/float64(max(total, 1))))
	}
	return strings.Join(parts, ", ")
}

// ---- GraphQL ----

// client posts GraphQL operations to the server with a read token.
type client struct {
	url, token string
}

func (c *client) query(ctx context.Context, q string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Errors[0].Message)
	}
	return json.Unmarshal(r.Data, out)
}

// connectionsTime times the analyst's connections query (the last 24 hours, first 100) over
// what the run left: the best of three.
func (c *client) connectionsTime(ctx context.Context, twin string) (float64, int, error) {
	best, rows := time.Duration(0), 0
	for range 3 {
		var out struct {
			Connections []struct {
				Port int `json:"port"`
			} `json:"connections"`
		}
		t0 := time.Now()
		if err := c.query(ctx, `query($t: String!) { connections(twin: $t, first: 100) { src { name } dst { name } port proto count designed } }`,
			map[string]any{"t": twin}, &out); err != nil {
			return 0, 0, err
		}
		if d := time.Since(t0); best == 0 || d < best {
			best = d
		}
		rows = len(out.Connections)
	}
	return ms(best), rows, nil
}
