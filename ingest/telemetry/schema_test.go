package telemetry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sectwin/sectwin/internal/auth"
)

// The JSON Schemas in docs/telemetry and the examples in docs/telemetry.md are part of the
// contract. No JSON Schema validator is among the module's dependencies, so these tests hold
// the schemas to the Go types and rules by reflection, and run the examples (and mutations of
// them) through a small validator for the keywords the schemas use and through Decode, which
// must agree.

func docsDir() string { return filepath.Join("..", "..", "docs") }

// loadSchema reads docs/telemetry/<kind>.schema.json, numbers kept as json.Number.
func loadSchema(t *testing.T, kind string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(docsDir(), "telemetry", kind+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("%s.schema.json: %v", kind, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s.schema.json is not an object", kind)
	}
	return m
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func TestSchemaFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(docsDir(), "telemetry", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range files {
		name := filepath.Base(f)
		kind, ok := strings.CutSuffix(name, ".schema.json")
		if !ok {
			t.Errorf("%s: not a <kind>.schema.json", name)
			continue
		}
		kinds = append(kinds, kind)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(data) {
			t.Errorf("%s is not valid JSON", name)
			continue
		}
		s := loadSchema(t, kind)
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %v", name, s["$schema"])
		}
		if id, _ := s["$id"].(string); !strings.HasSuffix(id, "/"+name) {
			t.Errorf("%s: $id %v", name, s["$id"])
		}
	}
	slices.Sort(kinds)
	want := slices.Sorted(slices.Values(Kinds()))
	if !slices.Equal(kinds, want) {
		t.Errorf("schemas for %v, want one per kind %v", kinds, want)
	}
}

// TestSchemaMatchesGo holds each schema to the Go contract: the payload's properties and
// required fields are the struct's json tags (omitempty = optional) with matching JSON types,
// and every enum, pattern and bound is the one Validate applies.
func TestSchemaMatchesGo(t *testing.T) {
	jsonType := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Int64: "integer", reflect.Float64: "number"}
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			s := loadSchema(t, kind)
			props := obj(t, s, "properties")
			if c := obj(t, props, "type")["const"]; c != EventType(kind) {
				t.Errorf("type const %v, want %s", c, EventType(kind))
			}
			if c := obj(t, props, "specversion")["const"]; c != "1.0" {
				t.Errorf("specversion const %v", c)
			}
			if !equalStrings(strs(s["required"]), []string{"specversion", "id", "source", "type", "time", "data"}) {
				t.Errorf("envelope required %v", s["required"])
			}
			if p := obj(t, props, TwinExtension)["pattern"]; p != TwinPattern {
				t.Errorf("%s pattern %v, want %s", TwinExtension, p, TwinPattern)
			}
			for _, a := range []string{"id", "source", "subject"} {
				if n := num(obj(t, props, a)["maxLength"]); n != MaxFieldBytes {
					t.Errorf("%s maxLength %v, want %d", a, n, MaxFieldBytes)
				}
			}
			if ref := obj(t, props, "data")["$ref"]; ref != "#/$defs/"+kind {
				t.Errorf("data $ref %v", ref)
			}
			data := obj(t, obj(t, s, "$defs"), kind)
			if data["additionalProperties"] != false {
				t.Errorf("data allows additional properties")
			}
			dprops := obj(t, data, "properties")
			var names, required []string
			for _, f := range PayloadFields(kind) {
				names = append(names, f.Name)
				if f.Required {
					required = append(required, f.Name)
				}
				p := obj(t, dprops, f.Name)
				typ, _ := p["type"].(string)
				if _, isEnum := p["enum"]; typ != jsonType[f.Kind] {
					t.Errorf("data.%s: type %q, want %q (enum %v)", f.Name, typ, jsonType[f.Kind], isEnum)
				}
				if f.Kind == reflect.String {
					if _, ok := p["enum"]; !ok {
						if _, ok := p["pattern"]; !ok {
							if n := num(p["maxLength"]); n != float64(maxBytesOf(kind, f.Name)) {
								t.Errorf("data.%s: maxLength %v, want %d", f.Name, n, maxBytesOf(kind, f.Name))
							}
						}
					}
				}
			}
			if !equalStrings(slices.Sorted(mapKeys(dprops)), slices.Sorted(slices.Values(names))) {
				t.Errorf("properties %v, want the json tags %v", slices.Sorted(mapKeys(dprops)), names)
			}
			if !equalStrings(strs(data["required"]), required) {
				t.Errorf("required %v, want the tags without omitempty %v", data["required"], required)
			}
			switch kind {
			case KindFlow:
				port := obj(t, dprops, "port")
				if num(port["minimum"]) != 0 || num(port["maximum"]) != MaxPort {
					t.Errorf("port range %v..%v", port["minimum"], port["maximum"])
				}
				for _, f := range []string{"bytes", "packets", "count"} {
					if num(obj(t, dprops, f)["minimum"]) != 0 {
						t.Errorf("%s minimum %v", f, obj(t, dprops, f)["minimum"])
					}
				}
				proto := obj(t, dprops, "proto")
				if proto["pattern"] != ProtoPattern || num(proto["maxLength"]) != MaxProtoBytes {
					t.Errorf("proto %v", proto)
				}
			case KindAuth:
				if !equalStrings(strs(obj(t, dprops, "outcome")["enum"]), Outcomes()) {
					t.Errorf("outcome enum %v, want %v", obj(t, dprops, "outcome")["enum"], Outcomes())
				}
				if p := obj(t, dprops, "location")["pattern"]; p != LocationPattern {
					t.Errorf("location pattern %v", p)
				}
			case KindAlert:
				if !equalStrings(strs(obj(t, dprops, "severity")["enum"]), Severities()) {
					t.Errorf("severity enum %v, want %v", obj(t, dprops, "severity")["enum"], Severities())
				}
				if p := obj(t, dprops, "technique")["pattern"]; p != TechniquePattern {
					t.Errorf("technique pattern %v", p)
				}
			case KindDeploy:
				if p := obj(t, dprops, "digest")["pattern"]; p != DigestPattern {
					t.Errorf("digest pattern %v", p)
				}
			}
		})
	}
}

func maxBytesOf(kind, field string) int {
	if kind == KindAlert && field == "message" {
		return MaxMessageBytes
	}
	return MaxFieldBytes
}

func TestTwinPattern(t *testing.T) {
	re := regexp.MustCompile(TwinPattern)
	for _, s := range []string{"plant", "city-traffic", "a_1", "0", "", "Plant", "-a", "a.b", "a b", strings.Repeat("a", 63), strings.Repeat("a", 64)} {
		if re.MatchString(s) != auth.ValidTwinName(s) {
			t.Errorf("%q: TwinPattern %v, auth.ValidTwinName %v", s, re.MatchString(s), auth.ValidTwinName(s))
		}
	}
}

// docExamples returns the events in docs/telemetry.md's json code blocks, and each schema's
// examples.
func docExamples(t *testing.T) map[string][]byte {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(docsDir(), "telemetry.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for i, block := range strings.Split(string(md), "```json\n")[1:] {
		body, _, ok := strings.Cut(block, "```")
		if !ok {
			t.Fatalf("telemetry.md: json block %d is not closed", i)
		}
		out[fmt.Sprintf("telemetry.md block %d", i+1)] = []byte(body)
	}
	for _, kind := range Kinds() {
		for i, ex := range sliceOf(loadSchema(t, kind)["examples"]) {
			b, err := json.Marshal(ex)
			if err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s.schema.json example %d", kind, i+1)] = b
		}
	}
	return out
}

// TestSchemaExamples: every example is a valid event by its schema and by Decode, every kind
// has one in telemetry.md, and each mutation of an example is refused (or accepted) by both.
func TestSchemaExamples(t *testing.T) {
	examples := docExamples(t)
	inDoc := map[string]bool{}
	for name, data := range examples {
		t.Run(name, func(t *testing.T) {
			ev, err := decodeEvent(data, "", "", testNow())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if strings.HasPrefix(name, "telemetry.md") {
				inDoc[ev.Kind] = true
			}
			schema := loadSchema(t, ev.Kind)
			doc, err := decodeJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSchema(schema, schema, doc, ""); err != nil {
				t.Fatalf("schema: %v", err)
			}
			for _, m := range mutations(ev.Kind) {
				mutated := clone(m.apply(clone(doc).(map[string]any)))
				b, err := json.Marshal(mutated)
				if err != nil {
					t.Fatal(err)
				}
				_, goErr := decodeEvent(b, "", "", testNow())
				schemaErr := validateSchema(schema, schema, mutated, "")
				if (goErr == nil) != m.valid || (schemaErr == nil) != m.valid {
					t.Errorf("%s: Decode %v, schema %v; want valid %v", m.name, goErr, schemaErr, m.valid)
				}
			}
		})
	}
	for _, k := range Kinds() {
		if !inDoc[k] {
			t.Errorf("telemetry.md has no %s example", k)
		}
	}
}

type mutation struct {
	name  string
	valid bool
	apply func(map[string]any) map[string]any
}

func set(path string, v any) func(map[string]any) map[string]any {
	return func(m map[string]any) map[string]any {
		target := m
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			target = target[p].(map[string]any)
		}
		last := parts[len(parts)-1]
		if v == nil {
			delete(target, last)
		} else {
			target[last] = v
		}
		return m
	}
}

// mutations of a kind's example: the invalid ones break one rule each.
func mutations(kind string) []mutation {
	ms := []mutation{
		{"subject added", true, set("subject", "x")},
		{"an extension added", true, set("traceid", "abc")},
		{"datacontenttype left out", true, set("datacontenttype", nil)},
		{"no id", false, set("id", nil)},
		{"empty id", false, set("id", "")},
		{"long id", false, set("id", strings.Repeat("i", MaxFieldBytes+1))},
		{"no source", false, set("source", nil)},
		{"no time", false, set("time", nil)},
		{"time not RFC 3339", false, set("time", "04/03/2026 12:00")},
		{"specversion 0.3", false, set("specversion", "0.3")},
		{"another kind's type", false, set("type", "io.sectwin.telemetry.dns")},
		{"bad twin", false, set(TwinExtension, "Plant A")},
		{"xml", false, set("datacontenttype", "text/xml")},
		{"no data", false, set("data", nil)},
		{"data not an object", false, set("data", "x")},
		{"data_base64", false, set("data_base64", "e30=")},
		{"unknown data field", false, set("data.extra", 1)},
		{"long subject", false, set("subject", strings.Repeat("s", MaxFieldBytes+1))},
	}
	for _, f := range PayloadFields(kind) {
		if f.Required {
			ms = append(ms, mutation{"no data." + f.Name, false, set("data."+f.Name, nil)})
		}
		switch f.Kind {
		case reflect.String:
			ms = append(ms,
				mutation{"data." + f.Name + " a number", false, set("data."+f.Name, 7)},
				mutation{"data." + f.Name + " too long", false, set("data."+f.Name, strings.Repeat("a", maxBytesOf(kind, f.Name)+1))})
		default:
			ms = append(ms, mutation{"data." + f.Name + " a string", false, set("data."+f.Name, "7")})
		}
	}
	switch kind {
	case KindFlow:
		ms = append(ms,
			mutation{"port 0", true, set("data.port", 0)},
			mutation{"port 65535", true, set("data.port", 65535)},
			mutation{"port 65536", false, set("data.port", 65536)},
			mutation{"port -1", false, set("data.port", -1)},
			mutation{"bytes -1", false, set("data.bytes", -1)},
			mutation{"bytes 1.5", false, set("data.bytes", 1.5)},
			mutation{"count 5", true, set("data.count", 5)},
			mutation{"packets -1", false, set("data.packets", -1)},
			mutation{"proto numeric", true, set("data.proto", "47")},
			mutation{"proto empty", false, set("data.proto", "")},
			mutation{"proto with a space", false, set("data.proto", "t p")},
		)
	case KindAuth:
		ms = append(ms,
			mutation{"outcome maybe", false, set("data.outcome", "maybe")},
			mutation{"outcome success", true, set("data.outcome", "success")},
			mutation{"location not lat,lon", false, set("data.location", "Amsterdam")},
			mutation{"no optional fields", true, func(m map[string]any) map[string]any {
				for _, k := range []string{"src", "target", "method", "location"} {
					delete(m["data"].(map[string]any), k)
				}
				return m
			}},
		)
	case KindAlert:
		ms = append(ms,
			mutation{"severity SEVERE", false, set("data.severity", "SEVERE")},
			mutation{"severity LOW", true, set("data.severity", "LOW")},
			mutation{"technique a tactic", false, set("data.technique", "TA0001")},
			mutation{"technique a sub-technique", true, set("data.technique", "T1110.003")},
			mutation{"message of 4 KiB", true, set("data.message", strings.Repeat("m", MaxMessageBytes))},
		)
	case KindMetric:
		ms = append(ms,
			mutation{"value negative fraction", true, set("data.value", -0.25)},
			mutation{"value text", false, set("data.value", "1")},
		)
	case KindDeploy:
		ms = append(ms,
			mutation{"sha512", true, set("data.digest", "sha512:"+strings.Repeat("0a", 64))},
			mutation{"short digest", false, set("data.digest", "sha256:abc")},
			mutation{"upper-case hex", false, set("data.digest", "sha256:"+strings.Repeat("AB", 32))},
			mutation{"no algorithm", false, set("data.digest", strings.Repeat("ab", 32))},
		)
	}
	return ms
}

// validateSchema checks v against schema, for the keywords the telemetry schemas use:
// $ref (to #/$defs), boolean schemas, const, enum, type, required, properties,
// additionalProperties false, minLength and maxLength (in characters), pattern, minimum,
// maximum, and format date-time. Unknown keywords fail, so the schemas cannot outgrow it.
func validateSchema(root, schema any, v any, at string) error {
	if b, ok := schema.(bool); ok {
		if !b {
			return fmt.Errorf("%s: not allowed", at)
		}
		return nil
	}
	s := schema.(map[string]any)
	for k := range s {
		switch k {
		case "$schema", "$id", "$defs", "title", "description", "examples", "$ref", "const", "enum", "type",
			"required", "properties", "additionalProperties", "minLength", "maxLength", "pattern", "minimum", "maximum", "format":
		default:
			return fmt.Errorf("%s: keyword %s not supported by this test", at, k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		if !ok {
			return fmt.Errorf("%s: $ref %s", at, ref)
		}
		if err := validateSchema(root, root.(map[string]any)["$defs"].(map[string]any)[name], v, at); err != nil {
			return err
		}
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(normal(c), normal(v)) {
		return fmt.Errorf("%s: want %v", at, c)
	}
	if e, ok := s["enum"]; ok && !slices.ContainsFunc(sliceOf(e), func(x any) bool { return reflect.DeepEqual(normal(x), normal(v)) }) {
		return fmt.Errorf("%s: not one of %v", at, e)
	}
	if typ, ok := s["type"].(string); ok && !hasType(v, typ) {
		return fmt.Errorf("%s: want %s", at, typ)
	}
	if m, ok := v.(map[string]any); ok {
		for _, r := range strs(s["required"]) {
			if _, ok := m[r]; !ok {
				return fmt.Errorf("%s: %s required", at, r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, x := range m {
			if p, ok := props[k]; ok {
				if err := validateSchema(root, p, x, at+"/"+k); err != nil {
					return err
				}
			} else if s["additionalProperties"] == false {
				return fmt.Errorf("%s: %s not allowed", at, k)
			}
		}
	}
	if str, ok := v.(string); ok {
		n := utf8.RuneCountInString(str)
		if x, ok := s["minLength"]; ok && float64(n) < num(x) {
			return fmt.Errorf("%s: shorter than %v", at, x)
		}
		if x, ok := s["maxLength"]; ok && float64(n) > num(x) {
			return fmt.Errorf("%s: longer than %v", at, x)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return fmt.Errorf("%s: does not match %s", at, p)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: not a date-time", at)
			}
		}
	}
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		if x, ok := s["minimum"]; ok && f < num(x) {
			return fmt.Errorf("%s: below %v", at, x)
		}
		if x, ok := s["maximum"]; ok && f > num(x) {
			return fmt.Errorf("%s: above %v", at, x)
		}
	}
	return nil
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == float64(int64(f))
	}
	return false
}

// normal makes numbers comparable whatever their spelling.
func normal(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

// clone deep-copies a decoded JSON value, re-reading it so numbers stay json.Number.
func clone(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out, err := decodeJSON(b)
	if err != nil {
		panic(err)
	}
	return out
}

func obj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object", key)
	}
	return o
}

func num(v any) float64 {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return -1
}

func sliceOf(v any) []any {
	s, _ := v.([]any)
	return s
}

func strs(v any) []string {
	var out []string
	for _, x := range sliceOf(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }
