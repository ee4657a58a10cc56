package assurancecase

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/ingest/gsn"
)

func TestApplyEdits(t *testing.T) {
	data, err := os.ReadFile("testdata/signals.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"signals.gsn.yaml": data}
	ptr := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	tests := []struct {
		name  string
		edits []Edit
		check func(t *testing.T, c *gsn.Case)
		bad   string // the element an error names
	}{
		{name: "no edit round-trips", check: func(t *testing.T, c *gsn.Case) {
			if len(c.Elements()) != 8 {
				t.Errorf("%d elements", len(c.Elements()))
			}
		}},
		{name: "add, link and describe", edits: []Edit{
			{ID: "Sn4", Text: ptr("a pen test"), Evidence: ptr(`{"kind":"attestation","subject":{"service":"traffic-signal"},"window":"365d","attestation":{"topic":"pentest"}}`)},
			{ID: "S1", SupportedBy: list("Sn1", "Sn2", "Sn4")},
			{ID: "C1", Text: ptr("deployed in the DMZ")},
		}, check: func(t *testing.T, c *gsn.Case) {
			sn4 := c.Element("Sn4")
			if sn4 == nil || sn4.Type != gsn.Solution || sn4.Text != "a pen test" {
				t.Fatalf("Sn4 %+v", sn4)
			}
			if v, ok := sn4.Layer(LayerEvidence); !ok || !strings.Contains(v.String()+string(must(v.MarshalJSON())), "pentest") {
				t.Errorf("Sn4 evidence %v", v)
			}
			if got := c.Element("S1").SupportedBy; len(got) != 3 || got[2] != "Sn4" {
				t.Errorf("S1 %v", got)
			}
			if c.Element("C1").Text != "deployed in the DMZ" {
				t.Errorf("C1 %q", c.Element("C1").Text)
			}
		}},
		{name: "clear a layer", edits: []Edit{{ID: "G1", About: list()}, {ID: "Sn2", Evidence: ptr("")}}, check: func(t *testing.T, c *gsn.Case) {
			if _, ok := c.Element("G1").Layer(LayerAbout); ok {
				t.Error("G1 still about something")
			}
			if _, ok := c.Element("Sn2").Layer(LayerEvidence); ok {
				t.Error("Sn2 still has evidence")
			}
		}},
		{name: "remove a leaf and its link", edits: []Edit{{ID: "S1", SupportedBy: list("Sn1")}, {ID: "Sn2", Remove: true}}, check: func(t *testing.T, c *gsn.Case) {
			if c.Element("Sn2") != nil {
				t.Error("Sn2 still there")
			}
		}},
		{name: "no type prefix", edits: []Edit{{ID: "Q1", Text: ptr("x")}}, bad: "Q1"},
		{name: "evidence not JSON", edits: []Edit{{ID: "Sn1", Evidence: ptr("kind: x")}}, bad: "Sn1"},
		{name: "remove a stranger", edits: []Edit{{ID: "G9", Remove: true}}, bad: "G9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ApplyEdits(files, tt.edits)
			if tt.bad != "" {
				var ee *ElementError
				if !errors.As(err, &ee) || ee.Element != tt.bad || !errors.Is(err, ErrBadCase) {
					t.Fatalf("got %v, want an error about %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := gsn.ParseSet(out)
			if err != nil {
				t.Fatalf("edited case does not parse: %v\n%s", err, out["signals.gsn.yaml"])
			}
			tt.check(t, c)
		})
	}
	// The input files are never changed.
	if string(files["signals.gsn.yaml"]) != string(data) {
		t.Error("ApplyEdits changed its input")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
