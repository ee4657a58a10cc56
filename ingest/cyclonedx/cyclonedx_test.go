package cyclonedx_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/cyclonedx"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// edge is an expected edge: type, from key, to key and the props it must carry (a subset).
type edge struct {
	typ, from, to string
	props         map[string]any
}

func TestParse(t *testing.T) {
	tests := []struct {
		file       string
		version    string
		counts     ingest.Counts
		components []string
		subject    *ingest.Subject
		nodes      map[string]map[string]any // key → props it must carry (a subset)
		edges      []edge
		nEdges     int      // edges in the batch
		warnings   []string // paths that must be warned about, in any order; nil: no warnings at all
	}{
		{
			file:    "sbom-1.4-nested.cdx.json",
			version: "1.4",
			counts:  ingest.Counts{Components: 9, Relationships: 9},
			components: []string{
				"pkg:npm/express@4.18.2", "pkg:npm/body-parser@1.20.1", "pkg:npm/bytes@3.1.2", "pkg:npm/%40types/node@20.1.0",
				"pkg:generic/vendored-lib@0.1", "pkg:generic/broken-purl@1.0", "pkg:generic/config.json",
				"pkg:generic/config.json?bom-ref=twin-b",
			},
			subject: &ingest.Subject{Name: "shop", Version: "2.0.0", Purl: "pkg:npm/shop@2.0.0", Type: "PACKAGE",
				Digest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
			nodes: map[string]map[string]any{
				"pkg:npm/shop@2.0.0": {"name": "shop", "type": "application",
					"hashes": []string{"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
				"pkg:npm/express@4.18.2":                 {"name": "express", "version": "4.18.2", "licenses": []string{"MIT", "MIT OR Apache-2.0"}, "supplier": "OpenJS Foundation"},
				"pkg:npm/%40types/node@20.1.0":           {"name": "@types/node"},
				"pkg:generic/broken-purl@1.0":            {"name": "broken-purl", "version": "1.0"},
				"pkg:generic/config.json":                {"name": "config.json", "type": "file"},
				"pkg:generic/vendored-lib@0.1":           {"version": "0.1"},
				"pkg:npm/body-parser@1.20.1":             {"name": "body-parser"},
				"pkg:npm/bytes@3.1.2":                    {"name": "bytes"},
				"pkg:generic/config.json?bom-ref=twin-b": {"name": "config.json"},
			},
			edges: []edge{
				{"DEPENDS_ON", "pkg:npm/shop@2.0.0", "pkg:npm/express@4.18.2", map[string]any{"direct": true, "scope": "runtime"}},
				{"DEPENDS_ON", "pkg:npm/shop@2.0.0", "pkg:npm/%40types/node@20.1.0", map[string]any{"scope": "optional"}},
				{"DEPENDS_ON", "pkg:npm/shop@2.0.0", "pkg:generic/vendored-lib@0.1", nil},
				{"DEPENDS_ON", "pkg:npm/express@4.18.2", "pkg:npm/body-parser@1.20.1", nil},
				{"DEPENDS_ON", "pkg:npm/body-parser@1.20.1", "pkg:npm/bytes@3.1.2", nil},
				{"DEPENDS_ON", "pkg:generic/broken-purl@1.0", "pkg:npm/bytes@3.1.2", nil},
			},
			nEdges: 6,
			warnings: []string{"components[4].purl", "components[6]", "services", "dependencies[2].dependsOn[1]",
				"dependencies[3].dependsOn[0]"},
		},
		{
			file:    "vex-1.5.cdx.json",
			version: "1.5",
			counts:  ingest.Counts{Components: 4, Vulnerabilities: 8},
			components: []string{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
				"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4", "pkg:npm/lodash@4.17.20", "pkg:generic/openssl@3.0.1"},
			nodes: map[string]map[string]any{
				"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1": {"name": "org.apache.logging.log4j/log4j-core"},
				"CVE-2021-44228": {"cvssScore": 10.0, "cvssVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "severity": "CRITICAL",
					"cwes": []string{"CWE-502", "CWE-400", "CWE-20"}, "aliases": []string{"GHSA-jfh8-c2jp-5v3q", "CVE-2021-45046"},
					"summary": "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP endpoints."},
				"CVE-2018-7489":       {"cvssScore": 9.8, "severity": "CRITICAL", "summary": "jackson-databind RCE"},
				"CVE-2021-23337":      {"cvssScore": 7.2, "severity": "HIGH"},
				"CVE-2022-0001":       {"severity": "MEDIUM"},
				"CVE-2022-0002":       {"severity": "NONE"},
				"CVE-2022-0003":       {"severity": "UNKNOWN"},
				"GHSA-xxxx-yyyy-zzzz": {"severity": "UNKNOWN"},
			},
			edges: []edge{
				{"AFFECTS", "CVE-2021-44228", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
					map[string]any{"status": "affected", "versionRange": "vers:maven/>=2.0-beta9|<2.15.0"}},
				{"AFFECTS", "CVE-2018-7489", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4",
					map[string]any{"status": "not_affected", "justification": "code_not_reachable"}},
				{"AFFECTS", "CVE-2021-23337", "pkg:npm/lodash@4.17.20", map[string]any{"status": "fixed"}},
				{"AFFECTS", "CVE-2022-0001", "pkg:generic/openssl@3.0.1", map[string]any{"status": "under_investigation"}},
				{"AFFECTS", "CVE-2022-0002", "pkg:generic/openssl@3.0.1", map[string]any{"status": "not_affected", "justification": "false_positive"}},
				{"AFFECTS", "CVE-2022-0003", "pkg:generic/openssl@3.0.1", map[string]any{"status": "under_investigation"}},
				{"AFFECTS", "GHSA-xxxx-yyyy-zzzz", "pkg:generic/openssl@3.0.1", map[string]any{"status": "not_affected"}},
			},
			nEdges: 7,
			warnings: []string{"vulnerabilities[0].cwes[2]", "vulnerabilities[1].affects[1].ref", "vulnerabilities[2].ratings.source",
				"vulnerabilities[3].affects[1].ref", "vulnerabilities[5].analysis.state", "vulnerabilities[6].id"},
		},
		{
			file:    "image-1.6.cdx.json",
			version: "1.6",
			counts:  ingest.Counts{Components: 8, Relationships: 5},
			components: []string{"pkg:generic/ubuntu@22.04", "pkg:generic/ubuntu@22.04?bom-ref=os-dup",
				"pkg:deb/ubuntu/libc6@2.35-0ubuntu3.5?arch=amd64&distro=ubuntu-22.04", "pkg:generic/zlib@1.3",
				"pkg:generic/zlib@1.3?bom-ref=zlib-nopurl", "pkg:generic/noname@9"},
			subject: &ingest.Subject{Name: "registry.example/web:1.2", Type: "IMAGE",
				Purl:   "pkg:oci/web@sha256:abababababababababababababababababababababababababababababababab?repository_url=registry.example%2Fweb",
				Digest: "sha256:abababababababababababababababababababababababababababababababab"},
			edges: []edge{
				{"DEPENDS_ON", "pkg:oci/web@sha256:abababababababababababababababababababababababababababababababab?repository_url=registry.example%2Fweb",
					"pkg:generic/ubuntu@22.04", nil},
				{"DEPENDS_ON", "pkg:generic/ubuntu@22.04", "pkg:deb/ubuntu/libc6@2.35-0ubuntu3.5?arch=amd64&distro=ubuntu-22.04", nil},
				{"DEPENDS_ON", "pkg:generic/ubuntu@22.04?bom-ref=os-dup", "pkg:generic/zlib@1.3", nil},
				{"DEPENDS_ON", "pkg:generic/ubuntu@22.04?bom-ref=os-dup", "pkg:generic/zlib@1.3?bom-ref=zlib-nopurl", nil},
			},
			nEdges:   4,
			warnings: []string{"components[0]", "components[3]", "components[4].name", "components[5]", "components[6]"},
		},
		{
			file:       "minimal-1.7.cdx.json",
			version:    "1.7",
			counts:     ingest.Counts{Components: 1},
			components: []string{"pkg:pypi/a@1"},
			warnings:   []string{"specVersion"},
		},
		{
			file:       "schema-only.cdx.json",
			version:    "1.5",
			counts:     ingest.Counts{Components: 1},
			components: []string{"pkg:pypi/b@2"},
			warnings:   []string{"bomFormat"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := ingesttest.ParseFile(t, cyclonedx.Parse, filepath.Join("testdata", tt.file))
			if doc.Format != ingest.FormatCycloneDX || doc.Version != tt.version {
				t.Errorf("format %q version %q, want cyclonedx %q", doc.Format, doc.Version, tt.version)
			}
			if doc.Counts != tt.counts {
				t.Errorf("counts %+v, want %+v", doc.Counts, tt.counts)
			}
			if !slices.Equal(doc.Components, tt.components) {
				t.Errorf("components\n got %q\nwant %q", doc.Components, tt.components)
			}
			switch {
			case tt.subject == nil && doc.Subject != nil:
				t.Errorf("subject %+v, want none", doc.Subject)
			case tt.subject != nil && (doc.Subject == nil || *doc.Subject != *tt.subject):
				t.Errorf("subject %+v, want %+v", doc.Subject, tt.subject)
			}
			checkBatch(t, doc)
			nodes := map[string]graph.NodeRow{}
			for _, n := range doc.Batch.Nodes {
				nodes[n.Key] = n
			}
			for key, want := range tt.nodes {
				n, ok := nodes[key]
				if !ok {
					t.Errorf("no node %s", key)
					continue
				}
				ingesttest.CheckProps(t, key, n.Props, want)
			}
			if len(doc.Batch.Edges) != tt.nEdges {
				t.Errorf("%d edges, want %d: %v", len(doc.Batch.Edges), tt.nEdges, doc.Batch.Edges)
			}
			for _, want := range tt.edges {
				i := slices.IndexFunc(doc.Batch.Edges, func(e graph.EdgeRow) bool {
					return e.Type == want.typ && e.From.Key == want.from && e.To.Key == want.to
				})
				if i < 0 {
					t.Errorf("no edge %s %s → %s", want.typ, want.from, want.to)
					continue
				}
				ingesttest.CheckProps(t, want.typ+" "+want.from+" → "+want.to, doc.Batch.Edges[i].Props, want.props)
			}
			var paths []string
			for _, w := range doc.Warnings {
				paths = append(paths, w.Path)
			}
			for _, p := range tt.warnings {
				if !slices.Contains(paths, p) {
					t.Errorf("no warning at %s; warnings: %v", p, doc.Warnings)
				}
			}
			if len(doc.Warnings) != len(tt.warnings) {
				t.Errorf("%d warnings, want %d: %v", len(doc.Warnings), len(tt.warnings), doc.Warnings)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		file       string
		line, col  int
		path       string
		msgContain string
	}{
		{name: "malformed", file: "malformed.cdx.json", line: 5, col: 18, msgContain: "malformed JSON"},
		{name: "spdx", file: "spdx-not-cdx.json", path: "bomFormat", msgContain: "bomFormat is missing"},
		{name: "major version 2", file: "version-2.0.cdx.json", path: "specVersion", msgContain: "unsupported specVersion"},
		{name: "other bomFormat", doc: `{"bomFormat":"SPDX","specVersion":"1.6"}`, path: "bomFormat", msgContain: `bomFormat is "SPDX"`},
		{name: "array", doc: `[{"bomFormat":"CycloneDX"}]`, msgContain: "not an object"},
		{name: "string", doc: `"CycloneDX"`, msgContain: "not an object"},
		{name: "empty", doc: ``, msgContain: "empty document"},
		{name: "truncated", doc: "{\"bomFormat\": \"CycloneDX\",\n \"components\": [", line: 2, col: 17, msgContain: "unexpected end"},
		{name: "trailing garbage", doc: `{"bomFormat":"CycloneDX","specVersion":"1.6"} x`, line: 1, col: 47, msgContain: "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.doc)
			if tt.file != "" {
				var err error
				if data, err = os.ReadFile(filepath.Join("testdata", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			doc, err := cyclonedx.Parse(data)
			var pe *ingest.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, %v; want a *ingest.ParseError", doc, err)
			}
			if pe.Format != ingest.FormatCycloneDX || pe.Line != tt.line || pe.Column != tt.col || pe.Path != tt.path ||
				!strings.Contains(pe.Msg, tt.msgContain) {
				t.Errorf("got %+v; want line %d column %d path %q and a message with %q", pe, tt.line, tt.col, tt.path, tt.msgContain)
			}
		})
	}
}

// TestLenient checks deviations that are tolerated with a warning rather than refused.
func TestLenient(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		warnPath string
		check    func(t *testing.T, doc *ingest.Document)
	}{
		{
			name:     "lower-case bomFormat",
			doc:      `{"bomFormat":"cyclonedx","specVersion":"1.6"}`,
			warnPath: "bomFormat",
		},
		{
			name:     "numeric specVersion",
			doc:      `{"bomFormat":"CycloneDX","specVersion":1.5,"components":[{"type":"library","name":"a","purl":"pkg:npm/a@1"}]}`,
			warnPath: "specVersion",
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Version != "1.5" || len(doc.Components) != 1 {
					t.Errorf("version %q, components %v", doc.Version, doc.Components)
				}
			},
		},
		{
			name:     "future 1.x",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.9"}`,
			warnPath: "specVersion",
		},
		{
			name:     "missing specVersion",
			doc:      `{"bomFormat":"CycloneDX"}`,
			warnPath: "specVersion",
		},
		{
			name:     "components not an array",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","components":{"name":"a"}}`,
			warnPath: "components",
		},
		{
			name:     "hash that is not hex",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","hashes":[{"alg":"SHA-256","content":"xyz"}]}]}`,
			warnPath: "components[0].hashes[0]",
		},
		{
			name:     "type mismatch in a component",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","version":2,"purl":"pkg:npm/a@2"}]}`,
			warnPath: "components[0].version",
			check: func(t *testing.T, doc *ingest.Document) {
				if !slices.Equal(doc.Components, []string{"pkg:npm/a@2"}) {
					t.Errorf("components %v", doc.Components)
				}
			},
		},
		{
			name:     "legacy tools array, bad evidence, hashes not an array",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"tools":[{"name":"x"}]},"components":[{"type":"library","name":"a","hashes":{"alg":"MD5"},"evidence":{"identity":"not an identity"},"purl":"pkg:npm/a@1"}]}`,
			warnPath: "components[0].hashes",
			check: func(t *testing.T, doc *ingest.Document) {
				if !slices.Equal(doc.Components, []string{"pkg:npm/a@1"}) {
					t.Errorf("components %v", doc.Components)
				}
			},
		},
		{
			name:     "purl too long for a key",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"` + strings.Repeat("n", 3000) + `","purl":"pkg:npm/` + strings.Repeat("n", 3000) + `@1"}]}`,
			warnPath: "components[0].purl",
			check: func(t *testing.T, doc *ingest.Document) {
				if len(doc.Components) != 1 || len(doc.Components[0]) > 2048 || !strings.Contains(doc.Components[0], "sha256=") {
					t.Errorf("components %v", doc.Components)
				}
			},
		},
		{
			name:     "three-part specVersion",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6.0"}`,
			warnPath: "specVersion",
		},
		{
			name:     "supplier and licenses as strings",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","purl":"pkg:npm/a@1","supplier":"ACME","licenses":["MIT",{"license":{"id":"BSD-3-Clause"}},7]}]}`,
			warnPath: "components[0].licenses[0]",
			check: func(t *testing.T, doc *ingest.Document) {
				ingesttest.CheckProps(t, "a", doc.Batch.Nodes[0].Props, map[string]any{"supplier": "ACME", "licenses": []string{"MIT", "BSD-3-Clause"}})
				if len(doc.Warnings) != 3 {
					t.Errorf("warnings %v", doc.Warnings)
				}
			},
		},
		{
			name: "VEX states in other words",
			doc: `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"a","type":"library","name":"a","purl":"pkg:npm/a@1"}],
				"vulnerabilities":[{"id":"X","analysis":{"state":"NOT_AFFECTED"},"affects":[{"ref":"a"}]},{"id":"Y","analysis":{"state":"fixed"},"affects":[{"ref":"a"}]}]}`,
			warnPath: "vulnerabilities[0].analysis.state",
			check: func(t *testing.T, doc *ingest.Document) {
				want := map[string]string{"X": "not_affected", "Y": "fixed"}
				for _, e := range doc.Batch.Edges {
					if e.Props["status"] != want[e.From.Key] {
						t.Errorf("%s: status %v", e.From.Key, e.Props["status"])
					}
				}
				if len(doc.Batch.Edges) != 2 || len(doc.Warnings) != 2 {
					t.Errorf("edges %v, warnings %v", doc.Batch.Edges, doc.Warnings)
				}
			},
		},
		{
			name:     "strings longer than graph takes",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"a","type":"library","name":"` + strings.Repeat("n", 70000) + `","version":"` + strings.Repeat("v", 70000) + `"}],"vulnerabilities":[{"id":"X","description":"` + strings.Repeat("d", 70000) + `","ratings":[{"score":5,"method":"CVSSv31","vector":"` + strings.Repeat("V", 70000) + `"}],"affects":[{"ref":"a","versions":[{"range":"` + strings.Repeat("r", 70000) + `"}]}]}]}`,
			warnPath: "",
		},
		{
			name:     "nested services",
			doc:      `{"bomFormat":"CycloneDX","specVersion":"1.6","services":[{"bom-ref":"s1","name":"s","services":[{"bom-ref":"s2","name":"t"}]}],"components":[{"bom-ref":"c","type":"library","name":"c"}],"dependencies":[{"ref":"s2","dependsOn":["c"]},{"ref":"c","dependsOn":["s1"]}]}`,
			warnPath: "services",
			check: func(t *testing.T, doc *ingest.Document) {
				if len(doc.Warnings) != 1 || !strings.HasPrefix(doc.Warnings[0].Message, "2 services") || doc.Counts.Relationships != 2 {
					t.Errorf("warnings %v, counts %+v", doc.Warnings, doc.Counts)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := cyclonedx.Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, doc)
			if tt.warnPath == "" {
				if len(doc.Warnings) > 0 {
					t.Errorf("warnings %v", doc.Warnings)
				}
			} else if !slices.ContainsFunc(doc.Warnings, func(w ingest.Warning) bool { return w.Path == tt.warnPath }) {
				t.Errorf("no warning at %s: %v", tt.warnPath, doc.Warnings)
			}
			if tt.check != nil {
				tt.check(t, doc)
			}
		})
	}
}

// checkBatch checks what every parsed document must satisfy: the batch passes
// ingesttest.CheckBatch, lists every component once and only nodes of the batch, and holds its
// subject.
func checkBatch(t testing.TB, doc *ingest.Document) {
	t.Helper()
	nodes := ingesttest.CheckBatch(t, doc)
	ingesttest.CheckListed(t, doc, nodes)
	if s := doc.Subject; s != nil && s.Purl != "" && !nodes[graph.NodeRef{Label: graph.LabelComponent, Key: s.Purl}] {
		t.Errorf("subject %s is not in the batch", s.Purl)
	}
}
