// Command assurance measures live assurance re-evaluation: how long after a new CVE is ingested
// its status change is announced. It generates (once; later runs reuse it) a seeded twingen
// twin, binds a generated gsn2x case of about 10 000 elements to it (a goal per service with
// no_open_vulns, scan_fresh and attestation or heartbeat evidence, strategies per zone and
// service group, contexts), records the evidence the leaves need (a CycloneDX scan run of every
// artifact the services run, review attestations, a heartbeat per zone), imports the case and
// loads it into the live evaluator, wired as serve wires it: the real ingest pipeline and
// webhook, an embedded NATS, the real Neo4j.
//
// A few services' images are triaged clean first (OpenVEX not_affected, through the webhook), so
// that their no_open_vulns claims are SUPPORTED: twingen's estate leaves almost every image
// with an open HIGH vulnerability. Each round posts a small Grype report of a new CRITICAL CVE
// on a component of one such service's image (one that has no vulnerability yet) to
// POST /ingest?subject=<digest>, and times it until the first status change to UNDERMINED of an
// element of the case is received. The evidence store is wrapped to count the leaves evaluated:
// the bench fails if a round needed a full re-evaluation, or if no event comes within --timeout.
// Rounds log where the time went (pipeline, change event, dirty-leaf matching, evidence reads by
// store method, status save, announcement).
//
// After each round the no_open_vulns evidence of the other services whose images contain the
// component is evaluated afresh and compared with what live evaluation holds
// (assurance_stale_leaves_after_cve); an untimed last probe posts the same kind of CVE as a
// bare OSV advisory (assurance_osv_*). The case is stored without its source document (see
// importCase). It prints name=value lines, the last assurance_reeval_ms (of the last round).
//
//	go run ./bench/assurance [--nodes 100000] [--elements 10000] [--seed 1] [--rounds 5]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/bench/twingen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/formats"
	"github.com/sectwin/sectwin/ingest/gsn"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/osv"
	"github.com/sectwin/sectwin/ingest/pipeline"
	"github.com/sectwin/sectwin/ingest/webhook"
	"github.com/sectwin/sectwin/internal/assuring"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/migrations"
	"github.com/sectwin/sectwin/resolvers"
)

type options struct {
	nodes, elements, rounds int
	seed                    uint64
	fresh                   bool
	timeout                 time.Duration
	cpuprofile              string
	verbose, keepCase       bool
	withSource              bool
}

func main() {
	var o options
	flag.IntVar(&o.nodes, "nodes", 100_000, "nodes of the generated twin")
	flag.IntVar(&o.elements, "elements", 10_000, "elements of the generated assurance case (about)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the twin, the case and the rounds")
	flag.IntVar(&o.rounds, "rounds", 5, "new CVEs ingested, one per round")
	flag.BoolVar(&o.fresh, "fresh", false, "write the twin anew even if a complete copy is stored")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "how long a round waits for the UNDERMINED event")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the rounds to this file")
	flag.BoolVar(&o.verbose, "v", false, "log the server's warnings to stderr")
	flag.BoolVar(&o.withSource, "with-source", true, "store the case with its source document, as importAssuranceCase does (false: without, as a comparison)")
	flag.BoolVar(&o.keepCase, "keep-case", false, "leave the case in the twin when done (a server that loads every stored case would evaluate it)")
	flag.Parse()
	o.rounds = max(o.rounds, 1)
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-assurance:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-assurance: "+format+"\n", args...)
}

// caseID is the id of the generated case in the twin.
const caseID = "bench-assurance"

// cvePrefix marks the CVEs the rounds invent; no twingen id has it, and every run deletes them.
const cvePrefix = "CVE-2099-"

func run(o options) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		return fmt.Errorf("set NEO4J_URI, or run 'make bench-assurance', which starts Neo4j")
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

	// The twin, reused when a complete copy is stored. The CVEs of an interrupted run go first,
	// or the twin would not count as complete.
	cfg := twingen.Config{Seed: int64(o.seed), Nodes: o.nodes}
	tw := twingen.Generate(cfg)
	twin := "bench-assurance-" + strings.TrimPrefix(twingen.Name(tw.Config()), "gen-")
	if err := deleteBenchCVEs(ctx, db, twin); err != nil {
		return err
	}
	t0 := time.Now()
	last := time.Time{}
	reused, err := tw.Load(ctx, db, twin, o.fresh, func(done, total int) {
		if time.Since(last) < 5*time.Second && done < total {
			return
		}
		last = time.Now()
		logf("writing twin %s: %d/%d rows (%.0f%%), %s elapsed", twin, done, total, 100*float64(done)/float64(total), time.Since(t0).Round(time.Second))
	})
	if err != nil {
		return err
	}
	if reused {
		logf("reusing twin %s (%d nodes, %d edges; checked in %s)", twin, tw.Nodes(), tw.Edges(), time.Since(t0).Round(time.Millisecond))
	} else {
		logf("wrote twin %s (%d nodes, %d edges) in %s", twin, tw.Nodes(), tw.Edges(), time.Since(t0).Round(time.Second))
	}
	// Whatever happens, the invented CVEs go and the big case is not left for a server that
	// loads every stored case to evaluate.
	defer func() {
		c := context.WithoutCancel(ctx)
		if err := deleteBenchCVEs(c, db, twin); err != nil {
			logf("cleanup: %v", err)
		}
		if o.keepCase {
			return
		}
		if _, err := db.DeleteAssuranceCase(c, twin, caseID); err != nil {
			logf("cleanup: %v", err)
		}
	}()

	// The case.
	all, err := services(ctx, db, twin)
	if err != nil {
		return err
	}
	sh := shape(all, o.elements, o.seed)
	if len(sh.services) == 0 {
		return fmt.Errorf("twin %s has no service running an artifact", twin)
	}
	now := time.Now()
	if err := recordEvidence(ctx, db, twin, sh, now); err != nil {
		return err
	}
	t0 = time.Now()
	stored, err := importCase(ctx, db, twin, sh, o.withSource)
	if err != nil {
		return err
	}
	importTime := time.Since(t0)
	leaves := 0
	for _, e := range stored.Elements {
		if e.Evidence != "" && e.Type == "Solution" {
			leaves++
		}
	}
	logf("imported case %s: %d elements (%d leaves) about %d services in %d zones, in %s", caseID, len(stored.Elements), leaves,
		len(sh.services), len(sh.zones), importTime.Round(time.Millisecond))

	// The server's side: the bus, the ingest pipeline and its webhook, live evaluation.
	dir, err := os.MkdirTemp("", "bench-assurance-nats-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := zerolog.Nop()
	if o.verbose {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	}
	b, err := bus.Open(ctx, bus.Config{StoreDir: dir, Name: "bench-assurance", Logger: log})
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx))
	js, err := jobs.Open(ctx, b.JetStream())
	if err != nil {
		return err
	}
	docs, err := pipeline.OpenDocs(ctx, b.JetStream())
	if err != nil {
		return err
	}
	ev := events.NATS{Bus: b, Log: log}
	p := &pipeline.Pipeline{Bus: b, Jobs: js, Docs: docs, Graph: db, Parse: formats.Parse, Log: log, Announce: ev, MaxDeliver: 5}
	for range 2 { // serve's default --ingest-workers
		stop, err := b.Consume(ctx, bus.ConsumerSpec{Stream: bus.StreamIngest, Durable: "ingest-workers", FilterSubject: bus.SubjectIngest + ".>",
			AckWait: 5 * time.Minute, MaxDeliver: 5}, p.Handle)
		if err != nil {
			return err
		}
		defer stop()
	}
	tokens := graph.Tokens{DB: db}
	secret, rec, err := auth.Issue(ctx, tokens, auth.IssueRequest{Name: "bench-assurance", Scopes: []auth.Scope{auth.ScopeIngest, auth.ScopeRead}, Twins: []string{twin}}, time.Now())
	if err != nil {
		return err
	}
	defer db.AutoCommit(context.WithoutCancel(ctx), "MATCH (t:ApiToken {id: $id}) DELETE t", map[string]any{"id": rec.ID})
	srv := httptest.NewServer(server.New(server.Options{Log: log, Auth: auth.NewAuthenticator(tokens, time.Minute),
		Resolver: &resolvers.Resolver{Graph: db}, MaxComplexity: 1000,
		Ingest: &webhook.Handler{Pipeline: p, Parse: formats.Parse, Graph: db}}))
	defer srv.Close()

	// A few services' images are triaged clean (OpenVEX not_affected for every vulnerability
	// on their components, through the webhook), so that rounds can undermine a SUPPORTED claim.
	clean, err := triage(ctx, db, srv.URL, secret, twin, sh, o.rounds+3, o.seed)
	if err != nil {
		return err
	}

	// Live evaluation as serve runs it (assuring.New), with the evidence store, the case store
	// and the publisher wrapped to count and time what it does.
	pr := newProbe()
	live := assurancecase.NewLive(timedStore{DB: db, p: pr}, countingEvidence{inner: assurancecase.TwinEvidence{DB: db}, p: pr},
		timedPublisher{NATS: ev, p: pr}, log, assurancecase.LiveOptions{})
	if err := assuring.Start(ctx, live, b, log, false); err != nil {
		return err
	}
	t0 = time.Now()
	loaded, err := live.Load(ctx, twin, caseID)
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	loadTime := time.Since(t0)
	snap := pr.snapshot()
	byStatus := map[string]int{}
	for _, c := range loaded {
		byStatus[c.To]++
	}
	leafStatus := map[string]int{}
	for _, r := range live.Evidence(twin, caseID) {
		leafStatus[r.Status.String()+"/"+reasonName(r.Reason)]++
	}
	evFirst, evLast := snap.evidenceSpan()
	logf("loaded case in %s: %d leaves evaluated in %s (%s); statuses saved in %s; %d status changes announced in %s; elements %v; leaves %v",
		loadTime.Round(time.Millisecond), snap.evaluations(), evLast.Sub(evFirst).Round(time.Millisecond), snap.describeCalls(),
		snap.saves.total.Round(time.Millisecond), snap.pubbed, snap.pubs.total.Round(time.Millisecond), byStatus, leafStatus)
	supported := 0
	for _, i := range clean {
		if live.Evidence(twin, caseID)[vulnLeafID(i)].Status == assurance.Supported {
			supported++
		}
	}
	logf("%d of the %d triaged services have a SUPPORTED no_open_vulns leaf", supported, len(clean))
	if snap.evaluations() != leaves {
		return fmt.Errorf("loading evaluated %d leaves, but the case has %d: the count of evaluations is wrong", snap.evaluations(), leaves)
	}

	statuses, err := stampedStatus(ctx, ev, twin)
	if err != nil {
		return err
	}
	changes, err := stampedChanges(ctx, ev, twin)
	if err != nil {
		return err
	}
	// The same changes as live evaluation reads them: through the EVENTS stream.
	follow, err := ev.Follow(ctx)
	if err != nil {
		return err
	}
	followed := stamp(follow)
	settle(statuses, changes, 500*time.Millisecond)

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

	// The rounds.
	r := &rounds{ctx: ctx, db: db, twin: twin, sh: sh, live: live, pr: pr, base: srv.URL, token: secret,
		statuses: statuses, changes: changes, followed: followed, rng: rand.New(rand.NewPCG(o.seed, 0xc7e)), timeout: o.timeout, seed: o.seed,
		usedComponents: map[string]bool{}, usedServices: map[string]bool{}}
	var times []time.Duration
	var evals []int
	var stale, staleOf int
	for i := range o.rounds {
		res, err := r.round(i)
		if err != nil {
			return fmt.Errorf("round %d: %w", i+1, err)
		}
		times = append(times, res.elapsed)
		evals = append(evals, res.evaluations)
		stale += res.stale
		staleOf += res.others
		if res.evaluations >= leaves {
			return fmt.Errorf("round %d evaluated %d leaves of %d: a full re-evaluation", i+1, res.evaluations, leaves)
		}
	}
	// Not timed: the same kind of CVE as a bare OSV advisory, which names no artifact.
	osvMissed, osvOthers, osvEvents, err := r.osvProbe(o.rounds)
	if err != nil {
		return fmt.Errorf("OSV probe: %w", err)
	}
	slices.Sort(evals)
	fmt.Printf("twin_nodes=%d\ntwin_edges=%d\n", tw.Nodes(), tw.Edges())
	fmt.Printf("assurance_elements=%d\nassurance_leaves=%d\nassurance_services=%d\n", len(stored.Elements), leaves, len(sh.services))
	fmt.Printf("assurance_import_ms=%.0f\nassurance_load_ms=%.0f\n", ms(importTime), ms(loadTime))
	fmt.Printf("assurance_rounds=%d\n", len(times))
	fmt.Printf("assurance_leaf_evaluations_per_cve=%d\nassurance_dirty_leaves=%d\n", evals[len(evals)/2], evals[len(evals)-1])
	fmt.Printf("assurance_stale_leaves_after_cve=%d\nassurance_other_services_containing_component=%d\n", stale, staleOf)
	if osvOthers >= 0 {
		fmt.Printf("assurance_osv_status_events=%d\nassurance_osv_stale_leaves=%d\nassurance_osv_services_containing_component=%d\n", osvEvents, osvMissed, osvOthers)
	}
	fmt.Printf("assurance_reeval_p50_ms=%.1f\nassurance_reeval_max_ms=%.1f\n", ms(pct(times, 50)), ms(pct(times, 100)))
	fmt.Printf("assurance_reeval_ms=%.1f\n", ms(times[len(times)-1]))
	return nil
}

func reasonName(c assurance.Code) string {
	if c == 0 {
		return "PASS"
	}
	return c.String()
}

// query runs a read and returns its records.
func query(ctx context.Context, db *graph.DB, cypher string, params map[string]any) ([]*neo4j.Record, error) {
	out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, cypher, params)
		if err != nil {
			return nil, err
		}
		return res.Collect(ctx)
	})
	if err != nil {
		return nil, err
	}
	return out.([]*neo4j.Record), nil
}

// services lists the twin's services with the artifact each RUNS (the first by digest) and its
// zone (that of its first host by name).
func services(ctx context.Context, db *graph.DB, twin string) ([]service, error) {
	recs, err := query(ctx, db, `MATCH (s:Service {twin: $twin})-[:RUNS]->(a:Artifact)
WITH s, min(a.digest) AS artifact
OPTIONAL MATCH (s)-[:DEPLOYED_ON]->(h:Host)-[:IN_ZONE]->(z:Zone)
WITH s, artifact, h, z ORDER BY h.name
RETURN s.name, artifact, coalesce(head(collect(z.name)), 'unzoned') ORDER BY s.name`, map[string]any{"twin": twin})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var out []service
	for _, r := range recs {
		out = append(out, service{Name: r.Values[0].(string), Artifact: r.Values[1].(string), Zone: r.Values[2].(string)})
	}
	return out, nil
}

// recordEvidence stores what the leaves read, as of now: a CycloneDX scan run of every
// artifact a service of the case runs (an SBOM taken in), a review attestation of every
// service argued over by attestation, and a release of every zone's edge collector.
func recordEvidence(ctx context.Context, db *graph.DB, twin string, sh caseShape, now time.Time) error {
	t0 := time.Now()
	type job func() error
	var work []job
	seen := map[string]bool{}
	for i, sv := range sh.services {
		if !seen[sv.Artifact] {
			seen[sv.Artifact] = true
			work = append(work, func() error {
				return db.RecordScanRun(ctx, twin, graph.ScanRunRecord{Format: ingest.FormatCycloneDX, Tool: "bench-assurance",
					Artifact: sv.Artifact, Source: "cyclonedx:bench-assurance", Collected: now})
			})
		}
		if i%heartbeatEvery != heartbeatEvery-1 {
			work = append(work, func() error {
				_, err := db.SaveAttestation(ctx, twin, evidence.Attestation{ID: attestationID(sv.Name),
					Subject: graph.ID(graph.LabelService, twin, sv.Name), Topic: "bench-review", By: "bench-assurance",
					Statement: "Reviewed by the generated security team", At: now, Expires: now.Add(90 * 24 * time.Hour)})
				return err
			})
		}
	}
	errs := make(chan error, len(work))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, w := range work {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- w()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	if err := db.AutoCommit(ctx, `MATCH (e:EdgeEvent {twin: $twin}) WHERE e.site STARTS WITH 'bench-edge-' DETACH DELETE e`, map[string]any{"twin": twin}); err != nil {
		return err
	}
	var rel []graph.EdgeRelease
	for _, z := range sh.zones {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s", heartbeatSite(z), now.Format(time.RFC3339Nano)))
		rel = append(rel, graph.EdgeRelease{ID: hex.EncodeToString(sum[:]), Kind: "event", Site: heartbeatSite(z), Pipeline: "heartbeat",
			ReceivedAt: now, Data: `{"bench":"heartbeat"}`})
	}
	if _, err := db.WriteEdgeReleases(ctx, twin, rel); err != nil {
		return err
	}
	logf("recorded evidence: %d scan runs, %d attestations, %d heartbeats in %s", len(seen), len(work)-len(seen), len(rel), time.Since(t0).Round(time.Millisecond))
	return nil
}

// importCase does what the importAssuranceCase mutation does, in process: parse and validate the
// gsn2x file, map it, accept its evidence specs, store it (replacing the case of an earlier
// run whole, its history included).
//
// With withSource (the default) the case is stored with its source document, as an import
// stores it. (graph.DB.AssuranceCaseByID once grouped its elements by the case's properties,
// copying the 2.2 MB source into every element row: this bench found it running out of
// transaction memory at 10 000 elements.)
func importCase(ctx context.Context, db *graph.DB, twin string, sh caseShape, withSource bool) (graph.AssuranceCase, error) {
	files := map[string][]byte{"bench-assurance.gsn.yaml": sh.gsnYAML(twin)}
	parsed, err := gsn.ParseSet(files)
	if err != nil {
		return graph.AssuranceCase{}, fmt.Errorf("the generated case does not validate: %w", err)
	}
	c, err := assurancecase.FromGSN(twin, caseID, "Generated estate case", parsed, files, "bench-assurance", time.Now())
	if err != nil {
		return graph.AssuranceCase{}, err
	}
	if err := assurancecase.AcceptEvidence(ctx, assurancecase.TwinEvidence{DB: db}, c); err != nil {
		return graph.AssuranceCase{}, err
	}
	if !withSource {
		logf("storing the case without its %d-byte source document (--with-source=false)", len(c.Source))
		c.Source = ""
	}
	if _, err := db.DeleteAssuranceCase(ctx, twin, caseID); err != nil {
		return graph.AssuranceCase{}, err
	}
	if _, err := db.SaveAssuranceCase(ctx, c); err != nil {
		return graph.AssuranceCase{}, err
	}
	stored, err := db.AssuranceCaseByID(ctx, twin, caseID)
	if err != nil {
		return graph.AssuranceCase{}, fmt.Errorf("read the stored case back (graph.DB.AssuranceCaseByID): %w", err)
	}
	return stored, nil
}

func deleteBenchCVEs(ctx context.Context, db *graph.DB, twin string) error {
	err := db.AutoCommit(ctx, `MATCH (v:Vulnerability {twin: $twin}) WHERE v.vulnerabilityId STARTS WITH $prefix DETACH DELETE v`,
		map[string]any{"twin": twin, "prefix": cvePrefix})
	if err != nil {
		return fmt.Errorf("delete the bench's CVEs: %w", err)
	}
	return nil
}

// stamped is an event and when it was received.
type stamped[T any] struct {
	v  T
	at time.Time
}

// stampedStatus delivers the twin's status changes with their arrival time, buffered so that a
// burst (a whole case loaded) never blocks the subscription.
func stampedStatus(ctx context.Context, ev events.NATS, twin string) (<-chan stamped[events.StatusChanged], error) {
	in, err := ev.SubscribeStatus(ctx, twin)
	if err != nil {
		return nil, err
	}
	return stamp(in), nil
}

func stampedChanges(ctx context.Context, ev events.NATS, twin string) (<-chan stamped[events.Change], error) {
	in, err := ev.Subscribe(ctx, twin)
	if err != nil {
		return nil, err
	}
	return stamp(in), nil
}

func stamp[T any](in <-chan T) <-chan stamped[T] {
	out := make(chan stamped[T], 1<<16)
	go func() {
		defer close(out)
		for v := range in {
			select {
			case out <- stamped[T]{v, time.Now()}:
			default: // a burst nobody reads; rounds drain before they start
			}
		}
	}()
	return out
}

// settle drains both channels until they stay quiet for quiet.
func settle(a <-chan stamped[events.StatusChanged], b <-chan stamped[events.Change], quiet time.Duration) {
	for {
		select {
		case <-a:
		case <-b:
		case <-time.After(quiet):
			return
		}
	}
}

// rounds runs the timed rounds.
type rounds struct {
	ctx            context.Context
	db             *graph.DB
	twin           string
	sh             caseShape
	live           *assurancecase.Live
	pr             *probe
	base, token    string
	statuses       <-chan stamped[events.StatusChanged]
	changes        <-chan stamped[events.Change]
	followed       <-chan stamped[events.Change]
	rng            *rand.Rand
	timeout        time.Duration
	seed           uint64
	usedComponents map[string]bool
	usedServices   map[string]bool
}

type roundResult struct {
	elapsed       time.Duration
	evaluations   int
	stale, others int
}

// target is what a round's CVE hits: a component of the image of the case's service i.
type target struct {
	i                   int
	svc                 service
	purl, name, version string
	licenses            []string
	holders             []string // every artifact that CONTAINS the component
	wasSupported        bool
}

func (r *rounds) round(n int) (roundResult, error) {
	tg, err := r.pick()
	if err != nil {
		return roundResult{}, err
	}
	cve := fmt.Sprintf("%s%d%04d", cvePrefix, 1000+r.seed%9000, n+1)
	doc, err := grypeDoc(cve, tg)
	if err != nil {
		return roundResult{}, err
	}
	settle(r.statuses, r.changes, 50*time.Millisecond)
	for len(r.followed) > 0 {
		<-r.followed
	}
	r.pr.reset()

	t0 := time.Now()
	req, _ := http.NewRequestWithContext(r.ctx, http.MethodPost, r.base+"/ingest?twin="+url.QueryEscape(r.twin)+"&subject="+url.QueryEscape(tg.svc.Artifact), bytes.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return roundResult{}, err
	}
	var posted struct {
		Job jobs.Job `json:"job"`
	}
	err = json.NewDecoder(resp.Body).Decode(&posted)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		return roundResult{}, fmt.Errorf("POST /ingest: HTTP %d (%v)", resp.StatusCode, err)
	}
	tPosted := time.Now()

	var tChange, tFollowed time.Time
	var change events.Change
	var hit events.StatusChanged
	var tHit time.Time
	deadline := time.NewTimer(r.timeout)
	defer deadline.Stop()
wait:
	for {
		select {
		case c := <-r.changes:
			if tChange.IsZero() && strings.HasPrefix(c.v.Source, ingest.FormatGrype+":") {
				tChange, change = c.at, c.v
			}
		case c := <-r.followed:
			if tFollowed.IsZero() && strings.HasPrefix(c.v.Source, ingest.FormatGrype+":") {
				tFollowed = c.at
			}
		case s := <-r.statuses:
			if s.v.Case == caseID && s.v.To == assurance.Undermined.String() && (s.v.From != s.v.To || !tg.wasSupported) {
				hit, tHit = s.v, s.at
				break wait
			}
		case <-deadline.C:
			job, _ := r.getJob(posted.Job.ID)
			return roundResult{}, fmt.Errorf("no UNDERMINED status change within %s of posting %s on %s (job %s %s %v; change event seen: %t)",
				r.timeout, cve, tg.purl, job.ID, job.State, job.Errors, !tChange.IsZero())
		}
	}
	elapsed := tHit.Sub(t0)
	// The rest of the change's consequences: its other status changes come in the same burst.
	time.Sleep(300 * time.Millisecond)
	snap := r.pr.snapshot()
	if tFollowed.IsZero() {
		select {
		case c := <-r.followed:
			tFollowed = c.at
		default:
		}
	}
	// What Live.Apply does before it evaluates anything: match the change's nodes against the
	// watch of every leaf (the reads of its last result, for this case's specs).
	held := r.live.Evidence(r.twin, caseID)
	tm := time.Now()
	dirty, watched := 0, 0
	for _, res := range held {
		watched += len(res.Reads)
		for _, nd := range change.Nodes {
			if evidence.Matches(res.Reads, nd.Label, nd.Key) {
				dirty++
				break
			}
		}
	}
	matchTime := time.Since(tm)
	res := roundResult{elapsed: elapsed, evaluations: snap.evaluations()}

	evFirst, evLast := snap.evidenceSpan()
	since := func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return "?"
		}
		return fmt.Sprintf("%.1f ms", ms(b.Sub(a)))
	}
	subjects := slices.Clone(snap.subjects)
	slices.Sort(subjects)
	from := "SUPPORTED"
	if !tg.wasSupported {
		from = "UNDERMINED (already)"
	}
	logf("round %d: %s on %s in %s's image (%s, %s before); %s %s→%s after %.1f ms", n+1, cve, tg.purl, tg.svc.Name,
		short(tg.svc.Artifact), from, hit.Element, hit.From, hit.To, ms(elapsed))
	logf("  time: POST answered %s; change event received %s after the POST (through the EVENTS stream %s after it); evidence reads from %s after the change for %s (%s); statuses saved in %.1f ms (%d saves) from %s after the change; announced %s after the change, received %s after that",
		since(t0, tPosted), since(t0, tChange), since(tChange, tFollowed), since(tChange, evFirst), since(evFirst, evLast), snap.describeCalls(),
		ms(snap.saves.total), snap.saves.n, since(tChange, snap.saves.first), since(tChange, snap.pubs.first), since(snap.pubs.first, tHit))
	logf("  the change names %d nodes; matching them against the %d watched nodes of the case's %d leaves takes %.1f ms here (%d dirty)",
		len(change.Nodes), watched, len(held), ms(matchTime), dirty)
	logf("  leaves evaluated: %d (%s); status changes announced: %d", res.evaluations, strings.Join(subjects, "; "), snap.pubbed)

	// Does live evaluation hold every leaf the new CVE changed? The other services whose images
	// contain the component: their no_open_vulns evidence evaluated now, against what the live
	// evaluator holds.
	res.stale, res.others, err = r.staleLeaves(tg)
	if err != nil {
		return res, err
	}
	if res.others > 0 {
		logf("  %d other services of the case run an image containing %s; live evaluation holds a stale result for %d of their no_open_vulns leaves", res.others, tg.purl, res.stale)
	}
	return res, nil
}

func (r *rounds) getJob(id string) (jobs.Job, error) {
	req, _ := http.NewRequestWithContext(r.ctx, http.MethodGet, r.base+"/ingest/jobs/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return jobs.Job{}, err
	}
	defer resp.Body.Close()
	var out struct {
		Job jobs.Job `json:"job"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out.Job, err
}

// pick chooses the round's target: a service of the case not used yet, whose no_open_vulns leaf
// is SUPPORTED (else, when none is left, one already UNDERMINED), with a component in its image
// that no vulnerability affects and that no earlier round touched.
func (r *rounds) pick() (target, error) {
	leafs := r.live.Evidence(r.twin, caseID)
	order := r.rng.Perm(len(r.sh.services))
	for _, wantSupported := range []bool{true, false} {
		for _, i := range order {
			sv := r.sh.services[i]
			res, ok := leafs[vulnLeafID(i)]
			if !ok || r.usedServices[sv.Name] {
				continue
			}
			if wantSupported && res.Status != assurance.Supported || !wantSupported && res.Status != assurance.Undermined {
				continue
			}
			tg, ok, err := r.component(i, sv)
			if err != nil {
				return target{}, err
			}
			if !ok {
				continue
			}
			tg.wasSupported = wantSupported
			r.usedServices[sv.Name] = true
			r.usedComponents[tg.purl] = true
			return tg, nil
		}
	}
	return target{}, errors.New("no service of the case has a component without vulnerability left to hit")
}

// component picks a component of the service's image that no vulnerability affects, whose
// image shares no component with an earlier round's, and that a Grype report names by the
// same purl.
func (r *rounds) component(i int, sv service) (target, bool, error) {
	recs, err := query(r.ctx, r.db, `MATCH (a:Artifact {twin: $twin, digest: $digest})-[:CONTAINS]->(c:Component)
WHERE NOT EXISTS { (:Vulnerability)-[:AFFECTS]->(c) }
RETURN c.purl, coalesce(c.name, ''), coalesce(c.version, ''), coalesce(c.licenses, []),
  [(h:Artifact)-[:CONTAINS]->(c) | h.digest]
ORDER BY c.purl`, map[string]any{"twin": r.twin, "digest": sv.Artifact})
	if err != nil {
		return target{}, false, err
	}
	touched, err := query(r.ctx, r.db, `MATCH (a:Artifact {twin: $twin, digest: $digest})-[:CONTAINS]->(c:Component)<-[:AFFECTS]-(v:Vulnerability)
WHERE v.vulnerabilityId STARTS WITH $prefix RETURN count(*)`, map[string]any{"twin": r.twin, "digest": sv.Artifact, "prefix": cvePrefix})
	if err != nil {
		return target{}, false, err
	}
	if touched[0].Values[0].(int64) > 0 || len(recs) == 0 {
		return target{}, false, nil
	}
	for _, k := range r.rng.Perm(len(recs)) {
		v := recs[k].Values
		tg := target{i: i, svc: sv, purl: v[0].(string), name: v[1].(string), version: v[2].(string)}
		if r.usedComponents[tg.purl] {
			continue
		}
		for _, l := range v[3].([]any) {
			if s, ok := l.(string); ok {
				tg.licenses = append(tg.licenses, s)
			}
		}
		for _, h := range v[4].([]any) {
			tg.holders = append(tg.holders, h.(string))
		}
		// The report must name the twin's component, not a new one.
		doc, err := grypeDoc(cvePrefix+"0", tg)
		if err != nil {
			return target{}, false, err
		}
		parsed, err := formats.Parse(ingest.FormatGrype, doc)
		if err != nil {
			return target{}, false, err
		}
		if slices.Equal(parsed.Components, []string{tg.purl}) {
			return tg, true, nil
		}
	}
	return target{}, false, nil
}

// grypeDoc is a Grype JSON report of one CRITICAL match on the target's component.
func grypeDoc(cve string, tg target) ([]byte, error) {
	eco, _, _ := strings.Cut(strings.TrimPrefix(tg.purl, "pkg:"), "/")
	typ := map[string]string{"npm": "npm", "maven": "java-archive", "pypi": "python", "golang": "go-module"}[eco]
	if typ == "" {
		typ = eco
	}
	licenses := tg.licenses
	if licenses == nil {
		licenses = []string{}
	}
	return json.Marshal(map[string]any{
		"matches": []any{map[string]any{
			"vulnerability": map[string]any{
				"id": cve, "namespace": "bench:assurance", "severity": "Critical",
				"description": "Synthetic remote code execution in " + tg.name + " (bench/assurance)",
				"cvss": []any{map[string]any{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
					"metrics": map[string]any{"baseScore": 9.8}}},
				"fix": map[string]any{"versions": []string{}, "state": "not-fixed"},
			},
			"matchDetails": []any{map[string]any{"type": "exact-direct-match", "matcher": "bench-matcher",
				"found": map[string]any{"versionConstraint": "<=" + tg.version}}},
			"artifact": map[string]any{"name": tg.name, "version": tg.version, "type": typ, "purl": tg.purl, "licenses": licenses},
		}},
		"source":     map[string]any{"type": "image", "target": map[string]any{"userInput": "registry.example.com/bench/" + tg.svc.Name + ":current"}},
		"descriptor": map[string]any{"name": "grype", "version": "0.82.0"},
	})
}

// staleLeaves evaluates now the no_open_vulns evidence of the other services of the case whose
// images contain the target's component, and counts those whose live result differs in status.
func (r *rounds) staleLeaves(tg target) (stale, others int, err error) {
	return r.staleAmong(tg, false)
}

// staleAmong is staleLeaves, the target's own service included when withTarget.
func (r *rounds) staleAmong(tg target, withTarget bool) (stale, others int, err error) {
	holders := map[string]bool{}
	for _, h := range tg.holders {
		holders[h] = true
	}
	leafs := r.live.Evidence(r.twin, caseID)
	now := time.Now()
	order := []int{}
	if withTarget {
		order = append(order, tg.i)
	}
	for i := range r.sh.services {
		if i != tg.i {
			order = append(order, i)
		}
	}
	for _, i := range order {
		sv := r.sh.services[i]
		if !holders[sv.Artifact] {
			continue
		}
		others++
		spec := evidence.Spec{Kind: evidence.KindNoOpenVulns, Subject: &evidence.Subject{Service: sv.Name}, Window: evidence.Duration(30 * 24 * time.Hour),
			Scan: []string{"cyclonedx", "grype", "trivy"}, Vulns: &evidence.VulnCriteria{MinSeverity: "HIGH"}}
		fresh, err := evidence.Evaluate(r.ctx, assurancecase.TwinEvidence{DB: r.db}, r.twin, spec, now)
		if err != nil {
			return 0, 0, err
		}
		if held := leafs[vulnLeafID(i)]; held.Status != fresh.Status || held.Reason != fresh.Reason || !sameSet(held.Culprits, fresh.Culprits) {
			stale++
			if stale > 3 {
				continue
			}
			logf("  stale: %s (%s) holds %s/%s with %d culprits, evaluated now %s/%s with %d: %s", vulnLeafID(i), sv.Name, held.Status, reasonName(held.Reason),
				len(held.Culprits), fresh.Status, reasonName(fresh.Reason), len(fresh.Culprits), clip(fresh.Message, 160))
		}
	}
	return stale, others, nil
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// triage posts, for up to k services of the case (picked from the seed), an OpenVEX document
// stating not_affected for every vulnerability that affects a component of the service's image,
// and returns their indexes. A service whose statements would not name the twin's own nodes
// (an id or purl the parser normalises differently) is passed over.
func triage(ctx context.Context, db *graph.DB, base, token, twin string, sh caseShape, k int, seed uint64) ([]int, error) {
	t0 := time.Now()
	rng := rand.New(rand.NewPCG(seed, 0x7e4))
	var out []int
	statements := 0
	for _, i := range rng.Perm(len(sh.services)) {
		if len(out) == k {
			break
		}
		sv := sh.services[i]
		recs, err := query(ctx, db, `MATCH (a:Artifact {twin: $twin, digest: $digest})-[:CONTAINS]->(c:Component)<-[:AFFECTS]-(v:Vulnerability)
RETURN DISTINCT v.vulnerabilityId, c.purl ORDER BY v.vulnerabilityId, c.purl`, map[string]any{"twin": twin, "digest": sv.Artifact})
		if err != nil {
			return nil, err
		}
		type pair struct{ vuln, purl string }
		want := map[pair]bool{}
		var stmts []any
		for _, r := range recs {
			v, p := r.Values[0].(string), r.Values[1].(string)
			want[pair{v, p}] = true
			stmts = append(stmts, map[string]any{"vulnerability": map[string]any{"name": v}, "products": []any{map[string]any{"@id": p}},
				"status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
				"impact_statement": "Triaged by the generated security team (bench/assurance)."})
		}
		doc, _ := json.Marshal(map[string]any{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://bench.example/vex/" + sv.Name,
			"author": "bench-assurance", "timestamp": "2026-01-01T00:00:00Z", "version": 1, "statements": stmts})
		parsed, err := formats.Parse(ingest.FormatOpenVEX, doc)
		if err != nil {
			return nil, err
		}
		got := 0
		for _, e := range parsed.Batch.Edges {
			if e.Type == "AFFECTS" && want[pair{e.From.Key, e.To.Key}] {
				got++
			}
		}
		if got != len(want) || len(parsed.Batch.Edges) != len(want) {
			continue
		}
		if len(want) > 0 {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/ingest?wait=60s&twin="+url.QueryEscape(twin), bytes.NewReader(doc))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			var posted struct {
				Job jobs.Job `json:"job"`
			}
			err = json.NewDecoder(resp.Body).Decode(&posted)
			resp.Body.Close()
			if err != nil || posted.Job.State != jobs.Done {
				return nil, fmt.Errorf("OpenVEX triage of %s: HTTP %d, job %s %v (%v)", sv.Name, resp.StatusCode, posted.Job.State, posted.Job.Errors, err)
			}
		}
		statements += len(want)
		out = append(out, i)
	}
	logf("triaged %d services' images clean: %d not_affected statements in %s", len(out), statements, time.Since(t0).Round(time.Millisecond))
	return out, nil
}

// osvProbe posts an OSV advisory of a new CRITICAL CVE on a component (without vulnerability)
// of a service whose no_open_vulns leaf is SUPPORTED, waits for the job and three seconds more,
// and returns how many status changes of the case arrived, and among the case's services whose
// images contain the component (that service's included), how many leaves live evaluation
// holds stale. others is -1 when no target is left.
func (r *rounds) osvProbe(n int) (stale, others, statusEvents int, err error) {
	tg, err := r.pick()
	if err != nil || !tg.wasSupported {
		logf("OSV probe skipped: no SUPPORTED service left")
		return 0, -1, 0, nil
	}
	cve := fmt.Sprintf("%s%d%04d", cvePrefix, 1000+r.seed%9000, n+1)
	base, _, _ := strings.Cut(tg.purl, "@")
	eco, _, _ := strings.Cut(strings.TrimPrefix(base, "pkg:"), "/")
	ecosystem := map[string]string{"npm": "npm", "pypi": "PyPI", "maven": "Maven", "golang": "Go"}[eco]
	doc, _ := json.Marshal(map[string]any{
		"schema_version": "1.6.0", "id": cve, "modified": time.Now().UTC().Format(time.RFC3339),
		"summary":  "Synthetic remote code execution in " + tg.name + " (bench/assurance)",
		"severity": []any{map[string]any{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
		"affected": []any{map[string]any{"package": map[string]any{"ecosystem": ecosystem, "name": tg.name, "purl": base},
			"versions": []string{tg.version}}},
	})
	_, affected, err := osv.Advisory(doc)
	if err != nil {
		return 0, 0, 0, err
	}
	if len(affected) != 1 {
		return 0, 0, 0, fmt.Errorf("the advisory names %d packages", len(affected))
	}
	if hit, _, ok := osv.Affects(affected[0], tg.purl, tg.version); !ok || !hit {
		logf("OSV probe skipped: the advisory would not match %s", tg.purl)
		return 0, -1, 0, nil
	}
	settle(r.statuses, r.changes, 50*time.Millisecond)
	req, _ := http.NewRequestWithContext(r.ctx, http.MethodPost, r.base+"/ingest?wait=60s&twin="+url.QueryEscape(r.twin), bytes.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	var posted struct {
		Job jobs.Job `json:"job"`
	}
	err = json.NewDecoder(resp.Body).Decode(&posted)
	resp.Body.Close()
	if err != nil || posted.Job.State != jobs.Done {
		return 0, 0, 0, fmt.Errorf("POST /ingest: HTTP %d, job %s %v (%v)", resp.StatusCode, posted.Job.State, posted.Job.Errors, err)
	}
	recs, err := query(r.ctx, r.db, `MATCH (:Vulnerability {twin: $twin, vulnerabilityId: $id})-[:AFFECTS]->(c:Component) RETURN collect(c.purl)`,
		map[string]any{"twin": r.twin, "id": cve})
	if err != nil {
		return 0, 0, 0, err
	}
	if got := recs[0].Values[0].([]any); len(got) != 1 || got[0] != tg.purl {
		return 0, 0, 0, fmt.Errorf("the advisory affects %v, not %s", got, tg.purl)
	}
	deadline := time.After(3 * time.Second)
wait:
	for {
		select {
		case s := <-r.statuses:
			if s.v.Case == caseID {
				statusEvents++
			}
		case <-deadline:
			break wait
		}
	}
	stale, others, err = r.staleAmong(tg, true)
	if err != nil {
		return 0, 0, 0, err
	}
	logf("OSV probe: %s on %s (in %s's image, SUPPORTED, and %d images of the case's services in all): %d status changes in 3 s after the job was DONE; live evaluation holds a stale result for %d of those %d no_open_vulns leaves",
		cve, tg.purl, tg.svc.Name, others, statusEvents, stale, others)
	return stale, others, statusEvents, nil
}
