// Package opswatch watches the operations twin as telemetry windows are applied: it runs the
// streaming detectors of analytics/anomaly over each window (first connections the design does
// not allow, brute force and impossible travel on authentication, rates of flows, failed logins
// and alerts per entity against their baselines, more sensitive for the assets the twin's
// monitoring priority rates weak or critical), records what they find as
// Anomaly nodes with their evidence, announces them, and hands every alert, deviation and
// anomaly to the response playbooks (analytics/response) as a trigger.
//
// Docs: docs/telemetry.md.
package opswatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/anomaly"
	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/events"
)

// Store records anomalies and reads what the monitoring priority of hosts and services rests
// on.
type Store interface {
	RecordAnomalies(ctx context.Context, twin string, rows []graph.AnomalyRow) ([]string, error)
	MonitoringInputs(ctx context.Context, twin string) ([]graph.MonitoredEntity, error)
}

// Announcer publishes new anomalies and the change events that carry them.
type Announcer interface {
	Publish(ctx context.Context, c events.Change) error
	PublishAnomalies(ctx context.Context, a events.AnomaliesDetected) error
}

// Reactor runs playbooks on a trigger without blocking (response.Engine).
type Reactor interface {
	Run(ctx context.Context, t response.Trigger) []response.Decision
}

// Watcher is a livestate.Observer.
type Watcher struct {
	st    Store
	pub   Announcer // nil: none
	react Reactor   // nil: no playbooks
	log   zerolog.Logger
	opt   Options

	mu    sync.Mutex
	twins map[string]*detectors

	prio prioritiesCache
	bg   sync.WaitGroup // background refreshes of priorities
}

// Wait returns once the background work the Watcher started has ended (cancel the context the
// windows came with first): a server calls it before it closes the graph.
func (w *Watcher) Wait() { w.bg.Wait() }

// Options tune a Watcher; zero fields take their defaults.
type Options struct {
	// Rates configures the rate baselines of every entity and series. Defaults: 1-minute
	// buckets by event time with a minute's grace for late events, counts (Poisson floor on the
	// scale), spikes only, threshold 4 at sensitivity 1, warm after 20 buckets, half-life 60
	// buckets, at most 100 000 baselines per twin (see docs/telemetry.md).
	Rates anomaly.RatesOptions
	// PriorityRefresh is how often a twin's monitoring priorities are read again (besides
	// after a status change, PrioritiesChanged). Default 1 minute.
	PriorityRefresh time.Duration
	// Now is the clock (time.Now when nil): it bounds the stream's time and times refreshes.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Rates.Step == 0 {
		o.Rates.Step = time.Minute
	}
	if o.Rates.Rate.Direction == anomaly.Both {
		o.Rates.Rate.Direction = anomaly.Above
	}
	o.Rates.Rate.Poisson = true
	if o.PriorityRefresh <= 0 {
		o.PriorityRefresh = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if _, err := anomaly.NewRates[string](o.Rates); err != nil {
		return o, err
	}
	return o, nil
}

// detectors are one twin's streaming state.
type detectors struct {
	byPrincipal, bySource *anomaly.BruteForce
	travel                *anomaly.Travel
	rate                  *rateState
}

// New returns a Watcher with the default options.
func New(st Store, pub Announcer, react Reactor, log zerolog.Logger) *Watcher {
	w, _ := NewWithOptions(st, pub, react, log, Options{}) // the defaults are valid
	return w
}

// NewWithOptions returns a Watcher, or an error naming an invalid option.
func NewWithOptions(st Store, pub Announcer, react Reactor, log zerolog.Logger, o Options) (*Watcher, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Watcher{st: st, pub: pub, react: react, log: log, opt: o, twins: map[string]*detectors{},
		prio: prioritiesCache{twins: map[string]*twinPriorities{}}}, nil
}

func (w *Watcher) detectorsOf(twin string) (*detectors, error) {
	if d, ok := w.twins[twin]; ok {
		return d, nil
	}
	d := &detectors{}
	var err error
	if d.byPrincipal, err = anomaly.NewBruteForce(anomaly.BruteForceOptions{By: anomaly.ByPrincipal}); err != nil {
		return nil, err
	}
	if d.bySource, err = anomaly.NewBruteForce(anomaly.BruteForceOptions{By: anomaly.BySource}); err != nil {
		return nil, err
	}
	if d.travel, err = anomaly.NewTravel(anomaly.TravelOptions{}); err != nil {
		return nil, err
	}
	if d.rate, err = newRateState(w.opt.Rates); err != nil {
		return nil, err
	}
	w.twins[twin] = d
	return d, nil
}

// Window runs the detectors over one applied window of a twin.
func (w *Watcher) Window(ctx context.Context, twin string, evs []telemetry.Event, res graph.OpsResult) {
	var rows []graph.AnomalyRow
	var triggers []response.Trigger
	for _, c := range res.Connections {
		if !c.New || c.Designed {
			continue
		}
		why := fmt.Sprintf("first connection %s → %s on %d/%s, which the design does not allow", c.Src.Key, c.Dst.Key, c.Port, c.Proto)
		if len(c.SrcZones) > 0 || len(c.DstZones) > 0 {
			why += fmt.Sprintf(" (from zone %s to zone %s)", strings.Join(c.SrcZones, ","), strings.Join(c.DstZones, ","))
		}
		row := graph.AnomalyRow{Key: key(twin, "new_edge", c.Src.String(), c.Dst.String(), fmt.Sprint(c.Port), c.Proto), Type: "new_edge",
			Entity: c.Src.Key, Score: 1, Explanation: why, At: c.Bucket, Evidence: []graph.NodeRef{c.Src, c.Dst}}
		rows = append(rows, row)
		triggers = append(triggers, response.Trigger{ID: row.Key, Kind: response.KindAnomaly, Twin: twin, Entity: c.Src.Key, Type: "new_edge",
			Score: 1, Src: c.Src.Key, Dst: c.Dst.Key, SrcZone: first(c.SrcZones), DstZone: first(c.DstZones), Message: why,
			Fields: map[string]any{"port": c.Port, "proto": c.Proto, "designed": false}})
	}
	prio := w.priorities(ctx, twin)
	w.mu.Lock()
	d, err := w.detectorsOf(twin)
	if err == nil {
		rows = append(rows, d.auth(twin, evs)...)
		rateRows, rateTriggers := d.rates(twin, evs, prio, w.opt.Now())
		rows = append(rows, rateRows...)
		triggers = append(triggers, rateTriggers...)
	}
	w.mu.Unlock()
	if err != nil {
		w.log.Error().Err(err).Msg("anomaly detectors not built")
	}
	for _, ev := range evs {
		if ev.Alert != nil && w.react != nil {
			a := ev.Alert
			triggers = append(triggers, response.Trigger{ID: ev.Source + "/" + ev.ID, Kind: response.KindAlert, At: ev.Time, Twin: twin,
				Entity: a.Entity, Type: a.Rule, Severity: strings.ToUpper(a.Severity), Message: a.Message,
				Fields: map[string]any{"source": a.Source, "technique": a.Technique}})
		}
	}
	if len(rows) > 0 {
		created, err := w.st.RecordAnomalies(ctx, twin, rows)
		if err != nil {
			w.log.Warn().Err(err).Str("twin", twin).Int("anomalies", len(rows)).Msg("anomalies not recorded")
		} else if len(created) > 0 {
			w.announce(ctx, twin, rows, created)
		}
		for _, r := range rows {
			if r.Type != "new_edge" && r.Type != "rate" { // those carry their own triggers
				triggers = append(triggers, response.Trigger{ID: r.Key, Kind: response.KindAnomaly, At: r.At, Twin: twin, Entity: r.Entity,
					Type: r.Type, Score: r.Score, Message: r.Explanation})
			}
		}
	}
	if w.react != nil {
		for _, t := range triggers {
			w.react.Run(ctx, t)
		}
	}
}

// auth runs the authentication detectors over a window's auth events, in time order.
func (d *detectors) auth(twin string, evs []telemetry.Event) []graph.AnomalyRow {
	var auths []anomaly.AuthEvent
	for _, ev := range evs {
		if a := ev.Auth; a != nil {
			auths = append(auths, anomaly.AuthEvent{Time: ev.Time, Principal: a.Principal, Src: a.Src, Success: a.Outcome == "success",
				Location: a.Location, Ref: ev.Source + "/" + ev.ID})
		}
	}
	slices.SortStableFunc(auths, func(a, b anomaly.AuthEvent) int { return a.Time.Compare(b.Time) })
	var rows []graph.AnomalyRow
	for _, a := range auths {
		for _, bf := range []*anomaly.BruteForce{d.byPrincipal, d.bySource} {
			f, err := bf.Observe(a)
			if err != nil || f == nil {
				continue
			}
			typ := "brute_force"
			if f.Succeeded {
				typ = "brute_force_succeeded"
			}
			entity := a.Src
			if f.By == anomaly.ByPrincipal {
				entity = a.Principal
			}
			rows = append(rows, graph.AnomalyRow{Key: key(twin, typ, f.By.String(), f.Key, f.Time.UTC().Format(time.RFC3339Nano)), Type: typ,
				Entity: entity, Score: f.Score, Explanation: f.Explanation(), At: f.Time})
		}
		if a.Success {
			if f, err := d.travel.Observe(a); err == nil && f != nil {
				rows = append(rows, graph.AnomalyRow{Key: key(twin, "impossible_travel", f.Principal, f.Time.UTC().Format(time.RFC3339Nano)),
					Type: "impossible_travel", Entity: f.Principal, Score: f.Score, Explanation: f.Explanation(), At: f.Time})
			}
		}
	}
	return rows
}

// announce publishes new anomalies, and a change event naming them and their entities so that
// assurance evidence reading them is evaluated again.
func (w *Watcher) announce(ctx context.Context, twin string, rows []graph.AnomalyRow, created []string) {
	if w.pub == nil {
		return
	}
	nodes := make([]graph.NodeRef, 0, 3*len(created))
	for _, r := range rows {
		if slices.Contains(created, r.Key) {
			nodes = append(nodes, graph.NodeRef{Label: graph.LabelAnomaly, Key: r.Key})
			nodes = append(nodes, r.Evidence...)
		}
	}
	c := events.Change{Twin: twin, Op: events.OpUpsert, Source: "anomaly", At: time.Now().UTC(), NodesCreated: len(created)}
	if len(nodes) > events.MaxNodes {
		nodes, c.Truncated = nodes[:events.MaxNodes], true
	}
	c.Nodes = nodes
	if err := w.pub.Publish(ctx, c); err != nil {
		w.log.Warn().Err(err).Str("twin", twin).Msg("anomaly change event not published")
	}
	if err := w.pub.PublishAnomalies(ctx, events.AnomaliesDetected{Twin: twin, Keys: created}); err != nil {
		w.log.Warn().Err(err).Str("twin", twin).Msg("anomalies not announced")
	}
}

// key is a deterministic anomaly key: the same detection recorded twice is one node.
func key(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
