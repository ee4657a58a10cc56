package openvex

import "testing"

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation without duplicate keys or dangling edges.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"statements":null}`, `{"statements":[{}]}`,
		`{"@context":"openvex","statements":[{"vulnerability":{"name":"a","aliases":["a","b"]},"products":[{"@id":"x","identifiers":{"purl":"pkg:npm/a@1"},"subcomponents":["pkg:npm/b"]}],"subcomponents":[1],"status":"Not Affected","justification":"x"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			asParseError(t, err)
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
