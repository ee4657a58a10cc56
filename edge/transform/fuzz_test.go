package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/transform"
)

// anyKeys returns one key for every reference, so fuzzed configs never touch the file system.
type anyKeys struct{}

func (anyKeys) Load(string) (transform.Secret, error) { return transform.NewSecret(testKey), nil }

// FuzzCompile: arbitrary YAML never panics Parse or Compile; failures are *ConfigErrors whose
// problems name the file, with sane lines, and never show key bytes. Seeds are in
// testdata/fuzz/FuzzCompile (the test configs) plus the ones below.
func FuzzCompile(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "pipelines.yaml")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("pipelines:\n  p:\n    generalize: {a: {ipv4_prefix: 99}}\n"))
	f.Add([]byte("pipelines: {p: {drop: [{field: a, in: [1, x, true]}], bound: {max_records: 1, window: 1s}, privacy_unit: u}}"))
	f.Add([]byte("pipelines:\n  p: &a {allow_fields: [*a]}\n"))
	f.Add([]byte("pipelines:\n  p:\n    <<: {allow_all_fields: true}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := transform.Parse("fuzz.yaml", data)
		if err == nil {
			_, err = doc.Compile(transform.WithKeys(anyKeys{}))
		}
		if err == nil {
			return
		}
		var ce *transform.ConfigError
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("err = %v (%T), want a *ConfigError with problems", err, err)
		}
		lines := 2
		for _, br := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += strings.Count(string(data), br)
		}
		for _, p := range ce.Problems {
			if p.File != "fuzz.yaml" || p.Line < 0 || p.Line > lines || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if strings.Contains(err.Error(), string(testKey)) {
			t.Fatal("key bytes in an error")
		}
	})
}

var pseudonymRE = regexp.MustCompile(`^k2026q1:[A-Za-z0-9_-]{22}$`)

// FuzzApply: any JSON record through the people pipeline (every transform) never panics, and
// what comes out keeps the plan's promises: only allowed or transformed fields, IPs as
// prefixes no longer than configured, pseudonyms or masks in pseudonymised fields, valid JSON.
func FuzzApply(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "people.jsonl")); err == nil {
		for line := range bytes.Lines(data) {
			f.Add(bytes.TrimSpace(line))
		}
	}
	f.Add([]byte(`{"note":"a@b.c 00:11:22:33:44:55","src_ip":"::ffff:1.2.3.4/120","gps.lat":"1e400","gps.lon":null,"ts":"-1e30"}`))
	plans := loadPlans(f, q1)
	people, netflow := plans["people"], plans["netflow"]
	allowed := map[string]bool{"ts": true, "src_ip": true, "dst_ip": true, "dst_port": true, "site": true, "note": true, "event": true, "schema": true,
		"device_id": true, "user": true, "plate": true, "gps.lat": true, "gps.lon": true, "location.coordinates": true, "bytes": true}
	f.Fuzz(func(t *testing.T, line []byte) {
		d := decode.NewJSON(bytes.NewReader(line), decode.Options{MaxRecordBytes: 1 << 16})
		for rec, err := range decode.Records(context.Background(), d) {
			if err != nil {
				continue
			}
			copyRec := decode.Record{}
			for k, v := range rec {
				copyRec[k] = v
			}
			if _, _, err := netflow.Apply(copyRec); err != nil {
				t.Fatalf("netflow: %v", err)
			}
			out, dropped, err := people.Apply(rec)
			if err != nil {
				t.Fatalf("people: %v", err)
			}
			if dropped {
				continue
			}
			for k, v := range out {
				if !allowed[k] && !strings.HasPrefix(k, "http.") && !strings.HasPrefix(k, "redaction.") {
					t.Fatalf("field %q = %v is not allowed", k, v)
				}
			}
			for _, k := range []string{"src_ip", "dst_ip"} {
				max4, max6 := 24, 48
				if k == "dst_ip" {
					max4, max6 = 16, 32
				}
				for _, v := range elems(out[k]) {
					s, ok := v.(string)
					if v == nil || s == "****" {
						continue
					}
					p, err := netip.ParsePrefix(s)
					if !ok || err != nil || p != p.Masked() || (p.Addr().Is4() && p.Bits() > max4) || (p.Addr().Is6() && p.Bits() > max6) {
						t.Fatalf("%s = %#v, not a prefix within /%d, /%d", k, v, max4, max6)
					}
				}
			}
			for _, k := range []string{"device_id", "user", "plate"} {
				for _, v := range elems(out[k]) {
					if s, ok := v.(string); v != nil && (!ok || (s != "****" && !pseudonymRE.MatchString(s))) {
						t.Fatalf("%s = %#v, want a pseudonym", k, v)
					}
				}
			}
			b, err := out.AppendJSON(nil)
			if err != nil || !json.Valid(b) {
				t.Fatalf("output does not encode: %v %s", err, b)
			}
		}
	})
}

// elems is a list's elements, or a scalar alone.
func elems(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}
