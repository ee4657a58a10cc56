package transform_test

import (
	"bytes"
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/transform"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// testKeys serves the key the test configs name. Its bytes are checked never to leak.
var testKey = []byte("0123456789abcdef-test-key-bytes!")

func testKeys() transform.Keys {
	return transform.StaticKeys{"env:EDGE_HMAC_KEY": transform.NewSecret(testKey)}
}

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

var (
	q1 = time.Date(2026, 2, 10, 9, 20, 0, 0, time.UTC)
	q2 = time.Date(2026, 5, 10, 9, 20, 0, 0, time.UTC)
)

func loadPlans(t testing.TB, now time.Time) map[string]*transform.Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "pipelines.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := transform.Parse("pipelines.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := doc.Compile(transform.WithKeys(testKeys()), transform.WithClock(clock(now)))
	if err != nil {
		t.Fatal(err)
	}
	return plans
}

// run applies plan to every record of a JSONL file and returns the original records and one
// output line per record: the JSON, "dropped", or "error: ...".
func run(t testing.TB, plan *transform.Plan, file string) (in []decode.Record, out []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	// Decode twice: Apply changes records in place, and the test compares with the originals.
	orig := decode.NewJSON(bytes.NewReader(data), decode.Options{})
	d := decode.NewJSON(bytes.NewReader(data), decode.Options{})
	for rec, err := range decode.Records(context.Background(), d) {
		if err != nil {
			t.Fatal(err)
		}
		o, _ := orig.Next(context.Background())
		in = append(in, o)
		res, dropped, err := plan.Apply(rec)
		switch {
		case err != nil:
			out = append(out, "error: "+err.Error())
		case dropped:
			out = append(out, "dropped")
		default:
			b, err := res.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return in, out
}

func checkGolden(t *testing.T, name string, lines []string) {
	t.Helper()
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestGoldenPeople runs the people pipeline over records with e-mail addresses, IPv4 and IPv6
// addresses, MAC addresses, number plates and GPS points.
func TestGoldenPeople(t *testing.T) {
	plans := loadPlans(t, q1)
	in, out := run(t, plans["people"], "people.jsonl")
	checkGolden(t, "people.golden", out)
	all := strings.Join(out, "\n")

	// No raw value of a field outside allow_fields and ignored_fields reaches the output: its
	// strings appear nowhere, its numbers are no output value. (Allowed fields that are
	// generalised, src_ip, dst_ip and ts, are checked below.)
	allowed := map[string]bool{"ts": true, "src_ip": true, "dst_ip": true, "dst_port": true, "site": true, "note": true, "event": true, "schema": true, "http.method": true, "http.status": true, "http.url": true}
	for i, rec := range in {
		var outLeaves []string
		for _, v := range outRecord(t, out[i]) {
			outLeaves = append(outLeaves, leaves(v)...)
		}
		for k, v := range rec {
			if allowed[k] {
				continue
			}
			for _, s := range leaves(v) {
				if len(s) >= 4 && strings.Contains(out[i], s) || slices.Contains(outLeaves, s) {
					t.Errorf("record %d: raw %s value %q reaches the output", i+1, k, s)
				}
			}
		}
	}
	for _, s := range []string{"maria.silva@example.org", "3c:22:fb:10:aa:01", "AA-12-BC", "192.168.10.23", "hunter2", "tok_5f2a9c0e77", "41.14961", "-8.61099", "secret-hostname"} {
		if strings.Contains(all, s) {
			t.Errorf("%q reaches the output", s)
		}
	}

	// IPs come out as their configured prefixes.
	for i, rec := range in {
		got := outRecord(t, out[i])
		if got == nil {
			continue
		}
		for field, bits := range map[string][2]int{"src_ip": {24, 48}, "dst_ip": {16, 32}} {
			raw, _ := rec[field].(string)
			a, err := netip.ParseAddr(raw)
			if err != nil {
				if s, _ := got[field].(string); s != "" && s != "****" {
					t.Errorf("record %d: unparseable %s %q became %q, want masked", i+1, field, raw, s)
				}
				continue
			}
			a = a.WithZone("").Unmap()
			b := bits[1]
			if a.Is4() {
				b = bits[0]
			}
			want, _ := a.Prefix(b)
			if got[field] != want.String() {
				t.Errorf("record %d: %s = %v, want %s", i+1, field, got[field], want)
			}
		}
	}

	// Masking works inside allowed string fields, and allowed_values take precedence.
	first := outRecord(t, out[0])
	if note := first["note"]; note != "login by **** from ****, ops contact ops@example.com" {
		t.Errorf("note = %q", note)
	}
	if first["password"] != nil || first["http.auth_token"] != "****" {
		t.Errorf("password %v (want removed: not allowed), http.auth_token %v (want masked: blocked key)", first["password"], first["http.auth_token"])
	}
	if first["schema"] != "v1 contact admin@corp.test" {
		t.Errorf("ignored field changed: %v", first["schema"])
	}
	if out[3] != "dropped" {
		t.Errorf("heartbeat: %s, want dropped", out[3])
	}
}

// TestPseudonymEpochs: pseudonyms are stable within an epoch, differ across epochs, and carry
// the key id and the epoch.
func TestPseudonymEpochs(t *testing.T) {
	_, a := run(t, loadPlans(t, q1)["people"], "people.jsonl")
	_, a2 := run(t, loadPlans(t, q1.Add(24*time.Hour))["people"], "people.jsonl")
	_, b := run(t, loadPlans(t, q2)["people"], "people.jsonl")
	dev := func(lines []string, i int) string {
		s, _ := outRecord(t, lines[i])["device_id"].(string)
		return s
	}
	if p1, p3 := dev(a, 0), dev(a, 2); p1 != p3 || !strings.HasPrefix(p1, "k2026q1:") || len(p1) != len("k2026q1:")+22 {
		t.Errorf("dev-0001 → %q and %q, want one k2026q1:<22 chars> pseudonym", p1, p3)
	}
	if dev(a, 0) != dev(a2, 0) {
		t.Errorf("pseudonym changed within the quarter: %q vs %q", dev(a, 0), dev(a2, 0))
	}
	if q := dev(b, 0); q == dev(a, 0) || !strings.HasPrefix(q, "k2026q2:") {
		t.Errorf("next quarter's pseudonym %q, want a different k2026q2: one (q1: %q)", q, dev(a, 0))
	}
	if dev(a, 0) == dev(a, 1) {
		t.Error("two devices share a pseudonym")
	}
	// The same value in another field (user) has the same pseudonym: joins stay possible.
	u0, _ := outRecord(t, a[0])["user"].(string)
	u2, _ := outRecord(t, a[2])["user"].(string)
	if u0 != u2 || u0 == "" {
		t.Errorf("user pseudonyms %q, %q", u0, u2)
	}
}

// TestGoldenNetflow runs the design note's netflow pipeline, whose bound keeps two records
// per source address and minute.
func TestGoldenNetflow(t *testing.T) {
	_, out := run(t, loadPlans(t, q1)["netflow"], "people.jsonl")
	checkGolden(t, "netflow.golden", out)
}

func outRecord(t testing.TB, line string) map[string]any {
	t.Helper()
	if !strings.HasPrefix(line, "{") {
		return nil
	}
	d := decode.NewJSON(strings.NewReader(line), decode.Options{})
	rec, err := d.Next(context.Background())
	if err != nil {
		t.Fatalf("output %q: %v", line, err)
	}
	return rec
}

// leaves lists the text of a value's scalars.
func leaves(v any) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, leaves(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, leaves(e)...)
		}
		return out
	}
	if s, ok := decode.ScalarText(v); ok {
		return []string{s}
	}
	return nil
}
