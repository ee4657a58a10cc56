package resolvers_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

// traceWorld: internet → portal (DMZ host web-1, CVE exposed on 443) → dmz → app zone → orders
// (host app-1, CVE) → customers (crown jewel, a data store on db-1).
const traceWorld = `mutation($t: String!) {
  createTwin(input: {name: $t, description: "attack traces"}) { name }
  upsertZones(twin: $t, input: [{name: "internet", internet: true, trust: "UNTRUSTED"}, {name: "dmz", trust: "LOW"}, {name: "app", trust: "MEDIUM"}, {name: "data", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "web-1"}, {name: "app-1"}, {name: "db-1", criticality: CRITICAL}]) { nodesCreated }
  upsertArtifacts(twin: $t, input: [{digest: "sha256:p1", name: "portal", type: "IMAGE"}, {digest: "sha256:o1", name: "orders", type: "IMAGE"}]) { nodesCreated }
  upsertServices(twin: $t, input: [{name: "portal"}, {name: "orders", criticality: HIGH}]) { nodesCreated }
  upsertDataStores(twin: $t, input: [{name: "customers", classification: "RESTRICTED", crownJewel: true, criticality: CRITICAL}]) { nodesCreated }
  upsertComponents(twin: $t, input: [{purl: "pkg:npm/portal-lib@1.0.0", name: "portal-lib", version: "1.0.0"},
    {purl: "pkg:npm/orders-lib@1.0.0", name: "orders-lib", version: "1.0.0"}]) { nodesCreated }
  upsertVulnerabilities(twin: $t, input: [{vulnerabilityId: "CVE-2099-0001", severity: CRITICAL, epss: 0.3},
    {vulnerabilityId: "CVE-2099-0002", severity: HIGH, epss: 0.1}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: IN_ZONE, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}},
    {type: IN_ZONE, from: {type: HOST, key: "app-1"}, to: {type: ZONE, key: "app"}},
    {type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "data"}},
    {type: DEPLOYED_ON, from: {type: SERVICE, key: "portal"}, to: {type: HOST, key: "web-1"}},
    {type: DEPLOYED_ON, from: {type: SERVICE, key: "orders"}, to: {type: HOST, key: "app-1"}},
    {type: DEPLOYED_ON, from: {type: DATA_STORE, key: "customers"}, to: {type: HOST, key: "db-1"}},
    {type: RUNS, from: {type: SERVICE, key: "portal"}, to: {type: ARTIFACT, key: "sha256:p1"}},
    {type: RUNS, from: {type: SERVICE, key: "orders"}, to: {type: ARTIFACT, key: "sha256:o1"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:p1"}, to: {type: COMPONENT, key: "pkg:npm/portal-lib@1.0.0"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:o1"}, to: {type: COMPONENT, key: "pkg:npm/orders-lib@1.0.0"}},
    {type: AFFECTS, from: {type: VULNERABILITY, key: "CVE-2099-0001"}, to: {type: COMPONENT, key: "pkg:npm/portal-lib@1.0.0"}},
    {type: AFFECTS, from: {type: VULNERABILITY, key: "CVE-2099-0002"}, to: {type: COMPONENT, key: "pkg:npm/orders-lib@1.0.0"}},
    {type: EXPOSES, from: {type: SERVICE, key: "portal"}, to: {type: ZONE, key: "internet"}, properties: {port: 443, proto: "tcp"}},
    {type: REACHES, from: {type: ZONE, key: "dmz"}, to: {type: ZONE, key: "app"}, properties: {port: 8080, proto: "tcp"}},
    {type: FLOWS_TO, from: {type: SERVICE, key: "orders"}, to: {type: DATA_STORE, key: "customers"}, properties: {data: "orders"}}
  ]) { edgesCreated }
}`

const tracedPaths = `query($t: String!) { attackPaths(twin: $t, k: 3) { observations paths {
  likelihood baseLikelihood sequenceLinks explanation
  hops { to { id } rule probability untracedProbability baseProbability
    observed { kind key name severity technique techniqueMatch via weight raise linkedFromHop linkRaise about { id } } }
  trace { hop observation { key name firstSeen raise linkRaise linkedFromHop via } } } } }`

type tracedPath struct {
	Likelihood, BaseLikelihood float64
	SequenceLinks              int
	Explanation                string
	Hops                       []struct {
		To                                                struct{ ID string }
		Rule                                              string
		Probability, UntracedProbability, BaseProbability float64
		Observed                                          []struct {
			Kind, Key, Name string
			Severity        *string
			Technique       *string
			TechniqueMatch  bool
			Via             *string
			Weight, Raise   float64
			LinkedFromHop   *int
			LinkRaise       float64
			About           struct{ ID string }
		}
	}
	Trace []struct {
		Hop         int
		Observation struct {
			Key, Name     string
			FirstSeen     time.Time
			Raise         float64
			LinkRaise     float64
			LinkedFromHop *int
			Via           *string
		}
	}
}

// TestAttackTraceEndToEnd: alerts posted to POST /telemetry on consecutive hops of the path
// internet → DMZ portal → app → customer database, in time order, raise the path above its
// base likelihood through GraphQL, list the trace on the path and its hops, and appear in a
// report run.
func TestAttackTraceEndToEnd(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin := testenv.Twin(t, db)
	rw := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	ingest := api.MustToken(t, []auth.Scope{auth.ScopeIngest}, twin)
	vars := map[string]any{"t": twin}
	api.MustData(t, rw, traceWorld, vars, nil)
	id := func(label, key string) string { return graph.ID(label, twin, key) }

	var before struct {
		AttackPaths struct {
			Observations int
			Paths        []tracedPath
		}
	}
	api.MustData(t, rw, tracedPaths, vars, &before)
	if len(before.AttackPaths.Paths) == 0 {
		t.Fatal("no attack path before telemetry")
	}
	base := before.AttackPaths.Paths[0]
	wantTargets := []string{id("Service", "portal"), id("Zone", "dmz"), id("Zone", "app"), id("Service", "orders"), id("DataStore", "customers")}
	if len(base.Hops) != len(wantTargets) || base.SequenceLinks != 0 || before.AttackPaths.Observations != 0 || base.Likelihood != base.BaseLikelihood {
		t.Fatalf("path before telemetry: %+v", base)
	}
	for i, h := range base.Hops {
		if h.To.ID != wantTargets[i] || len(h.Observed) != 0 || h.Probability != h.UntracedProbability {
			t.Fatalf("hop %d before telemetry: %+v", i, h)
		}
	}

	// Alerts on the portal, then orders, then the database host, ten minutes apart.
	now := time.Now().UTC().Truncate(time.Second)
	alertAt := func(id, entity, rule, sev, tech string, at time.Time) telemetry.Event {
		return telemetry.Event{ID: id, Source: "sensor-1", Time: at, Kind: telemetry.KindAlert,
			Alert: &telemetry.Alert{Source: "suricata", Rule: rule, Severity: sev, Entity: entity, Technique: tech}}
	}
	batch := eventLines(t, twin,
		alertAt("t1", "portal", "ET WEB OGNL injection", "HIGH", "T1190", now.Add(-30*time.Minute)),
		alertAt("t2", "orders", "ET EXPLOIT lateral RCE", "HIGH", "", now.Add(-20*time.Minute)),
		alertAt("t3", "db-1", "ET POLICY PostgreSQL dump", "MEDIUM", "", now.Add(-10*time.Minute)),
	)
	if code, out := postTelemetry(t, api, ingest, twin, batch); code != http.StatusAccepted {
		t.Fatalf("post telemetry: %d %v", code, out)
	}

	var after struct {
		AttackPaths struct {
			Observations int
			Paths        []tracedPath
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		api.MustData(t, rw, tracedPaths, vars, &after)
		if (after.AttackPaths.Observations == 3 && len(after.AttackPaths.Paths) > 0 && len(after.AttackPaths.Paths[0].Trace) == 3) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(after.AttackPaths.Paths) == 0 || len(after.AttackPaths.Paths[0].Trace) != 3 {
		t.Fatalf("no trace after 30 s: %+v", after.AttackPaths)
	}
	p := after.AttackPaths.Paths[0]
	if p.Likelihood <= p.BaseLikelihood || math.Abs(p.BaseLikelihood-base.Likelihood) > 1e-9 {
		t.Errorf("likelihood %v, base %v (before telemetry %v): not raised above its base", p.Likelihood, p.BaseLikelihood, base.Likelihood)
	}
	if p.SequenceLinks != 2 || !strings.Contains(p.Explanation, "3 in sequence") {
		t.Errorf("sequence links %d, explanation %q", p.SequenceLinks, p.Explanation)
	}
	// The trace is in time order, on hops 0 (portal), 3 (orders) and 4 (customers via db-1).
	wantTrace := []struct {
		hop  int
		name string
		link int
	}{{0, "ET WEB OGNL injection", -1}, {3, "ET EXPLOIT lateral RCE", 0}, {4, "ET POLICY PostgreSQL dump", 3}}
	for i, w := range wantTrace {
		e := p.Trace[i]
		link := -1
		if e.Observation.LinkedFromHop != nil {
			link = *e.Observation.LinkedFromHop
		}
		if e.Hop != w.hop || e.Observation.Name != w.name || link != w.link || e.Observation.Raise <= 0 || (link >= 0) != (e.Observation.LinkRaise > 0) {
			t.Errorf("trace %d: %+v, want hop %d %s linked from %d", i, e, w.hop, w.name, w.link)
		}
		if i > 0 && e.Observation.FirstSeen.Before(p.Trace[i-1].Observation.FirstSeen) {
			t.Errorf("trace out of time order: %+v", p.Trace)
		}
	}
	if v := p.Trace[2].Observation.Via; v == nil || *v != "db-1" {
		t.Errorf("the database's observation is not via its host: %+v", p.Trace[2])
	}
	for i, h := range p.Hops {
		switch i {
		case 0, 3, 4:
			o := h.Observed
			if len(o) != 1 || h.Probability <= h.UntracedProbability || o[0].About.ID != h.To.ID || o[0].Kind != "ALERT" || o[0].Weight <= 0 {
				t.Errorf("hop %d: %+v", i, h)
			}
			if want := i == 0; o[0].TechniqueMatch != want {
				t.Errorf("hop %d: technique match %v (rule %s, technique %v)", i, o[0].TechniqueMatch, h.Rule, o[0].Technique)
			}
		default:
			if len(h.Observed) != 0 || h.Probability != h.UntracedProbability {
				t.Errorf("unobserved hop %d raised: %+v", i, h)
			}
		}
		if math.Abs(h.UntracedProbability-base.Hops[i].Probability) > 1e-9 {
			t.Errorf("hop %d untraced %v, before telemetry %v", i, h.UntracedProbability, base.Hops[i].Probability)
		}
	}

	// A report run lists the trace, in JSON and in Markdown.
	var run struct{ RunAttackPathReport struct{ ID string } }
	api.MustData(t, rw, `mutation($t: String!) { runAttackPathReport(twin: $t) { id } }`, vars, &run)
	var stored struct {
		Report *struct{ JSON, Markdown string }
	}
	api.MustData(t, rw, `query($id: ID!) { report(id: $id) { json: content(format: JSON) markdown: content(format: MARKDOWN) } }`,
		map[string]any{"id": run.RunAttackPathReport.ID}, &stored)
	if stored.Report == nil {
		t.Fatal("report not stored")
	}
	for _, want := range []string{`"sequenceLinks": 2`, `"name": "ET POLICY PostgreSQL dump"`, `"via": "db-1"`, `"baseLikelihood": `, `"linkedFromHop": 3`} {
		if !strings.Contains(stored.Report.JSON, want) {
			t.Errorf("report JSON lacks %s", want)
		}
	}
	for _, want := range []string{"**Observed trace**", "3 observations in sequence", "ET EXPLOIT lateral RCE", "customers (via db-1)", "in sequence | step 1 ("} {
		if !strings.Contains(stored.Report.Markdown, want) {
			t.Errorf("report Markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", stored.Report.Markdown)
	}
}
