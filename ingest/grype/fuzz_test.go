package grype

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation without duplicate keys or dangling edges.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, format, "*.json", 100<<10)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"matches":null}`, `{"matches":[{}]}`,
		`{"matches":[],"source":{"type":"image","target":{"repoDigests":["a@sha256:x"],"manifestDigest":""}}}`,
		`{"matches":[{"vulnerability":{"id":"x","cvss":[{"version":"2","metrics":{"baseScore":"1"}}],"cvssV3":{},"epss":[{"epss":0}]},"relatedVulnerabilities":[{"id":"x","knownExploited":[{}]}],"artifact":{"name":"n","licenses":[{}]}}]}`} {
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
		ingesttest.CheckPurls(t, doc)
	})
}
