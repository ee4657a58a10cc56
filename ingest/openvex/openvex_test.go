package openvex

import (
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

const (
	purlOCI    = "pkg:oci/app@sha256:abc?repository_url=registry.example.com%2Fapp"
	purlLibfoo = "pkg:deb/debian/libfoo@1.2-3?arch=amd64"
	purlApp    = "pkg:npm/%40scope/app@1.0.0"
	purlReq    = "pkg:pypi/requests@2.31.0"
	purlMod    = "pkg:golang/example.com/mod@v1.0.0"
)

func TestParse(t *testing.T) {
	notInPath := map[string]any{"status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}
	tests := []struct {
		file     string
		version  string
		stmts    int
		vulns    map[string]map[string]any
		comps    []string
		affects  map[string]map[string]any
		warnings []string
	}{
		{
			file: "v020.openvex.json", version: "0.2.0", stmts: 10,
			vulns: map[string]map[string]any{
				"CVE-2024-1000":       {"aliases": []string{"GHSA-aaaa-bbbb-cccc"}, "summary": "Heap overflow in libfoo."},
				"GHSA-xxxx-yyyy-zzzz": {}, "CVE-2024-1001": {}, "CVE-2024-1002": {},
			},
			comps: []string{purlOCI, purlLibfoo, purlApp, purlReq, purlMod},
			affects: map[string]map[string]any{
				"CVE-2024-1000 → " + purlOCI:       notInPath,
				"CVE-2024-1000 → " + purlLibfoo:    notInPath,                  // the older statement [1] does not win
				"CVE-2024-1000 → " + purlApp:       {"status": "affected"},     // the newer statement [2] does; no justification
				"GHSA-xxxx-yyyy-zzzz → " + purlReq: {"status": "fixed"},        // @id as the name; a string product
				"CVE-2024-1001 → " + purlMod:       {"status": "not_affected"}, // a string vulnerability
				"CVE-2024-1002 → " + purlMod:       {"status": "not_affected", "justification": "not_my_problem"},
			},
			warnings: []string{
				"statements[0].products[0].subcomponents[1].@id", // an image reference
				"statements[0].products[2].@id",                  // an image reference without identifiers
				"statements[2].justification",                    // a justification of affected
				"statements[3].status",                           // Fixed
				"statements[3].products[0]",                      // a string, as in v0.0.1
				"statements[4].vulnerability",                    // a string, as in v0.0.1
				"statements[4]",                                  // not_affected without justification
				"statements[5].statement",                        // not an OpenVEX field
				"statements[5].justification",                    // unknown justification
				"statements[6].status",                           // wontfix
				"statements[7].vulnerability",                    // none
				"statements[8]",                                  // a string
				"statements[9].timestamp",                        // yesterday
				"statements[9].products[0].@id",                  // pkg:
				"statements[9].products[1]",                      // {}
			},
		},
		{
			file: "v001.openvex.json", stmts: 2,
			vulns: map[string]map[string]any{"CVE-2023-2000": {"summary": "Legacy description."}},
			comps: []string{"pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64", "pkg:apk/wolfi/libcurl@8.0-r0"},
			affects: map[string]map[string]any{
				"CVE-2023-2000 → pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64": {"status": "fixed"},
				"CVE-2023-2000 → pkg:apk/wolfi/libcurl@8.0-r0":            {"status": "fixed"},
			},
			warnings: []string{"statements[1].products[0].@id"},
		},
		{
			file: "nocontext.openvex.json", stmts: 1,
			vulns:    map[string]map[string]any{"CVE-2024-3000": {}},
			comps:    []string{"pkg:cargo/foo@1.0.0"},
			affects:  map[string]map[string]any{"CVE-2024-3000 → pkg:cargo/foo@1.0.0": {"status": "under_investigation"}},
			warnings: []string{"@context"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Parse(ingesttest.ReadFile(t, "testdata/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			checkDoc(t, doc)
			if doc.Version != tt.version {
				t.Errorf("Version %q, want %q", doc.Version, tt.version)
			}
			if want := (ingest.Counts{Vulnerabilities: tt.stmts}); doc.Counts != want {
				t.Errorf("Counts %+v, want %+v", doc.Counts, want)
			}
			if len(doc.Components) != 0 {
				t.Errorf("Components %v: a VEX document lists none", doc.Components)
			}
			vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			if len(vulns) != len(tt.vulns) {
				t.Errorf("vulnerabilities %v, want %v", vulns, tt.vulns)
			}
			for id, want := range tt.vulns {
				if !ingesttest.SameProps(vulns[id], want) {
					t.Errorf("%s = %v, want %v", id, vulns[id], want)
				}
			}
			comps := ingesttest.NodesOf(doc, graph.LabelComponent)
			var keys []string
			for k, props := range comps {
				keys = append(keys, k)
				if len(props) != 0 {
					t.Errorf("component %s has props %v: VEX components are bare", k, props)
				}
			}
			if slices.Sort(keys); !slices.Equal(keys, slices.Sorted(slices.Values(tt.comps))) {
				t.Errorf("components %v, want %v", keys, tt.comps)
			}
			affects := ingesttest.EdgesOf(doc, "AFFECTS")
			if len(affects) != len(tt.affects) || len(doc.Batch.Edges) != len(affects) {
				t.Errorf("edges %v, want AFFECTS %v", doc.Batch.Edges, tt.affects)
			}
			for k, want := range tt.affects {
				if !ingesttest.SameProps(affects[k], want) {
					t.Errorf("AFFECTS %s = %v, want %v", k, affects[k], want)
				}
			}
			if got := ingesttest.WarningPaths(doc); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %v, want at %v", doc.Warnings, tt.warnings)
			}
		})
	}
}

// TestStatementHistory: among statements on one vulnerability and component, the latest wins;
// among equals, the last in the document.
func TestStatementHistory(t *testing.T) {
	tests := []struct {
		name  string
		stmts string
		want  string
	}{
		{"later in document and time", `{"timestamp":"2024-01-01T00:00:00Z","status":"under_investigation"},{"timestamp":"2024-02-01T00:00:00Z","status":"fixed"}`, "fixed"},
		{"earlier in document, later in time", `{"timestamp":"2024-02-01T00:00:00Z","status":"fixed"},{"timestamp":"2024-01-01T00:00:00Z","status":"affected"}`, "fixed"},
		{"same time", `{"timestamp":"2024-01-01T00:00:00Z","status":"affected"},{"timestamp":"2024-01-01T01:00:00+01:00","status":"fixed"}`, "fixed"},
		{"document time", `{"status":"affected"},{"timestamp":"2023-12-31T00:00:00Z","status":"fixed"}`, "affected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			with := strings.ReplaceAll(tt.stmts, `"status"`, `"vulnerability":{"name":"CVE-2024-1"},"products":[{"@id":"pkg:npm/a@1"}],"status"`)
			doc, err := Parse([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":"2024-01-15T00:00:00Z","statements":[` + with + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			checkDoc(t, doc)
			e := ingesttest.EdgesOf(doc, "AFFECTS")["CVE-2024-1 → pkg:npm/a@1"]
			if e["status"] != tt.want || len(doc.Warnings) != 0 {
				t.Errorf("status %v, want %s (warnings %v)", e["status"], tt.want, doc.Warnings)
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
		{"empty", ` `, 0, 0, "empty document"},
		{"malformed", "{\"@context\": \"https://openvex.dev/ns/v0.2.0\",\n \"statements\": [{]}", 2, 18, "malformed JSON"},
		{"array", `[]`, 1, 1, "JSON array, want an object"},
		{"no statements", `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x"}`, 0, 0, "statements array"},
		{"statements object", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":{}}`, 0, 0, "statements is a JSON object"},
		{"KEV", `{"catalogVersion":"1","vulnerabilities":[]}`, 0, 0, "kev document"},
		{"CycloneDX with statements", `{"bomFormat":"CycloneDX","statements":[]}`, 0, 0, "cyclonedx document"},
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

// checkDoc checks what every parsed document must satisfy (ingesttest.CheckBatch), and that it
// is of this format, deletes nothing and lists no components: ingesttest.CheckDoc does not fit,
// since a VEX document's Component nodes are what its statements speak of, not what an
// artifact contains.
func checkDoc(t testing.TB, doc *ingest.Document) {
	t.Helper()
	ingesttest.CheckBatch(t, doc)
	if doc.Format != format {
		t.Errorf("Format = %q, want %q", doc.Format, format)
	}
	if len(doc.Components) != 0 {
		t.Errorf("Components %v: a VEX document lists none", doc.Components)
	}
	if len(doc.Batch.DeleteEdges)+len(doc.Batch.DeleteNodes) > 0 {
		t.Error("a parser deletes nothing")
	}
}
