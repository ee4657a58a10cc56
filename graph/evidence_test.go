package graph_test

import (
	"errors"
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
