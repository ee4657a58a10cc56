package opswatch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sectwin/sectwin/analytics/anomaly"
	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/events"
)

// Series are the per-entity event counts whose rates are watched.
type Series uint8

// The series, each counted per entity as telemetry names it (a host name, an address, a
// service).
const (
	FlowsOut     Series = iota // flows from the entity (a flow's src), by its count
	FlowsIn                    // flows to the entity (dst)
	AuthFailures               // failed logins to the entity (an auth event's target, else its src)
	Alerts                     // alerts about the entity
)

var seriesNames = [...]string{FlowsOut: "flows_out", FlowsIn: "flows_in", AuthFailures: "auth_failures", Alerts: "alerts"}
var seriesText = [...]string{FlowsOut: "flows out of", FlowsIn: "flows into", AuthFailures: "failed logins to", Alerts: "alerts about"}

func (s Series) String() string { return seriesNames[s] }

// numSeries is the number of series.
const numSeries = int(Alerts) + 1

// Sensitivity maps a monitoring priority score (analytics/assurancecase.Priority, 1–16) to the
// sensitivity of the rate detectors, which divides their threshold: the weaker or more critical
// the asset, the smaller the burst that is flagged. With the default threshold of 4:
//
//	LOW      (1–3)   1     threshold 4
//	MEDIUM   (4–7)   1.25  threshold 3.2
//	HIGH     (8–11)  1.6   threshold 2.5
//	CRITICAL (12–16) 2     threshold 2
//
// An entity the twin does not rate (no criticality, no claim about it) scores 2, LOW.
func Sensitivity(score int) float64 {
	switch assurancecase.PriorityLevel(score) {
	case "CRITICAL":
		return 2
	case "HIGH":
		return 1.6
	case "MEDIUM":
		return 1.25
	default:
		return 1
	}
}

// priority is an entity's monitoring priority as the detectors use it.
type priority struct {
	score int
	level string
	sens  float64
}

// defaultPriority is an entity the twin does not rate: criticality LOW, no claim.
var defaultPriority = func() priority {
	s, l := assurancecase.Priority("", false, 0)
	return priority{score: s, level: l, sens: Sensitivity(s)}
}()

// Priorities maps what the twin knows of its hosts and services to the priority of every name
// telemetry may use for them: a service's name; a host's name and addresses. A host takes the
// higher of its own priority and that of the services deployed on it.
func Priorities(ents []graph.MonitoredEntity) map[string]priority {
	out := map[string]priority{}
	raise := func(name string, p priority) {
		if name == "" {
			return
		}
		if q, ok := out[name]; !ok || p.score > q.score {
			out[name] = p
		}
	}
	for _, e := range ents {
		var weakest assurance.Status
		for _, st := range e.Statuses {
			var s assurance.Status
			if s.UnmarshalText([]byte(st)) == nil && s > weakest {
				weakest = s
			}
		}
		score, level := assurancecase.Priority(strings.ToUpper(e.Criticality), e.CrownJewel, weakest)
		p := priority{score: score, level: level, sens: Sensitivity(score)}
		raise(e.Name, p)
		for _, a := range e.Addresses {
			raise(a, p)
		}
		for _, h := range e.Hosts {
			raise(h.Name, p)
			for _, a := range h.Addresses {
				raise(a, p)
			}
		}
	}
	return out
}

// twinPriorities caches one twin's priorities: loaded once synchronously, then refreshed in the
// background every Options.PriorityRefresh or after a status change, never per event.
type twinPriorities struct {
	by      map[string]priority // replaced whole, never changed: readers keep a snapshot
	loaded  time.Time
	stale   bool
	loading bool
}

// prioritiesCache holds every twin's priorities.
type prioritiesCache struct {
	mu        sync.Mutex
	twins     map[string]*twinPriorities
	following bool
}

// statusFollower delivers assurance status changes (events.NATS).
type statusFollower interface {
	SubscribeAllStatus(ctx context.Context) (<-chan events.StatusChanged, error)
}

// followStatus subscribes, once, to the assurance status changes of every twin when the
// Announcer can deliver them, and marks the twin's priorities stale on each. The subscription
// lasts as long as the Watcher's bus (a Watcher lives as long as its server).
func (w *Watcher) followStatus(ctx context.Context) {
	f, ok := w.pub.(statusFollower)
	if !ok {
		return
	}
	w.prio.mu.Lock()
	if w.prio.following {
		w.prio.mu.Unlock()
		return
	}
	w.prio.following = true
	w.prio.mu.Unlock()
	ch, err := f.SubscribeAllStatus(context.WithoutCancel(ctx))
	if err != nil {
		w.log.Warn().Err(err).Msg("assurance status changes not followed; monitoring priorities refresh every minute only")
		w.prio.mu.Lock()
		w.prio.following = false // tried again on the next window
		w.prio.mu.Unlock()
		return
	}
	go func() {
		for c := range ch {
			if c.From != c.To {
				w.PrioritiesChanged(c.Twin)
			}
		}
	}()
}

// PrioritiesChanged marks a twin's monitoring priorities stale (an assurance status changed):
// the next window refreshes them in the background.
func (w *Watcher) PrioritiesChanged(twin string) {
	w.prio.mu.Lock()
	if p := w.prio.twins[twin]; p != nil {
		p.stale = true
	}
	w.prio.mu.Unlock()
}

// priorities returns a snapshot of the twin's priorities, loading them the first time and
// starting a background refresh when they are due.
func (w *Watcher) priorities(ctx context.Context, twin string) map[string]priority {
	w.followStatus(ctx)
	now := w.opt.Now()
	w.prio.mu.Lock()
	p := w.prio.twins[twin]
	if p == nil {
		p = &twinPriorities{loading: true}
		w.prio.twins[twin] = p
		w.prio.mu.Unlock()
		w.loadPriorities(ctx, twin) // the first window of a twin waits for one query
		w.prio.mu.Lock()
	} else if !p.loading && (p.stale || now.Sub(p.loaded) >= w.opt.PriorityRefresh) {
		p.loading = true
		w.bg.Go(func() { w.loadPriorities(ctx, twin) })
	}
	by := p.by
	w.prio.mu.Unlock()
	return by
}

// loadPriorities reads a twin's priorities and swaps them in; on failure it keeps the previous
// ones and tries again after the refresh interval.
func (w *Watcher) loadPriorities(ctx context.Context, twin string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ents, err := w.st.MonitoringInputs(ctx, twin)
	var by map[string]priority
	if err == nil {
		by = Priorities(ents)
	} else {
		w.log.Warn().Err(err).Str("twin", twin).Msg("monitoring priorities not read; the rate detectors keep the previous ones")
	}
	w.prio.mu.Lock()
	p := w.prio.twins[twin]
	p.loading, p.loaded = false, w.opt.Now()
	if err == nil {
		p.by, p.stale = by, false
	}
	w.prio.mu.Unlock()
}

// rateState is one twin's rate baselines: one set per series, keyed by entity (string keys
// hash fastest).
type rateState struct {
	rates [numSeries]*anomaly.Rates[string]
	// closed is the start of the bucket of the stream's time when Close last ran.
	closed time.Time
	found  []found
}

// found is a bucket scored anomalous.
type found struct {
	series Series
	anomaly.Scored[string]
}

func newRateState(o anomaly.RatesOptions) (*rateState, error) {
	rs := &rateState{}
	for i := range rs.rates {
		r, err := anomaly.NewRates[string](o)
		if err != nil {
			return nil, err
		}
		r.OwnKeys(strings.Clone)
		rs.rates[i] = r
	}
	return rs, nil
}

// rates counts a window's events per entity and series, scores the buckets they close (and,
// once per bucket, the buckets the stream's time has left behind), and returns the anomalies.
func (d *detectors) rates(twin string, evs []telemetry.Event, prio map[string]priority, now time.Time) ([]graph.AnomalyRow, []response.Trigger) {
	rs := d.rate
	sens := func(entity string) float64 {
		if p, ok := prio[entity]; ok {
			return p.sens
		}
		return defaultPriority.sens
	}
	fs := rs.found[:0]
	var latest time.Time
	count := func(entity string, s Series, at time.Time, n float64) {
		if entity == "" {
			return
		}
		if r, ok := rs.rates[s].Count(entity, at, n, sens); ok && r.Anomalous {
			fs = append(fs, found{s, r})
		}
	}
	for i := range evs {
		ev := &evs[i]
		if ev.Time.After(latest) {
			latest = ev.Time
		}
		switch {
		case ev.Flow != nil:
			n := float64(max(ev.Flow.Count, 1))
			count(ev.Flow.Src, FlowsOut, ev.Time, n)
			count(ev.Flow.Dst, FlowsIn, ev.Time, n)
		case ev.Auth != nil:
			if ev.Auth.Outcome != "success" {
				if ev.Auth.Target != "" {
					count(ev.Auth.Target, AuthFailures, ev.Time, 1)
				} else {
					count(ev.Auth.Src, AuthFailures, ev.Time, 1)
				}
			}
		case ev.Alert != nil:
			count(ev.Alert.Entity, Alerts, ev.Time, 1)
		}
	}
	// The stream's time, never ahead of the clock (a sensor's clock may run fast): once it
	// enters a new bucket, the buckets it has left behind by the grace are scored.
	if latest.After(now) {
		latest = now
	}
	if b := rs.rates[0].Bucket(latest); !latest.IsZero() && b.After(rs.closed) {
		rs.closed = b
		for s, r := range rs.rates {
			for _, sc := range r.Close(latest, sens, nil) {
				fs = append(fs, found{Series(s), sc})
			}
		}
	}
	rs.found = fs[:0]
	if len(fs) == 0 {
		return nil, nil
	}
	step := rs.rates[0].Options().Step
	rows := make([]graph.AnomalyRow, 0, len(fs))
	triggers := make([]response.Trigger, 0, len(fs))
	for _, f := range fs {
		entity := f.Key
		p, ok := prio[entity]
		if !ok {
			p = defaultPriority
		}
		why := fmt.Sprintf("%s %s: %s in %s, expected %.1f±%.1f (z=%.1f; threshold %.2g at monitoring priority %s, %d)",
			seriesText[f.series], entity, fmtCount(f.Value), step, f.Expected, f.Scale, f.Z, f.Threshold, p.level, p.score)
		row := graph.AnomalyRow{Key: key(twin, "rate", f.series.String(), entity, f.Time.UTC().Format(time.RFC3339)), Type: "rate",
			Entity: entity, Score: f.Score, Explanation: why, At: f.Time,
			Evidence: []graph.NodeRef{{Label: graph.LabelHost, Key: entity}, {Label: graph.LabelService, Key: entity}}}
		rows = append(rows, row)
		triggers = append(triggers, response.Trigger{ID: row.Key, Kind: response.KindAnomaly, At: f.Time, Twin: twin, Entity: entity,
			Type: "rate", Score: f.Score, Message: why, Fields: map[string]any{"series": f.series.String(), "count": f.Value,
				"expected": f.Expected, "scale": f.Scale, "threshold": f.Threshold, "priority": p.level, "priority_score": p.score,
				"step": step.String()}})
	}
	return rows, triggers
}

func fmtCount(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}
