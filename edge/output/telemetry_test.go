package output_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/output"
	"github.com/sectwin/sectwin/ingest/telemetry"
)

// TestToTelemetry maps released documents, as the collector writes them (pseudonyms, prefixes
// and generalised times in place), to telemetry events, and says which releases give none.
func TestToTelemetry(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	event := audit.Manifest{Site: "depot-7", Pipeline: "ids", Kind: audit.KindEvent, Mechanism: audit.MechanismMinimised, KeyID: "k1"}
	agg := audit.Manifest{Site: "depot-7", Pipeline: "flows", Kind: audit.KindAggregate, Mechanism: "DP-Count/dlap-cks20", Epsilon: "1", Delta: "0", Guarantee: "unit"}
	tests := []struct {
		name    string
		m       output.Message
		want    []telemetry.Event
		skipped bool
		bad     string // the field a malformed release's error names
	}{
		{name: "suricata alert about a pseudonymised address",
			m: output.Message{Decoder: "suricata", Manifest: event, Data: []byte(`{"alert.severity":1,"alert.signature":"ET SCAN","alert.signature_id":2001219,` +
				`"dest_ip":"k1:AAAAAAAAAAAAAAAAAAAAAA","dest_port":22,"event_type":"alert","proto":"TCP","src_ip":"198.51.100.0/24","timestamp":"2026-03-04T11:15:00+0000"}`)},
			want: []telemetry.Event{{ID: "r1-0", Source: "urn:sectwin:edge:depot-7:ids", Time: time.Date(2026, 3, 4, 11, 15, 0, 0, time.UTC), Twin: "city", Kind: telemetry.KindAlert,
				Alert: &telemetry.Alert{Source: "suricata", Rule: "2001219", Severity: "HIGH", Entity: "k1:AAAAAAAAAAAAAAAAAAAAAA", Message: "ET SCAN"}}}},
		{name: "flow row with pseudonymised ends, read by the json adapter",
			m: output.Message{Decoder: "json", Manifest: event, Data: []byte(`{"bytes":512,"dst_ip":"k1:BBBBBBBBBBBBBBBBBBBBBB","dst_port":5432,"proto":"tcp",` +
				`"src_ip":"k1:CCCCCCCCCCCCCCCCCCCCCC","ts":"2026-03-04T11:45:00Z"}`)},
			want: []telemetry.Event{{ID: "r1-0", Source: "urn:sectwin:edge:depot-7:ids", Time: time.Date(2026, 3, 4, 11, 45, 0, 0, time.UTC), Twin: "city", Kind: telemetry.KindFlow,
				Flow: &telemetry.Flow{Src: "k1:CCCCCCCCCCCCCCCCCCCCCC", Dst: "k1:BBBBBBBBBBBBBBBBBBBBBB", Port: 5432, Proto: "tcp", Bytes: 512}}}},
		{name: "DP count of a window is a metric of its partition",
			m: output.Message{Manifest: agg, Data: []byte(`{"algo":"DP-Count","metric":"sources","partition":{"dst_port":"22"},"value":-2,` +
				`"window_start":"2026-03-04T11:00:00Z","window_end":"2026-03-04T11:15:00Z","units":7}`)},
			want: []telemetry.Event{{ID: "r1-0", Source: "urn:sectwin:edge:depot-7:flows", Time: time.Date(2026, 3, 4, 11, 15, 0, 0, time.UTC), Twin: "city", Kind: telemetry.KindMetric,
				Metric: &telemetry.Metric{Entity: "dst_port=22", Name: "sources", Value: -2}}}},
		{name: "an aggregate is read as one even when the input's decoder is named",
			m: output.Message{Decoder: "suricata", Manifest: agg, Data: []byte(`{"metric":"bytes","partition":{},"value":10.5,"window_start":"2026-03-04T11:00:00Z","window_end":"2026-03-04T11:15:00Z"}`)},
			want: []telemetry.Event{{ID: "r1-0", Source: "urn:sectwin:edge:depot-7:flows", Time: time.Date(2026, 3, 4, 11, 15, 0, 0, time.UTC), Twin: "city", Kind: telemetry.KindMetric,
				Metric: &telemetry.Metric{Entity: "all", Name: "bytes", Value: 10.5}}}},
		{name: "suppressed aggregate", skipped: true,
			m: output.Message{Manifest: agg, Data: []byte(`{"metric":"sources","partition":{"dst_port":"22"},"value":0,"suppressed":true,"window_start":"2026-03-04T11:00:00Z","window_end":"2026-03-04T11:15:00Z"}`)}},
		{name: "a minimised record of no telemetry shape", skipped: true,
			m: output.Message{Decoder: "json", Manifest: event, Data: []byte(`{"event":"login","user":"k1:DDDDDDDDDDDDDDDDDDDDDD","location":"u4xsu"}`)}},
		{name: "suricata dns event", skipped: true,
			m: output.Message{Decoder: "suricata", Manifest: event, Data: []byte(`{"event_type":"dns","timestamp":"2026-03-04T11:15:00+0000"}`)}},
		{name: "flow whose time the pipeline dropped", bad: "record",
			m: output.Message{Decoder: "json", Manifest: event, Data: []byte(`{"bytes":1,"dst_ip":"a","dst_port":1,"proto":"tcp","src_ip":"b"}`)}},
		{name: "not JSON", bad: "release", m: output.Message{Decoder: "json", Manifest: event, Data: []byte(`not json`)}},
		{name: "two documents", bad: "release", m: output.Message{Decoder: "json", Manifest: event, Data: []byte(`[1,2]`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := output.ToTelemetry(tt.m, "city", "depot-7", "r1", now)
			switch {
			case tt.skipped:
				if !errors.Is(err, telemetry.ErrSkipped) || len(got) > 0 {
					t.Fatalf("want skipped, got %v %+v", err, got)
				}
				return
			case tt.bad != "":
				var fe *telemetry.FieldError
				if !errors.As(err, &fe) || !errors.Is(err, telemetry.ErrMalformed) || len(fe.Field) < len(tt.bad) || fe.Field[:len(tt.bad)] != tt.bad {
					t.Fatalf("want a malformed error about %s, got %v", tt.bad, err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d events, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.ID != w.ID || g.Source != w.Source || !g.Time.Equal(w.Time) || g.Twin != w.Twin || g.Kind != w.Kind ||
					!samePayload(g.Alert, w.Alert) || !samePayload(g.Flow, w.Flow) || !samePayload(g.Metric, w.Metric) || g.Auth != nil || g.Deploy != nil {
					t.Errorf("event %d:\n got %+v %+v %+v %+v\nwant %+v %+v %+v %+v", i, g, g.Alert, g.Flow, g.Metric, w, w.Alert, w.Flow, w.Metric)
				}
				// What the twin receives decodes as the contract says.
				data, err := telemetry.Encode(g)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := telemetry.DecodeFor("city", g.Kind, data); err != nil {
					t.Errorf("DecodeFor refuses the event: %v", err)
				}
			}
		})
	}
}

func samePayload[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// FuzzToTelemetry: no released document, however odd, makes the mapping panic, and what it
// maps always validates.
func FuzzToTelemetry(f *testing.F) {
	for _, seed := range []struct {
		decoder, kind, data string
	}{
		{"suricata", audit.KindEvent, `{"alert.severity":1,"alert.signature_id":2001219,"dest_ip":"k1:AAAAAAAAAAAAAAAAAAAAAA","event_type":"alert","timestamp":"2026-03-04T11:15:00+0000"}`},
		{"json", audit.KindEvent, `{"bytes":512,"dst_ip":"k1:B","dst_port":5432,"proto":"tcp","src_ip":"198.51.100.0/24","ts":"2026-03-04T11:45:00Z"}`},
		{"", audit.KindAggregate, `{"metric":"sources","partition":{"dst_port":"22"},"value":-2,"window_start":"2026-03-04T11:00:00Z","window_end":"2026-03-04T11:15:00Z"}`},
		{"sshd", audit.KindEvent, `{"event":"failed_password","host":"k1:C","program":"sshd","src_ip":"k1:D","ts":"2026-03-04T11:45:00Z","user":"k1:E"}`},
		{"zeek", audit.KindEvent, `{"_path":"conn","id.orig_h":"k1:F","id.resp_h":"10.0.0.1","id.resp_p":22,"proto":"tcp","ts":1772620000}`},
		{"fiware", audit.KindEvent, `{"id":"urn:x","type":"ParkingSpot","status":"occupied","dateObserved":"2026-03-04T11:00:00Z"}`},
		{"json", audit.KindEvent, `not json`},
		{"nope", audit.KindEvent, `{}`},
	} {
		f.Add(seed.decoder, seed.kind, []byte(seed.data))
	}
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, decoder, kind string, data []byte) {
		m := output.Message{Decoder: decoder, Data: data, Manifest: audit.Manifest{Site: "depot-7", Pipeline: "p", Kind: kind}}
		evs, err := output.ToTelemetry(m, "city", "depot-7", "r1", now)
		if err != nil {
			if !errors.Is(err, telemetry.ErrSkipped) && !errors.Is(err, telemetry.ErrMalformed) {
				t.Fatalf("error matches neither ErrSkipped nor ErrMalformed: %v", err)
			}
			return
		}
		for _, ev := range evs {
			if err := ev.ValidateAt(now); err != nil {
				t.Fatalf("mapped event does not validate: %v", err)
			}
		}
	})
}
