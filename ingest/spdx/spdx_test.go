package spdx_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
	"github.com/sectwin/sectwin/ingest/spdx"
)

// edge is an expected DEPENDS_ON edge and the props it must carry (a subset).
type edge struct {
	from, to string
	props    map[string]any
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
		nEdges     int
		warnings   []string // paths that must be warned about; exactly these
	}{
		{
			file:    "app-2.3.spdx.json",
			version: "SPDX-2.3",
			counts:  ingest.Counts{Components: 8, Relationships: 7},
			components: []string{"pkg:npm/shop@2.0.0", "pkg:npm/express@4.18.2", "pkg:npm/jest@29.0.0", "pkg:npm/webpack@5.0.0",
				"pkg:generic/libssl@3.0.1", "pkg:generic/libssl@3.0.1?spdxid=SPDXRef-libssl-copy", "pkg:generic/odd%20name%2Fwith%20slash"},
			subject: &ingest.Subject{Name: "shop", Version: "2.0.0", Purl: "pkg:npm/shop@2.0.0", Type: "PACKAGE",
				Digest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
			nodes: map[string]map[string]any{
				"pkg:npm/shop@2.0.0": {"name": "shop", "version": "2.0.0", "type": "application", "supplier": "Example Corp (ops@example.com)",
					"licenses": []string{"Apache-2.0", "Apache-2.0 OR MIT"},
					"hashes":   []string{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
				"pkg:npm/express@4.18.2":                {"licenses": []string{"MIT"}},
				"pkg:generic/libssl@3.0.1":              {"name": "libssl", "supplier": "Jane Doe"},
				"pkg:generic/odd%20name%2Fwith%20slash": {"name": "odd name/with slash", "supplier": "Example Corp without type"},
			},
			edges: []edge{
				{"pkg:npm/shop@2.0.0", "pkg:npm/express@4.18.2", map[string]any{"direct": true}},
				{"pkg:npm/shop@2.0.0", "pkg:npm/jest@29.0.0", map[string]any{"scope": "dev"}},
				{"pkg:npm/shop@2.0.0", "pkg:npm/webpack@5.0.0", map[string]any{"scope": "build"}},
				{"pkg:npm/express@4.18.2", "pkg:generic/libssl@3.0.1", nil},
				{"pkg:npm/shop@2.0.0", "pkg:generic/odd%20name%2Fwith%20slash", nil},
				{"pkg:generic/odd%20name%2Fwith%20slash", "pkg:generic/libssl@3.0.1?spdxid=SPDXRef-libssl-copy", nil},
				{"pkg:npm/shop@2.0.0", "pkg:generic/libssl@3.0.1", map[string]any{"scope": "runtime"}},
			},
			nEdges: 7,
			warnings: []string{"packages[5]", "packages[6].externalRefs[0].referenceLocator", "packages[6].supplier",
				"packages[7].externalRefs[0].referenceCategory", "packages[7].checksums[0]", "relationships[7].relationshipType",
				"relationships[9].relatedSpdxElement", "relationships[11].relatedSpdxElement", "relationships[13].relationshipType"},
		},
		{
			file:       "image-2.2.spdx.json",
			version:    "SPDX-2.2",
			counts:     ingest.Counts{Components: 3, Relationships: 1},
			components: []string{"pkg:alpine/busybox@1.35.0-r17?arch=x86_64&distro=alpine-3.16.2", "pkg:alpine/musl@1.2.3-r0?arch=x86_64&distro=alpine-3.16.2", "pkg:generic/bad-id@1"},
			subject:    &ingest.Subject{Name: "alpine-latest"},
			edges: []edge{
				{"pkg:alpine/musl@1.2.3-r0?arch=x86_64&distro=alpine-3.16.2", "pkg:alpine/busybox@1.35.0-r17?arch=x86_64&distro=alpine-3.16.2", map[string]any{"scope": "runtime"}},
				{"pkg:generic/bad-id@1", "pkg:alpine/musl@1.2.3-r0?arch=x86_64&distro=alpine-3.16.2", map[string]any{"scope": "optional"}},
			},
			nEdges:   2,
			warnings: []string{"packages[2].name", "packages[2].name", "packages[2].SPDXID", "relationships[3]"},
		},
		{
			file:       "container-2.3.spdx.json",
			version:    "SPDX-2.3",
			counts:     ingest.Counts{Components: 3},
			components: []string{"pkg:oci/web@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd?repository_url=registry.example%2Fweb", "pkg:generic/helper@0.1", "pkg:golang/golang.org/x/net@v0.17.0"},
			subject: &ingest.Subject{Name: "registry.example/web", Version: "1.2", Type: "IMAGE",
				Purl:   "pkg:oci/web@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd?repository_url=registry.example%2Fweb",
				Digest: "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"},
			edges: []edge{
				{"pkg:oci/web@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd?repository_url=registry.example%2Fweb", "pkg:golang/golang.org/x/net@v0.17.0", nil},
				{"pkg:generic/helper@0.1", "pkg:golang/golang.org/x/net@v0.17.0", nil},
			},
			nEdges:   2,
			warnings: []string{"relationships"},
		},
		{
			file:       "old-2.1.spdx.json",
			version:    "SPDX-2.1",
			counts:     ingest.Counts{Components: 1},
			components: []string{"pkg:generic/a@1"},
			subject:    &ingest.Subject{Name: "old"},
			warnings:   []string{"spdxVersion"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := ingesttest.ParseFile(t, spdx.Parse, filepath.Join("testdata", tt.file))
			if doc.Format != ingest.FormatSPDX || doc.Version != tt.version {
				t.Errorf("format %q version %q, want spdx %q", doc.Format, doc.Version, tt.version)
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
					return e.Type == "DEPENDS_ON" && e.From.Key == want.from && e.To.Key == want.to
				})
				if i < 0 {
					t.Errorf("no edge %s → %s", want.from, want.to)
					continue
				}
				ingesttest.CheckProps(t, want.from+" → "+want.to, doc.Batch.Edges[i].Props, want.props)
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
		{name: "malformed", file: "malformed.spdx.json", line: 4, col: 28, msgContain: "malformed JSON"},
		{name: "cyclonedx", file: "cdx-not-spdx.json", path: "spdxVersion", msgContain: "spdxVersion is missing"},
		{name: "spdx 3", file: "spdx3.jsonld", path: "@context", msgContain: "SPDX 3"},
		{name: "spdx 3 version", doc: `{"spdxVersion":"SPDX-3.0","SPDXID":"SPDXRef-DOCUMENT"}`, path: "spdxVersion", msgContain: "not supported"},
		{name: "garbage version", doc: `{"spdxVersion":"banana"}`, path: "spdxVersion", msgContain: "not an SPDX 2.x document"},
		{name: "array", doc: `[]`, msgContain: "not an object"},
		{name: "empty", doc: "  \n", msgContain: "empty document"},
		{name: "truncated", doc: "{\"spdxVersion\": \"SPDX-2.3\",\n \"packages\": [", line: 2, col: 15, msgContain: "unexpected end"},
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
			doc, err := spdx.Parse(data)
			var pe *ingest.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, %v; want a *ingest.ParseError", doc, err)
			}
			if pe.Format != ingest.FormatSPDX || pe.Line != tt.line || pe.Column != tt.col || pe.Path != tt.path ||
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
			name:     "no spdxVersion but the document id",
			doc:      `{"SPDXID":"SPDXRef-DOCUMENT","name":"x","packages":[{"SPDXID":"SPDXRef-a","name":"a"}]}`,
			warnPath: "spdxVersion",
			check: func(t *testing.T, doc *ingest.Document) {
				if !slices.Equal(doc.Components, []string{"pkg:generic/a"}) {
					t.Errorf("components %v", doc.Components)
				}
			},
		},
		{
			name:     "version without prefix",
			doc:      `{"spdxVersion":"2.3","SPDXID":"SPDXRef-DOCUMENT"}`,
			warnPath: "spdxVersion",
		},
		{
			name:     "three-part version",
			doc:      `{"spdxVersion":"SPDX-2.3.0","SPDXID":"SPDXRef-DOCUMENT"}`,
			warnPath: "spdxVersion",
		},
		{
			name:     "later 2.x",
			doc:      `{"spdxVersion":"SPDX-2.4","SPDXID":"SPDXRef-DOCUMENT"}`,
			warnPath: "spdxVersion",
		},
		{
			name:     "packages not an array",
			doc:      `{"spdxVersion":"SPDX-2.3","packages":{"SPDXID":"SPDXRef-a"}}`,
			warnPath: "packages",
		},
		{
			name:     "package without SPDXID or name",
			doc:      `{"spdxVersion":"SPDX-2.3","packages":[{"versionInfo":"1"}]}`,
			warnPath: "packages[0].SPDXID",
			check: func(t *testing.T, doc *ingest.Document) {
				if !slices.Equal(doc.Components, []string{"pkg:generic/unnamed@1"}) {
					t.Errorf("components %v", doc.Components)
				}
			},
		},
		{
			name:     "duplicate SPDXID",
			doc:      `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a"},{"SPDXID":"SPDXRef-a","name":"b"}],"relationships":[{"spdxElementId":"SPDXRef-a","relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-a"}]}`,
			warnPath: "packages[1].SPDXID",
			check: func(t *testing.T, doc *ingest.Document) {
				if len(doc.Components) != 2 || len(doc.Batch.Edges) != 0 || doc.Counts.Relationships != 1 {
					t.Errorf("components %v, edges %v, counts %+v", doc.Components, doc.Batch.Edges, doc.Counts)
				}
			},
		},
		{
			name:     "relationship element not a string",
			doc:      `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a"}],"relationships":[{"spdxElementId":1,"relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-a"}]}`,
			warnPath: "relationships[0].spdxElementId",
		},
		{
			name:     "strings longer than graph takes",
			doc:      `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"` + strings.Repeat("n", 70000) + `","versionInfo":"` + strings.Repeat("v", 70000) + `","supplier":"Person: ` + strings.Repeat("s", 70000) + `","licenseDeclared":"` + strings.Repeat("l", 70000) + `"}]}`,
			warnPath: "",
		},
		{
			name:     "describes an element defined nowhere",
			doc:      `{"spdxVersion":"SPDX-2.3","name":"doc","documentDescribes":["SPDXRef-nothing"]}`,
			warnPath: "documentDescribes[0]",
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Subject == nil || doc.Subject.Name != "doc" {
					t.Errorf("subject %+v", doc.Subject)
				}
			},
		},
		{
			name:     "too many warnings",
			doc:      `{"spdxVersion":"SPDX-2.3","relationships":[` + strings.Repeat(`1,`, 700) + `1]}`,
			warnPath: "relationships[0]",
			check: func(t *testing.T, doc *ingest.Document) {
				if len(doc.Warnings) != 500 || doc.Warnings[499].Path != "" {
					t.Errorf("%d warnings, last %v", len(doc.Warnings), doc.Warnings[len(doc.Warnings)-1])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := spdx.Parse([]byte(tt.doc))
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
// ingesttest.CheckBatch, lists every component once and only nodes of the batch, and lists its
// subject.
func checkBatch(t testing.TB, doc *ingest.Document) {
	t.Helper()
	listed := ingesttest.CheckListed(t, doc, ingesttest.CheckBatch(t, doc))
	if s := doc.Subject; s != nil && s.Purl != "" && !listed[s.Purl] {
		t.Errorf("subject %s is not a listed component", s.Purl)
	}
}
