package assurance

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks on a generated case of 10,000 elements:
//
//	go test ./analytics/assurance/ -run XXX -bench . -benchmem

// benchCase is a generated case with its inputs.
type benchCase struct {
	m      *Model
	inputs Changes
	leaves []string // local Solutions, deepest first
	depth  int
}

// genBenchCase generates a case of about n elements: a goal hierarchy about eight levels
// deep with fan-outs of 2 to 5 through goals and strategies (70% ALL, 15% ANY, 15%
// K_OF_N), 2 or 3 Solutions under each bottom goal, some children shared between parents,
// assumptions with predicates, and defeaters (about 2%) challenging random claims, refuted
// by their own VEX-style sub-cases, some of them on attack cycles. Inputs: 90% of the
// leaves pass, 5% fail, 5% are stale; half of them expire within a day.
func genBenchCase(n int, seed uint64) *benchCase {
	r := rand.New(rand.NewPCG(seed, 7))
	b := &Builder{}
	bc := &benchCase{inputs: Changes{Leaves: map[string]LeafResult{}, Predicates: map[string]PredicateValue{}}}
	count := 0
	newID := func(prefix string) string {
		count++
		return fmt.Sprintf("%s%d", prefix, count)
	}
	var claims []string
	addLeaf := func() string {
		id := newID("Sn")
		b.AddElement(Element{ID: id, Kind: KindSolution})
		bc.leaves = append(bc.leaves, id)
		lr := LeafResult{Confidence: 0.5 + float64(r.IntN(6))/10}
		switch p := r.IntN(100); {
		case p < 5:
			lr.Reason = EvidenceFail
		case p < 10:
			lr.Reason = EvidenceStale
		}
		if r.IntN(2) == 0 {
			lr.Expires = t0.Add(time.Duration(1+r.IntN(24*60)) * time.Minute)
		}
		bc.inputs.Leaves[id] = lr
		claims = append(claims, id)
		return id
	}
	// Breadth-first growth: an inner node is added once its children (and so its mode)
	// are known.
	root := Element{ID: newID("G"), Kind: KindGoal}
	claims = append(claims, root.ID)
	frontier := []Element{root}
	budget := n * 96 / 100
	pending := 1 // inner nodes created but not yet given children
	for depth := 1; len(frontier) > 0; depth++ {
		var next []Element
		var nextIDs []string
		for _, p := range frontier {
			pending--
			fan := 2 + r.IntN(4)
			// Grow deeper only if the budget still covers a few leaves for every node
			// waiting for children.
			bottom := budget-count-4*pending < fan*5 || depth >= 10
			var children []string
			for range fan {
				if bottom {
					children = append(children, addLeaf())
					continue
				}
				e := Element{ID: newID("G"), Kind: KindGoal}
				if r.IntN(5) == 0 {
					e.Kind = KindStrategy
				}
				claims = append(claims, e.ID)
				children = append(children, e.ID)
				pending++
				next = append(next, e)
				nextIDs = append(nextIDs, e.ID)
			}
			// Now and then share a child of an earlier parent of this level (links only go
			// one level down, so no cycle).
			if len(nextIDs) > fan && r.IntN(10) == 0 {
				if c := nextIDs[r.IntN(len(nextIDs)-fan)]; !contains(children, c) {
					children = append(children, c)
				}
			}
			switch x := r.IntN(100); {
			case x < 15:
				p.Mode = ModeAny
			case x < 30:
				p.Mode, p.K = ModeKOfN, 1+r.IntN(len(children))
			}
			b.AddElement(p)
			for _, c := range children {
				b.SupportedBy(p.ID, c)
			}
			if r.IntN(30) == 0 {
				a := newID("A")
				b.AddElement(Element{ID: a, Kind: KindAssumption, Predicate: true})
				b.InContextOf(p.ID, a)
				bc.inputs.Predicates[a] = PredicateValue{Value: TruthTrue, Expires: t0.Add(time.Duration(1+r.IntN(48)) * time.Hour)}
			}
		}
		if len(next) > 0 {
			bc.depth = depth
		}
		frontier = next
	}
	// Defeaters with refutation sub-cases.
	for count < n-4 {
		d := Defeater{ID: newID("D"), Kind: DefeaterKind(1 + r.IntN(3)),
			Assessment: Assessment{State: DefeaterState(r.IntN(2)), Severity: Severity{Level: Level(r.IntN(5)), KEV: r.IntN(10) == 0}, Probability: 0.3}}
		for range 1 + r.IntN(3) {
			c := claims[r.IntN(len(claims))]
			if !contains(d.Challenges, c) {
				d.Challenges = append(d.Challenges, c)
			}
		}
		if r.IntN(2) == 0 {
			vex, sn := newID("VEX"), newID("SnV")
			b.AddElement(Element{ID: vex, Kind: KindGoal})
			b.AddElement(Element{ID: sn, Kind: KindSolution})
			b.SupportedBy(vex, sn)
			bc.inputs.Leaves[sn] = LeafResult{Confidence: 0.9}
			d.RefutedBy = append(d.RefutedBy, vex)
			if r.IntN(10) == 0 {
				d.Challenges = append(d.Challenges, vex) // an attack cycle
			}
		}
		b.AddDefeater(d)
	}
	m, err := b.Build()
	if err != nil {
		panic(err)
	}
	bc.m = m
	// Deepest leaves first.
	for i, j := 0, len(bc.leaves)-1; i < j; i, j = i+1, j-1 {
		bc.leaves[i], bc.leaves[j] = bc.leaves[j], bc.leaves[i]
	}
	return bc
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// benchFixture builds the 10,000-element case once per test binary.
func benchFixture(tb testing.TB) *benchCase {
	tb.Helper()
	return genBenchCase(10000, 1)
}

func BenchmarkEvaluateFull(b *testing.B) {
	bc := benchFixture(b)
	e := mustEvaluator(b, bc.m, Options{})
	if err := e.Set(bc.inputs); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bc.m.Len()), "elements")
	b.ResetTimer()
	for range b.N {
		e.Evaluate(t0)
	}
}

// BenchmarkUpdateOneLeaf flips one leaf between PASS and FAIL per operation, cycling over
// 256 leaves, and reports the elements evaluated per update.
func BenchmarkUpdateOneLeaf(b *testing.B) {
	bc := benchFixture(b)
	e := mustEvaluator(b, bc.m, Options{})
	if err := e.Set(bc.inputs); err != nil {
		b.Fatal(err)
	}
	e.Evaluate(t0)
	leaves := bc.leaves[:256]
	fail := make([]bool, len(leaves))
	ch := Changes{Leaves: map[string]LeafResult{}}
	e.evals = 0
	b.ResetTimer()
	for i := range b.N {
		j := i % len(leaves)
		fail[j] = !fail[j]
		clear(ch.Leaves)
		lr := LeafResult{Confidence: 0.9}
		if fail[j] {
			lr.Reason = EvidenceFail
		}
		ch.Leaves[leaves[j]] = lr
		if _, err := e.Update(ch, t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.evals)/float64(b.N), "evals/op")
}

// TestBenchCaseIsIncremental checks the benchmark's case: its size and depth, that one-leaf
// updates evaluate a tiny part of it, and that they agree with a full evaluation.
func TestBenchCaseIsIncremental(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 elements")
	}
	bc := benchFixture(t)
	if n := bc.m.Len(); n < 9900 || n > 10000 || bc.depth < 6 {
		t.Fatalf("case of %d elements, depth %d", n, bc.depth)
	}
	cyclic := 0
	for _, c := range bc.m.cyclic {
		if c {
			cyclic++
		}
	}
	if cyclic == 0 {
		t.Error("no attack cycle in the benchmark case")
	}
	defeaters := 0
	for _, id := range bc.m.IDs() {
		if bc.m.Kind(id) == KindDefeater {
			defeaters++
		}
	}
	t.Logf("%d elements, %d leaves, %d defeaters, depth %d, %d attack cycles", bc.m.Len(), len(bc.leaves), defeaters, bc.depth, cyclic)
	e := mustEvaluator(t, bc.m, Options{})
	if err := e.Set(bc.inputs); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(t0)
	e.evals = 0
	for i, id := range bc.leaves[:50] {
		lr := LeafResult{Confidence: 0.9}
		if i%2 == 0 {
			lr.Reason = EvidenceFail
		}
		if _, err := e.Update(Changes{Leaves: map[string]LeafResult{id: lr}}, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		bc.inputs.Leaves[id] = lr
	}
	if per := e.evals / 50; per > bc.m.Len()/100 {
		t.Errorf("%d evaluations per one-leaf update on %d elements", per, bc.m.Len())
	}
	full := mustEvaluator(t, bc.m, Options{})
	if err := full.Set(bc.inputs); err != nil {
		t.Fatal(err)
	}
	full.Evaluate(t0.Add(49 * time.Minute))
	want := full.Results()
	for i, got := range e.Results() {
		if !got.Equal(want[i].Result) {
			t.Fatalf("%s: incremental %s, full %s", got.ID, summary(got.Result), summary(want[i].Result))
		}
	}
}
