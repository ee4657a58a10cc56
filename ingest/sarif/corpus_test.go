package sarif

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// wantFindings is the number of distinct findings of each shared sample: results repeated with
// the same identity (Gitleaks reports a secret once per commit) are one finding.
var wantFindings = map[string]int{
	"codeql-javascript.sarif.json":  35,
	"eslint-simple-example.sarif":   1,
	"gitleaks-7.5.0.sarif":          4,
	"gosec.sarif.json":              21,
	"grype-nginx.sarif.json":        99,
	"semgrep-oss-1.69.0.sarif.json": 77,
	"trivy-alpine-310.sarif.json":   4,
}

// TestCorpus parses every shared SARIF sample and checks the document against what the raw
// JSON declares, read independently.
func TestCorpus(t *testing.T) {
	advisory := regexp.MustCompile(`^(?i)(CVE-[0-9]{4}-[0-9]+|GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})($|[^a-z0-9])`)
	for _, f := range ingesttest.Samples(t, format) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)

			var raw struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []map[string]any `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			results, vulns := 0, map[string]bool{}
			for _, r := range raw.Runs {
				results += len(r.Results)
				for _, res := range r.Results {
					id, _ := res["ruleId"].(string)
					if m := advisory.FindStringSubmatch(id); m != nil {
						v := strings.ToUpper(m[1])
						if strings.HasPrefix(v, "GHSA") {
							v = "GHSA" + strings.ToLower(v[4:])
						}
						vulns[v] = true
					}
				}
			}
			if doc.Version != raw.Version || doc.Counts.Results != results || doc.Counts.Components+doc.Counts.Relationships+doc.Counts.Vulnerabilities != 0 {
				t.Errorf("version %q, counts %+v; the file declares version %q and %d results", doc.Version, doc.Counts, raw.Version, results)
			}
			gotVulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			if len(gotVulns) != len(vulns) {
				t.Errorf("%d vulnerabilities, want %d", len(gotVulns), len(vulns))
			}
			for v := range vulns {
				if gotVulns[v] == nil {
					t.Errorf("no vulnerability %s", v)
				}
			}
			findings := ingesttest.NodesOf(doc, graph.LabelFinding)
			if want, ok := wantFindings[filepath.Base(f)]; ok && len(findings) != want {
				t.Errorf("%d findings, want %d", len(findings), want)
			}
			if len(findings) > results || results > 0 && len(findings) == 0 {
				t.Errorf("%d findings from %d results", len(findings), results)
			}
			// Every finding is complete, and every IDENTIFIES edge starts at one.
			for k, p := range findings {
				for _, prop := range []string{"severity", "status", "tool", "message"} {
					if p[prop] == nil {
						t.Errorf("finding %s has no %s: %v", k, prop, p)
					}
				}
			}
			if n := len(ingesttest.EdgesOf(doc, "IDENTIFIES")); len(vulns) > 0 && n < len(vulns) {
				t.Errorf("%d IDENTIFIES edges for %d vulnerabilities", n, len(vulns))
			}
			t.Logf("%d results → %d findings, %d vulnerabilities, %d IDENTIFIES; %d warnings", results, len(findings), len(gotVulns), len(ingesttest.EdgesOf(doc, "IDENTIFIES")), len(doc.Warnings))
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}
