package graph_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

// opsTwin: web-1 (10.0.1.5) in dmz, db-1 (10.0.2.7) in core, running portal (exposed to the
// internet on 443) and db; dmz REACHES core on 5432/tcp.
func opsTwin(t *testing.T, db *graph.DB) string {
	t.Helper()
	twin := testenv.NewTwin(t, db)
	err := db.AutoCommit(t.Context(), `
CREATE (inet:Zone {twin: $twin, name: 'internet', internet: true}), (dmz:Zone {twin: $twin, name: 'dmz'}), (core:Zone {twin: $twin, name: 'core'})
CREATE (w:Host {twin: $twin, name: 'web-1', addresses: ['10.0.1.5']}), (d:Host {twin: $twin, name: 'db-1', addresses: ['10.0.2.7']})
CREATE (p:Service {twin: $twin, name: 'portal'}), (s:Service {twin: $twin, name: 'db'})
CREATE (w)-[:IN_ZONE]->(dmz), (d)-[:IN_ZONE]->(core), (p)-[:DEPLOYED_ON]->(w), (s)-[:DEPLOYED_ON]->(d)
CREATE (p)-[:EXPOSES {port: 443, proto: 'tcp'}]->(inet), (dmz)-[:REACHES {port: 5432, proto: 'tcp'}]->(core)`, map[string]any{"twin": twin})
	if err != nil {
		t.Fatal(err)
	}
	return twin
}

func TestApplyOps(t *testing.T) {
	db := testenv.Migrated(t)
	twin := opsTwin(t, db)
	ctx := t.Context()
	hour := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := hour.Add(5 * time.Minute)
	flow := func(src, dst string, port int, n int64) graph.FlowRow {
		return graph.FlowRow{Src: src, Dst: dst, Port: port, Proto: "tcp", Bucket: hour, Count: n, Bytes: 100 * n, First: at, Last: at.Add(time.Second)}
	}
	batch := graph.OpsBatch{Stream: "TELEMETRY", Through: 10,
		Flows: []graph.FlowRow{
			flow("10.0.1.5", "10.0.2.7", 5432, 3), // designed: dmz REACHES core on 5432
			flow("web-1", "db-1", 22, 1),          // not designed: ssh from the DMZ
			flow("203.0.113.9", "web-1", 443, 2),  // the internet to the exposed portal
			flow("203.0.113.9", "db-1", 5432, 1),  // the internet to the database
		},
		Alerts:  []graph.AlertRow{{Key: "k1", Source: "suricata", Rule: "2001219", Severity: "HIGH", Entity: "10.0.2.7", Count: 2, First: at, Last: at}},
		Seen:    []graph.SeenRow{{Entity: "portal", At: at}},
		Deploys: []graph.DeployRow{{Service: "portal", Digest: "sha256:aa", At: at}},
	}
	res, err := db.ApplyOps(ctx, twin, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied || len(res.Connections) != 4 || len(res.AlertsCreated) != 1 {
		t.Fatalf("first window: %+v", res)
	}
	want := map[string]bool{"Host web-1→Host db-1:5432": true, "Host web-1→Host db-1:22": false,
		"ObservedEndpoint 203.0.113.9→Host web-1:443": true, "ObservedEndpoint 203.0.113.9→Host db-1:5432": false}
	for _, c := range res.Connections {
		k := c.Src.String() + "→" + c.Dst.String() + ":" + itoa(c.Port)
		designed, ok := want[k]
		if !ok || c.Designed != designed || !c.New {
			t.Errorf("connection %s designed=%v new=%v (want known, designed=%v, new)", k, c.Designed, c.New, designed)
		}
	}
	if len(res.Deviations()) != 2 {
		t.Errorf("deviations %+v", res.Deviations())
	}
	// The same window again (a redelivery): nothing counted twice.
	again, err := db.ApplyOps(ctx, twin, batch)
	if err != nil || again.Applied {
		t.Fatalf("redelivered window applied: %+v %v", again, err)
	}
	// The next window adds to the counters; the connection is no longer new.
	next := batch
	next.Through = 20
	next.Flows = []graph.FlowRow{flow("10.0.1.5", "10.0.2.7", 5432, 4)}
	next.Alerts = []graph.AlertRow{{Key: "k1", Source: "suricata", Rule: "2001219", Severity: "HIGH", Entity: "10.0.2.7", Count: 1, First: at, Last: at.Add(time.Minute)}}
	res, err = db.ApplyOps(ctx, twin, next)
	if err != nil || !res.Applied || len(res.Connections) != 1 || res.Connections[0].New || res.Connections[0].Count != 7 || len(res.AlertsCreated) != 0 {
		t.Fatalf("second window: %+v %v", res, err)
	}
	if c, err := db.TelemetryCursor(ctx, twin, "TELEMETRY"); err != nil || c != 20 {
		t.Errorf("cursor %d %v", c, err)
	}
	recs, err := readRows(t, db, `MATCH (a:Alert {twin: $twin, key: 'k1'})-[:ABOUT]->(h:Host) RETURN a.count, h.name`, map[string]any{"twin": twin})
	if err != nil || len(recs) != 1 || recs[0][0] != int64(3) || recs[0][1] != "db-1" {
		t.Errorf("alert: %v %v", recs, err)
	}
	recs, err = readRows(t, db, `MATCH (s:Service {twin: $twin, name: 'portal'})-[:RUNS]->(a:Artifact) RETURN a.digest, s.runningDigest, s.observedAt IS NOT NULL`, map[string]any{"twin": twin})
	if err != nil || len(recs) != 1 || recs[0][0] != "sha256:aa" || recs[0][2] != true {
		t.Errorf("deploy: %v %v", recs, err)
	}
	conns, err := db.Connections(ctx, twin, hour, false, 100)
	if err != nil || len(conns) != 4 {
		t.Fatalf("connections: %+v %v", conns, err)
	}
	devs, err := db.Connections(ctx, twin, hour, true, 100)
	if err != nil || len(devs) != 2 {
		t.Errorf("deviations: %+v %v", devs, err)
	}
	for _, c := range conns {
		if c.Src.Key == "web-1" && c.Port == 5432 && (c.Count != 7 || !c.Designed || c.Bytes != 700) {
			t.Errorf("web-1→db-1:5432 summed %+v", c)
		}
	}
	alerts, err := db.Alerts(ctx, twin, hour, "HIGH", 10)
	if err != nil || len(alerts) != 1 || alerts[0].Count != 3 || alerts[0].About == nil || alerts[0].About.Key != "db-1" {
		t.Errorf("alerts: %+v %v", alerts, err)
	}
	if none, err := db.Alerts(ctx, twin, hour, "LOW", 10); err != nil || len(none) != 0 {
		t.Errorf("LOW alerts: %+v %v", none, err)
	}
	// Another twin's cursor and nodes are its own.
	other := opsTwin(t, db)
	if res, err := db.ApplyOps(ctx, other, batch); err != nil || !res.Applied {
		t.Errorf("other twin: %+v %v", res, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// readRows runs a read query and returns its rows' values.
func readRows(t *testing.T, db *graph.DB, cypher string, params map[string]any) ([][]any, error) {
	out, err := db.ReadTx(t.Context(), func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(t.Context(), cypher, params)
		if err != nil {
			return nil, err
		}
		var rows [][]any
		for res.Next(t.Context()) {
			rows = append(rows, res.Record().Values)
		}
		return rows, res.Err()
	})
	if err != nil {
		return nil, err
	}
	return out.([][]any), nil
}

// TestLiveStateFollowsTheDesign: a LiveState keeps the twin's topology between windows, and a
// design change written through DB.Write reaches the next window; observedAt moves only by the
// seen resolution of event time; a connection seen before is counted by key, and one seen
// under two names of its ends is one connection.
func TestLiveStateFollowsTheDesign(t *testing.T) {
	db := testenv.Migrated(t)
	twin := opsTwin(t, db)
	if _, _, err := (graph.Twins{DB: db}).Ensure(t.Context(), twin, "test"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ls := graph.NewLiveState(db)
	ls.SeenResolution = time.Minute
	hour := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := hour.Add(5 * time.Minute)
	window := func(through uint64, at time.Time, flows ...graph.FlowRow) graph.OpsResult {
		t.Helper()
		res, err := ls.ApplyOps(ctx, twin, graph.OpsBatch{Stream: "TELEMETRY", Through: through, Flows: flows})
		if err != nil || !res.Applied {
			t.Fatalf("window %d: %+v %v", through, res, err)
		}
		return res
	}
	ssh := func(src, dst string, at time.Time) graph.FlowRow {
		return graph.FlowRow{Src: src, Dst: dst, Port: 22, Proto: "TCP", Bucket: hour, Count: 1, Bytes: 10, First: at, Last: at}
	}
	res := window(1, at, ssh("web-1", "db-1", at), ssh("10.0.1.5", "10.0.2.7", at))
	if len(res.Connections) != 1 || res.Connections[0].Designed || !res.Connections[0].New || res.Connections[0].Count != 2 {
		t.Fatalf("ssh from the DMZ before the rule: %+v", res.Connections)
	}
	// The design now allows ssh from the DMZ to core.
	reach := graph.Batch{Edges: []graph.EdgeRow{{Type: "REACHES", From: graph.NodeRef{Label: graph.LabelZone, Key: "dmz"},
		To: graph.NodeRef{Label: graph.LabelZone, Key: "core"}, Props: map[string]any{"port": 22, "proto": "tcp"}}}}
	if _, err := db.Write(ctx, twin, reach, graph.WriteOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	later := at.Add(10 * time.Second)
	res = window(2, later, ssh("web-1", "db-1", later))
	if len(res.Connections) != 1 || !res.Connections[0].Designed || res.Connections[0].New || res.Connections[0].Count != 3 {
		t.Fatalf("ssh from the DMZ after the rule: %+v", res.Connections)
	}
	rows, err := readRows(t, db, `MATCH (h:Host {twin: $twin, name: 'web-1'})-[c:CONNECTS_TO {port: 22}]->() RETURN h.observedAt, c.designed, c.deviation, c.count, c.key IS NOT NULL`,
		map[string]any{"twin": twin})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v %v", rows, err)
	}
	// observedAt was written at the first window and not moved by 10 s (resolution 1 min).
	if got, _ := rows[0][0].(time.Time); !got.Equal(at) || rows[0][1] != true || rows[0][2] != false || rows[0][3] != int64(3) || rows[0][4] != true {
		t.Errorf("web-1 ssh connection %v", rows[0])
	}
}

// TestHealthFromMetrics: the latest up or health metric sets an entity's health, by event time
// across windows; an older one coming later changes nothing.
func TestHealthFromMetrics(t *testing.T) {
	db := testenv.Migrated(t)
	twin := opsTwin(t, db)
	ctx := t.Context()
	ls := graph.NewLiveState(db)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	windows := []struct {
		rows        []graph.HealthRow
		web, portal string
	}{
		{[]graph.HealthRow{{Entity: "10.0.1.5", Up: true, At: t0}, {Entity: "portal", Up: true, At: t0}}, graph.HealthUp, graph.HealthUp},
		{[]graph.HealthRow{{Entity: "web-1", Up: false, At: t0.Add(time.Minute)}, {Entity: "web-1", Up: true, At: t0.Add(30 * time.Second)}}, graph.HealthDown, graph.HealthUp},
		{[]graph.HealthRow{{Entity: "web-1", Up: true, At: t0.Add(10 * time.Second)}, {Entity: "nobody", Up: true, At: t0}}, graph.HealthDown, graph.HealthUp},
		{[]graph.HealthRow{{Entity: "portal", Up: false, At: t0.Add(time.Hour)}}, graph.HealthDown, graph.HealthDown},
	}
	for i, w := range windows {
		if _, err := ls.ApplyOps(ctx, twin, graph.OpsBatch{Stream: "TELEMETRY", Through: uint64(i + 1), Health: w.rows}); err != nil {
			t.Fatal(err)
		}
		web, err := db.EntityState(ctx, twin, graph.NodeRef{Label: graph.LabelHost, Key: "web-1"})
		if err != nil {
			t.Fatal(err)
		}
		portal, err := db.EntityState(ctx, twin, graph.NodeRef{Label: graph.LabelService, Key: "portal"})
		if err != nil {
			t.Fatal(err)
		}
		if web.Health != w.web || portal.Health != w.portal || web.HealthAt.IsZero() {
			t.Errorf("window %d: web-1 %s at %s, portal %s; want %s, %s", i, web.Health, web.HealthAt, portal.Health, w.web, w.portal)
		}
	}
}

// TestLiveStateBoundsWhatItRemembers: observed times are written once while remembered; past
// MaxSeen a twin keeps only what the last window wrote, and the next window writes the others'
// times again (unchanged values).
func TestLiveStateBoundsWhatItRemembers(t *testing.T) {
	db := testenv.Migrated(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	windows := [][]string{{"web-1", "portal"}, {"db-1"}, {"web-1", "portal"}}
	for _, tc := range []struct {
		maxSeen int
		want    []int
	}{{0, []int{2, 1, 0}}, {1, []int{2, 1, 2}}} {
		twin := opsTwin(t, db)
		ls := graph.NewLiveState(db)
		ls.MaxSeen = tc.maxSeen
		for i, entities := range windows {
			b := graph.OpsBatch{Stream: "TELEMETRY", Through: uint64(i + 1)}
			for _, e := range entities {
				b.Seen = append(b.Seen, graph.SeenRow{Entity: e, At: at})
			}
			res, err := ls.ApplyOps(t.Context(), twin, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Nodes) != tc.want[i] {
				t.Errorf("MaxSeen %d, window %d: wrote %v, want %d entities", tc.maxSeen, i, res.Nodes, tc.want[i])
			}
		}
		if st, err := db.EntityState(t.Context(), twin, graph.NodeRef{Label: graph.LabelHost, Key: "web-1"}); err != nil || !st.ObservedAt.Equal(at) {
			t.Errorf("MaxSeen %d: web-1 observed at %v %v", tc.maxSeen, st.ObservedAt, err)
		}
	}
}
