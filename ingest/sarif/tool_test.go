package sarif

import (
	"strings"
	"testing"
)

func TestTool(t *testing.T) {
	cases := []struct {
		name, runs, want string
	}{
		{"first run's driver", `[{"tool": {"driver": {"name": " Semgrep OSS "}}, "results": []}, {"tool": {"driver": {"name": "CodeQL"}}}]`, "Semgrep OSS"},
		{"first named driver", `[{"tool": {"driver": {"name": ""}}}, {"tool": {"driver": {"name": "CodeQL"}}}]`, "CodeQL"},
		{"no driver", `[{"tool": {}}]`, ""},
		{"no tool", `[{"results": []}]`, ""},
		{"no runs", `[]`, ""},
		{"long name", `[{"tool": {"driver": {"name": "` + strings.Repeat("é", 300) + `"}}}]`, strings.Repeat("é", maxToolName/2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(`{"version": "2.1.0", "runs": ` + c.runs + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Tool != c.want || !doc.KnowledgeAsOf.IsZero() {
				t.Errorf("Tool %q, KnowledgeAsOf %v; want %q and unknown", doc.Tool, doc.KnowledgeAsOf, c.want)
			}
		})
	}
}
