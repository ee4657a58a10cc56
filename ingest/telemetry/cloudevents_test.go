package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// testNow is the clock of the unit tests.
func testNow() time.Time { return time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) }

// envelope builds an event's JSON with the given data and attribute overrides (a nil value
// deletes the attribute).
func envelope(kind string, data any, attrs map[string]any) []byte {
	m := map[string]any{
		"specversion":     "1.0",
		"id":              "ev-1",
		"source":          "urn:sectwin:test",
		"type":            EventType(kind),
		"time":            "2026-03-04T11:00:00Z",
		"datacontenttype": "application/json",
		"sectwintwin":     "plant",
		"data":            data,
	}
	for k, v := range attrs {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func flowData() map[string]any {
	return map[string]any{"src": "k2026q4:Q2hhbmdlIG1lIHBsZWFz", "dst": "10.0.0.1", "port": 443, "proto": "TCP", "bytes": 10}
}

func TestDecode(t *testing.T) {
	at := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		data  []byte
		want  Event
		field string // when set, decoding fails on this field
	}{
		{
			name: "flow, proto lower-cased, pseudonym kept",
			data: envelope(KindFlow, flowData(), nil),
			want: Event{ID: "ev-1", Source: "urn:sectwin:test", Time: at, Twin: "plant", Kind: KindFlow,
				Flow: &Flow{Src: "k2026q4:Q2hhbmdlIG1lIHBsZWFz", Dst: "10.0.0.1", Port: 443, Proto: "tcp", Bytes: 10}},
		},
		{
			name: "auth with subject, outcome lower-cased, no datacontenttype",
			data: envelope(KindAuth, map[string]any{"principal": "alice", "outcome": "FAILURE", "location": "52.35,4.9"},
				map[string]any{"subject": "bastion-1", "datacontenttype": nil}),
			want: Event{ID: "ev-1", Source: "urn:sectwin:test", Time: at, Twin: "plant", Kind: KindAuth, Subject: "bastion-1",
				Auth: &Auth{Principal: "alice", Outcome: "failure", Location: "52.35,4.9"}},
		},
		{
			name: "alert, severity upper-cased",
			data: envelope(KindAlert, map[string]any{"source": "falco", "rule": "r", "severity": "critical", "entity": "web-1", "technique": "T1059.004"}, nil),
			want: Event{ID: "ev-1", Source: "urn:sectwin:test", Time: at, Twin: "plant", Kind: KindAlert,
				Alert: &Alert{Source: "falco", Rule: "r", Severity: "CRITICAL", Entity: "web-1", Technique: "T1059.004"}},
		},
		{
			name: "metric with value zero and a charset",
			data: envelope(KindMetric, map[string]any{"entity": "urn:ngsi-ld:ParkingSpot:1", "name": "occupied", "value": 0},
				map[string]any{"datacontenttype": "application/json; charset=utf-8"}),
			want: Event{ID: "ev-1", Source: "urn:sectwin:test", Time: at, Twin: "plant", Kind: KindMetric,
				Metric: &Metric{Entity: "urn:ngsi-ld:ParkingSpot:1", Name: "occupied", Value: 0}},
		},
		{
			name: "deploy sha512, another extension ignored",
			data: envelope(KindDeploy, map[string]any{"service": "checkout", "digest": "sha512:" + strings.Repeat("ab", 64)},
				map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}),
			want: Event{ID: "ev-1", Source: "urn:sectwin:test", Time: at, Twin: "plant", Kind: KindDeploy,
				Deploy: &Deploy{Service: "checkout", Digest: "sha512:" + strings.Repeat("ab", 64)}},
		},
		{name: "not JSON", data: []byte(`{"specversion":`), field: "event"},
		{name: "an array", data: []byte(`[1]`), field: "event"},
		{name: "too large", data: append(envelope(KindFlow, flowData(), nil), bytes.Repeat([]byte(" "), MaxEventBytes)...), field: "event"},
		{name: "spec 0.3", data: envelope(KindFlow, flowData(), map[string]any{"specversion": "0.3"}), field: "specversion"},
		{name: "no specversion", data: envelope(KindFlow, flowData(), map[string]any{"specversion": nil}), field: "specversion"},
		{name: "no id", data: envelope(KindFlow, flowData(), map[string]any{"id": nil}), field: "id"},
		{name: "no source", data: envelope(KindFlow, flowData(), map[string]any{"source": nil}), field: "source"},
		{name: "unknown type", data: envelope(KindFlow, flowData(), map[string]any{"type": "io.sectwin.telemetry.dns"}), field: "type"},
		{name: "foreign type", data: envelope(KindFlow, flowData(), map[string]any{"type": "com.example.flow"}), field: "type"},
		{name: "no time", data: envelope(KindFlow, flowData(), map[string]any{"time": nil}), field: "time"},
		{name: "time in the future", data: envelope(KindFlow, flowData(), map[string]any{"time": "2999-01-01T00:00:00Z"}), field: "time"},
		{name: "time before 1970", data: envelope(KindFlow, flowData(), map[string]any{"time": "1969-12-31T00:00:00Z"}), field: "time"},
		{name: "xml content", data: envelope(KindFlow, flowData(), map[string]any{"datacontenttype": "application/xml"}), field: "datacontenttype"},
		{name: "no twin", data: envelope(KindFlow, flowData(), map[string]any{"sectwintwin": nil}), field: "sectwintwin"},
		{name: "bad twin", data: envelope(KindFlow, flowData(), map[string]any{"sectwintwin": "Plant A"}), field: "sectwintwin"},
		{name: "numeric twin", data: envelope(KindFlow, flowData(), map[string]any{"sectwintwin": 7}), field: "sectwintwin"},
		{name: "no data", data: envelope(KindFlow, nil, map[string]any{"data": nil}), field: "data"},
		{name: "data not an object", data: envelope(KindFlow, "flow", nil), field: "data"},
		{name: "data_base64", data: envelope(KindFlow, nil, map[string]any{"data": nil, "data_base64": "e30="}), field: "data_base64"},
		{name: "unknown data field", data: envelope(KindFlow, with(flowData(), "byte", 1), nil), field: "data"},
		{name: "missing bytes", data: envelope(KindFlow, with(flowData(), "bytes", nil), nil), field: "data.bytes"},
		{name: "null port", data: envelope(KindFlow, with(flowData(), "port", json.RawMessage("null")), nil), field: "data.port"},
		{name: "port as text", data: envelope(KindFlow, with(flowData(), "port", "443"), nil), field: "data.port"},
		{name: "port out of range", data: envelope(KindFlow, with(flowData(), "port", 65536), nil), field: "data.port"},
		{name: "negative bytes", data: envelope(KindFlow, with(flowData(), "bytes", -1), nil), field: "data.bytes"},
		{name: "fractional bytes", data: envelope(KindFlow, with(flowData(), "bytes", 1.5), nil), field: "data.bytes"},
		{name: "empty src", data: envelope(KindFlow, with(flowData(), "src", ""), nil), field: "data.src"},
		{name: "long dst", data: envelope(KindFlow, with(flowData(), "dst", strings.Repeat("a", MaxFieldBytes+1)), nil), field: "data.dst"},
		{name: "control character", data: envelope(KindFlow, with(flowData(), "dst", "a\x1b[31m"), nil), field: "data.dst"},
		{name: "bad outcome", data: envelope(KindAuth, map[string]any{"principal": "p", "outcome": "maybe"}, nil), field: "data.outcome"},
		{name: "bad location", data: envelope(KindAuth, map[string]any{"principal": "p", "outcome": "success", "location": "91,0"}, nil), field: "data.location"},
		{name: "bad severity", data: envelope(KindAlert, map[string]any{"source": "s", "rule": "r", "severity": "SEVERE", "entity": "e"}, nil), field: "data.severity"},
		{name: "bad technique", data: envelope(KindAlert, map[string]any{"source": "s", "rule": "r", "severity": "LOW", "entity": "e", "technique": "TA0001"}, nil), field: "data.technique"},
		{name: "metric without value", data: envelope(KindMetric, map[string]any{"entity": "e", "name": "n"}, nil), field: "data.value"},
		{name: "short digest", data: envelope(KindDeploy, map[string]any{"service": "s", "digest": "sha256:abc"}, nil), field: "data.digest"},
		{name: "upper-case digest", data: envelope(KindDeploy, map[string]any{"service": "s", "digest": "sha256:" + strings.Repeat("AB", 32)}, nil), field: "data.digest"},
		{name: "md5 digest", data: envelope(KindDeploy, map[string]any{"service": "s", "digest": "md5:" + strings.Repeat("ab", 16)}, nil), field: "data.digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEvent(tc.data, "", "", testNow())
			if tc.field != "" {
				checkFieldErr(t, err, tc.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameEvent(got, tc.want) {
				t.Errorf("got  %+v %s\nwant %+v %s", got, describe(got), tc.want, describe(tc.want))
			}
		})
	}
}

// with returns a copy of m with k set to v (deleted when v is nil).
func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func checkFieldErr(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v does not match ErrMalformed", err)
	}
	fe, ok := errors.AsType[*FieldError](err)
	if !ok {
		t.Fatalf("error %v is not a *FieldError", err)
	}
	if fe.Field != field {
		t.Errorf("field %q (%v), want %q", fe.Field, err, field)
	}
}

func TestDecodeFor(t *testing.T) {
	noTwin := envelope(KindFlow, flowData(), map[string]any{"sectwintwin": nil})
	for _, tc := range []struct {
		name, twin, kind string
		data             []byte
		wantTwin, field  string
	}{
		{name: "twin from the subject", twin: "plant", kind: KindFlow, data: noTwin, wantTwin: "plant"},
		{name: "twin agrees", twin: "plant", kind: KindFlow, data: envelope(KindFlow, flowData(), nil), wantTwin: "plant"},
		{name: "twin disagrees", twin: "other", kind: KindFlow, data: envelope(KindFlow, flowData(), nil), field: "sectwintwin"},
		{name: "kind disagrees", twin: "plant", kind: KindAuth, data: envelope(KindFlow, flowData(), nil), field: "type"},
		{name: "subject twin is checked too", twin: "Bad.Twin", kind: KindFlow, data: noTwin, field: "sectwintwin"},
		{name: "kind not checked", twin: "plant", data: noTwin, wantTwin: "plant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEvent(tc.data, tc.twin, tc.kind, testNow())
			if tc.field != "" {
				checkFieldErr(t, err, tc.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Twin != tc.wantTwin {
				t.Errorf("twin %q, want %q", got.Twin, tc.wantTwin)
			}
		})
	}
	// The exported forms use the real clock.
	if _, err := DecodeFor("plant", KindFlow, noTwin); err != nil {
		t.Errorf("DecodeFor: %v", err)
	}
	if _, err := Decode(noTwin); !errors.Is(err, ErrMalformed) {
		t.Errorf("Decode without a twin: %v", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 11, 0, 0, 123456789, time.FixedZone("", 3600))
	base := Event{ID: "id-1", Source: "urn:sectwin:test", Time: at, Twin: "plant"}
	for _, tc := range []struct {
		name string
		ev   Event
	}{
		{"flow", withPayload(base, KindFlow, &Flow{Src: "a", Dst: "b", Port: 0, Proto: "icmp", Bytes: 0, Count: 3})},
		{"auth", withPayload(base, KindAuth, &Auth{Principal: "p", Outcome: "success", Method: "publickey"})},
		{"alert", withPayload(base, KindAlert, &Alert{Source: "s", Rule: "r", Severity: "LOW", Entity: "e", Message: "line 1\nline 2\t✓"})},
		{"metric", withPayload(base, KindMetric, &Metric{Entity: "e", Name: "n", Value: -1.5e-300, Unit: "°C"})},
		{"deploy", withPayload(base, KindDeploy, &Deploy{Service: "s", Digest: "sha256:" + strings.Repeat("0", 64)})},
		{"subject", func() Event {
			e := withPayload(base, KindMetric, &Metric{Entity: "e", Name: "n", Value: 1})
			e.Subject = "e"
			return e
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["specversion"] != "1.0" || m["type"] != EventType(tc.ev.Kind) || m[TwinExtension] != "plant" || m["datacontenttype"] != ContentType {
				t.Errorf("envelope %s", b)
			}
			got, err := decodeEvent(b, "", "", testNow())
			if err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if !sameEvent(got, tc.ev) {
				t.Errorf("got  %s\nwant %s", describe(got), describe(tc.ev))
			}
		})
	}
}

func withPayload(e Event, kind string, p any) Event {
	e.Kind = kind
	switch x := p.(type) {
	case *Flow:
		e.Flow = x
	case *Auth:
		e.Auth = x
	case *Alert:
		e.Alert = x
	case *Metric:
		e.Metric = x
	case *Deploy:
		e.Deploy = x
	}
	return e
}

func TestValidate(t *testing.T) {
	now := testNow()
	base := Event{ID: "id", Source: "urn:x", Time: now, Twin: "plant"}
	flow := func(f Flow) Event { return withPayload(base, KindFlow, &f) }
	for _, tc := range []struct {
		name  string
		ev    Event
		field string
	}{
		{"ok", flow(Flow{Src: "a", Dst: "b", Port: 65535, Proto: "udp"}), ""},
		{"a day ahead is skew", func() Event {
			e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"})
			e.Time = now.Add(MaxFutureSkew)
			return e
		}(), ""},
		{"zero time", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Time = time.Time{}; return e }(), "time"},
		{"the epoch", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Time = time.Unix(0, 0); return e }(), "time"},
		{"too far ahead", func() Event {
			e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"})
			e.Time = now.Add(MaxFutureSkew + time.Second)
			return e
		}(), "time"},
		{"no id", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.ID = ""; return e }(), "id"},
		{"bad source", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Source = "%zz"; return e }(), "source"},
		{"source not canonical", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Source = "sensor 1"; return e }(), "source"},
		{"id with a space in front", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.ID = " 1"; return e }(), "id"},
		{"blank subject", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Subject = " "; return e }(), "subject"},
		{"no twin", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Twin = ""; return e }(), "sectwintwin"},
		{"negative port", flow(Flow{Src: "a", Dst: "b", Port: -1, Proto: "udp"}), "data.port"},
		{"negative packets", flow(Flow{Src: "a", Dst: "b", Proto: "udp", Packets: -1}), "data.packets"},
		{"negative count", flow(Flow{Src: "a", Dst: "b", Proto: "udp", Count: -1}), "data.count"},
		{"proto with space", flow(Flow{Src: "a", Dst: "b", Proto: "t cp"}), "data.proto"},
		{"long proto", flow(Flow{Src: "a", Dst: "b", Proto: strings.Repeat("x", MaxProtoBytes+1)}), "data.proto"},
		{"invalid UTF-8", flow(Flow{Src: "a\xff", Dst: "b", Proto: "udp"}), "data.src"},
		{"two payloads", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Auth = &Auth{}; return e }(), "data"},
		{"kind without its payload", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Kind = KindAuth; return e }(), "data"},
		{"unknown kind", func() Event { e := flow(Flow{Src: "a", Dst: "b", Proto: "udp"}); e.Kind = "dns"; return e }(), "type"},
		{"no payload", base, "data"},
		{"NaN", withPayload(base, KindMetric, &Metric{Entity: "e", Name: "n", Value: math.NaN()}), "data.value"},
		{"infinity", withPayload(base, KindMetric, &Metric{Entity: "e", Name: "n", Value: math.Inf(-1)}), "data.value"},
		{"long message", withPayload(base, KindAlert, &Alert{Source: "s", Rule: "r", Severity: "low", Entity: "e", Message: strings.Repeat("m", MaxMessageBytes+1)}), "data.message"},
		{"message with NUL", withPayload(base, KindAlert, &Alert{Source: "s", Rule: "r", Severity: "low", Entity: "e", Message: "a\x00"}), "data.message"},
		{"no entity", withPayload(base, KindAlert, &Alert{Source: "s", Rule: "r", Severity: "low"}), "data.entity"},
		{"no principal", withPayload(base, KindAuth, &Auth{Outcome: "success"}), "data.principal"},
		{"no service", withPayload(base, KindDeploy, &Deploy{Digest: "sha256:" + strings.Repeat("0", 64)}), "data.service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ev.ValidateAt(now)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			checkFieldErr(t, err, tc.field)
		})
	}
	t.Run("normalises", func(t *testing.T) {
		a := withPayload(base, KindAlert, &Alert{Source: "s", Rule: "r", Severity: "hIgH", Entity: "e"})
		au := withPayload(base, KindAuth, &Auth{Principal: "p", Outcome: "Success"})
		f := flow(Flow{Src: "a", Dst: "b", Proto: "TCP"})
		for _, e := range []*Event{&a, &au, &f} {
			if err := e.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		if a.Alert.Severity != SeverityHigh || au.Auth.Outcome != OutcomeSuccess || f.Flow.Proto != "tcp" {
			t.Errorf("not normalised: %s %s %s", a.Alert.Severity, au.Auth.Outcome, f.Flow.Proto)
		}
	})
	t.Run("Encode refuses", func(t *testing.T) {
		if _, err := Encode(flow(Flow{Src: "a", Dst: "b", Port: 70000, Proto: "tcp"})); !errors.Is(err, ErrMalformed) {
			t.Errorf("Encode: %v", err)
		}
	})
}

func TestDecodeBatch(t *testing.T) {
	good := string(envelope(KindFlow, flowData(), nil))
	bad := string(envelope(KindFlow, with(flowData(), "port", -1), nil))
	other := string(envelope(KindFlow, flowData(), map[string]any{"sectwintwin": "other"}))
	noTwin := string(envelope(KindFlow, flowData(), map[string]any{"sectwintwin": nil}))
	for _, tc := range []struct {
		name     string
		twin     string
		input    string
		max      int
		events   int
		badIdx   []int
		finalErr error
	}{
		{name: "array", input: "[" + good + "," + bad + "," + good + "]", max: 10, events: 2, badIdx: []int{1}},
		{name: "array with blanks and BOM", input: "\ufeff \n [ " + good + " ,\n" + good + " ]\n", max: 10, events: 2},
		{name: "array of a non-object", input: "[" + good + ", 7, \"x\"]", max: 10, events: 1, badIdx: []int{1, 2}},
		{name: "empty array", input: "[]", max: 10},
		{name: "empty input", input: "  \n", max: 10},
		{name: "lines", input: good + "\n\n" + bad + "\r\n{\n" + good, max: 10, events: 2, badIdx: []int{1, 2}},
		{name: "a long line", input: good + "\n" + strings.Repeat("x", MaxEventBytes+10) + "\n" + good + "\n", max: 10, events: 2, badIdx: []int{1}},
		{name: "array over the bound", input: "[" + good + "," + good + "," + good + "]", max: 2, events: 2, finalErr: ErrBatchTooLarge},
		{name: "lines over the bound", input: good + "\n" + good + "\n" + good + "\n", max: 2, events: 2, finalErr: ErrBatchTooLarge},
		{name: "bound zero", input: good, max: 0, finalErr: ErrBatchTooLarge},
		{name: "broken array", input: "[" + good + "," + good[:20], max: 10, events: 1, finalErr: ErrMalformed},
		{name: "data after the array", input: "[" + good + "] x", max: 10, events: 1, finalErr: ErrMalformed},
		{name: "one twin: foreign refused, missing filled", twin: "plant", input: good + "\n" + other + "\n" + noTwin, max: 10, events: 2, badIdx: []int{1}},
		{name: "no twin given: missing refused", input: good + "\n" + noTwin, max: 10, events: 1, badIdx: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, errs, err := decodeBatch(strings.NewReader(tc.input), tc.max, tc.twin, testNow())
			if tc.finalErr == nil && err != nil || tc.finalErr != nil && !errors.Is(err, tc.finalErr) {
				t.Fatalf("final error %v, want %v", err, tc.finalErr)
			}
			if len(evs) != tc.events {
				t.Errorf("%d events, want %d", len(evs), tc.events)
			}
			var idx []int
			for _, e := range errs {
				idx = append(idx, e.Index)
				if !errors.Is(e, ErrMalformed) {
					t.Errorf("batch error %v does not match ErrMalformed", e)
				}
			}
			if !equalInts(idx, tc.badIdx) {
				t.Errorf("bad indexes %v, want %v (%v)", idx, tc.badIdx, errs)
			}
		})
	}
	t.Run("reader error", func(t *testing.T) {
		_, _, err := DecodeBatch(iotest.ErrReader(errors.New("boom")), 10)
		if err == nil || errors.Is(err, ErrMalformed) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("too many bytes", func(t *testing.T) {
		_, _, err := DecodeBatch(strings.NewReader(strings.Repeat(" ", 2*(MaxEventBytes+1)+10)+good), 2)
		if !errors.Is(err, ErrBatchTooLarge) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("exported forms", func(t *testing.T) {
		if evs, _, err := DecodeBatchFor("plant", strings.NewReader(noTwin), 1); err != nil || len(evs) != 1 {
			t.Errorf("DecodeBatchFor: %d events, %v", len(evs), err)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
