package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/events"
)

// probe records what live evaluation does between two resets: the evidence reads by method
// (count, total time), the leaves evaluated, the status saves and announcements, with the
// instants of the first and last of each.
type probe struct {
	mu       sync.Mutex
	calls    map[string]*callStat
	subjects []string // the subject of every leaf evaluated, or the heartbeat site
	saves    callStat
	pubs     callStat
	pubbed   int // status changes announced
}

type callStat struct {
	n           int
	total       time.Duration
	first, last time.Time // start of the first call, end of the last
}

func (c *callStat) add(start time.Time, d time.Duration) {
	if c.n == 0 || start.Before(c.first) {
		c.first = start
	}
	if end := start.Add(d); end.After(c.last) {
		c.last = end
	}
	c.n++
	c.total += d
}

func newProbe() *probe { return &probe{calls: map[string]*callStat{}} }

func (p *probe) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls, p.subjects, p.saves, p.pubs, p.pubbed = map[string]*callStat{}, nil, callStat{}, callStat{}, 0
}

func (p *probe) record(method string, start time.Time, subject string) {
	d := time.Since(start)
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls[method]
	if c == nil {
		c = &callStat{}
		p.calls[method] = c
	}
	c.add(start, d)
	if subject != "" {
		p.subjects = append(p.subjects, subject)
	}
}

// snapshot is a probe's record at one instant.
type snapshot struct {
	calls       map[string]callStat
	subjects    []string
	saves, pubs callStat
	pubbed      int
}

func (p *probe) snapshot() snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := snapshot{calls: map[string]callStat{}, subjects: slices.Clone(p.subjects), saves: p.saves, pubs: p.pubs, pubbed: p.pubbed}
	for k, v := range p.calls {
		s.calls[k] = *v
	}
	return s
}

// evaluations is the number of leaves evaluated: every kind the bench's case uses reads its
// subject once per evaluation (no_open_vulns, scan_fresh, attestation), except heartbeat, which
// reads the latest release of its site only.
func (s snapshot) evaluations() int { return s.calls["Subject"].n + s.calls["LatestRelease"].n }

// evidenceSpan is the first evidence read's start and the last one's end.
func (s snapshot) evidenceSpan() (first, last time.Time) {
	for _, c := range s.calls {
		if c.n == 0 {
			continue
		}
		if first.IsZero() || c.first.Before(first) {
			first = c.first
		}
		if c.last.After(last) {
			last = c.last
		}
	}
	return first, last
}

func (s snapshot) describeCalls() string {
	var parts []string
	for _, m := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.calls {
			if !yield(k) {
				return
			}
		}
	}) {
		c := s.calls[m]
		parts = append(parts, fmt.Sprintf("%s %d× %.1f ms", m, c.n, ms(c.total)))
	}
	return strings.Join(parts, ", ")
}

// countingEvidence is the twin's evidence store with every read recorded in a probe.
type countingEvidence struct {
	inner evidence.Store
	p     *probe
}

var _ evidence.Store = countingEvidence{}

func (c countingEvidence) Subject(ctx context.Context, twin string, s evidence.SubjectRef) (evidence.SubjectFacts, error) {
	defer c.p.record("Subject", time.Now(), s.String())
	return c.inner.Subject(ctx, twin, s)
}

func (c countingEvidence) ScanRuns(ctx context.Context, twin string, artifacts, formats []string) ([]evidence.ScanRun, error) {
	defer c.p.record("ScanRuns", time.Now(), "")
	return c.inner.ScanRuns(ctx, twin, artifacts, formats)
}

func (c countingEvidence) Exposures(ctx context.Context, twin string, scope evidence.ExposureScope) ([]evidence.Exposure, error) {
	defer c.p.record("Exposures", time.Now(), "")
	return c.inner.Exposures(ctx, twin, scope)
}

func (c countingEvidence) Findings(ctx context.Context, twin string, artifacts, sources []string) ([]evidence.Finding, error) {
	defer c.p.record("Findings", time.Now(), "")
	return c.inner.Findings(ctx, twin, artifacts, sources)
}

func (c countingEvidence) Events(ctx context.Context, twin string, q evidence.EventQuery, fn func(evidence.Event) error) error {
	defer c.p.record("Events", time.Now(), "")
	return c.inner.Events(ctx, twin, q, fn)
}

func (c countingEvidence) LatestRelease(ctx context.Context, twin, site, pipeline string) (time.Time, error) {
	defer c.p.record("LatestRelease", time.Now(), "heartbeat "+site)
	return c.inner.LatestRelease(ctx, twin, site, pipeline)
}

func (c countingEvidence) Attestations(ctx context.Context, twin string, q evidence.AttestationQuery) ([]evidence.Attestation, error) {
	defer c.p.record("Attestations", time.Now(), "")
	return c.inner.Attestations(ctx, twin, q)
}

func (c countingEvidence) ExplainCypher(ctx context.Context, twin string, q evidence.CypherQuery) (evidence.CypherPlan, error) {
	defer c.p.record("ExplainCypher", time.Now(), "")
	return c.inner.ExplainCypher(ctx, twin, q)
}

func (c countingEvidence) RunCypher(ctx context.Context, twin string, q evidence.CypherQuery, accept func(evidence.CypherPlan) error) (evidence.CypherRows, error) {
	defer c.p.record("RunCypher", time.Now(), "")
	return c.inner.RunCypher(ctx, twin, q, accept)
}

// timedStore is the graph as live evaluation's case store, with status saves timed.
type timedStore struct {
	*graph.DB
	p *probe
}

var _ assurancecase.Store = timedStore{}

func (t timedStore) SaveCaseStatuses(ctx context.Context, twin, caseID string, statuses []graph.CaseStatus, causes map[string]string) (map[string]graph.CaseStatus, error) {
	start := time.Now()
	before, err := t.DB.SaveCaseStatuses(ctx, twin, caseID, statuses, causes)
	t.p.mu.Lock()
	t.p.saves.add(start, time.Since(start))
	t.p.mu.Unlock()
	return before, err
}

// timedPublisher announces status changes on NATS, timed.
type timedPublisher struct {
	events.NATS
	p *probe
}

func (t timedPublisher) PublishStatus(ctx context.Context, changes []events.StatusChanged) error {
	start := time.Now()
	err := t.NATS.PublishStatus(ctx, changes)
	t.p.mu.Lock()
	t.p.pubs.add(start, time.Since(start))
	t.p.pubbed += len(changes)
	t.p.mu.Unlock()
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
