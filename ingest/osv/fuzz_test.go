package osv

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse checks that Advisory never panics, fails only with a *ingest.ParseError, returns a
// batch that passes graph validation, and that Affects never panics on what it returns.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, sampleFolder, "*.json", 1<<20)
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"id":"x"}`, `{"id":"x","affected":null}`,
		`{"id":"x","affected":[{}],"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/"}]}`,
		`{"id":"CVE-2024-1","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],"affected":[{"package":{"ecosystem":"Alpine:v3.1","name":"a","purl":"pkg:apk/alpine/a@1"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0_rc1-r0"},{"last_affected":"x"}]}],"versions":["1"]}],"database_specific":{"cwe_ids":"CWE-1","severity":5}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, affected, err := Advisory(data)
		if err != nil {
			ingesttest.AsParseError(t, format, err)
			if doc != nil || affected != nil {
				t.Error("a document with an error")
			}
			return
		}
		ingesttest.CheckDoc(t, format, doc)
		for _, a := range affected {
			versions := append([]string{"0", "1.0.0", "1.0.2q-r0", "1:2.3-4", ""}, a.Versions...)
			for _, r := range a.Ranges {
				for _, e := range r.Events {
					versions = append(versions, e.Introduced, e.Fixed, e.LastAffected)
				}
			}
			for _, v := range versions {
				aff, fixed, ok := Affects(a, "", v)
				if !ok && (aff || fixed != "") || !aff && fixed != "" {
					t.Errorf("Affects(%q) = %v, %q, %v", v, aff, fixed, ok)
				}
				Affects(a, a.Purl, v)
				Affects(a, "pkg:generic/x@"+v, "")
			}
		}
	})
}
