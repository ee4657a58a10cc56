package grype

import (
	"strings"
	"testing"
	"time"
)

func TestToolAndKnowledge(t *testing.T) {
	const matches = `"matches": [], "source": {"type": "image", "target": {"userInput": "app:1", "imageID": "sha256:` +
		`1111111111111111111111111111111111111111111111111111111111111111"}}`
	cases := []struct {
		name, descriptor string
		tool             string
		knowledge        time.Time
		warning          string // in a warning's path
	}{
		{"database schema v5", `{"name": "grype", "version": "0.74.0", "db": {"built": "2024-01-10T01:30:51Z", "schemaVersion": 5}}`,
			"grype", time.Date(2024, 1, 10, 1, 30, 51, 0, time.UTC), ""},
		{"database schema v6", `{"name": "grype", "version": "0.88.0", "db": {"status": {"schemaVersion": "v6.0.2", "built": "2025-03-13T01:31:15.5+01:00"}}}`,
			"grype", time.Date(2025, 3, 13, 0, 31, 15, 5e8, time.UTC), ""},
		{"no database", `{"name": "grype", "version": "0.7.0"}`, "grype", time.Time{}, ""},
		{"no descriptor", `null`, "grype", time.Time{}, ""},
		{"another name", `{"name": "  grype-fork ", "version": "1"}`, "grype-fork", time.Time{}, ""},
		{"name not a string", `{"name": 7, "version": "1"}`, "grype", time.Time{}, ""},
		{"built not a time", `{"name": "grype", "db": {"built": "yesterday"}}`, "grype", time.Time{}, "descriptor.db.built"},
		{"built a number", `{"name": "grype", "db": {"built": 1700000000}}`, "grype", time.Time{}, "descriptor.db.built"},
		{"status not an object", `{"name": "grype", "db": {"status": "ok"}}`, "grype", time.Time{}, "descriptor.db"},
		{"db not an object", `{"name": "grype", "db": "v5"}`, "grype", time.Time{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(`{` + matches + `, "descriptor": ` + c.descriptor + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Tool != c.tool || !doc.KnowledgeAsOf.Equal(c.knowledge) {
				t.Errorf("Tool %q, KnowledgeAsOf %v; want %q, %v", doc.Tool, doc.KnowledgeAsOf, c.tool, c.knowledge)
			}
			warned := false
			for _, w := range doc.Warnings {
				warned = warned || c.warning != "" && strings.HasPrefix(w.Path, c.warning)
			}
			if c.warning != "" && !warned {
				t.Errorf("no warning at %s: %+v", c.warning, doc.Warnings)
			}
		})
	}
}
