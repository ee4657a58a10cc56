package livestate_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/livestate"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/testenv"
)

// designTwin makes a twin with a small design: web-1 (10.0.1.5) in dmz, db-1 (10.0.2.7) in
// core, portal deployed on web-1, dmz REACHES core on 5432.
func designTwin(t *testing.T, db *graph.DB) string {
	t.Helper()
	twin := testenv.NewTwin(t, db)
	if err := db.AutoCommit(t.Context(), `
CREATE (dmz:Zone {twin: $twin, name: 'dmz'}), (core:Zone {twin: $twin, name: 'core'}), (:Zone {twin: $twin, name: 'internet', internet: true})
CREATE (w:Host {twin: $twin, name: 'web-1', addresses: ['10.0.1.5']}), (d:Host {twin: $twin, name: 'db-1', addresses: ['10.0.2.7']})
CREATE (p:Service {twin: $twin, name: 'portal'})
CREATE (w)-[:IN_ZONE]->(dmz), (d)-[:IN_ZONE]->(core), (p)-[:DEPLOYED_ON]->(w), (dmz)-[:REACHES {port: 5432, proto: 'tcp'}]->(core)`,
		map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	return twin
}

// liveState is what a twin's live state reads as, without its twin's name.
type liveState struct {
	Connections []graph.ObservedConnection
	Alerts      []graph.AlertNode
	Endpoints   [][]any
	Observed    [][]any
}

func readLiveState(t *testing.T, db *graph.DB, twin string) liveState {
	t.Helper()
	ctx := t.Context()
	var s liveState
	var err error
	if s.Connections, err = db.Connections(ctx, twin, time.Time{}, false, 1000); err != nil {
		t.Fatal(err)
	}
	if s.Alerts, err = db.Alerts(ctx, twin, time.Time{}, "", 1000); err != nil {
		t.Fatal(err)
	}
	for i := range s.Alerts {
		s.Alerts[i].Twin = ""
	}
	rows := func(cypher string) [][]any {
		out, err := db.ReadTx(ctx, func(tx neo4jTx) (any, error) { return collectRows(ctx, tx, cypher, twin) })
		if err != nil {
			t.Fatal(err)
		}
		return out.([][]any)
	}
	s.Endpoints = rows(`MATCH (e:ObservedEndpoint {twin: $twin}) RETURN e.address, e.firstSeen, e.lastSeen ORDER BY e.address`)
	s.Observed = rows(`MATCH (n {twin: $twin}) WHERE (n:Host OR n:Service) RETURN labels(n)[0], n.name, n.observedAt, n.runningDigest, n.health, n.healthAt ORDER BY n.name`)
	return s
}

// TestReplayReproducesTheLiveState: telemetry applied live to one twin, replayed from
// JetStream in windows of another size into an empty twin of the same design, leaves the same
// connections, alerts, endpoints and observed times; replaying again counts nothing twice.
func TestReplayReproducesTheLiveState(t *testing.T) {
	db := testenv.Migrated(t)
	b := testenv.NATS(t)
	src, dst := designTwin(t, db), designTwin(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	live := &livestate.Worker{Bus: b, Store: graph.NewLiveState(db), Decode: telemetry.DecodeFor, Log: testenv.Logger(t)}
	go func() { _ = live.Run(ctx) }()

	base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	var evs []telemetry.Event
	for i := range 300 {
		at := base.Add(time.Duration(i) * 37 * time.Second) // three hour buckets
		e := telemetry.Event{ID: fmt.Sprint(i), Source: "urn:test:replay", Time: at}
		switch i % 6 {
		case 0, 1:
			e.Kind, e.Flow = telemetry.KindFlow, &telemetry.Flow{Src: []string{"10.0.1.5", "web-1"}[i%2], Dst: "10.0.2.7", Port: 5432, Proto: "tcp", Bytes: int64(100 + i)}
		case 2:
			e.Kind, e.Flow = telemetry.KindFlow, &telemetry.Flow{Src: fmt.Sprintf("203.0.113.%d", i%7), Dst: "web-1", Port: []int{443, 22}[i%2], Proto: "tcp", Bytes: 50}
		case 3:
			e.Kind, e.Alert = telemetry.KindAlert, &telemetry.Alert{Source: "suricata", Rule: fmt.Sprint("rule-", i%4), Severity: []string{"LOW", "HIGH"}[i%2],
				Entity: []string{"10.0.2.7", "portal", "unknown-box"}[i%3], Message: fmt.Sprint("hit ", i)}
		case 4:
			e.Kind, e.Auth = telemetry.KindAuth, &telemetry.Auth{Principal: "alice", Outcome: "success", Target: "db-1"}
		case 5:
			if i%30 == 5 {
				e.Kind, e.Deploy = telemetry.KindDeploy, &telemetry.Deploy{Service: "portal", Digest: fmt.Sprintf("sha256:%064x", i)}
			} else {
				e.Kind, e.Metric = telemetry.KindMetric, &telemetry.Metric{Entity: []string{"portal", "10.0.2.7"}[i/6%2], Name: []string{"cpu", "up", "up"}[i/6%3], Value: float64(i / 12 % 2)}
			}
		}
		e.Twin = src
		evs = append(evs, e)
	}
	for _, e := range evs {
		data, err := telemetry.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, telemetry.Subject(src, e.Kind), data, e.Source+"/"+e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(ctx, telemetry.Subject(src, telemetry.KindFlow), []byte(`{"not":"an event"}`), ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for live.Stats().Applied < int64(len(evs)) {
		if time.Now().After(deadline) {
			t.Fatalf("live worker: %+v", live.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // the replay must not need the live worker
	want := readLiveState(t, db, src)
	health := 0
	for _, o := range want.Observed {
		if o[4] != nil {
			health++
		}
	}
	if len(want.Connections) == 0 || len(want.Alerts) == 0 || len(want.Endpoints) == 0 || health == 0 {
		t.Fatalf("live state too thin to compare: %+v", want)
	}

	if has, err := db.HasLiveState(t.Context(), dst); err != nil || has {
		t.Fatalf("the target has live state before the replay: %v %v", has, err)
	}
	replay := func() livestate.ReplayStats {
		t.Helper()
		var calls int
		r := &livestate.Replay{Bus: b, Store: graph.NewLiveState(db), Decode: telemetry.DecodeFor, Log: testenv.Logger(t), From: src, Into: dst,
			MaxBatch: 7, Progress: func(read, total uint64) {
				if read > total {
					t.Errorf("progress %d of %d", read, total)
				}
				calls++
			}}
		st, err := r.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if calls == 0 {
			t.Error("no progress reported")
		}
		return st
	}
	st := replay()
	if st.Read != int64(len(evs))+1 || st.Applied != int64(len(evs)) || st.Malformed != 1 || st.Windows < int64(len(evs)/7) {
		t.Errorf("replay stats %+v", st)
	}
	if got := readLiveState(t, db, dst); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed live state differs:\n got %+v\nwant %+v", got, want)
	}
	// Again: the cursor keeps anything from counting twice.
	if st := replay(); st.Applied != 0 {
		t.Errorf("second replay applied %d events", st.Applied)
	}
	if got := readLiveState(t, db, dst); !reflect.DeepEqual(got, want) {
		t.Errorf("live state after a second replay differs:\n got %+v\nwant %+v", got, want)
	}
	// A twin with no telemetry has nothing to replay.
	r := &livestate.Replay{Bus: b, Store: graph.NewLiveState(db), Decode: telemetry.DecodeFor, From: "no-such-twin", Into: dst}
	if _, err := r.Run(t.Context()); !errors.Is(err, livestate.ErrNothingToReplay) {
		t.Errorf("replay of a twin without telemetry: %v", err)
	}
	// Clearing the target's live state leaves its design.
	if n, err := db.ClearLiveState(t.Context(), dst); err != nil || n == 0 {
		t.Fatalf("clear: %d %v", n, err)
	}
	if has, err := db.HasLiveState(t.Context(), dst); err != nil || has {
		t.Errorf("live state after clearing: %v %v", has, err)
	}
	if nodes, err := db.Nodes(t.Context(), dst, graph.LabelHost, []string{"web-1", "db-1"}); err != nil || len(nodes) != 2 {
		t.Errorf("design after clearing: %v %v", nodes, err)
	}
}

type neo4jTx = neo4j.ManagedTransaction

func collectRows(ctx context.Context, tx neo4j.ManagedTransaction, cypher, twin string) ([][]any, error) {
	res, err := tx.Run(ctx, cypher, map[string]any{"twin": twin})
	if err != nil {
		return nil, err
	}
	var rows [][]any
	for res.Next(ctx) {
		rows = append(rows, res.Record().Values)
	}
	return rows, res.Err()
}
