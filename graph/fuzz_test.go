package graph_test

import (
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
