package attackanalysis_test

import (
	"math"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestTracesRaisePathsWithoutDeriving: internet → web (exposed, vulnerable) → db (a crown-jewel
// data store on host h1). Alerts and anomalies about web and h1 raise the path; reading them
// again after InvalidateTrace does not derive the graph; an override stays the untraced
// probability beside the raised one; evidence older than the window counts for nothing.
func TestTracesRaisePathsWithoutDeriving(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	err := db.AutoCommit(ctx, `CREATE (z:Zone {twin: $twin, name: 'internet', internet: true})
CREATE (w:Service {twin: $twin, name: 'web'})-[:EXPOSES {port: 443, proto: 'tcp'}]->(z)
CREATE (w)-[:RUNS]->(a:Artifact {twin: $twin, digest: 'sha256:w'})-[:CONTAINS]->(c:Component {twin: $twin, purl: 'pkg:npm/w@1'})
CREATE (:Vulnerability {twin: $twin, vulnerabilityId: 'CVE-2099-1', epss: 0.2})-[:AFFECTS]->(c)
CREATE (h:Host {twin: $twin, name: 'h1'})
CREATE (d:DataStore {twin: $twin, name: 'db', crownJewel: true})-[:DEPLOYED_ON]->(h)
CREATE (w)-[:FLOWS_TO {data: 'orders'}]->(d)`, map[string]any{"twin": twin})
	if err != nil {
		t.Fatal(err)
	}
	an := attackanalysis.New(db, zerolog.Nop(), attackanalysis.Options{})
	paths := func() attackanalysis.Path {
		t.Helper()
		res, err := an.Paths(ctx, twin, attackanalysis.PathQuery{K: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Paths) != 1 || len(res.Paths[0].Hops) != 2 {
			t.Fatalf("paths: %+v", res.Paths)
		}
		return res.Paths[0]
	}
	before := paths()
	if math.Abs(before.Likelihood-0.2*0.6) > 1e-9 || before.Likelihood != before.BaseLikelihood || len(before.Trace) != 0 {
		t.Fatalf("before observations: %+v", before)
	}
	derived, err := an.Snapshot(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC()
	observe := func(cypher string, params map[string]any) {
		t.Helper()
		params["twin"] = twin
		if err := db.AutoCommit(ctx, cypher, params); err != nil {
			t.Fatal(err)
		}
		an.InvalidateTrace(twin)
	}
	const alert = `MATCH (t {twin: $twin, name: $entity}) WHERE t:Host OR t:Service
CREATE (a:Alert {twin: $twin, key: $key, source: 'suricata', rule: $rule, severity: $severity, technique: $technique, entity: $entity,
  count: 1, firstSeen: $at, lastSeen: $at})-[:ABOUT]->(t)`
	const anomaly = `MATCH (t {twin: $twin, name: $entity}) WHERE t:Host OR t:Service
CREATE (a:Anomaly {twin: $twin, key: $key, type: $type, entity: $entity, score: $score, explanation: 'first connection', at: $at})-[:ABOUT]->(t)`

	for _, tc := range []struct {
		name      string
		write     func()
		trace     int // observations on the path
		links     int
		raisedHop []bool
	}{
		{"an alert older than the window counts for nothing", func() {
			observe(alert, map[string]any{"key": "old", "rule": "r0", "severity": "CRITICAL", "technique": "", "entity": "web", "at": now.Add(-8 * 24 * time.Hour)})
		}, 0, 0, []bool{false, false}},
		{"an alert on web raises the exploit step", func() {
			observe(alert, map[string]any{"key": "a1", "rule": "ET exploit", "severity": "HIGH", "technique": "T1190", "entity": "web", "at": now.Add(-time.Hour)})
		}, 1, 0, []bool{true, false}},
		{"an anomaly on the database host follows it in sequence", func() {
			observe(anomaly, map[string]any{"key": "n1", "type": "new_edge", "score": 1.0, "entity": "h1", "at": now.Add(-30 * time.Minute)})
		}, 2, 1, []bool{true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.write()
			p := paths()
			if len(p.Trace) != tc.trace || p.Links != tc.links {
				t.Fatalf("trace %d observations, %d links; want %d, %d: %+v", len(p.Trace), p.Links, tc.trace, tc.links, p.Trace)
			}
			if math.Abs(p.BaseLikelihood-before.Likelihood) > 1e-9 || (tc.trace > 0) != (p.Likelihood > p.BaseLikelihood) {
				t.Errorf("likelihood %v, base %v, before %v", p.Likelihood, p.BaseLikelihood, before.Likelihood)
			}
			for j, h := range p.Hops {
				if raised := h.P > h.UntracedP; raised != tc.raisedHop[j] || h.UntracedP != before.Hops[j].P {
					t.Errorf("hop %d: p %v untraced %v (before %v), raised %v want %v", j, h.P, h.UntracedP, before.Hops[j].P, raised, tc.raisedHop[j])
				}
			}
			s, err := an.Snapshot(ctx, twin)
			if err != nil {
				t.Fatal(err)
			}
			if s.BuiltAt != derived.BuiltAt || s.Derive != derived.Derive || s.Epoch <= derived.Epoch {
				t.Errorf("observations derived the graph again: %v/%+v, was %v/%+v", s.BuiltAt, s.Derive, derived.BuiltAt, derived.Derive)
			}
		})
	}
	p := paths()
	last := p.Trace[1]
	if last.Kind != "ANOMALY" || last.Via != "h1" || last.Node != (graph.NodeRef{Label: graph.LabelDataStore, Key: "db"}) ||
		last.LinkedFrom != 0 || last.LinkedKey != "a1" || last.LinkRaise <= 0 || !p.Hops[0].Observed[0].TechniqueMatch {
		t.Errorf("trace: %+v; first hop %+v", p.Trace, p.Hops[0].Observed)
	}

	// An analyst's override is the untraced probability; the computed one stays beside it.
	step := attackanalysis.StepRef{From: p.Hops[0].From, To: p.Hops[0].To, Rule: p.Hops[0].Rule}
	if _, err := an.Override(ctx, twin, step, 0.05, "WAF in front", "analyst"); err != nil {
		t.Fatal(err)
	}
	o := paths().Hops[0]
	if o.UntracedP != 0.05 || math.Abs(o.BaseP-0.2) > 1e-9 || !o.Overridden || o.P <= 0.05 {
		t.Errorf("overridden hop: p %v untraced %v base %v", o.P, o.UntracedP, o.BaseP)
	}
}

// TestFollowRefreshesTracesWithoutDeriving: a burst of observation events reads the trace again
// once, soon, without deriving; a model change derives.
func TestFollowRefreshesTracesWithoutDeriving(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	err := db.AutoCommit(ctx, `CREATE (z:Zone {twin: $twin, name: 'internet', internet: true})
CREATE (w:Service {twin: $twin, name: 'web', crownJewel: true})-[:EXPOSES {port: 443, proto: 'tcp'}]->(z)
CREATE (w)-[:RUNS]->(a:Artifact {twin: $twin, digest: 'sha256:w'})-[:CONTAINS]->(c:Component {twin: $twin, purl: 'pkg:npm/w@1'})
CREATE (:Vulnerability {twin: $twin, vulnerabilityId: 'CVE-2099-1', epss: 0.2})-[:AFFECTS]->(c)`, map[string]any{"twin": twin})
	if err != nil {
		t.Fatal(err)
	}
	an := attackanalysis.New(db, testenv.Logger(t), attackanalysis.Options{})
	derived, err := an.Snapshot(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}
	changes := make(chan attackanalysis.TwinChange)
	go an.Follow(ctx, changes, attackanalysis.FollowOptions{Quiet: 50 * time.Millisecond, TraceDelay: 100 * time.Millisecond})
	if err := db.AutoCommit(ctx, `MATCH (w:Service {twin: $twin, name: 'web'})
CREATE (:Alert {twin: $twin, key: 'a1', source: 'falco', rule: 'shell in container', severity: 'CRITICAL', entity: 'web',
  count: 1, firstSeen: datetime(), lastSeen: datetime()})-[:ABOUT]->(w)`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		changes <- attackanalysis.TwinChange{Twin: twin, Kind: attackanalysis.ObservationsChanged}
	}
	waitFor := func(what string, ok func(*attackanalysis.Snapshot) bool) *attackanalysis.Snapshot {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second) // derivations are slow on a loaded machine
		for {
			if s := an.Current(twin); s != nil && ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	s := waitFor("trace read again", func(s *attackanalysis.Snapshot) bool { return s.Observations() == 1 })
	if s.BuiltAt != derived.BuiltAt || s.Derive != derived.Derive {
		t.Errorf("observation events derived the graph again")
	}
	changes <- attackanalysis.TwinChange{Twin: twin, Kind: attackanalysis.ModelChanged}
	s = waitFor("derived again", func(s *attackanalysis.Snapshot) bool { return s.BuiltAt.After(derived.BuiltAt) })
	if s.Observations() != 1 {
		t.Errorf("the derived snapshot lost its trace: %d observations", s.Observations())
	}
}
