package assurance

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// changeSummary renders status changes compactly: ELEMENT FROM->TO [inputs] [expired].
func changeSummary(cs []StatusChange) []string {
	var out []string
	for _, c := range cs {
		s := c.Element + " " + c.From.Status.String() + "->" + c.To.Status.String()
		if len(c.Cause.Inputs) > 0 {
			s += " in:" + strings.Join(c.Cause.Inputs, ",")
		}
		if len(c.Cause.Expired) > 0 {
			s += " exp:" + strings.Join(c.Cause.Expired, ",")
		}
		out = append(out, s)
	}
	return out
}

const cveCase = `goal Top > G1 G2
goal G1 > Sn1 Sn2
goal G2 > Sn3
sol Sn1
sol Sn2
sol Sn3
goal VEX > SnV
sol SnV
def CVE rebutting kev on G2 by VEX`

func TestUpdatePropagates(t *testing.T) {
	m := mustModel(t, cveCase)
	e := mustEvaluator(t, m, Options{})
	all := leaves(pass, "Sn1", "Sn2", "Sn3")
	if _, err := e.Update(Changes{Leaves: all}, t0); err != nil { // first Update evaluates everything
		t.Fatal(err)
	}
	if r, _ := e.Result("Top"); summary(r) != "UNDERMINED DEFEATER_OPEN(CVE)" {
		t.Fatalf("Top = %s", summary(r))
	}
	steps := []struct {
		name      string
		ch        Changes
		want      []string
		top       string
		maxEvals  int
		statusNow map[string]Status
	}{
		{name: "VEX not_affected refutes the CVE",
			ch:   Changes{Leaves: leaves(pass, "SnV"), Note: "VEX"},
			want: []string{"SnV UNKNOWN->SUPPORTED in:SnV", "VEX UNKNOWN->SUPPORTED in:SnV", "CVE UNDERMINED->SUPPORTED in:SnV", "G2 UNDERMINED->SUPPORTED in:SnV", "Top UNDERMINED->SUPPORTED in:SnV"},
			top:  "SUPPORTED", maxEvals: 5},
		{name: "same input again changes nothing",
			ch: Changes{Leaves: leaves(pass, "SnV")}, top: "SUPPORTED", maxEvals: 1},
		{name: "a failing scan",
			ch:   Changes{Leaves: leaves(leaf(EvidenceFail), "Sn1")},
			want: []string{"Sn1 SUPPORTED->UNDERMINED in:Sn1", "G1 SUPPORTED->UNDERMINED in:Sn1", "Top SUPPORTED->UNDERMINED in:Sn1"},
			top:  "UNDERMINED EVIDENCE_FAIL(Sn1)", maxEvals: 3},
		{name: "a second failure under the same goal changes reasons only",
			ch:   Changes{Leaves: leaves(leaf(EvidenceFail), "Sn2")},
			want: []string{"Sn2 SUPPORTED->UNDERMINED in:Sn2", "G1 UNDERMINED->UNDERMINED in:Sn2", "Top UNDERMINED->UNDERMINED in:Sn2"},
			top:  "UNDERMINED EVIDENCE_FAIL(Sn1,Sn2)", maxEvals: 3},
		{name: "two inputs in one update",
			ch:   Changes{Leaves: leaves(pass, "Sn1", "Sn2")},
			want: []string{"Sn1 UNDERMINED->SUPPORTED in:Sn1", "Sn2 UNDERMINED->SUPPORTED in:Sn2", "G1 UNDERMINED->SUPPORTED in:Sn1,Sn2", "Top UNDERMINED->SUPPORTED in:Sn1,Sn2"},
			top:  "SUPPORTED", maxEvals: 4},
		{name: "refuting an OUT defeater changes nothing",
			ch: Changes{Leaves: leaves(LeafResult{Confidence: 1, Reason: EvidenceDegraded}, "Sn3"), Defeaters: map[string]Assessment{"CVE": {State: Refuted}}},
			// CVE was OUT already (refuted by VEX): its result does not change.
			want: []string{"Sn3 SUPPORTED->SUPPORTED in:Sn3", "G2 SUPPORTED->SUPPORTED in:Sn3", "Top SUPPORTED->SUPPORTED in:Sn3"},
			top:  "SUPPORTED EVIDENCE_DEGRADED(Sn3)", maxEvals: 4},
	}
	for _, s := range steps {
		e.evals = 0
		cs, err := e.Update(s.ch, t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := changeSummary(cs); !slices.Equal(got, s.want) {
			t.Errorf("%s: changes\n%q, want\n%q", s.name, got, s.want)
		}
		for _, c := range cs {
			if c.Cause.Note != s.ch.Note || c.Cause.Full {
				t.Errorf("%s: cause %+v", s.name, c.Cause)
			}
		}
		if r, _ := e.Result("Top"); summary(r) != s.top {
			t.Errorf("%s: Top = %s, want %s", s.name, summary(r), s.top)
		}
		if e.evals > s.maxEvals {
			t.Errorf("%s: %d evaluations, want at most %d", s.name, e.evals, s.maxEvals)
		}
	}
}

func TestExpirySweep(t *testing.T) {
	m := mustModel(t, `goal Top > G1 G2 @ A1
goal G1 > Sn1
goal G2 > Sn2
sol Sn1
sol Sn2
asm A1 pred
def D1 rebutting kev on G2 residual=3`)
	e := mustEvaluator(t, m, Options{})
	err := e.Set(Changes{
		Leaves: map[string]LeafResult{
			"Sn1": {Confidence: 1, Expires: t0.Add(time.Hour)},
			"Sn2": {Confidence: 1, Expires: t0.Add(2 * time.Hour), OnExpiry: MonitorSilent},
		},
		Predicates: map[string]PredicateValue{"A1": {Value: TruthTrue, Expires: t0.Add(4 * time.Hour)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Evaluate(t0)
	if got := e.NextReevalAt(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("NextReevalAt = %v", got)
	}
	if r, _ := e.Result("Top"); summary(r) != "SUPPORTED RESIDUAL_ACCEPTED(D1)" || !r.NextReevalAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Top = %s next %v", summary(r), r.NextReevalAt)
	}
	if r, _ := e.Result("G2"); !r.NextReevalAt.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("G2 next %v", r.NextReevalAt)
	}
	steps := []struct {
		at   time.Duration
		want []string
		next time.Duration // 0: none
		top  string
	}{
		{59 * time.Minute, nil, time.Hour, "SUPPORTED RESIDUAL_ACCEPTED(D1)"},
		{time.Hour, []string{"Sn1 SUPPORTED->UNKNOWN exp:Sn1", "G1 SUPPORTED->UNKNOWN exp:Sn1", "Top SUPPORTED->UNKNOWN exp:Sn1"}, 2 * time.Hour, "UNKNOWN EVIDENCE_STALE(Sn1)"},
		// Two expiries in one sweep; the acceptance at 3h stays pending for D1 and G2.
		{150 * time.Minute, []string{"Sn2 SUPPORTED->UNKNOWN exp:Sn2", "G2 SUPPORTED->UNKNOWN exp:Sn2", "Top UNKNOWN->UNKNOWN exp:Sn2"}, 3 * time.Hour, "UNKNOWN EVIDENCE_STALE(Sn1) MONITOR_SILENT(Sn2)"},
		{5 * time.Hour, []string{"A1 SUPPORTED->UNKNOWN exp:A1", "D1 SUPPORTED->UNDERMINED exp:D1", "G2 UNKNOWN->UNDERMINED exp:D1", "Top UNKNOWN->UNDERMINED exp:A1,D1"}, 0, "UNDERMINED DEFEATER_OPEN(D1)"},
	}
	for _, s := range steps {
		e.evals = 0
		cs, err := e.Update(Changes{}, t0.Add(s.at))
		if err != nil {
			t.Fatal(err)
		}
		if got := changeSummary(cs); !slices.Equal(got, s.want) {
			t.Errorf("at %v: changes\n%q, want\n%q", s.at, got, s.want)
		}
		if e.evals > len(s.want)+1 {
			t.Errorf("at %v: %d evaluations for %d changes", s.at, e.evals, len(s.want))
		}
		want := time.Time{}
		if s.next != 0 {
			want = t0.Add(s.next)
		}
		if got := e.NextReevalAt(); !got.Equal(want) {
			t.Errorf("at %v: NextReevalAt %v, want %v", s.at, got, want)
		}
		if r, _ := e.Result("Top"); summary(r) != s.top {
			t.Errorf("at %v: Top = %s, want %s", s.at, summary(r), s.top)
		}
	}
	// Renewing the acceptance is an input like any other.
	cs, err := e.Update(Changes{Defeaters: map[string]Assessment{"D1": {State: AcceptedResidual, Severity: Severity{KEV: true},
		Acceptance: Acceptance{Approver: "ciso", Rationale: "waf rule", Expires: t0.Add(48 * time.Hour)}}}}, t0.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := changeSummary(cs); !slices.Equal(got, []string{"D1 UNDERMINED->SUPPORTED in:D1", "G2 UNDERMINED->UNKNOWN in:D1", "Top UNDERMINED->UNKNOWN in:D1"}) {
		t.Errorf("renewal: %q", got)
	}
	if got := e.NextReevalAt(); !got.Equal(t0.Add(48 * time.Hour)) {
		t.Errorf("NextReevalAt after renewal %v", got)
	}
}

func TestTimeDoesNotGoBackwards(t *testing.T) {
	e := mustEvaluator(t, mustModel(t, "goal G1 > Sn1\nsol Sn1"), Options{})
	e.Evaluate(t0)
	if _, err := e.Update(Changes{Leaves: leaves(LeafResult{Confidence: 1, Expires: t0.Add(time.Hour)}, "Sn1")}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	cs, err := e.Update(Changes{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := e.Result("G1"); len(cs) != 0 || summary(r) != "UNKNOWN EVIDENCE_STALE(Sn1)" {
		t.Errorf("after an earlier now: %q, G1 %s", changeSummary(cs), summary(r))
	}
	// Evaluate may go back: it recomputes from scratch.
	e.Evaluate(t0)
	if r, _ := e.Result("G1"); summary(r) != "SUPPORTED" || !e.NextReevalAt().Equal(t0.Add(time.Hour)) {
		t.Errorf("Evaluate(t0): G1 %s, next %v", summary(r), e.NextReevalAt())
	}
}

func TestEvaluateReportsChanges(t *testing.T) {
	m := mustModel(t, cveCase)
	e := mustEvaluator(t, m, Options{})
	first := e.Evaluate(t0)
	if len(first) != m.Len() {
		t.Fatalf("first Evaluate reported %d changes for %d elements", len(first), m.Len())
	}
	for _, c := range first {
		if c.From.Status != 0 || !c.Cause.Full || !c.StatusChanged() {
			t.Errorf("first change %+v", c)
		}
	}
	if again := e.Evaluate(t0); len(again) != 0 {
		t.Errorf("second Evaluate reported %q", changeSummary(again))
	}
	if err := e.Set(Changes{Leaves: leaves(pass, "Sn3")}); err != nil {
		t.Fatal(err)
	}
	cs := e.Evaluate(t0)
	if got := changeSummary(cs); !slices.Equal(got, []string{"Sn3 UNKNOWN->SUPPORTED"}) {
		t.Errorf("after Set: %q", got)
	}
	// Evaluation order: an element after what it depends on.
	pos := map[string]int{}
	for i, c := range first {
		pos[c.Element] = i
	}
	for _, id := range m.IDs() {
		for _, ch := range m.SupportedBy(id) {
			if pos[ch] > pos[id] {
				t.Errorf("%s reported before its child %s", id, ch)
			}
		}
	}
}

func TestResultsAreCopies(t *testing.T) {
	e := mustEvaluator(t, mustModel(t, "goal G1 > Sn1\nsol Sn1"), Options{})
	cs := e.Evaluate(t0)
	r, _ := e.Result("G1")
	r.Reasons[0].Culprits[0] = "mutated"
	cs[0].To.Reasons[0].Culprits[0] = "mutated"
	e.Results()[0].Reasons[0].Culprits[0] = "mutated"
	if r, _ := e.Result("G1"); r.Reasons[0].Culprits[0] != "Sn1" {
		t.Error("a returned result shares its culprits with the evaluator")
	}
	if _, ok := e.Result("nope"); ok {
		t.Error("Result of an unknown id")
	}
	if got, _ := e.Impact("Sn1"); !slices.Equal(got, []string{"G1", "Sn1"}) || e.Model() == nil {
		t.Errorf("Impact %v", got)
	}
}

// TestUpdateTouchesOnlyAncestors checks on a wide case that one leaf's update evaluates
// only that leaf's ancestors.
func TestUpdateTouchesOnlyAncestors(t *testing.T) {
	var b strings.Builder
	b.WriteString("goal Top >")
	for i := range 50 {
		b.WriteString(" G" + itoa(i))
	}
	b.WriteString("\n")
	for i := range 50 {
		b.WriteString("goal G" + itoa(i) + " > Sn" + itoa(i) + "a Sn" + itoa(i) + "b\nsol Sn" + itoa(i) + "a\nsol Sn" + itoa(i) + "b\n")
	}
	m := mustModel(t, b.String())
	e := mustEvaluator(t, m, Options{})
	e.Evaluate(t0)
	e.evals = 0
	if _, err := e.Update(Changes{Leaves: leaves(pass, "Sn7a")}, t0); err != nil {
		t.Fatal(err)
	}
	if e.evals != 3 {
		t.Errorf("%d evaluations, want 3 (Sn7a, G7, Top)", e.evals)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestUpdateStopsWhereNothingChanges checks that propagation stops at an element whose
// result does not change.
func TestUpdateStopsWhereNothingChanges(t *testing.T) {
	e := mustEvaluator(t, mustModel(t, "goal Top > G1 G2\ngoal G1 any > Sn1 Sn2\ngoal G2 > Sn3\nsol Sn1\nsol Sn2\nsol Sn3"), Options{})
	if err := e.Set(Changes{Leaves: leaves(pass, "Sn1", "Sn2", "Sn3")}); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(t0)
	e.evals = 0
	cs, err := e.Update(Changes{Leaves: leaves(LeafResult{Reason: EvidenceFail, Confidence: 1}, "Sn2")}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := changeSummary(cs); !slices.Equal(got, []string{"Sn2 SUPPORTED->UNDERMINED in:Sn2"}) || e.evals != 2 {
		t.Errorf("changes %q after %d evaluations, want only Sn2 after 2 (Sn2, G1)", got, e.evals)
	}
}

// TestUpperBoundAlonePropagates: a refutation's result can stay the same while whether it
// could count changes; what it refutes must still be re-evaluated.
func TestUpperBoundAlonePropagates(t *testing.T) {
	m := mustModel(t, `goal G1 > Sn1
sol Sn1
goal R1 > SnR
sol SnR
goal X > SnX
sol SnX
def D1 rebutting sustained critical on X R1 by X
def D0 rebutting sustained on G1 by R1`)
	e := mustEvaluator(t, m, Options{})
	if err := e.Set(Changes{Leaves: leaves(pass, "Sn1", "SnR", "SnX")}); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(t0)
	for id, want := range map[string]string{"R1": "UNDERMINED DEFEATER_OPEN(D1)", "D0": "UNDEC UNKNOWN DEFEATER_OPEN(D0)"} {
		if r, _ := e.Result(id); summary(r) != want {
			t.Fatalf("%s = %s, want %s", id, summary(r), want)
		}
	}
	cs, err := e.Update(Changes{Leaves: leaves(leaf(EvidenceStale), "SnR")}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := changeSummary(cs), []string{"SnR SUPPORTED->UNKNOWN in:SnR", "D0 UNKNOWN->UNDERMINED in:SnR", "G1 UNKNOWN->UNDERMINED in:SnR"}; !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if r, _ := e.Result("D0"); summary(r) != "IN UNDERMINED DEFEATED(D0)" {
		t.Errorf("D0 = %s", summary(r))
	}
}
