package assurancecase

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/events"
)

// Store is what live evaluation reads and writes besides the evidence.
type Store interface {
	AssuranceCaseByID(ctx context.Context, twin, id string) (graph.AssuranceCase, error)
	AssuranceCaseRefs(ctx context.Context) ([]graph.CaseRef, error)
	// AssuranceCaseVersion returns a case's stored version, or graph.ErrNotFound.
	AssuranceCaseVersion(ctx context.Context, twin, id string) (int, error)
	// ArtifactsContaining returns the digests of the artifacts that CONTAIN these components.
	ArtifactsContaining(ctx context.Context, twin string, purls []string) ([]string, error)
	// SaveCaseStatuses stores the statuses, records each status that differs from the stored
	// one in the history with its cause, and returns what was stored before.
	SaveCaseStatuses(ctx context.Context, twin, caseID string, statuses []graph.CaseStatus, causes map[string]string) (map[string]graph.CaseStatus, error)
}

// Publisher announces stored status changes.
type Publisher interface {
	PublishStatus(ctx context.Context, changes []events.StatusChanged) error
}

// Live keeps the status of every assurance case of a server current (docs/assurance.md,
// "Live propagation"). Each case is held as an assurance.Evaluator with the evidence result
// of each leaf (Solutions; Contexts and Assumptions with a predicate; Defeaters with evidence
// that their doubt holds, see derivedAssessment) and what that result watches (evidence.Watch). A twin change event marks dirty the leaves whose watch it touches;
// only those are evaluated again, and the engine re-evaluates only what they reach. A sweeper
// re-evaluates the leaves whose evidence expires. Every change is stored with its cause
// (graph.SaveCaseStatuses) before it is announced (Publisher).
type Live struct {
	st  Store
	ev  evidence.Store
	pub Publisher
	log zerolog.Logger
	now func() time.Time
	// parallel bounds the leaves evaluated at once.
	parallel int
	// loadAll: every stored case is evaluated, those another server imports too (Start).
	loadAll bool

	mu    sync.Mutex
	cases map[graph.CaseRef]*liveCase
	// loading serialises the loads of each case, so that each reads the case after the one
	// before it was installed: the last load installs the newest version.
	loading map[graph.CaseRef]*sync.Mutex
	wake    chan struct{}
	running sync.WaitGroup // the goroutine Start runs
}

// LiveOptions tune Live.
type LiveOptions struct {
	Now func() time.Time
	// Parallel bounds the evidence evaluations run at once (8 when zero).
	Parallel int
}

// NewLive returns a Live over the stores; Load or Start adds cases.
func NewLive(st Store, ev evidence.Store, pub Publisher, log zerolog.Logger, opt LiveOptions) *Live {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 8
	}
	return &Live{st: st, ev: ev, pub: pub, log: log, now: opt.Now, parallel: opt.Parallel,
		cases: map[graph.CaseRef]*liveCase{}, loading: map[graph.CaseRef]*sync.Mutex{}, wake: make(chan struct{}, 1)}
}

// liveCase is one case under evaluation. Its mutex serialises evaluations of the case.
type liveCase struct {
	mu  sync.Mutex
	ref graph.CaseRef
	// retired is set (under mu) once a newer load replaced this one, or the case was dropped:
	// it must store nothing more, or an evaluation of the old version that was under way
	// would overwrite the statuses of the new one.
	retired bool
	version int // of the case as loaded
	eval    *assurance.Evaluator
	kinds   map[string]string // element id → GSN kind name
	leaves  map[string]*leaf
	// watchers indexes the leaves by what they watch, so that a change finds its dirty leaves
	// without scanning every leaf's watch.
	watchers map[evidence.Dependency]map[string]struct{}
}

// setWatch replaces a leaf's watch and its entries in the index.
func (lc *liveCase) setWatch(lf *leaf, watch []evidence.Dependency) {
	for _, d := range lf.watch {
		if w := lc.watchers[d]; w != nil {
			delete(w, lf.id)
			if len(w) == 0 {
				delete(lc.watchers, d)
			}
		}
	}
	lf.watch = watch
	for _, d := range watch {
		if lc.watchers[d] == nil {
			lc.watchers[d] = map[string]struct{}{}
		}
		lc.watchers[d][lf.id] = struct{}{}
	}
}

// watching returns the leaves whose watch names one of the nodes: exactly, by its whole label,
// or by every label.
func (lc *liveCase) watching(nodes []graph.NodeRef) []string {
	set := map[string]struct{}{}
	add := func(d evidence.Dependency) {
		for id := range lc.watchers[d] {
			set[id] = struct{}{}
		}
	}
	add(evidence.Dependency{Label: evidence.AnyLabel})
	for _, n := range nodes {
		add(evidence.Dependency{Label: n.Label, Key: n.Key})
		add(evidence.Dependency{Label: n.Label})
	}
	return slices.Sorted(maps.Keys(set))
}

// leaf is a Solution with an evidence spec, a Context or Assumption with a predicate, or a
// Defeater with evidence that its doubt holds.
type leaf struct {
	id   string
	role leafRole
	// triage is a defeater's assessment as people triaged it (stored), which its evidence
	// decides only while it is OPEN (see derivedAssessment).
	triage assurance.Assessment
	spec   evidence.Spec
	bad    error // the spec does not parse: the leaf stays EVIDENCE_ERROR
	result evidence.Result
	watch  []evidence.Dependency
}

// Start follows the twin changes and sweeps expiries until ctx ends. With loadAll it first
// loads and evaluates every stored case (a server that evaluates live); otherwise cases are
// loaded as they are imported or asked for (Load). It returns once the cases are loaded; a
// case that cannot be loaded is logged and skipped (its stored status stays). Subscribe to
// changes before calling Start, so that nothing written while cases load is missed.
func (l *Live) Start(ctx context.Context, changes <-chan events.Change, loadAll bool) error {
	var refs []graph.CaseRef
	if loadAll {
		var err error
		if refs, err = l.st.AssuranceCaseRefs(ctx); err != nil {
			return err
		}
	}
	l.loadAll = loadAll
	began, loaded := time.Now(), 0
	for _, r := range refs {
		if _, err := l.Load(ctx, r.Twin, r.ID); err != nil {
			l.log.Warn().Err(err).Str("twin", r.Twin).Str("case", r.ID).Msg("assurance case not evaluated")
			continue
		}
		loaded++
	}
	if loadAll {
		l.log.Info().Int("cases", loaded).Int("failed", len(refs)-loaded).Dur("took", time.Since(began)).
			Msg("assurance cases evaluated; following twin changes")
	}
	l.running.Go(func() { l.run(ctx, changes) })
	return nil
}

// Wait returns once the evaluation Start began has stopped (after its context ended): a server
// calls it before it closes the graph.
func (l *Live) Wait() { l.running.Wait() }

// Load (re)reads a case and evaluates it whole: every leaf's evidence, then the argument.
// Statuses that differ from the stored ones are stored as changes and announced. It returns
// the changes.
func (l *Live) Load(ctx context.Context, twin, id string) ([]events.StatusChanged, error) {
	ref := graph.CaseRef{Twin: twin, ID: id}
	l.mu.Lock()
	loading := l.loading[ref]
	if loading == nil {
		loading = &sync.Mutex{}
		l.loading[ref] = loading
	}
	l.mu.Unlock()
	loading.Lock()
	defer loading.Unlock()

	c, err := l.st.AssuranceCaseByID(ctx, twin, id)
	if err != nil {
		return nil, err
	}
	m, err := ToModel(c)
	if err != nil {
		return nil, err
	}
	ev, err := assurance.NewEvaluator(m, assurance.Options{})
	if err != nil {
		return nil, err
	}
	lc := &liveCase{ref: ref, version: c.Version, eval: ev, kinds: map[string]string{}, leaves: map[string]*leaf{},
		watchers: map[evidence.Dependency]map[string]struct{}{}}
	for _, e := range c.Elements {
		lc.kinds[e.ID] = e.Type
		if e.Evidence == "" {
			continue
		}
		lf := &leaf{id: e.ID}
		switch k := m.Kind(e.ID); k {
		case assurance.KindSolution:
			lf.role = roleEvidence
		case assurance.KindContext, assurance.KindAssumption:
			lf.role = rolePredicate
		case assurance.KindDefeater:
			d, _ := m.Defeater(e.ID)
			lf.role, lf.triage = roleDoubt, d.Assessment
		default:
			continue
		}
		lf.spec, lf.bad = evidence.ParseJSON([]byte(e.Evidence))
		lc.leaves[e.ID] = lf
	}
	// The version in evaluation is held while this one is evaluated and installed: an
	// evaluation of it under way (a change, a sweep) ends first, and none starts; once this one
	// is installed it is retired, so what waited for it moves on to this one (Live.lock). If
	// this load fails, it stays in evaluation.
	old := l.caseOf(twin, id)
	if old != nil {
		old.mu.Lock()
		defer old.mu.Unlock()
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	now := l.now()
	inputs := l.evaluateLeaves(ctx, lc, slices.Collect(maps.Keys(lc.leaves)), now)
	if err := lc.eval.Set(inputs); err != nil {
		return nil, fmt.Errorf("case %s: %w", id, err)
	}
	lc.eval.Evaluate(now)
	// Every element is stored: statuses, reasons and confidence of a fresh evaluation.
	all := lc.eval.Results()
	var changes []assurance.StatusChange
	for _, r := range all {
		changes = append(changes, assurance.StatusChange{Element: r.ID, To: r.Result, Cause: assurance.Cause{Full: true, Note: "case loaded"}})
	}
	out, err := l.store(ctx, lc, changes, now, true)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.cases[lc.ref] = lc
	l.mu.Unlock()
	if old != nil {
		old.retired = true
	}
	l.poke()
	return out, nil
}

// Drop forgets a case (deleted).
func (l *Live) Drop(twin, id string) {
	ref := graph.CaseRef{Twin: twin, ID: id}
	l.mu.Lock()
	lc := l.cases[ref]
	delete(l.cases, ref)
	l.mu.Unlock()
	if lc != nil {
		lc.mu.Lock()
		lc.retired = true
		lc.mu.Unlock()
	}
}

// lock locks lc, or the version that replaced it while it waited; nil (nothing locked) when
// the case was dropped.
func (l *Live) lock(lc *liveCase) *liveCase {
	for lc != nil {
		lc.mu.Lock()
		if !lc.retired {
			return lc
		}
		lc.mu.Unlock()
		lc = l.caseOf(lc.ref.Twin, lc.ref.ID)
	}
	return nil
}

// Apply re-evaluates what a twin change may have changed: the leaves whose watch names a node
// the change wrote, in every case of its twin (every leaf when the change does not list all
// its nodes, or deletes the twin). A component written stands for the contents of the
// artifacts containing it too (evidence.LabelContents): a new vulnerability on a component no
// vulnerability affected before matters to the vulnerability leaves about those artifacts,
// though none of them read that component.
func (l *Live) Apply(ctx context.Context, ch events.Change) {
	l.refresh(ctx, ch)
	cases := l.casesOf(ch.Twin)
	if len(cases) == 0 {
		return
	}
	note := ch.Op + " " + ch.Source
	nodes, all := l.expand(ctx, ch)
	for _, lc := range cases {
		if lc = l.lock(lc); lc == nil {
			continue
		}
		var dirty []string
		if all {
			dirty = slices.Collect(maps.Keys(lc.leaves))
		} else {
			dirty = lc.watching(nodes)
		}
		if len(dirty) > 0 {
			if _, err := l.reevaluate(ctx, lc, dirty, note); err != nil {
				l.log.Warn().Err(err).Str("twin", lc.ref.Twin).Str("case", lc.ref.ID).Msg("assurance re-evaluation failed")
			}
		}
		lc.mu.Unlock()
	}
}

// refresh brings the cases a change names (AssuranceCase nodes: imported, edited, deleted or
// triaged, by this server or by another replica on the same NATS) to what is stored: a newer
// version is loaded, a deleted case dropped, a triaged one loaded again (a triage does not make
// a version). Without it a replica would go on evaluating, and storing
// the statuses of, a version another replica replaced.
func (l *Live) refresh(ctx context.Context, ch events.Change) {
	for _, n := range ch.Nodes {
		if n.Label != graph.LabelAssuranceCase {
			continue
		}
		lc := l.caseOf(ch.Twin, n.Key)
		if lc == nil && !l.loadAll {
			continue
		}
		v, err := l.st.AssuranceCaseVersion(ctx, ch.Twin, n.Key)
		switch {
		case errors.Is(err, graph.ErrNotFound):
			l.Drop(ch.Twin, n.Key)
			continue
		case err != nil:
			l.log.Warn().Err(err).Str("twin", ch.Twin).Str("case", n.Key).Msg("changed assurance case not reloaded")
			continue
		case lc != nil && lc.version == v && ch.Op != events.OpAssuranceTriage:
			continue // loaded already (by the server that stored it)
		}
		if _, err := l.Load(ctx, ch.Twin, n.Key); err != nil {
			l.log.Warn().Err(err).Str("twin", ch.Twin).Str("case", n.Key).Msg("changed assurance case not reloaded")
		}
	}
}

// expand returns the nodes a change touches, with the contents of the artifacts containing its
// components;
// all is set when every leaf must be evaluated (the change does not list its nodes, deletes
// the twin, or the artifacts cannot be read).
func (l *Live) expand(ctx context.Context, ch events.Change) (nodes []graph.NodeRef, all bool) {
	if ch.Truncated || ch.Op == events.OpTwinDeleted {
		return nil, true
	}
	nodes = slices.Clone(ch.Nodes)
	var purls []string
	for _, n := range ch.Nodes {
		if n.Label == graph.LabelComponent {
			purls = append(purls, n.Key)
		}
	}
	if len(purls) == 0 {
		return nodes, false
	}
	arts, err := l.st.ArtifactsContaining(ctx, ch.Twin, purls)
	if err != nil {
		l.log.Warn().Err(err).Str("twin", ch.Twin).Msg("artifacts of the changed components unknown; every leaf of the twin is evaluated")
		return nil, true
	}
	for _, a := range arts {
		nodes = append(nodes, graph.NodeRef{Label: evidence.LabelContents, Key: a})
	}
	return nodes, false
}

// Sweep re-evaluates what time alone changed by now: the leaves whose evidence expired, and
// the engine's own expiries (residual acceptances). It returns when the next sweep is due
// (zero when nothing expires).
func (l *Live) Sweep(ctx context.Context) time.Time {
	var next time.Time
	for _, lc := range l.casesOf("") {
		if lc = l.lock(lc); lc == nil {
			continue
		}
		now := l.now()
		var due []string
		for id, lf := range lc.leaves {
			if e := lf.result.Expires; !e.IsZero() && !e.After(now) {
				due = append(due, id)
			}
		}
		if len(due) > 0 || engineDue(lc.eval, now) {
			if _, err := l.reevaluate(ctx, lc, due, "evidence expired"); err != nil {
				l.log.Warn().Err(err).Str("twin", lc.ref.Twin).Str("case", lc.ref.ID).Msg("assurance sweep failed")
			}
		}
		next = earliest(next, lc.nextDue())
		lc.mu.Unlock()
	}
	return next
}

func engineDue(ev *assurance.Evaluator, now time.Time) bool {
	n := ev.NextReevalAt()
	return !n.IsZero() && !n.After(now)
}

// nextDue is when the case next needs a sweep.
func (lc *liveCase) nextDue() time.Time {
	next := lc.eval.NextReevalAt()
	for _, lf := range lc.leaves {
		next = earliest(next, lf.result.Expires)
	}
	return next
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// Triage records a defeater's new assessment in the evaluator and re-evaluates what it
// reaches. The caller stores the triage itself first.
func (l *Live) Triage(ctx context.Context, twin, id, defeater string, a assurance.Assessment, note string) ([]events.StatusChanged, error) {
	lc := l.lock(l.caseOf(twin, id))
	if lc == nil {
		return nil, fmt.Errorf("assurance case %s of twin %s is not loaded: %w", id, twin, graph.ErrNotFound)
	}
	defer lc.mu.Unlock()
	now := l.now()
	if lf, ok := lc.leaves[defeater]; ok && lf.role == roleDoubt {
		lf.triage = a
		a = derivedAssessment(a, lf.result)
	}
	changes, err := lc.eval.Update(assurance.Changes{Defeaters: map[string]assurance.Assessment{defeater: a}, Note: note}, now)
	if err != nil {
		return nil, err
	}
	return l.store(ctx, lc, changes, now, false)
}

// Impact lists, for each loaded case of the twin, the elements whose status could change if
// any of the nodes changed: the leaves watching one of them and everything that depends on
// those leaves ("which claims would this CVE undermine?").
//
// Unlike a change, the nodes are not expanded to the artifacts containing their components: a
// vulnerability already in the twin was read, with the components it affects, by every leaf
// whose scope holds them.
func (l *Live) Impact(twin string, nodes []graph.NodeRef) map[string][]string {
	out := map[string][]string{}
	for _, lc := range l.casesOf(twin) {
		lc.mu.Lock()
		if hit := lc.watching(nodes); len(hit) > 0 {
			if ids, err := lc.eval.Impact(hit...); err == nil {
				out[lc.ref.ID] = ids
			}
		}
		lc.mu.Unlock()
	}
	return out
}

// Loaded reports whether a case is under live evaluation.
func (l *Live) Loaded(twin, id string) bool { return l.caseOf(twin, id) != nil }

func (l *Live) caseOf(twin, id string) *liveCase {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cases[graph.CaseRef{Twin: twin, ID: id}]
}

// casesOf returns the cases of a twin ("" for every twin), by id.
func (l *Live) casesOf(twin string) []*liveCase {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*liveCase
	for ref, lc := range l.cases {
		if twin == "" || ref.Twin == twin {
			out = append(out, lc)
		}
	}
	slices.SortFunc(out, func(a, b *liveCase) int {
		return cmp.Or(cmp.Compare(a.ref.Twin, b.ref.Twin), cmp.Compare(a.ref.ID, b.ref.ID))
	})
	return out
}

// poke wakes the sweeper to recompute its deadline.
func (l *Live) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run applies changes as they come and sweeps when evidence expires, until ctx ends.
func (l *Live) run(ctx context.Context, changes <-chan events.Change) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	reset := func(next time.Time) {
		d := time.Hour
		if !next.IsZero() {
			d = min(max(next.Sub(l.now()), 0), time.Hour)
		}
		timer.Reset(d)
	}
	reset(l.Sweep(ctx))
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			l.Apply(ctx, ch)
			reset(l.nextDue())
		case <-l.wake:
			reset(l.nextDue())
		case <-timer.C:
			reset(l.Sweep(ctx))
		}
	}
}

// nextDue is the earliest sweep any case needs.
func (l *Live) nextDue() time.Time {
	var next time.Time
	for _, lc := range l.casesOf("") {
		lc.mu.Lock()
		next = earliest(next, lc.nextDue())
		lc.mu.Unlock()
	}
	return next
}

// reevaluate evaluates the evidence of these leaves again and lets the engine propagate it
// (and any expiry due), then stores and announces what changed. The caller holds lc.mu.
func (l *Live) reevaluate(ctx context.Context, lc *liveCase, ids []string, note string) ([]events.StatusChanged, error) {
	now := l.now()
	inputs := l.evaluateLeaves(ctx, lc, ids, now)
	inputs.Note = note
	changes, err := lc.eval.Update(inputs, now)
	if err != nil {
		return nil, err
	}
	out, err := l.store(ctx, lc, changes, now, false)
	l.poke()
	return out, err
}

// evaluateLeaves evaluates the evidence of the leaves ids, a few at a time, and returns them
// as engine inputs. A store failure leaves the previous result in place (logged): an outage
// does not turn claims UNKNOWN by itself, and the next change or sweep tries again.
func (l *Live) evaluateLeaves(ctx context.Context, lc *liveCase, ids []string, now time.Time) assurance.Changes {
	slices.Sort(ids)
	ch := assurance.Changes{Leaves: map[string]assurance.LeafResult{}, Predicates: map[string]assurance.PredicateValue{}}
	type done struct {
		lf  *leaf
		r   evidence.Result
		err error
	}
	results := make([]done, len(ids))
	sem := make(chan struct{}, l.parallel)
	var wg sync.WaitGroup
	for i, id := range ids {
		lf := lc.leaves[id]
		if lf == nil {
			continue
		}
		if lf.bad != nil {
			results[i] = done{lf: lf, r: evidence.Result{Reason: assurance.EvidenceError, Verdict: evidence.Error,
				Status: assurance.Unknown, Message: lf.bad.Error(), EvaluatedAt: now}}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := evidence.Evaluate(ctx, l.ev, lc.ref.Twin, lf.spec, now)
			results[i] = done{lf: lf, r: r, err: err}
		}()
	}
	wg.Wait()
	for _, d := range results {
		if d.lf == nil {
			continue
		}
		if d.err != nil && !errors.Is(d.err, evidence.ErrInvalid) && d.lf.watch != nil {
			l.log.Warn().Err(d.err).Str("twin", lc.ref.Twin).Str("case", lc.ref.ID).Str("element", d.lf.id).
				Msg("evidence not evaluated; its previous result stands")
			continue
		}
		d.lf.result = d.r
		lc.setWatch(d.lf, evidence.Watch(d.lf.spec, d.r))
		switch d.lf.role {
		case rolePredicate:
			ch.Predicates[d.lf.id] = predicateOf(d.r)
		case roleDoubt:
			if ch.Defeaters == nil {
				ch.Defeaters = map[string]assurance.Assessment{}
			}
			ch.Defeaters[d.lf.id] = derivedAssessment(d.lf.triage, d.r)
		default:
			ch.Leaves[d.lf.id] = d.r.LeafResult()
		}
	}
	return ch
}

// leafRole is what a leaf's evidence decides.
type leafRole uint8

const (
	roleEvidence  leafRole = iota // a Solution's verdict
	rolePredicate                 // a Context's or Assumption's truth
	roleDoubt                     // whether a Defeater's doubt holds
)

// derivedAssessment is a defeater's assessment given the evidence about its doubt (ops to dev:
// a runtime alert, a vulnerability found). While people have not triaged it (OPEN), the
// evidence decides: failing evidence (the doubt is seen in the twin: an alert, an open CVE)
// sustains it, passing evidence (nothing of the kind, a VEX not_affected) refutes it, and
// evidence that is missing or stale leaves it OPEN, under the severity policy. A triage by a
// person (SUSTAINED, REFUTED, ACCEPTED_RESIDUAL) stands until it is reopened: a false positive
// stays refuted, an accepted risk accepted.
func derivedAssessment(triage assurance.Assessment, r evidence.Result) assurance.Assessment {
	if triage.State != assurance.Open {
		return triage
	}
	a := triage
	switch r.Status {
	case assurance.Undermined:
		a.State = assurance.Sustained
	case assurance.Supported:
		a.State = assurance.Refuted
	}
	return a
}

// predicateOf reads an evidence result as a predicate value: true when it passes, false when
// it fails, unknown otherwise; it holds until the evidence expires.
func predicateOf(r evidence.Result) assurance.PredicateValue {
	v := assurance.PredicateValue{Expires: r.Expires}
	switch r.Status {
	case assurance.Supported:
		v.Value = assurance.TruthTrue
	case assurance.Undermined:
		v.Value = assurance.TruthFalse
	}
	return v
}

// store saves the changed results (every result when all) and announces what changed against
// what was stored: a status (recorded in the history too), or, but for a load, its reasons or
// confidence. The stored values decide, not this server's memory of them, so that of several
// servers evaluating the case (replicas) only the one that stores a change announces it.
func (l *Live) store(ctx context.Context, lc *liveCase, changes []assurance.StatusChange, now time.Time, all bool) ([]events.StatusChanged, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	statuses := make([]graph.CaseStatus, 0, len(changes))
	causes := make(map[string]string, len(changes))
	for _, c := range changes {
		reasons, err := json.Marshal(c.To.Reasons)
		if err != nil {
			return nil, err
		}
		if len(c.To.Reasons) == 0 {
			reasons = []byte("[]")
		}
		cause, err := json.Marshal(l.explainCause(lc, c.Cause))
		if err != nil {
			return nil, err
		}
		statuses = append(statuses, graph.CaseStatus{Element: c.Element, Status: c.To.Status.String(), Reasons: string(reasons),
			Confidence: c.To.Confidence, At: now, NextReevalAt: c.To.NextReevalAt})
		causes[c.Element] = string(cause)
	}
	before, err := l.st.SaveCaseStatuses(ctx, lc.ref.Twin, lc.ref.ID, statuses, causes)
	if err != nil {
		return nil, err
	}
	var out []events.StatusChanged
	for _, s := range statuses {
		b, found := before[s.Element]
		if !found || b.Status == s.Status && (all || b.Reasons == s.Reasons && b.Confidence == s.Confidence) {
			continue
		}
		out = append(out, events.StatusChanged{Twin: lc.ref.Twin, Case: lc.ref.ID, Element: s.Element, Kind: lc.kinds[s.Element],
			From: b.Status, To: s.Status, Reasons: json.RawMessage(s.Reasons), Confidence: s.Confidence, Cause: json.RawMessage(causes[s.Element]), At: now})
	}
	if l.pub != nil && len(out) > 0 {
		if err := l.pub.PublishStatus(ctx, out); err != nil {
			l.log.Warn().Err(err).Str("twin", lc.ref.Twin).Str("case", lc.ref.ID).Msg("status changes stored but not announced")
		}
	}
	return out, nil
}

// cause is what a stored status change says about why it happened.
type cause struct {
	assurance.Cause
	// Evidence are the evidence results of the leaves the change came from.
	Evidence map[string]evidence.Result `json:"evidence,omitempty"`
}

func (l *Live) explainCause(lc *liveCase, c assurance.Cause) cause {
	out := cause{Cause: c}
	for _, id := range slices.Concat(c.Inputs, c.Expired) {
		if lf, ok := lc.leaves[id]; ok {
			if out.Evidence == nil {
				out.Evidence = map[string]evidence.Result{}
			}
			r := lf.result
			r.Reads = nil
			out.Evidence[id] = r
		}
	}
	return out
}

// Evidence returns the current evidence result of every leaf of a loaded case, by element id
// (nil when the case is not loaded).
func (l *Live) Evidence(twin, id string) map[string]evidence.Result {
	lc := l.caseOf(twin, id)
	if lc == nil {
		return nil
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	out := make(map[string]evidence.Result, len(lc.leaves))
	for id, lf := range lc.leaves {
		if lf.role != roleEvidence {
			continue
		}
		out[id] = lf.result
	}
	return out
}
