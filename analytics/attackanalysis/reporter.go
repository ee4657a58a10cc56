package attackanalysis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/report"
	"github.com/sectwin/sectwin/graph"
)

// ReportStore keeps report runs.
type ReportStore interface {
	SaveReport(ctx context.Context, r graph.ReportRun) error
	SetReportDeliveries(ctx context.Context, id, status, deliveries string) error
	LatestReport(ctx context.Context, twin, schedule string) (graph.ReportRun, bool, error)
}

// Notifier announces a completed run (the reportReady subscription listens).
type Notifier func(ctx context.Context, run graph.ReportRun)

// Reporter runs attack-path reports: analysis, diff against the schedule's previous run,
// storage as a Report node, delivery, announcement.
type Reporter struct {
	an      *Analyzer
	st      ReportStore
	render  *report.Renderer
	deliver *report.Deliverer
	notify  Notifier
	log     zerolog.Logger
}

// NewReporter returns a Reporter; deliver and notify may be nil.
func NewReporter(an *Analyzer, st ReportStore, deliver *report.Deliverer, notify Notifier, log zerolog.Logger) (*Reporter, error) {
	rd, err := report.NewRenderer()
	if err != nil {
		return nil, err
	}
	return &Reporter{an: an, st: st, render: rd, deliver: deliver, notify: notify, log: log}, nil
}

// Renderer renders stored reports.
func (rp *Reporter) Renderer() *report.Renderer { return rp.render }

// Run runs one report for the schedule (report.OnDemand when none) and returns the stored run.
// A delivery failure, after its retries, is recorded on the run, not returned.
func (rp *Reporter) Run(ctx context.Context, s report.Schedule) (graph.ReportRun, *report.Report, error) {
	if s.Name == "" {
		s.Name = report.OnDemand
	}
	start := time.Now()
	r, err := rp.Build(ctx, s)
	if err != nil {
		return graph.ReportRun{}, nil, err
	}
	prev, ok, err := rp.st.LatestReport(ctx, s.Twin, s.Name)
	if err != nil {
		return graph.ReportRun{}, nil, err
	}
	var before *report.Report
	if ok {
		var p report.Report
		if json.Unmarshal([]byte(prev.Content), &p) == nil {
			before = &p
			r.PreviousID = prev.ID
		}
	}
	r.Delta = report.Diff(before, r)
	r.Duration = time.Since(start)
	content, err := rp.render.Bytes(r, report.JSON)
	if err != nil {
		return graph.ReportRun{}, nil, err
	}
	run := graph.ReportRun{ID: r.ID, Twin: r.Twin, Schedule: s.Name, GeneratedAt: r.GeneratedAt, Duration: r.Duration,
		ExposurePct: r.Exposure.ExposurePct, Severity: r.Exposure.Severity, Paths: len(r.Paths),
		NewPaths: len(r.Delta.New), ResolvedPaths: len(r.Delta.Resolved), ChangedPaths: len(r.Delta.Changed),
		Status: "DONE", Content: string(content), Deliveries: "[]"}
	if err := rp.st.SaveReport(ctx, run); err != nil {
		return run, nil, err
	}
	if len(s.Targets) > 0 && rp.deliver != nil {
		formats := s.Formats
		if len(formats) == 0 {
			formats = []report.Format{report.HTML}
		}
		results := rp.deliver.DeliverAll(ctx, rp.render, r, formats, s.Targets)
		run.Status = "DELIVERED"
		for _, res := range results {
			if !res.OK() {
				run.Status = "DELIVERY_FAILED"
				rp.log.Warn().Str("twin", r.Twin).Str("report", r.ID).Str("target", res.Target).Int("attempts", res.Attempts).
					Str("error", res.Err).Msg("report delivery failed")
			}
		}
		d, _ := json.Marshal(results)
		run.Deliveries = string(d)
		if err := rp.st.SetReportDeliveries(ctx, run.ID, run.Status, run.Deliveries); err != nil {
			return run, r, err
		}
	}
	rp.log.Info().Str("twin", r.Twin).Str("report", r.ID).Str("schedule", s.Name).Int("paths", len(r.Paths)).
		Str("severity", r.Exposure.Severity).Str("status", run.Status).Dur("took", time.Since(start)).Msg("attack-path report ready")
	if rp.notify != nil {
		rp.notify(ctx, run)
	}
	return run, r, nil
}

// Build analyses the twin's live attack graph into a report, without the delta and without
// storing it. The graph is derived again first when a change event made it stale, or when the
// twin has not been analysed since the server started; otherwise the live projection is
// current and deriving again would only repeat the same answer.
func (rp *Reporter) Build(ctx context.Context, s report.Schedule) (*report.Report, error) {
	snap, err := rp.an.Snapshot(ctx, s.Twin)
	if err != nil {
		return nil, err
	}
	now := rp.an.now().UTC()
	r := &report.Report{ID: newReportID(now), Twin: s.Twin, Schedule: s.Name, GeneratedAt: now}
	q := PathQuery{K: s.TopK(), MinLikelihood: s.MinLikelihood}
	res, err := rp.an.paths(ctx, snap, snap.g, q, nil)
	if err != nil {
		return nil, err
	}
	entries, _ := snap.resolve(Selector{}, DefaultEntries)
	jewels, _ := snap.resolve(Selector{}, DefaultTargets)
	exposed, reachable := 0, 0
	if len(jewels) > 0 && len(entries) > 0 {
		pot, err := snap.g.Potentials(jewels)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !math.IsInf(float64(pot[e]), 1) {
				exposed++
			}
		}
		isJewel := map[int32]bool{}
		for _, j := range jewels {
			isJewel[j] = true
		}
		reach, err := snap.g.BlastRadius(ctx, entries, 0, snap.g.NumNodes())
		if err != nil {
			return nil, err
		}
		for _, x := range reach {
			if isJewel[x.Node] {
				reachable++
			}
		}
	}
	r.Exposure = report.NewExposure(len(entries), exposed, len(jewels), reachable, res.Estimate)
	b := refMaker{snap: snap}
	for _, p := range res.Paths {
		rpth := report.Path{Rank: p.Rank, Key: p.Key, Likelihood: p.Likelihood, Entry: b.ref(p.Entry), Target: b.ref(p.Target),
			Techniques: p.Techniques, Explanation: p.Explanation, BaseLikelihood: p.BaseLikelihood, SequenceLinks: p.Links}
		for _, h := range p.Hops {
			rpth.Hops = append(rpth.Hops, report.Hop{From: b.ref(h.From), To: b.ref(h.To), Probability: h.P, UntracedProbability: h.UntracedP,
				Technique: h.Technique, Rule: h.Rule, Explanation: h.Explanation, Evidence: h.Evidence})
		}
		for _, e := range p.Trace {
			rpth.Trace = append(rpth.Trace, report.TraceEntry{Hop: e.Hop, On: b.ref(e.Node), Via: e.Via, Kind: e.Kind, Key: e.Key,
				Name: e.Name, Source: e.Source, Severity: e.Severity, Score: e.Score, Technique: e.EffectiveTechnique(), Count: max(e.Count, 1),
				FirstSeen: e.First, LastSeen: e.Last, Message: e.Message, Weight: e.Weight, Raise: e.Raise, TechniqueMatch: e.TechniqueMatch,
				LinkedFromHop: e.LinkedFrom, LinkedFromKey: e.LinkedKey, LinkRaise: e.LinkRaise})
		}
		for _, n := range p.Impacted {
			rpth.ImpactedAssets = append(rpth.ImpactedAssets, b.ref(n))
		}
		r.Paths = append(r.Paths, rpth)
	}
	chokes, err := rp.an.ChokePoints(ctx, s.Twin, PathQuery{K: max(q.K, 100)}, 10)
	if err != nil {
		return nil, err
	}
	for _, c := range chokes {
		r.ChokePoints = append(r.ChokePoints, report.ChokePoint{Node: b.ref(c.Node), IsDominator: c.IsDominator,
			PathsBlockedPct: c.PathsBlockedPct, MassRemoved: c.MassRemovedPct / 100, JewelsProtected: c.TargetsDominated})
	}
	plan, err := rp.an.fixPlan(ctx, snap, PathQuery{K: max(q.K, 100)}, FixOptions{MaxActions: 5, TargetResidual: 0.2})
	if err != nil {
		return nil, err
	}
	r.FixPlan = report.FixPlan{RemovedPct: plan.RemovedPct, ResidualLikelihood: plan.ResidualLikelihood}
	for _, a := range plan.Actions {
		r.FixPlan.Actions = append(r.FixPlan.Actions, report.FixAction{Target: b.ref(a.To),
			Edge: fmt.Sprintf("%s → %s (%s)", describe(a.From), describe(a.To), a.Rule), Description: a.Description, MassRemovedPct: a.MassRemovedPct})
	}
	return r, nil
}

// refMaker turns snapshot nodes into report nodes.
type refMaker struct{ snap *Snapshot }

var criticalities = []string{"", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

func (m refMaker) ref(r graph.NodeRef) report.NodeRef {
	out := report.NodeRef{ID: graph.ID(r.Label, m.snap.Twin, r.Key), Label: r.Label, Name: r.Key}
	if i, ok := m.snap.Lookup(r); ok {
		n := m.snap.Node(i)
		if n.CriticalityRank >= 0 && n.CriticalityRank < len(criticalities) {
			out.Criticality = criticalities[n.CriticalityRank]
		}
		out.CrownJewel = n.CrownJewel
	}
	return out
}

func newReportID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "rpt-" + t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// RenderStored renders a stored run's content in a format.
func (rp *Reporter) RenderStored(run graph.ReportRun, f report.Format) ([]byte, error) {
	var r report.Report
	if err := json.Unmarshal([]byte(run.Content), &r); err != nil {
		return nil, fmt.Errorf("stored report %s is unreadable: %w", run.ID, err)
	}
	var buf bytes.Buffer
	if err := rp.render.Render(&buf, &r, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ErrNoSuchSchedule marks a run asked of an unknown schedule.
var ErrNoSuchSchedule = errors.New("no such report schedule")
