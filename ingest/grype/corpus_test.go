package grype

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// TestCorpus parses every shared Grype sample and checks the document against what the raw
// JSON declares, read independently.
func TestCorpus(t *testing.T) {
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
			ingesttest.CheckPurls(t, doc)

			var raw struct {
				Matches []struct {
					Vulnerability map[string]any
					Artifact      map[string]any
				}
				Source struct{ Type string }
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
			artifacts, vulns, pairs := map[string]bool{}, map[string]bool{}, map[string]bool{}
			withEPSS, withKEV := map[string]bool{}, map[string]bool{}
			for _, m := range raw.Matches {
				a, v := m.Artifact, m.Vulnerability
				artifacts[fmt.Sprint(str(a, "id"), "|", str(a, "name"), "|", str(a, "version"), "|", str(a, "type"), "|", str(a, "purl"))] = true
				id := str(v, "id")
				if up := strings.ToUpper(id); strings.HasPrefix(up, "CVE-") {
					id = up
				}
				vulns[id] = true
				pairs[id+" "+str(a, "name")+"@"+str(a, "version")] = true
				if e, _ := v["epss"].([]any); len(e) > 0 {
					withEPSS[id] = true
				}
				if k, _ := v["knownExploited"].([]any); len(k) > 0 {
					withKEV[id] = true
				}
			}
			if doc.Counts.Vulnerabilities != len(raw.Matches) || doc.Counts.Components != len(artifacts) || doc.Counts.Relationships+doc.Counts.Results != 0 {
				t.Errorf("Counts %+v, the file has %d matches of %d artifacts", doc.Counts, len(raw.Matches), len(artifacts))
			}
			got := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			if len(got) != len(vulns) {
				t.Errorf("%d vulnerabilities, want %d", len(got), len(vulns))
			}
			for v := range vulns {
				if got[v] == nil {
					t.Errorf("no vulnerability %s", v)
				}
			}
			for v := range withEPSS {
				if _, ok := got[v]["epss"].(float64); !ok {
					t.Errorf("%s has no EPSS: %v", v, got[v])
				}
			}
			for v := range withKEV {
				if got[v]["kev"] != true {
					t.Errorf("%s is not marked KEV: %v", v, got[v])
				}
			}
			if n := len(ingesttest.EdgesOf(doc, "AFFECTS")); n != len(pairs) {
				t.Errorf("%d AFFECTS edges, want one per vulnerability and artifact: %d", n, len(pairs))
			}
			if len(doc.Components) > len(artifacts) || len(raw.Matches) > 0 && len(doc.Components) == 0 {
				t.Errorf("%d components from %d artifacts", len(doc.Components), len(artifacts))
			}
			if n := len(ingesttest.NodesOf(doc, graph.LabelFinding)); n != 0 {
				t.Errorf("%d findings: a Grype report has none", n)
			}
			if raw.Source.Type == "image" && (doc.Subject == nil || doc.Subject.Type != "IMAGE" || !strings.HasPrefix(doc.Subject.Digest, "sha256:")) {
				t.Errorf("Subject %+v, want the image with its digest", doc.Subject)
			}
			t.Logf("counts %+v → %d components, %d vulnerabilities (%d with EPSS, %d KEV), %d AFFECTS; subject %+v; %d warnings",
				doc.Counts, len(doc.Components), len(got), len(withEPSS), len(withKEV), len(ingesttest.EdgesOf(doc, "AFFECTS")), doc.Subject, len(doc.Warnings))
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}
