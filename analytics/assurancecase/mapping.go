// Package assurancecase keeps a twin's assurance cases: it maps gsn2x cases (ingest/gsn) to the
// graph (graph.AssuranceCase) and to the status engine (analytics/assurance).
//
// gsn2x has no words for evidence, subjects or defeater triage, so sectwin reads them from
// layer keys, which gsn2x keeps and shows with -l:
//
//	sectwinEvidence: {kind: no_open_vulns, subject: {service: traffic-signal}, window: 7d,
//	  scan: [grype], vulns: {min_severity: HIGH}}             # a Solution's evidence spec (evidence.Spec); a Context or Assumption's predicate
//	sectwinAbout: [Service/traffic-signal]                   # the twin elements a claim is about
//	sectwinMode: K_OF_N                                       # ALL (default), ANY or K_OF_N, on Goals and Strategies
//	sectwinK: 2
//	sectwinDefeater: {kind: rebutting, state: OPEN, severity: critical, kev: true, probability: 0.9}
//
// A CounterGoal or CounterSolution that challenges a claim is a defeater: rebutting and
// undermining by default, undercutting when it challenges a relation ("G1 -> S1"). One that
// challenges a defeater refutes it: it is a claim (a Goal or a Solution) whose status decides
// whether the defeater stands, and it may be challenged in turn.
//
// Docs: docs/assurance.md.
package assurancecase

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/gsn"
)

// Layer keys sectwin reads.
const (
	LayerEvidence = "sectwinEvidence"
	LayerAbout    = "sectwinAbout"
	LayerMode     = "sectwinMode"
	LayerK        = "sectwinK"
	LayerDefeater = "sectwinDefeater"
)

// TypeDefeater is the graph type of CounterGoals and CounterSolutions.
const TypeDefeater = "Defeater"

// ErrBadCase marks a case sectwin cannot take; its message names the element.
var ErrBadCase = errors.New("bad assurance case")

// ElementError is one problem with one element.
type ElementError struct {
	Element, Layer, Message string
}

func (e *ElementError) Error() string {
	if e.Layer != "" {
		return fmt.Sprintf("element %s: %s: %s", e.Element, e.Layer, e.Message)
	}
	return fmt.Sprintf("element %s: %s", e.Element, e.Message)
}

func (e *ElementError) Unwrap() error { return ErrBadCase }

// FromGSN maps a validated gsn2x case to the graph's form. files are the imported documents
// (kept as the case's source, for export); every problem found is returned, joined.
func FromGSN(twin, id, name string, c *gsn.Case, files map[string][]byte, by string, now time.Time) (graph.AssuranceCase, error) {
	src, err := json.Marshal(files)
	if err != nil {
		return graph.AssuranceCase{}, err
	}
	sum := sha256.Sum256(src)
	out := graph.AssuranceCase{Twin: twin, ID: id, Name: name, SourceFormat: "gsn2x", SourceHash: hex.EncodeToString(sum[:]),
		Source: string(src), ImportedAt: now.UTC(), ImportedBy: by}
	var errs []error
	bad := func(el, layer, format string, args ...any) {
		errs = append(errs, &ElementError{Element: el, Layer: layer, Message: fmt.Sprintf(format, args...)})
	}
	roles := challengeRoles(c)
	counter := func(id string) bool { return roles[id] == roleDefeater }
	refutes := map[string][]string{}
	for _, e := range c.Elements() {
		if e.Challenges != nil && !counter(e.ID) && counter(e.Challenges.Target) {
			refutes[e.ID] = append(refutes[e.ID], e.Challenges.Target)
		}
	}
	for _, e := range c.Elements() {
		typ := string(e.Type)
		switch {
		case counter(e.ID):
			typ = TypeDefeater
		case e.Type == gsn.CounterGoal:
			typ = string(gsn.Goal) // a refutation claim
		case e.Type == gsn.CounterSolution:
			typ = string(gsn.Solution)
		}
		ce := graph.CaseElement{ID: e.ID, Type: typ, Module: e.Module, Text: e.Text, Undeveloped: e.Undeveloped,
			SupportedBy: slices.Clone(e.SupportedBy), InContextOf: slices.Clone(e.InContextOf), Refutes: refutes[e.ID]}
		var rest []gsn.Layer
		for _, l := range e.Layers {
			switch l.Key {
			case LayerEvidence:
				b, err := l.Value.MarshalJSON()
				if err != nil || len(b) < 2 || b[0] != '{' {
					bad(e.ID, l.Key, "must be a map describing the evidence spec")
					continue
				}
				ce.Evidence = string(b)
				if _, err := evidence.ParseJSON(b); err != nil {
					bad(e.ID, l.Key, "%v", err)
				}
			case LayerAbout:
				for _, ref := range l.Value.Strings() {
					label, key, ok := strings.Cut(ref, "/")
					if _, known := graph.KindOf(label); !ok || !known || key == "" {
						bad(e.ID, l.Key, "%q must be Label/key, such as Service/traffic-signal", ref)
						continue
					}
					ce.About = append(ce.About, graph.NodeRef{Label: label, Key: key})
				}
			case LayerMode:
				ce.Mode = strings.ToUpper(l.Value.String())
				if _, ok := parseMode(ce.Mode); !ok {
					bad(e.ID, l.Key, "must be ALL, ANY or K_OF_N")
				}
			case LayerK:
				k, err := strconv.Atoi(l.Value.String())
				if err != nil || k < 1 {
					bad(e.ID, l.Key, "must be a positive number")
				}
				ce.K = k
			case LayerDefeater:
				// read below, once the element is known to be a defeater
			default:
				rest = append(rest, l)
			}
		}
		if len(rest) > 0 {
			b, _ := json.Marshal(rest)
			ce.Layers = string(b)
		}
		if counter(e.ID) {
			d := &graph.CaseDefeater{Kind: "rebutting", State: "OPEN"}
			if e.Type == gsn.CounterSolution {
				d.Kind = "undermining"
			}
			if ch := e.Challenges; ch != nil {
				ce.Challenges = []string{ch.Target}
				if ch.Relation {
					d.Kind = "undercutting" // the inference from Target to To
				}
			}
			if l, ok := e.Layer(LayerDefeater); ok {
				if err := readDefeater(l, d); err != nil {
					bad(e.ID, LayerDefeater, "%v", err)
				}
			}
			ce.Defeater = d
		}
		out.Elements = append(out.Elements, ce)
	}
	if len(errs) > 0 {
		return graph.AssuranceCase{}, errors.Join(errs...)
	}
	return out, nil
}

type role uint8

const (
	roleClaim role = iota
	roleDefeater
)

// challengeRoles decides which counter elements are defeaters: one challenging a claim is a
// defeater, one challenging a defeater is a claim (a refutation). Elements that are not counter
// elements are claims; a counter element challenging nothing is a claim when it supports one (a
// CounterSolution under a refutation), and otherwise, or when caught in a cycle of challenges,
// a defeater.
func challengeRoles(c *gsn.Case) map[string]role {
	roles := map[string]role{}
	parents := map[string][]string{}
	for _, e := range c.Elements() {
		for _, child := range e.SupportedBy {
			parents[child] = append(parents[child], e.ID)
		}
	}
	var resolve func(id string, seen map[string]bool) role
	resolve = func(id string, seen map[string]bool) role {
		if r, ok := roles[id]; ok {
			return r
		}
		e := c.Element(id)
		if e == nil || (e.Type != gsn.CounterGoal && e.Type != gsn.CounterSolution) {
			return roleClaim
		}
		r := roleDefeater
		switch {
		case seen[id]:
		case e.Challenges != nil:
			seen[id] = true
			if resolve(e.Challenges.Target, seen) == roleDefeater {
				r = roleClaim
			}
		default:
			// A counter element challenging nothing that supports a refutation claim (a
			// CounterSolution under a CounterGoal, as gsn2x requires) is that claim's evidence.
			seen[id] = true
			for _, p := range parents[id] {
				if resolve(p, seen) == roleClaim {
					r = roleClaim
				}
			}
		}
		roles[id] = r
		return r
	}
	for _, e := range c.Elements() {
		resolve(e.ID, map[string]bool{})
	}
	return roles
}

func readDefeater(v gsn.Value, d *graph.CaseDefeater) error {
	b, err := v.MarshalJSON()
	if err != nil {
		return err
	}
	var raw struct {
		Kind, State, Severity, Approver, Rationale, Expires string
		KEV                                                 bool
		Probability                                         float64
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("must be a map of kind, state, severity, kev, probability: %w", err)
	}
	if raw.Kind != "" {
		d.Kind = strings.ToLower(raw.Kind)
	}
	if raw.State != "" {
		d.State = strings.ToUpper(raw.State)
	}
	d.Severity, d.KEV, d.Probability, d.Approver, d.Rationale = strings.ToLower(raw.Severity), raw.KEV, raw.Probability, raw.Approver, raw.Rationale
	if raw.Expires != "" {
		t, err := time.Parse(time.RFC3339, raw.Expires)
		if err != nil {
			return fmt.Errorf("expires must be an RFC 3339 time: %w", err)
		}
		d.Expires = t
	}
	_, err = defeaterOf(graph.CaseElement{Defeater: d})
	return err
}

// ToModel builds the status engine's model of a stored case. Links from or to defeaters other
// than CHALLENGES and REFUTES (a counter-argument's own development) are not part of the
// evaluated argument.
func ToModel(c graph.AssuranceCase) (*assurance.Model, error) {
	var b assurance.Builder
	isDefeater := map[string]bool{}
	for _, e := range c.Elements {
		isDefeater[e.ID] = e.Type == TypeDefeater
	}
	refutedBy := map[string][]string{}
	for _, e := range c.Elements {
		for _, d := range e.Refutes {
			refutedBy[d] = append(refutedBy[d], e.ID)
		}
	}
	for _, e := range c.Elements {
		if e.Type == TypeDefeater {
			a, err := defeaterOf(e)
			if err != nil {
				return nil, &ElementError{Element: e.ID, Layer: LayerDefeater, Message: err.Error()}
			}
			kind, _ := parseDefeaterKind(e.Defeater.Kind)
			b.AddDefeater(assurance.Defeater{ID: e.ID, Module: e.Module, Kind: kind, Challenges: e.Challenges,
				RefutedBy: refutedBy[e.ID], Assessment: a})
			continue
		}
		kind, ok := parseKind(e.Type)
		if !ok {
			return nil, &ElementError{Element: e.ID, Message: fmt.Sprintf("type %s is not evaluated", e.Type)}
		}
		mode, _ := parseMode(e.Mode)
		el := assurance.Element{ID: e.ID, Kind: kind, Module: e.Module, Mode: mode, K: e.K, Undeveloped: e.Undeveloped,
			Predicate: (kind == assurance.KindContext || kind == assurance.KindAssumption) && e.Evidence != ""}
		b.AddElement(el)
		for _, child := range e.SupportedBy {
			if !isDefeater[child] {
				b.SupportedBy(e.ID, child)
			}
		}
		for _, ctx := range e.InContextOf {
			if !isDefeater[ctx] {
				b.InContextOf(e.ID, ctx)
			}
		}
	}
	m, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCase, err)
	}
	return m, nil
}

func defeaterOf(e graph.CaseElement) (assurance.Assessment, error) {
	d := e.Defeater
	if d == nil {
		return assurance.Assessment{}, errors.New("not a defeater")
	}
	if _, ok := parseDefeaterKind(d.Kind); !ok {
		return assurance.Assessment{}, fmt.Errorf("kind %q must be rebutting, undercutting or undermining", d.Kind)
	}
	state, ok := parseState(d.State)
	if !ok {
		return assurance.Assessment{}, fmt.Errorf("state %q must be OPEN, SUSTAINED, REFUTED or ACCEPTED_RESIDUAL", d.State)
	}
	level, ok := parseLevel(d.Severity)
	if !ok {
		return assurance.Assessment{}, fmt.Errorf("severity %q must be none, low, medium, high or critical", d.Severity)
	}
	if d.Probability < 0 || d.Probability > 1 {
		return assurance.Assessment{}, fmt.Errorf("probability %v must be in [0, 1]", d.Probability)
	}
	a := assurance.Assessment{State: state, Severity: assurance.Severity{Level: level, KEV: d.KEV}, Probability: d.Probability}
	if state == assurance.AcceptedResidual {
		if d.Approver == "" || d.Rationale == "" || d.Expires.IsZero() {
			return assurance.Assessment{}, errors.New("an accepted residual risk needs an approver, a rationale and an expiry")
		}
		a.Acceptance = assurance.Acceptance{Approver: d.Approver, Rationale: d.Rationale, Expires: d.Expires}
	}
	return a, nil
}

// parse looks a name up among the values of an enum by their String.
func parse[T interface {
	~uint8
	String() string
}](s string, values ...T) (T, bool) {
	for _, v := range values {
		if strings.EqualFold(v.String(), s) {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func parseKind(s string) (assurance.Kind, bool) {
	return parse(s, assurance.KindGoal, assurance.KindStrategy, assurance.KindSolution, assurance.KindContext,
		assurance.KindAssumption, assurance.KindJustification)
}

func parseMode(s string) (assurance.Mode, bool) {
	if s == "" {
		return assurance.ModeAll, true
	}
	return parse(s, assurance.ModeAll, assurance.ModeAny, assurance.ModeKOfN)
}

func parseDefeaterKind(s string) (assurance.DefeaterKind, bool) {
	return parse(s, assurance.Rebutting, assurance.Undercutting, assurance.Undermining)
}

func parseState(s string) (assurance.DefeaterState, bool) {
	return parse(s, assurance.Open, assurance.Sustained, assurance.Refuted, assurance.AcceptedResidual)
}

func parseLevel(s string) (assurance.Level, bool) {
	if s == "" {
		return assurance.LevelNone, true
	}
	return parse(s, assurance.LevelNone, assurance.LevelLow, assurance.LevelMedium, assurance.LevelHigh, assurance.LevelCritical)
}

// AssessmentOf checks a defeater's stored triage and returns it as the engine's assessment.
func AssessmentOf(d graph.CaseDefeater) (assurance.Assessment, error) {
	return defeaterOf(graph.CaseElement{Defeater: &d})
}

// AcceptEvidence passes every evidence spec of a case through evidence.Accept against the
// twin: a cypher_check is planned by the database and refused unless the plan is read-only and
// bounded. Every refusal is returned, joined, as an ElementError (ErrBadCase); another error
// is the store's.
func AcceptEvidence(ctx context.Context, st evidence.Store, c graph.AssuranceCase) error {
	var errs []error
	for _, e := range c.Elements {
		if e.Evidence == "" {
			continue
		}
		s, err := evidence.ParseJSON([]byte(e.Evidence))
		if err == nil {
			err = evidence.Accept(ctx, st, c.Twin, s)
		}
		var ve evidence.ValidationErrors
		switch {
		case errors.As(err, &ve):
			errs = append(errs, &ElementError{Element: e.ID, Layer: LayerEvidence, Message: err.Error()})
		case err != nil:
			return err
		}
	}
	return errors.Join(errs...)
}
