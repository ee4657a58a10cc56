package resolvers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/analytics/attacktrace"
	"github.com/sectwin/sectwin/analytics/report"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/resolvers/model"
)

// Attack-path resolvers validate their arguments, require full access to the twin (the attack
// graph mixes every label, so shared subgraphs are not enough), delegate to
// analytics/attackanalysis and load the nodes of the answer in one batch.

// CodeTooComplex answers queries over their bounds or time budget.
const CodeTooComplex = "QUERY_TOO_COMPLEX"

// Bounds of attack-path arguments.
const (
	maxK          = 100
	maxHopsLimit  = 32
	maxChanges    = 50
	attackTimeout = 10 * time.Second
)

// attackAccess checks that the caller may analyse the whole twin.
func (r *Resolver) attackAccess(ctx context.Context, twin string, scope auth.Scope) error {
	a, err := r.access(ctx, twin, scope)
	if err != nil {
		return err
	}
	if !a.full {
		return gqlErr(ctx, CodeForbidden, fmt.Sprintf("attack-path analysis needs access to the whole twin %q; shared subgraphs are not enough", twin))
	}
	if r.Attacks == nil {
		return gqlErr(ctx, CodeUnavailable, "attack-path analysis is not served by this instance")
	}
	return nil
}

// selector turns a GraphQL selector into the analysis's; ids must name nodes of the twin.
func selector(ctx context.Context, twin string, s *model.AttackSelector) (attackanalysis.Selector, error) {
	var out attackanalysis.Selector
	if s == nil {
		return out, nil
	}
	for _, id := range s.Ids {
		ref, err := nodeRefOf(ctx, twin, id)
		if err != nil {
			return out, err
		}
		out.Refs = append(out.Refs, ref)
	}
	out.Internet = s.Internet != nil && *s.Internet
	out.CrownJewels = s.CrownJewels != nil && *s.CrownJewels
	if s.MinCriticality != nil {
		out.MinCriticality = map[model.Criticality]int{model.CriticalityLow: 1, model.CriticalityMedium: 2, model.CriticalityHigh: 3, model.CriticalityCritical: 4}[*s.MinCriticality]
	}
	return out, nil
}

// nodeRefOf parses a global id of a node of twin.
func nodeRefOf(ctx context.Context, twin, id string) (graph.NodeRef, error) {
	label, t, key, err := graph.ParseID(id)
	if err != nil {
		return graph.NodeRef{}, gqlErr(ctx, CodeBadInput, fmt.Sprintf("%q is not a node id", truncate(id)))
	}
	if t != twin {
		return graph.NodeRef{}, gqlErr(ctx, CodeBadInput, fmt.Sprintf("node %q is not in twin %q", truncate(id), twin))
	}
	return graph.NodeRef{Label: label, Key: key}, nil
}

func truncate(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// kArg validates k (1 to maxK).
func kArg(ctx context.Context, k *int, def int) (int, error) {
	if k == nil {
		return def, nil
	}
	if *k < 1 || *k > maxK {
		return 0, gqlErr(ctx, CodeBadInput, fmt.Sprintf("k must be between 1 and %d, got %d", maxK, *k))
	}
	return *k, nil
}

func pathQuery(ctx context.Context, twin string, from, to *model.AttackSelector, k *int, defK int, minLikelihood *float64, maxHops *int) (attackanalysis.PathQuery, error) {
	var q attackanalysis.PathQuery
	var err error
	if q.From, err = selector(ctx, twin, from); err != nil {
		return q, err
	}
	if q.To, err = selector(ctx, twin, to); err != nil {
		return q, err
	}
	if q.K, err = kArg(ctx, k, defK); err != nil {
		return q, err
	}
	if minLikelihood != nil {
		if err := fractionArg(ctx, "minLikelihood", *minLikelihood); err != nil {
			return q, err
		}
		q.MinLikelihood = *minLikelihood
	}
	if maxHops != nil {
		if *maxHops < 1 || *maxHops > maxHopsLimit {
			return q, gqlErr(ctx, CodeBadInput, fmt.Sprintf("maxHops must be between 1 and %d, got %d", maxHopsLimit, *maxHops))
		}
		q.MaxHops = *maxHops
	}
	return q, nil
}

// fractionArg validates a probability argument: 0 to 1, not NaN.
func fractionArg(ctx context.Context, name string, v float64) error {
	if !(v >= 0 && v <= 1) {
		return gqlErr(ctx, CodeBadInput, name+" must be between 0 and 1")
	}
	return nil
}

// attackErr maps analysis errors: the caller's mistakes to BAD_USER_INPUT, an exhausted time
// budget to QUERY_TOO_COMPLEX, the rest to backendErr.
func attackErr(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, attackanalysis.ErrBadSelector), errors.Is(err, attackpath.ErrBadQuery):
		return gqlErr(ctx, CodeBadInput, err.Error())
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return gqlErr(ctx, CodeTooComplex, fmt.Sprintf("the analysis ran out of its %s budget; lower k or maxHops, or narrow the selectors", attackTimeout))
	}
	return backendErr(ctx, err)
}

// nodeBatch loads many nodes of one twin in one round trip per label.
type nodeBatch struct {
	twin string
	refs map[graph.NodeRef]graph.Node
}

func newNodeBatch(twin string) *nodeBatch {
	return &nodeBatch{twin: twin, refs: map[graph.NodeRef]graph.Node{}}
}

func (b *nodeBatch) add(refs ...graph.NodeRef) {
	for _, r := range refs {
		b.refs[r] = nil
	}
}

func (b *nodeBatch) addIDs(ids ...string) {
	for _, id := range ids {
		if l, _, k, err := graph.ParseID(id); err == nil {
			b.add(graph.NodeRef{Label: l, Key: k})
		}
	}
}

func (b *nodeBatch) load(ctx context.Context, db *graph.DB) error {
	byLabel := map[string][]string{}
	for r := range b.refs {
		byLabel[r.Label] = append(byLabel[r.Label], r.Key)
	}
	for l, keys := range byLabel {
		m, err := db.Nodes(ctx, b.twin, l, keys)
		if err != nil {
			return err
		}
		for k, n := range m {
			b.refs[graph.NodeRef{Label: l, Key: k}] = n
		}
	}
	return nil
}

func (b *nodeBatch) get(r graph.NodeRef) graph.Node { return b.refs[r] }

func (b *nodeBatch) list(refs []graph.NodeRef) []graph.Node {
	out := make([]graph.Node, 0, len(refs))
	for _, r := range refs {
		if n := b.refs[r]; n != nil {
			out = append(out, n)
		}
	}
	return out
}

func (b *nodeBatch) listIDs(ids []string) []graph.Node {
	out := make([]graph.Node, 0, len(ids))
	for _, id := range ids {
		if l, _, k, err := graph.ParseID(id); err == nil {
			if n := b.refs[graph.NodeRef{Label: l, Key: k}]; n != nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// pathsResult converts an analysis result, adding its nodes to b (load b before reading the
// converted nodes: the returned closure fills them in).
func pathsResult(b *nodeBatch, res *attackanalysis.PathsResult) func() *model.AttackPathResult {
	for _, p := range res.Paths {
		b.add(p.Entry, p.Target)
		b.add(p.Impacted...)
		for _, h := range p.Hops {
			b.add(h.From, h.To)
			b.addIDs(h.Evidence...)
		}
	}
	b.add(res.Unreached...)
	return func() *model.AttackPathResult {
		out := &model.AttackPathResult{Twin: res.Twin, Epoch: int(res.Epoch), EntryPoints: res.Entries, Targets: res.Targets,
			CompromiseEstimate: res.Estimate, UnreachedTargets: b.list(res.Unreached), Observations: res.Observations,
			Paths: make([]*model.AttackPath, len(res.Paths))}
		for i, p := range res.Paths {
			mp := &model.AttackPath{Rank: p.Rank, Likelihood: p.Likelihood, BaseLikelihood: p.BaseLikelihood, HopCount: len(p.Hops),
				Entry: b.get(p.Entry), Target: b.get(p.Target), Techniques: nonNil(p.Techniques), Explanation: p.Explanation,
				ImpactedAssets: b.list(p.Impacted), Key: p.Key, Hops: make([]*model.AttackHop, len(p.Hops)),
				Trace: make([]*model.AttackTraceEntry, len(p.Trace)), SequenceLinks: p.Links}
			for j, h := range p.Hops {
				mh := &model.AttackHop{From: b.get(h.From), To: b.get(h.To), Probability: h.P, BaseProbability: h.BaseP,
					UntracedProbability: h.UntracedP, Overridden: h.Overridden, Rule: h.Rule, RuleVersion: h.RuleVersion,
					Evidence: b.listIDs(h.Evidence), Explanation: h.Explanation, Observed: make([]*model.AttackObservation, len(h.Observed))}
				if h.Technique != "" {
					mh.Technique = &h.Technique
				}
				for k, o := range h.Observed {
					mh.Observed[k] = observationModel(res.Twin, o, b)
				}
				mp.Hops[j] = mh
			}
			for j, e := range p.Trace {
				mp.Trace[j] = &model.AttackTraceEntry{Hop: e.Hop, Observation: observationModel(res.Twin, e.Observed, b)}
			}
			out.Paths[i] = mp
		}
		return out
	}
}

// observationModel converts one observation on a hop (its node is in b: the hop's target).
func observationModel(twin string, o attackanalysis.Observed, b *nodeBatch) *model.AttackObservation {
	label := graph.LabelAlert
	if o.Kind == attacktrace.KindAnomaly {
		label = graph.LabelAnomaly
	}
	m := &model.AttackObservation{Kind: o.Kind, ID: graph.ID(label, twin, o.Key), Key: o.Key, Name: o.Name, Source: o.Source,
		Severity: optString(o.Severity), Technique: optString(o.EffectiveTechnique()), Count: int(max(o.Count, 1)),
		FirstSeen: o.First, LastSeen: o.Last, Message: o.Message, About: b.get(o.Node), Via: optString(o.Via),
		Weight: o.Weight, Raise: o.Raise, TechniqueMatch: o.TechniqueMatch, LinkRaise: o.LinkRaise}
	if o.Kind == attacktrace.KindAnomaly {
		score := o.Score
		m.Score = &score
	}
	if o.LinkedFrom >= 0 {
		hop := o.LinkedFrom
		m.LinkedFromHop, m.LinkedFromKey = &hop, &o.LinkedKey
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// stepRef parses a step given by node ids.
func stepRef(ctx context.Context, twin, from, to string, rule *string) (attackanalysis.StepRef, error) {
	f, err := nodeRefOf(ctx, twin, from)
	if err != nil {
		return attackanalysis.StepRef{}, err
	}
	t, err := nodeRefOf(ctx, twin, to)
	if err != nil {
		return attackanalysis.StepRef{}, err
	}
	return attackanalysis.StepRef{From: f, To: t, Rule: deref(rule)}, nil
}

func overrideModel(o graph.AttackOverride, b *nodeBatch) *model.AttackOverride {
	return &model.AttackOverride{From: b.get(o.From), To: b.get(o.To),
		FromID: graph.ID(o.From.Label, o.Twin, o.From.Key), ToID: graph.ID(o.To.Label, o.Twin, o.To.Key),
		Rule: o.Rule, Probability: o.P, Reason: o.Reason, By: o.By, At: o.At, Version: o.Version, Active: o.Active,
		ClearedBy: optString(o.ClearedBy), ClearedAt: optTime(o.ClearedAt)}
}

func reportFormat(f model.ReportFormat) report.Format {
	switch f {
	case model.ReportFormatHTML:
		return report.HTML
	case model.ReportFormatMarkdown:
		return report.Markdown
	}
	return report.JSON
}

func scheduleModel(s attackanalysis.ScheduledReport) *model.ReportSchedule {
	out := &model.ReportSchedule{Twin: s.Twin, Name: s.Name, Cron: s.Cron, K: s.TopK(), Origin: s.Origin, NextRun: optTime(s.NextRun),
		Formats: []model.ReportFormat{}, Targets: []string{}}
	for _, f := range s.Formats {
		switch f {
		case report.HTML:
			out.Formats = append(out.Formats, model.ReportFormatHTML)
		case report.Markdown:
			out.Formats = append(out.Formats, model.ReportFormatMarkdown)
		default:
			out.Formats = append(out.Formats, model.ReportFormatJSON)
		}
	}
	for _, t := range s.Targets {
		out.Targets = append(out.Targets, t.String())
	}
	return out
}
