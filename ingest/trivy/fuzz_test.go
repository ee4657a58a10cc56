package trivy

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation without duplicate keys or dangling edges.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, format, "*.json", 100<<10)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"SchemaVersion":2}`, `{"SchemaVersion":2,"Results":[{}]}`,
		`{"SchemaVersion":2,"ArtifactType":"container_image","Metadata":{"RepoDigests":["a@sha256:x"],"ImageConfig":{"config":{"Labels":{}}}}}`,
		`{"SchemaVersion":2,"Results":[{"Packages":[{"ID":"a","Name":"a","DependsOn":["a"]}],"Vulnerabilities":[{"VulnerabilityID":"x","PkgID":"a","FixedVersion":","}]}]}`} {
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
