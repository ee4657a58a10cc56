package edge_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/edge"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type counts struct{ aggs, events, linked, dlq int64 }

func count(t *testing.T, db *graph.DB, twin string) counts {
	t.Helper()
	v, err := db.ReadTx(t.Context(), func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(t.Context(), `OPTIONAL MATCH (a:EdgeAggregate {twin: $twin}) WITH count(a) AS aggs
OPTIONAL MATCH (e:EdgeEvent {twin: $twin}) WITH aggs, count(e) AS events
OPTIONAL MATCH (n {twin: $twin})-[d:DESCRIBES]->(:Zone {twin: $twin}) RETURN aggs, events, count(d)`, map[string]any{"twin": twin})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(t.Context())
		if err != nil {
			return nil, err
		}
		return counts{aggs: rec.Values[0].(int64), events: rec.Values[1].(int64), linked: rec.Values[2].(int64)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.(counts)
}

func TestWorkerStoresReleasesOnceAndDeadLettersBadOnes(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	b := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := db.AutoCommit(ctx, `CREATE (:Zone {twin: $twin, name: 'depot-7'})`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	w := &edge.Worker{Graph: db, Log: testenv.Logger(t)}
	stop, err := b.Consume(ctx, bus.ConsumerSpec{Stream: bus.StreamEdge, Durable: "edge-test", MaxDeliver: 2,
		Backoff: []time.Duration{10 * time.Millisecond}}, w.Handle)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	agg := audit.Manifest{Site: "depot-7", Pipeline: "flows", Kind: audit.KindAggregate, ConfigHash: "cfg1", Mechanism: "DP-Sum",
		Epsilon: "1", Delta: "0", Guarantee: "event", LedgerEntry: "led1"}
	ev := audit.Manifest{Site: "depot-7", Pipeline: "auth", Kind: audit.KindEvent, ConfigHash: "cfg1", KeyID: "k1:2026-11", Mechanism: audit.MechanismMinimised}
	publish := func(subject string, m audit.Manifest, link string, data string, msgID string) {
		t.Helper()
		h := m.Header()
		if link != "" {
			h.Set(audit.HeaderLinkLabel, graph.LabelZone)
			h.Set(audit.HeaderLinkKey, link)
		}
		if msgID != "" {
			h.Set(nats.MsgIdHdr, msgID)
		}
		if _, err := b.JetStream().PublishMsg(ctx, &nats.Msg{Subject: subject, Header: h, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	aggSubject := bus.SubjectEdge + "." + twin + ".depot-7.flows.aggregate"
	evSubject := bus.SubjectEdge + "." + twin + ".depot-7.auth.event"
	window := `"window_start":"2026-11-23T10:00:00Z","window_end":"2026-11-23T10:15:00Z"`
	publish(aggSubject, agg, "depot-7", `{"metric":"bytes","partition":{"port":"443"},`+window+`,"value":1234}`, "a1")
	// The same window released again (a retry after a lost acknowledgement from another run) is one node.
	publish(aggSubject, agg, "depot-7", `{"metric":"bytes","partition":{"port":"443"},`+window+`,"value":1234}`, "a2")
	// Two equal events are two events; the same message redelivered is one.
	publish(evSubject, ev, "depot-7", `{"event":"failed_login","user":"k1:abc"}`, "run-1")
	publish(evSubject, ev, "depot-7", `{"event":"failed_login","user":"k1:abc"}`, "run-2")
	publish(evSubject, ev, "nowhere", `{"event":"failed_login","user":"k1:def"}`, "run-3")
	// Bad ones: no manifest, a manifest for another pipeline, not JSON, a twin that does not exist.
	publish(evSubject, audit.Manifest{}, "", `{}`, "bad-1")
	publish(evSubject, agg, "", `{}`, "bad-2")
	publish(evSubject, ev, "", `not json`, "bad-3")
	publish(bus.SubjectEdge+".no-such-twin.depot-7.auth.event", ev, "", `{}`, "bad-4")

	var got counts
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = count(t, db, twin)
		info, err := b.JetStream().Stream(ctx, bus.StreamDLQ)
		if err != nil {
			t.Fatal(err)
		}
		got.dlq = int64(info.CachedInfo().State.Msgs) //nolint:gosec // a count
		if got == (counts{1, 3, 3, 4}) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != (counts{1, 3, 3, 4}) {
		t.Errorf("got %+v, want 1 aggregate, 3 events, 3 linked (one names no element), 4 dead letters", got)
	}
	v, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (a:EdgeAggregate {twin: $twin}) RETURN [a.mechanism, a.epsilon, a.guarantee, a.ledgerEntry, a.configHash, a.partition, toString(a.value)]`,
			map[string]any{"twin": twin})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(rec.Values[0]), nil
	})
	if err != nil || v != "[DP-Sum 1 event led1 cfg1 port=443 1234.0]" {
		t.Errorf("stored aggregate %v %v: the privacy manifest must be kept", v, err)
	}
}
