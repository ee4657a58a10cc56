package attack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// sampleFolder is this format's folder among the shared samples.
const sampleFolder = "attack-stix"

// TestCorpus parses every shared ATT&CK bundle and checks the document against what the raw
// JSON declares, read independently, and reports how long parsing takes.
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
				Objects []struct {
					Type               string `json:"type"`
					Revoked            bool   `json:"revoked"`
					Deprecated         bool   `json:"x_mitre_deprecated"`
					ExternalReferences []struct {
						SourceName string `json:"source_name"`
						ExternalID string `json:"external_id"`
					} `json:"external_references"`
					KillChainPhases []struct {
						PhaseName string `json:"phase_name"`
					} `json:"kill_chain_phases"`
				} `json:"objects"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			current, revoked, deprecated, mitigations := 0, 0, 0, 0
			ids := map[string]bool{}
			for _, o := range raw.Objects {
				switch {
				case o.Type == "course-of-action":
					mitigations++
				case o.Type != "attack-pattern":
				case o.Revoked:
					revoked++
				case o.Deprecated:
					deprecated++
				default:
					current++
					for _, r := range o.ExternalReferences {
						if strings.HasPrefix(r.SourceName, "mitre-") && strings.HasPrefix(r.ExternalID, "T") {
							ids[r.ExternalID] = true
							break
						}
					}
				}
			}
			if doc.Counts.Results != current || doc.Counts.Components+doc.Counts.Relationships+doc.Counts.Vulnerabilities != 0 {
				t.Errorf("Counts %+v, the bundle has %d current attack-patterns", doc.Counts, current)
			}
			threats := ingesttest.NodesOf(doc, graph.LabelThreat)
			if len(threats) != len(ids) || len(doc.Batch.Nodes) != len(threats) || len(doc.Batch.Edges) != 0 {
				t.Errorf("%d threats (%d nodes, %d edges), want %d", len(threats), len(doc.Batch.Nodes), len(doc.Batch.Edges), len(ids))
			}
			for id := range ids {
				th, ok := threats[id]
				if !ok {
					t.Errorf("no threat %s", id)
					continue
				}
				tactics, _ := th["tactics"].([]string)
				if th["name"] == nil || len(tactics) == 0 || !strings.HasPrefix(fmt.Sprint(th["url"]), "https://attack.mitre.org/techniques/") {
					t.Errorf("%s = %v, want a name, tactics and an ATT&CK url", id, th)
				}
			}
			var summary []string
			for _, w := range doc.Warnings {
				summary = append(summary, w.Message)
			}
			all := strings.Join(summary, "\n")
			if n := revoked + deprecated; n > 0 && !strings.Contains(all, fmt.Sprintf("%d attack-patterns revoked or deprecated (%d revoked, %d deprecated)", n, revoked, deprecated)) {
				t.Errorf("warnings %q do not count %d revoked and %d deprecated", all, revoked, deprecated)
			}
			if mitigations > 0 && !strings.Contains(all, fmt.Sprintf("%d course-of-action objects", mitigations)) {
				t.Errorf("warnings %q do not count %d mitigations", all, mitigations)
			}
			if len(doc.Warnings) != min(revoked+deprecated, 1)+min(mitigations, 1) {
				t.Errorf("warnings %v, want only the two summaries", doc.Warnings)
			}
			t.Logf("STIX %s, %d objects: %d techniques → %d threats; %d revoked, %d deprecated, %d mitigations; %d bytes parsed in %v",
				doc.Version, len(raw.Objects), doc.Counts.Results, len(threats), revoked, deprecated, mitigations, len(data), elapsed)
		})
	}
}

// BenchmarkParse parses the largest shared bundle.
func BenchmarkParse(b *testing.B) {
	files := ingesttest.Samples(b, sampleFolder)
	var data []byte
	for _, f := range files {
		if d, err := os.ReadFile(f); err == nil && len(d) > len(data) {
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
