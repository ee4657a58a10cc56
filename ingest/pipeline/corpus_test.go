package pipeline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/formats"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/pipeline"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestCorpusIngestsToDone sends every shared sample of a supported format through the whole
// pipeline into a twin of its own, and checks the graph holds exactly what the parsed document
// declares: its nodes by label and its edges by type.
func TestCorpusIngestsToDone(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "samples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no shared samples at %s: the corpus tests run where they exist (CI has them)", root)
	}
	e := start(t, 2)
	n := 0
	for _, format := range formats.Supported() {
		dir := map[string]string{ingest.FormatATTACK: "attack-stix"}[format]
		if dir == "" {
			dir = format
		}
		files, _ := filepath.Glob(filepath.Join(root, dir, "*"))
		for _, f := range files {
			t.Run(format+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				doc, err := formats.Parse(format, data)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				twin := testenv.Twin(t, e.db)
				job := e.submit(t, data, pipeline.Submission{Twin: twin, Format: format})
				if job.State != jobs.Done {
					t.Fatalf("job %s: %+v", job.State, job.Errors)
				}
				batch, _ := pipeline.Assemble(doc, "")
				wantNodes, wantEdges := map[string]int{}, map[string]int{}
				seen := map[string]bool{}
				for _, r := range batch.Nodes {
					if k := r.Label + "\x00" + r.Key; !seen[k] {
						seen[k] = true
						wantNodes[r.Label]++
					}
				}
				for _, r := range batch.Edges {
					wantEdges[r.Type]++ // parsers and Assemble never repeat an edge
				}
				st, err := e.db.Stats(t.Context(), twin)
				if err != nil {
					t.Fatal(err)
				}
				for l, c := range wantNodes {
					if st.Nodes[l] != c {
						t.Errorf("%s: %d in the graph, %d in the document", l, st.Nodes[l], c)
					}
				}
				for typ, c := range wantEdges {
					if st.Edges[typ] != c {
						t.Errorf("%s: %d in the graph, %d in the document", typ, st.Edges[typ], c)
					}
				}
				if st.TotalNodes() != len(seen) {
					t.Errorf("the graph holds %d nodes, the document %d", st.TotalNodes(), len(seen))
				}
			})
			n++
		}
	}
	t.Logf("%d samples ingested", n)
	if n < 30 {
		t.Errorf("only %d samples found", n)
	}
}
