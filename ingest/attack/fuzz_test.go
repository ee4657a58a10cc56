package attack

import (
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation with Threat nodes only.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, sampleFolder, "*.json", 1<<20)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"objects":null}`, `{"type":"bundle","objects":[{}]}`,
		`{"type":"bundle","objects":[{"type":"attack-pattern","external_references":[{"source_name":"mitre-attack","external_id":"T1"}],"kill_chain_phases":[{"kill_chain_name":"mitre-x","phase_name":""}]},{"type":"course-of-action"}]} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			ingesttest.AsParseError(t, format, err)
			if doc != nil {
				t.Error("a document with an error")
			}
			return
		}
		ingesttest.CheckDoc(t, format, doc)
		for _, n := range doc.Batch.Nodes {
			if n.Label != graph.LabelThreat {
				t.Errorf("a %s node", n.Label)
			}
		}
	})
}
