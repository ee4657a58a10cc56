package trivy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// wantFindings is the number of distinct findings (misconfigurations and secrets) of each
// shared sample.
var wantFindings = map[string]int{
	"alpine-310.trivy.json":               0,
	"container-image-13-vulns.trivy.json": 0,
	"fs-vulns-misconf-secrets.trivy.json": 3,
	"npm-repo.trivy.json":                 0,
	"secrets.trivy.json":                  2,
	"spring4shell-jre11.trivy.json":       0,
	"ubuntu-1804.trivy.json":              0,
}

// TestCorpus parses every shared Trivy sample and checks the document against what the raw
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
				ArtifactType string
				Results      []struct {
					Packages          []map[string]any
					Vulnerabilities   []map[string]any
					Misconfigurations []map[string]any
					Secrets           []map[string]any
				}
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			var want ingest.Counts
			vulns, pairs := map[string]bool{}, map[string]bool{}
			for _, r := range raw.Results {
				want.Components += len(r.Packages)
				for _, p := range r.Packages {
					deps, _ := p["DependsOn"].([]any)
					want.Relationships += len(deps)
				}
				want.Vulnerabilities += len(r.Vulnerabilities)
				for _, v := range r.Vulnerabilities {
					id := strings.ToUpper(v["VulnerabilityID"].(string))
					vulns[id] = true
					pairs[id+" "+v["PkgName"].(string)+"@"+v["InstalledVersion"].(string)] = true
				}
				want.Results += len(r.Misconfigurations) + len(r.Secrets)
			}
			if doc.Counts != want {
				t.Errorf("Counts %+v, the file declares %+v", doc.Counts, want)
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
			if n := len(ingesttest.EdgesOf(doc, "AFFECTS")); n != len(pairs) {
				t.Errorf("%d AFFECTS edges, want one per vulnerability and package: %d", n, len(pairs))
			}
			if n := len(ingesttest.EdgesOf(doc, "DEPENDS_ON")); n > want.Relationships {
				t.Errorf("%d DEPENDS_ON edges from %d DependsOn entries", n, want.Relationships)
			}
			findings := ingesttest.NodesOf(doc, graph.LabelFinding)
			if w, ok := wantFindings[filepath.Base(f)]; ok && len(findings) != w {
				t.Errorf("%d findings, want %d", len(findings), w)
			}
			if raw.ArtifactType == "container_image" && (doc.Subject == nil || doc.Subject.Type != "IMAGE" || !strings.HasPrefix(doc.Subject.Digest, "sha256:")) {
				t.Errorf("Subject %+v, want the image with its digest", doc.Subject)
			}
			t.Logf("counts %+v → %d components, %d vulnerabilities, %d AFFECTS, %d DEPENDS_ON, %d findings; subject %+v; %d warnings",
				doc.Counts, len(doc.Components), len(got), len(ingesttest.EdgesOf(doc, "AFFECTS")), len(ingesttest.EdgesOf(doc, "DEPENDS_ON")), len(findings), doc.Subject, len(doc.Warnings))
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}
