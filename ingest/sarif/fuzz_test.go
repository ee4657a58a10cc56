package sarif

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation without duplicate keys or dangling edges.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, format, "*.json", 100<<10)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"runs":null}`, `{"runs":[{}]}`, `{"runs":[{"results":[{}]}]}`,
		`{"runs":[{"tool":{"driver":{"rules":[{}]}},"results":[{"ruleIndex":-1,"rule":{"index":99,"toolComponent":{"index":5}}}]}]}`} {
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
	})
}
