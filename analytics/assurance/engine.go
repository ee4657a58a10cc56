package assurance

import (
	"fmt"
	"math"
	"time"
)

// DefaultResidualPenalty is the confidence penalty of an accepted residual risk when
// Options.ResidualPenalty is zero.
const DefaultResidualPenalty = 0.1

// Options tune an Evaluator.
type Options struct {
	// Strict makes EVIDENCE_DEGRADED leaves UNDERMINED, and combines the confidence of ALL
	// (and K_OF_N) nodes with the Fréchet bound max(0, Σc − (n−1)) instead of the minimum.
	Strict bool
	// ResidualPenalty in [0, 1] scales the confidence of an element challenged by a
	// defeater accepted as residual risk by (1 − ResidualPenalty). Zero means
	// DefaultResidualPenalty; a negative value means no penalty.
	ResidualPenalty float64
}

// Cause says why a StatusChange happened.
type Cause struct {
	// Full is set for changes found by Evaluate.
	Full bool `json:"full,omitzero"`
	// Inputs are the ids whose inputs changed (leaf results, predicate values, defeater
	// assessments, hashes, reviews) and from which the change propagated, sorted.
	Inputs []string `json:"inputs,omitempty"`
	// Expired are the ids whose inputs expired (a leaf result, a predicate value, a
	// residual acceptance) and from which the change propagated, sorted.
	Expired []string `json:"expired,omitempty"`
	// Note is Changes.Note.
	Note string `json:"note,omitempty"`
}

// StatusChange is a change of one element's result. From is the zero Result on the first
// evaluation.
type StatusChange struct {
	Element string `json:"element"`
	From    Result `json:"from"`
	To      Result `json:"to"`
	Cause   Cause  `json:"cause"`
}

// StatusChanged reports whether the status itself changed, rather than only the reasons,
// confidence, label or next re-evaluation time.
func (c StatusChange) StatusChanged() bool { return c.From.Status != c.To.Status }

// causeSet is a pending cause: sorted node indexes (which sort like ids).
type causeSet struct{ inputs, expired []int32 }

// Evaluator holds a Model, its current inputs and results, and recomputes results
// incrementally when inputs change. It is not safe for concurrent use.
type Evaluator struct {
	m       *Model
	opts    Options
	penalty float64

	// Inputs.
	leaves   []leafInput
	preds    []predInput
	assess   []Assessment
	hash     []string
	reviewed [][]string
	exp      expiryHeap

	res []Result
	// up is each argument element's upper bound: whether it would be SUPPORTED if every
	// undecided defeater were OUT (see upper).
	up        []bool
	now       time.Time
	evaluated bool

	// Pending work: dirty components with their causes, by component index.
	pend  map[int32]*causeSet
	queue compHeap

	// Scratch.
	a     acc
	fbuf  []float64
	lab   []Label
	self  map[int32][]Reason
	evals int // element evaluations, for tests
}

// NewEvaluator returns an Evaluator of m with no leaf results (every Solution is
// EVIDENCE_MISSING), every predicate unknown, and the model's hashes, reviews and initial
// defeater assessments. Call Set and Evaluate, or Update, to compute results.
func NewEvaluator(m *Model, opts Options) (*Evaluator, error) {
	p := opts.ResidualPenalty
	switch {
	case math.IsNaN(p) || p > 1:
		return nil, fmt.Errorf("assurance: residual penalty %v outside [0, 1]", p)
	case p == 0:
		p = DefaultResidualPenalty
	case p < 0:
		p = 0
	}
	n := len(m.nodes)
	e := &Evaluator{
		m: m, opts: opts, penalty: p,
		leaves: make([]leafInput, n), preds: make([]predInput, n), assess: make([]Assessment, n),
		hash: make([]string, n), reviewed: make([][]string, n),
		res:  make([]Result, n),
		pend: map[int32]*causeSet{},
		lab:  make([]Label, n), up: make([]bool, n),
		self: map[int32][]Reason{},
	}
	e.exp.pos = make([]int32, n)
	for x := range m.nodes {
		nd := &m.nodes[x]
		e.exp.pos[x] = -1
		e.hash[x] = nd.el.Hash
		e.reviewed[x] = nd.reviewed
		if nd.def >= 0 {
			e.assess[x] = m.defeaters[nd.def].Assessment
			e.exp.set(int32(x), acceptanceExpiry(e.assess[x]))
		}
	}
	return e, nil
}

// Model returns the evaluator's model.
func (e *Evaluator) Model() *Model { return e.m }

// Set records new inputs without evaluating: the affected elements are re-evaluated by the
// next Update, or everything by the next Evaluate. It validates every input first and
// records none if any is invalid.
func (e *Evaluator) Set(ch Changes) error {
	if err := e.validate(ch); err != nil {
		return fmt.Errorf("set: %w", err)
	}
	e.apply(ch)
	return nil
}

// Evaluate recomputes every result from the current inputs at now, and returns the
// results that changed, in evaluation order (an element after what it depends on). Time
// may go backwards here: expiries are recomputed from scratch.
func (e *Evaluator) Evaluate(now time.Time) []StatusChange {
	e.now = now
	old := e.res
	e.res = make([]Result, len(old))
	for c := range e.m.comps {
		e.evalComponent(int32(c))
	}
	var changes []StatusChange
	for c := range e.m.comps {
		for _, x := range e.m.comps[c] {
			if !e.evaluated || !old[x].Equal(e.res[x]) {
				changes = append(changes, StatusChange{Element: e.m.nodes[x].id, From: old[x].clone(), To: e.res[x].clone(), Cause: Cause{Full: true}})
			}
		}
	}
	// Every expiry up to now is accounted for.
	e.exp.items = e.exp.items[:0]
	for x := range e.exp.pos {
		e.exp.pos[x] = -1
		if t := e.ownExpiry(int32(x)); !t.IsZero() {
			e.exp.set(int32(x), t)
		}
	}
	clear(e.pend)
	e.queue = e.queue[:0]
	e.evaluated = true
	return changes
}

// Update records new inputs, lets time advance to now, and re-evaluates only what they
// affect: the dirty elements (changed inputs, inputs that expired by now) and, in
// dependency order, the elements depending on them, as long as results change. It returns
// every result that changed, in evaluation order. Call it with empty Changes and a later
// now to apply expiries (see NextReevalAt); that costs only what the expiries affect.
//
// Time never goes backwards: a now before the latest one seen counts as the latest. Before
// the first Evaluate, Update evaluates everything. If any input is invalid, Update records
// none and returns the error.
func (e *Evaluator) Update(ch Changes, now time.Time) ([]StatusChange, error) {
	if err := e.validate(ch); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if !e.evaluated {
		e.apply(ch)
		return e.Evaluate(now), nil
	}
	if now.Before(e.now) {
		now = e.now
	}
	e.now = now
	e.apply(ch)
	for {
		t, x, ok := e.exp.min()
		if !ok || now.Before(t) {
			break
		}
		e.exp.remove(x)
		e.mark(e.m.comp[x], nil, []int32{x})
	}
	var changes []StatusChange
	for len(e.queue) > 0 {
		c := e.queue.pop()
		cs := e.pend[c]
		delete(e.pend, c)
		members := e.m.comps[c]
		var single Result
		var singleUp bool
		var olds []Result
		var oldUps []bool
		if len(members) == 1 {
			single, singleUp = e.res[members[0]], e.up[members[0]]
		} else {
			olds = make([]Result, len(members))
			oldUps = make([]bool, len(members))
			for i, x := range members {
				olds[i], oldUps[i] = e.res[x], e.up[x]
			}
		}
		e.evalComponent(c)
		for i, x := range members {
			old, oldUp := single, singleUp
			if olds != nil {
				old, oldUp = olds[i], oldUps[i]
			}
			same := old.Equal(e.res[x])
			if same && oldUp == e.up[x] {
				continue
			}
			if !same {
				cause := Cause{Inputs: e.names(cs.inputs), Expired: e.names(cs.expired), Note: ch.Note}
				changes = append(changes, StatusChange{Element: e.m.nodes[x].id, From: old.clone(), To: e.res[x].clone(), Cause: cause})
			}
			for _, y := range e.m.nodes[x].dependents {
				if d := e.m.comp[y]; d != c {
					e.mark(d, cs.inputs, cs.expired)
				}
			}
		}
	}
	return changes, nil
}

func (e *Evaluator) names(xs []int32) []string {
	if len(xs) == 0 {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = e.m.nodes[x].id
	}
	return out
}

// markInput marks node x dirty because the input of node cause changed.
func (e *Evaluator) markInput(x, cause int32) {
	e.mark(e.m.comp[x], []int32{cause}, nil)
}

// mark queues component c with the given causes, merged into any it already has.
func (e *Evaluator) mark(c int32, inputs, expired []int32) {
	cs, ok := e.pend[c]
	if !ok {
		e.pend[c] = &causeSet{inputs: inputs, expired: expired}
		e.queue.push(c)
		return
	}
	cs.inputs = unionSorted(cs.inputs, inputs)
	cs.expired = unionSorted(cs.expired, expired)
}

// unionSorted returns the union of two sorted, duplicate-free slices, reusing one of them
// when the other adds nothing. Neither is modified.
func unionSorted(a, b []int32) []int32 {
	if len(b) == 0 || sameSlice(a, b) {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	out = append(out, b[j:]...)
	if len(out) == len(a) {
		return a
	}
	return out
}

// Result returns the current result of element id.
func (e *Evaluator) Result(id string) (Result, bool) {
	x, ok := e.m.index[id]
	if !ok {
		return Result{}, false
	}
	return e.res[x].clone(), true
}

// Results returns every element's current result, sorted by id.
func (e *Evaluator) Results() []ElementResult {
	out := make([]ElementResult, len(e.res))
	for x := range e.res {
		out[x] = ElementResult{ID: e.m.nodes[x].id, Result: e.res[x].clone()}
	}
	return out
}

// NextReevalAt returns when the sweeper should next call Update (with no changes): the
// earliest leaf, predicate or residual-acceptance expiry not yet applied, or zero if none.
func (e *Evaluator) NextReevalAt() time.Time {
	t, _, _ := e.exp.min()
	return t
}

// Impact is Model.Impact.
func (e *Evaluator) Impact(ids ...string) ([]string, error) { return e.m.Impact(ids...) }

// expiryHeap is an indexed min-heap of nodes by the expiry of their input.
type expiryHeap struct {
	items []expiryItem
	pos   []int32 // index in items, or -1
}

type expiryItem struct {
	at time.Time
	x  int32
}

func (h *expiryHeap) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if c := a.at.Compare(b.at); c != 0 {
		return c < 0
	}
	return a.x < b.x
}

func (h *expiryHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i].x] = int32(i)
	h.pos[h.items[j].x] = int32(j)
}

func (h *expiryHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *expiryHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h.items) {
			return
		}
		if r := l + 1; r < len(h.items) && h.less(r, l) {
			l = r
		}
		if !h.less(l, i) {
			return
		}
		h.swap(i, l)
		i = l
	}
}

// set makes t the expiry of x; zero removes it.
func (h *expiryHeap) set(x int32, t time.Time) {
	if t.IsZero() {
		h.remove(x)
		return
	}
	if i := h.pos[x]; i >= 0 {
		h.items[i].at = t
		h.up(int(i))
		h.down(int(h.pos[x]))
		return
	}
	h.items = append(h.items, expiryItem{at: t, x: x})
	h.pos[x] = int32(len(h.items) - 1)
	h.up(len(h.items) - 1)
}

func (h *expiryHeap) remove(x int32) {
	i := int(h.pos[x])
	if i < 0 {
		return
	}
	last := len(h.items) - 1
	h.swap(i, last)
	h.items = h.items[:last]
	h.pos[x] = -1
	if i < last {
		h.up(i)
		h.down(int(h.pos[h.items[i].x]))
	}
}

func (h *expiryHeap) min() (time.Time, int32, bool) {
	if len(h.items) == 0 {
		return time.Time{}, -1, false
	}
	return h.items[0].at, h.items[0].x, true
}

// compHeap is a min-heap of component indexes: components are indexed in dependency
// order, so popping the smallest evaluates each after everything it depends on.
type compHeap []int32

func (q *compHeap) push(c int32) {
	*q = append(*q, c)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (q *compHeap) pop() int32 {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		if r := l + 1; r < len(h) && h[r] < h[l] {
			l = r
		}
		if h[i] <= h[l] {
			break
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
	*q = h
	return top
}
