package transform_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/transform"
)

var envKeys = transform.EnvFileKeys{LookupEnv: func(k string) (string, bool) {
	v, ok := map[string]string{"EDGE_HMAC_KEY": "env-key-material-0123456789abcdef", "SHORT": "tiny-key"}[k]
	return v, ok
}}

// compileYAML parses and compiles a config file.
func compileYAML(src string) (map[string]*transform.Plan, error) {
	doc, err := transform.Parse("edge.yaml", []byte(src))
	if err != nil {
		return nil, err
	}
	return doc.Compile(transform.WithKeys(envKeys))
}

// TestConfigErrors: each broken config fails with problems that name the file, line and field.
func TestConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.key")
	for _, tc := range []struct {
		name, src string
		want      []string // each must be one of the problems' strings, exactly
		has       string   // or, for long messages, a problem must contain this
	}{
		{"prefix out of range", `
pipelines:
  netflow:
    allow_fields: [ts]
    generalize:
      src_ip: {ipv4_prefix: 40, ipv6_prefix: 129}
`, []string{
			"edge.yaml:6: pipelines.netflow.generalize.src_ip.ipv4_prefix: must be 0..32",
			"edge.yaml:6: pipelines.netflow.generalize.src_ip.ipv6_prefix: must be 0..128",
		}, ""},
		{"dotted field name", `
pipelines:
  zeek:
    generalize:
      id.orig_h: {ipv4_prefix: -1}
`, []string{`edge.yaml:5: pipelines.zeek.generalize["id.orig_h"].ipv4_prefix: must be 0..32`}, ""},
		{"unknown field", `
pipelines:
  netflow:
    allow_field: [ts]
`, nil, `edge.yaml:4: pipelines.netflow.allow_field: unknown field (did you mean allow_fields?); allowed: privacy_unit, allow_fields,`},
		{"wrong type", `
pipelines:
  netflow:
    allow_fields: ts
    redact_all_types: "yes"
`, []string{
			`edge.yaml:4: pipelines.netflow.allow_fields: want a list, got string "ts"`,
			`edge.yaml:5: pipelines.netflow.redact_all_types: want true or false, got string "yes"`,
		}, ""},
		{"bad duration", `
pipelines:
  p:
    generalize:
      ts: {bucket: 1 minute}
`, []string{"edge.yaml:5: pipelines.p.generalize.ts.bucket: want a duration like 1m, 15m or 1h"}, ""},
		{"two kinds", `
pipelines:
  p:
    generalize:
      ts: {bucket: 1m, ipv4_prefix: 24}
      pos: {}
`, []string{
			"edge.yaml:5: pipelines.p.generalize.ts: give exactly one of ipv4_prefix/ipv6_prefix, bucket, geohash, grid_m or buckets (got 2)",
			"edge.yaml:6: pipelines.p.generalize.pos: give exactly one of ipv4_prefix/ipv6_prefix, bucket, geohash, grid_m or buckets (got 0)",
		}, ""},
		{"geo and buckets", `
pipelines:
  p:
    generalize:
      a: {geohash: 13}
      b: {grid_m: 0}
      c: {buckets: [10, 5]}
      d: {bucket: 1m, lon_field: e}
      f: {grid_m: 100, lon_field: f}
`, []string{
			"edge.yaml:5: pipelines.p.generalize.a.geohash: must be 1..12 (characters of precision)",
			"edge.yaml:6: pipelines.p.generalize.b.grid_m: must be more than 0 and at most 20000000 (metres)",
			"edge.yaml:7: pipelines.p.generalize.c.buckets[1]: boundaries must increase",
			"edge.yaml:8: pipelines.p.generalize.d.lon_field: lon_field goes with geohash or grid_m",
			"edge.yaml:9: pipelines.p.generalize.f.lon_field: must name another field than the latitude",
		}, ""},
		{"missing env key", `
pipelines:
  p:
    pseudonymize: {fields: [user], key_ref: env:NOPE, key_id: k}
`, []string{"edge.yaml:4: pipelines.p.pseudonymize.key_ref: cannot load the key: env:NOPE: environment variable NOPE is not set or empty: key not found"}, ""},
		{"missing key file", `
pipelines:
  p:
    pseudonymize:
      fields: [user]
      key_id: k
      key_ref: file:` + missing + `
`, nil, "edge.yaml:7: pipelines.p.pseudonymize.key_ref: cannot load the key: file:" + missing + ": cannot read key file " + missing + ": no such file or directory"},
		{"short key", `
pipelines:
  p:
    pseudonymize: {fields: [user], key_ref: env:SHORT, key_id: k}
`, []string{"edge.yaml:4: pipelines.p.pseudonymize.key_ref: the key is 8 bytes; use at least 16 (32 random bytes recommended)"}, ""},
		{"unkeyed hash and bad ids", `
pipelines:
  p:
    pseudonymize:
      fields: [user, user, ""]
      fn: sha256
      key_ref: EDGE_HMAC_KEY
      key_id: "k:1"
      rotation: hourly
`, []string{
			"edge.yaml:5: pipelines.p.pseudonymize.fields[1]: user is listed twice",
			"edge.yaml:5: pipelines.p.pseudonymize.fields[2]: want a field name",
			"edge.yaml:6: pipelines.p.pseudonymize.fn: sha256 is an unkeyed hash: low-entropy identifiers (IPv4 addresses, plates) are recovered by enumerating them; use hmac-sha256",
			"edge.yaml:7: pipelines.p.pseudonymize.key_ref: want env:NAME or file:PATH",
			"edge.yaml:8: pipelines.p.pseudonymize.key_id: want 1-32 letters, digits, '-' or '_' (it starts every pseudonym)",
			"edge.yaml:9: pipelines.p.pseudonymize.rotation: want one of none, daily, weekly, monthly, quarterly, yearly",
		}, ""},
		{"allowlist", `
pipelines:
  p:
    allow_all_fields: true
    allow_fields: ["*", "a.*.b", ""]
    ignored_fields: [user]
    pseudonymize: {fields: [user], key_ref: env:EDGE_HMAC_KEY, key_id: k}
`, []string{
			"edge.yaml:4: pipelines.p.allow_all_fields: allow_all_fields keeps every field; remove it or allow_fields",
			"edge.yaml:5: pipelines.p.allow_fields[0]: want a field name or name.*; to keep every field, set allow_all_fields: true",
			"edge.yaml:5: pipelines.p.allow_fields[1]: only a trailing .* is a wildcard",
			"edge.yaml:5: pipelines.p.allow_fields[2]: want a field name or name.*; to keep every field, set allow_all_fields: true",
			"edge.yaml:7: pipelines.p.pseudonymize.fields[0]: user is in ignored_fields, which pass untouched; it cannot also be pseudonymized",
		}, ""},
		{"masking", `
pipelines:
  p:
    blocked_key_patterns: ['(']
    blocked_values: ['ok', '']
    summary: debug
`, []string{
			"edge.yaml:4: pipelines.p.blocked_key_patterns[0]: invalid regular expression: missing closing ): `(`",
			"edge.yaml:5: pipelines.p.blocked_values[1]: empty pattern (it would match everything)",
			"edge.yaml:6: pipelines.p.summary: debug would list redacted key names, which leaks information; use info (counts) or silent",
		}, ""},
		{"drop", `
pipelines:
  p:
    drop:
      - {field: a, equals: 1, in: [1]}
      - {matches: '['}
      - {field: b, in: []}
`, []string{
			"edge.yaml:5: pipelines.p.drop[0]: give exactly one of equals, in, matches or exists (got 2)",
			"edge.yaml:6: pipelines.p.drop[1].field: required: the field to test",
			"edge.yaml:6: pipelines.p.drop[1].matches: invalid regular expression: missing closing ]: `[`",
			"edge.yaml:7: pipelines.p.drop[2].in: list at least one value",
		}, ""},
		{"drop value types", `
pipelines:
  p:
    drop:
      - {field: b, in: [[1]]}
      - {field: c, equals: {x: 1}}
`, []string{
			"edge.yaml:5: pipelines.p.drop[0].in[0]: want a string, number or boolean, got a list",
			"edge.yaml:6: pipelines.p.drop[1].equals: want a string, number or boolean, got a mapping",
		}, ""},
		{"bound", `
pipelines:
  p:
    bound: {max_records: 0, window: soon}
`, []string{
			"edge.yaml:4: pipelines.p.privacy_unit: required with bound: the field whose values are bounded",
			"edge.yaml:4: pipelines.p.bound.max_records: must be at least 1",
			"edge.yaml:4: pipelines.p.bound.window: want a duration like 60s or 1h",
		}, ""},
		{"duplicates", `
pipelines:
  p:
    allow_fields: [a]
    allow_fields: [b]
`, []string{"edge.yaml:5: pipelines.p.allow_fields: given twice (first at line 4)"}, ""},
		{"alias", `
pipelines:
  p:
    allow_fields: &f [a]
    ignored_fields: *f
`, []string{"edge.yaml:5: pipelines.p.ignored_fields: YAML aliases (*f) are not supported; write the value out"}, ""},
		{"syntax", "pipelines:\n  p:\n    allow_fields: [a\n    x: y\n", nil, "edge.yaml:"},
		{"no pipelines", "pipeline:\n  p: {}\n", []string{"edge.yaml:1: no pipelines section"}, ""},
		{"bad name", "pipelines:\n  'a b': {}\n", []string{`edge.yaml:2: pipelines["a b"]: a pipeline name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileYAML(tc.src)
			if err == nil {
				t.Fatal("compiled")
			}
			if !errors.Is(err, transform.ErrInvalidConfig) {
				t.Errorf("err %v does not match ErrInvalidConfig", err)
			}
			var ce *transform.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %T", err)
			}
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.String())
				if strings.Contains(p.String(), "env-key-material") {
					t.Errorf("key bytes in %q", p)
				}
			}
			for _, w := range tc.want {
				if !contains(got, w) {
					t.Errorf("missing problem\n  %s\ngot\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			if tc.want != nil && len(got) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n  %s", len(got), len(tc.want), strings.Join(got, "\n  "))
			}
			if tc.has != "" && !strings.Contains(err.Error(), tc.has) {
				t.Errorf("no problem contains %q:\n%v", tc.has, err)
			}
			if tc.name == "missing key file" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("missing key file: errors.Is(err, fs.ErrNotExist) is false")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCompileWithoutFile: a Config built in code gets problems with field paths only, or
// with a caller-given file and path.
func TestCompileWithoutFile(t *testing.T) {
	bad := 33
	cfg := transform.Config{Generalize: map[string]transform.Generalize{"src_ip": {IPv4Prefix: &bad}}}
	_, err := transform.Compile(cfg)
	if err == nil || err.Error() != "generalize.src_ip.ipv4_prefix: must be 0..32" {
		t.Errorf("err = %v", err)
	}
	_, err = transform.Compile(cfg, transform.WithSource("edge.yaml", "pipelines.netflow", nil))
	if err == nil || err.Error() != "edge.yaml: pipelines.netflow.generalize.src_ip.ipv4_prefix: must be 0..32" {
		t.Errorf("err = %v", err)
	}
	if _, err := transform.Compile(transform.Config{}); err != nil {
		t.Errorf("empty config: %v (it is valid: it drops every field)", err)
	}
}

func TestParseValid(t *testing.T) {
	doc, err := transform.Parse("edge.yaml", []byte(`
# comments, an edge.yaml section that is not ours, and an aggregate section
nats: {url: nats://localhost}
pipelines:
  a: {allow_all_fields: true}
  b:
    allow_fields: [x]
    aggregate: {window: 60s, metrics: [{name: bytes}]}
    drop: [{field: t, equals: 53}, {field: u, in: [a, 1.5, true]}, {field: v, exists: false}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Names(); strings.Join(got, ",") != "a,b" {
		t.Errorf("Names = %v", got)
	}
	if _, err := doc.Compile(); err != nil {
		t.Fatal(err)
	}
}
