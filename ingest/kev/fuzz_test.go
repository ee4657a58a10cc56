package kev

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation with every vulnerability marked kev.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, sampleFolder, "*.json", 1<<20)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"vulnerabilities":null}`, `{"vulnerabilities":[{}]}`,
		`{"catalogVersion":"x","count":1,"vulnerabilities":[{"cveID":"cve-1-1","cwes":["CWE-1",2,"NVD-CWE-Other"]},{"cveID":"CVE-1-1","vulnerabilityName":"n"}]}`} {
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
			if n.Props["kev"] != true {
				t.Errorf("node %s %s without kev", n.Label, n.Key)
			}
		}
	})
}
