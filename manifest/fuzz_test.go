package manifest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/manifest"
)

// FuzzParse: Parse never panics; it returns either a manifest whose batch passes the model's
// validation, or an *Error whose problems all name the file and have sane positions. The seed
// corpus is in testdata/fuzz/FuzzParse (the example and broken manifests) plus the seeds below.
func FuzzParse(f *testing.F) {
	f.Add([]byte(head + "  zones: [{name: a, internet: true}]\n  services: [{name: s, zone: a, exposes: [{zone: a, port: 443}]}]\n"))
	f.Add([]byte(head + "  reaches: [{from: {zone: a}, to: {zone: a}, port: 1}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("%YAML 1.2\n---\n!!map {? a : b}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse("fuzz.yaml", data)
		if err == nil {
			if m == nil {
				t.Fatal("no manifest and no error")
			}
			if err := m.Batch().Validate(); err != nil {
				t.Fatalf("Parse accepted a manifest whose batch fails validation: %v\n%q", err, data)
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("Parse accepted a manifest that Validate rejects: %v\n%q", err, data)
			}
			if !manifest.ValidName(m.Metadata.Name) || !manifest.ValidName(m.TwinName()) {
				t.Fatalf("accepted names %q, %q", m.Metadata.Name, m.TwinName())
			}
			return
		}
		if m != nil {
			t.Fatal("a manifest and an error")
		}
		var me *manifest.Error
		if !errors.As(err, &me) || len(me.Problems) == 0 {
			t.Fatalf("err = %v (%T), want an *Error with problems", err, err)
		}
		// An upper bound of YAML's line count: it also breaks lines at \r, NEL, LS and PS.
		lines := 2
		for _, br := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += strings.Count(string(data), br)
		}
		for _, p := range me.Problems {
			if p.File != "fuzz.yaml" || p.Line < 0 || p.Line > lines || p.Column < 0 || p.Message == "" {
				t.Fatalf("bad problem %+v for %q", p, data)
			}
		}
		_ = err.Error()
	})
}
