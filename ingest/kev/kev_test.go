package kev

import (
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		file     string
		version  string
		entries  int
		vulns    map[string]map[string]any
		warnings []string
	}{
		{
			file: "current.kev.json", version: "2025.01.02", entries: 3,
			vulns: map[string]map[string]any{
				"CVE-2024-1111":  {"kev": true, "summary": "Example Gateway contains a command injection vulnerability in its admin API.", "cwes": []string{"CWE-78"}},
				"CVE-2023-22222": {"kev": true, "summary": "Example Library Use-After-Free Vulnerability", "cwes": []string{"CWE-416"}}, // no description: the name
				"CVE-2021-3333":  {"kev": true, "summary": "An old flaw."},
			},
		},
		{
			file: "legacy.kev.json", version: "2022.06.01", entries: 2, // before the feed had cwes
			vulns: map[string]map[string]any{
				"CVE-2021-44228": {"kev": true, "summary": "Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints."},
				"CVE-2019-0708":  {"kev": true, "summary": "Remote Desktop Services contains a remote code execution vulnerability."},
			},
		},
		{
			file: "tolerant.kev.json", entries: 6,
			vulns: map[string]map[string]any{
				"CVE-2024-5555":       {"kev": true, "summary": "Lower-case id", "cwes": []string{"CWE-79", "CWE-89"}},
				"GHSA-aaaa-bbbb-cccc": {"kev": true, "summary": "Not a CVE."},
			},
			warnings: []string{
				"catalogVersion",             // none
				"count",                      // "five"
				"vulnerabilities[1].cveID",   // none
				"vulnerabilities[2]",         // a string
				"vulnerabilities[3]",         // cveID is a number
				"vulnerabilities[4].cveID",   // listed again
				"vulnerabilities[4].cwes[1]", // injection
				"vulnerabilities[5].cveID",   // not a CVE
				"vulnerabilities[5].cwes",    // an object
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Parse(ingesttest.ReadFile(t, "testdata/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			if doc.Version != tt.version {
				t.Errorf("Version %q, want %q", doc.Version, tt.version)
			}
			if want := (ingest.Counts{Vulnerabilities: tt.entries}); doc.Counts != want {
				t.Errorf("Counts %+v, want %+v", doc.Counts, want)
			}
			vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			if len(vulns) != len(tt.vulns) || len(doc.Batch.Nodes) != len(vulns) || len(doc.Batch.Edges) != 0 {
				t.Errorf("batch %+v, want vulnerabilities %v", doc.Batch, tt.vulns)
			}
			for id, want := range tt.vulns {
				if !ingesttest.SameProps(vulns[id], want) {
					t.Errorf("%s = %v, want %v", id, vulns[id], want)
				}
			}
			if got := ingesttest.WarningPaths(doc); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %v, want at %v", doc.Warnings, tt.warnings)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		line, col int
		msg       string
	}{
		{"empty", ``, 0, 0, "empty document"},
		{"malformed", "{\"catalogVersion\": \"1\",\n\"vulnerabilities\": [{\"cveID\": \"CVE-2024-1\",}]}", 2, 44, "malformed JSON"},
		{"array", `[{"cveID":"CVE-2024-1"}]`, 1, 1, "JSON array, want an object"},
		{"no vulnerabilities", `{"catalogVersion":"1","count":0}`, 0, 0, "vulnerabilities array"},
		{"vulnerabilities object", `{"catalogVersion":"1","vulnerabilities":{}}`, 0, 0, "vulnerabilities is a JSON object"},
		{"CycloneDX", `{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[]}`, 0, 0, "cyclonedx document"},
		{"OSV", `{"id":"GHSA-aaaa-bbbb-cccc","modified":"x","affected":[]}`, 0, 0, "osv document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.doc))
			if err == nil || doc != nil {
				t.Fatalf("Parse = %v, %v; want an error", doc, err)
			}
			pe := ingesttest.AsParseError(t, format, err)
			if tt.line > 0 && (pe.Line != tt.line || pe.Column != tt.col) {
				t.Errorf("at line %d, column %d; want %d, %d (%v)", pe.Line, pe.Column, tt.line, tt.col, pe)
			}
			if !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", pe.Error(), tt.msg)
			}
		})
	}
}
