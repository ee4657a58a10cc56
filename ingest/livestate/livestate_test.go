package livestate_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/livestate"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type announced struct {
	changes chan events.Change
	alerts  chan events.AlertsRaised
}

func (a announced) Publish(_ context.Context, c events.Change) error { a.changes <- c; return nil }
func (a announced) PublishAlerts(_ context.Context, r events.AlertsRaised) error {
	a.alerts <- r
	return nil
}

func TestWorkerAppliesWindows(t *testing.T) {
	db := testenv.Migrated(t)
	b := testenv.NATS(t)
	twin := testenv.NewTwin(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := db.AutoCommit(ctx, `CREATE (:Host {twin: $twin, name: 'web-1', addresses: ['10.0.1.5']}), (:Service {twin: $twin, name: 'portal'})`,
		map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	an := announced{changes: make(chan events.Change, 100), alerts: make(chan events.AlertsRaised, 100)}
	w := &livestate.Worker{Bus: b, Store: db, Decode: telemetry.DecodeFor, Announce: an, Log: testenv.Logger(t), Window: 100 * time.Millisecond}
	go func() { _ = w.Run(ctx) }()

	now := time.Now().UTC().Truncate(time.Second)
	publish := func(ev telemetry.Event) {
		t.Helper()
		ev.Twin = twin
		data, err := telemetry.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, telemetry.Subject(twin, ev.Kind), data, ev.Source+"/"+ev.ID); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		publish(telemetry.Event{ID: "f" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Source: "s", Time: now, Kind: telemetry.KindFlow,
			Flow: &telemetry.Flow{Src: "10.0.1.5", Dst: "203.0.113.1", Port: 443, Proto: "TCP", Bytes: 10}})
	}
	publish(telemetry.Event{ID: "a1", Source: "s", Time: now, Kind: telemetry.KindAlert,
		Alert: &telemetry.Alert{Source: "falco", Rule: "Terminal shell in container", Severity: "high", Entity: "web-1"}})
	publish(telemetry.Event{ID: "d1", Source: "s", Time: now, Kind: telemetry.KindDeploy,
		Deploy: &telemetry.Deploy{Service: "portal", Digest: "sha256:" + sha64}})
	// Malformed: a subject of an unknown kind, and an event that does not decode.
	if err := b.Publish(ctx, "telemetry."+twin+".weather", []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, telemetry.Subject(twin, telemetry.KindFlow), []byte(`{"specversion":"1.0"`), ""); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for w.Stats().Applied < 52 || w.Stats().Malformed < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("worker stats %+v", w.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	conns, err := db.Connections(ctx, twin, now.Add(-time.Hour), false, 10)
	if err != nil || len(conns) != 1 || conns[0].Count != 50 || conns[0].Bytes != 500 || conns[0].Src.Key != "web-1" || conns[0].Dst.Label != graph.LabelObservedEndpoint {
		t.Fatalf("connections %+v %v", conns, err)
	}
	alerts, err := db.Alerts(ctx, twin, now.Add(-time.Hour), "HIGH", 10)
	if err != nil || len(alerts) != 1 || alerts[0].About == nil || alerts[0].About.Key != "web-1" {
		t.Fatalf("alerts %+v %v", alerts, err)
	}
	select {
	case a := <-an.alerts:
		if a.Twin != twin || len(a.Keys) != 1 {
			t.Errorf("announced alerts %+v", a)
		}
	case <-time.After(5 * time.Second):
		t.Error("new alert not announced")
	}
	// The malformed events are in the dead-letter stream with their reason.
	dlq, err := b.JetStream().Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(ctx)
	if err != nil || info.State.Msgs < 2 {
		t.Fatalf("dead letters: %+v %v", info, err)
	}
	m, err := dlq.GetLastMsgForSubject(ctx, bus.DLQSubject(telemetry.Subject(twin, telemetry.KindFlow)))
	if err != nil || m.Header.Get(bus.HeaderDLQError) == "" {
		t.Errorf("dead letter without a reason: %+v %v", m, err)
	}
	// Everything was acknowledged: nothing is pending for the consumer.
	cons, err := b.JetStream().Consumer(ctx, bus.StreamTelemetry, "telemetry-state")
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		ci, err := cons.Info(ctx)
		if err == nil && ci.NumAckPending == 0 && ci.NumPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unacknowledged telemetry: %+v %v", ci, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = jetstream.ErrNoMessages
}

const sha64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
