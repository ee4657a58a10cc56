package kev

// This file is kept identical in ingest/osv, ingest/openvex, ingest/kev and ingest/attack (but
// for the package clause); each package's corpus test names its sample folder (sampleFolder).

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
// no node key is repeated, every edge joins nodes of the batch, Components lists Component nodes
// only, once each, and nothing is deleted.
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
	seen := map[string]bool{}
	for _, c := range doc.Components {
		if seen[c] || !nodes[graph.NodeRef{Label: graph.LabelComponent, Key: c}] {
			t.Errorf("Components lists %q twice or without its node", c)
		}
		seen[c] = true
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

// warningPaths lists the paths of a document's warnings, in order.
func warningPaths(doc *ingest.Document) []string {
	var out []string
	for _, w := range doc.Warnings {
		out = append(out, w.Path)
	}
	return out
}

// sameProps compares property maps, lists by content.
func sameProps(got, want map[string]any) bool {
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

// samplesDir is where the shared samples of this format live: $SECTWIN_SAMPLES or
// ../shared/samples beside the repository, in the folder sampleFolder.
func samplesDir() string {
	root := os.Getenv("SECTWIN_SAMPLES")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "samples")
	}
	return filepath.Join(root, sampleFolder)
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

// readFile reads a file, failing the test when it cannot.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fuzzSeeds adds this package's fixtures and the samples of at most maxSeed bytes to a fuzz
// corpus: bigger samples slow every fuzz iteration down, and the corpus test reads them anyway.
func fuzzSeeds(f *testing.F) {
	const maxSeed = 1 << 20
	files := testdataFiles(f)
	if dir := samplesDir(); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, more...)
	}
	for _, file := range files {
		if st, err := os.Stat(file); err != nil || st.IsDir() || st.Size() > maxSeed {
			continue
		}
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
}
