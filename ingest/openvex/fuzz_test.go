package openvex

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation without duplicate keys or dangling edges.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, sampleFolder, "*.json", 1<<20)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"statements":null}`, `{"statements":[{}]}`,
		`{"@context":"openvex","statements":[{"vulnerability":{"name":"a","aliases":["a","b"]},"products":[{"@id":"x","identifiers":{"purl":"pkg:npm/a@1"},"subcomponents":["pkg:npm/b"]}],"subcomponents":[1],"status":"Not Affected","justification":"x"}]}`} {
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
		checkDoc(t, doc)
		for _, e := range doc.Batch.Edges {
			if s, _ := e.Props["status"].(string); !statuses[s] {
				t.Errorf("edge %v with status %q", e, s)
			}
		}
	})
}
