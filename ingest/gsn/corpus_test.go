package gsn

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir holds real gsn2x files published by others (see /work/shared/samples/SOURCES.md).
// They are read in place, never copied into the repository.
const corpusDir = "../../../shared/samples/gsn"

// corpus returns the sample files by path relative to corpusDir, grouped by directory: files in a
// sub-folder belong together (a modular case).
func corpus(t *testing.T) map[string]map[string][]byte {
	t.Helper()
	if _, err := os.Stat(corpusDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no sample corpus at %s", corpusDir)
	}
	sets := map[string]map[string][]byte{}
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml") {
			return err
		}
		rel, err := filepath.Rel(corpusDir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dir := filepath.Dir(rel)
		if sets[dir] == nil {
			sets[dir] = map[string][]byte{}
		}
		sets[dir][filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) == 0 {
		t.Fatalf("no sample files under %s", corpusDir)
	}
	return sets
}

// TestCorpusRoundTrip: every sample file parses, exports, parses back to an equal model, and
// exports to the same bytes again.
func TestCorpusRoundTrip(t *testing.T) {
	n := 0
	for _, set := range corpus(t) {
		for name, data := range set {
			t.Run(name, func(t *testing.T) {
				assertRoundTrip(t, name, data)
			})
			n++
		}
	}
	t.Logf("%d sample files round-trip", n)
}

// TestCorpusValidates: each top-level sample is a valid case on its own and each sub-folder a
// valid modular case, as gsn2x finds them; the warnings are the ones gsn2x gives.
func TestCorpusValidates(t *testing.T) {
	wantWarnings := map[string][]string{} // every sample is clean
	for dir, set := range corpus(t) {
		var groups []map[string][]byte
		if dir == "." {
			for name, data := range set {
				groups = append(groups, map[string][]byte{name: data})
			}
		} else {
			groups = append(groups, set)
		}
		for _, g := range groups {
			names := make([]string, 0, len(g))
			for n := range g {
				names = append(names, n)
			}
			sort.Strings(names)
			label := strings.Join(names, "+")
			t.Run(label, func(t *testing.T) {
				for name, data := range g { // each file on its own, as gsn2x validates single files
					m, err := Parse(name, data)
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range m.Validate(Options{ExtendedCheck: true}) {
						t.Errorf("%s: %s", name, d)
					}
				}
				c, err := ParseSetOptions(g, Options{ExtendedCheck: true})
				if err != nil {
					t.Fatalf("ParseSet: %v", err)
				}
				var got []string
				for _, w := range c.Warnings {
					got = append(got, w.String())
				}
				if strings.Join(got, "\n") != strings.Join(wantWarnings[label], "\n") {
					t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantWarnings[label], "\n"))
				}
				if len(c.Roots()) != 1 || c.Element(c.Roots()[0]).Type != Goal {
					t.Errorf("roots %v, want one goal", c.Roots())
				}
			})
		}
	}
}

// TestCorpusRenders: every sample case renders to well-formed SVG naming all its elements.
func TestCorpusRenders(t *testing.T) {
	requireDot(t)
	for dir, set := range corpus(t) {
		var groups []map[string][]byte
		if dir == "." {
			for name, data := range set {
				groups = append(groups, map[string][]byte{name: data})
			}
		} else {
			groups = append(groups, set)
		}
		for _, g := range groups {
			c, err := ParseSet(g)
			if err != nil {
				t.Fatal(err)
			}
			svg, err := RenderSVG(context.Background(), c, RenderOptions{Legend: true})
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, svg)
			for _, e := range c.Elements() {
				if !bytes.Contains([]byte(doc.text), []byte(e.ID)) {
					t.Errorf("SVG lacks element %s", e.ID)
				}
			}
		}
	}
}

// assertRoundTrip checks parse → export → parse gives an equal model and export → parse → export
// the same bytes.
func assertRoundTrip(t *testing.T, name string, data []byte) {
	t.Helper()
	m1, err := Parse(name, data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	out1, err := Export(m1, nil)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	m2, err := Parse(name, out1)
	if err != nil {
		t.Fatalf("Parse of the export: %v\n%s", err, out1)
	}
	if !m1.Equal(m2) {
		t.Fatalf("the export parses to a different model\nexport:\n%s", out1)
	}
	out2, err := Export(m2, nil)
	if err != nil {
		t.Fatalf("second Export: %v", err)
	}
	if !bytes.Equal(out1, out2) {
		t.Fatalf("second export differs\nfirst:\n%s\nsecond:\n%s", out1, out2)
	}
}
