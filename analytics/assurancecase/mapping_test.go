package assurancecase_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/gsn"
)

func load(t *testing.T, files map[string][]byte) *gsn.Case {
	t.Helper()
	c, err := gsn.ParseSet(files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignalsCaseMapsToGraphAndModel(t *testing.T) {
	data, err := os.ReadFile("testdata/signals.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"signals.gsn.yaml": data}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	gc, err := assurancecase.FromGSN("city", "signals", "Traffic signals", load(t, files), files, "tester", now)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]graph.CaseElement{}
	for _, e := range gc.Elements {
		byID[e.ID] = e
	}
	if g := byID["G1"]; len(g.About) != 1 || g.About[0] != (graph.NodeRef{Label: graph.LabelService, Key: "traffic-signal"}) {
		t.Errorf("G1 about %+v", g.About)
	}
	if sn := byID["Sn1"]; !strings.Contains(sn.Evidence, `"kind":"no_open_vulns"`) {
		t.Errorf("Sn1 evidence %q", sn.Evidence)
	}
	cg := byID["CG1"]
	if cg.Type != assurancecase.TypeDefeater || cg.Defeater == nil || cg.Defeater.Kind != "rebutting" || !cg.Defeater.KEV ||
		cg.Defeater.Severity != "critical" || len(cg.Challenges) != 1 || cg.Challenges[0] != "G1" {
		t.Errorf("CG1 %+v %+v", cg, cg.Defeater)
	}
	if cg2 := byID["CG2"]; cg2.Type != "Goal" || len(cg2.Refutes) != 1 || cg2.Refutes[0] != "CG1" {
		t.Errorf("CG2 (a refutation claim) %+v", cg2)
	}
	if gc.SourceHash == "" || !strings.Contains(gc.Source, "signals.gsn.yaml") {
		t.Error("the source is not kept")
	}
	m, err := assurancecase.ToModel(gc)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.Defeater("CG1")
	if !ok || d.Kind != assurance.Rebutting || len(d.RefutedBy) != 1 || d.RefutedBy[0] != "CG2" || !d.Assessment.Severity.KEV {
		t.Errorf("model defeater %+v", d)
	}
	if got := m.SupportedBy("S1"); len(got) != 2 {
		t.Errorf("S1 supported by %v", got)
	}
	// The open KEV defeater undermines G1 until it is refuted.
	ev, err := assurance.NewEvaluator(m, assurance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pass := assurance.LeafResult{Status: assurance.Supported, Confidence: 1, Expires: now.Add(time.Hour)}
	if err := ev.Set(assurance.Changes{Leaves: map[string]assurance.LeafResult{"Sn1": pass, "Sn2": pass}}); err != nil {
		t.Fatal(err)
	}
	ev.Evaluate(now)
	if r, _ := ev.Result("G1"); r.Status != assurance.Undermined {
		t.Errorf("G1 with an open KEV defeater: %v %v", r.Status, r.Reasons)
	}
}

func TestBadLayersNameTheElement(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"G1:\n  text: g\n  supportedBy: [Sn1]\n  sectwinAbout: [Nothing/x]\nSn1:\n  text: s\n", "element G1: sectwinAbout"},
		{"G1:\n  text: g\n  supportedBy: [Sn1]\n  sectwinMode: SOME\nSn1:\n  text: s\n", "element G1: sectwinMode"},
		{"G1:\n  text: g\n  supportedBy: [Sn1]\nSn1:\n  text: s\n  sectwinEvidence: just text\n", "element Sn1: sectwinEvidence"},
		{"G1:\n  text: g\n  supportedBy: [Sn1]\nSn1:\n  text: s\nCG1:\n  text: c\n  challenges: G1\n  sectwinDefeater: {kind: sideways}\n", "element CG1: sectwinDefeater"},
		{"G1:\n  text: g\n  supportedBy: [Sn1]\nSn1:\n  text: s\nCG1:\n  text: c\n  challenges: G1\n  sectwinDefeater: {state: ACCEPTED_RESIDUAL}\n", "approver"},
	}
	for _, tt := range tests {
		files := map[string][]byte{"c.gsn.yaml": []byte(tt.yaml)}
		_, err := assurancecase.FromGSN("t", "c", "c", load(t, files), files, "", time.Now())
		if !errors.Is(err, assurancecase.ErrBadCase) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error with %q", tt.yaml, err, tt.want)
		}
	}
}
