package spdx_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
	"github.com/sectwin/sectwin/ingest/spdx"
)

// dependencyTypes are the relationship types Counts.Relationships counts.
var dependencyTypes = map[string]bool{
	"DEPENDS_ON": true, "DEPENDENCY_OF": true, "DEV_DEPENDENCY_OF": true, "TEST_DEPENDENCY_OF": true,
	"BUILD_DEPENDENCY_OF": true, "OPTIONAL_DEPENDENCY_OF": true, "PROVIDED_DEPENDENCY_OF": true,
	"RUNTIME_DEPENDENCY_OF": true,
}

// TestCorpus parses every shared SPDX sample in place and checks the document against counts
// taken from the raw JSON, independently of the parser.
func TestCorpus(t *testing.T) {
	files := ingesttest.SampleFiles(ingest.FormatSPDX)
	if len(files) == 0 {
		t.Skipf("no SPDX samples in %s (the shared corpus is not checked out next to the repository)", ingesttest.SamplesDir(ingest.FormatSPDX))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := spdx.Parse(data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			checkBatch(t, doc)
			var raw struct {
				Packages []struct {
					ExternalRefs []struct {
						Type    string `json:"referenceType"`
						Locator string `json:"referenceLocator"`
					} `json:"externalRefs"`
				} `json:"packages"`
				Relationships []struct {
					Type string `json:"relationshipType"`
				} `json:"relationships"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			deps := 0
			for _, r := range raw.Relationships {
				if dependencyTypes[r.Type] {
					deps++
				}
			}
			// Packages sharing a purl are one node (the documented dedup); every package
			// without a purl is a node of its own.
			purls, distinct := map[string]bool{}, 0
			for _, p := range raw.Packages {
				id := ""
				for _, r := range p.ExternalRefs {
					if r.Type == "purl" && strings.TrimSpace(r.Locator) != "" {
						id = strings.TrimSpace(r.Locator)
						break
					}
				}
				if id == "" || !purls[id] {
					distinct++
				}
				if id != "" {
					purls[id] = true
				}
			}
			if doc.Counts.Components != len(raw.Packages) || doc.Counts.Relationships != deps || doc.Counts.Vulnerabilities != 0 {
				t.Errorf("counts %+v; the file has %d packages and %d dependency relationships", doc.Counts, len(raw.Packages), deps)
			}
			if len(doc.Components) != distinct {
				t.Errorf("%d components listed, want %d distinct", len(doc.Components), distinct)
			}
			nodes := 0
			for _, n := range doc.Batch.Nodes {
				if n.Label == graph.LabelComponent {
					nodes++
				}
			}
			if nodes != distinct || len(doc.Batch.Nodes) != nodes {
				t.Errorf("%d nodes, %d of them Components; want %d Components only", len(doc.Batch.Nodes), nodes, distinct)
			}
			t.Logf("version %s counts %+v; %d components listed, %d DEPENDS_ON edges, subject %+v", doc.Version, doc.Counts,
				len(doc.Components), len(doc.Batch.Edges), doc.Subject)
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}
