package openvex

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// sampleFolder is this format's folder among the shared samples.
const sampleFolder = "openvex"

// TestCorpus parses every shared OpenVEX sample and checks the document against what the raw
// JSON declares, read independently: one AFFECTS edge per vulnerability and purl named by a
// statement, with the status and justification of the latest statement.
func TestCorpus(t *testing.T) {
	for _, f := range ingesttest.Samples(t, sampleFolder) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := ingesttest.ReadFile(t, f)
			doc, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			checkDoc(t, doc)
			if f, err := ingest.Detect(data); err != nil || f != format {
				t.Errorf("ingest.Detect = %q, %v; want %q", f, err, format)
			}

			var raw struct {
				Timestamp  string           `json:"timestamp"`
				Statements []map[string]any `json:"statements"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			s := func(v any) string { x, _ := v.(string); return x }
			list := func(v any) []any { l, _ := v.([]any); return l }
			idOf := func(v any) string {
				if m, ok := v.(map[string]any); ok {
					return s(m["@id"])
				}
				return s(v)
			}
			docTime, _ := time.Parse(time.RFC3339Nano, raw.Timestamp)
			type want struct {
				status, justification string
				at                    time.Time
			}
			pairs := map[string]want{}
			purls := map[string]bool{}
			nonPurl := 0
			for _, st := range raw.Statements {
				vuln := s(st["vulnerability"])
				if m, ok := st["vulnerability"].(map[string]any); ok {
					vuln = s(m["name"])
					if vuln == "" {
						vuln = s(m["@id"])
					}
				}
				if strings.HasPrefix(strings.ToUpper(vuln), "CVE-") {
					vuln = strings.ToUpper(vuln)
				}
				at := docTime
				if ts := s(st["timestamp"]); ts != "" {
					at, _ = time.Parse(time.RFC3339Nano, ts)
				}
				var ids []string
				for _, p := range list(st["products"]) {
					ids = append(ids, idOf(p))
					if m, ok := p.(map[string]any); ok {
						for _, sc := range list(m["subcomponents"]) {
							ids = append(ids, idOf(sc))
						}
					}
				}
				for _, sc := range list(st["subcomponents"]) {
					ids = append(ids, idOf(sc))
				}
				for _, id := range ids {
					if !strings.HasPrefix(id, "pkg:") {
						nonPurl++
						continue
					}
					p, err := packageurl.FromString(id)
					if err != nil {
						t.Fatalf("sample purl %q: %v", id, err)
					}
					purl := p.ToString()
					purls[purl] = true
					k := vuln + " → " + purl
					if old, ok := pairs[k]; !ok || !at.Before(old.at) {
						j := s(st["justification"])
						if s(st["status"]) != "not_affected" {
							j = ""
						}
						pairs[k] = want{s(st["status"]), j, at}
					}
				}
			}

			if doc.Counts.Vulnerabilities != len(raw.Statements) || doc.Counts.Components+doc.Counts.Relationships+doc.Counts.Results != 0 {
				t.Errorf("Counts %+v, the file has %d statements", doc.Counts, len(raw.Statements))
			}
			affects := ingesttest.EdgesOf(doc, "AFFECTS")
			if len(affects) != len(pairs) || len(doc.Batch.Edges) != len(pairs) {
				t.Errorf("%d AFFECTS edges (%d edges), want %d", len(affects), len(doc.Batch.Edges), len(pairs))
			}
			for k, w := range pairs {
				e, ok := affects[k]
				if !ok {
					t.Errorf("no AFFECTS %s", k)
					continue
				}
				if j, _ := e["justification"].(string); e["status"] != w.status || j != w.justification {
					t.Errorf("AFFECTS %s = %v, want status %s, justification %q", k, e, w.status, w.justification)
				}
			}
			if comps := ingesttest.NodesOf(doc, graph.LabelComponent); len(comps) != len(purls) {
				t.Errorf("%d components, want %d", len(comps), len(purls))
			}
			if len(doc.Warnings) < nonPurl {
				t.Errorf("%d warnings for %d products that are not purls", len(doc.Warnings), nonPurl)
			}
			t.Logf("version %s, %d statements → %d vulnerabilities, %d components, %d AFFECTS; %d warnings",
				doc.Version, doc.Counts.Vulnerabilities, len(ingesttest.NodesOf(doc, graph.LabelVulnerability)), len(purls), len(affects), len(doc.Warnings))
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}
