package grype

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
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"matches":null}`, `{"matches":[{}]}`,
		`{"matches":[],"source":{"type":"image","target":{"repoDigests":["a@sha256:x"],"manifestDigest":""}}}`,
		`{"matches":[{"vulnerability":{"id":"x","cvss":[{"version":"2","metrics":{"baseScore":"1"}}],"cvssV3":{},"epss":[{"epss":0}]},"relatedVulnerabilities":[{"id":"x","knownExploited":[{}]}],"artifact":{"name":"n","licenses":[{}]}}]}`} {
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
