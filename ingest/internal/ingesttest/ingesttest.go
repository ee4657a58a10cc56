// Package ingesttest holds the test helpers of the ingest parsers: the checks every parsed
// document must pass, lookups into its batch, and the fixtures and shared samples to read.
package ingesttest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/purl"
)

// CheckBatch checks what every parsed batch must satisfy: it passes graph validation, holds no
// node twice and no edge twice, and every edge joins nodes of the batch. It returns the nodes
// of the batch.
func CheckBatch(t testing.TB, doc *ingest.Document) map[graph.NodeRef]bool {
	t.Helper()
	if doc == nil {
		t.Fatal("nil document without an error")
	}
	if err := doc.Batch.Validate(); err != nil {
		t.Fatalf("batch does not validate: %v", err)
	}
	nodes := map[graph.NodeRef]bool{}
	for _, n := range doc.Batch.Nodes {
		r := graph.NodeRef{Label: n.Label, Key: n.Key}
		if nodes[r] {
			t.Errorf("node %s appears twice", r)
		}
		nodes[r] = true
	}
	type ek struct {
		typ      string
		from, to graph.NodeRef
	}
	edges := map[ek]bool{}
	for _, e := range doc.Batch.Edges {
		if !nodes[e.From] || !nodes[e.To] {
			t.Errorf("%s edge %s → %s: an endpoint is not in the batch", e.Type, e.From, e.To)
		}
		k := ek{e.Type, e.From, e.To}
		if edges[k] {
			t.Errorf("%s edge %s → %s appears twice", e.Type, e.From, e.To)
		}
		edges[k] = true
	}
	return nodes
}

// CheckDoc checks what every document of a scanner-report parser must satisfy: it is of
// format, its batch passes CheckBatch and deletes nothing, and Components lists exactly the
// Component nodes.
func CheckDoc(t testing.TB, format string, doc *ingest.Document) {
	t.Helper()
	CheckBatch(t, doc)
	if doc.Format != format {
		t.Errorf("Format = %q, want %q", doc.Format, format)
	}
	var comps []string
	for _, n := range doc.Batch.Nodes {
		if n.Label == graph.LabelComponent {
			comps = append(comps, n.Key)
		}
	}
	got := slices.Sorted(slices.Values(doc.Components))
	slices.Sort(comps)
	if !slices.Equal(got, comps) {
		t.Errorf("Components = %v, want the Component nodes %v", got, comps)
	}
	if len(doc.Batch.DeleteEdges)+len(doc.Batch.DeleteNodes) > 0 {
		t.Error("a parser deletes nothing")
	}
}

// CheckListed checks that Components lists every component once, and only Component nodes of
// the batch. It returns the listed keys.
func CheckListed(t testing.TB, doc *ingest.Document, nodes map[graph.NodeRef]bool) map[string]bool {
	t.Helper()
	listed := map[string]bool{}
	for _, c := range doc.Components {
		if listed[c] {
			t.Errorf("component %s listed twice", c)
		}
		listed[c] = true
		if !nodes[graph.NodeRef{Label: graph.LabelComponent, Key: c}] {
			t.Errorf("component %s is not in the batch", c)
		}
	}
	return listed
}

// CheckPurls checks that every Component key is a purl in its canonical form (purl.Normalize).
func CheckPurls(t testing.TB, doc *ingest.Document) {
	t.Helper()
	for _, n := range doc.Batch.Nodes {
		if n.Label != graph.LabelComponent {
			continue
		}
		if p, err := purl.Normalize(n.Key); err != nil || p != n.Key {
			t.Errorf("component key %q is not a canonical purl: %q, %v", n.Key, p, err)
		}
	}
}

// ReadFile reads the file at path, failing the test when it cannot.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// ParseFile parses the file at path with parse, failing the test on any error.
func ParseFile(t testing.TB, parse func([]byte) (*ingest.Document, error), path string) *ingest.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// NodesOf returns the properties of the nodes of a label by key.
func NodesOf(doc *ingest.Document, label string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, n := range doc.Batch.Nodes {
		if n.Label == label {
			out[n.Key] = n.Props
		}
	}
	return out
}

// EdgesOf returns the properties of the edges of a type by "from → to" keys.
func EdgesOf(doc *ingest.Document, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range doc.Batch.Edges {
		if e.Type == typ {
			out[e.From.Key+" → "+e.To.Key] = e.Props
		}
	}
	return out
}

// WarningPaths lists the paths of a document's warnings, in order.
func WarningPaths(doc *ingest.Document) []string {
	var out []string
	for _, w := range doc.Warnings {
		out = append(out, w.Path)
	}
	return out
}

// SameProps compares property maps: the same keys, equal values, lists by content.
func SameProps(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if wl, isList := w.([]string); isList {
			gl, _ := g.([]string)
			if !slices.Equal(gl, wl) {
				return false
			}
			continue
		}
		if g != w {
			return false
		}
	}
	return true
}

// CheckProps checks that got has the properties of want (and maybe more), lists by content.
func CheckProps(t testing.TB, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch wv := w.(type) {
		case []string:
			gv, _ := g.([]string)
			if !slices.Equal(gv, wv) {
				t.Errorf("%s: %s = %v, want %v", what, k, g, w)
			}
		default:
			if !ok || g != w {
				t.Errorf("%s: %s = %v, want %v", what, k, g, w)
			}
		}
	}
}

// AsParseError returns err as a *ingest.ParseError of format, failing the test when it is not
// one.
func AsParseError(t testing.TB, format string, err error) *ingest.ParseError {
	t.Helper()
	var pe *ingest.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ingest.ParseError", err, err)
	}
	if pe.Format != format {
		t.Errorf("ParseError.Format = %q, want %q", pe.Format, format)
	}
	return pe
}

// CheckParseError checks that err is a *ingest.ParseError of format at the line, column and
// path given (0, 0, "" when unknown), whose text says says.
func CheckParseError(t testing.TB, format string, err error, line, col int, path, says string) {
	t.Helper()
	pe := AsParseError(t, format, err)
	if pe.Line != line || pe.Column != col || pe.Path != path {
		t.Errorf("at line %d, column %d, path %q; want %d, %d, %q (%v)", pe.Line, pe.Column, pe.Path, line, col, path, err)
	}
	if !strings.Contains(pe.Error(), says) {
		t.Errorf("%q does not say %q", pe.Error(), says)
	}
}

// SamplesDir is where the shared sample corpus of a format lives: $SECTWIN_SAMPLES or
// ../shared/samples beside the repository (seen from a parser's package folder), in a folder
// named after the format.
func SamplesDir(format string) string {
	root := os.Getenv("SECTWIN_SAMPLES")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "samples")
	}
	return filepath.Join(root, format)
}

// SampleFiles lists the shared samples of a format; none when the corpus is not there.
func SampleFiles(format string) []string {
	files, _ := filepath.Glob(filepath.Join(SamplesDir(format), "*"))
	return slices.DeleteFunc(files, func(f string) bool {
		st, err := os.Stat(f)
		return err != nil || st.IsDir()
	})
}

// Samples lists the shared samples of a format, skipping the test when there are none.
func Samples(t testing.TB, format string) []string {
	t.Helper()
	files := SampleFiles(format)
	if len(files) == 0 {
		t.Skipf("no shared samples in %s (set SECTWIN_SAMPLES to the samples folder): corpus checks skipped",
			SamplesDir(format))
	}
	return files
}

// TestdataFiles lists the package's own fixtures, testdata/*.json.
func TestdataFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	return files
}

// AddSeeds adds a format's fixtures (the files of testdata matching the glob pattern
// fixtures, of which there must be some) and its shared samples of at most maxSize bytes (any
// size when maxSize is 0) to a fuzz target's seed corpus.
func AddSeeds(f *testing.F, format, fixtures string, maxSize int64) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", fixtures))
	if len(files) == 0 {
		f.Fatal("no fixtures in testdata")
	}
	for _, file := range append(files, SampleFiles(format)...) {
		st, err := os.Stat(file)
		if err != nil || maxSize > 0 && st.Size() > maxSize {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
