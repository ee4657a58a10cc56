package assurance

import (
	"testing"
	"time"
)

// ruleCase is one status rule: a model, inputs, an evaluation time (offset from t0) and the
// expected summaries of some elements.
type ruleCase struct {
	name  string
	model string
	opts  Options
	ch    Changes
	at    time.Duration
	want  map[string]string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustModel(t, tc.model)
			e := mustEvaluator(t, m, tc.opts)
			// Leaf maps may be shared between cases: keep the model's Solutions.
			ls := map[string]LeafResult{}
			for id, r := range tc.ch.Leaves {
				if m.Kind(id) == KindSolution {
					ls[id] = r
				}
			}
			tc.ch.Leaves = ls
			if err := e.Set(tc.ch); err != nil {
				t.Fatal(err)
			}
			e.Evaluate(t0.Add(tc.at))
			for id, want := range tc.want {
				r, ok := e.Result(id)
				if !ok {
					t.Fatalf("no result for %s", id)
				}
				if got := summary(r); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			// The same inputs applied incrementally give the same results.
			inc := mustEvaluator(t, m, tc.opts)
			inc.Evaluate(t0.Add(tc.at))
			if _, err := inc.Update(tc.ch, t0.Add(tc.at)); err != nil {
				t.Fatal(err)
			}
			for _, r := range e.Results() {
				if got, _ := inc.Result(r.ID); !got.Equal(r.Result) {
					t.Errorf("%s: incremental %q, full %q", r.ID, summary(got), summary(r.Result))
				}
			}
		})
	}
}

func TestLeafRules(t *testing.T) {
	const g = "goal G1 > Sn1\nsol Sn1"
	runRuleCases(t, []ruleCase{
		{name: "missing", model: g,
			want: map[string]string{"Sn1": "UNKNOWN EVIDENCE_MISSING(Sn1)", "G1": "UNKNOWN EVIDENCE_MISSING(Sn1)"}},
		{name: "pass", model: g, ch: Changes{Leaves: leaves(pass, "Sn1")},
			want: map[string]string{"Sn1": "SUPPORTED", "G1": "SUPPORTED"}},
		{name: "subject changed", model: g, ch: Changes{Leaves: leaves(leaf(SubjectChanged), "Sn1")},
			want: map[string]string{"G1": "UNKNOWN SUBJECT_CHANGED(Sn1)"}},
		{name: "stale", model: g, ch: Changes{Leaves: leaves(leaf(EvidenceStale), "Sn1")},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn1)"}},
		{name: "knowledge stale", model: g, ch: Changes{Leaves: leaves(leaf(KnowledgeStale), "Sn1")},
			want: map[string]string{"G1": "UNKNOWN KNOWLEDGE_STALE(Sn1)"}},
		{name: "fail", model: g, ch: Changes{Leaves: leaves(leaf(EvidenceFail), "Sn1")},
			want: map[string]string{"Sn1": "UNDERMINED EVIDENCE_FAIL(Sn1)", "G1": "UNDERMINED EVIDENCE_FAIL(Sn1)"}},
		{name: "error", model: g, ch: Changes{Leaves: leaves(leaf(EvidenceError), "Sn1")},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_ERROR(Sn1)"}},
		{name: "degraded", model: g, ch: Changes{Leaves: leaves(leaf(EvidenceDegraded), "Sn1")},
			want: map[string]string{"G1": "SUPPORTED EVIDENCE_DEGRADED(Sn1)"}},
		{name: "degraded strict", model: g, opts: Options{Strict: true}, ch: Changes{Leaves: leaves(leaf(EvidenceDegraded), "Sn1")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_DEGRADED(Sn1)"}},
		{name: "degraded given as undermined", model: g,
			ch:   Changes{Leaves: leaves(LeafResult{Status: Undermined, Reason: EvidenceDegraded}, "Sn1")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_DEGRADED(Sn1)"}},
		{name: "monitor silent", model: g, ch: Changes{Leaves: leaves(leaf(MonitorSilent), "Sn1")},
			want: map[string]string{"G1": "UNKNOWN MONITOR_SILENT(Sn1)"}},
		{name: "caller culprits", model: g,
			ch:   Changes{Leaves: leaves(LeafResult{Reason: EvidenceFail, Culprits: []string{"ev-9", "CVE-1", "ev-9"}}, "Sn1")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(CVE-1,Sn1,ev-9)"}},
		{name: "before expiry", model: g, at: time.Hour - 1,
			ch:   Changes{Leaves: leaves(LeafResult{Confidence: 1, Expires: t0.Add(time.Hour)}, "Sn1")},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "at expiry", model: g, at: time.Hour,
			ch:   Changes{Leaves: leaves(LeafResult{Confidence: 1, Expires: t0.Add(time.Hour)}, "Sn1")},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn1)"}},
		{name: "failure expires too", model: g, at: 2 * time.Hour,
			ch:   Changes{Leaves: leaves(LeafResult{Reason: EvidenceFail, Expires: t0.Add(time.Hour)}, "Sn1")},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn1)"}},
		{name: "heartbeat missed", model: g, at: 5 * time.Minute,
			ch:   Changes{Leaves: leaves(LeafResult{Confidence: 1, Expires: t0.Add(5 * time.Minute), OnExpiry: MonitorSilent}, "Sn1")},
			want: map[string]string{"G1": "UNKNOWN MONITOR_SILENT(Sn1)"}},
	})
}

func TestModes(t *testing.T) {
	const all = "goal G1 > Sn1 Sn2 G2\nsol Sn1\nsol Sn2\ngoal G2 undeveloped"
	const all2 = "goal G1 > Sn1 Sn2\nsol Sn1\nsol Sn2"
	const anyM = "goal G1 any > Sn1 Sn2\nsol Sn1\nsol Sn2"
	const k2 = "goal G1 k=2 > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3"
	const k1 = "goal G1 k=1 > Sn1 Sn2\nsol Sn1\nsol Sn2"
	const k3 = "goal G1 k=3 > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3"
	fail, stale := leaf(EvidenceFail), leaf(EvidenceStale)
	runRuleCases(t, []ruleCase{
		{name: "undeveloped flag", model: "goal G1 undeveloped", want: map[string]string{"G1": "UNDEVELOPED NOT_DEVELOPED(G1)"}},
		{name: "no children", model: "goal G1\nstr S1", want: map[string]string{"G1": "UNDEVELOPED NOT_DEVELOPED(G1)", "S1": "UNDEVELOPED NOT_DEVELOPED(S1)"}},
		{name: "ALL undeveloped child", model: all, ch: Changes{Leaves: leaves(pass, "Sn1", "Sn2")},
			want: map[string]string{"G1": "UNDEVELOPED NOT_DEVELOPED(G2)"}},
		{name: "ALL unknown beats undeveloped", model: all, ch: Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(stale, "Sn2"))},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn2)"}},
		{name: "ALL worst only", model: all, ch: Changes{Leaves: merge(leaves(fail, "Sn1"), leaves(stale, "Sn2"))},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn1)"}},
		{name: "ALL same reason merges culprits", model: all2, ch: Changes{Leaves: leaves(fail, "Sn1", "Sn2")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn1,Sn2)"}},
		{name: "ALL supported", model: all2, ch: Changes{Leaves: leaves(pass, "Sn1", "Sn2")},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "ANY best", model: anyM, ch: Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(fail, "Sn2"))},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "ANY best of bad", model: anyM, ch: Changes{Leaves: merge(leaves(stale, "Sn1"), leaves(fail, "Sn2"))},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn1)"}},
		{name: "ANY all failed", model: anyM, ch: Changes{Leaves: leaves(fail, "Sn1", "Sn2")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn1,Sn2)"}},
		{name: "2 of 3 reached", model: k2, ch: Changes{Leaves: merge(leaves(pass, "Sn1", "Sn2"), leaves(fail, "Sn3"))},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "2 of 3 one short, undecided", model: k2, ch: Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(fail, "Sn2"), leaves(stale, "Sn3"))},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn3)"}},
		{name: "2 of 3 unreachable", model: k2, ch: Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(fail, "Sn2", "Sn3"))},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn2,Sn3)"}},
		{name: "2 of 3 worst of rest", model: k2 + "\ngoal G2 undeveloped", ch: Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(stale, "Sn2", "Sn3"))},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn2,Sn3)"}},
		{name: "1 of 2 is ANY", model: k1, ch: Changes{Leaves: merge(leaves(pass, "Sn2"), leaves(fail, "Sn1"))},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "1 of 2 all failed", model: k1, ch: Changes{Leaves: leaves(fail, "Sn1", "Sn2")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn1,Sn2)"}},
		{name: "3 of 3 one failure undermines", model: k3, ch: Changes{Leaves: merge(leaves(pass, "Sn1", "Sn2"), leaves(fail, "Sn3"))},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn3)"}},
		{name: "3 of 3 one unknown", model: k3, ch: Changes{Leaves: merge(leaves(pass, "Sn1", "Sn2"), leaves(stale, "Sn3"))},
			want: map[string]string{"G1": "UNKNOWN EVIDENCE_STALE(Sn3)"}},
		{name: "K_OF_N undeveloped rest", model: "goal G1 k=2 > Sn1 Sn2 G2\nsol Sn1\nsol Sn2\ngoal G2 undeveloped",
			ch:   Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(fail, "Sn2"))},
			want: map[string]string{"G1": "UNDEVELOPED NOT_DEVELOPED(G2)"}},
		{name: "through a strategy", model: "goal G1 > S1\nstr S1 > G2 G3\ngoal G2 > Sn1\ngoal G3 > Sn2\nsol Sn1\nsol Sn2",
			ch:   Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(fail, "Sn2"))},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn2)", "S1": "UNDERMINED EVIDENCE_FAIL(Sn2)", "G2": "SUPPORTED"}},
		{name: "degraded explains a supported parent", model: anyM, ch: Changes{Leaves: merge(leaves(leaf(EvidenceDegraded), "Sn1"), leaves(pass, "Sn2"))},
			want: map[string]string{"G1": "SUPPORTED EVIDENCE_DEGRADED(Sn1)"}},
	})
}

func TestPredicates(t *testing.T) {
	const g = "goal G1 > Sn1 @ A1 C1 J1\nsol Sn1\nasm A1 pred\nctx C1\njust J1"
	ok := leaves(pass, "Sn1")
	runRuleCases(t, []ruleCase{
		{name: "holds", model: g, ch: Changes{Leaves: ok, Predicates: map[string]PredicateValue{"A1": {Value: TruthTrue}}},
			want: map[string]string{"G1": "SUPPORTED", "A1": "SUPPORTED", "C1": "SUPPORTED", "J1": "SUPPORTED"}},
		{name: "violated", model: g, ch: Changes{Leaves: ok, Predicates: map[string]PredicateValue{"A1": {Value: TruthFalse}}},
			want: map[string]string{"G1": "UNDERMINED ASSUMPTION_VIOLATED(A1)", "A1": "UNDERMINED ASSUMPTION_VIOLATED(A1)"}},
		{name: "not supplied is unknown", model: g, ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN ASSUMPTION_UNKNOWN(A1)"}},
		{name: "expired value is unknown", model: g, at: time.Hour,
			ch:   Changes{Leaves: ok, Predicates: map[string]PredicateValue{"A1": {Value: TruthTrue, Expires: t0.Add(time.Hour)}}},
			want: map[string]string{"G1": "UNKNOWN ASSUMPTION_UNKNOWN(A1)"}},
		{name: "violated and failing", model: g,
			ch:   Changes{Leaves: leaves(leaf(EvidenceFail), "Sn1"), Predicates: map[string]PredicateValue{"A1": {Value: TruthFalse}}},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn1) ASSUMPTION_VIOLATED(A1)"}},
		{name: "violated on undeveloped goal", model: "goal G1 undeveloped @ C1\nctx C1 pred",
			ch:   Changes{Predicates: map[string]PredicateValue{"C1": {Value: TruthFalse}}},
			want: map[string]string{"G1": "UNDERMINED ASSUMPTION_VIOLATED(C1)"}},
		{name: "context of the child does not reach the parent's context", model: "goal G0 > G1\n" + g,
			ch:   Changes{Leaves: ok, Predicates: map[string]PredicateValue{"A1": {Value: TruthFalse}}},
			want: map[string]string{"G0": "UNDERMINED ASSUMPTION_VIOLATED(A1)"}},
	})
}

func TestDefeaters(t *testing.T) {
	const base = "goal G1 > Sn1\nsol Sn1\n"
	const vex = "goal R1 > SnR\nsol SnR\n"
	ok := leaves(pass, "Sn1", "SnR", "SnR2")
	runRuleCases(t, []ruleCase{
		{name: "rebutting IN", model: base + "def D1 rebutting sustained on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNDERMINED DEFEATED(D1)", "D1": "IN UNDERMINED DEFEATED(D1)"}},
		{name: "undercutting IN", model: "goal G1 > S1\nstr S1 > Sn1\nsol Sn1\ndef D1 undercutting sustained on S1", ch: Changes{Leaves: ok},
			want: map[string]string{"S1": "UNKNOWN INFERENCE_CHALLENGED(D1)", "G1": "UNKNOWN INFERENCE_CHALLENGED(D1)"}},
		{name: "undermining IN", model: base + "def D1 undermining sustained on Sn1", ch: Changes{Leaves: ok},
			want: map[string]string{"Sn1": "UNKNOWN EVIDENCE_CHALLENGED(D1)", "G1": "UNKNOWN EVIDENCE_CHALLENGED(D1)"}},
		{name: "rebutting beats failing evidence reasons", model: base + "def D1 rebutting sustained on G1", ch: Changes{Leaves: leaves(leaf(EvidenceStale), "Sn1")},
			want: map[string]string{"G1": "UNDERMINED DEFEATED(D1)"}},
		{name: "refuted by triage", model: base + "def D1 rebutting refuted kev on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "SUPPORTED", "D1": "OUT SUPPORTED"}},
		{name: "refuted by a supported claim", model: base + vex + "def D1 rebutting sustained on G1 by R1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "SUPPORTED", "D1": "OUT SUPPORTED"}},
		{name: "refutation counts only while supported", model: base + vex + "def D1 rebutting sustained on G1 by R1",
			ch:   Changes{Leaves: merge(ok, leaves(leaf(EvidenceStale), "SnR"))},
			want: map[string]string{"G1": "UNDERMINED DEFEATED(D1)", "D1": "IN UNDERMINED DEFEATED(D1)"}},
		{name: "one of two refutations suffices", model: base + vex + "goal R2 > SnR2\nsol SnR2\ndef D1 rebutting sustained on G1 by R1 R2",
			ch:   Changes{Leaves: merge(ok, leaves(leaf(EvidenceStale), "SnR"))},
			want: map[string]string{"G1": "SUPPORTED", "D1": "OUT SUPPORTED"}},
		{name: "untriaged low", model: base + "def D1 rebutting low on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN DEFEATER_OPEN(D1)", "D1": "IN UNKNOWN DEFEATER_OPEN(D1)"}},
		{name: "untriaged unrated", model: base + "def D1 rebutting on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN DEFEATER_OPEN(D1)"}},
		{name: "untriaged high", model: base + "def D1 rebutting high on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNDERMINED DEFEATER_OPEN(D1)"}},
		{name: "untriaged critical", model: base + "def D1 rebutting critical on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNDERMINED DEFEATER_OPEN(D1)"}},
		{name: "untriaged KEV", model: base + "def D1 rebutting low kev on G1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNDERMINED DEFEATER_OPEN(D1)"}},
		{name: "untriaged KEV undercutter capped at its IN effect", model: "goal G1 > S1\nstr S1 > Sn1\nsol Sn1\ndef D1 undercutting kev on S1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN DEFEATER_OPEN(D1)"}},
		{name: "untriaged refuted by claim", model: base + vex + "def D1 rebutting kev on G1 by R1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "SUPPORTED", "D1": "OUT SUPPORTED"}},
		{name: "mutual attack is UNDEC, severity policy applies",
			model: base + vex + "def D1 rebutting sustained critical on G1 R1 by R1", ch: Changes{Leaves: ok},
			want: map[string]string{"D1": "UNDEC UNDERMINED DEFEATER_OPEN(D1)", "G1": "UNDERMINED DEFEATER_OPEN(D1)", "R1": "UNDERMINED DEFEATER_OPEN(D1)"}},
		{name: "UNDEC low severity", model: base + vex + "def D1 rebutting sustained low on G1 R1 by R1", ch: Changes{Leaves: ok},
			want: map[string]string{"D1": "UNDEC UNKNOWN DEFEATER_OPEN(D1)", "G1": "UNKNOWN DEFEATER_OPEN(D1)"}},
		{name: "even cycle of two defeaters is UNDEC",
			model: base + vex + "goal R2 > SnR2\nsol SnR2\ndef D1 rebutting sustained on G1 R2 by R1\ndef D2 rebutting sustained on R1 by R2",
			ch:    Changes{Leaves: ok},
			want:  map[string]string{"D1": "UNDEC UNKNOWN DEFEATER_OPEN(D1)", "D2": "UNDEC UNKNOWN DEFEATER_OPEN(D2)", "G1": "UNKNOWN DEFEATER_OPEN(D1)"}},
		{name: "refutation hinging on an undecided defeater leaves its target UNDEC",
			model: base + vex + "def D1 rebutting sustained on R1 by R1\ndef D0 rebutting sustained critical on G1 by R1",
			ch:    Changes{Leaves: ok},
			want:  map[string]string{"D1": "UNDEC UNKNOWN DEFEATER_OPEN(D1)", "R1": "UNKNOWN DEFEATER_OPEN(D1)", "D0": "UNDEC UNDERMINED DEFEATER_OPEN(D0)", "G1": "UNDERMINED DEFEATER_OPEN(D0)"}},
		{name: "refutation failing for other reasons does not count",
			model: base + vex + "def D1 rebutting sustained on R1 by R1\ndef D0 rebutting sustained on G1 by R1",
			ch:    Changes{Leaves: merge(ok, leaves(leaf(EvidenceFail), "SnR"))},
			want:  map[string]string{"D1": "IN UNDERMINED DEFEATED(D1)", "D0": "IN UNDERMINED DEFEATED(D0)"}},
		{name: "cycle decided from outside",
			model: base + vex + "goal R2 > SnR2\nsol SnR2\ndef D1 rebutting sustained on G1 R1 by R1 R2",
			ch:    Changes{Leaves: ok},
			want:  map[string]string{"D1": "OUT SUPPORTED", "R1": "SUPPORTED", "G1": "SUPPORTED"}},
		{name: "defeated refutation reinstates the defeater",
			model: base + vex + "def D1 rebutting sustained on G1 by R1\ndef D2 rebutting sustained on R1",
			ch:    Changes{Leaves: ok},
			want:  map[string]string{"D2": "IN UNDERMINED DEFEATED(D2)", "R1": "UNDERMINED DEFEATED(D2)", "D1": "IN UNDERMINED DEFEATED(D1)", "G1": "UNDERMINED DEFEATED(D1)"}},
		{name: "defeater of the refutation refuted in turn",
			model: base + vex + "goal R2 > SnR2\nsol SnR2\ndef D1 rebutting sustained on G1 by R1\ndef D2 rebutting sustained on R1 by R2",
			ch:    Changes{Leaves: ok},
			want:  map[string]string{"D2": "OUT SUPPORTED", "R1": "SUPPORTED", "D1": "OUT SUPPORTED", "G1": "SUPPORTED"}},
		{name: "residual accepted", model: base + "def D1 rebutting sustained kev on G1 residual=24", ch: Changes{Leaves: ok}, at: 23 * time.Hour,
			want: map[string]string{"D1": "OUT SUPPORTED RESIDUAL_ACCEPTED(D1)", "G1": "SUPPORTED RESIDUAL_ACCEPTED(D1)"}},
		{name: "residual expired is untriaged again", model: base + "def D1 rebutting sustained kev on G1 residual=24", ch: Changes{Leaves: ok}, at: 24 * time.Hour,
			want: map[string]string{"D1": "IN UNDERMINED DEFEATER_OPEN(D1)", "G1": "UNDERMINED DEFEATER_OPEN(D1)"}},
		{name: "residual expired low severity", model: base + "def D1 rebutting low on G1 residual=1", ch: Changes{Leaves: ok}, at: 2 * time.Hour,
			want: map[string]string{"G1": "UNKNOWN DEFEATER_OPEN(D1)"}},
		{name: "refutation wins over residual acceptance", model: base + vex + "def D1 rebutting on G1 by R1 residual=24", ch: Changes{Leaves: ok},
			want: map[string]string{"D1": "OUT SUPPORTED", "G1": "SUPPORTED"}},
		{name: "residual in a cycle", model: base + vex + "def D1 rebutting on G1 R1 by R1 residual=24", ch: Changes{Leaves: ok},
			want: map[string]string{"D1": "OUT SUPPORTED", "R1": "SUPPORTED", "G1": "SUPPORTED"}},
		{name: "defeater on a shared child", model: "goal G0 > G1 G2\ngoal G1 > Sn1\ngoal G2 > Sn1\nsol Sn1\ndef D1 undermining sustained on Sn1", ch: Changes{Leaves: ok},
			want: map[string]string{"G0": "UNKNOWN EVIDENCE_CHALLENGED(D1)"}},
		{name: "rebutting defeater on a goal under ANY", model: "goal G0 any > G1 G2\ngoal G1 > Sn1\ngoal G2 > Sn2\nsol Sn1\nsol Sn2\ndef D1 rebutting sustained on G1",
			ch:   Changes{Leaves: leaves(pass, "Sn1", "Sn2")},
			want: map[string]string{"G0": "SUPPORTED", "G1": "UNDERMINED DEFEATED(D1)"}},
	})
}

func TestSuspectLinks(t *testing.T) {
	ok := leaves(pass, "Sn1", "Sn2")
	runRuleCases(t, []ruleCase{
		{name: "reviewed at current hash", model: "goal G1 > G2#h1\ngoal G2 hash=h1 > Sn1\nsol Sn1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "changed since review", model: "goal G1 > G2#h1\ngoal G2 hash=h2 > Sn1\nsol Sn1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN SUSPECT_LINK(G1,G2)", "G2": "SUPPORTED"}},
		{name: "never reviewed", model: "goal G1 > G2\ngoal G2 hash=h2 > Sn1\nsol Sn1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN SUSPECT_LINK(G1,G2)"}},
		{name: "not hashed is not tracked", model: "goal G1 > G2#h1\ngoal G2 > Sn1\nsol Sn1", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "hash changed by input", model: "goal G1 > G2#h1\ngoal G2 hash=h1 > Sn1\nsol Sn1",
			ch:   Changes{Leaves: ok, Hashes: map[string]string{"G2": "h3"}},
			want: map[string]string{"G1": "UNKNOWN SUSPECT_LINK(G1,G2)"}},
		{name: "reviewed by input", model: "goal G1 > G2#h1\ngoal G2 hash=h2 > Sn1\nsol Sn1",
			ch:   Changes{Leaves: ok, Reviews: []Review{{Parent: "G1", Child: "G2", Hash: "h2"}}},
			want: map[string]string{"G1": "SUPPORTED"}},
		{name: "cap does not improve an undermined parent", model: "goal G1 > G2#h1\ngoal G2 hash=h2 > Sn1\nsol Sn1",
			ch:   Changes{Leaves: leaves(leaf(EvidenceFail), "Sn1")},
			want: map[string]string{"G1": "UNDERMINED EVIDENCE_FAIL(Sn1)"}},
		{name: "cap applies to an undeveloped child", model: "goal G1 > G2#h1\ngoal G2 hash=h2 undeveloped",
			want: map[string]string{"G1": "UNKNOWN SUSPECT_LINK(G1,G2)"}},
		{name: "suspect solution under ANY", model: "goal G1 any > Sn1#a Sn2#b\nsol Sn1 hash=a\nsol Sn2 hash=c", ch: Changes{Leaves: ok},
			want: map[string]string{"G1": "UNKNOWN SUSPECT_LINK(G1,Sn2)"}},
	})
}

func TestAwayElements(t *testing.T) {
	const m = "goal G1 module=top > Sn1 G9\nsol Sn1 module=top\ngoal G9 module=top away=sup:G5\n" +
		"goal G5 module=sup > Sn5\nsol Sn5 module=sup\n" +
		"goal G2 module=top > Sn1 @ C9\nctx C9 module=top away=sup:C5\nctx C5 module=sup pred"
	runRuleCases(t, []ruleCase{
		{name: "away goal takes its target's result", model: m,
			ch:   Changes{Leaves: merge(leaves(pass, "Sn1"), leaves(leaf(EvidenceFail), "Sn5"))},
			want: map[string]string{"G9": "UNDERMINED EVIDENCE_FAIL(Sn5)", "G1": "UNDERMINED EVIDENCE_FAIL(Sn5)"}},
		{name: "away context takes its target's predicate", model: m,
			ch:   Changes{Leaves: leaves(pass, "Sn1", "Sn5"), Predicates: map[string]PredicateValue{"C5": {Value: TruthFalse}}},
			want: map[string]string{"G1": "SUPPORTED", "C9": "UNDERMINED ASSUMPTION_VIOLATED(C5)", "G2": "UNDERMINED ASSUMPTION_VIOLATED(C5)"}},
	})
}

func TestConfidence(t *testing.T) {
	c := func(v float64) LeafResult { return LeafResult{Confidence: v} }
	three := map[string]LeafResult{"Sn1": c(0.9), "Sn2": c(0.8), "Sn3": c(0.7)}
	tests := []struct {
		name  string
		model string
		opts  Options
		ch    Changes
		at    time.Duration
		id    string
		want  float64
	}{
		{"leaf as given", "sol Sn1", Options{}, Changes{Leaves: leaves(c(0.42), "Sn1")}, 0, "Sn1", 0.42},
		{"missing leaf", "sol Sn1", Options{}, Changes{}, 0, "Sn1", 0},
		{"expired leaf", "sol Sn1", Options{}, Changes{Leaves: leaves(LeafResult{Confidence: 1, Expires: t0}, "Sn1")}, 0, "Sn1", 0},
		{"ALL min", "goal G1 > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3", Options{}, Changes{Leaves: three}, 0, "G1", 0.7},
		{"ALL Fréchet", "goal G1 > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3", Options{Strict: true}, Changes{Leaves: three}, 0, "G1", 0.9 + 0.8 + 0.7 - 2},
		{"Fréchet floor", "goal G1 > Sn1 Sn2\nsol Sn1\nsol Sn2", Options{Strict: true}, Changes{Leaves: leaves(c(0.3), "Sn1", "Sn2")}, 0, "G1", 0},
		{"ANY max", "goal G1 any > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3", Options{}, Changes{Leaves: three}, 0, "G1", 0.9},
		{"2 of 3: second best", "goal G1 k=2 > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3", Options{}, Changes{Leaves: three}, 0, "G1", 0.8},
		{"2 of 3 strict: Fréchet of best two", "goal G1 k=2 > Sn1 Sn2 Sn3\nsol Sn1\nsol Sn2\nsol Sn3", Options{Strict: true}, Changes{Leaves: three}, 0, "G1", 0.9 + 0.8 - 1},
		{"undeveloped", "goal G1 undeveloped", Options{}, Changes{}, 0, "G1", 0},
		{"IN defeater (1-p)", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting sustained p=0.25 on G1", Options{}, Changes{Leaves: leaves(c(0.8), "Sn1")}, 0, "G1", 0.8 * 0.75},
		{"IN defeater without p", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting sustained on G1", Options{}, Changes{Leaves: leaves(c(0.8), "Sn1")}, 0, "G1", 0},
		{"OUT defeater", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting refuted p=0.5 on G1", Options{}, Changes{Leaves: leaves(c(0.8), "Sn1")}, 0, "G1", 0.8},
		{"residual default penalty", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting on G1 residual=1", Options{}, Changes{Leaves: leaves(c(0.8), "Sn1")}, 0, "G1", 0.8 * 0.9},
		{"residual penalty option", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting on G1 residual=1", Options{ResidualPenalty: 0.5}, Changes{Leaves: leaves(c(0.8), "Sn1")}, 0, "G1", 0.8 * 0.5},
		{"residual no penalty", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting on G1 residual=1", Options{ResidualPenalty: -1}, Changes{Leaves: leaves(c(0.8), "Sn1")}, 0, "G1", 0.8},
		{"residual expired", "goal G1 > Sn1\nsol Sn1\ndef D1 rebutting p=0.5 on G1 residual=1", Options{}, Changes{Leaves: leaves(c(0.8), "Sn1")}, time.Hour, "G1", 0.4},
		{"suspect child scores 0", "goal G1 any > Sn1#a Sn2\nsol Sn1 hash=b\nsol Sn2", Options{}, Changes{Leaves: map[string]LeafResult{"Sn1": c(0.9), "Sn2": c(0.6)}}, 0, "G1", 0.6},
		{"predicates leave confidence alone", "goal G1 > Sn1 @ A1\nsol Sn1\nasm A1 pred", Options{}, Changes{Leaves: leaves(c(0.8), "Sn1"), Predicates: map[string]PredicateValue{"A1": {Value: TruthFalse}}}, 0, "G1", 0.8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEvaluator(t, mustModel(t, tc.model), tc.opts)
			if err := e.Set(tc.ch); err != nil {
				t.Fatal(err)
			}
			e.Evaluate(t0.Add(tc.at))
			r, _ := e.Result(tc.id)
			if diff := r.Confidence - tc.want; diff > 1e-12 || diff < -1e-12 {
				t.Errorf("confidence of %s = %v, want %v", tc.id, r.Confidence, tc.want)
			}
		})
	}
}

func TestLeafConfidence(t *testing.T) {
	w := 24 * time.Hour
	tests := []struct {
		age  time.Duration
		want float64
	}{{0, 0.8}, {12 * time.Hour, 0.6}, {w, 0.4}, {2 * w, 0.4}, {-time.Hour, 0.8}}
	for _, tc := range tests {
		if got := LeafConfidence(0.8, t0, w, t0.Add(tc.age)); got-tc.want > 1e-12 || tc.want-got > 1e-12 {
			t.Errorf("LeafConfidence at age %v = %v, want %v", tc.age, got, tc.want)
		}
	}
	if got := LeafConfidence(0.7, t0, 0, t0.Add(w)); got != 0.7 {
		t.Errorf("no window: %v, want 0.7", got)
	}
}

func TestMessagesNameCulprits(t *testing.T) {
	e := mustEvaluator(t, mustModel(t, "goal G1 > Sn1 Sn2\nsol Sn1\nsol Sn2\ndef D1 rebutting sustained on G1"), Options{})
	e.Evaluate(t0)
	r, _ := e.Result("D1")
	if got, want := r.Reasons[0].Message, "rebutting defeater is in force: D1"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	var ids []string
	for i := range 12 {
		ids = append(ids, string(rune('a'+i)))
	}
	if got, want := message(EvidenceFail, ids), "evidence verdict is FAIL: a, b, c, d, e, f, g, h and 4 more"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{KindAssumption.String(), "Assumption"}, {Kind(0).String(), "Kind(0)"},
		{ModeKOfN.String(), "K_OF_N"}, {Mode(9).String(), "Mode(9)"},
		{Undermining.String(), "undermining"}, {DefeaterKind(0).String(), "DefeaterKind(0)"},
		{AcceptedResidual.String(), "ACCEPTED_RESIDUAL"}, {DefeaterState(7).String(), "DefeaterState(7)"},
		{LevelCritical.String(), "critical"}, {Level(8).String(), "Level(8)"},
		{Undeveloped.String(), "UNDEVELOPED"}, {Status(0).String(), ""}, {Status(9).String(), "Status(9)"},
		{SuspectLink.String(), "SUSPECT_LINK"}, {Code(0).String(), "Code(0)"},
		{Undec.String(), "UNDEC"}, {Label(0).String(), ""}, {Label(5).String(), "Label(5)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("name %q, want %q", tc.got, tc.want)
		}
	}
	if _, err := Status(9).MarshalText(); err == nil {
		t.Error("invalid status marshalled")
	}
	if _, err := Label(9).MarshalText(); err == nil {
		t.Error("invalid label marshalled")
	}
	if !(Severity{Level: LevelHigh}).High() || !(Severity{KEV: true}).High() || (Severity{Level: LevelMedium}).High() {
		t.Error("Severity.High")
	}
}
