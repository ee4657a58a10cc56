package gsn

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts exports, parses back to an equal model and
// exports to the same bytes; validation, JSON and DOT never panic on it. The seed corpus in
// testdata/fuzz/FuzzParse is made from the fixtures.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.gsn.yaml"
		m, err := Parse(name, data)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || len(perr.Errors()) == 0 {
				t.Fatalf("Parse failed without diagnostics: %v", err)
			}
			return
		}
		out1, err := Export(m, nil)
		if err != nil {
			t.Fatalf("Export: %v", err)
		}
		m2, err := Parse(name, out1)
		if err != nil {
			t.Fatalf("the export does not parse: %v\ninput:\n%q\nexport:\n%s", err, data, out1)
		}
		if !m.Equal(m2) {
			t.Fatalf("the export parses to another model\ninput:\n%q\nexport:\n%s", data, out1)
		}
		out2, err := Export(m2, nil)
		if err != nil || !bytes.Equal(out1, out2) {
			t.Fatalf("export is not stable (%v)\nfirst:\n%s\nsecond:\n%s", err, out1, out2)
		}

		// Annotated, the export still parses.
		ann := Annotations{}
		for _, e := range m.Elements {
			ann[e.ID] = Annotation{Status: StatusUnknown, Reasons: []string{"EVIDENCE_MISSING", e.ID}}
		}
		annotated, err := Export(m, ann)
		if err != nil {
			t.Fatalf("annotated Export: %v", err)
		}
		if _, err := Parse(name, annotated); err != nil {
			t.Fatalf("the annotated export does not parse: %v\n%s", err, annotated)
		}

		m.Validate(Options{ExtendedCheck: true, WarnDialectic: true})
		c, err := NewCase([]*Module{m}, Options{})
		if err != nil {
			return
		}
		js, err := c.JSON(ann)
		if err != nil || !json.Valid(js) {
			t.Fatalf("JSON: %v\n%s", err, js)
		}
		if _, err := DOT(c, RenderOptions{Legend: true, Annotations: ann}); err != nil {
			t.Fatalf("DOT: %v", err)
		}
	})
}
