package trivy

import (
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, fails only with a *ingest.ParseError, and that what
// it returns always passes graph validation without duplicate keys or dangling edges.
func FuzzParse(f *testing.F) {
	for _, file := range testdataFiles(f) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	if dir := samplesDir(); dir != "" {
		files, _ := os.ReadDir(dir)
		for _, e := range files {
			if info, err := e.Info(); err == nil && !e.IsDir() && info.Size() <= 100<<10 {
				if data, err := os.ReadFile(dir + "/" + e.Name()); err == nil {
					f.Add(data)
				}
			}
		}
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"SchemaVersion":2}`, `{"SchemaVersion":2,"Results":[{}]}`,
		`{"SchemaVersion":2,"ArtifactType":"container_image","Metadata":{"RepoDigests":["a@sha256:x"],"ImageConfig":{"config":{"Labels":{}}}}}`,
		`{"SchemaVersion":2,"Results":[{"Packages":[{"ID":"a","Name":"a","DependsOn":["a"]}],"Vulnerabilities":[{"VulnerabilityID":"x","PkgID":"a","FixedVersion":","}]}]}`} {
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
		checkPurls(t, doc)
	})
}
