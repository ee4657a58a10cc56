package collector_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/collector"
	"github.com/sectwin/sectwin/edge/transform"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/bus"
)

// eveLines are Suricata EVE events full of identifying data: two alerts from one client, a
// flow, and a DNS event the telemetry contract has no kind for.
const eveLines = `{"timestamp":"2026-03-04T08:15:01.120033+0000","flow_id":1,"event_type":"alert","src_ip":"198.51.100.23","src_port":51544,"dest_ip":"192.0.2.10","dest_port":443,"proto":"TCP","alert":{"signature_id":2100498,"signature":"GPL ATTACK_RESPONSE id check returned root","severity":2},"http":{"hostname":"shop.example.net","url":"/login?user=alice@example.org"}}
{"timestamp":"2026-03-04T08:16:07.000000+0000","flow_id":2,"event_type":"alert","src_ip":"198.51.100.23","src_port":51550,"dest_ip":"192.0.2.10","dest_port":443,"proto":"TCP","alert":{"signature_id":2100498,"signature":"GPL ATTACK_RESPONSE id check returned root","severity":2},"http":{"hostname":"shop.example.net","url":"/login?user=alice@example.org"}}
{"timestamp":"2026-03-04T08:15:02.000001+0000","flow_id":3,"event_type":"flow","src_ip":"198.51.100.23","src_port":40022,"dest_ip":"203.0.113.9","dest_port":5432,"proto":"TCP","flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":740,"bytes_toclient":90,"start":"2026-03-04T08:14:59.991000+0000"}}
{"timestamp":"2026-03-04T08:15:03.000000+0000","event_type":"dns","src_ip":"198.51.100.23","dest_ip":"192.0.2.53","dns":{"rrname":"alice.example.org"}}
`

// TestTelemetryOutput runs a collector whose pipeline pseudonymises addresses and aggregates
// with DP into a telemetry output on a real NATS server: what reaches the TELEMETRY stream
// decodes with telemetry.DecodeFor, names the pseudonyms as entities (the same address, the
// same pseudonym), carries the privacy manifest, and holds none of the raw values.
func TestTelemetryOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	b, err := bus.Open(ctx, bus.Config{StoreDir: t.TempDir(), Port: -1, Token: "edge-telemetry-token", Name: "edge-telemetry-test", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	t.Setenv("EDGE_NATS_TOKEN", "edge-telemetry-token")
	t.Setenv("EDGE_HMAC_KEY", "edge-telemetry-test-key-0123456789")
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`version: 1
site: depot-7
twin: city
dead_letter: %s
ledger: %s
inputs: [{name: eve, type: stdin, decoder: suricata, pipeline: ids}]
outputs: [{name: ops, type: telemetry, url: %q, token_ref: "env:EDGE_NATS_TOKEN"}]
pipelines:
  ids:
    privacy_unit: src_ip
    allow_fields: [timestamp, event_type, src_ip, dest_ip, dest_port, proto, alert.signature_id, alert.severity, flow.*]
    generalize:
      timestamp: {bucket: 15m}
    pseudonymize: {fields: [src_ip, dest_ip], key_ref: "env:EDGE_HMAC_KEY", key_id: k1}
    release_events: true
    aggregate:
      window: 1h
      group_by: [event_type]
      partitions: {event_type: [alert, flow]}
      metrics: [{name: events, algo: DP-Count, epsilon: 1.0}]
      budget: {epsilon: 1.0, guarantee: unit}
`, filepath.Join(dir, "dead"), filepath.Join(dir, "ledger"), b.ClientURL())
	cfg, plans, err := collector.Parse("edge.yaml", []byte(cfgText), transform.EnvFileKeys{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := collector.New(ctx, cfg, plans, collector.Options{Stdin: strings.NewReader(eveLines), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Released != 4 || st.SendFailures != 0 || st.Aggregates != 2 {
		t.Fatalf("collector stats %+v: want 4 released (the dns event is taken and skipped), 2 aggregates, no send failures", st)
	}

	cons, err := b.JetStream().CreateConsumer(ctx, bus.StreamTelemetry, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	pseudonym := regexp.MustCompile(`^k1:[A-Za-z0-9_-]{22}$`)
	var alerts []telemetry.Alert
	var flows []telemetry.Flow
	metrics := map[string]string{}
	ids := map[string]bool{}
	for msg := range batch.Messages() {
		for _, raw := range []string{"198.51.100.23", "192.0.2.10", "203.0.113.9", "shop.example.net", "alice", "51544", "08:15:01"} {
			if strings.Contains(string(msg.Data()), raw) {
				t.Errorf("raw value %q reached the twin: %s", raw, msg.Data())
			}
		}
		parts := strings.Split(msg.Subject(), ".")
		if len(parts) != 3 || parts[0] != "telemetry" || parts[1] != "city" {
			t.Fatalf("subject %s", msg.Subject())
		}
		ev, err := telemetry.DecodeFor("city", parts[2], msg.Data())
		if err != nil {
			t.Fatalf("DecodeFor refuses %s: %v", msg.Data(), err)
		}
		if ev.Source != "urn:sectwin:edge:depot-7:ids" || ids[ev.ID] {
			t.Errorf("source %s, id %s (seen before: %v)", ev.Source, ev.ID, ids[ev.ID])
		}
		ids[ev.ID] = true
		m, err := audit.FromHeader(msg.Headers())
		if err != nil || m.Site != "depot-7" || m.Pipeline != "ids" {
			t.Errorf("privacy manifest %+v: %v", m, err)
		}
		switch ev.Kind {
		case telemetry.KindAlert:
			if m.Kind != audit.KindEvent || m.KeyID != "k1" || !ev.Time.Equal(time.Date(2026, 3, 4, 8, 15, 0, 0, time.UTC)) {
				t.Errorf("alert: manifest %+v, time %v (generalised to 15 minutes)", m, ev.Time)
			}
			alerts = append(alerts, *ev.Alert)
		case telemetry.KindFlow:
			flows = append(flows, *ev.Flow)
		case telemetry.KindMetric:
			if m.Kind != audit.KindAggregate || m.Epsilon != "1" || !strings.Contains(m.Mechanism, "DP-Count") {
				t.Errorf("metric manifest %+v", m)
			}
			metrics[ev.Metric.Entity] = ev.Metric.Name
		default:
			t.Errorf("unexpected %s event", ev.Kind)
		}
	}
	if len(alerts) != 2 || len(flows) != 1 || len(metrics) != 2 {
		t.Fatalf("%d alerts, %d flows, %d metrics; want 2, 1, 2", len(alerts), len(flows), len(metrics))
	}
	// Two equal minimised alerts are two events, about the same pseudonym.
	if alerts[0] != alerts[1] || !pseudonym.MatchString(alerts[0].Entity) || alerts[0].Rule != "2100498" || alerts[0].Severity != "MEDIUM" || alerts[0].Message != "" {
		t.Errorf("alerts %+v", alerts)
	}
	f := flows[0]
	if !pseudonym.MatchString(f.Src) || !pseudonym.MatchString(f.Dst) || f.Src == f.Dst || f.Port != 5432 || f.Proto != "tcp" || f.Bytes != 830 || f.Packets != 5 {
		t.Errorf("flow %+v", f)
	}
	if metrics["event_type=alert"] != "events" || metrics["event_type=flow"] != "events" {
		t.Errorf("metrics %v", metrics)
	}
}

// TestTelemetryOutputConfig: a telemetry output needs the server's NATS URL, and its secrets are
// references like a nats output's.
func TestTelemetryOutputConfig(t *testing.T) {
	tests := []struct{ name, output, want string }{
		{"ok", `{name: ops, type: telemetry, url: "nats://127.0.0.1:4222", token_ref: "env:T"}`, ""},
		{"no url", `{name: ops, type: telemetry}`, "outputs[0].url: required for a telemetry output"},
		{"a secret inline", `{name: ops, type: telemetry, url: "nats://127.0.0.1:4222", token_ref: "hunter2"}`, "outputs[0].token_ref"},
		{"unknown type", `{name: ops, type: kafka, url: "x"}`, "must be stdout, nats or telemetry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := `version: 1
site: depot-7
twin: city
dead_letter: /tmp/dead
inputs: [{name: in, type: stdin, decoder: json, pipeline: p}]
outputs: [` + tt.output + `]
pipelines:
  p:
    allow_fields: [a]
`
			_, _, err := collector.Parse("edge.yaml", []byte(cfg), transform.EnvFileKeys{})
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("want an error with %q, got %v", tt.want, err)
			}
		})
	}
}
