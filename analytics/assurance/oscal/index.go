package oscal

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// problems collects what is wrong with an Input.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// newExporter validates and indexes in. It reports every problem, sorted, in one error.
func newExporter(in Input) (*exporter, error) {
	var p problems
	x := &exporter{
		c:        normalCase(in.Case, &p),
		elements: map[string]*Element{},
		results:  map[string]*Result{},
		evByID:   map[string]*Evidence{},
		bySol:    map[string][]*Evidence{},
		coverage: map[string][]string{},
		subjects: map[string]Subject{},
		isDef:    map[string]bool{},
		toolUUID: newUUID("tool", "sectwin"),
	}
	x.indexElements(in.Elements, &p)
	x.indexDefeaters(in.Defeaters, &p)
	x.indexResults(in.Results, &p)
	x.indexEvidence(in.Evidence, &p)
	x.indexCoverage(in.Coverage, &p)
	if len(p) > 0 {
		slices.Sort(p)
		return nil, fmt.Errorf("%w: %s", ErrInvalidInput, strings.Join(p, "; "))
	}
	return x, nil
}

// normalCase checks the case's metadata and fills its defaults.
func normalCase(c Case, p *problems) Case {
	if !validID(c.Twin) {
		p.add("case: twin %q is empty or not a single trimmed line", c.Twin)
	}
	if !validID(c.ID) {
		p.add("case: id %q is empty or not a single trimmed line", c.ID)
	}
	if c.Version = oneLine(c.Version); c.Version == "" {
		p.add("case: version is empty")
	}
	if c.Generated.IsZero() {
		p.add("case: generated time is zero")
	}
	if !c.Start.IsZero() && c.Start.After(c.Generated) {
		p.add("case: start %s is after generated %s", ts(c.Start), ts(c.Generated))
	}
	if c.PlanHref != "" && !validID(c.PlanHref) {
		p.add("case: plan href %q is not a single trimmed line", c.PlanHref)
	}
	if c.Name = oneLine(c.Name); c.Name == "" {
		c.Name = c.ID
	}
	if c.ToolVersion = oneLine(c.ToolVersion); c.ToolVersion == "" {
		c.ToolVersion = "unknown"
	}
	return c
}

// addSubject records a twin element that owner is about.
func (x *exporter) addSubject(owner string, s Subject, p *problems) {
	if !validID(s.ID) {
		p.add("%s: subject id %q is empty or not a single trimmed line", owner, s.ID)
		return
	}
	s.Label, s.Title = oneLine(s.Label), oneLine(s.Title)
	// The same twin element may be named several times: keep the smallest non-empty label and
	// title, so that the result does not depend on input order.
	if old, ok := x.subjects[s.ID]; ok {
		s.Label, s.Title = minNonEmpty(old.Label, s.Label), minNonEmpty(old.Title, s.Title)
	}
	x.subjects[s.ID] = s
}

func (x *exporter) indexElements(elements []Element, p *problems) {
	for i := range elements {
		e := &elements[i]
		switch {
		case !validID(e.ID):
			p.add("element %q: id is empty or not a single trimmed line", e.ID)
			continue
		case x.elements[e.ID] != nil:
			p.add("element %s: duplicate id", e.ID)
			continue
		case e.Kind < assurance.KindGoal || e.Kind > assurance.KindJustification:
			p.add("element %s: invalid kind %s", e.ID, e.Kind)
		}
		x.elements[e.ID] = e
		for _, s := range e.About {
			x.addSubject("element "+e.ID, s, p)
		}
	}
	for id, e := range x.elements {
		for _, s := range e.SupportedBy {
			if x.elements[s] == nil {
				p.add("element %s: supported by unknown element %q", id, s)
			}
		}
		// An away element may stand for an element of a module that is not exported: AwayOf
		// need not resolve.
		if e.Kind == assurance.KindGoal && e.AwayOf == "" {
			x.claims = append(x.claims, id)
		}
	}
	slices.Sort(x.claims)
}

func (x *exporter) indexDefeaters(defeaters []Defeater, p *problems) {
	for i := range defeaters {
		d := &defeaters[i]
		switch {
		case !validID(d.ID):
			p.add("defeater %q: id is empty or not a single trimmed line", d.ID)
			continue
		case x.isDef[d.ID] || x.elements[d.ID] != nil:
			p.add("defeater %s: duplicate id", d.ID)
			continue
		}
		x.isDef[d.ID] = true
		x.defeaters = append(x.defeaters, d)
		if d.Kind < assurance.Rebutting || d.Kind > assurance.Undermining {
			p.add("defeater %s: invalid kind %s", d.ID, d.Kind)
		}
		if d.State > assurance.AcceptedResidual {
			p.add("defeater %s: invalid state %s", d.ID, d.State)
		}
		if d.Severity.Level > assurance.LevelCritical {
			p.add("defeater %s: invalid severity %s", d.ID, d.Severity.Level)
		}
		if d.Probability < 0 || d.Probability > 1 || math.IsNaN(d.Probability) {
			p.add("defeater %s: probability %v outside [0, 1]", d.ID, d.Probability)
		}
		if len(d.Challenges) == 0 {
			p.add("defeater %s: challenges nothing", d.ID)
		}
		for _, t := range d.Challenges {
			if x.elements[t] == nil {
				p.add("defeater %s: challenges unknown element %q", d.ID, t)
			}
		}
		if a := d.Acceptance; d.State == assurance.AcceptedResidual &&
			(oneLine(a.Approver) == "" || strings.TrimSpace(a.Rationale) == "" || a.Expires.IsZero()) {
			p.add("defeater %s: accepted residual risk without approver, rationale or expiry", d.ID)
		}
	}
	slices.SortFunc(x.defeaters, func(a, b *Defeater) int { return cmp.Compare(a.ID, b.ID) })
}

func (x *exporter) indexResults(results []Result, p *problems) {
	for i := range results {
		r := &results[i]
		switch {
		case x.elements[r.Element] == nil && !x.isDef[r.Element]:
			p.add("result for unknown element %q", r.Element)
			continue
		case x.results[r.Element] != nil:
			p.add("result for %s: duplicate", r.Element)
			continue
		}
		x.results[r.Element] = r
		if r.Status < assurance.Supported || r.Status > assurance.Undermined {
			p.add("result for %s: invalid status %s", r.Element, r.Status)
		}
		if r.Confidence < 0 || r.Confidence > 1 || math.IsNaN(r.Confidence) {
			p.add("result for %s: confidence %v outside [0, 1]", r.Element, r.Confidence)
		}
		if r.Label > assurance.Undec {
			p.add("result for %s: invalid label %d", r.Element, r.Label)
		}
		for _, rs := range r.Reasons {
			if _, err := rs.Code.MarshalText(); err != nil {
				p.add("result for %s: invalid reason code %d", r.Element, rs.Code)
			}
			for _, c := range rs.Culprits {
				if !validID(c) {
					p.add("result for %s: culprit %q is empty or not a single trimmed line", r.Element, c)
				}
			}
		}
	}
	for _, id := range x.claims {
		if x.results[id] == nil {
			p.add("claim %s: no result", id)
		}
	}
}

func (x *exporter) indexEvidence(evidence []Evidence, p *problems) {
	for i := range evidence {
		ev := &evidence[i]
		switch {
		case !validID(ev.ID):
			p.add("evidence %q: id is empty or not a single trimmed line", ev.ID)
			continue
		case x.evByID[ev.ID] != nil:
			p.add("evidence %s: duplicate id", ev.ID)
			continue
		}
		x.evByID[ev.ID] = ev
		x.evidence = append(x.evidence, ev)
		if !validID(string(ev.Kind)) {
			p.add("evidence %s: kind %q is empty or not a single trimmed line", ev.ID, ev.Kind)
		}
		switch ev.Verdict {
		case VerdictPass, VerdictFail, VerdictError, VerdictDegraded:
		default:
			p.add("evidence %s: invalid verdict %q", ev.ID, ev.Verdict)
		}
		if ev.Collected.IsZero() {
			p.add("evidence %s: collected time is zero", ev.ID)
		}
		if !ev.Expires.IsZero() && ev.Expires.Before(ev.Collected) {
			p.add("evidence %s: expires %s before collected %s", ev.ID, ts(ev.Expires), ts(ev.Collected))
		}
		if ev.Solution != "" {
			if s := x.elements[ev.Solution]; s == nil || s.Kind != assurance.KindSolution {
				p.add("evidence %s: %q is not a Solution of the case", ev.ID, ev.Solution)
			} else {
				x.bySol[ev.Solution] = append(x.bySol[ev.Solution], ev)
			}
		}
		if ev.Subject != (Subject{}) {
			x.addSubject("evidence "+ev.ID, ev.Subject, p)
		}
		if _, ok := sha256Hex(ev.Digest); ev.Digest != "" && !ok {
			p.add("evidence %s: digest %q is not a SHA-256 (64 hex digits, optionally prefixed sha256:)", ev.ID, ev.Digest)
		}
		if ev.Href != "" && !validID(ev.Href) {
			p.add("evidence %s: href %q is not a single trimmed line", ev.ID, ev.Href)
		}
	}
	byID := func(a, b *Evidence) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortFunc(x.evidence, byID)
	for _, evs := range x.bySol {
		slices.SortFunc(evs, byID)
	}
}

func (x *exporter) indexCoverage(coverage map[string][]string, p *problems) {
	for claim, controls := range coverage {
		if e := x.elements[claim]; e == nil || e.Kind != assurance.KindGoal || e.AwayOf != "" {
			p.add("coverage: %q is not a claim (Goal) of the case", claim)
			continue
		}
		var cs []string
		for _, ctl := range controls {
			if !isToken(ctl) {
				p.add("coverage of %s: control id %q is not an OSCAL token", claim, ctl)
				continue
			}
			cs = append(cs, ctl)
		}
		slices.Sort(cs)
		if cs = slices.Compact(cs); len(cs) > 0 {
			x.coverage[claim] = cs
		}
	}
}

// isToken reports whether s is an OSCAL token (an XML NCName): a letter or '_', then letters,
// digits, '_', '-', '.', U+00B7 and combining marks.
func isToken(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9' || r == '\u00b7' || unicode.Is(unicode.Mn, r)):
		default:
			return false
		}
	}
	return true
}

// validID reports whether s can be written as an OSCAL prop value as it is: not empty, valid
// UTF-8, no control characters, no leading or trailing space.
func validID(s string) bool {
	if s == "" || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// oneLine collapses every run of white space (newlines included) into one space and trims.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func minNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return min(a, b)
}

// sha256Hex returns the lower-case hex of a SHA-256 digest written as 64 hex digits, optionally
// prefixed "sha256:".
func sha256Hex(d string) (string, bool) {
	if d == "" {
		return "", false
	}
	if len(d) > 7 && strings.EqualFold(d[:7], "sha256:") {
		d = d[7:]
	}
	if len(d) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(d); err != nil {
		return "", false
	}
	return strings.ToLower(d), true
}
