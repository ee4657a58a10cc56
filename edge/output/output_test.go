package output_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/output"
	"github.com/sectwin/sectwin/edge/secret"
	"github.com/sectwin/sectwin/internal/bus"
)

func TestStdoutWritesLines(t *testing.T) {
	var buf bytes.Buffer
	out := output.NewStdout("stdout", &buf)
	for _, d := range []string{`{"a":1}`, `{"b":2}`} {
		if err := out.Send(t.Context(), output.Message{Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "{\"a\":1}\n{\"b\":2}\n" {
		t.Errorf("got %q", got)
	}
}

func TestNATSPublishesWithTheManifest(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Config{StoreDir: t.TempDir(), Port: -1, Token: "edge-test-token", Name: "edge-test", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	t.Setenv("EDGE_NATS_TOKEN", "edge-test-token")
	tok, err := secret.Load("env:EDGE_NATS_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDGE_WRONG_TOKEN", "nope")
	wrong, _ := secret.Load("env:EDGE_WRONG_TOKEN")
	if _, err := output.DialNATS(ctx, output.NATSConfig{Name: "n", URL: b.ClientURL(), Token: wrong}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("a wrong token: %v", err)
	}
	if _, err := output.DialNATS(ctx, output.NATSConfig{Name: "n", URL: b.ClientURL(), Token: tok, Stream: "NOPE"}); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("a missing stream: %v", err)
	}
	out, err := output.DialNATS(ctx, output.NATSConfig{Name: "n", URL: b.ClientURL(), Token: tok, Stream: bus.StreamEdge})
	if err != nil {
		t.Fatal(err)
	}
	m := audit.Manifest{Site: "depot-7", Pipeline: "netflow", Kind: audit.KindAggregate, ConfigHash: "abc", KeyID: "k2026q4",
		Mechanism: "DP-Sum", Epsilon: "1", Delta: "0", Guarantee: "event", LedgerEntry: "f00d"}
	subject := bus.SubjectEdge + ".city.depot-7.netflow.aggregate"
	for range 2 { // two equal releases are two messages
		if err := out.Send(ctx, output.Message{Subject: subject, Data: []byte(`{"sum":42}`), Manifest: m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cons, err := b.JetStream().CreateConsumer(ctx, bus.StreamEdge, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for msg := range batch.Messages() {
		n++
		got, err := audit.FromHeader(msg.Headers())
		if err != nil || got != m || string(msg.Data()) != `{"sum":42}` || msg.Subject() != subject {
			t.Errorf("message %d: %+v %v %s", n, got, err, msg.Data())
		}
		_ = msg.Ack()
	}
	if n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}
