package assurance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// recipe is a random case as the builder calls that make it, so that it can be built in
// any order.
type recipe struct {
	elements  []Element
	defeaters []Defeater
	supports  []link
	contexts  []link

	solutions []string // local Solutions: they take leaf results
	preds     []string // elements with a predicate
	defs      []string
	hashed    []string // every argument element: any may get a hash
}

// builder returns a Builder of rc; with r, calls and list orders are shuffled.
func (rc *recipe) builder(r *rand.Rand) *Builder {
	type op func(b *Builder)
	var ops []op
	for _, e := range rc.elements {
		ops = append(ops, func(b *Builder) { b.AddElement(e) })
	}
	for _, d := range rc.defeaters {
		d.Challenges, d.RefutedBy = slices.Clone(d.Challenges), slices.Clone(d.RefutedBy)
		if r != nil {
			r.Shuffle(len(d.Challenges), func(i, j int) { d.Challenges[i], d.Challenges[j] = d.Challenges[j], d.Challenges[i] })
			r.Shuffle(len(d.RefutedBy), func(i, j int) { d.RefutedBy[i], d.RefutedBy[j] = d.RefutedBy[j], d.RefutedBy[i] })
		}
		ops = append(ops, func(b *Builder) { b.AddDefeater(d) })
	}
	for _, l := range rc.supports {
		ops = append(ops, func(b *Builder) { b.SupportedByReviewed(l.from, l.to, l.hash) })
	}
	for _, l := range rc.contexts {
		ops = append(ops, func(b *Builder) { b.InContextOf(l.from, l.to) })
	}
	if r != nil {
		r.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
	}
	b := &Builder{}
	for _, o := range ops {
		o(b)
	}
	return b
}

// genRecipe makes a random valid case of about n elements: a DAG of claims with random
// modes, contexts with and without predicates, away elements across two modules, hashed
// elements and reviewed links, and defeaters whose refutations often close attack cycles.
func genRecipe(r *rand.Rand, n int) *recipe {
	rc := &recipe{}
	nd := r.IntN(n/4 + 1)
	nc := r.IntN(n/5 + 1)
	ncl := max(n-nd-nc, 2)
	kinds := make([]Kind, ncl)
	mods := make([]string, ncl)
	ids := make([]string, ncl)
	for i := range ncl {
		switch p := r.IntN(20); {
		case p < 8 || i == ncl-1:
			kinds[i] = KindSolution
		case p < 17:
			kinds[i] = KindGoal
		default:
			kinds[i] = KindStrategy
		}
		mods[i] = []string{"m1", "m2"}[r.IntN(2)]
		ids[i] = fmt.Sprintf("%s%d", map[Kind]string{KindGoal: "G", KindStrategy: "S", KindSolution: "Sn"}[kinds[i]], i)
	}
	hash := func() string { return []string{"", "h0", "h1"}[r.IntN(3)] }
	var inner []string
	for i := range ncl {
		e := Element{ID: ids[i], Kind: kinds[i], Module: mods[i]}
		if r.IntN(4) == 0 {
			e.Hash = hash()
		}
		// Away: a childless element stands for a later one of the same kind elsewhere.
		if r.IntN(7) == 0 {
			for j := i + 1; j < ncl; j++ {
				if kinds[j] == kinds[i] && mods[j] != mods[i] {
					e.Away = &Ref{Module: mods[j], ID: ids[j]}
					break
				}
			}
		}
		rc.hashed = append(rc.hashed, e.ID)
		switch {
		case e.Away != nil:
		case kinds[i] == KindSolution:
			rc.solutions = append(rc.solutions, e.ID)
		case r.IntN(10) == 0:
			e.Undeveloped = true
		default:
			var children []int
			for range r.IntN(5) {
				if j := i + 1 + r.IntN(ncl-i-1+1); j < ncl && !slices.Contains(children, j) {
					children = append(children, j)
				}
			}
			for _, j := range children {
				rc.supports = append(rc.supports, link{from: e.ID, to: ids[j], hash: hash()})
			}
			if len(children) > 0 {
				e.Mode = Mode(r.IntN(3))
				if e.Mode == ModeKOfN {
					e.K = 1 + r.IntN(len(children))
				}
			}
			inner = append(inner, e.ID)
		}
		rc.elements = append(rc.elements, e)
	}
	for i := range nc {
		k := []Kind{KindContext, KindAssumption, KindJustification}[r.IntN(3)]
		e := Element{ID: fmt.Sprintf("C%d", i), Kind: k, Module: "m1"}
		if k != KindJustification && r.IntN(3) != 0 {
			e.Predicate = true
			rc.preds = append(rc.preds, e.ID)
		}
		rc.elements = append(rc.elements, e)
		rc.hashed = append(rc.hashed, e.ID)
		for range r.IntN(3) {
			if len(inner) == 0 {
				break
			}
			from := inner[r.IntN(len(inner))]
			if !slices.ContainsFunc(rc.contexts, func(l link) bool { return l.from == from && l.to == e.ID }) {
				rc.contexts = append(rc.contexts, link{from: from, to: e.ID})
			}
		}
	}
	pick := func(k int) []string {
		var out []string
		for range k {
			if id := ids[r.IntN(ncl)]; !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}
	for i := range nd {
		d := Defeater{ID: fmt.Sprintf("D%d", i), Module: "m1", Kind: DefeaterKind(1 + r.IntN(3)),
			Challenges: pick(1 + r.IntN(2)), RefutedBy: pick(r.IntN(3)), Assessment: randAssessment(r)}
		rc.defeaters = append(rc.defeaters, d)
		rc.defs = append(rc.defs, d.ID)
	}
	return rc
}

// randTime is t0 plus a multiple of 30 minutes up to 20 hours, so expiries often tie.
func randTime(r *rand.Rand) time.Time { return t0.Add(time.Duration(r.IntN(41)) * 30 * time.Minute) }

func randAssessment(r *rand.Rand) Assessment {
	a := Assessment{State: DefeaterState(r.IntN(4)), Severity: Severity{Level: Level(r.IntN(5)), KEV: r.IntN(4) == 0}}
	if r.IntN(2) == 0 {
		a.Probability = float64(r.IntN(9)) / 8
	}
	if a.State == AcceptedResidual {
		a.Acceptance = Acceptance{Approver: "ciso", Rationale: "accepted", Expires: randTime(r)}
	}
	return a
}

var leafCodes = []Code{0, 0, 0, EvidenceMissing, SubjectChanged, EvidenceStale, KnowledgeStale, EvidenceFail, EvidenceError, EvidenceDegraded, MonitorSilent}

func randLeaf(r *rand.Rand) LeafResult {
	lr := LeafResult{Reason: leafCodes[r.IntN(len(leafCodes))], Confidence: []float64{1, 1, 0.5, 0, 0.875}[r.IntN(5)]}
	if r.IntN(2) == 0 {
		lr.Expires = randTime(r)
	}
	if r.IntN(3) == 0 {
		lr.OnExpiry = MonitorSilent
	}
	if r.IntN(4) == 0 {
		lr.Culprits = []string{fmt.Sprintf("ev%d", r.IntN(3))}
	}
	return lr
}

// randChanges changes a random few inputs of rc (about frac of each kind).
func randChanges(r *rand.Rand, rc *recipe, m *Model, frac int) Changes {
	ch := Changes{Leaves: map[string]LeafResult{}, Predicates: map[string]PredicateValue{},
		Defeaters: map[string]Assessment{}, Hashes: map[string]string{}}
	for _, id := range rc.solutions {
		if r.IntN(frac) == 0 {
			ch.Leaves[id] = randLeaf(r)
		}
	}
	for _, id := range rc.preds {
		if r.IntN(frac) == 0 {
			v := PredicateValue{Value: Truth(r.IntN(3))}
			if r.IntN(2) == 0 {
				v.Expires = randTime(r)
			}
			ch.Predicates[id] = v
		}
	}
	for _, id := range rc.defs {
		if r.IntN(frac) == 0 {
			ch.Defeaters[id] = randAssessment(r)
		}
	}
	for _, id := range rc.hashed {
		if r.IntN(frac*2) == 0 {
			ch.Hashes[id] = []string{"", "h0", "h1"}[r.IntN(3)]
		}
	}
	for _, l := range rc.supports {
		if r.IntN(frac*2) == 0 {
			ch.Reviews = append(ch.Reviews, Review{Parent: l.from, Child: l.to, Hash: []string{"", "h0", "h1"}[r.IntN(3)]})
		}
	}
	return ch
}

// inputs accumulates every change given so far, to replay them into a fresh Evaluator.
type inputs struct {
	leaves  map[string]LeafResult
	preds   map[string]PredicateValue
	defs    map[string]Assessment
	hashes  map[string]string
	reviews map[[2]string]string
}

func newInputs() *inputs {
	return &inputs{leaves: map[string]LeafResult{}, preds: map[string]PredicateValue{}, defs: map[string]Assessment{},
		hashes: map[string]string{}, reviews: map[[2]string]string{}}
}

func (in *inputs) add(ch Changes) {
	for k, v := range ch.Leaves {
		in.leaves[k] = v
	}
	for k, v := range ch.Predicates {
		in.preds[k] = v
	}
	for k, v := range ch.Defeaters {
		in.defs[k] = v
	}
	for k, v := range ch.Hashes {
		in.hashes[k] = v
	}
	for _, rv := range ch.Reviews {
		in.reviews[[2]string{rv.Parent, rv.Child}] = rv.Hash
	}
}

func (in *inputs) changes() Changes {
	ch := Changes{Leaves: in.leaves, Predicates: in.preds, Defeaters: in.defs, Hashes: in.hashes}
	for k, h := range in.reviews {
		ch.Reviews = append(ch.Reviews, Review{Parent: k[0], Child: k[1], Hash: h})
	}
	return ch
}

func randOptions(r *rand.Rand) Options {
	return Options{Strict: r.IntN(3) == 0, ResidualPenalty: []float64{0, -1, 0.25, 1}[r.IntN(4)]}
}

// TestIncrementalEqualsFull applies random change sequences to random cases with Update, and
// checks after every step that the results equal a from-scratch Evaluate of the same
// inputs at the same time, that the reported changes are exactly the results that changed,
// and that NextReevalAt agrees.
func TestIncrementalEqualsFull(t *testing.T) {
	cases := 1500
	if testing.Short() {
		cases = 100
	}
	for seed := range uint64(cases) {
		r := rand.New(rand.NewPCG(seed, 1))
		rc := genRecipe(r, 4+r.IntN(27))
		m, err := rc.builder(nil).Build()
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		opts := randOptions(r)
		inc := mustEvaluator(t, m, opts)
		in := newInputs()
		now := t0
		if r.IntN(2) == 0 {
			first := randChanges(r, rc, m, 1)
			if err := inc.Set(first); err != nil {
				t.Fatal(err)
			}
			in.add(first)
			inc.Evaluate(now)
		}
		for step := range 12 {
			ch := randChanges(r, rc, m, 1+r.IntN(8))
			if r.IntN(4) == 0 {
				ch = Changes{} // a pure sweep
			}
			now = now.Add(time.Duration(r.IntN(5)) * 30 * time.Minute)
			before := inc.Results()
			cs, err := inc.Update(ch, now)
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			in.add(ch)
			full := mustEvaluator(t, m, opts)
			if err := full.Set(in.changes()); err != nil {
				t.Fatal(err)
			}
			full.Evaluate(now)
			after := inc.Results()
			want := full.Results()
			for i := range want {
				if !after[i].Equal(want[i].Result) {
					t.Fatalf("seed %d step %d: %s incremental %s (conf %v, next %v), full %s (conf %v, next %v)", seed, step, want[i].ID,
						summary(after[i].Result), after[i].Confidence, after[i].NextReevalAt,
						summary(want[i].Result), want[i].Confidence, want[i].NextReevalAt)
				}
			}
			if !slices.Equal(inc.up, full.up) {
				t.Fatalf("seed %d step %d: upper bounds differ", seed, step)
			}
			if inc.evaluated && len(before) > 0 && before[0].Status != 0 {
				var changed []string
				for i := range after {
					if !before[i].Equal(after[i].Result) {
						changed = append(changed, after[i].ID)
					}
				}
				var reported []string
				for _, c := range cs {
					reported = append(reported, c.Element)
					i := slices.IndexFunc(before, func(b ElementResult) bool { return b.ID == c.Element })
					if !c.From.Equal(before[i].Result) || !c.To.Equal(after[i].Result) {
						t.Fatalf("seed %d step %d: change of %s has wrong From/To", seed, step, c.Element)
					}
				}
				slices.Sort(reported)
				if !slices.Equal(changed, reported) {
					t.Fatalf("seed %d step %d: changed %v, reported %v", seed, step, changed, reported)
				}
			}
			if got, want := inc.NextReevalAt(), full.NextReevalAt(); !got.Equal(want) {
				t.Fatalf("seed %d step %d: NextReevalAt %v, full %v", seed, step, got, want)
			}
			checkInvariants(t, m, inc)
		}
	}
}

// checkInvariants checks properties every evaluated result has.
func checkInvariants(t testing.TB, m *Model, e *Evaluator) {
	t.Helper()
	for _, r := range e.Results() {
		if !r.Status.valid() {
			t.Fatalf("%s: status %v", r.ID, r.Status)
		}
		if (m.Kind(r.ID) == KindDefeater) != (r.Label != 0) {
			t.Fatalf("%s: label %v on a %v", r.ID, r.Label, m.Kind(r.ID))
		}
		if r.Confidence < 0 || r.Confidence > 1 || r.Confidence != r.Confidence {
			t.Fatalf("%s: confidence %v", r.ID, r.Confidence)
		}
		if r.Status != Supported && len(r.Reasons) == 0 {
			t.Fatalf("%s: %v without a reason", r.ID, r.Status)
		}
		for i, rs := range r.Reasons {
			if !rs.Code.valid() || (i > 0 && r.Reasons[i-1].Code >= rs.Code) {
				t.Fatalf("%s: reasons not sorted by code: %s", r.ID, summary(r.Result))
			}
			if len(rs.Culprits) == 0 || !slices.IsSorted(rs.Culprits) || len(slices.Compact(slices.Clone(rs.Culprits))) != len(rs.Culprits) {
				t.Fatalf("%s: culprits %v", r.ID, rs.Culprits)
			}
			if rs.Message != message(rs.Code, rs.Culprits) {
				t.Fatalf("%s: message %q", r.ID, rs.Message)
			}
		}
		if !r.NextReevalAt.IsZero() && !e.now.Before(r.NextReevalAt) {
			t.Fatalf("%s: NextReevalAt %v not after now %v", r.ID, r.NextReevalAt, e.now)
		}
	}
}

// TestGroundedMatchesBruteForce compares the engine's labelling with a brute-force
// grounded labelling on small random attack graphs: claims (a Goal over a passing
// Solution) attack the defeaters they refute, defeaters attack the claims they challenge.
// The brute force enumerates every labelling, keeps the complete ones, and takes the one
// whose IN set is least.
func TestGroundedMatchesBruteForce(t *testing.T) {
	cycles := 0
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 2))
		nc, nd := 1+r.IntN(4), 1+r.IntN(4)
		b := &Builder{}
		var claims []string
		lr := map[string]LeafResult{}
		for i := range nc {
			g, s := fmt.Sprintf("C%d", i), fmt.Sprintf("Sn%d", i)
			b.AddElement(Element{ID: g, Kind: KindGoal})
			b.AddElement(Element{ID: s, Kind: KindSolution})
			b.SupportedBy(g, s)
			claims = append(claims, g)
			lr[s] = pass
		}
		// Arguments: claims 0..nc-1, defeaters nc..nc+nd-1, and one unattacked argument
		// standing for triage (REFUTED, or accepted as residual risk).
		n := nc + nd + 1
		triage := n - 1
		attackers := make([][]int, n)
		for i := range nd {
			d := Defeater{ID: fmt.Sprintf("D%d", i), Kind: DefeaterKind(1 + r.IntN(3)),
				Assessment: Assessment{State: []DefeaterState{Open, Sustained}[r.IntN(2)], Severity: Severity{Level: Level(r.IntN(5))}}}
			switch r.IntN(8) {
			case 0:
				d.Assessment.State = Refuted
				attackers[nc+i] = append(attackers[nc+i], triage)
			case 1:
				d.Assessment.State = AcceptedResidual
				d.Assessment.Acceptance = Acceptance{Approver: "a", Rationale: "r", Expires: t0.Add(time.Hour)}
				attackers[nc+i] = append(attackers[nc+i], triage)
			}
			for c := range nc {
				if r.IntN(3) == 0 || (c == nc-1 && len(d.Challenges) == 0) {
					d.Challenges = append(d.Challenges, claims[c])
					attackers[c] = append(attackers[c], nc+i)
				}
				if r.IntN(3) == 0 {
					d.RefutedBy = append(d.RefutedBy, claims[c])
					attackers[nc+i] = append(attackers[nc+i], c)
				}
			}
			b.AddDefeater(d)
		}
		m, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		e := mustEvaluator(t, m, Options{})
		if err := e.Set(Changes{Leaves: lr}); err != nil {
			t.Fatal(err)
		}
		e.Evaluate(t0)
		want := bruteGrounded(t, attackers)
		for a := range n - 1 {
			var id string
			var got Label
			if a < nc {
				id = claims[a]
				r, _ := e.Result(id)
				// A claim is IN exactly when it is SUPPORTED.
				if (r.Status == Supported) != (want[a] == In) {
					t.Fatalf("seed %d: claim %s is %s, brute force labels it %s", seed, id, r.Status, want[a])
				}
				continue
			}
			id = fmt.Sprintf("D%d", a-nc)
			r, _ := e.Result(id)
			got = r.Label
			if got != want[a] {
				t.Fatalf("seed %d: %s labelled %s, brute force %s (attackers %v)", seed, id, got, want[a], attackers)
			}
			if got == Undec {
				cycles++
			}
		}
	}
	if cycles == 0 {
		t.Error("no random attack graph had an UNDEC defeater: the generator misses cycles")
	}
}

// bruteGrounded returns the grounded labelling of the attack graph by enumeration.
func bruteGrounded(t testing.TB, attackers [][]int) []Label {
	n := len(attackers)
	lab := make([]Label, n)
	var complete [][]Label
	var rec func(i int)
	rec = func(i int) {
		if i == n {
			for a := range n {
				allOut, someIn := true, false
				for _, b := range attackers[a] {
					allOut = allOut && lab[b] == Out
					someIn = someIn || lab[b] == In
				}
				want := Undec
				switch {
				case allOut:
					want = In
				case someIn:
					want = Out
				}
				if lab[a] != want {
					return
				}
			}
			complete = append(complete, slices.Clone(lab))
			return
		}
		for _, l := range []Label{In, Out, Undec} {
			lab[i] = l
			rec(i + 1)
		}
	}
	rec(0)
	// The grounded labelling is the complete labelling whose IN set is contained in every
	// other's.
	var grounded []Label
	for _, c := range complete {
		least := true
		for _, o := range complete {
			for a := range n {
				if c[a] == In && o[a] != In {
					least = false
				}
			}
		}
		if least {
			if grounded != nil {
				t.Fatal("two least complete labellings")
			}
			grounded = c
		}
	}
	if grounded == nil {
		t.Fatalf("no least complete labelling among %d", len(complete))
	}
	return grounded
}

// TestDeterminism builds random cases with shuffled insertion orders and checks that the
// results and changes encode to identical JSON.
func TestDeterminism(t *testing.T) {
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 3))
		rc := genRecipe(r, 10+r.IntN(21))
		m0, err := rc.builder(nil).Build()
		if err != nil {
			t.Fatal(err)
		}
		ch1 := randChanges(r, rc, m0, 1)
		ch2 := randChanges(r, rc, m0, 2)
		opts := randOptions(r)
		var want []byte
		for shuffle := range uint64(4) {
			m, err := rc.builder(rand.New(rand.NewPCG(seed, shuffle))).Build()
			if err != nil {
				t.Fatal(err)
			}
			e := mustEvaluator(t, m, opts)
			if err := e.Set(ch1); err != nil {
				t.Fatal(err)
			}
			cs1 := e.Evaluate(t0)
			cs2, err := e.Update(ch2, t0.Add(3*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(struct {
				Results []ElementResult
				First   []StatusChange
				Second  []StatusChange
			}{e.Results(), cs1, cs2})
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = got
			} else if !bytes.Equal(got, want) {
				t.Fatalf("seed %d shuffle %d: results differ:\n%s\n%s", seed, shuffle, got, want)
			}
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	for s := Supported; s <= Undermined; s++ {
		var got Status
		b, _ := s.MarshalText()
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("status %v round trip: %v %v", s, got, err)
		}
	}
	for c := EvidenceMissing; c < numCodes; c++ {
		var got Code
		b, _ := c.MarshalText()
		if err := got.UnmarshalText(b); err != nil || got != c {
			t.Errorf("code %v round trip: %v %v", c, got, err)
		}
	}
	for l := In; l <= Undec; l++ {
		var got Label
		b, _ := l.MarshalText()
		if err := got.UnmarshalText(b); err != nil || got != l {
			t.Errorf("label %v round trip: %v %v", l, got, err)
		}
	}
	var s Status
	var c Code
	var l Label
	if s.UnmarshalText([]byte("GOOD")) == nil || c.UnmarshalText([]byte("")) == nil || l.UnmarshalText([]byte("MAYBE")) == nil {
		t.Error("unknown names accepted")
	}
	if _, err := Code(0).MarshalText(); err == nil {
		t.Error("zero code marshalled")
	}
	r := Result{Status: Undermined, Label: In, Reasons: []Reason{newReason(Defeated, []string{"D1"})}, Confidence: 0.5, NextReevalAt: t0}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"status":"UNDERMINED","label":"IN","reasons":[{"code":"DEFEATED","message":"rebutting defeater is in force: D1","culprits":["D1"]}],"confidence":0.5,"nextReevalAt":"2025-06-01T12:00:00Z"}`; string(b) != want {
		t.Errorf("JSON %s\nwant %s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(r) {
		t.Errorf("JSON round trip %+v %v", back, err)
	}
}
