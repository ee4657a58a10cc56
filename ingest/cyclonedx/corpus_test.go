package cyclonedx_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/cyclonedx"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// TestCorpus parses every shared CycloneDX sample in place and checks the document against
// counts taken from the raw JSON, independently of the parser.
func TestCorpus(t *testing.T) {
	files := ingesttest.SampleFiles(ingest.FormatCycloneDX)
	if len(files) == 0 {
		t.Skipf("no CycloneDX samples in %s (the shared corpus is not checked out next to the repository)", ingesttest.SamplesDir(ingest.FormatCycloneDX))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := cyclonedx.Parse(data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			checkBatch(t, doc)
			want := countRaw(t, data)
			if doc.Counts.Components != want.components || doc.Counts.Relationships != want.relationships ||
				doc.Counts.Vulnerabilities != want.vulnerabilities {
				t.Errorf("counts %+v; the file has %d components, %d dependsOn entries, %d vulnerabilities",
					doc.Counts, want.components, want.relationships, want.vulnerabilities)
			}
			// Components sharing a purl are one node (the documented dedup); every component
			// without a purl is a node of its own.
			if len(doc.Components) != want.distinct {
				t.Errorf("%d components listed, want %d distinct", len(doc.Components), want.distinct)
			}
			nodes := map[string]int{}
			for _, n := range doc.Batch.Nodes {
				nodes[n.Label]++
			}
			wantNodes := want.distinct
			if doc.Subject != nil && !contains(doc.Components, doc.Subject.Purl) {
				wantNodes++ // the subject is a Component node too
			}
			if nodes[graph.LabelComponent] != wantNodes {
				t.Errorf("%d Component nodes, want %d", nodes[graph.LabelComponent], wantNodes)
			}
			if nodes[graph.LabelVulnerability] != want.vulnIDs {
				t.Errorf("%d Vulnerability nodes, want %d distinct ids", nodes[graph.LabelVulnerability], want.vulnIDs)
			}
			edges := map[string]int{}
			for _, e := range doc.Batch.Edges {
				edges[e.Type]++
			}
			t.Logf("version %s counts %+v; %d components listed, nodes %v, edges %v, subject %+v", doc.Version, doc.Counts,
				len(doc.Components), nodes, edges, doc.Subject)
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}

type rawCounts struct {
	components, relationships, vulnerabilities, distinct, vulnIDs int
}

// countRaw counts what the file declares, reading it as generic JSON.
func countRaw(t *testing.T, data []byte) rawCounts {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var c rawCounts
	purls := map[string]bool{}
	var walk func(list any)
	walk = func(list any) {
		items, _ := list.([]any)
		for _, it := range items {
			c.components++
			m, _ := it.(map[string]any)
			if p, _ := m["purl"].(string); strings.TrimSpace(p) != "" {
				if !purls[strings.TrimSpace(p)] {
					purls[strings.TrimSpace(p)] = true
					c.distinct++
				}
			} else {
				c.distinct++
			}
			walk(m["components"])
		}
	}
	walk(doc["components"])
	if md, ok := doc["metadata"].(map[string]any); ok {
		if mc, ok := md["component"].(map[string]any); ok {
			walk(mc["components"])
		}
	}
	deps, _ := doc["dependencies"].([]any)
	for _, d := range deps {
		m, _ := d.(map[string]any)
		on, _ := m["dependsOn"].([]any)
		c.relationships += len(on)
	}
	vulns, _ := doc["vulnerabilities"].([]any)
	c.vulnerabilities = len(vulns)
	ids := map[string]bool{}
	for _, v := range vulns {
		m, _ := v.(map[string]any)
		if id, _ := m["id"].(string); id != "" {
			ids[id] = true
		}
	}
	c.vulnIDs = len(ids)
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
