package oscal

import (
	"slices"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// assuranceModel is a two-module case: G1 rests on two Solutions, on G2 (challenged by a
// defeater accepted as residual risk) and on an away Goal standing for G9 of module m2.
func assuranceModel(t *testing.T) *assurance.Model {
	t.Helper()
	var b assurance.Builder
	for _, e := range []assurance.Element{
		{ID: "G1", Kind: assurance.KindGoal, Module: "m1"},
		{ID: "G2", Kind: assurance.KindGoal, Module: "m1"},
		{ID: "AG9", Kind: assurance.KindGoal, Module: "m1", Away: &assurance.Ref{Module: "m2", ID: "G9"}},
		{ID: "G9", Kind: assurance.KindGoal, Module: "m2"},
		{ID: "Sn1", Kind: assurance.KindSolution, Module: "m1"},
		{ID: "Sn2", Kind: assurance.KindSolution, Module: "m1"},
		{ID: "Sn3", Kind: assurance.KindSolution, Module: "m1"},
		{ID: "Sn9", Kind: assurance.KindSolution, Module: "m2"},
	} {
		b.AddElement(e)
	}
	for _, l := range [][2]string{{"G1", "Sn1"}, {"G1", "Sn2"}, {"G1", "G2"}, {"G1", "AG9"}, {"G2", "Sn3"}, {"G9", "Sn9"}} {
		b.SupportedBy(l[0], l[1])
	}
	b.AddDefeater(assurance.Defeater{ID: "D1", Module: "m1", Kind: assurance.Rebutting, Challenges: []string{"G2"},
		Assessment: assurance.Assessment{State: assurance.AcceptedResidual, Severity: assurance.Severity{Level: assurance.LevelCritical, KEV: true},
			Acceptance: assurance.Acceptance{Approver: "alice", Rationale: "compensating control", Expires: gen.Add(30 * 24 * time.Hour)}}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// assuranceInput evaluates assuranceModel and completes FromAssurance's Input as a caller would.
func assuranceInput(t *testing.T) Input {
	t.Helper()
	m := assuranceModel(t)
	ev, err := assurance.NewEvaluator(m, assurance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pass := assurance.LeafResult{Confidence: 0.9, Expires: gen.Add(24 * time.Hour)}
	if err := ev.Set(assurance.Changes{Leaves: map[string]assurance.LeafResult{
		"Sn1": pass, "Sn3": pass, "Sn9": pass,
		"Sn2": {Reason: assurance.EvidenceFail, Culprits: []string{"ev-2"}},
	}}); err != nil {
		t.Fatal(err)
	}
	ev.Evaluate(gen)
	in := FromAssurance(m, ev.Results(), gen, nil)
	in.Case = Case{Twin: "t", ID: "c", Version: "1", Generated: gen}
	for i := range in.Elements {
		in.Elements[i].Text = "Text of " + in.Elements[i].ID
	}
	evidence := func(id, sol string, v Verdict) Evidence {
		return Evidence{ID: id, Kind: EvidenceTest, Solution: sol, Collected: gen.Add(-time.Hour), Verdict: v}
	}
	in.Evidence = []Evidence{evidence("ev-1", "Sn1", VerdictPass), evidence("ev-2", "Sn2", VerdictFail), evidence("ev-9", "Sn9", VerdictPass)}
	in.Coverage = map[string][]string{"G2": {"ac-2"}}
	return in
}

func TestFromAssurance(t *testing.T) {
	in := assuranceInput(t)
	if len(in.Elements) != 8 || len(in.Defeaters) != 1 || len(in.Results) != 9 {
		t.Fatalf("%d elements, %d defeaters, %d results; want 8, 1, 9", len(in.Elements), len(in.Defeaters), len(in.Results))
	}
	for _, e := range in.Elements {
		switch e.ID {
		case "G1":
			if !slices.Equal(e.SupportedBy, []string{"AG9", "G2", "Sn1", "Sn2"}) || e.Module != "m1" {
				t.Errorf("G1: %+v", e)
			}
		case "AG9":
			if e.AwayOf != "G9" {
				t.Errorf("AG9 stands for %q, want G9", e.AwayOf)
			}
		}
	}
	d := in.Defeaters[0]
	if d.State != assurance.AcceptedResidual || d.Acceptance.Approver != "alice" || !d.Severity.KEV || !slices.Equal(d.Challenges, []string{"G2"}) {
		t.Errorf("D1: %+v", d)
	}
	for _, r := range in.Results {
		if !r.StatusAt.Equal(gen) {
			t.Errorf("%s: status at %v", r.Element, r.StatusAt)
		}
		if r.Element == "D1" && (r.Label != assurance.Out || !r.Residual) {
			t.Errorf("D1 result: %+v", r)
		}
	}

	// The current triage overrides the model's initial one.
	m := assuranceModel(t)
	over := FromAssurance(m, nil, gen, map[string]assurance.Assessment{"D1": {State: assurance.Sustained}})
	if over.Defeaters[0].State != assurance.Sustained || over.Defeaters[0].Acceptance != (Acceptance{}) {
		t.Errorf("triage not applied: %+v", over.Defeaters[0])
	}

	dec := decode(t, mustExport(t, in))
	r := dec.AssessmentResults.Results[0]
	findings := map[string]finding{}
	for _, f := range r.Findings {
		findings[prop(f.Props, "claim-id")[0]] = f
	}
	if _, ok := findings["AG9"]; ok || len(findings) != 3 {
		t.Errorf("findings for %v, want G1, G2 and G9 (none for the away AG9)", slices.Sorted(func(y func(string) bool) {
			for k := range findings {
				y(k)
			}
		}))
	}
	g1 := findings["G1"]
	if g1.Target.Status.State != "not-satisfied" || g1.Target.Status.Reason != "fail" {
		t.Errorf("G1 target %+v", g1.Target.Status)
	}
	if len(g1.RelatedObservations) != 3 {
		t.Errorf("G1 relates %d observations, want 3 (ev-9 through the away Goal)", len(g1.RelatedObservations))
	}
	if c := prop(g1.Props, "culprit"); !slices.Equal(c, []string{"Sn2", "ev-2"}) {
		t.Errorf("G1 culprits %v", c)
	}
	g2 := findings["G2"]
	if g2.Target.TargetID != "ac-2" || g2.Target.Status.State != "satisfied" || len(g2.RelatedRisks) != 1 {
		t.Errorf("G2 finding %+v", g2)
	}
	if codes := prop(g2.Props, "reason"); !slices.Equal(codes, []string{"RESIDUAL_ACCEPTED"}) {
		t.Errorf("G2 reasons %v", codes)
	}
	var statuses []string
	for _, rk := range r.Risks {
		statuses = append(statuses, rk.Status)
	}
	if !slices.Equal(statuses, []string{"open", "deviation-approved"}) {
		t.Errorf("risk statuses %v", statuses)
	}
	if ro := r.Risks[0].RelatedObservations; len(ro) != 1 {
		t.Errorf("G1's risk relates %d observations, want 1 (ev-2)", len(ro))
	}
}
