package graph_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

func evidenceQuery(q string) evidence.CypherQuery {
	return evidence.CypherQuery{Query: q, Params: map[string]any{}, MaxRows: evidence.DefaultCypherRows, Timeout: evidence.DefaultCypherTimeout}
}

func TestEvidenceCypherPlan(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	if err := db.AutoCommit(ctx, `CREATE (:Host {twin: $twin, name: 'h1', exposed: true})`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, query string
		err         error // from CheckPlan on the plan, or from ExplainCypher for ErrBadQuery
	}{
		{"read-only", "MATCH (h:Host {twin: $twin}) WHERE h.exposed RETURN h", nil},
		{"bounded expansion", "MATCH (a:Host {twin: $twin})-[*1..3]->(b) RETURN b", nil},
		{"allowed procedure", "CALL db.labels() YIELD label WITH label WHERE $twin IS NOT NULL RETURN label", nil},
		{"set", "MATCH (h:Host {twin: $twin}) SET h.exposed = false RETURN h", evidence.ErrNotReadOnly},
		{"create", "CREATE (:Host {twin: $twin, name: 'h2'})", evidence.ErrNotReadOnly},
		{"merge", "MERGE (h:Host {twin: $twin, name: 'h3'}) RETURN h", evidence.ErrNotReadOnly},
		{"delete", "MATCH (h:Host {twin: $twin}) DETACH DELETE h", evidence.ErrNotReadOnly},
		{"schema", "CREATE INDEX evidence_test_idx IF NOT EXISTS FOR (n:Host) ON (n.exposed)", evidence.ErrNotReadOnly},
		{"load csv", "LOAD CSV FROM 'file:///nonexistent.csv' AS l RETURN l, $twin", evidence.ErrNotReadOnly},
		{"other procedure", "CALL db.ping() YIELD success RETURN success, $twin", evidence.ErrNotReadOnly},
		{"unbounded expansion", "MATCH (a:Host {twin: $twin})-[*]->(b) RETURN b", evidence.ErrUnbounded},
		{"long expansion", "MATCH (a:Host {twin: $twin})-[*1..50]->(b) RETURN b", evidence.ErrUnbounded},
		{"unbounded quantifier", "MATCH (a:Host {twin: $twin}) ((x)-->(y)){1,} (b) RETURN b", evidence.ErrUnbounded},
		{"syntax error", "MATCH (h:Host {twin: $twin} RETURN h", evidence.ErrBadQuery},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := db.ExplainCypher(ctx, twin, evidenceQuery(c.query))
			if errors.Is(c.err, evidence.ErrBadQuery) {
				if !errors.Is(err, evidence.ErrBadQuery) {
					t.Fatalf("ExplainCypher = %+v, %v; want ErrBadQuery", plan, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ExplainCypher: %v", err)
			}
			if len(plan.Operators) == 0 {
				t.Fatalf("no operators in %+v", plan)
			}
			err = evidence.CheckPlan(plan)
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("CheckPlan(%+v) = %v, want %v", plan, err, c.err)
			}
		})
	}
	// EXPLAIN runs nothing: no index was created, and the host is still there, exposed, alone.
	idx, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, "SHOW INDEXES YIELD name WHERE name = 'evidence_test_idx' RETURN name", nil)
		if err != nil {
			return nil, err
		}
		return res.Collect(ctx)
	})
	if err != nil || len(idx.([]*neo4j.Record)) != 0 {
		t.Fatalf("index after EXPLAIN: %v, %v", idx, err)
	}
	rows, err := db.RunCypher(ctx, twin, evidenceQuery("MATCH (h:Host {twin: $twin}) WHERE h.exposed RETURN h"), evidence.CheckPlan)
	if err != nil || rows.Rows != 1 {
		t.Fatalf("after EXPLAIN: %+v, %v", rows, err)
	}
}

func TestEvidenceRunCypher(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	other := testenv.NewTwin(t, db)
	ctx := t.Context()
	for _, tw := range []string{twin, other} {
		if err := db.AutoCommit(ctx, `UNWIND range(1, 5) AS i CREATE (:Host {twin: $twin, name: 'h' + i, exposed: i % 2 = 1})`, map[string]any{"twin": tw}); err != nil {
			t.Fatal(err)
		}
	}
	host := func(name string) string { return graph.ID(graph.LabelHost, twin, name) }

	q := evidenceQuery("MATCH (h:Host {twin: $twin}) WHERE h.exposed RETURN h ORDER BY h.name")
	rows, err := db.RunCypher(ctx, twin, q, evidence.CheckPlan)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Rows != 3 || rows.Truncated || !slices.Equal(rows.Culprits, []string{host("h1"), host("h3"), host("h5")}) {
		t.Fatalf("rows %+v", rows)
	}

	// Declared parameters, global id strings and lists as culprits, and the row limit.
	q = evidenceQuery("MATCH (h:Host {twin: $twin}) WHERE h.name IN $names RETURN $ids AS ids, h.name ORDER BY h.name")
	q.Params = map[string]any{"names": []any{"h1", "h2", "h4"}, "ids": []any{host("h2"), graph.ID(graph.LabelHost, other, "h2"), "junk"}}
	q.MaxRows = 2
	rows, err = db.RunCypher(ctx, twin, q, evidence.CheckPlan)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Rows != 2 || !rows.Truncated || !slices.Equal(rows.Culprits, []string{host("h2")}) {
		t.Fatalf("limited rows %+v", rows)
	}

	// Nodes of another twin are not culprits of this one.
	q = evidenceQuery("MATCH (h:Host {name: 'h1'}) WHERE h.twin IN [$twin, $other] RETURN h")
	q.Params = map[string]any{"other": other}
	rows, err = db.RunCypher(ctx, twin, q, evidence.CheckPlan)
	if err != nil || rows.Rows != 2 || !slices.Equal(rows.Culprits, []string{host("h1")}) {
		t.Fatalf("two twins: %+v, %v", rows, err)
	}

	// A plan the gate refuses never runs.
	ran := false
	_, err = db.RunCypher(ctx, twin, evidenceQuery("MATCH (h:Host {twin: $twin}) SET h.exposed = true RETURN h"),
		func(p evidence.CypherPlan) error { ran = true; return evidence.CheckPlan(p) })
	if !ran || !errors.Is(err, evidence.ErrNotReadOnly) {
		t.Fatalf("write: ran %v, %v", ran, err)
	}
	rows, err = db.RunCypher(ctx, twin, evidenceQuery("MATCH (h:Host {twin: $twin}) WHERE h.exposed RETURN h"), evidence.CheckPlan)
	if err != nil || rows.Rows != 3 {
		t.Fatalf("after a refused write: %+v, %v", rows, err)
	}

	// Even a plan accepted by mistake cannot write: the transaction is read-only.
	_, err = db.RunCypher(ctx, twin, evidenceQuery("MATCH (h:Host {twin: $twin}) SET h.exposed = true RETURN h"),
		func(evidence.CypherPlan) error { return nil })
	if err == nil {
		t.Fatal("a write ran in the cypher check's transaction")
	}
	rows, err = db.RunCypher(ctx, twin, evidenceQuery("MATCH (h:Host {twin: $twin}) WHERE h.exposed RETURN h"), evidence.CheckPlan)
	if err != nil || rows.Rows != 3 {
		t.Fatalf("after a forced write: %+v, %v", rows, err)
	}

	// EXPLAIN does not check parameters; running does.
	_, err = db.RunCypher(ctx, twin, evidenceQuery("MATCH (h:Host {twin: $twin}) WHERE h.name = $nope RETURN h"), evidence.CheckPlan)
	if !errors.Is(err, evidence.ErrBadQuery) {
		t.Fatalf("missing parameter: %v", err)
	}

	// The time budget ends a slow query on the server.
	q = evidenceQuery("UNWIND range(1, 1000000000) AS x WITH x WHERE x = -1 AND $twin IS NOT NULL RETURN x")
	q.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err = db.RunCypher(ctx, twin, q, evidence.CheckPlan)
	var ne *neo4j.Neo4jError
	if !errors.As(err, &ne) || !strings.HasPrefix(ne.Code, "Neo.ClientError.Transaction.TransactionTimedOut") || errors.Is(err, evidence.ErrBadQuery) {
		t.Fatalf("slow query: %v, want the server's transaction timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("slow query ended after %v", d)
	}
}

func TestEvidenceLatestRelease(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	got, err := db.LatestRelease(ctx, twin, "edge-1", "")
	if err != nil || !got.IsZero() {
		t.Fatalf("no releases: %v, %v", got, err)
	}
	_, err = db.WriteEdgeReleases(ctx, twin, []graph.EdgeRelease{
		{ID: "e1", Kind: "event", Site: "edge-1", Pipeline: "suricata", ReceivedAt: at, Data: `{}`},
		{ID: "a1", Kind: "aggregate", Site: "edge-1", Pipeline: "flows", ReceivedAt: at.Add(time.Minute), Data: `{}`,
			Metric: "count", WindowStart: at, WindowEnd: at.Add(time.Minute)},
		{ID: "e2", Kind: "event", Site: "edge-2", Pipeline: "suricata", ReceivedAt: at.Add(time.Hour), Data: `{}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		site, pipeline string
		want           time.Time
	}{
		{"edge-1", "", at.Add(time.Minute)},
		{"edge-1", "suricata", at},
		{"edge-1", "flows", at.Add(time.Minute)},
		{"edge-1", "zeek", time.Time{}},
		{"edge-2", "", at.Add(time.Hour)},
		{"edge-3", "", time.Time{}},
	} {
		got, err := db.LatestRelease(ctx, twin, c.site, c.pipeline)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("LatestRelease(%s, %q) = %v, %v; want %v", c.site, c.pipeline, got, err, c.want)
		}
	}
}

// evidenceTwin writes a small twin: payment-api RUNS pay@sha256:new (IN_ZONE dmz); an older
// digest sha256:old of pay; component a in both, b in the old one only; CVE-1 (HIGH, KEV)
// AFFECTS a, first seen at t0+3h; CVE-2 (unrated) AFFECTS b, not_affected; two findings in the
// new digest from two SARIF runs; runtime events about the service, its zone and another host.
func evidenceTwin(t *testing.T, db *graph.DB, t0 time.Time) string {
	t.Helper()
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	err := db.AutoCommit(ctx, `
CREATE (s:Service {twin: $twin, name: 'payment-api'})
CREATE (n:Artifact {twin: $twin, digest: 'sha256:new', name: 'pay', firstSeen: $t0 + duration('PT2H')})
CREATE (o:Artifact {twin: $twin, digest: 'sha256:old', name: 'pay', firstSeen: $t0})
CREATE (:Artifact {twin: $twin, digest: 'sha256:other', name: 'other', firstSeen: $t0})
CREATE (a:Component {twin: $twin, purl: 'pkg:npm/a@1'}), (b:Component {twin: $twin, purl: 'pkg:npm/b@1'})
CREATE (z:Zone {twin: $twin, name: 'dmz'}), (:Host {twin: $twin, name: 'h9'})
CREATE (s)-[:RUNS]->(n), (s)-[:IN_ZONE]->(z), (n)-[:CONTAINS]->(a), (o)-[:CONTAINS]->(a), (o)-[:CONTAINS]->(b)
CREATE (v1:Vulnerability {twin: $twin, vulnerabilityId: 'CVE-1', severity: 'HIGH', cvssScore: 7.5, epss: 0.2, kev: true})
CREATE (v2:Vulnerability {twin: $twin, vulnerabilityId: 'CVE-2'})
CREATE (v1)-[:AFFECTS {status: 'affected', firstSeen: $t0 + duration('PT3H')}]->(a)
CREATE (v2)-[:AFFECTS {status: 'not_affected'}]->(b)
CREATE (f1:Finding {twin: $twin, fingerprint: 'f1', ruleId: 'go.sqli', tool: 'Semgrep OSS', severity: 'HIGH', status: 'OPEN'})
CREATE (f2:Finding {twin: $twin, fingerprint: 'f2', ruleId: 'go.style', tool: 'Semgrep OSS', severity: 'LOW', status: 'OPEN'})
CREATE (f1)-[:FOUND_IN {sources: ['sarif:s2', 'sarif:s1']}]->(n), (f2)-[:FOUND_IN {sources: ['sarif:s1']}]->(n)`,
		map[string]any{"twin": twin, "t0": t0})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.WriteEdgeReleases(ctx, twin, []graph.EdgeRelease{
		{ID: "e1", Kind: "event", Site: "edge-1", Pipeline: "suricata", ReceivedAt: t0.Add(time.Hour), Data: `{"event_type":"alert"}`,
			Link: &graph.NodeRef{Label: graph.LabelService, Key: "payment-api"}},
		{ID: "e2", Kind: "event", Site: "edge-1", Pipeline: "suricata", ReceivedAt: t0.Add(2 * time.Hour), Data: `{"event_type":"Alert"}`,
			Link: &graph.NodeRef{Label: graph.LabelZone, Key: "dmz"}},
		{ID: "e3", Kind: "event", Site: "edge-1", Pipeline: "suricata", ReceivedAt: t0.Add(3 * time.Hour), Data: `{"event_type":"flow"}`,
			Link: &graph.NodeRef{Label: graph.LabelService, Key: "payment-api"}},
		{ID: "e4", Kind: "event", Site: "edge-1", Pipeline: "suricata", ReceivedAt: t0.Add(4 * time.Hour), Data: `{"event_type":"alert"}`,
			Link: &graph.NodeRef{Label: graph.LabelHost, Key: "h9"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return twin
}

func TestEvidenceSubject(t *testing.T) {
	db := testenv.Migrated(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	twin := evidenceTwin(t, db, t0)
	ctx := t.Context()
	art := func(key, name string, seen time.Time, running, direct bool) evidence.ArtifactFact {
		return evidence.ArtifactFact{ID: graph.ID(graph.LabelArtifact, twin, key), Key: key, Name: name, FirstSeen: seen, Running: running, Direct: direct}
	}
	newArt := func(direct bool) evidence.ArtifactFact {
		return art("sha256:new", "pay", t0.Add(2*time.Hour), true, direct)
	}
	oldArt := func(direct bool) evidence.ArtifactFact { return art("sha256:old", "pay", t0, false, direct) }
	other := art("sha256:other", "other", t0, false, false)
	cases := []struct {
		name string
		ref  evidence.SubjectRef
		want evidence.SubjectFacts
	}{
		{"service", evidence.SubjectRef{Label: graph.LabelService, Key: "payment-api"},
			evidence.SubjectFacts{Found: true, ID: graph.ID(graph.LabelService, twin, "payment-api"), Artifacts: []evidence.ArtifactFact{newArt(true), oldArt(false)}}},
		{"missing service", evidence.SubjectRef{Label: graph.LabelService, Key: "nope"}, evidence.SubjectFacts{}},
		{"artifact by digest", evidence.SubjectRef{Label: graph.LabelArtifact, Key: "sha256:old"},
			evidence.SubjectFacts{Found: true, ID: graph.ID(graph.LabelArtifact, twin, "sha256:old"), Artifacts: []evidence.ArtifactFact{newArt(false), oldArt(true)}}},
		{"artifact by name", evidence.SubjectRef{Label: graph.LabelArtifact, Name: "pay"},
			evidence.SubjectFacts{Found: true, Artifacts: []evidence.ArtifactFact{newArt(false), oldArt(false)}}},
		{"missing artifact name", evidence.SubjectRef{Label: graph.LabelArtifact, Name: "nope"}, evidence.SubjectFacts{}},
		{"component", evidence.SubjectRef{Label: graph.LabelComponent, Key: "pkg:npm/a@1"},
			evidence.SubjectFacts{Found: true, ID: graph.ID(graph.LabelComponent, twin, "pkg:npm/a@1"), Artifacts: []evidence.ArtifactFact{newArt(true), oldArt(true)}}},
		{"twin", evidence.SubjectRef{Label: graph.LabelTwin},
			evidence.SubjectFacts{Found: true, ID: graph.ID(graph.LabelTwin, twin, twin), Artifacts: []evidence.ArtifactFact{newArt(false), oldArt(false), other}}},
		{"zone", evidence.SubjectRef{Label: graph.LabelZone, Key: "dmz"}, evidence.SubjectFacts{Found: true, ID: graph.ID(graph.LabelZone, twin, "dmz")}},
		{"host", evidence.SubjectRef{Label: graph.LabelHost, Key: "h9"}, evidence.SubjectFacts{Found: true, ID: graph.ID(graph.LabelHost, twin, "h9")}},
	}
	for _, c := range cases {
		got, err := db.EvidenceSubject(ctx, twin, c.ref)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	if _, err := db.EvidenceSubject(ctx, twin, evidence.SubjectRef{Label: "Credential) DETACH DELETE (x", Key: "k"}); err == nil {
		t.Error("a label outside the fixed set was accepted")
	}
}

func TestEvidenceExposuresFindingsEvents(t *testing.T) {
	db := testenv.Migrated(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	twin := evidenceTwin(t, db, t0)
	ctx := t.Context()

	xs, err := db.EvidenceExposures(ctx, twin, evidence.ExposureScope{Artifacts: []string{"sha256:new", "sha256:old"}})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(xs, func(a, b evidence.Exposure) int { return strings.Compare(a.VulnerabilityID, b.VulnerabilityID) })
	if len(xs) != 2 {
		t.Fatalf("exposures %+v", xs)
	}
	x := xs[0]
	if x.Vulnerability != graph.ID(graph.LabelVulnerability, twin, "CVE-1") || x.Severity != "HIGH" || x.CVSS == nil || *x.CVSS != 7.5 ||
		x.EPSS == nil || *x.EPSS != 0.2 || !x.KEV || x.Status != "affected" || x.Component != "pkg:npm/a@1" ||
		!slices.Equal(x.Artifacts, []string{"sha256:new", "sha256:old"}) || !x.KnownSince.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("CVE-1 %+v", x)
	}
	if x := xs[1]; x.Severity != "" || x.CVSS != nil || x.KEV || x.Status != "not_affected" || !x.KnownSince.IsZero() || !slices.Equal(x.Artifacts, []string{"sha256:old"}) {
		t.Errorf("CVE-2 %+v", x)
	}
	xs, err = db.EvidenceExposures(ctx, twin, evidence.ExposureScope{Artifacts: []string{"sha256:new"}})
	if err != nil || len(xs) != 1 || !slices.Equal(xs[0].Artifacts, []string{"sha256:new"}) {
		t.Errorf("new digest only: %+v, %v", xs, err)
	}
	xs, err = db.EvidenceExposures(ctx, twin, evidence.ExposureScope{Component: "pkg:npm/b@1"})
	if err != nil || len(xs) != 1 || xs[0].VulnerabilityID != "CVE-2" || len(xs[0].Artifacts) != 0 {
		t.Errorf("component scope: %+v, %v", xs, err)
	}

	fs, err := db.EvidenceFindings(ctx, twin, []string{"sha256:new"}, []string{"sarif:s2"})
	if err != nil || len(fs) != 1 || fs[0].ID != graph.ID(graph.LabelFinding, twin, "f1") || fs[0].RuleID != "go.sqli" ||
		fs[0].Status != "OPEN" || fs[0].Artifact != "sha256:new" || !slices.Equal(fs[0].Sources, []string{"sarif:s2"}) {
		t.Errorf("findings of s2: %+v, %v", fs, err)
	}
	fs, err = db.EvidenceFindings(ctx, twin, []string{"sha256:new"}, []string{"sarif:s1"})
	if err != nil || len(fs) != 2 {
		t.Errorf("findings of s1: %+v, %v", fs, err)
	}
	if fs, err := db.EvidenceFindings(ctx, twin, []string{"sha256:old"}, []string{"sarif:s1"}); err != nil || len(fs) != 0 {
		t.Errorf("findings of the old digest: %+v, %v", fs, err)
	}

	events := func(q evidence.EventQuery) []string {
		t.Helper()
		var ids []string
		err := db.EvidenceEvents(ctx, twin, q, func(e evidence.Event) error {
			for _, key := range []string{"e1", "e2", "e3", "e4"} {
				if e.ID == graph.ID(graph.LabelEdgeEvent, twin, key) {
					ids = append(ids, key)
				}
			}
			if e.Site != "edge-1" || e.Pipeline != "suricata" || e.At.IsZero() || e.Data == "" {
				t.Errorf("event %+v", e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	svc := evidence.SubjectRef{Label: graph.LabelService, Key: "payment-api"}
	for _, c := range []struct {
		name string
		q    evidence.EventQuery
		want []string
	}{
		{"service and its zone", evidence.EventQuery{Subject: svc, Since: t0}, []string{"e1", "e2", "e3"}},
		{"since is exclusive", evidence.EventQuery{Subject: svc, Since: t0.Add(time.Hour)}, []string{"e2", "e3"}},
		{"contains, case-insensitive", evidence.EventQuery{Subject: svc, Since: t0, Contains: []string{"alert"}}, []string{"e1", "e2"}},
		{"zone", evidence.EventQuery{Subject: evidence.SubjectRef{Label: graph.LabelZone, Key: "dmz"}, Since: t0}, []string{"e2"}},
		{"twin", evidence.EventQuery{Subject: evidence.SubjectRef{Label: graph.LabelTwin}, Since: t0}, []string{"e1", "e2", "e3", "e4"}},
		{"missing host", evidence.EventQuery{Subject: evidence.SubjectRef{Label: graph.LabelHost, Key: "nope"}, Since: t0}, nil},
	} {
		if got := events(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	stop := errors.New("enough")
	n := 0
	err = db.EvidenceEvents(ctx, twin, evidence.EventQuery{Subject: svc, Since: t0}, func(evidence.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("stop: %v after %d", err, n)
	}
}

// twinStore is an evidence.Store over the twin for the reads the graph implements; the twin
// keeps no scan runs or attestations yet, so the test supplies them.
type twinStore struct {
	*graph.DB
	scans []evidence.ScanRun
}

func (s twinStore) Subject(ctx context.Context, twin string, r evidence.SubjectRef) (evidence.SubjectFacts, error) {
	return s.EvidenceSubject(ctx, twin, r)
}
func (s twinStore) ScanRuns(_ context.Context, _ string, artifacts, formats []string) ([]evidence.ScanRun, error) {
	var out []evidence.ScanRun
	for _, r := range s.scans {
		if slices.Contains(artifacts, r.Artifact) && slices.Contains(formats, r.Format) {
			out = append(out, r)
		}
	}
	return out, nil
}
func (s twinStore) Exposures(ctx context.Context, twin string, scope evidence.ExposureScope) ([]evidence.Exposure, error) {
	return s.EvidenceExposures(ctx, twin, scope)
}
func (s twinStore) Findings(ctx context.Context, twin string, artifacts, sources []string) ([]evidence.Finding, error) {
	return s.EvidenceFindings(ctx, twin, artifacts, sources)
}
func (s twinStore) Events(ctx context.Context, twin string, q evidence.EventQuery, fn func(evidence.Event) error) error {
	return s.EvidenceEvents(ctx, twin, q, fn)
}
func (s twinStore) Attestations(context.Context, string, evidence.AttestationQuery) ([]evidence.Attestation, error) {
	return nil, nil
}

// TestEvidenceEvaluateOnTwin runs the leaf rules end to end on the real twin.
func TestEvidenceEvaluateOnTwin(t *testing.T) {
	db := testenv.Migrated(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	twin := evidenceTwin(t, db, t0)
	ctx := t.Context()
	st := twinStore{DB: db, scans: []evidence.ScanRun{
		{ID: "s2", Format: "sarif", Tool: "Semgrep OSS", Artifact: "sha256:new", Source: "sarif:s2", Collected: t0.Add(5 * time.Hour)},
		{ID: "t1", Format: "trivy", Tool: "Trivy", Artifact: "sha256:new", Source: "trivy:1", Collected: t0.Add(5 * time.Hour), KnowledgeAsOf: t0.Add(2 * time.Hour)},
	}}
	var _ evidence.Store = st
	now := t0.Add(6 * time.Hour)
	cases := []struct {
		spec   string
		reason string
	}{
		// The twin knew of CVE-1 when the scan came in (after the scanner's database was built):
		// the vulnerability is open, so the evidence fails rather than going stale.
		{`{"kind":"no_open_vulns","subject":{"service":"payment-api"},"window":"7d","scan":["trivy"],"vulns":{"min_severity":"HIGH"}}`, "EVIDENCE_FAIL"},
		{`{"kind":"no_open_vulns","subject":{"artifact":"pay"},"window":"7d","scan":["trivy"],"vulns":{"min_severity":"CRITICAL"}}`, ""},
		{`{"kind":"no_open_vulns","subject":{"artifact":"sha256:old"},"window":"7d","scan":["trivy"],"vulns":{"min_severity":"LOW"}}`, "EVIDENCE_MISSING"},
		{`{"kind":"sarif_clean","subject":{"service":"payment-api"},"window":"7d","scan":["sarif:semgrep"],"findings":{"rule_prefixes":["go.sqli"]}}`, "EVIDENCE_FAIL"},
		{`{"kind":"sarif_clean","subject":{"service":"payment-api"},"window":"7d","scan":["sarif:semgrep"],"findings":{"rule_prefixes":["go.style"]}}`, ""},
		{`{"kind":"no_runtime_alerts","subject":{"service":"payment-api"},"window":"5h","alerts":{"field":"event_type","kinds":["alert"]},"heartbeat":{"site":"edge-1","within":"4h"}}`, "EVIDENCE_FAIL"},
		{`{"kind":"no_runtime_alerts","subject":{"service":"payment-api"},"window":"3h","alerts":{"field":"event_type","kinds":["alert"]},"heartbeat":{"site":"edge-1","within":"4h"}}`, ""},
		{`{"kind":"no_runtime_alerts","subject":{"service":"payment-api"},"window":"3h","alerts":{"field":"event_type","kinds":["alert"]},"heartbeat":{"site":"edge-1","within":"1h"}}`, "MONITOR_SILENT"},
		{`{"kind":"heartbeat","window":"3h","heartbeat":{"site":"edge-1","pipeline":"suricata"}}`, ""},
		{`{"kind":"cypher_check","window":"1h","cypher":{"query":"MATCH (v:Vulnerability {twin: $twin}) WHERE v.kev RETURN v"}}`, "EVIDENCE_FAIL"},
		{`{"kind":"cypher_check","window":"1h","cypher":{"query":"MATCH (v:Vulnerability {twin: $twin}) WHERE v.kev RETURN v","expect":"some"}}`, ""},
	}
	for _, c := range cases {
		s, err := evidence.ParseJSON([]byte(c.spec))
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if err := evidence.Accept(ctx, st, twin, s); err != nil {
			t.Fatalf("Accept %s: %v", c.spec, err)
		}
		r, err := evidence.Evaluate(ctx, st, twin, s, now)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		reason := ""
		if r.Reason != 0 {
			reason = r.Reason.String()
		}
		if reason != c.reason {
			t.Errorf("%s: %s (%s), want %q", c.spec, reason, r.Message, c.reason)
		}
	}
	// A write is refused at acceptance, by the database's plan as well as by the linter.
	s := evidence.Spec{Kind: evidence.KindCypherCheck, Window: evidence.Duration(time.Hour),
		Cypher: &evidence.CypherCheck{Query: "MATCH (v:Vulnerability {twin: $twin}) WITH v CALL { WITH v SET v.kev = false } RETURN v"}}
	if err := evidence.Accept(ctx, st, twin, s); !errors.Is(err, evidence.ErrNotReadOnly) {
		t.Fatalf("write accepted: %v", err)
	}
}
