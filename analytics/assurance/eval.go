package assurance

import (
	"slices"
	"strings"
	"time"
)

// acc accumulates the contributions to an element's status: the worst status so far and
// the reason lists of the contributions with exactly that status.
type acc struct {
	status Status
	lists  [][]Reason
}

func (a *acc) reset() {
	a.status = 0
	clear(a.lists)
	a.lists = a.lists[:0]
}

func (a *acc) add(s Status, rs []Reason) {
	if s > a.status {
		a.status = s
		clear(a.lists)
		a.lists = a.lists[:0]
	}
	if s == a.status && len(rs) > 0 {
		a.lists = append(a.lists, rs)
	}
}

// mergeReasons returns the union of reason lists (each sorted by code, one reason per
// code): one reason per code, with the union of the culprits, sorted. When nothing needs
// merging it returns an input slice itself; reason slices are never modified once built.
func mergeReasons(lists [][]Reason) []Reason {
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return lists[0]
	}
	same := true
	for _, l := range lists[1:] {
		if !sameSlice(l, lists[0]) {
			same = false
			break
		}
	}
	if same {
		return lists[0]
	}
	cur := make([]int, len(lists))
	var out []Reason
	var parts [][]string
	for {
		code := Code(numCodes)
		for i, l := range lists {
			if cur[i] < len(l) && l[cur[i]].Code < code {
				code = l[cur[i]].Code
			}
		}
		if code == numCodes {
			return out
		}
		var first *Reason
		parts = parts[:0]
		for i, l := range lists {
			if cur[i] < len(l) && l[cur[i]].Code == code {
				if first == nil {
					first = &l[cur[i]]
				}
				parts = append(parts, l[cur[i]].Culprits)
				cur[i]++
			}
		}
		merged := mergeCulprits(parts)
		if len(merged) == len(first.Culprits) {
			out = append(out, *first) // nothing new: keep the first reason and its message
		} else {
			out = append(out, newReason(code, merged))
		}
	}
}

func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// mergeCulprits returns the sorted union of sorted, duplicate-free lists, merging them
// pairwise in rounds (O(m log k) for k lists of m culprits in all).
func mergeCulprits(parts [][]string) []string {
	base := parts[0]
	others := 0
	for _, p := range parts[1:] {
		if !sameSlice(p, base) {
			others++
		}
	}
	if others == 0 {
		return base
	}
	for len(parts) > 1 {
		next := parts[:0:0]
		for i := 0; i+1 < len(parts); i += 2 {
			next = append(next, merge2(parts[i], parts[i+1]))
		}
		if len(parts)%2 == 1 {
			next = append(next, parts[len(parts)-1])
		}
		parts = next
	}
	return parts[0]
}

// merge2 returns the sorted union of two sorted, duplicate-free lists, reusing one of them
// when the other adds nothing.
func merge2(a, b []string) []string {
	if sameSlice(a, b) || len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := strings.Compare(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// earliest returns the earlier of two instants, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// expired reports whether an input valid until t (zero: forever) has expired at now.
func expired(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }

// selfReason returns the reason code names element x as its only culprit, cached.
func (e *Evaluator) selfReason(x int32, c Code) []Reason {
	key := x*numCodes + int32(c)
	if r, ok := e.self[key]; ok {
		return r
	}
	r := []Reason{newReason(c, []string{e.m.nodes[x].id})}
	e.self[key] = r
	return r
}

// evalClaim computes the result of an argument element (any kind but Defeater) from the
// current results of what it depends on.
func (e *Evaluator) evalClaim(x int32) Result {
	e.evals++
	n := &e.m.nodes[x]
	a := &e.a
	a.reset()
	var conf float64
	var next time.Time
	switch {
	case n.away >= 0:
		r := &e.res[n.away]
		a.add(r.Status, r.Reasons)
		conf, next = r.Confidence, r.NextReevalAt
	case n.kind.inner():
		if n.undeveloped || len(n.children) == 0 {
			a.add(Undeveloped, e.selfReason(x, NotDeveloped))
			break
		}
		var base Status
		base, conf = e.combine(x)
		a.add(base, nil)
		for _, c := range n.children {
			r := &e.res[c]
			if r.Status == base {
				a.add(base, r.Reasons)
			}
			next = earliest(next, r.NextReevalAt)
		}
	case n.kind == KindSolution:
		li := &e.leaves[x]
		switch {
		case !li.set:
			a.add(Unknown, e.selfReason(x, EvidenceMissing))
		case expired(li.expires, e.now):
			a.add(Unknown, li.expired)
		default:
			a.add(li.status, li.active)
			conf, next = li.conf, li.expires
		}
	default: // Context, Assumption, Justification
		if !n.predicate {
			a.add(Supported, nil)
			conf = 1
			break
		}
		p := e.preds[x]
		if expired(p.expires, e.now) {
			p.value = TruthUnknown
		} else {
			next = p.expires
		}
		switch p.value {
		case TruthTrue:
			a.add(Supported, nil)
			conf = 1
		case TruthFalse:
			a.add(Undermined, e.selfReason(x, AssumptionViolated))
		default:
			a.add(Unknown, e.selfReason(x, AssumptionUnknown))
		}
	}
	for _, c := range n.contexts {
		r := &e.res[c]
		a.add(r.Status, r.Reasons)
		next = earliest(next, r.NextReevalAt)
	}
	for _, d := range n.challengers {
		r := &e.res[d]
		a.add(r.Status, r.Reasons)
		conf *= r.Confidence
		next = earliest(next, r.NextReevalAt)
	}
	for i, c := range n.children {
		if e.suspect(x, i, c) {
			ids := []string{n.id, e.m.nodes[c].id}
			slices.Sort(ids)
			a.add(Unknown, []Reason{newReason(SuspectLink, ids)})
		}
	}
	return Result{Status: a.status, Reasons: mergeReasons(a.lists), Confidence: conf, NextReevalAt: next}
}

// suspect reports whether the i-th SUPPORTED_BY link of x, to c, is suspect: the child is
// hashed and its hash differs from the one the link was reviewed at.
func (e *Evaluator) suspect(x int32, i int, c int32) bool {
	h := e.hash[c]
	return h != "" && e.reviewed[x][i] != h
}

// combine applies x's mode to its children's statuses and confidences. A child behind a
// suspect link contributes confidence 0.
func (e *Evaluator) combine(x int32) (Status, float64) {
	n := &e.m.nodes[x]
	childConf := func(i int, c int32) float64 {
		if e.suspect(x, i, c) {
			return 0
		}
		return e.res[c].Confidence
	}
	switch n.mode {
	case ModeAny:
		best, conf := Undermined, 0.0
		for i, c := range n.children {
			best = min(best, e.res[c].Status)
			conf = max(conf, childConf(i, c))
		}
		return best, conf
	case ModeKOfN:
		var nS, nU int
		var rest Status
		e.fbuf = e.fbuf[:0]
		for i, c := range n.children {
			switch s := e.res[c].Status; s {
			case Supported:
				nS++
			case Undermined:
				nU++
			default:
				rest = max(rest, s)
			}
			e.fbuf = append(e.fbuf, childConf(i, c))
		}
		slices.Sort(e.fbuf)
		slices.Reverse(e.fbuf)
		conf := e.fbuf[n.k-1]
		if e.opts.Strict {
			conf = frechet(e.fbuf[:n.k])
		}
		switch {
		case nS >= n.k:
			return Supported, conf
		case nU > len(n.children)-n.k:
			return Undermined, conf
		}
		return rest, conf
	}
	worst := Supported
	conf := 1.0
	if e.opts.Strict {
		e.fbuf = e.fbuf[:0]
	}
	for i, c := range n.children {
		worst = max(worst, e.res[c].Status)
		if e.opts.Strict {
			e.fbuf = append(e.fbuf, childConf(i, c))
		} else {
			conf = min(conf, childConf(i, c))
		}
	}
	if e.opts.Strict {
		conf = frechet(e.fbuf)
	}
	return worst, conf
}

// frechet is the Fréchet lower bound on the probability that all of n events hold, given
// their probabilities: max(0, Σc − (n−1)).
func frechet(cs []float64) float64 {
	sum := 0.0
	for _, c := range cs {
		sum += c
	}
	return max(0, sum-float64(len(cs)-1))
}

// triage returns a defeater's effective state: an accepted residual risk past its expiry
// is untriaged (Open) again.
func (e *Evaluator) triage(x int32) DefeaterState {
	a := &e.assess[x]
	if a.State == AcceptedResidual && expired(a.Acceptance.Expires, e.now) {
		return Open
	}
	return a.State
}

// forcedOut reports whether defeater x is OUT by triage whatever its attackers: refuted,
// or accepted as residual risk (then residual is set).
func (e *Evaluator) forcedOut(x int32) (out, residual bool) {
	switch e.triage(x) {
	case Refuted:
		return true, false
	case AcceptedResidual:
		return true, true
	}
	return false, false
}

// counts reports how refutation claim r counts as an attacker in the attack graph: surely
// when it is SUPPORTED, surely not when it would not be SUPPORTED even if every undecided
// defeater were OUT (its upper bound), and undecided otherwise.
func (e *Evaluator) counts(r int32) (surely, surelyNot bool) {
	return e.res[r].Status == Supported, !e.up[r]
}

// label applies the labelling rules to defeater x given its attackers' current standing:
// OUT when some refutation surely counts (or by triage: refuted, accepted as residual
// risk), IN when every refutation surely does not count, undecided (0) otherwise.
func (e *Evaluator) label(x int32) (l Label, residual bool) {
	allNot := true
	for _, r := range e.m.nodes[x].refuters {
		s, sn := e.counts(r)
		if s {
			return Out, false
		}
		allNot = allNot && sn
	}
	if out, residual := e.forcedOut(x); out {
		return Out, residual
	}
	if allNot {
		return In, false
	}
	return 0, false
}

// evalDefeater computes the result of a defeater outside any attack cycle: its attackers'
// results are final. It is UNDEC when a refutation's support hinges on undecided defeaters
// elsewhere.
func (e *Evaluator) evalDefeater(x int32) Result {
	l, residual := e.label(x)
	if l == 0 {
		l = Undec
	}
	return e.defeaterResult(x, l, residual)
}

// defeaterResult is the result of defeater x with the given label: the effect it exerts
// on what it challenges.
func (e *Evaluator) defeaterResult(x int32, label Label, residual bool) Result {
	e.evals++
	n := &e.m.nodes[x]
	a := &e.assess[x]
	r := Result{Label: label, Status: Supported, Confidence: 1}
	if t := acceptanceExpiry(*a); !expired(t, e.now) {
		r.NextReevalAt = t
	}
	for _, y := range n.refuters {
		r.NextReevalAt = earliest(r.NextReevalAt, e.res[y].NextReevalAt)
	}
	if label == Out {
		if residual {
			r.Residual = true
			r.Reasons = e.selfReason(x, ResidualAccepted)
			r.Confidence = 1 - e.penalty
		}
		return r
	}
	p := a.Probability
	if p == 0 {
		p = 1
	}
	r.Confidence = 1 - p
	if label == In && e.triage(x) == Sustained {
		switch n.dkind {
		case Rebutting:
			r.Status, r.Reasons = Undermined, e.selfReason(x, Defeated)
		case Undercutting:
			r.Status, r.Reasons = Unknown, e.selfReason(x, InferenceChallenged)
		default:
			r.Status, r.Reasons = Unknown, e.selfReason(x, EvidenceChallenged)
		}
		return r
	}
	// Untriaged (IN but not sustained) or undecided: the severity policy, never worse
	// than the same defeater sustained.
	r.Status, r.Reasons = Unknown, e.selfReason(x, DefeaterOpen)
	if n.dkind == Rebutting && a.Severity.High() {
		r.Status = Undermined
	}
	return r
}

// ownExpiry is the expiry of x's own input that has not passed yet, or zero.
func (e *Evaluator) ownExpiry(x int32) time.Time {
	var t time.Time
	switch n := &e.m.nodes[x]; {
	case n.kind == KindDefeater:
		t = acceptanceExpiry(e.assess[x])
	case n.kind == KindSolution && n.away < 0:
		t = e.leaves[x].expires
	case n.predicate:
		t = e.preds[x].expires
	}
	if expired(t, e.now) {
		return time.Time{}
	}
	return t
}

// upper reports whether argument element x would be SUPPORTED if every undecided
// defeater were OUT: the upper bound of its standing in the attack graph, while its status
// (undecided defeaters harming) is the lower bound. SUPPORTED-ness depends only on the
// SUPPORTED-ness of what x depends on, so it is computed from their upper bounds.
func (e *Evaluator) upper(x int32) bool {
	n := &e.m.nodes[x]
	switch {
	case n.away >= 0:
		if !e.up[n.away] {
			return false
		}
	case n.kind.inner():
		if n.undeveloped || len(n.children) == 0 {
			return false
		}
		sup := 0
		for _, c := range n.children {
			if e.up[c] {
				sup++
			}
		}
		switch n.mode {
		case ModeAll:
			if sup < len(n.children) {
				return false
			}
		case ModeAny:
			if sup == 0 {
				return false
			}
		default:
			if sup < n.k {
				return false
			}
		}
	case n.kind == KindSolution:
		li := &e.leaves[x]
		if !li.set || expired(li.expires, e.now) || li.status != Supported {
			return false
		}
	default:
		if n.predicate {
			p := e.preds[x]
			if p.value != TruthTrue || expired(p.expires, e.now) {
				return false
			}
		}
	}
	for _, c := range n.contexts {
		if !e.up[c] {
			return false
		}
	}
	for _, d := range n.challengers {
		if e.res[d].Label == In {
			return false
		}
	}
	for i, c := range n.children {
		if e.suspect(x, i, c) {
			return false
		}
	}
	return true
}

// evalComponent recomputes the members of component c into e.res and e.up.
func (e *Evaluator) evalComponent(c int32) {
	members := e.m.comps[c]
	if !e.m.cyclic[c] {
		x := members[0]
		if e.m.nodes[x].kind == KindDefeater {
			e.res[x] = e.evalDefeater(x)
		} else {
			e.res[x] = e.evalClaim(x)
			e.up[x] = e.upper(x)
		}
		return
	}
	e.evalCyclic(c, members)
}

// evalCyclic computes a component with attack cycles: the grounded labelling of its
// defeaters by least-fixpoint iteration, then its members' results.
//
// Defeaters start undecided (except those OUT by triage). Each round evaluates the
// component's claims with every undecided defeater harming its targets, which gives their
// statuses (lower bounds), and their upper bounds, in which undecided defeaters do not
// harm. A refutation that is SUPPORTED surely counts, whatever the undecided defeaters turn
// out to be; one whose upper bound is not SUPPORTED surely does not. An undecided defeater
// becomes OUT when some refutation surely counts and IN when every refutation surely does
// not. Rounds repeat until none is decided; the rest is UNDEC. Deciding a defeater only
// raises lower bounds (OUT) or lowers upper bounds (IN), so the iteration is monotone and
// reaches the least fixpoint.
func (e *Evaluator) evalCyclic(c int32, members []int32) {
	m := e.m
	for _, x := range members {
		if m.nodes[x].kind == KindDefeater {
			e.lab[x] = 0
			if out, _ := e.forcedOut(x); out {
				e.lab[x] = Out
			}
		}
	}
	for {
		e.round(members, false)
		changed := false
		for _, x := range members {
			if m.nodes[x].kind != KindDefeater || e.lab[x] != 0 {
				continue
			}
			if l, _ := e.label(x); l != 0 {
				e.lab[x] = l
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	// The last round's claims are final but for the residual flags of accepted defeaters,
	// which change reasons and confidence only.
	for _, x := range members {
		if m.nodes[x].kind == KindDefeater && e.lab[x] == 0 {
			e.lab[x] = Undec
		}
	}
	e.round(members, true)
	// Every member reaches every other, so all share the earliest pending expiry of the
	// component and of what it depends on.
	var next time.Time
	for _, x := range members {
		next = earliest(next, e.ownExpiry(x))
		for _, y := range m.nodes[x].deps {
			if m.comp[y] != c {
				next = earliest(next, e.res[y].NextReevalAt)
			}
		}
	}
	for _, x := range members {
		e.res[x].NextReevalAt = next
	}
}

// round evaluates a cyclic component's defeaters at their labels (undecided ones as UNDEC,
// harming) and then its claims in structural order. With final set, the residual flags of
// accepted defeaters are worked out from the previous round's claims.
func (e *Evaluator) round(members []int32, final bool) {
	for _, x := range members {
		if e.m.nodes[x].kind != KindDefeater {
			continue
		}
		l := e.lab[x]
		if l == 0 {
			l = Undec
		}
		residual := false
		if final && l == Out {
			_, residual = e.label(x)
		}
		e.res[x] = e.defeaterResult(x, l, residual)
	}
	for _, x := range members {
		if e.m.nodes[x].kind != KindDefeater {
			e.res[x] = e.evalClaim(x)
			e.up[x] = e.upper(x)
		}
	}
}
