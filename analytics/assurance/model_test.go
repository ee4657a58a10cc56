package assurance

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBuildValidation(t *testing.T) {
	tests := []struct {
		name  string
		model string
		extra func(b *Builder)
		want  []string // "ELEMENT RULE", sorted like the errors
	}{
		{name: "valid", model: "goal G1 > S1 @ C1\nstr S1 > G2 Sn2\ngoal G2 > Sn1\nsol Sn1\nsol Sn2\nctx C1"},
		{name: "duplicate id", model: "goal G1\nsol G1", want: []string{"G1 id"}},
		{name: "duplicate id across defeater", model: "goal G1\ndef G1 rebutting on G1", want: []string{"G1 id"}},
		{name: "empty id", extra: func(b *Builder) { b.AddElement(Element{Kind: KindGoal}) }, want: []string{"element #0 id"}},
		{name: "empty defeater id", model: "goal G1", extra: func(b *Builder) { b.AddDefeater(Defeater{Kind: Rebutting, Challenges: []string{"G1"}}) }, want: []string{"defeater #0 id"}},
		{name: "unknown kind", extra: func(b *Builder) { b.AddElement(Element{ID: "X", Kind: 42}) }, want: []string{"X kind"}},
		{name: "defeater as element", extra: func(b *Builder) { b.AddElement(Element{ID: "X", Kind: KindDefeater}) }, want: []string{"X kind"}},
		{name: "dangling child", model: "goal G1 > G2", want: []string{"G1 dangling-reference"}},
		{name: "dangling parent", model: "goal G1", extra: func(b *Builder) { b.SupportedBy("G0", "G1") }, want: []string{"G0 dangling-reference"}},
		{name: "dangling context", model: "goal G1 @ C1", want: []string{"G1 dangling-reference"}},
		{name: "dangling challenge", model: "def D1 rebutting on G9", want: []string{"D1 dangling-reference"}},
		{name: "dangling refuter", model: "goal G1\ndef D1 rebutting on G1 by R9", want: []string{"D1 dangling-reference"}},
		{name: "solution supported", model: "sol Sn1 > Sn2\nsol Sn2", want: []string{"Sn1 link-type"}},
		{name: "context supports", model: "goal G1 > C1\nctx C1", want: []string{"G1 link-type"}},
		{name: "context of context", model: "goal G1 undeveloped @ C1\nctx C1 @ C2\nctx C2", want: []string{"C1 link-type"}},
		{name: "goal as context", model: "goal G1 undeveloped @ G2\ngoal G2 undeveloped", want: []string{"G1 link-type"}},
		{name: "solution in context", model: "sol Sn1 @ C1\nctx C1", want: []string{"Sn1 link-type"}},
		{name: "self support", model: "goal G1 > G1", want: []string{"G1 link-type"}},
		{name: "duplicate link", model: "goal G1 > Sn1 Sn1\nsol Sn1", want: []string{"G1 link-type"}},
		{name: "duplicate context", model: "goal G1 > Sn1 @ C1 C1\nsol Sn1\nctx C1", want: []string{"G1 link-type"}},
		{name: "challenge a context", model: "ctx C1\ndef D1 rebutting on C1", want: []string{"D1 link-type"}},
		{name: "refuted by a context", model: "goal G1\nctx C1\ndef D1 rebutting on G1 by C1", want: []string{"D1 link-type"}},
		{name: "challenge twice", model: "goal G1\ndef D1 rebutting on G1 G1", want: []string{"D1 link-type"}},
		{name: "defeater on defeater", model: "goal G1\ndef D1 rebutting on G1\ndef D2 rebutting on D1", want: []string{"D2 link-type"}},
		{name: "challenges nothing", model: "def D1 rebutting", want: []string{"D1 defeater"}},
		{name: "unknown defeater kind", model: "goal G1", extra: func(b *Builder) { b.AddDefeater(Defeater{ID: "D1", Challenges: []string{"G1"}}) }, want: []string{"D1 kind"}},
		{name: "residual without approver", model: "goal G1", extra: func(b *Builder) {
			b.AddDefeater(Defeater{ID: "D1", Kind: Rebutting, Challenges: []string{"G1"},
				Assessment: Assessment{State: AcceptedResidual, Acceptance: Acceptance{Rationale: "r", Expires: t0}}})
		}, want: []string{"D1 defeater"}},
		{name: "residual without expiry", model: "goal G1", extra: func(b *Builder) {
			b.AddDefeater(Defeater{ID: "D1", Kind: Rebutting, Challenges: []string{"G1"},
				Assessment: Assessment{State: AcceptedResidual, Acceptance: Acceptance{Approver: "a", Rationale: "r"}}})
		}, want: []string{"D1 defeater"}},
		{name: "probability NaN", model: "goal G1", extra: func(b *Builder) {
			b.AddDefeater(Defeater{ID: "D1", Kind: Rebutting, Challenges: []string{"G1"}, Assessment: Assessment{Probability: math.NaN()}})
		}, want: []string{"D1 defeater"}},
		{name: "probability above 1", model: "goal G1", extra: func(b *Builder) {
			b.AddDefeater(Defeater{ID: "D1", Kind: Rebutting, Challenges: []string{"G1"}, Assessment: Assessment{Probability: 1.5}})
		}, want: []string{"D1 defeater"}},
		{name: "unknown state and level", model: "goal G1", extra: func(b *Builder) {
			b.AddDefeater(Defeater{ID: "D1", Kind: Rebutting, Challenges: []string{"G1"}, Assessment: Assessment{State: 9, Severity: Severity{Level: 9}}})
		}, want: []string{"D1 defeater", "D1 defeater"}},
		{name: "cycle", model: "goal G1 > G2\ngoal G2 > G3\ngoal G3 > G1", want: []string{"G1 cycle"}},
		{name: "two cycles", model: "goal G1 > G2\ngoal G2 > G1\ngoal G3 > S4\nstr S4 > G3", want: []string{"G1 cycle", "G3 cycle"}},
		{name: "k too large", model: "goal G1 k=3 > Sn1 Sn2\nsol Sn1\nsol Sn2", want: []string{"G1 mode"}},
		{name: "k zero", model: "goal G1 k=0 > Sn1\nsol Sn1", want: []string{"G1 mode"}},
		{name: "k without children", model: "goal G1 k=1", want: []string{"G1 mode"}},
		{name: "k with ALL", model: "goal G1 > Sn1\nsol Sn1", extra: func(b *Builder) { b.AddElement(Element{ID: "G2", Kind: KindGoal, K: 1}) }, want: []string{"G2 mode"}},
		{name: "mode on a solution", extra: func(b *Builder) { b.AddElement(Element{ID: "Sn1", Kind: KindSolution, Mode: ModeAny}) }, want: []string{"Sn1 mode"}},
		{name: "unknown mode", extra: func(b *Builder) { b.AddElement(Element{ID: "G1", Kind: KindGoal, Mode: 7}) }, want: []string{"G1 kind"}},
		{name: "undeveloped with support", model: "goal G1 undeveloped > Sn1\nsol Sn1", want: []string{"G1 undeveloped"}},
		{name: "undeveloped solution", extra: func(b *Builder) { b.AddElement(Element{ID: "Sn1", Kind: KindSolution, Undeveloped: true}) }, want: []string{"Sn1 undeveloped"}},
		{name: "predicate on a goal", extra: func(b *Builder) { b.AddElement(Element{ID: "G1", Kind: KindGoal, Predicate: true, Undeveloped: true}) }, want: []string{"G1 kind"}},
		{name: "away to missing", model: "goal G1 module=a away=b:G9", want: []string{"G1 dangling-reference"}},
		{name: "away wrong kind", model: "goal G1 module=a away=b:Sn1\nsol Sn1 module=b", want: []string{"G1 away"}},
		{name: "away wrong module", model: "goal G1 module=a away=c:G2\ngoal G2 module=b undeveloped", want: []string{"G1 away"}},
		{name: "away same module", model: "goal G1 module=a away=a:G2\ngoal G2 module=a undeveloped", want: []string{"G1 away"}},
		{name: "away developed locally", model: "goal G1 module=a away=b:G2 > Sn1\nsol Sn1 module=a\ngoal G2 module=b undeveloped", want: []string{"G1 away"}},
		{name: "away with mode", model: "goal G1 module=a away=b:G2 any\ngoal G2 module=b undeveloped", want: []string{"G1 away"}},
		{name: "away without module", model: "goal G2 module=b undeveloped", extra: func(b *Builder) {
			b.AddElement(Element{ID: "G1", Kind: KindGoal, Module: "a", Away: &Ref{ID: "G2"}})
		}, want: []string{"G1 away", "G1 away"}},
		{name: "away self", model: "goal G1 module=a away=a:G1", want: []string{"G1 away"}},
		{name: "cycle through away references", model: "goal G1 module=a > G2\ngoal G2 module=a away=b:G3\ngoal G3 module=b > G4\ngoal G4 module=b away=a:G1",
			want: []string{"G1 cycle"}},
		{name: "attack cycle is not a structural cycle", model: "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting on G1 by G1"},
		{name: "many errors at once", model: "goal G1 > G9 @ Sn1\nsol Sn1\ndef D1 rebutting", want: []string{"D1 defeater", "G1 dangling-reference", "G1 link-type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := parseCase(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			if tc.extra != nil {
				tc.extra(b)
			}
			m, err := b.Build()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if m != nil || err == nil {
				t.Fatalf("Build succeeded, want %v", tc.want)
			}
			var ves ValidationErrors
			if !errors.As(err, &ves) {
				t.Fatalf("error %T is not ValidationErrors", err)
			}
			var got []string
			for _, ve := range ves {
				got = append(got, ve.Element+" "+string(ve.Rule))
				if ve.Message == "" || !strings.Contains(ve.Error(), ve.Element) {
					t.Errorf("error %q does not explain itself", ve.Error())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors %v, want %v\n%v", got, tc.want, err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve != ves[0] {
				t.Errorf("errors.As does not find the first *ValidationError")
			}
		})
	}
}

func TestValidationErrorDetails(t *testing.T) {
	_, err := mustBuilder(t, "goal G3 > G1\ngoal G1 > G2\ngoal G2 > G3\ngoal G4 > G9").Build()
	var ves ValidationErrors
	if !errors.As(err, &ves) || len(ves) != 2 {
		t.Fatalf("got %v", err)
	}
	if c := ves[0]; c.Element != "G1" || c.Rule != RuleCycle || !slices.Equal(c.Related, []string{"G2", "G3"}) ||
		c.Message != "SUPPORTED_BY links or away references form a cycle through G1, G2, G3" {
		t.Errorf("cycle error %+v", c)
	}
	if d := ves[1]; d.Element != "G4" || d.Rule != RuleDangling || !slices.Equal(d.Related, []string{"G9"}) {
		t.Errorf("dangling error %+v", d)
	}
	if got, want := err.Error(), "assurance: G1: cycle: SUPPORTED_BY links or away references form a cycle through G1, G2, G3\n"+
		"assurance: G4: dangling-reference: SUPPORTED_BY child \"G9\" does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func mustBuilder(t testing.TB, text string) *Builder {
	t.Helper()
	b, err := parseCase(text)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestModelAccessors(t *testing.T) {
	b := mustBuilder(t, "goal G1 > Sn2 Sn1 @ C1\nsol Sn1\nsol Sn2 hash=x\nctx C1\ngoal G9 module=a away=b:G8\ngoal G8 module=b undeveloped\ndef D1 rebutting on G1 by G9")
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.IDs(); !slices.Equal(got, []string{"C1", "D1", "G1", "G8", "G9", "Sn1", "Sn2"}) || m.Len() != 7 {
		t.Errorf("IDs %v, Len %d", got, m.Len())
	}
	if got := m.SupportedBy("G1"); !slices.Equal(got, []string{"Sn1", "Sn2"}) {
		t.Errorf("SupportedBy %v", got)
	}
	if got := m.InContextOf("G1"); !slices.Equal(got, []string{"C1"}) {
		t.Errorf("InContextOf %v", got)
	}
	if m.Kind("D1") != KindDefeater || m.Kind("Sn2") != KindSolution || m.Kind("nope") != 0 {
		t.Error("Kind")
	}
	e, ok := m.Element("G9")
	if !ok || e.Away == nil || *e.Away != (Ref{Module: "b", ID: "G8"}) {
		t.Errorf("Element %+v", e)
	}
	e.Away.ID = "mutated"
	if e2, _ := m.Element("G9"); e2.Away.ID != "G8" {
		t.Error("Element shares its Away with the model")
	}
	d, ok := m.Defeater("D1")
	if !ok || d.Kind != Rebutting || !slices.Equal(d.RefutedBy, []string{"G9"}) {
		t.Errorf("Defeater %+v", d)
	}
	d.Challenges[0] = "mutated"
	if d2, _ := m.Defeater("D1"); d2.Challenges[0] != "G1" {
		t.Error("Defeater shares its slices with the model")
	}
	if _, ok := m.Element("D1"); ok {
		t.Error("Element(D1) found a defeater")
	}
	if _, ok := m.Defeater("G1"); ok {
		t.Error("Defeater(G1) found a goal")
	}
}

func TestImpact(t *testing.T) {
	m := mustModel(t, `goal G0 > G1 G2
goal G1 > Sn1 @ A1
goal G2 > Sn2
sol Sn1
sol Sn2
asm A1 pred
goal R1 > SnR
sol SnR
def D1 rebutting on G2 by R1
goal G3 module=m away=x:G4
goal G4 module=x > Sn4
sol Sn4 module=x`)
	tests := []struct {
		ids  []string
		want []string
	}{
		{[]string{"Sn1"}, []string{"G0", "G1", "Sn1"}},
		{[]string{"A1"}, []string{"A1", "G0", "G1"}},
		{[]string{"SnR"}, []string{"D1", "G0", "G2", "R1", "SnR"}},
		{[]string{"D1"}, []string{"D1", "G0", "G2"}},
		{[]string{"Sn4"}, []string{"G3", "G4", "Sn4"}},
		{[]string{"G0"}, []string{"G0"}},
		{[]string{"Sn1", "Sn2", "Sn1"}, []string{"G0", "G1", "G2", "Sn1", "Sn2"}},
		{nil, nil},
	}
	for _, tc := range tests {
		got, err := m.Impact(tc.ids...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Impact(%v) = %v, want %v", tc.ids, got, tc.want)
		}
	}
	_, err := m.Impact("Sn1", "nope")
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Element != "nope" {
		t.Errorf("Impact of an unknown id: %v", err)
	}
}

func TestInputValidation(t *testing.T) {
	m := mustModel(t, "goal G1 > Sn1 G2#h @ A1 C1\nsol Sn1\ngoal G2 undeveloped hash=h\nasm A1 pred\nctx C1\ndef D1 rebutting on G1\n"+
		"goal G9 module=a away=b:G8\ngoal G8 module=b > Sn8\nsol Sn8 module=b\nsol Sn7 module=a away=b:Sn8")
	tests := []struct {
		name string
		ch   Changes
		want []string
	}{
		{"valid", Changes{Leaves: leaves(pass, "Sn1"), Predicates: map[string]PredicateValue{"A1": {Value: TruthFalse}},
			Defeaters: map[string]Assessment{"D1": {State: Sustained}}, Hashes: map[string]string{"G2": "h2"},
			Reviews: []Review{{Parent: "G1", Child: "G2", Hash: "h2"}}}, nil},
		{"unknown leaf", Changes{Leaves: leaves(pass, "Sn9")}, []string{"Sn9 input"}},
		{"leaf for a goal", Changes{Leaves: leaves(pass, "G1")}, []string{"G1 input"}},
		{"leaf for an away solution", Changes{Leaves: leaves(pass, "Sn7")}, []string{"Sn7 input"}},
		{"engine reason in a leaf", Changes{Leaves: leaves(leaf(Defeated), "Sn1")}, []string{"Sn1 input"}},
		{"contradicting status", Changes{Leaves: leaves(LeafResult{Status: Supported, Reason: EvidenceFail}, "Sn1")}, []string{"Sn1 input"}},
		{"undeveloped leaf", Changes{Leaves: leaves(LeafResult{Status: Undeveloped}, "Sn1")}, []string{"Sn1 input"}},
		{"confidence NaN", Changes{Leaves: leaves(LeafResult{Confidence: math.NaN()}, "Sn1")}, []string{"Sn1 input"}},
		{"confidence negative", Changes{Leaves: leaves(LeafResult{Confidence: -0.1}, "Sn1")}, []string{"Sn1 input"}},
		{"bad OnExpiry", Changes{Leaves: leaves(LeafResult{OnExpiry: EvidenceFail}, "Sn1")}, []string{"Sn1 input"}},
		{"empty culprit", Changes{Leaves: leaves(LeafResult{Culprits: []string{""}}, "Sn1")}, []string{"Sn1 input"}},
		{"predicate without predicate", Changes{Predicates: map[string]PredicateValue{"C1": {Value: TruthTrue}}}, []string{"C1 input"}},
		{"bad truth", Changes{Predicates: map[string]PredicateValue{"A1": {Value: 7}}}, []string{"A1 input"}},
		{"assessment for a goal", Changes{Defeaters: map[string]Assessment{"G1": {}}}, []string{"G1 input"}},
		{"bad acceptance", Changes{Defeaters: map[string]Assessment{"D1": {State: AcceptedResidual}}}, []string{"D1 input"}},
		{"hash for a defeater", Changes{Hashes: map[string]string{"D1": "x"}}, []string{"D1 input"}},
		{"review of a missing link", Changes{Reviews: []Review{{Parent: "G1", Child: "G9", Hash: "x"}}}, []string{"G1 input"}},
		{"several", Changes{Leaves: leaves(pass, "G2", "Sn9")}, []string{"G2 input", "Sn9 input"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEvaluator(t, m, Options{})
			e.Evaluate(t0)
			before := e.Results()
			_, err := e.Update(tc.ch, t0.Add(time.Minute))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ves ValidationErrors
			if !errors.As(err, &ves) {
				t.Fatalf("error %v is not ValidationErrors", err)
			}
			var got []string
			for _, ve := range ves {
				got = append(got, ve.Element+" "+string(ve.Rule))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors %v, want %v", got, tc.want)
			}
			if err := e.Set(tc.ch); err == nil {
				t.Error("Set accepted what Update refused")
			}
			after := e.Results()
			for i := range before {
				if !before[i].Equal(after[i].Result) {
					t.Errorf("%s changed although the update was refused", before[i].ID)
				}
			}
		})
	}
}

func TestNewEvaluatorOptions(t *testing.T) {
	m := mustModel(t, "goal G1 undeveloped")
	for _, p := range []float64{math.NaN(), 1.5} {
		if _, err := NewEvaluator(m, Options{ResidualPenalty: p}); err == nil {
			t.Errorf("penalty %v accepted", p)
		}
	}
	for _, p := range []float64{-1, 0, 0.5, 1} {
		if _, err := NewEvaluator(m, Options{ResidualPenalty: p}); err != nil {
			t.Errorf("penalty %v: %v", p, err)
		}
	}
}
