package telemetry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeFastMatchesSlow is the differential test of the fast path (fastdecode.go) against
// the slow path, for every input, subject twin and kind:
//   - when the fast path accepts, the slow path accepts too, with a deep-equal Event;
//   - decodeEvent (what Decode, DecodeFor and DecodeBatch call) gives exactly the slow path's
//     Event or error;
//   - when the slow path accepts, what Encode writes of that event the fast path accepts (the
//     fast path is allowed to fall back on unusual spellings of a valid event, never on the
//     canonical one).
//
// The seed corpus (testdata/fuzz/FuzzDecodeFastMatchesSlow) holds the FuzzDecode seeds, the
// unit tests' valid and invalid events, an encoded event of each kind and spellings at the
// edges of what the fast path reads; SECTWIN_WRITE_FUZZ_CORPUS=1 go test -run
// TestWriteFastFuzzCorpus writes it again.
func FuzzDecodeFastMatchesSlow(f *testing.F) {
	for _, s := range fastFuzzSeeds() {
		f.Add(s.data, s.twin, s.kind)
	}
	f.Fuzz(func(t *testing.T, data []byte, twin, kind string) {
		checkFastMatchesSlow(t, data, twin, kind)
	})
}

func checkFastMatchesSlow(t *testing.T, data []byte, twin, kind string) {
	t.Helper()
	now := testNow()
	fast, fastOK := fastDecode(data, twin, kind, now)
	slow, slowErr := decodeEventSlow(data, twin, kind, now)
	if fastOK {
		if slowErr != nil {
			t.Fatalf("fast path accepts what the slow path refuses (%v): %q", slowErr, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast and slow paths disagree on %q:\nfast %#v %s\nslow %#v %s", data, fast, describe(fast), slow, describe(slow))
		}
	}
	pub, pubErr := decodeEvent(data, twin, kind, now)
	if !reflect.DeepEqual(pubErr, slowErr) || !reflect.DeepEqual(pub, slow) {
		// The slow path is not deterministic on every input: the SDK lower-cases extension
		// names and applies those read before specversion in map order, so
		// {"sectwintwin":"a","SECTWINTWIN":"b"} gives either twin. The fast path falls back on
		// such input, so decodeEvent is the slow path there, whatever it answers.
		// decodeEvent must then give one of the slow path's answers.
		if !fastOK && slowCanAnswer(data, twin, kind, now, pub, pubErr) {
			return
		}
		t.Fatalf("decodeEvent gives %v %#v, the slow path %v %#v", pubErr, pub, slowErr, slow)
	}
	if slowErr != nil {
		return
	}
	enc, err := Encode(slow)
	if err != nil {
		t.Fatalf("Encode of a decoded event: %v", err)
	}
	fast, fastOK = fastDecode(enc, twin, kind, now)
	if !fastOK {
		t.Fatalf("fast path falls back on an encoded event: %q", enc)
	}
	if slow, err := decodeEventSlow(enc, twin, kind, now); err != nil || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("encoded %q: fast %#v, slow %#v %v", enc, fast, slow, err)
	}
}

// slowCanAnswer reports whether the slow path answers ev, err on data in one of 1000 tries.
// (With two extensions colliding, the rarer order turns up about once in eight tries, as
// measured: missing it 1000 times is out of reach.)
func slowCanAnswer(data []byte, twin, kind string, now time.Time, ev Event, err error) bool {
	for range 1000 {
		ev2, err2 := decodeEventSlow(data, twin, kind, now)
		if reflect.DeepEqual(ev, ev2) && reflect.DeepEqual(err, err2) {
			return true
		}
	}
	return false
}

// TestDecodeFastMatchesSlow runs the differential check on the seeds with plain go test (the
// committed corpus runs through FuzzDecodeFastMatchesSlow) and checks that the fast path does
// take the typical and canonical events.
func TestDecodeFastMatchesSlow(t *testing.T) {
	for i, s := range fastFuzzSeeds() {
		t.Run(strconv.Itoa(i), func(t *testing.T) { checkFastMatchesSlow(t, s.data, s.twin, s.kind) })
	}
	for _, ev := range typicalEvents(testNow().Add(-time.Hour)) {
		data, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, twin := range []string{"", "t"} {
			if _, ok := fastDecode(data, twin, ev.Kind, testNow()); !ok {
				t.Errorf("%s: the fast path falls back on %s", ev.Kind, data)
			}
		}
	}
	// Spellings the fast path reads although Encode does not write them.
	for _, data := range []string{
		string(envelope(KindFlow, flowData(), nil)), // keys sorted: data before type
		`{"specversion":"1.0","id":"a\u00e9\u0041","source":"urn:x","type":"io.sectwin.telemetry.metric","time":"2026-03-04T11:00:00+01:00","sectwintwin":"plant","traceparent":"00-x","data":{"entity":"e","name":"n","value":-1.5e3}}`,
		" \r\n\t" + `{"specversion":"1.0","id":"1","source":"urn:x","type":"io.sectwin.telemetry.alert","time":"2026-03-04T11:00:00Z","sectwintwin":"plant","data":{"source":"s","rule":"r","severity":"low","entity":"e","message":"a \"b\" \u0026 \\ \/ \t\n"}}` + "\n",
	} {
		if _, ok := fastDecode([]byte(data), "", "", testNow()); !ok {
			t.Errorf("the fast path falls back on %s", data)
		}
		checkFastMatchesSlow(t, []byte(data), "", "")
	}
}

type fastFuzzSeed struct {
	name       string
	data       []byte
	twin, kind string
}

// fastFuzzSeeds are the seeds of FuzzDecodeFastMatchesSlow.
func fastFuzzSeeds() []fastFuzzSeed {
	var seeds []fastFuzzSeed
	add := func(name string, data []byte, twin, kind string) {
		seeds = append(seeds, fastFuzzSeed{name, data, twin, kind})
	}
	// Encoded events of every kind, with the subject's twin and kind and without.
	for _, ev := range typicalEvents(testNow().Add(-time.Hour)) {
		data, err := Encode(ev)
		if err != nil {
			panic(err)
		}
		add("encoded-"+ev.Kind, data, ev.Twin, ev.Kind)
		add("encoded-"+ev.Kind+"-no-subject", data, "", "")
	}
	// The unit tests' events.
	flow := flowData()
	auth := map[string]any{"principal": "alice", "outcome": "FAILURE", "location": "52.35,4.9"}
	alert := map[string]any{"source": "falco", "rule": "r", "severity": "critical", "entity": "web-1", "technique": "T1059.004"}
	metric := map[string]any{"entity": "urn:ngsi-ld:ParkingSpot:1", "name": "occupied", "value": 0}
	deploy := map[string]any{"service": "checkout", "digest": "sha512:" + strings.Repeat("ab", 64)}
	for _, tc := range []struct {
		name  string
		kind  string
		data  any
		attrs map[string]any
	}{
		{"flow", KindFlow, flow, nil},
		{"auth-subject-no-ct", KindAuth, auth, map[string]any{"subject": "bastion-1", "datacontenttype": nil}},
		{"alert", KindAlert, alert, nil},
		{"metric-charset", KindMetric, metric, map[string]any{"datacontenttype": "application/json; charset=utf-8"}},
		{"deploy-traceparent", KindDeploy, deploy, map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
		{"spec-0.3", KindFlow, flow, map[string]any{"specversion": "0.3"}},
		{"no-specversion", KindFlow, flow, map[string]any{"specversion": nil}},
		{"no-id", KindFlow, flow, map[string]any{"id": nil}},
		{"no-source", KindFlow, flow, map[string]any{"source": nil}},
		{"unknown-type", KindFlow, flow, map[string]any{"type": "io.sectwin.telemetry.dns"}},
		{"no-time", KindFlow, flow, map[string]any{"time": nil}},
		{"future-time", KindFlow, flow, map[string]any{"time": "2999-01-01T00:00:00Z"}},
		{"old-time", KindFlow, flow, map[string]any{"time": "1969-12-31T00:00:00Z"}},
		{"xml", KindFlow, flow, map[string]any{"datacontenttype": "application/xml"}},
		{"no-twin", KindFlow, flow, map[string]any{"sectwintwin": nil}},
		{"bad-twin", KindFlow, flow, map[string]any{"sectwintwin": "Plant A"}},
		{"numeric-twin", KindFlow, flow, map[string]any{"sectwintwin": 7}},
		{"no-data", KindFlow, nil, map[string]any{"data": nil}},
		{"data-string", KindFlow, "flow", nil},
		{"data-base64", KindFlow, nil, map[string]any{"data": nil, "data_base64": "e30="}},
		{"unknown-data-field", KindFlow, with(flow, "byte", 1), nil},
		{"missing-bytes", KindFlow, with(flow, "bytes", nil), nil},
		{"null-port", KindFlow, with(flow, "port", json.RawMessage("null")), nil},
		{"null-packets", KindFlow, with(flow, "packets", json.RawMessage("null")), nil},
		{"port-text", KindFlow, with(flow, "port", "443"), nil},
		{"port-range", KindFlow, with(flow, "port", 65536), nil},
		{"port-exp", KindFlow, with(flow, "port", json.RawMessage("4.43e2")), nil},
		{"port-minus-zero", KindFlow, with(flow, "port", json.RawMessage("-0")), nil},
		{"bytes-huge", KindFlow, with(flow, "bytes", json.RawMessage("99999999999999999999")), nil},
		{"negative-bytes", KindFlow, with(flow, "bytes", -1), nil},
		{"fractional-bytes", KindFlow, with(flow, "bytes", 1.5), nil},
		{"empty-src", KindFlow, with(flow, "src", ""), nil},
		{"long-dst", KindFlow, with(flow, "dst", strings.Repeat("a", MaxFieldBytes+1)), nil},
		{"control", KindFlow, with(flow, "dst", "a\x1b[31m"), nil},
		{"bad-utf8", KindFlow, with(flow, "dst", "a\xff"), nil},
		{"bad-outcome", KindAuth, map[string]any{"principal": "p", "outcome": "maybe"}, nil},
		{"bad-location", KindAuth, map[string]any{"principal": "p", "outcome": "success", "location": "91,0"}, nil},
		{"bad-severity", KindAlert, map[string]any{"source": "s", "rule": "r", "severity": "SEVERE", "entity": "e"}, nil},
		{"bad-technique", KindAlert, map[string]any{"source": "s", "rule": "r", "severity": "LOW", "entity": "e", "technique": "TA0001"}, nil},
		{"message-escapes", KindAlert, with(alert, "message", "<b> & \"q\" \\ \u2028 \t\n ✓"), nil},
		{"metric-no-value", KindMetric, map[string]any{"entity": "e", "name": "n"}, nil},
		{"metric-value-text", KindMetric, with(metric, "value", "1"), nil},
		{"metric-value-huge", KindMetric, with(metric, "value", json.RawMessage("1e400")), nil},
		{"metric-value-exp", KindMetric, with(metric, "value", json.RawMessage("-2.5E-3")), nil},
		{"short-digest", KindDeploy, map[string]any{"service": "s", "digest": "sha256:abc"}, nil},
		{"upper-digest", KindDeploy, map[string]any{"service": "s", "digest": "sha256:" + strings.Repeat("AB", 32)}, nil},
		{"upper-extension", KindFlow, flow, map[string]any{"SECTWINTWIN": "other"}},
		{"dataschema", KindFlow, flow, map[string]any{"dataschema": "https://example.com/s"}},
		{"numeric-extension", KindFlow, flow, map[string]any{"seq": 7}},
		{"empty-subject", KindFlow, flow, map[string]any{"subject": ""}},
		{"blank-subject", KindFlow, flow, map[string]any{"subject": " "}},
		{"null-subject", KindFlow, flow, map[string]any{"subject": json.RawMessage("null")}},
		{"source-not-canonical", KindFlow, flow, map[string]any{"source": "http://x/a b"}},
		{"source-amp", KindFlow, flow, map[string]any{"source": "https://x/?a=1&b=2"}},
		{"time-offset", KindFlow, flow, map[string]any{"time": "2026-03-04T11:00:00.5-05:00"}},
		{"time-lower-z", KindFlow, flow, map[string]any{"time": "2026-03-04t11:00:00z"}},
	} {
		data := envelope(tc.kind, tc.data, tc.attrs)
		add("test-"+tc.name, data, "", "")
		add("test-"+tc.name+"-for", data, "plant", tc.kind)
	}
	// Raw spellings at the edges of what the fast path reads.
	const good = `{"specversion":"1.0","id":"ev-1","source":"urn:sectwin:test","type":"io.sectwin.telemetry.flow","time":"2026-03-04T11:00:00Z","sectwintwin":"plant","data":{"src":"a","dst":"b","port":443,"proto":"tcp","bytes":10}}`
	for name, data := range map[string]string{
		"raw-good":           good,
		"raw-dup-id":         strings.Replace(good, `"id":"ev-1"`, `"id":"ev-1","id":"ev-2"`, 1),
		"raw-dup-spec":       strings.Replace(good, `"id"`, `"specversion":"1.0","id"`, 1),
		"raw-dup-src":        strings.Replace(good, `"src":"a"`, `"src":"a","src":"c"`, 1),
		"raw-escaped-key":    strings.Replace(good, `"src"`, `"sr\u0063"`, 1),
		"raw-upper-key":      strings.Replace(good, `"src"`, `"SRC"`, 1),
		"raw-empty-key":      strings.Replace(good, `}}`, `},"":1}`, 1),
		"raw-surrogate":      strings.Replace(good, `"dst":"b"`, `"dst":"\ud83d\ude00"`, 1),
		"raw-lone-surrogate": strings.Replace(good, `"dst":"b"`, `"dst":"\ud800"`, 1),
		"raw-id-surrogate":   strings.Replace(good, `"ev-1"`, `"\udfff"`, 1),
		"raw-nbsp-after":     good + "\u00a0",
		"raw-vt-after":       good + "\v",
		"raw-bom":            "\ufeff" + good,
		"raw-trailing":       good + "{}",
		"raw-nested":         strings.Replace(good, `"bytes":10`, `"bytes":{"a":1}`, 1),
		"raw-true":           strings.Replace(good, `"bytes":10`, `"bytes":true`, 1),
		"raw-leading-zero":   strings.Replace(good, `"bytes":10`, `"bytes":010`, 1),
		"raw-plus":           strings.Replace(good, `"bytes":10`, `"bytes":+10`, 1),
		"raw-ext-escape":     strings.Replace(good, `"sectwintwin"`, `"x":"\u00e9\"","sectwintwin"`, 1),
		"raw-twin-escape":    strings.Replace(good, `"plant"`, `"pl\u0061nt"`, 1),
		"raw-ct-charset":     strings.Replace(good, `"sectwintwin"`, `"datacontenttype":"application/json;charset=utf-8","sectwintwin"`, 1),
		"raw-ct-empty":       strings.Replace(good, `"sectwintwin"`, `"datacontenttype":"","sectwintwin"`, 1),
		"raw-spaces":         strings.NewReplacer(`":`, "\" :\t", `,"`, "\n,\r \"").Replace(good),
		"raw-data-first":     `{"data":{"src":"a","dst":"b","port":443,"proto":"tcp","bytes":10},"specversion":"1.0","id":"ev-1","source":"urn:sectwin:test","type":"io.sectwin.telemetry.flow","time":"2026-03-04T11:00:00Z","sectwintwin":"plant"}`,
	} {
		add(name, []byte(data), "", "")
	}
	// The FuzzDecode seeds, as committed.
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		lines := bytes.SplitN(b, []byte("\n"), 3)
		if len(lines) < 2 {
			continue
		}
		raw, ok := strings.CutPrefix(string(lines[1]), "[]byte(")
		raw, ok2 := strings.CutSuffix(raw, ")")
		s, err := strconv.Unquote(raw)
		if !ok || !ok2 || err != nil {
			continue
		}
		add("fuzzdecode-"+e.Name(), []byte(s), "", "")
		add("fuzzdecode-"+e.Name()+"-for", []byte(s), "city-traffic", KindFlow)
	}
	return seeds
}

// TestWriteFastFuzzCorpus writes the seeds into testdata/fuzz/FuzzDecodeFastMatchesSlow, as go
// test -fuzz stores its corpus, when SECTWIN_WRITE_FUZZ_CORPUS=1.
func TestWriteFastFuzzCorpus(t *testing.T) {
	if os.Getenv("SECTWIN_WRITE_FUZZ_CORPUS") != "1" {
		t.Skip("set SECTWIN_WRITE_FUZZ_CORPUS=1 to write the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeFastMatchesSlow")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range fastFuzzSeeds() {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nstring(%s)\nstring(%s)\n",
			strconv.Quote(string(s.data)), strconv.Quote(s.twin), strconv.Quote(s.kind))
		if err := os.WriteFile(filepath.Join(dir, s.name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
