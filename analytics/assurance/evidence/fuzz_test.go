package evidence

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzParseSpec: parsing never panics; what it accepts is valid, has dependencies, survives a
// JSON round trip unchanged after one normalisation, and a cypher_check query it accepts
// passes CheckCypher. Seeds: testdata/fuzz/FuzzParseSpec (one spec of each kind, in YAML and
// JSON, and a few refusals).
func FuzzParseSpec(f *testing.F) {
	for _, y := range examples {
		f.Add([]byte(y), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		parse := ParseYAML
		if asJSON {
			parse = ParseJSON
		}
		s, err := parse(data)
		if err != nil {
			var ves ValidationErrors
			if errors.As(err, &ves) && len(ves) == 0 {
				t.Fatal("empty ValidationErrors")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed spec is invalid: %v", err)
		}
		if len(Dependencies(s)) == 0 {
			t.Fatal("valid spec without dependencies")
		}
		if s.Cypher != nil {
			if err := CheckCypher(s.Cypher.Query, mapKeys(s.Cypher.Params)); err != nil {
				t.Fatalf("accepted query fails CheckCypher: %v", err)
			}
		}
		b1, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		s1, err := ParseJSON(b1)
		if err != nil {
			t.Fatalf("ParseJSON(%s) of a valid spec: %v", b1, err)
		}
		b2, err := json.Marshal(s1)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ParseJSON(b2)
		if err != nil {
			t.Fatalf("second round trip: %v", err)
		}
		if !reflect.DeepEqual(s1, s2) {
			t.Fatalf("JSON round trip not stable:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzCheckCypher: the query linter never panics, and refuses with one of its typed errors.
func FuzzCheckCypher(f *testing.F) {
	for _, q := range []string{"MATCH (n {twin: $twin}) RETURN n", "MATCH (a {twin: $twin})-[:R*1..3]->(b) RETURN b",
		"CALL { MATCH (n {twin: $twin}) RETURN n } IN TRANSACTIONS", "MATCH (a) ((x)-->(y)){1,} RETURN $`p`"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		err := CheckCypher(q, []string{"p"})
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotReadOnly) && !errors.Is(err, ErrUnbounded) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
