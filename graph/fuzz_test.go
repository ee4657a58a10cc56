package graph_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
)

// FuzzSplitStatements: the migration splitter never panics, and what it returns holds no
// comment lines, no empty statements and no trailing semicolons.
func FuzzSplitStatements(f *testing.F) {
	for _, seed := range []string{
		"", ";", "CREATE (n);\n", "// c\nMATCH (n)\nRETURN n;\n", "RETURN 'a;b';", "x\r\n;\r\n", "CREATE (n)", ";;\n;",
		"CREATE CONSTRAINT c IF NOT EXISTS FOR (t:T) REQUIRE t.id IS UNIQUE;\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		stmts, err := graph.SplitStatements(body)
		if err != nil {
			return
		}
		for _, s := range stmts {
			if strings.TrimSpace(s) == "" {
				t.Fatalf("empty statement from %q", body)
			}
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "//") {
					t.Fatalf("comment line kept in %q", s)
				}
			}
		}
	})
}

// FuzzParseID: global ids from clients never panic the parser, and every id sectwin makes parses
// back to its parts.
func FuzzParseID(f *testing.F) {
	f.Add("Component", "t1", "pkg:npm/a@1", "")
	f.Add("Zone", "city", "dmz", "!!")
	f.Add("Bogus", "", "x\x1fy", graph.ID("Service", "a", "b"))
	f.Fuzz(func(t *testing.T, label, twin, key, raw string) {
		_, _, _, _ = graph.ParseID(raw)
		if _, ok := graph.KindOf(label); !ok || twin == "" || key == "" || strings.Contains(label+twin, "\x1f") {
			return
		}
		l, tw, k, err := graph.ParseID(graph.ID(label, twin, key))
		if err != nil || l != label || tw != twin || k != key {
			t.Fatalf("ID(%q, %q, %q) parsed back as %q, %q, %q, %v", label, twin, key, l, tw, k, err)
		}
	})
}

// FuzzBatchValidate: any node or edge row, however malformed, is either accepted with values of
// the model's types or refused with problems; validation never panics.
func FuzzBatchValidate(f *testing.F) {
	f.Add("Component", "pkg:npm/a@1", "name", "a", "DEPENDS_ON", "Component", int64(1))
	f.Add("Vulnerability", "CVE-1", "cvssScore", "7.5", "AFFECTS", "Zone", int64(-1))
	f.Add("", "", "twin", "", "REACHES", "Zone", int64(1<<40))
	f.Fuzz(func(t *testing.T, label, key, prop, value, edge, to string, port int64) {
		b := graph.Batch{
			Nodes: []graph.NodeRow{{Label: label, Key: key, Props: map[string]any{prop: value}}},
			Edges: []graph.EdgeRow{{Type: edge, From: graph.NodeRef{Label: label, Key: key}, To: graph.NodeRef{Label: to, Key: value},
				Props: map[string]any{"port": port, "proto": value, prop: []any{value, port}}}},
			DeleteNodes: []graph.NodeRef{{Label: to, Key: key}},
		}
		err := b.Validate()
		var ve *graph.ValidationError
		if err != nil && (!errors.As(err, &ve) || len(ve.Problems) == 0) {
			t.Fatalf("validation failed without problems: %v", err)
		}
	})
}
