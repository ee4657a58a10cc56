package evidence

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// Accept is the gate a spec passes before it is stored: Validate, and for a cypher_check the
// second acceptance step, CheckPlan, on what EXPLAIN says about its query in this twin. A spec
// refused is reported as ValidationErrors (wrapping ErrInvalid, ErrNotReadOnly, ErrUnbounded or
// ErrBadQuery); any other error is the store's.
func Accept(ctx context.Context, st Store, twin string, s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Kind != KindCypherCheck {
		return nil
	}
	plan, err := st.ExplainCypher(ctx, twin, s.cypherQuery())
	if errors.Is(err, ErrBadQuery) {
		return ValidationErrors{{Field: "cypher.query", Message: err.Error(), Err: ErrBadQuery}}
	}
	if err != nil {
		return fmt.Errorf("explain the cypher check: %w", err)
	}
	if err := CheckPlan(plan); err != nil {
		var le *lintError
		errors.As(err, &le)
		return ValidationErrors{{Field: "cypher.query", Message: le.msg, Err: le.kind}}
	}
	return nil
}

// cypherQuery is the query of a cypher_check as the store runs it, defaults applied.
func (s Spec) cypherQuery() CypherQuery {
	c := s.Cypher
	q := CypherQuery{Query: c.Query, Params: maps.Clone(c.Params), MaxRows: c.MaxRows, Timeout: c.Timeout.D()}
	if q.MaxRows == 0 {
		q.MaxRows = DefaultCypherRows
	}
	if q.Timeout == 0 {
		q.Timeout = DefaultCypherTimeout
	}
	if q.Params == nil {
		q.Params = map[string]any{}
	}
	return q
}

// Evaluate applies the leaf rules of the design (assurance.md §3) to what the twin holds for
// spec s at now. The first rule that matches wins:
//
//  1. no evidence about the subject's current digest: UNKNOWN, EVIDENCE_MISSING; evidence
//     only about an older digest of it: UNKNOWN, SUBJECT_CHANGED;
//  2. now ≥ min(expiry, collected + window): UNKNOWN, EVIDENCE_STALE;
//  3. newer knowledge than the evidence would fail it: UNKNOWN, KNOWLEDGE_STALE;
//  4. the verdict: FAIL gives UNDERMINED (EVIDENCE_FAIL), ERROR gives UNKNOWN
//     (EVIDENCE_ERROR), DEGRADED gives SUPPORTED (EVIDENCE_DEGRADED), PASS gives SUPPORTED;
//  5. a monitor that missed its heartbeat: UNKNOWN, MONITOR_SILENT.
//
// What evidence is and what fails it depends on the kind (see the package documentation).
// Validity intervals are half-open, as in analytics/assurance: evidence collected at c with
// window W holds while now < c + W, and Result.Expires is that instant.
//
// When the spec is invalid or the store fails, Evaluate returns an EVIDENCE_ERROR result
// together with the error: a caller may record the result, or keep the previous one while the
// store is unavailable.
func Evaluate(ctx context.Context, st Store, twin string, s Spec, now time.Time) (Result, error) {
	e := &evaluation{ctx: ctx, st: st, twin: twin, s: s, now: now, win: s.Window.D(), w: s.Weight}
	if e.w == 0 {
		e.w = DefaultWeight(s.Kind)
	}
	r, err := e.run()
	if err != nil {
		r = Result{Verdict: Error, Reason: assurance.EvidenceError, Message: err.Error()}
		name := s.ID
		if name == "" {
			name = string(s.Kind)
		}
		err = fmt.Errorf("evaluate evidence spec %s: %w", name, err)
	}
	r.Spec, r.Kind, r.EvaluatedAt = s.ID, s.Kind, now
	r.Status = statusOf(r.Reason)
	if r.Status == assurance.Unknown {
		r.Confidence = 0
	}
	r.Culprits = dedup(r.Culprits)
	if err == nil {
		r.Reads = normalize(e.reads)
	}
	if len(r.Culprits) > MaxCulprits {
		r.Omitted = len(r.Culprits) - MaxCulprits
		r.Culprits = r.Culprits[:MaxCulprits]
	}
	return r, err
}

type evaluation struct {
	ctx  context.Context
	st   Store
	twin string
	s    Spec
	now  time.Time
	win  time.Duration
	w    float64
	// reads are the nodes the evaluation read (Result.Reads).
	reads []Dependency
}

// read records that the evaluation read the node label/key (every node of label for "").
func (e *evaluation) read(label string, keys ...string) {
	if len(keys) == 0 {
		e.reads = append(e.reads, Dependency{Label: label})
	}
	for _, k := range keys {
		e.reads = append(e.reads, Dependency{Label: label, Key: k})
	}
}

func (e *evaluation) run() (Result, error) {
	if err := e.s.Validate(); err != nil {
		return Result{}, err
	}
	switch e.s.Kind {
	case KindNoOpenVulns:
		return e.noOpenVulns()
	case KindScanFresh:
		return e.scanFresh()
	case KindSARIFClean:
		return e.sarifClean()
	case KindNoRuntimeAlerts:
		return e.noRuntimeAlerts()
	case KindHeartbeat:
		return e.heartbeat()
	case KindAttestation:
		return e.attestation()
	case KindCypherCheck:
		return e.cypherCheck()
	}
	return Result{}, fmt.Errorf("%w: kind %q", ErrInvalid, e.s.Kind)
}

// unknown is a result decided by rules 1–3 or 5.
func unknown(code assurance.Code, culprits []string, format string, args ...any) Result {
	return Result{Reason: code, Culprits: culprits, Message: fmt.Sprintf(format, args...)}
}

// decided is a result with a verdict, its confidence from when the evidence was collected and
// the window that ages it.
func (e *evaluation) decided(v Verdict, culprits []string, collected, expires time.Time, window time.Duration, msg string) Result {
	r := Result{Verdict: v, Reason: reasonOf(v), Culprits: culprits, Collected: collected, Expires: expires, Message: msg}
	switch v {
	case Pass, Fail:
		r.Confidence = assurance.LeafConfidence(e.w, collected, window, e.now)
	case Degraded:
		r.Confidence = DegradedFactor * assurance.LeafConfidence(e.w, collected, window, e.now)
	}
	return r
}

// violation is the verdict when the data violates the spec.
func (e *evaluation) violation() Verdict {
	if e.s.OnFail == Degraded {
		return Degraded
	}
	return Fail
}

// subjectView is a subject with the digests evidence must be about.
type subjectView struct {
	ref   SubjectRef
	facts SubjectFacts
	// current are the digests evidence must be about, by key; with anyOne (a component),
	// evidence about one of them suffices.
	current []ArtifactFact
	anyOne  bool
	// lineage are the older digests of current ones (see pickCurrent).
	lineage []ArtifactFact
}

// ids are the global ids the subject goes by now: its own, or for an artifact given by name
// its current digests'.
func (v subjectView) ids() []string {
	if v.facts.ID != "" {
		return []string{v.facts.ID}
	}
	return artifactIDs(v.current)
}

// subject resolves the spec's subject; a result is returned when there is nothing to evaluate
// (no such subject, or, when needArtifacts, no current digest).
func (e *evaluation) subject(needArtifacts bool) (subjectView, *Result, error) {
	ref := e.s.Subject.Ref()
	facts, err := e.st.Subject(e.ctx, e.twin, ref)
	if err != nil {
		return subjectView{}, nil, fmt.Errorf("subject %s: %w", ref, err)
	}
	if ref.Key != "" {
		e.read(ref.Label, ref.Key)
	}
	for _, a := range facts.Artifacts {
		e.read(LabelArtifact, a.Key)
	}
	v := subjectView{ref: ref, facts: facts}
	if !facts.Found {
		r := unknown(assurance.EvidenceMissing, nil, "no %s in the twin", ref)
		return v, &r, nil
	}
	v.current, v.lineage, v.anyOne = pickCurrent(ref, e.s.Subject.Stage, facts.Artifacts)
	if needArtifacts && len(v.current) == 0 {
		what := "no artifact"
		switch ref.Label {
		case LabelService:
			what = "it RUNS no artifact"
		case LabelComponent:
			what = "no artifact CONTAINS it"
		case LabelTwin, LabelArtifact:
			if e.s.Subject.Stage == StageRunning {
				what = "no service RUNS an artifact of it"
			}
		}
		r := unknown(assurance.EvidenceMissing, nil, "no evidence about %s: %s", ref, what)
		return v, &r, nil
	}
	return v, nil, nil
}

// pickCurrent decides which artifacts of a subject are current:
//   - an artifact by digest: that digest;
//   - an artifact by name, and the twin: per name, the newest digest (first seen last;
//     build stage), or every digest a service RUNS (running stage);
//   - a service: what it RUNS; a component: what CONTAINS it (any one suffices).
//
// The lineage is the older digests of the current ones: the other artifacts sharing a name
// with a current one and first seen before it. Evidence about a newer digest (a build not yet
// deployed, a digest newer than the one pinned) does not make the subject SUBJECT_CHANGED.
func pickCurrent(ref SubjectRef, stage Stage, arts []ArtifactFact) (current, lineage []ArtifactFact, anyOne bool) {
	switch {
	case ref.Label == LabelService, ref.Label == LabelComponent, ref.Label == LabelArtifact && ref.Key != "":
		for _, a := range arts {
			if a.Direct {
				current = append(current, a)
			}
		}
		anyOne = ref.Label == LabelComponent
	case ref.Label == LabelArtifact, ref.Label == LabelTwin:
		if stage == StageRunning {
			for _, a := range arts {
				if a.Running {
					current = append(current, a)
				}
			}
			break
		}
		newest := map[string]ArtifactFact{}
		for _, a := range arts {
			g := a.Name
			if g == "" {
				g = "\x00" + a.Key
			}
			if b, ok := newest[g]; !ok || a.FirstSeen.After(b.FirstSeen) || a.FirstSeen.Equal(b.FirstSeen) && a.Key > b.Key {
				newest[g] = a
			}
		}
		current = slices.Collect(maps.Values(newest))
	}
	slices.SortFunc(current, func(a, b ArtifactFact) int { return strings.Compare(a.Key, b.Key) })
	current = slices.CompactFunc(current, func(a, b ArtifactFact) bool { return a.Key == b.Key })
	for _, a := range arts {
		if slices.ContainsFunc(current, func(c ArtifactFact) bool { return c.Key == a.Key }) {
			continue
		}
		// An older digest of a current one: same name, first seen before it.
		if slices.ContainsFunc(current, func(c ArtifactFact) bool {
			return c.Name != "" && c.Name == a.Name && a.FirstSeen.Before(c.FirstSeen)
		}) {
			lineage = append(lineage, a)
		}
	}
	slices.SortFunc(lineage, func(a, b ArtifactFact) int { return strings.Compare(a.Key, b.Key) })
	lineage = slices.CompactFunc(lineage, func(a, b ArtifactFact) bool { return a.Key == b.Key })
	return current, lineage, anyOne
}

// scanEvidence is the evidence of a scan-based spec after rules 1 and 2.
type scanEvidence struct {
	runs      map[string]ScanRun // current artifact digest → its newest scan
	collected time.Time          // the oldest of them
	expires   time.Time
	ids       []string // their global ids
}

// selects reports whether a scan selector ("format" or "format:tool") picks run. A tool
// matches case-insensitively, as a whole or as the first word of the run's tool name
// ("semgrep" picks "Semgrep OSS").
func selects(sel string, run ScanRun) bool {
	format, tool, hasTool := strings.Cut(sel, ":")
	if !strings.EqualFold(format, run.Format) {
		return false
	}
	if !hasTool {
		return true
	}
	first, _, _ := strings.Cut(strings.TrimSpace(run.Tool), " ")
	return strings.EqualFold(tool, strings.TrimSpace(run.Tool)) || strings.EqualFold(tool, first)
}

func newer(a, b ScanRun) bool {
	return a.Collected.After(b.Collected) || a.Collected.Equal(b.Collected) && a.ID > b.ID
}

// scans finds the evidence of a scan-based spec, applying rules 1 and 2: every current digest
// needs a scan by a selected tool (one suffices for a component), and the oldest of them must
// be within the window.
func (e *evaluation) scans(v subjectView) (scanEvidence, *Result, error) {
	var keys []string
	for _, a := range slices.Concat(v.current, v.lineage) {
		keys = append(keys, a.Key)
	}
	var formats []string
	for _, sel := range e.s.Scan {
		f, _, _ := strings.Cut(sel, ":")
		formats = append(formats, strings.ToLower(f))
	}
	slices.Sort(formats)
	runs, err := e.st.ScanRuns(e.ctx, e.twin, keys, slices.Compact(formats))
	if err != nil {
		return scanEvidence{}, nil, fmt.Errorf("scan runs: %w", err)
	}
	// A scan run is recorded with a write naming its artifact.
	e.read(LabelArtifact, keys...)
	newest := map[string]ScanRun{}
	for _, r := range runs {
		if !slices.ContainsFunc(e.s.Scan, func(sel string) bool { return selects(sel, r) }) {
			continue
		}
		if b, ok := newest[r.Artifact]; !ok || newer(r, b) {
			newest[r.Artifact] = r
		}
	}
	ev := scanEvidence{runs: map[string]ScanRun{}}
	scanned := strings.Join(e.s.Scan, ", ")
	if v.anyOne {
		var best *ScanRun
		for _, a := range v.current {
			if r, ok := newest[a.Key]; ok && (best == nil || newer(r, *best)) {
				best = &r
			}
		}
		if best == nil {
			r := unknown(assurance.EvidenceMissing, nil, "no %s scan of an artifact containing %s", scanned, v.ref)
			return ev, &r, nil
		}
		ev.runs[best.Artifact] = *best
	} else {
		var lacking []ArtifactFact
		changed := true
		for _, a := range v.current {
			if r, ok := newest[a.Key]; ok {
				ev.runs[a.Key] = r
				continue
			}
			lacking = append(lacking, a)
			if !slices.ContainsFunc(v.lineage, func(l ArtifactFact) bool { _, ok := newest[l.Key]; return ok && l.Name == a.Name && a.Name != "" }) {
				changed = false
			}
		}
		if len(lacking) > 0 {
			what := fmt.Sprintf("%s %s", plural(len(lacking), "current artifact"), strings.Join(artifactKeys(lacking), ", "))
			if changed {
				r := unknown(assurance.SubjectChanged, artifactIDs(lacking), "%s of %s: only an older digest has a %s scan", what, v.ref, scanned)
				return ev, &r, nil
			}
			r := unknown(assurance.EvidenceMissing, artifactIDs(lacking), "%s of %s: no %s scan", what, v.ref, scanned)
			return ev, &r, nil
		}
	}
	var stale []string
	for _, k := range slices.Sorted(maps.Keys(ev.runs)) {
		r := ev.runs[k]
		ev.ids = append(ev.ids, r.ID)
		if ev.collected.IsZero() || r.Collected.Before(ev.collected) {
			ev.collected = r.Collected
		}
		if !e.now.Before(r.Collected.Add(e.win)) {
			stale = append(stale, r.ID)
		}
	}
	ev.expires = ev.collected.Add(e.win)
	if len(stale) > 0 {
		r := unknown(assurance.EvidenceStale, stale, "the %s scan of %s was taken %s ago, longer than the window of %s",
			scanned, v.ref, age(e.now, ev.collected), e.s.Window)
		r.Evidence = ev.ids
		return ev, &r, nil
	}
	return ev, nil, nil
}

func (e *evaluation) scanFresh() (Result, error) {
	v, done, err := e.subject(true)
	if done != nil || err != nil {
		return deref(done), err
	}
	ev, done, err := e.scans(v)
	if done != nil || err != nil {
		return deref(done), err
	}
	r := e.decided(Pass, nil, ev.collected, ev.expires, e.win, fmt.Sprintf("%s of %s scanned by %s within %s",
		plural(len(ev.runs), "artifact"), v.ref, strings.Join(e.s.Scan, ", "), e.s.Window))
	r.Evidence = ev.ids
	return r, nil
}

// rating returns an exposure's severity rank (from its CVSS score when it has no severity), and
// whether it is rated at all.
func rating(x Exposure) (int, bool) {
	if r := severityRank(x.Severity); r >= 0 {
		return r, true
	}
	if x.CVSS != nil {
		switch s := *x.CVSS; {
		case s >= 9:
			return 4, true
		case s >= 7:
			return 3, true
		case s >= 4:
			return 2, true
		case s > 0:
			return 1, true
		default:
			return 0, true
		}
	}
	return 0, false
}

// counts reports whether an exposure counts against the criteria, whatever its VEX status.
func (c VulnCriteria) counts(x Exposure) bool {
	r, rated := rating(x)
	switch {
	case !rated && c.IgnoreUnrated:
		return false
	case rated && r < severityRank(string(c.MinSeverity)):
		return false
	case c.KEVOnly && !x.KEV:
		return false
	}
	if c.MinEPSS != nil {
		if x.EPSS == nil {
			return !c.IgnoreUnrated
		}
		return *x.EPSS >= *c.MinEPSS
	}
	return true
}

// openStatus reports whether a VEX status leaves a vulnerability open: everything but
// not_affected and fixed (affected, under_investigation, none stated).
func openStatus(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "not_affected", "fixed":
		return false
	}
	return true
}

// noOpenVulns: the evidence is the newest selected scan of each current digest (rules 1, 2).
// The vulnerabilities are the twin's current knowledge about the components of those
// digests (or about the component): every AFFECTS with its VEX status now, so VEX statements
// and advisories ingested after the scan count. A vulnerability counts when it is open and
// meets the criteria; it was known to the scan when the twin learnt it (AFFECTS firstSeen) no
// later than the scan's knowledge of the digests containing it.
//
//   - Some counting vulnerability was known to the scan: the verdict is FAIL (or on_fail),
//     naming every counting vulnerability. Newer knowledge cannot make such evidence pass,
//     so this wins over rule 3.
//   - Otherwise, some counting vulnerability is newer than the scan: KNOWLEDGE_STALE, naming
//     them. Vulnerabilities that do not count (closed by VEX, below the bar) never make
//     evidence stale: they cannot change its verdict.
//   - Otherwise PASS.
func (e *evaluation) noOpenVulns() (Result, error) {
	v, done, err := e.subject(true)
	if done != nil || err != nil {
		return deref(done), err
	}
	ev, done, err := e.scans(v)
	if done != nil || err != nil {
		return deref(done), err
	}
	scope := ExposureScope{}
	if v.ref.Label == LabelComponent {
		scope.Component = v.ref.Key
	} else {
		scope.Artifacts = artifactKeys(v.current)
	}
	xs, err := e.st.Exposures(e.ctx, e.twin, scope)
	if err != nil {
		return Result{}, fmt.Errorf("vulnerabilities: %w", err)
	}
	e.read(LabelArtifact, scope.Artifacts...)
	e.read(LabelContents, scope.Artifacts...)
	if scope.Component != "" {
		e.read(LabelComponent, scope.Component)
	}
	for _, x := range xs {
		e.read(LabelComponent, x.Component)
		e.read(LabelVulnerability, x.VulnerabilityID)
	}
	// knowledge is how current the evidence about an exposure is: the oldest knowledge among
	// the scans of the digests containing its component (all of them when it names none).
	knowledge := func(x Exposure) time.Time {
		var k time.Time
		for _, a := range x.Artifacts {
			if r, ok := ev.runs[a]; ok && (k.IsZero() || r.knowledge().Before(k)) {
				k = r.knowledge()
			}
		}
		if k.IsZero() {
			for _, r := range ev.runs {
				if k.IsZero() || r.knowledge().Before(k) {
					k = r.knowledge()
				}
			}
		}
		return k
	}
	var known, fresh []Exposure
	for _, x := range xs {
		if !openStatus(x.Status) || !e.s.Vulns.counts(x) {
			continue
		}
		if x.KnownSince.IsZero() || !x.KnownSince.After(knowledge(x)) {
			known = append(known, x)
		} else {
			fresh = append(fresh, x)
		}
	}
	bar := describeCriteria(*e.s.Vulns)
	switch {
	case len(known) > 0:
		all := slices.Concat(known, fresh)
		sortExposures(all)
		r := e.decided(e.violation(), exposureIDs(all), ev.collected, ev.expires, e.win,
			fmt.Sprintf("%s %s on %s: %s", plural(countVulns(all), "open vulnerability"), bar, v.ref, exposureNames(all)))
		r.Evidence = ev.ids
		return r, nil
	case len(fresh) > 0:
		sortExposures(fresh)
		r := unknown(assurance.KnowledgeStale, exposureIDs(fresh), "the twin learnt of %s %s on %s after the %s scan's knowledge: %s",
			plural(countVulns(fresh), "open vulnerability"), bar, v.ref, strings.Join(e.s.Scan, ", "), exposureNames(fresh))
		r.Evidence, r.Collected, r.Expires = ev.ids, ev.collected, ev.expires
		return r, nil
	}
	r := e.decided(Pass, nil, ev.collected, ev.expires, e.win, fmt.Sprintf("no open vulnerability %s on %s", bar, v.ref))
	r.Evidence = ev.ids
	return r, nil
}

func describeCriteria(c VulnCriteria) string {
	s := "at or above " + strings.ToUpper(string(c.MinSeverity))
	if c.KEVOnly {
		s += ", known exploited"
	}
	if c.MinEPSS != nil {
		s += fmt.Sprintf(", EPSS ≥ %g", *c.MinEPSS)
	}
	return s
}

// sortExposures puts the most severe first: KEV, then severity, then EPSS, then id.
func sortExposures(xs []Exposure) {
	slices.SortStableFunc(xs, func(a, b Exposure) int {
		ra, _ := rating(a)
		rb, _ := rating(b)
		ea, eb := 0.0, 0.0
		if a.EPSS != nil {
			ea = *a.EPSS
		}
		if b.EPSS != nil {
			eb = *b.EPSS
		}
		return cmp.Or(boolCmp(b.KEV, a.KEV), cmp.Compare(rb, ra), cmp.Compare(eb, ea),
			strings.Compare(a.VulnerabilityID, b.VulnerabilityID), strings.Compare(a.Component, b.Component))
	})
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func exposureIDs(xs []Exposure) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, x.Vulnerability)
	}
	return dedup(out)
}

func countVulns(xs []Exposure) int { return len(exposureIDs(xs)) }

// exposureNames lists the first few vulnerabilities for a message.
func exposureNames(xs []Exposure) string {
	var names []string
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x.VulnerabilityID] {
			continue
		}
		seen[x.VulnerabilityID] = true
		n := x.VulnerabilityID
		var tags []string
		if x.Severity != "" {
			tags = append(tags, strings.ToUpper(x.Severity))
		}
		if x.KEV {
			tags = append(tags, "KEV")
		}
		if len(tags) > 0 {
			n += " (" + strings.Join(tags, ", ") + ")"
		}
		names = append(names, n)
	}
	return listOf(names)
}

// sarifClean: the evidence is the newest selected SARIF scan of each current digest (rules 1,
// 2); the findings are those that scan reported (its provenance source) FOUND_IN the digest.
// An open one of the family fails the spec.
func (e *evaluation) sarifClean() (Result, error) {
	v, done, err := e.subject(true)
	if done != nil || err != nil {
		return deref(done), err
	}
	ev, done, err := e.scans(v)
	if done != nil || err != nil {
		return deref(done), err
	}
	var sources []string
	for _, r := range ev.runs {
		sources = append(sources, r.Source)
	}
	slices.Sort(sources)
	fs, err := e.st.Findings(e.ctx, e.twin, artifactKeys(v.current), slices.Compact(sources))
	if err != nil {
		return Result{}, fmt.Errorf("findings: %w", err)
	}
	// New findings name the artifact they are FOUND_IN; a finding's own change names only
	// its fingerprint, which Finding does not carry.
	e.read(LabelFinding)
	crit := FindingCriteria{}
	if e.s.Findings != nil {
		crit = *e.s.Findings
	}
	var bad []Finding
	for _, f := range fs {
		run, ok := ev.runs[f.Artifact]
		if ok && slices.Contains(f.Sources, run.Source) && openFinding(f.Status) && crit.counts(f) {
			bad = append(bad, f)
		}
	}
	family := crit.describe()
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b Finding) int {
			return cmp.Or(cmp.Compare(severityRank(b.Severity), severityRank(a.Severity)), strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.ID, b.ID))
		})
		var ids, rules []string
		for _, f := range bad {
			ids = append(ids, f.ID)
			rules = append(rules, f.RuleID)
		}
		slices.Sort(rules)
		r := e.decided(e.violation(), ids, ev.collected, ev.expires, e.win,
			fmt.Sprintf("%s of %s on %s: %s", plural(len(ids), "open finding"), family, v.ref, listOf(slices.Compact(rules))))
		r.Evidence = ev.ids
		return r, nil
	}
	r := e.decided(Pass, nil, ev.collected, ev.expires, e.win, fmt.Sprintf("no open finding of %s on %s", family, v.ref))
	r.Evidence = ev.ids
	return r, nil
}

func openFinding(status string) bool {
	s := strings.ToUpper(strings.TrimSpace(status))
	return s == "" || s == "OPEN"
}

// counts reports whether a finding belongs to the family at or above the severity. A finding
// without a rated severity counts.
func (c FindingCriteria) counts(f Finding) bool {
	if len(c.RulePrefixes)+len(c.Tags) > 0 {
		in := slices.ContainsFunc(c.RulePrefixes, func(p string) bool { return strings.HasPrefix(f.RuleID, p) }) ||
			slices.ContainsFunc(c.Tags, func(t string) bool {
				return slices.ContainsFunc(f.Tags, func(ft string) bool { return strings.EqualFold(ft, t) })
			})
		if !in {
			return false
		}
	}
	if c.MinSeverity != "" {
		if r := severityRank(f.Severity); r >= 0 && r < severityRank(string(c.MinSeverity)) {
			return false
		}
	}
	return true
}

func (c FindingCriteria) describe() string {
	var parts []string
	if len(c.RulePrefixes) > 0 {
		parts = append(parts, "rules "+strings.Join(c.RulePrefixes, "*, ")+"*")
	}
	if len(c.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(c.Tags, ", "))
	}
	s := "any rule"
	if len(parts) > 0 {
		s = strings.Join(parts, " or ")
	}
	if c.MinSeverity != "" {
		s += " at or above " + strings.ToUpper(string(c.MinSeverity))
	}
	return s
}

func artifactKeys(as []ArtifactFact) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Key
	}
	return out
}

func artifactIDs(as []ArtifactFact) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func deref(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

// dedup removes repeated ids, keeping the first of each.
func dedup(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// listOf lists the first five names for a message.
func listOf(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

func age(now, t time.Time) string {
	return Duration(now.Sub(t).Round(time.Second)).String()
}
