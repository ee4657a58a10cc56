package kev

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// sampleFolder is this format's folder among the shared samples.
const sampleFolder = "kev"

// TestCorpus parses every shared KEV catalogue and checks the document against what the raw
// JSON declares, read independently.
func TestCorpus(t *testing.T) {
	for _, f := range ingesttest.Samples(t, sampleFolder) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := ingesttest.ReadFile(t, f)
			start := time.Now()
			doc, err := Parse(data)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			if f, err := ingest.Detect(data); err != nil || f != format {
				t.Errorf("ingest.Detect = %q, %v; want %q", f, err, format)
			}

			var raw struct {
				CatalogVersion  string `json:"catalogVersion"`
				Count           int    `json:"count"`
				Vulnerabilities []struct {
					CveID            string   `json:"cveID"`
					ShortDescription string   `json:"shortDescription"`
					CWEs             []string `json:"cwes"`
				} `json:"vulnerabilities"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			withCWEs := 0
			for _, v := range raw.Vulnerabilities {
				ids[v.CveID] = true
				if slices.ContainsFunc(v.CWEs, func(c string) bool { return strings.HasPrefix(c, "CWE-") }) {
					withCWEs++
				}
			}
			if doc.Version != raw.CatalogVersion {
				t.Errorf("Version %q, want %q", doc.Version, raw.CatalogVersion)
			}
			if doc.Counts.Vulnerabilities != len(raw.Vulnerabilities) || doc.Counts.Vulnerabilities != raw.Count ||
				doc.Counts.Components+doc.Counts.Relationships+doc.Counts.Results != 0 {
				t.Errorf("Counts %+v, the catalogue lists %d (count %d)", doc.Counts, len(raw.Vulnerabilities), raw.Count)
			}
			vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			if len(vulns) != len(ids) || len(doc.Batch.Nodes) != len(vulns) || len(doc.Batch.Edges) != 0 {
				t.Errorf("%d vulnerabilities (%d nodes, %d edges), want %d", len(vulns), len(doc.Batch.Nodes), len(doc.Batch.Edges), len(ids))
			}
			gotCWEs := 0
			for _, v := range raw.Vulnerabilities {
				props, ok := vulns[v.CveID]
				if !ok {
					t.Errorf("no vulnerability %s", v.CveID)
					continue
				}
				if props["kev"] != true || props["summary"] == nil {
					t.Errorf("%s = %v, want kev and a summary", v.CveID, props)
				}
				for k := range props {
					if k != "kev" && k != "summary" && k != "cwes" {
						t.Errorf("%s has %s: KEV enrichment sets kev, summary and cwes only", v.CveID, k)
					}
				}
				if v.ShortDescription != "" && props["summary"] != strings.TrimSpace(v.ShortDescription) {
					t.Errorf("%s summary %q, want %q", v.CveID, props["summary"], v.ShortDescription)
				}
				if c, _ := props["cwes"].([]string); len(c) > 0 {
					gotCWEs++
				}
			}
			if gotCWEs != withCWEs {
				t.Errorf("%d vulnerabilities with CWEs, the catalogue has %d", gotCWEs, withCWEs)
			}
			if len(doc.Warnings) != 0 {
				t.Errorf("warnings %v on CISA's own catalogue", doc.Warnings)
			}
			t.Logf("catalogue %s: %d entries → %d vulnerabilities (%d with CWEs); %d bytes parsed in %v",
				doc.Version, doc.Counts.Vulnerabilities, len(vulns), gotCWEs, len(data), elapsed)
		})
	}
}

// BenchmarkParse parses the largest shared catalogue.
func BenchmarkParse(b *testing.B) {
	var data []byte
	for _, f := range ingesttest.Samples(b, sampleFolder) {
		if d := ingesttest.ReadFile(b, f); len(d) > len(data) {
			data = d
		}
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
