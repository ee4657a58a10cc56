package grype

// This file is kept identical in ingest/sarif, ingest/trivy and ingest/grype (but for the package
// clause).

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
)

// checkDoc checks what every parsed document must satisfy: its batch passes graph validation,
// no node key is repeated, every edge joins nodes of the batch, and Components lists exactly the
// Component nodes.
func checkDoc(t testing.TB, doc *ingest.Document) {
	t.Helper()
	if doc == nil {
		t.Fatal("nil document without an error")
	}
	if doc.Format != format {
		t.Errorf("Format = %q, want %q", doc.Format, format)
	}
	if err := doc.Batch.Validate(); err != nil {
		t.Fatalf("batch does not validate: %v", err)
	}
	nodes := map[graph.NodeRef]bool{}
	var comps []string
	for _, n := range doc.Batch.Nodes {
		r := graph.NodeRef{Label: n.Label, Key: n.Key}
		if nodes[r] {
			t.Errorf("node %s appears twice", r)
		}
		nodes[r] = true
		if n.Label == graph.LabelComponent {
			comps = append(comps, n.Key)
		}
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
	got := slices.Sorted(slices.Values(doc.Components))
	slices.Sort(comps)
	if !slices.Equal(got, comps) {
		t.Errorf("Components = %v, want the Component nodes %v", got, comps)
	}
	if len(doc.Batch.DeleteEdges)+len(doc.Batch.DeleteNodes) > 0 {
		t.Error("a parser deletes nothing")
	}
}

// nodesOf returns the nodes of a label by key.
func nodesOf(doc *ingest.Document, label string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, n := range doc.Batch.Nodes {
		if n.Label == label {
			out[n.Key] = n.Props
		}
	}
	return out
}

// edgesOf returns the edges of a type by "from → to" keys.
func edgesOf(doc *ingest.Document, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range doc.Batch.Edges {
		if e.Type == typ {
			out[e.From.Key+" → "+e.To.Key] = e.Props
		}
	}
	return out
}

// asParseError returns err as a *ingest.ParseError, failing the test when it is not one.
func asParseError(t testing.TB, err error) *ingest.ParseError {
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

// samplesDir is where the shared sample corpus of this format lives: $SECTWIN_SAMPLES or
// ../shared/samples beside the repository, in a folder named after the format.
func samplesDir() string {
	root := os.Getenv("SECTWIN_SAMPLES")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "samples")
	}
	return filepath.Join(root, format)
}

// samples lists the shared samples of this format, skipping the test when there are none.
func samples(t testing.TB) []string {
	t.Helper()
	dir := samplesDir()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	files = slices.DeleteFunc(files, func(f string) bool {
		st, err := os.Stat(f)
		return err != nil || st.IsDir()
	})
	if len(files) == 0 {
		t.Skipf("no shared samples in %s (set SECTWIN_SAMPLES to the samples folder): corpus checks skipped", dir)
	}
	return files
}

// testdataFiles lists this package's own fixtures.
func testdataFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	return files
}
