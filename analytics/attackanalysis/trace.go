package attackanalysis

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/analytics/attacktrace"
	"github.com/sectwin/sectwin/graph"
)

// Attack traces (docs/attack-paths.md#attack-traces): the operations twin's recent alerts and
// anomalies raise the steps into the nodes they are about (analytics/attacktrace). The raise is
// in memory only, on top of the stored step probabilities (computed, or an analyst's override),
// which stay as they are: a snapshot keeps the derived graph (base) beside the raised one (g),
// and observations are read again without deriving the graph.

// TraceStore reads the observations traces rest on.
type TraceStore interface {
	TraceObservations(ctx context.Context, twin string, since time.Time) ([]graph.TraceObservation, error)
}

// traceLayer is what a snapshot's observations did to its steps.
type traceLayer struct {
	observations int // observations of attack-graph nodes
	nodes        map[int32][]attacktrace.Observation
	steps        map[int64]stepTrace // by engine edge ref
}

// stepTrace is the per-step raise of one step.
type stepTrace struct {
	prior, raised float64
	contributions []attacktrace.Contribution
}

// Observations is how many observations of attack-graph nodes the snapshot's trace rests on.
func (s *Snapshot) Observations() int {
	if s.trace == nil {
		return 0
	}
	return s.trace.observations
}

// traceStale reports whether s's observations must be read again.
func (a *Analyzer) traceStale(c *twinCache, s *Snapshot) bool {
	if _, ok := a.st.(TraceStore); !ok {
		return false
	}
	return c.traceDirty.Load() || s.TracedAt.IsZero() || a.now().Sub(s.TracedAt) > a.traceAge
}

// retrace reads the twin's observations again onto its current attack graph.
func (a *Analyzer) retrace(ctx context.Context, twin string, c *twinCache) (*Snapshot, error) {
	c.refresh.Lock()
	s := c.snap.Load()
	if s == nil || c.dirty.Load() {
		c.refresh.Unlock()
		return a.rebuild(ctx, twin, c)
	}
	defer c.refresh.Unlock()
	if !a.traceStale(c, s) {
		return s, nil // another caller did it while this one waited
	}
	c.traceDirty.Store(false)
	ns, err := a.traced(ctx, s)
	if err != nil {
		c.traceDirty.Store(true)
		return nil, err
	}
	c.snap.Store(ns)
	return ns, nil
}

// traced returns a snapshot of s's derived graph with the twin's current observations: each step
// into an observed node is raised (noisy-OR, attacktrace.Params.StepRaise).
func (a *Analyzer) traced(ctx context.Context, s *Snapshot) (*Snapshot, error) {
	ts, ok := a.st.(TraceStore)
	if !ok {
		return s, nil
	}
	start := time.Now()
	now := a.now().UTC()
	rows, err := ts.TraceObservations(ctx, s.Twin, now.Add(-a.trace.Window))
	if err != nil {
		return nil, err
	}
	layer := &traceLayer{nodes: map[int32][]attacktrace.Observation{}, steps: map[int64]stepTrace{}}
	for _, r := range rows {
		i, ok := s.Lookup(r.Node)
		if !ok {
			continue
		}
		layer.observations++
		layer.nodes[i] = append(layer.nodes[i], attacktrace.Observation{Kind: r.Kind, Key: r.Key, Name: r.Name, Source: r.Source,
			Severity: r.Severity, Score: r.Score, Technique: r.Technique, Count: r.Count, First: r.First, Last: r.Last,
			Message: r.Message, Via: r.Via})
	}
	base := s.base
	setP := map[int64]float64{}
	for v, obs := range layer.nodes {
		for e := range base.In(v) {
			ref, prior := base.EdgeRef(e), base.EdgeP(e)
			raised, cs := a.trace.StepRaise(prior, ruleTechnique(refRule(ref)), obs, now)
			if len(cs) == 0 {
				continue
			}
			layer.steps[ref] = stepTrace{prior: prior, raised: raised, contributions: cs}
			if raised > prior {
				setP[ref] = raised
			}
		}
	}
	g := base
	if len(setP) > 0 {
		if g, err = base.WithChanges(attackpath.Changes{SetP: setP}); err != nil {
			return nil, fmt.Errorf("attack trace of twin %s: %w", s.Twin, err)
		}
	}
	ns := &Snapshot{Twin: s.Twin, Epoch: a.epoch.Add(1), BuiltAt: s.BuiltAt, Derive: s.Derive, Project: s.Project, TracedAt: now,
		proj: s.proj, g: g, base: base, trace: layer, entries: s.entries, jewels: s.jewels, idx: s.idx}
	a.log.Debug().Str("twin", s.Twin).Int("observations", layer.observations).Int("observedNodes", len(layer.nodes)).
		Int("raisedSteps", len(setP)).Dur("took", time.Since(start)).Msg("attack trace refreshed")
	return ns, nil
}

// ruleTechnique is the ATT&CK technique of a rule's steps.
func ruleTechnique(rule string) string {
	r, _ := graph.AttackRuleByID(rule)
	return r.Technique
}

// transparentLabels are the attack-graph nodes no alert or anomaly is about: hops into them do
// not break a sequence of observations.
var transparentLabels = []string{graph.LabelZone, graph.LabelIdentity, graph.LabelCredential}

// Observed is one observation on one hop of a path and what it did there.
type Observed struct {
	attacktrace.Observation
	// Node is the node it is about (the hop's target).
	Node graph.NodeRef
	// Weight is its evidence weight for the step; Raise its share of the step's raise.
	Weight, Raise  float64
	TechniqueMatch bool
	// LinkedFrom is the earlier hop (0-based) whose observation LinkedKey this one follows in
	// time, or -1; LinkRaise is what that link added to the step.
	LinkedFrom int
	LinkedKey  string
	LinkRaise  float64
}

// TraceEntry is one observation of a path's trace: the hop it is on (0-based) and what it did.
type TraceEntry struct {
	Hop int
	Observed
}

// traceCandidates is how many paths the engine returns for k asked, when links may reorder
// them: links raise only paths with observations in sequence, so a path ranked a little below
// k may overtake one above.
func traceCandidates(k int) int { return min(attackpath.MaxK, k+max(k, 10)) }

// applyTraces puts the observations on explained paths: each hop's per-step raise (already in
// the engine's graph) with each observation's share, then the sequence rule's links; paths are
// ranked again by the raised likelihood and cut to k.
func (a *Analyzer) applyTraces(s *Snapshot, paths []Path, k int) []Path {
	if s.trace == nil || len(s.trace.nodes) == 0 {
		return paths
	}
	for pi := range paths {
		p := &paths[pi]
		hops := make([]attacktrace.Hop, len(p.Hops))
		for j := range p.Hops {
			h := &p.Hops[j]
			hops[j] = attacktrace.Hop{Raised: h.P, Transparent: slices.Contains(transparentLabels, h.To.Label), Observed: h.contributions}
		}
		seq := a.trace.Sequence(hops)
		for _, l := range seq.Links {
			h := &p.Hops[l.To]
			h.Observed[l.ToObs].LinkedFrom = l.From
			h.Observed[l.ToObs].LinkedKey = p.Hops[l.From].Observed[l.FromObs].Key
			h.Observed[l.ToObs].LinkRaise = l.Raise
		}
		p.Likelihood, p.BaseLikelihood = 1, 1
		p.Trace = p.Trace[:0]
		for j := range p.Hops {
			h := &p.Hops[j]
			h.P = seq.P[j]
			p.Likelihood *= h.P
			p.BaseLikelihood *= h.UntracedP
			for _, o := range h.Observed {
				p.Trace = append(p.Trace, TraceEntry{Hop: j, Observed: o})
			}
		}
		p.Links = len(seq.Links)
		slices.SortStableFunc(p.Trace, func(x, y TraceEntry) int {
			if c := x.First.Compare(y.First); c != 0 {
				return c
			}
			return cmp.Compare(x.Hop, y.Hop)
		})
		if len(p.Trace) > 0 {
			p.Explanation += " " + traceSentence(p)
		}
	}
	slices.SortStableFunc(paths, func(x, y Path) int {
		switch {
		case x.Likelihood > y.Likelihood:
			return -1
		case x.Likelihood < y.Likelihood:
			return 1
		}
		return 0
	})
	if len(paths) > k {
		paths = paths[:k]
	}
	for i := range paths {
		paths[i].Rank = i + 1
	}
	return paths
}

// traceSentence says what was observed along a path.
func traceSentence(p *Path) string {
	hops := map[int]bool{}
	for _, e := range p.Trace {
		hops[e.Hop] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Observed: %d alerts or anomalies on %d of %d steps", len(p.Trace), len(hops), len(p.Hops))
	if p.Links > 0 {
		fmt.Fprintf(&b, ", %d in sequence", p.Links+1)
	}
	fmt.Fprintf(&b, ": likelihood %.3g with them, %.3g without.", p.Likelihood, p.BaseLikelihood)
	return b.String()
}

// hopTrace fills a hop's per-step raise from the snapshot's trace, when the hop's probability is
// the traced one (a simulation may have set it otherwise).
func (s *Snapshot) hopTrace(h *Hop, ref int64) {
	h.UntracedP = h.P
	if s.trace == nil {
		return
	}
	st, ok := s.trace.steps[ref]
	if !ok || math.Abs(st.raised-h.P) > 1e-12 {
		return
	}
	h.UntracedP = st.prior
	h.contributions = st.contributions
	for _, c := range st.contributions {
		h.Observed = append(h.Observed, Observed{Observation: c.Observation, Node: h.To, Weight: c.Weight, Raise: c.Raise,
			TechniqueMatch: c.TechniqueMatch, LinkedFrom: -1})
	}
}
