package assurance

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Kind is the kind of an element.
type Kind uint8

// The element kinds: the six GSN core elements and defeaters.
const (
	KindGoal Kind = iota + 1
	KindStrategy
	KindSolution
	KindContext
	KindAssumption
	KindJustification
	KindDefeater
)

var kindNames = [...]string{KindGoal: "Goal", KindStrategy: "Strategy", KindSolution: "Solution",
	KindContext: "Context", KindAssumption: "Assumption", KindJustification: "Justification", KindDefeater: "Defeater"}

// String returns the kind's GSN name, such as "Goal".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// inner reports whether elements of kind k combine SUPPORTED_BY children.
func (k Kind) inner() bool { return k == KindGoal || k == KindStrategy }

// claim reports whether an element of kind k can be supported, challenged, or refute a
// defeater: Goals, Strategies and Solutions.
func (k Kind) claim() bool { return k == KindGoal || k == KindStrategy || k == KindSolution }

// contextual reports whether an element of kind k can be the target of IN_CONTEXT_OF.
func (k Kind) contextual() bool {
	return k == KindContext || k == KindAssumption || k == KindJustification
}

// Mode is how an inner node (Goal or Strategy) combines its SUPPORTED_BY children.
type Mode uint8

// The modes. The zero Mode is ModeAll.
const (
	// ModeAll: the worst child.
	ModeAll Mode = iota
	// ModeAny: the best child (diverse arguments).
	ModeAny
	// ModeKOfN: SUPPORTED if at least k children are, UNDERMINED if more than n−k are,
	// otherwise the worst of the children that are neither.
	ModeKOfN
)

var modeNames = [...]string{ModeAll: "ALL", ModeAny: "ANY", ModeKOfN: "K_OF_N"}

// String returns the mode's name, such as "K_OF_N".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// DefeaterKind is what a defeater doubts.
type DefeaterKind uint8

// The defeater kinds.
const (
	// Rebutting: the claim is false.
	Rebutting DefeaterKind = iota + 1
	// Undercutting: the inference is not warranted.
	Undercutting
	// Undermining: the evidence is bad.
	Undermining
)

var defeaterKindNames = [...]string{Rebutting: "rebutting", Undercutting: "undercutting", Undermining: "undermining"}

// String returns the kind's name, such as "rebutting".
func (k DefeaterKind) String() string {
	if k > 0 && int(k) < len(defeaterKindNames) {
		return defeaterKindNames[k]
	}
	return fmt.Sprintf("DefeaterKind(%d)", uint8(k))
}

// DefeaterState is a defeater's triage lifecycle state.
type DefeaterState uint8

// The lifecycle states. The zero DefeaterState is Open.
const (
	// Open: untriaged.
	Open DefeaterState = iota
	// Sustained: triaged as valid.
	Sustained
	// Refuted: triaged as invalid; the defeater is OUT.
	Refuted
	// AcceptedResidual: accepted as residual risk until its acceptance expires; OUT with
	// Residual set until then, untriaged (as Open) afterwards.
	AcceptedResidual
)

var stateNames = [...]string{Open: "OPEN", Sustained: "SUSTAINED", Refuted: "REFUTED", AcceptedResidual: "ACCEPTED_RESIDUAL"}

// String returns the state's name, such as "ACCEPTED_RESIDUAL".
func (s DefeaterState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("DefeaterState(%d)", uint8(s))
}

// Level is a severity level. The zero Level is LevelNone (not rated).
type Level uint8

// The severity levels.
const (
	LevelNone Level = iota
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

var levelNames = [...]string{LevelNone: "none", LevelLow: "low", LevelMedium: "medium", LevelHigh: "high", LevelCritical: "critical"}

// String returns the level's name, such as "critical".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Severity is a defeater's severity: a level, and whether it is on CISA's Known Exploited
// Vulnerabilities catalogue.
type Severity struct {
	Level Level
	KEV   bool
}

// High reports whether the severity policy treats s as severe: KEV, critical or high.
func (s Severity) High() bool { return s.KEV || s.Level >= LevelHigh }

// Acceptance records who accepted a defeater as residual risk, why, and until when.
type Acceptance struct {
	Approver  string
	Rationale string
	// Expires is mandatory: the acceptance holds while now is before it.
	Expires time.Time
}

// Assessment is a defeater's current triage: its lifecycle state, severity and probability.
// The model carries the initial assessment; Evaluator.Set and Evaluator.Update replace it.
type Assessment struct {
	State    DefeaterState
	Severity Severity
	// Probability in [0, 1] that the defeater is valid; 0 means not estimated and counts as
	// 1. It scales confidence only.
	Probability float64
	// Acceptance is required when State is AcceptedResidual and ignored otherwise.
	Acceptance Acceptance
}

// Ref names an element of another module: the element an away element stands for.
type Ref struct {
	Module string
	ID     string
}

// Element is a GSN argument element: a Goal, Strategy, Solution, Context, Assumption or
// Justification. Links are added with Builder.SupportedBy and Builder.InContextOf.
type Element struct {
	ID     string
	Kind   Kind
	Module string
	// Mode and K apply to Goals and Strategies only; K only with ModeKOfN.
	Mode Mode
	K    int
	// Undeveloped marks a Goal or Strategy as deliberately not developed yet.
	Undeveloped bool
	// Predicate marks a Context or Assumption as carrying a predicate over the twin, whose
	// value the caller supplies (PredicateValue). Without a predicate it always holds.
	Predicate bool
	// Hash is the element's content hash, compared with the reviewed hash of each
	// SUPPORTED_BY link to it (suspect links). Empty means not tracked.
	Hash string
	// Away, when set, makes this an away element: it stands for the element Away names in
	// another module, must be of the same kind, and takes that element's result.
	Away *Ref
}

// Defeater is a doubt about Goals, Strategies (inferences) or Solutions (evidence).
type Defeater struct {
	ID     string
	Module string
	Kind   DefeaterKind
	// Challenges lists the Goals, Strategies and Solutions the defeater challenges.
	Challenges []string
	// RefutedBy lists the refutation claims attacking the defeater (Goals, Strategies or
	// Solutions, such as a VEX not_affected statement); each counts while SUPPORTED.
	RefutedBy []string
	// Assessment is the initial triage.
	Assessment Assessment
}

type link struct{ from, to, hash string }

// Builder collects elements, defeaters and links, and validates them into a Model. The zero
// Builder is ready to use. Order of insertion does not matter: Build sorts everything.
type Builder struct {
	elements  []Element
	defeaters []Defeater
	supports  []link
	contexts  []link
}

// AddElement adds an argument element.
func (b *Builder) AddElement(e Element) {
	if e.Away != nil {
		a := *e.Away
		e.Away = &a
	}
	b.elements = append(b.elements, e)
}

// AddDefeater adds a defeater.
func (b *Builder) AddDefeater(d Defeater) {
	d.Challenges = slices.Clone(d.Challenges)
	d.RefutedBy = slices.Clone(d.RefutedBy)
	b.defeaters = append(b.defeaters, d)
}

// SupportedBy adds the link parent SUPPORTED_BY child, never reviewed.
func (b *Builder) SupportedBy(parent, child string) {
	b.supports = append(b.supports, link{from: parent, to: child})
}

// SupportedByReviewed adds the link parent SUPPORTED_BY child, last reviewed when the
// child's hash was reviewedHash.
func (b *Builder) SupportedByReviewed(parent, child, reviewedHash string) {
	b.supports = append(b.supports, link{from: parent, to: child, hash: reviewedHash})
}

// InContextOf adds the link element IN_CONTEXT_OF context.
func (b *Builder) InContextOf(element, context string) {
	b.contexts = append(b.contexts, link{from: element, to: context})
}

// node is an element or defeater of a Model, at a dense index (ids sorted).
type node struct {
	id     string
	kind   Kind
	module string
	el     Element // argument elements
	def    int32   // index into Model.defeaters, or -1

	mode        Mode
	k           int
	undeveloped bool
	predicate   bool
	away        int32 // -1 unless away

	children    []int32  // SUPPORTED_BY, sorted
	reviewed    []string // reviewed hash per child
	contexts    []int32  // IN_CONTEXT_OF, sorted
	challengers []int32  // defeaters challenging this, sorted
	parents     []int32  // elements this supports, sorted

	dkind    DefeaterKind
	targets  []int32 // challenged elements, sorted
	refuters []int32 // refutation claims, sorted

	deps       []int32 // everything the result depends on, sorted
	dependents []int32 // everything depending on it, sorted
}

// Model is a validated assurance case. It is immutable and safe for concurrent use.
type Model struct {
	nodes     []node
	index     map[string]int32
	defeaters []Defeater

	// comp maps a node to its strongly connected component of the dependency graph; comps
	// lists components in dependency order (a component after those it depends on), each
	// with its members in structural order; cyclic marks components with an attack cycle.
	comp   []int32
	comps  [][]int32
	cyclic []bool
}

// Build validates what was added and returns the Model, or a ValidationErrors listing every
// violation.
func (b *Builder) Build() (*Model, error) {
	var el errs

	// Ids: non-empty and unique across elements and defeaters.
	count := map[string]int{}
	for i, e := range b.elements {
		if e.ID == "" {
			el.add(fmt.Sprintf("element #%d", i), RuleID, "empty id")
			continue
		}
		count[e.ID]++
	}
	for i, d := range b.defeaters {
		if d.ID == "" {
			el.add(fmt.Sprintf("defeater #%d", i), RuleID, "empty id")
			continue
		}
		count[d.ID]++
	}
	ids := make([]string, 0, len(count))
	for id, n := range count {
		ids = append(ids, id)
		if n > 1 {
			el.add(id, RuleID, fmt.Sprintf("id used by %d elements", n))
		}
	}
	slices.Sort(ids)
	m := &Model{nodes: make([]node, len(ids)), index: make(map[string]int32, len(ids))}
	for i, id := range ids {
		m.index[id] = int32(i)
		m.nodes[i] = node{id: id, def: -1, away: -1}
	}
	taken := make([]bool, len(ids)) // the first definition of a duplicated id wins
	for _, e := range b.elements {
		x, ok := m.index[e.ID]
		if !ok || taken[x] {
			continue
		}
		taken[x] = true
		n := &m.nodes[x]
		n.kind, n.module, n.el = e.Kind, e.Module, e
		if e.Kind < KindGoal || e.Kind > KindJustification {
			n.kind = 0 // reported by checkElement; links to it are then wrong types
		}
		n.mode, n.k, n.undeveloped, n.predicate = e.Mode, e.K, e.Undeveloped, e.Predicate
		checkElement(&el, e)
	}
	for _, d := range b.defeaters {
		x, ok := m.index[d.ID]
		if !ok || taken[x] {
			continue
		}
		taken[x] = true
		n := &m.nodes[x]
		n.kind, n.module, n.dkind, n.def = KindDefeater, d.Module, d.Kind, int32(len(m.defeaters))
		m.defeaters = append(m.defeaters, d)
		checkDefeater(&el, d)
	}

	resolve := func(from, to, what string) (int32, bool) {
		y, ok := m.index[to]
		if !ok {
			el.add(from, RuleDangling, fmt.Sprintf("%s %q does not exist", what, to), to)
		}
		return y, ok
	}

	// Away references.
	for x := range m.nodes {
		n := &m.nodes[x]
		if n.kind == KindDefeater || n.el.Away == nil {
			continue
		}
		a := n.el.Away
		y, ok := resolve(n.id, a.ID, "away target")
		if !ok {
			continue
		}
		t := &m.nodes[y]
		switch {
		case y == int32(x):
			el.add(n.id, RuleAway, "away element refers to itself")
		case t.kind != n.kind:
			el.add(n.id, RuleAway, fmt.Sprintf("away %s refers to %s %s", n.kind, t.kind, t.id), t.id)
		case t.module != a.Module:
			el.add(n.id, RuleAway, fmt.Sprintf("away target %s is in module %q, not %q", t.id, t.module, a.Module), t.id)
		case n.module == a.Module:
			el.add(n.id, RuleAway, fmt.Sprintf("away target %s is in the element's own module %q", t.id, a.Module), t.id)
		default:
			n.away = y
		}
	}

	// SUPPORTED_BY.
	for _, l := range b.supports {
		x, ok1 := resolve(l.from, l.from, "SUPPORTED_BY parent")
		y, ok2 := resolve(l.from, l.to, "SUPPORTED_BY child")
		if !ok1 || !ok2 {
			continue
		}
		p, c := &m.nodes[x], &m.nodes[y]
		switch {
		case x == y:
			el.add(l.from, RuleLinkType, "SUPPORTED_BY itself")
		case !p.kind.inner():
			el.add(l.from, RuleLinkType, fmt.Sprintf("%s cannot be SUPPORTED_BY anything (child %s)", p.kind, l.to), l.to)
		case !c.kind.claim():
			el.add(l.from, RuleLinkType, fmt.Sprintf("%s %s cannot support anything", c.kind, l.to), l.to)
		case slices.Contains(p.children, y):
			el.add(l.from, RuleLinkType, fmt.Sprintf("SUPPORTED_BY %s given twice", l.to), l.to)
		default:
			p.children = append(p.children, y)
			p.reviewed = append(p.reviewed, l.hash)
		}
	}
	// IN_CONTEXT_OF.
	for _, l := range b.contexts {
		x, ok1 := resolve(l.from, l.from, "IN_CONTEXT_OF source")
		y, ok2 := resolve(l.from, l.to, "IN_CONTEXT_OF target")
		if !ok1 || !ok2 {
			continue
		}
		s, t := &m.nodes[x], &m.nodes[y]
		switch {
		case !s.kind.inner():
			el.add(l.from, RuleLinkType, fmt.Sprintf("%s cannot be IN_CONTEXT_OF anything (target %s)", s.kind, l.to), l.to)
		case !t.kind.contextual():
			el.add(l.from, RuleLinkType, fmt.Sprintf("IN_CONTEXT_OF %s %s: only Contexts, Assumptions and Justifications", t.kind, l.to), l.to)
		case slices.Contains(s.contexts, y):
			el.add(l.from, RuleLinkType, fmt.Sprintf("IN_CONTEXT_OF %s given twice", l.to), l.to)
		default:
			s.contexts = append(s.contexts, y)
		}
	}
	// CHALLENGES and refutations.
	for x := range m.nodes {
		n := &m.nodes[x]
		if n.kind != KindDefeater {
			continue
		}
		d := &m.defeaters[n.def]
		for _, id := range d.Challenges {
			y, ok := resolve(n.id, id, "challenged element")
			switch t := &m.nodes[y]; {
			case !ok:
			case !t.kind.claim():
				el.add(n.id, RuleLinkType, fmt.Sprintf("cannot challenge %s %s: only Goals, Strategies and Solutions", t.kind, id), id)
			case slices.Contains(n.targets, y):
				el.add(n.id, RuleLinkType, fmt.Sprintf("challenges %s twice", id), id)
			default:
				n.targets = append(n.targets, y)
				t.challengers = append(t.challengers, int32(x))
			}
		}
		for _, id := range d.RefutedBy {
			y, ok := resolve(n.id, id, "refutation claim")
			switch t := &m.nodes[y]; {
			case !ok:
			case !t.kind.claim():
				el.add(n.id, RuleLinkType, fmt.Sprintf("cannot be refuted by %s %s: only Goals, Strategies and Solutions", t.kind, id), id)
			case slices.Contains(n.refuters, y):
				el.add(n.id, RuleLinkType, fmt.Sprintf("refuted by %s twice", id), id)
			default:
				n.refuters = append(n.refuters, y)
			}
		}
	}

	// Rules that need the links.
	for x := range m.nodes {
		n := &m.nodes[x]
		if n.kind == KindDefeater || !taken[x] {
			continue
		}
		if n.el.Away != nil && (len(n.children) > 0 || len(n.contexts) > 0) {
			el.add(n.id, RuleAway, "away element has SUPPORTED_BY or IN_CONTEXT_OF links of its own")
		}
		if n.undeveloped && len(n.children) > 0 {
			el.add(n.id, RuleUndeveloped, fmt.Sprintf("undeveloped but SUPPORTED_BY %d elements", len(n.children)))
		}
		if n.mode == ModeKOfN && n.kind.inner() && (n.k < 1 || n.k > len(n.children)) {
			el.add(n.id, RuleMode, fmt.Sprintf("K_OF_N with k=%d and n=%d children: need 1 <= k <= n", n.k, len(n.children)))
		}
	}

	// Cycles of SUPPORTED_BY and away references.
	structural := make([][]int32, len(m.nodes))
	for x := range m.nodes {
		n := &m.nodes[x]
		structural[x] = append(slices.Clone(n.children), n.contexts...)
		if n.away >= 0 {
			structural[x] = append(structural[x], n.away)
		}
	}
	_, scomps := tarjan(structural)
	for _, c := range scomps {
		if len(c) < 2 {
			continue
		}
		names := make([]string, len(c))
		for i, y := range c {
			names[i] = m.nodes[y].id
		}
		slices.Sort(names)
		el.add(names[0], RuleCycle, "SUPPORTED_BY links or away references form a cycle through "+strings.Join(names, ", "), names[1:]...)
	}

	if err := el.err(); err != nil {
		return nil, err
	}
	m.derive(scomps)
	return m, nil
}

func checkElement(el *errs, e Element) {
	switch {
	case e.Kind == KindDefeater:
		el.add(e.ID, RuleKind, "defeaters are added with AddDefeater")
		return
	case e.Kind < KindGoal || e.Kind > KindJustification:
		el.add(e.ID, RuleKind, fmt.Sprintf("unknown kind %d", e.Kind))
		return
	}
	if e.Mode > ModeKOfN {
		el.add(e.ID, RuleKind, fmt.Sprintf("unknown mode %d", e.Mode))
	} else if e.Mode != ModeAll && !e.Kind.inner() {
		el.add(e.ID, RuleMode, fmt.Sprintf("%s cannot have mode %s", e.Kind, e.Mode))
	}
	if e.K != 0 && e.Mode != ModeKOfN {
		el.add(e.ID, RuleMode, fmt.Sprintf("k=%d given for mode %s", e.K, e.Mode))
	}
	if e.Undeveloped && !e.Kind.inner() {
		el.add(e.ID, RuleUndeveloped, fmt.Sprintf("%s cannot be undeveloped", e.Kind))
	}
	if e.Predicate && e.Kind != KindContext && e.Kind != KindAssumption {
		el.add(e.ID, RuleKind, fmt.Sprintf("%s cannot carry a predicate", e.Kind))
	}
	if e.Away != nil {
		if e.Away.Module == "" || e.Away.ID == "" {
			el.add(e.ID, RuleAway, "away reference needs a module and an id")
		}
		if e.Undeveloped || e.Predicate || e.Mode != ModeAll || e.K != 0 {
			el.add(e.ID, RuleAway, "away element has undeveloped, predicate, mode or k set: they belong to its target")
		}
	}
}

func checkDefeater(el *errs, d Defeater) {
	if d.Kind < Rebutting || d.Kind > Undermining {
		el.add(d.ID, RuleKind, fmt.Sprintf("unknown defeater kind %d", d.Kind))
	}
	if len(d.Challenges) == 0 {
		el.add(d.ID, RuleDefeater, "challenges nothing")
	}
	checkAssessment(el, d.ID, RuleDefeater, d.Assessment)
}

func checkAssessment(el *errs, id string, rule Rule, a Assessment) {
	if a.State > AcceptedResidual {
		el.add(id, rule, fmt.Sprintf("unknown defeater state %d", a.State))
	}
	if a.Severity.Level > LevelCritical {
		el.add(id, rule, fmt.Sprintf("unknown severity level %d", a.Severity.Level))
	}
	if math.IsNaN(a.Probability) || a.Probability < 0 || a.Probability > 1 {
		el.add(id, rule, fmt.Sprintf("probability %v outside [0, 1]", a.Probability))
	}
	if a.State == AcceptedResidual {
		if a.Acceptance.Approver == "" || a.Acceptance.Rationale == "" || a.Acceptance.Expires.IsZero() {
			el.add(id, rule, "ACCEPTED_RESIDUAL needs an approver, a rationale and an expiry")
		}
	}
}

// derive sorts the links and computes dependencies, dependents and components.
func (m *Model) derive(scomps [][]int32) {
	for x := range m.nodes {
		n := &m.nodes[x]
		sortWithHashes(n.children, n.reviewed)
		slices.Sort(n.contexts)
		slices.Sort(n.challengers)
		slices.Sort(n.targets)
		slices.Sort(n.refuters)
		for _, c := range n.children {
			m.nodes[c].parents = append(m.nodes[c].parents, int32(x))
		}
	}
	for x := range m.nodes {
		n := &m.nodes[x]
		d := make([]int32, 0, len(n.children)+len(n.contexts)+len(n.challengers)+len(n.refuters)+1)
		d = append(d, n.children...)
		d = append(d, n.contexts...)
		d = append(d, n.challengers...)
		d = append(d, n.refuters...)
		if n.away >= 0 {
			d = append(d, n.away)
		}
		slices.Sort(d)
		n.deps = slices.Compact(d)
		for _, y := range n.deps {
			m.nodes[y].dependents = append(m.nodes[y].dependents, int32(x))
		}
	}
	for x := range m.nodes {
		slices.Sort(m.nodes[x].parents)
		slices.Sort(m.nodes[x].dependents)
	}
	// Structural order: the position of each node in the (acyclic) structural graph's
	// dependency order, used to order the members of a cyclic component.
	srank := make([]int32, len(m.nodes))
	for i, c := range scomps {
		srank[c[0]] = int32(i)
	}
	deps := make([][]int32, len(m.nodes))
	for x := range m.nodes {
		deps[x] = m.nodes[x].deps
	}
	m.comp, m.comps = tarjan(deps)
	m.cyclic = make([]bool, len(m.comps))
	for i, c := range m.comps {
		if len(c) > 1 {
			m.cyclic[i] = true
			slices.SortFunc(c, func(a, b int32) int { return int(srank[a]) - int(srank[b]) })
		}
	}
}

// sortWithHashes sorts ids and permutes hashes alongside.
func sortWithHashes(ids []int32, hashes []string) {
	type pair struct {
		id   int32
		hash string
	}
	ps := make([]pair, len(ids))
	for i := range ids {
		ps[i] = pair{ids[i], hashes[i]}
	}
	slices.SortFunc(ps, func(a, b pair) int { return int(a.id) - int(b.id) })
	for i, p := range ps {
		ids[i], hashes[i] = p.id, p.hash
	}
}

// tarjan returns the strongly connected components of the graph adj (node → successors):
// comp maps each node to its component, and comps lists the components so that each comes
// after every component it reaches. It is iterative, so deep graphs cannot overflow.
func tarjan(adj [][]int32) (comp []int32, comps [][]int32) {
	n := len(adj)
	index := make([]int32, n) // 0: unvisited
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp = make([]int32, n)
	var stack []int32
	type frame struct {
		v int32
		i int
	}
	var calls []frame
	next := int32(1)
	visit := func(v int32) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v: v})
	}
	for s := range n {
		if index[s] != 0 {
			continue
		}
		visit(int32(s))
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if f.i < len(adj[v]) {
				w := adj[v][f.i]
				f.i++
				if index[w] == 0 {
					visit(w)
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				u := calls[len(calls)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var c []int32
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = int32(len(comps))
					c = append(c, w)
					if w == v {
						break
					}
				}
				comps = append(comps, c)
			}
		}
	}
	return comp, comps
}

// Len returns the number of elements, defeaters included.
func (m *Model) Len() int { return len(m.nodes) }

// IDs returns every element and defeater id, sorted.
func (m *Model) IDs() []string {
	out := make([]string, len(m.nodes))
	for i := range m.nodes {
		out[i] = m.nodes[i].id
	}
	return out
}

// Kind returns the kind of element id, or 0 if there is none.
func (m *Model) Kind(id string) Kind {
	if x, ok := m.index[id]; ok {
		return m.nodes[x].kind
	}
	return 0
}

// Element returns the argument element id as it was added.
func (m *Model) Element(id string) (Element, bool) {
	x, ok := m.index[id]
	if !ok || m.nodes[x].kind == KindDefeater {
		return Element{}, false
	}
	e := m.nodes[x].el
	if e.Away != nil {
		a := *e.Away
		e.Away = &a
	}
	return e, true
}

// Defeater returns defeater id as it was added (with its initial assessment).
func (m *Model) Defeater(id string) (Defeater, bool) {
	x, ok := m.index[id]
	if !ok || m.nodes[x].kind != KindDefeater {
		return Defeater{}, false
	}
	d := m.defeaters[m.nodes[x].def]
	d.Challenges = slices.Clone(d.Challenges)
	d.RefutedBy = slices.Clone(d.RefutedBy)
	return d, true
}

// SupportedBy returns the ids element id is SUPPORTED_BY, sorted.
func (m *Model) SupportedBy(id string) []string {
	x, ok := m.index[id]
	if !ok {
		return nil
	}
	return m.names(m.nodes[x].children)
}

// InContextOf returns the ids element id is IN_CONTEXT_OF, sorted.
func (m *Model) InContextOf(id string) []string {
	x, ok := m.index[id]
	if !ok {
		return nil
	}
	return m.names(m.nodes[x].contexts)
}

func (m *Model) names(xs []int32) []string {
	if len(xs) == 0 {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = m.nodes[x].id
	}
	return out
}

// Impact returns, sorted, the given elements and every element whose result could change
// if their inputs changed: the closure over the elements that depend on them through
// SUPPORTED_BY, IN_CONTEXT_OF, CHALLENGES, refutations and away references. It answers
// "which claims would this CVE undermine?" for the Solutions and Defeaters it touches.
func (m *Model) Impact(ids ...string) ([]string, error) {
	var el errs
	seen := make([]bool, len(m.nodes))
	var queue []int32
	for _, id := range ids {
		x, ok := m.index[id]
		if !ok {
			el.add(id, RuleDangling, "no such element")
			continue
		}
		if !seen[x] {
			seen[x] = true
			queue = append(queue, x)
		}
	}
	if err := el.err(); err != nil {
		return nil, fmt.Errorf("impact: %w", err)
	}
	for len(queue) > 0 {
		x := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, y := range m.nodes[x].dependents {
			if !seen[y] {
				seen[y] = true
				queue = append(queue, y)
			}
		}
	}
	var out []string
	for x, s := range seen {
		if s {
			out = append(out, m.nodes[x].id)
		}
	}
	return out, nil
}
