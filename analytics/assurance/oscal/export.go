package oscal

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// ErrInvalidInput is wrapped by the error Export returns for an Input it cannot export.
var ErrInvalidInput = errors.New("oscal: invalid input")

// Export writes the OSCAL assessment-results document of one assurance case, as indented JSON
// ending with a newline. The same Input gives the same bytes, whatever the order of its slices.
// An Input with missing required fields, duplicate or dangling ids, invalid statuses or kinds, a
// malformed digest or a control id that is not an OSCAL token is refused with an error wrapping
// ErrInvalidInput that lists every problem.
func Export(in Input) ([]byte, error) {
	x, err := newExporter(in)
	if err != nil {
		return nil, err
	}
	doc := x.document()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("oscal: %w", err)
	}
	return buf.Bytes(), nil
}

// exporter holds an Input, validated and indexed.
type exporter struct {
	c         Case
	elements  map[string]*Element
	results   map[string]*Result
	defeaters []*Defeater // sorted by id
	evidence  []*Evidence // sorted by id
	evByID    map[string]*Evidence
	bySol     map[string][]*Evidence // Solution id → its evidence, sorted by id
	claims    []string               // Goals that are not away elements, sorted
	coverage  map[string][]string    // claim → sorted, distinct control ids
	subjects  map[string]Subject     // twin elements by global id

	toolUUID string
}

func newExporter(in Input) (*exporter, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	c := in.Case
	if !validID(c.Twin) {
		bad("case: twin %q is empty or not a single trimmed line", c.Twin)
	}
	if !validID(c.ID) {
		bad("case: id %q is empty or not a single trimmed line", c.ID)
	}
	if oneLine(c.Version) == "" {
		bad("case: version is empty")
	}
	if c.Generated.IsZero() {
		bad("case: generated time is zero")
	}
	if c.Name = oneLine(c.Name); c.Name == "" {
		c.Name = c.ID
	}
	c.Version = oneLine(c.Version)
	if c.ToolVersion = oneLine(c.ToolVersion); c.ToolVersion == "" {
		c.ToolVersion = "unknown"
	}
	if !c.Start.IsZero() && c.Start.After(c.Generated) {
		bad("case: start %s is after generated %s", ts(c.Start), ts(c.Generated))
	}

	x := &exporter{
		c:        c,
		elements: map[string]*Element{},
		results:  map[string]*Result{},
		evByID:   map[string]*Evidence{},
		bySol:    map[string][]*Evidence{},
		coverage: map[string][]string{},
		subjects: map[string]Subject{},
		toolUUID: newUUID("tool", "sectwin"),
	}
	addSubject := func(owner string, s Subject) {
		if !validID(s.ID) {
			bad("%s: subject id %q is empty or not a single trimmed line", owner, s.ID)
			return
		}
		s.Label, s.Title = oneLine(s.Label), oneLine(s.Title)
		// The same twin element may be named several times: keep the smallest non-empty label
		// and title, so that the result does not depend on input order.
		if old, ok := x.subjects[s.ID]; ok {
			s.Label, s.Title = minNonEmpty(old.Label, s.Label), minNonEmpty(old.Title, s.Title)
		}
		x.subjects[s.ID] = s
	}

	for i := range in.Elements {
		e := &in.Elements[i]
		switch {
		case !validID(e.ID):
			bad("element %q: id is empty or not a single trimmed line", e.ID)
			continue
		case x.elements[e.ID] != nil:
			bad("element %s: duplicate id", e.ID)
			continue
		case e.Kind < assurance.KindGoal || e.Kind > assurance.KindJustification:
			bad("element %s: invalid kind %s", e.ID, e.Kind)
		}
		x.elements[e.ID] = e
		for _, s := range e.About {
			addSubject("element "+e.ID, s)
		}
	}
	defeaterIDs := map[string]bool{}
	for i := range in.Defeaters {
		d := &in.Defeaters[i]
		switch {
		case !validID(d.ID):
			bad("defeater %q: id is empty or not a single trimmed line", d.ID)
			continue
		case defeaterIDs[d.ID] || x.elements[d.ID] != nil:
			bad("defeater %s: duplicate id", d.ID)
			continue
		}
		defeaterIDs[d.ID] = true
		x.defeaters = append(x.defeaters, d)
		if d.Kind < assurance.Rebutting || d.Kind > assurance.Undermining {
			bad("defeater %s: invalid kind %s", d.ID, d.Kind)
		}
		if d.State > assurance.AcceptedResidual {
			bad("defeater %s: invalid state %s", d.ID, d.State)
		}
		if d.Severity.Level > assurance.LevelCritical {
			bad("defeater %s: invalid severity %s", d.ID, d.Severity.Level)
		}
		if d.Probability < 0 || d.Probability > 1 || math.IsNaN(d.Probability) {
			bad("defeater %s: probability %v outside [0, 1]", d.ID, d.Probability)
		}
		if len(d.Challenges) == 0 {
			bad("defeater %s: challenges nothing", d.ID)
		}
		for _, t := range d.Challenges {
			if x.elements[t] == nil {
				bad("defeater %s: challenges unknown element %q", d.ID, t)
			}
		}
		if d.State == assurance.AcceptedResidual {
			a := d.Acceptance
			if oneLine(a.Approver) == "" || strings.TrimSpace(a.Rationale) == "" || a.Expires.IsZero() {
				bad("defeater %s: accepted residual risk without approver, rationale or expiry", d.ID)
			}
		}
	}
	slices.SortFunc(x.defeaters, func(a, b *Defeater) int { return cmp.Compare(a.ID, b.ID) })

	for _, e := range x.elements {
		for _, s := range e.SupportedBy {
			if x.elements[s] == nil {
				bad("element %s: supported by unknown element %q", e.ID, s)
			}
		}
	}

	for i := range in.Results {
		r := &in.Results[i]
		switch {
		case x.elements[r.Element] == nil && !defeaterIDs[r.Element]:
			bad("result for unknown element %q", r.Element)
			continue
		case x.results[r.Element] != nil:
			bad("result for %s: duplicate", r.Element)
			continue
		}
		x.results[r.Element] = r
		if r.Status < assurance.Supported || r.Status > assurance.Undermined {
			bad("result for %s: invalid status %s", r.Element, r.Status)
		}
		if r.Confidence < 0 || r.Confidence > 1 || math.IsNaN(r.Confidence) {
			bad("result for %s: confidence %v outside [0, 1]", r.Element, r.Confidence)
		}
		if r.Label > assurance.Undec {
			bad("result for %s: invalid label %d", r.Element, r.Label)
		}
		for _, rs := range r.Reasons {
			if _, err := rs.Code.MarshalText(); err != nil {
				bad("result for %s: invalid reason code %d", r.Element, rs.Code)
			}
			for _, cu := range rs.Culprits {
				if !validID(cu) {
					bad("result for %s: culprit %q is empty or not a single trimmed line", r.Element, cu)
				}
			}
		}
	}

	for id, e := range x.elements {
		if e.Kind != assurance.KindGoal || e.AwayOf != "" {
			continue
		}
		x.claims = append(x.claims, id)
		if x.results[id] == nil {
			bad("claim %s: no result", id)
		}
	}
	slices.Sort(x.claims)

	for i := range in.Evidence {
		ev := &in.Evidence[i]
		switch {
		case !validID(ev.ID):
			bad("evidence %q: id is empty or not a single trimmed line", ev.ID)
			continue
		case x.evByID[ev.ID] != nil:
			bad("evidence %s: duplicate id", ev.ID)
			continue
		}
		x.evByID[ev.ID] = ev
		x.evidence = append(x.evidence, ev)
		if !validID(string(ev.Kind)) {
			bad("evidence %s: kind %q is empty or not a single trimmed line", ev.ID, ev.Kind)
		}
		switch ev.Verdict {
		case VerdictPass, VerdictFail, VerdictError, VerdictDegraded:
		default:
			bad("evidence %s: invalid verdict %q", ev.ID, ev.Verdict)
		}
		if ev.Collected.IsZero() {
			bad("evidence %s: collected time is zero", ev.ID)
		}
		if !ev.Expires.IsZero() && ev.Expires.Before(ev.Collected) {
			bad("evidence %s: expires %s before collected %s", ev.ID, ts(ev.Expires), ts(ev.Collected))
		}
		if ev.Solution != "" {
			if s := x.elements[ev.Solution]; s == nil || s.Kind != assurance.KindSolution {
				bad("evidence %s: %q is not a Solution of the case", ev.ID, ev.Solution)
			} else {
				x.bySol[ev.Solution] = append(x.bySol[ev.Solution], ev)
			}
		}
		if ev.Subject != (Subject{}) {
			addSubject("evidence "+ev.ID, ev.Subject)
		}
		if ev.Digest != "" {
			if _, ok := sha256Hex(ev.Digest); !ok {
				bad("evidence %s: digest %q is not a SHA-256 (64 hex digits, optionally prefixed sha256:)", ev.ID, ev.Digest)
			}
		}
		if ev.Href != "" && !validID(ev.Href) {
			bad("evidence %s: href %q is not a single trimmed line", ev.ID, ev.Href)
		}
	}
	byID := func(a, b *Evidence) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortFunc(x.evidence, byID)
	for _, evs := range x.bySol {
		slices.SortFunc(evs, byID)
	}

	for claim, controls := range in.Coverage {
		if e := x.elements[claim]; e == nil || e.Kind != assurance.KindGoal || e.AwayOf != "" {
			bad("coverage: %q is not a claim (Goal) of the case", claim)
			continue
		}
		var cs []string
		for _, ctl := range controls {
			if !isToken(ctl) {
				bad("coverage of %s: control id %q is not an OSCAL token", claim, ctl)
				continue
			}
			cs = append(cs, ctl)
		}
		slices.Sort(cs)
		if cs = slices.Compact(cs); len(cs) > 0 {
			x.coverage[claim] = cs
		}
	}

	if c.PlanHref != "" && !validID(c.PlanHref) {
		bad("case: plan href %q is not a single trimmed line", c.PlanHref)
	}

	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("%w: %s", ErrInvalidInput, strings.Join(problems, "; "))
	}
	return x, nil
}

// document builds the assessment-results document.
func (x *exporter) document() document {
	c := x.c
	apUUID := newUUID("assessment-plan", c.Twin, c.ID)
	observations, resources := x.observations()
	risks, claimRisk, residualRisk, parties := x.risks()
	findings := x.findings(claimRisk, residualRisk)

	meta := metadata{
		Title:        oneLine(fmt.Sprintf("Assessment results of assurance case %s (twin %s)", c.Name, c.Twin)),
		LastModified: ts(c.Generated),
		Version:      c.Version,
		OSCALVersion: OSCALVersion,
		Props: []property{
			nsProp("twin", c.Twin),
			nsProp("case-id", c.ID),
			nsProp("tool-version", c.ToolVersion),
		},
		Parties: parties,
	}

	ap := resource{
		UUID:  apUUID,
		Title: oneLine(fmt.Sprintf("Continuous-monitoring assessment plan of assurance case %s", c.Name)),
		Description: fmt.Sprintf("Generated by sectwin. The plan assesses every claim of assurance case %s (twin %s) "+
			"continuously: each Solution is bound to an evidence spec with a validity window, each claim's status is "+
			"propagated from its evidence, contexts, assumptions and defeaters, and the controls the claims cover are "+
			"reviewed through them.", c.ID, c.Twin),
		Props: []property{{Name: "type", Value: "plan"}, nsProp("case-id", c.ID)},
	}
	if c.PlanHref != "" {
		ap.Rlinks = []rlink{{Href: c.PlanHref, MediaType: "application/json"}}
	}
	resources = append([]resource{ap}, resources...)

	res := result{
		UUID:  newUUID("result", c.Twin, c.ID, c.Version, ts(c.Generated)),
		Title: oneLine(fmt.Sprintf("Status of assurance case %s at %s", c.Name, ts(c.Generated))),
		Description: fmt.Sprintf("The status of every claim of assurance case %s (twin %s, version %s) as computed by "+
			"sectwin %s from live evidence and defeaters. A finding is satisfied only when its claim is SUPPORTED; "+
			"sectwin's four-state status and its reasons are in props of namespace %s.", c.ID, c.Twin, c.Version, c.ToolVersion, NS),
		Start:            ts(x.start()),
		End:              ts(c.Generated),
		Props:            x.resultProps(),
		LocalDefinitions: x.localDefinitions(),
		ReviewedControls: x.reviewedControls(),
		Observations:     observations,
		Risks:            risks,
		Findings:         findings,
	}

	return document{AssessmentResults: assessmentResults{
		UUID:     newUUID("assessment-results", c.Twin, c.ID),
		Metadata: meta,
		ImportAP: importAP{
			Href:    "#" + apUUID,
			Remarks: "The continuous-monitoring assessment plan sectwin generates for the case, described in back-matter.",
		},
		Results:    []result{res},
		BackMatter: &backMatter{Resources: resources},
	}}
}

// start is the start of the result: Case.Start, or the earliest evidence collection, but never
// after Generated.
func (x *exporter) start() time.Time {
	if !x.c.Start.IsZero() {
		return x.c.Start
	}
	s := x.c.Generated
	for _, ev := range x.evidence {
		if ev.Collected.Before(s) {
			s = ev.Collected
		}
	}
	return s
}

func (x *exporter) resultProps() []property {
	var n [assurance.Undermined + 1]int
	for _, id := range x.claims {
		if r := x.results[id]; r != nil {
			n[r.Status]++
		}
	}
	var props []property
	for s := assurance.Supported; s <= assurance.Undermined; s++ {
		p := nsProp("claims", strconv.Itoa(n[s]))
		p.Class = s.String()
		props = append(props, p)
	}
	return props
}

// localDefinitions defines the twin elements as components and inventory items, and sectwin as
// the assessment tool.
func (x *exporter) localDefinitions() *localDefinitions {
	ld := &localDefinitions{}
	ids := make([]string, 0, len(x.subjects))
	for id := range x.subjects {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s := x.subjects[id]
		title := subjectTitle(s)
		desc := fmt.Sprintf("%s of twin %s (global id %s).", cmp.Or(s.Label, "Element"), x.c.Twin, s.ID)
		props := []property{nsProp("global-id", s.ID), nsProp("label", s.Label)}
		props = slices.DeleteFunc(props, func(p property) bool { return p.Value == "" })
		if subjectType(s) == "inventory-item" {
			ld.InventoryItems = append(ld.InventoryItems, inventoryItem{
				UUID:        subjectUUID(s.ID),
				Description: title + ": " + desc,
				Props:       props,
			})
			continue
		}
		typ := "software"
		if s.Label == "Service" {
			typ = "service"
		}
		ld.Components = append(ld.Components, component{
			UUID:        subjectUUID(s.ID),
			Type:        typ,
			Title:       title,
			Description: desc,
			Props:       props,
			Status:      componentStatus{State: "other", Remarks: "The lifecycle state of twin elements is not tracked by this export."},
		})
	}
	ld.AssessmentAssets = &assessmentAssets{
		Components: []component{{
			UUID:        x.toolUUID,
			Type:        "software",
			Title:       "sectwin",
			Description: "sectwin's assurance status engine: it computes the status of every claim of an assurance case from live evidence, contexts, assumptions and defeaters.",
			Props:       []property{nsProp("version", x.c.ToolVersion)},
			Status:      componentStatus{State: "operational"},
		}},
		AssessmentPlatforms: []assessmentPlatform{{
			UUID:          newUUID("assessment-platform", x.c.Twin),
			Title:         "sectwin continuous assurance",
			UsesComponent: []usesComponent{{ComponentUUID: x.toolUUID}},
		}},
	}
	return ld
}

func (x *exporter) reviewedControls() reviewedControls {
	var controls []string
	for _, cs := range x.coverage {
		controls = append(controls, cs...)
	}
	slices.Sort(controls)
	controls = slices.Compact(controls)
	rc := reviewedControls{Description: fmt.Sprintf("The controls covered (COVERS) by claims of assurance case %s.", x.c.ID)}
	if len(controls) == 0 {
		rc.ControlSelections = []controlSelection{{
			Description: "No claim of the case declares the controls it covers: every control of the plan.",
			IncludeAll:  &struct{}{},
		}}
		return rc
	}
	sel := controlSelection{}
	for _, ctl := range controls {
		sel.IncludeControls = append(sel.IncludeControls, selectControl{ControlID: ctl})
	}
	rc.ControlSelections = []controlSelection{sel}
	return rc
}

func (x *exporter) origins() []origin {
	return []origin{{Actors: []actor{{Type: "tool", ActorUUID: x.toolUUID}}}}
}

func (x *exporter) observationUUID(ev *Evidence) string {
	return newUUID("observation", x.c.Twin, ev.ID)
}

// observations writes one observation per evidence item, and the back-matter resources that link
// the evidence with its digest.
func (x *exporter) observations() ([]observation, []resource) {
	var obs []observation
	var res []resource
	for _, ev := range x.evidence {
		o := observation{
			UUID:        x.observationUUID(ev),
			Title:       oneLine(fmt.Sprintf("%s evidence %s", ev.Kind, ev.ID)),
			Description: x.evidenceDescription(ev),
			Methods:     []string{method(ev.Kind)},
			Types:       []string{"control-objective"},
			Origins:     x.origins(),
			Collected:   ts(ev.Collected),
		}
		if ev.Verdict == VerdictFail {
			o.Types = append(o.Types, "finding")
		}
		if !ev.Expires.IsZero() {
			o.Expires = ts(ev.Expires)
			if !x.c.Generated.Before(ev.Expires) {
				o.Types = append(o.Types, "historic")
			}
		}
		digest, _ := sha256Hex(ev.Digest)
		o.Props = nonEmpty(
			nsProp("evidence-id", ev.ID),
			nsProp("evidence-kind", string(ev.Kind)),
			nsProp("verdict", string(ev.Verdict)),
			nsProp("solution", ev.Solution),
			nsProp("subject-digest", oneLine(ev.SubjectDigest)),
			nsProp("collector", oneLine(ev.Collector)),
		)
		if ev.Subject.ID != "" {
			s := x.subjects[ev.Subject.ID]
			o.Subjects = []subjectReference{{
				SubjectUUID: subjectUUID(s.ID),
				Type:        subjectType(s),
				Title:       subjectTitle(s),
				Props:       []property{nsProp("global-id", s.ID)},
			}}
		}
		re := relevantEvidence{Description: fmt.Sprintf("Evidence item %s, held by sectwin.", ev.ID)}
		if ev.Href != "" {
			r := resource{
				UUID:        newUUID("evidence-resource", x.c.Twin, ev.ID),
				Title:       oneLine(fmt.Sprintf("Evidence %s", ev.ID)),
				Description: x.evidenceDescription(ev),
				Props:       []property{{Name: "type", Value: "evidence"}, nsProp("evidence-id", ev.ID)},
				Rlinks:      []rlink{{Href: ev.Href}},
			}
			if digest != "" {
				r.Rlinks[0].Hashes = []hash{{Algorithm: "SHA-256", Value: digest}}
			}
			res = append(res, r)
			re = relevantEvidence{Href: "#" + r.UUID, Description: fmt.Sprintf("Evidence item %s: %s", ev.ID, ev.Href)}
		} else if digest != "" {
			o.Props = append(o.Props, nsProp("sha256", digest))
		}
		o.RelevantEvidence = []relevantEvidence{re}
		obs = append(obs, o)
	}
	return obs, res
}

func (x *exporter) evidenceDescription(ev *Evidence) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Evidence %s (%s)", ev.ID, ev.Kind)
	if t := oneLine(ev.Title); t != "" {
		fmt.Fprintf(&b, ": %s", t)
	}
	fmt.Fprintf(&b, ". Verdict %s, collected %s", ev.Verdict, ts(ev.Collected))
	if c := oneLine(ev.Collector); c != "" {
		fmt.Fprintf(&b, " by %s", c)
	}
	if !ev.Expires.IsZero() {
		fmt.Fprintf(&b, ", valid until %s", ts(ev.Expires))
	}
	if ev.Solution != "" {
		fmt.Fprintf(&b, ", for Solution %s", ev.Solution)
	}
	if ev.Subject.ID != "" {
		fmt.Fprintf(&b, ", about %s", subjectTitle(x.subjects[ev.Subject.ID]))
	}
	if d := oneLine(ev.SubjectDigest); d != "" {
		fmt.Fprintf(&b, " at %s", d)
	}
	b.WriteString(".")
	return b.String()
}

// risks writes a risk per UNDERMINED claim (open) and per defeater accepted as residual risk
// (deviation-approved while the acceptance holds). It returns the risk uuids by claim and by
// defeater, and the parties (approvers) the risk logs name.
func (x *exporter) risks() (risks []risk, byClaim, byDefeater map[string]string, parties []party) {
	byClaim, byDefeater = map[string]string{}, map[string]string{}
	for _, id := range x.claims {
		r := x.results[id]
		if r.Status != assurance.Undermined {
			continue
		}
		u := newUUID("risk", x.c.Twin, x.c.ID, id)
		byClaim[id] = u
		rk := risk{
			UUID:        u,
			Title:       oneLine(fmt.Sprintf("Claim %s is undermined", id)),
			Description: x.claimDescription(id),
			Statement: fmt.Sprintf("Claim %s does not hold: there is positive evidence against it, or an effective rebutting defeater. Reasons: %s",
				id, reasonSentence(r.Reasons)),
			Props:               append([]property{nsProp("claim-id", id)}, statusProps(r)...),
			Status:              "open",
			Origins:             x.origins(),
			RelatedObservations: x.relatedObservations(x.culpritEvidence(r)),
		}
		risks = append(risks, rk)
	}
	seenParty := map[string]bool{}
	for _, d := range x.defeaters {
		if d.State != assurance.AcceptedResidual {
			continue
		}
		a := d.Acceptance
		u := newUUID("residual-risk", x.c.Twin, x.c.ID, d.ID)
		byDefeater[d.ID] = u
		approver := oneLine(a.Approver)
		holds := x.c.Generated.Before(a.Expires)
		rk := risk{
			UUID:        u,
			Title:       oneLine(fmt.Sprintf("Accepted residual risk: defeater %s", d.ID)),
			Description: x.defeaterDescription(d),
			Statement: fmt.Sprintf("%s accepted %s defeater %s as residual risk until %s. Rationale: %s",
				approver, d.Kind, d.ID, ts(a.Expires), strings.TrimSpace(a.Rationale)),
			Props:    x.defeaterProps(d),
			Status:   "deviation-approved",
			Origins:  x.origins(),
			Deadline: ts(a.Expires),
		}
		if !holds {
			rk.Status = "open"
			rk.Statement += fmt.Sprintf("\n\nThe acceptance expired at %s: the defeater counts as untriaged again.", ts(a.Expires))
		}
		partyUUID := newUUID("party", approver)
		if !seenParty[partyUUID] {
			seenParty[partyUUID] = true
			parties = append(parties, party{UUID: partyUUID, Type: "person", Name: approver})
		}
		if !a.ApprovedAt.IsZero() {
			rk.RiskLog = &riskLog{Entries: []riskLogEntry{{
				UUID:         newUUID("risk-log-entry", x.c.Twin, x.c.ID, d.ID, ts(a.ApprovedAt)),
				Title:        "Residual risk accepted",
				Description:  strings.TrimSpace(a.Rationale),
				Start:        ts(a.ApprovedAt),
				LoggedBy:     []loggedBy{{PartyUUID: partyUUID}},
				StatusChange: "deviation-approved",
			}}}
		}
		var evs []*Evidence
		for _, t := range d.Challenges {
			evs = append(evs, x.bySol[t]...)
		}
		rk.RelatedObservations = x.relatedObservations(evs)
		risks = append(risks, rk)
	}
	slices.SortFunc(parties, func(a, b party) int { return cmp.Compare(a.UUID, b.UUID) })
	return risks, byClaim, byDefeater, parties
}

func (x *exporter) defeaterDescription(d *Defeater) string {
	var b strings.Builder
	if t := strings.TrimSpace(d.Text); t != "" {
		b.WriteString(t)
		b.WriteString("\n\n")
	}
	ch := slices.Sorted(slices.Values(d.Challenges))
	ch = slices.Compact(ch)
	fmt.Fprintf(&b, "Defeater %s is %s and challenges %s", d.ID, d.Kind, strings.Join(ch, ", "))
	if s := oneLine(d.Source); s != "" {
		fmt.Fprintf(&b, "; its source is %s", s)
	}
	fmt.Fprintf(&b, ". Severity: %s", d.Severity.Level)
	if d.Severity.KEV {
		b.WriteString(", on CISA's Known Exploited Vulnerabilities catalogue")
	}
	b.WriteString(".")
	return b.String()
}

func (x *exporter) defeaterProps(d *Defeater) []property {
	props := nonEmpty(
		nsProp("defeater-id", d.ID),
		nsProp("module", oneLine(d.Module)),
		nsProp("defeater-kind", d.Kind.String()),
		nsProp("defeater-state", d.State.String()),
		nsProp("severity", d.Severity.Level.String()),
		nsProp("source", oneLine(d.Source)),
		nsProp("approver", oneLine(d.Acceptance.Approver)),
	)
	if d.Severity.KEV {
		props = append(props, nsProp("kev", "true"))
	}
	if d.Probability > 0 {
		props = append(props, nsProp("probability", decimal(d.Probability)))
	}
	if r := x.results[d.ID]; r != nil {
		if r.Label != 0 {
			props = append(props, nsProp("label", r.Label.String()))
		}
		if r.Residual {
			props = append(props, nsProp("residual", "true"))
		}
	}
	ch := slices.Sorted(slices.Values(d.Challenges))
	for _, t := range slices.Compact(ch) {
		props = append(props, nsProp("challenges", t))
	}
	return props
}

// findings writes, for each claim, one finding per control it covers, or one finding targeting
// the claim itself when it covers none.
func (x *exporter) findings(claimRisk, residualRisk map[string]string) []finding {
	var out []finding
	for _, id := range x.claims {
		r := x.results[id]
		closure := x.closure(id)
		var evs []*Evidence
		for _, e := range closure {
			evs = append(evs, x.bySol[e]...)
		}
		evs = append(evs, x.culpritEvidence(r)...)
		obs := x.relatedObservations(evs)

		var risks []relatedRisk
		if u, ok := claimRisk[id]; ok {
			risks = append(risks, relatedRisk{RiskUUID: u})
		}
		culprits := map[string]bool{}
		for _, rs := range r.Reasons {
			for _, c := range rs.Culprits {
				culprits[c] = true
			}
		}
		inClosure := map[string]bool{}
		for _, e := range closure {
			inClosure[e] = true
		}
		for _, d := range x.defeaters {
			u, ok := residualRisk[d.ID]
			if !ok {
				continue
			}
			related := culprits[d.ID] || slices.ContainsFunc(d.Challenges, func(t string) bool { return inClosure[t] })
			if related {
				risks = append(risks, relatedRisk{RiskUUID: u})
			}
		}

		state, reason := "not-satisfied", "other"
		switch r.Status {
		case assurance.Supported:
			state, reason = "satisfied", "pass"
		case assurance.Undermined:
			reason = "fail"
		}
		props := append([]property{nsProp("claim-id", id), nsProp("module", oneLine(x.elements[id].Module))}, statusProps(r)...)
		for _, s := range x.about(id) {
			props = append(props, nsProp("about", s))
		}
		props = nonEmpty(props...)
		status := objectiveStatus{State: state, Reason: reason, Remarks: "sectwin status " + r.Status.String() + codesSuffix(r.Reasons)}

		controls := x.coverage[id]
		if len(controls) == 0 {
			controls = []string{""}
		}
		for _, ctl := range controls {
			f := finding{
				UUID:                newUUID("finding", x.c.Twin, x.c.ID, id, ctl),
				Description:         x.claimDescription(id),
				Props:               props,
				Origins:             x.origins(),
				RelatedObservations: obs,
				RelatedRisks:        risks,
			}
			if ctl == "" {
				f.Title = oneLine(fmt.Sprintf("Claim %s", id))
				f.Target = findingTarget{Type: "objective-id", TargetID: claimToken(id), Title: oneLine("Claim " + id), Status: status}
			} else {
				f.Title = oneLine(fmt.Sprintf("Claim %s for control %s", id, ctl))
				f.Target = findingTarget{Type: "objective-id", TargetID: ctl, Title: "Control " + ctl, Status: status}
			}
			out = append(out, f)
		}
	}
	return out
}

// about returns the global ids of the twin elements claim id is about, sorted.
func (x *exporter) about(id string) []string {
	var ids []string
	for _, s := range x.elements[id].About {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// closure returns the element id and every element it rests on through SUPPORTED_BY links and
// away references, sorted.
func (x *exporter) closure(id string) []string {
	seen := map[string]bool{id: true}
	stack := []string{id}
	for len(stack) > 0 {
		e := x.elements[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		next := e.SupportedBy
		if e.AwayOf != "" {
			next = append(slices.Clip(next), e.AwayOf)
		}
		for _, n := range next {
			if !seen[n] {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	})
}

// culpritEvidence returns the evidence a result blames: items named as culprits, and the
// evidence of Solutions named as culprits.
func (x *exporter) culpritEvidence(r *Result) []*Evidence {
	var evs []*Evidence
	for _, rs := range r.Reasons {
		for _, c := range rs.Culprits {
			if ev := x.evByID[c]; ev != nil {
				evs = append(evs, ev)
			}
			evs = append(evs, x.bySol[c]...)
		}
	}
	return evs
}

// relatedObservations returns the observation links of evs, distinct and in evidence id order.
func (x *exporter) relatedObservations(evs []*Evidence) []relatedObservation {
	slices.SortFunc(evs, func(a, b *Evidence) int { return cmp.Compare(a.ID, b.ID) })
	evs = slices.Compact(evs)
	var out []relatedObservation
	for _, ev := range evs {
		out = append(out, relatedObservation{ObservationUUID: x.observationUUID(ev)})
	}
	return out
}

// claimDescription is the claim's text followed by its status and reasons, in Markdown.
func (x *exporter) claimDescription(id string) string {
	e, r := x.elements[id], x.results[id]
	var b strings.Builder
	if t := strings.TrimSpace(e.Text); t != "" {
		b.WriteString(t)
	} else {
		fmt.Fprintf(&b, "Claim %s.", id)
	}
	fmt.Fprintf(&b, "\n\nsectwin status: **%s**, confidence %s", r.Status, decimal(r.Confidence))
	if !r.StatusAt.IsZero() {
		fmt.Fprintf(&b, ", computed %s", ts(r.StatusAt))
	}
	b.WriteString(".")
	for _, rs := range sortedReasons(r.Reasons) {
		fmt.Fprintf(&b, "\n\n- %s: %s", rs.Code, strings.TrimSpace(rs.Message))
	}
	return b.String()
}

// statusProps are a result's status, confidence, times, reasons and culprits as props.
func statusProps(r *Result) []property {
	props := []property{
		nsProp("status", r.Status.String()),
		nsProp("confidence", decimal(r.Confidence)),
	}
	if !r.StatusAt.IsZero() {
		props = append(props, nsProp("status-at", ts(r.StatusAt)))
	}
	if !r.NextReevalAt.IsZero() {
		props = append(props, nsProp("next-reeval-at", ts(r.NextReevalAt)))
	}
	for _, rs := range sortedReasons(r.Reasons) {
		p := nsProp("reason", rs.Code.String())
		p.Remarks = strings.TrimSpace(rs.Message)
		props = append(props, p)
	}
	for _, rs := range sortedReasons(r.Reasons) {
		for _, c := range rs.Culprits {
			p := nsProp("culprit", c)
			p.Class = rs.Code.String()
			props = append(props, p)
		}
	}
	return props
}

// sortedReasons returns the reasons by code, each with its culprits sorted and distinct.
func sortedReasons(rs []assurance.Reason) []assurance.Reason {
	out := make([]assurance.Reason, len(rs))
	for i, r := range rs {
		r.Culprits = slices.Compact(slices.Sorted(slices.Values(r.Culprits)))
		out[i] = r
	}
	slices.SortStableFunc(out, func(a, b assurance.Reason) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Message, b.Message))
	})
	return out
}

func codesSuffix(rs []assurance.Reason) string {
	if len(rs) == 0 {
		return ""
	}
	var codes []string
	for _, r := range sortedReasons(rs) {
		codes = append(codes, r.Code.String())
	}
	return " (" + strings.Join(slices.Compact(codes), ", ") + ")"
}

func reasonSentence(rs []assurance.Reason) string {
	if len(rs) == 0 {
		return "no reason was given."
	}
	var parts []string
	for _, r := range sortedReasons(rs) {
		parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimSuffix(strings.TrimSpace(r.Message), "."), r.Code))
	}
	return strings.Join(parts, "; ") + "."
}

// method is the OSCAL observation method of an evidence kind.
func method(k EvidenceKind) string {
	switch k {
	case EvidenceSAST, EvidenceVulnScan, EvidenceTest, EvidencePenTest, EvidenceHeartbeat, EvidenceRuntimeAlert:
		return "TEST"
	case EvidenceAttestation, EvidenceVEX:
		return "EXAMINE"
	}
	return "UNKNOWN"
}

func subjectUUID(globalID string) string { return newUUID("subject", globalID) }

// subjectTitle is the subject's title, or its label and global id.
func subjectTitle(s Subject) string {
	if s.Title != "" {
		return s.Title
	}
	return oneLine(s.Label + " " + s.ID)
}

func subjectType(s Subject) string {
	if s.Label == "Deployment" {
		return "inventory-item"
	}
	return "component"
}

// claimToken is the target-id of a finding about a claim that covers no control: "claim-"
// followed by the id, with every byte other than ASCII letters, digits, '-' and '.' written as
// '_' and two hex digits, which is an OSCAL token and never the same for two ids.
func claimToken(id string) string {
	var b strings.Builder
	b.WriteString("claim-")
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	return b.String()
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

func nsProp(name, value string) property { return property{Name: name, NS: NS, Value: value} }

// nonEmpty drops props without a value (OSCAL requires one).
func nonEmpty(props ...property) []property {
	return slices.DeleteFunc(props, func(p property) bool { return p.Value == "" })
}

// ts formats t as RFC 3339 in UTC, with as many fractional digits as it needs.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// decimal formats a number in [0, 1] with at most four decimals.
func decimal(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e4)/1e4, 'f', -1, 64)
}
