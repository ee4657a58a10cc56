// Package livestate turns the operations twin's telemetry into live state: it reads the
// TELEMETRY stream (telemetry.<twin>.<kind>, ingest/telemetry) in windows, aggregates each
// window in memory per twin (connections per port and hour, alerts per rule, entity and hour,
// deploys, entities seen) and applies it to the graph in one transaction per twin and window
// (graph.DB.ApplyOps), never as a node per event. A window is acknowledged only after every
// twin's write has committed; a twin's telemetry cursor, moved in the same transaction, keeps a
// window delivered again from being counted twice. Malformed events are dead-lettered with the
// reason and counted; they never stall the stream.
//
// Docs: docs/telemetry.md.
package livestate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
)

// Store is what the worker writes.
type Store interface {
	ApplyOps(ctx context.Context, twin string, b graph.OpsBatch) (graph.OpsResult, error)
}

// Announcer publishes change events and new alerts.
type Announcer interface {
	Publish(ctx context.Context, c events.Change) error
	PublishAlerts(ctx context.Context, a events.AlertsRaised) error
}

// Observer sees every applied window after it committed: anomaly detection and response
// playbooks hang here. It must not block for long.
type Observer interface {
	Window(ctx context.Context, twin string, evs []telemetry.Event, res graph.OpsResult)
}

// Decoder reads one event published on a twin's subject of a kind.
type Decoder func(twin, kind string, data []byte) (telemetry.Event, error)

// Worker is the TELEMETRY consumer.
type Worker struct {
	Bus      *bus.Bus
	Store    Store
	Decode   Decoder
	Announce Announcer // nil: no change events
	Observe  Observer  // nil: none
	Log      zerolog.Logger
	// Durable names the consumer (default "telemetry-state"); Window bounds how long events
	// wait to be applied (default 250 ms); MaxBatch how many one window holds (default 5000).
	Durable  string
	Window   time.Duration
	MaxBatch int

	applied, malformed, windows atomic.Int64
}

// Stats counts what the worker did.
type Stats struct {
	Applied, Malformed, Windows int64
}

// Stats returns the counters so far.
func (w *Worker) Stats() Stats {
	return Stats{Applied: w.applied.Load(), Malformed: w.malformed.Load(), Windows: w.windows.Load()}
}

// Run consumes until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	durable := cmp.Or(w.Durable, "telemetry-state")
	window := cmp.Or(w.Window, 250*time.Millisecond)
	maxBatch := cmp.Or(w.MaxBatch, 5000)
	cons, err := w.Bus.JetStream().CreateOrUpdateConsumer(ctx, bus.StreamTelemetry, jetstream.ConsumerConfig{
		Durable:       durable,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       60 * time.Second,
		MaxAckPending: 4 * maxBatch,
	})
	if err != nil {
		return fmt.Errorf("telemetry consumer: %w", err)
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(maxBatch, jetstream.FetchMaxWait(window))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.Log.Warn().Err(err).Msg("telemetry fetch failed; retrying")
			sleep(ctx, time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			w.Log.Debug().Err(err).Msg("telemetry fetch ended early")
		}
		if len(msgs) == 0 {
			continue
		}
		w.process(ctx, msgs)
	}
	return nil
}

// process applies one window, retrying while the graph fails, then acknowledges it whole.
func (w *Worker) process(ctx context.Context, msgs []jetstream.Msg) {
	windows := w.aggregate(ctx, msgs)
	delay := 200 * time.Millisecond
	for _, tw := range windows {
		for {
			res, err := w.Store.ApplyOps(ctx, tw.twin, tw.batch)
			if err == nil {
				w.windows.Add(1)
				if res.Applied {
					w.applied.Add(int64(len(tw.events)))
					w.after(ctx, tw, res)
				}
				break
			}
			if ctx.Err() != nil {
				return // not acknowledged: delivered again after a restart
			}
			w.Log.Warn().Err(err).Str("twin", tw.twin).Int("events", len(tw.events)).Msg("telemetry window not applied; retrying")
			for _, m := range msgs {
				_ = m.InProgress()
			}
			sleep(ctx, delay)
			delay = min(delay*2, 10*time.Second)
		}
	}
	if err := msgs[len(msgs)-1].Ack(); err != nil {
		w.Log.Warn().Err(err).Msg("telemetry window acknowledgement failed; the cursor keeps a redelivery from counting twice")
	}
}

// twinWindow is one twin's part of a window.
type twinWindow struct {
	twin   string
	batch  graph.OpsBatch
	events []telemetry.Event
}

// aggregate decodes a window's messages, dead-letters the malformed ones and aggregates the
// rest per twin.
func (w *Worker) aggregate(ctx context.Context, msgs []jetstream.Msg) []*twinWindow {
	byTwin := map[string]*twinWindow{}
	flows := map[string]map[flowKey]*graph.FlowRow{}
	alerts := map[string]map[string]*graph.AlertRow{}
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		twin, kind, ok := parseSubject(m.Subject())
		var ev telemetry.Event
		if !ok {
			err = fmt.Errorf("subject %s is not telemetry.<twin>.<kind> with a known kind", m.Subject())
		} else {
			ev, err = w.Decode(twin, kind, m.Data())
		}
		if err != nil {
			w.malformed.Add(1)
			if derr := w.Bus.DeadLetter(ctx, m, err); derr != nil {
				w.Log.Error().Err(derr).Str("subject", m.Subject()).Msg("malformed telemetry not dead-lettered; dropped")
			}
			continue
		}
		tw := byTwin[twin]
		if tw == nil {
			tw = &twinWindow{twin: twin, batch: graph.OpsBatch{Stream: bus.StreamTelemetry}}
			byTwin[twin], flows[twin], alerts[twin] = tw, map[flowKey]*graph.FlowRow{}, map[string]*graph.AlertRow{}
		}
		tw.batch.Through = max(tw.batch.Through, md.Sequence.Stream)
		tw.events = append(tw.events, ev)
		add(tw, flows[twin], alerts[twin], ev)
	}
	out := make([]*twinWindow, 0, len(byTwin))
	for twin, tw := range byTwin {
		for _, f := range flows[twin] {
			tw.batch.Flows = append(tw.batch.Flows, *f)
		}
		for _, a := range alerts[twin] {
			tw.batch.Alerts = append(tw.batch.Alerts, *a)
		}
		slices.SortFunc(tw.batch.Flows, func(a, b graph.FlowRow) int {
			return cmp.Or(cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto), a.Bucket.Compare(b.Bucket))
		})
		slices.SortFunc(tw.batch.Alerts, func(a, b graph.AlertRow) int { return cmp.Compare(a.Key, b.Key) })
		out = append(out, tw)
	}
	slices.SortFunc(out, func(a, b *twinWindow) int { return cmp.Compare(a.twin, b.twin) })
	return out
}

type flowKey struct {
	src, dst, proto string
	port            int
	bucket          int64
}

// add aggregates one event into its twin's window.
func add(tw *twinWindow, flows map[flowKey]*graph.FlowRow, alerts map[string]*graph.AlertRow, ev telemetry.Event) {
	at := ev.Time.UTC()
	bucket := at.Truncate(time.Hour)
	switch {
	case ev.Flow != nil:
		f := ev.Flow
		k := flowKey{src: f.Src, dst: f.Dst, proto: strings.ToLower(f.Proto), port: f.Port, bucket: bucket.Unix()}
		row := flows[k]
		if row == nil {
			row = &graph.FlowRow{Src: f.Src, Dst: f.Dst, Port: f.Port, Proto: k.proto, Bucket: bucket, First: at, Last: at}
			flows[k] = row
		}
		row.Count += max(f.Count, 1)
		row.Bytes += max(f.Bytes, 0)
		if at.Before(row.First) {
			row.First = at
		}
		if at.After(row.Last) {
			row.Last = at
		}
	case ev.Alert != nil:
		a := ev.Alert
		sum := sha256.Sum256([]byte(a.Source + "\x00" + a.Rule + "\x00" + a.Entity + "\x00" + bucket.Format(time.RFC3339)))
		key := hex.EncodeToString(sum[:16])
		row := alerts[key]
		if row == nil {
			row = &graph.AlertRow{Key: key, Source: a.Source, Rule: a.Rule, Severity: strings.ToUpper(a.Severity), Entity: a.Entity,
				Technique: a.Technique, Message: a.Message, First: at, Last: at}
			alerts[key] = row
		}
		row.Count++
		if at.Before(row.First) {
			row.First = at
		}
		if !at.Before(row.Last) {
			row.Last, row.Message, row.Severity = at, a.Message, strings.ToUpper(a.Severity)
		}
	case ev.Auth != nil:
		if ev.Auth.Target != "" {
			tw.batch.Seen = append(tw.batch.Seen, graph.SeenRow{Entity: ev.Auth.Target, At: at})
		}
	case ev.Metric != nil:
		tw.batch.Seen = append(tw.batch.Seen, graph.SeenRow{Entity: ev.Metric.Entity, At: at})
	case ev.Deploy != nil:
		tw.batch.Deploys = append(tw.batch.Deploys, graph.DeployRow{Service: ev.Deploy.Service, Digest: ev.Deploy.Digest, Host: ev.Deploy.Host, At: at})
	}
}

// after announces what a committed window changed and lets the observer see it. The change
// event names only what assurance and subscribers act on (new alerts' entities, new or
// undesigned connections' ends, deploys), not every entity merely seen again.
func (w *Worker) after(ctx context.Context, tw *twinWindow, res graph.OpsResult) {
	if w.Announce != nil {
		seen := map[graph.NodeRef]bool{}
		var nodes []graph.NodeRef
		note := func(n graph.NodeRef) {
			if n.Key != "" && !seen[n] {
				seen[n] = true
				nodes = append(nodes, n)
			}
		}
		for _, c := range res.Connections {
			if c.New || !c.Designed {
				note(c.Src)
				note(c.Dst)
			}
		}
		for _, k := range res.AlertsCreated {
			note(graph.NodeRef{Label: graph.LabelAlert, Key: k})
		}
		for _, n := range res.Nodes {
			if n.Label == graph.LabelArtifact {
				note(n)
			}
		}
		for _, d := range tw.batch.Deploys {
			note(graph.NodeRef{Label: graph.LabelService, Key: d.Service})
		}
		if len(nodes) > 0 {
			c := events.Change{Twin: tw.twin, Op: events.OpUpsert, Source: "telemetry", At: time.Now().UTC(), NodesUpdated: len(nodes)}
			if len(nodes) > events.MaxNodes {
				nodes, c.Truncated = nodes[:events.MaxNodes], true
			}
			c.Nodes = nodes
			if err := w.Announce.Publish(ctx, c); err != nil {
				w.Log.Warn().Err(err).Str("twin", tw.twin).Msg("telemetry change event not published")
			}
		}
		if len(res.AlertsCreated) > 0 {
			if err := w.Announce.PublishAlerts(ctx, events.AlertsRaised{Twin: tw.twin, Keys: res.AlertsCreated}); err != nil {
				w.Log.Warn().Err(err).Str("twin", tw.twin).Msg("new alerts not announced")
			}
		}
	}
	if w.Observe != nil {
		w.Observe.Window(ctx, tw.twin, tw.events, res)
	}
}

// parseSubject splits telemetry.<twin>.<kind>.
func parseSubject(s string) (twin, kind string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != telemetry.SubjectPrefix || parts[1] == "" {
		return "", "", false
	}
	return parts[1], parts[2], slices.Contains(telemetry.Kinds(), parts[2])
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
