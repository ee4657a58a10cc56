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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
)

// Store is what the worker writes (graph.LiveState, or graph.DB without caches).
type Store interface {
	ApplyOps(ctx context.Context, twin string, b graph.OpsBatch) (graph.OpsResult, error)
	TelemetryCursor(ctx context.Context, twin, stream string) (uint64, error)
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
//
// One goroutine reads the durable consumer, decodes each event, dead-letters the malformed ones
// and aggregates the rest into the pending window, while another applies the previous window
// to the graph: decoding and Neo4j overlap, and a window holds whatever arrived while the
// previous one was applied (at most MaxBatch events), so windows grow with the load and stay
// small, and quick, when it is light.
//
// The consumer is pinned (a NATS priority group with the pinned-client policy): of several
// replicas on one NATS, one worker at a time receives the stream, and another takes over when
// it stops pulling for PinnedTTL. Events at or below the twin's cursor (a redelivery after a
// crash or a take-over) are skipped, so nothing is counted twice.
type Worker struct {
	Bus      *bus.Bus
	Store    Store
	Decode   Decoder
	Announce Announcer // nil: no change events
	Observe  Observer  // nil: none
	Log      zerolog.Logger
	// Durable names the consumer (default "telemetry-state"); Window is how long the reader
	// waits for the next event while a window is pending (default 20 ms: a window is handed
	// over as soon as the applier is free); MaxBatch how many events one window holds (default 20 000); PinnedTTL how long a
	// silent worker keeps the stream before another replica's takes over (default 30 s).
	Durable   string
	Window    time.Duration
	MaxBatch  int
	PinnedTTL time.Duration

	// into, when set, is the twin every event is applied to, whatever twin its subject names
	// (a Replay).
	into string

	applied, malformed, windows, skipped atomic.Int64
}

// errEndOfStream ends read after it handed over the pending window: a Replay reached the end.
var errEndOfStream = errors.New("end of the replayed telemetry")

// Stats counts what the worker did.
type Stats struct {
	Applied, Malformed, Windows int64
	// Skipped are events at or below their twin's cursor: already applied.
	Skipped int64
}

// Stats returns the counters so far.
func (w *Worker) Stats() Stats {
	return Stats{Applied: w.applied.Load(), Malformed: w.malformed.Load(), Windows: w.windows.Load(), Skipped: w.skipped.Load()}
}

// priorityGroup is the one priority group of the pinned consumer.
const priorityGroup = "live"

// Run consumes until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	durable := cmp.Or(w.Durable, "telemetry-state")
	maxBatch := cmp.Or(w.MaxBatch, 20000)
	cfg := jetstream.ConsumerConfig{
		Durable:        durable,
		AckPolicy:      jetstream.AckAllPolicy,
		AckWait:        60 * time.Second,
		MaxAckPending:  3 * maxBatch,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{priorityGroup},
		PinnedTTL:      cmp.Or(w.PinnedTTL, 30*time.Second),
	}
	js := w.Bus.JetStream()
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamTelemetry, cfg)
	if err != nil {
		// A consumer made before it was pinned cannot be updated to a priority policy: make it
		// anew. Its position is lost, which the twins' cursors make harmless.
		w.Log.Warn().Err(err).Str("consumer", durable).Msg("telemetry consumer not updatable; recreating it")
		if derr := js.DeleteConsumer(ctx, bus.StreamTelemetry, durable); derr != nil && !errors.Is(derr, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("telemetry consumer: %w (and deleting it: %w)", err, derr)
		}
		if cons, err = js.CreateOrUpdateConsumer(ctx, bus.StreamTelemetry, cfg); err != nil {
			return fmt.Errorf("telemetry consumer: %w", err)
		}
	}
	it, err := cons.Messages(jetstream.PullPriorityGroup(priorityGroup), jetstream.PullMaxMessages(min(maxBatch, 10000)))
	if err != nil {
		return fmt.Errorf("telemetry consumer: %w", err)
	}
	defer it.Stop()
	ready := make(chan *window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.applyAll(ctx, ready, func(win *window) {
			if err := win.last.Ack(); err != nil {
				w.Log.Warn().Err(err).Msg("telemetry window acknowledgement failed; the cursor keeps a redelivery from counting twice")
			}
		})
	}()
	defer func() { close(ready); <-done }()
	return w.read(ctx, maxBatch, cmp.Or(w.Window, 20*time.Millisecond), ready,
		func(wait time.Duration) (jetstream.Msg, error) { return it.Next(jetstream.NextMaxWait(wait)) })
}

// read fills windows from next and hands each to ready when the applier takes it, or when it
// holds maxBatch events.
func (w *Worker) read(ctx context.Context, maxBatch int, linger time.Duration, ready chan<- *window, next func(time.Duration) (jetstream.Msg, error)) error {
	var pending *window
	// cursors are each twin's cursor as of the windows handed over: an event at or below it is
	// a redelivery of what one of them held.
	cursors := map[string]uint64{}
	handedOver := func() {
		for twin, tw := range pending.twins {
			cursors[twin] = max(cursors[twin], tw.batch.Through)
		}
		pending = nil
	}
	for ctx.Err() == nil {
		if pending != nil {
			if pending.events >= maxBatch {
				select {
				case ready <- pending:
					handedOver()
				case <-ctx.Done():
					return nil
				}
				continue
			}
			select {
			case ready <- pending:
				handedOver()
			default:
			}
		}
		wait := time.Second
		if pending != nil {
			wait = linger
		}
		m, err := next(wait)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, errEndOfStream):
				if pending != nil {
					select {
					case ready <- pending:
					case <-ctx.Done():
					}
				}
				return nil
			case w.into != "":
				return err // a replay ends at its first error
			case errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
			case errors.Is(err, jetstream.ErrMsgIteratorClosed):
				return fmt.Errorf("telemetry consumer closed: %w", err)
			default:
				w.Log.Debug().Err(err).Msg("telemetry consumer")
			}
			continue
		}
		if pending == nil {
			pending = newWindow()
		}
		w.add(ctx, pending, m, cursors)
	}
	return nil
}

// window is what the reader gathered for the applier: each twin's part, and the last message
// (acknowledging it acknowledges all before it).
type window struct {
	twins  map[string]*twinWindow
	flows  map[string]map[flowKey]*graph.FlowRow
	alerts map[string]map[string]*graph.AlertRow
	last   jetstream.Msg
	events int
}

func newWindow() *window {
	return &window{twins: map[string]*twinWindow{}, flows: map[string]map[flowKey]*graph.FlowRow{}, alerts: map[string]map[string]*graph.AlertRow{}}
}

// add decodes one message into the window: a malformed one is dead-lettered, one at or below
// its twin's cursor skipped.
func (w *Worker) add(ctx context.Context, win *window, m jetstream.Msg, cursors map[string]uint64) {
	win.last = m
	md, err := m.Metadata()
	if err != nil {
		return
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
		if w.into != "" {
			return // a replay: dead-lettered when it was first received
		}
		if derr := w.Bus.DeadLetter(ctx, m, err); derr != nil {
			w.Log.Error().Err(derr).Str("subject", m.Subject()).Msg("malformed telemetry not dead-lettered; dropped")
		}
		return
	}
	if w.into != "" {
		twin, ev.Twin = w.into, w.into
	}
	tw := win.twins[twin]
	if tw == nil {
		cursor, known := cursors[twin]
		if !known {
			// Read once per twin; afterwards the applier's commits move it (see apply).
			c, err := w.Store.TelemetryCursor(ctx, twin, bus.StreamTelemetry)
			if err != nil {
				w.Log.Warn().Err(err).Str("twin", twin).Msg("telemetry cursor not read; the window's own check guards against counting twice")
			}
			cursor, cursors[twin] = c, c
		}
		tw = &twinWindow{twin: twin, batch: graph.OpsBatch{Stream: bus.StreamTelemetry}, cursor: cursor}
		win.twins[twin], win.flows[twin], win.alerts[twin] = tw, map[flowKey]*graph.FlowRow{}, map[string]*graph.AlertRow{}
	}
	if md.Sequence.Stream <= tw.cursor {
		w.skipped.Add(1)
		return
	}
	tw.batch.Through = max(tw.batch.Through, md.Sequence.Stream)
	tw.events = append(tw.events, ev)
	win.events++
	add(tw, win.flows[twin], win.alerts[twin], ev)
}

// applyAll applies the windows ready hands over, in order, calling then after each: the
// applier's side of read. It says whether every window was applied; it stops at the first
// that was not (ctx ended), and the reader, which selects on ctx too, stops as well.
func (w *Worker) applyAll(ctx context.Context, ready <-chan *window, then func(*window)) bool {
	for win := range ready {
		if !w.apply(ctx, win) {
			return false
		}
		then(win)
	}
	return true
}

// apply applies a window twin by twin, retrying while the graph fails; false when ctx ended
// first (the window is then not acknowledged, and delivered again after a restart).
func (w *Worker) apply(ctx context.Context, win *window) bool {
	for _, tw := range win.finish() {
		delay := 200 * time.Millisecond
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
				return false
			}
			w.Log.Warn().Err(err).Str("twin", tw.twin).Int("events", len(tw.events)).Msg("telemetry window not applied; retrying")
			_ = win.last.InProgress()
			sleep(ctx, delay)
			delay = min(delay*2, 10*time.Second)
		}
	}
	return true
}

// finish turns the window's aggregates into each twin's batch, in a stable order.
func (win *window) finish() []*twinWindow {
	out := make([]*twinWindow, 0, len(win.twins))
	for twin, tw := range win.twins {
		if len(tw.events) == 0 {
			continue
		}
		for _, f := range win.flows[twin] {
			tw.batch.Flows = append(tw.batch.Flows, *f)
		}
		for _, a := range win.alerts[twin] {
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

// twinWindow is one twin's part of a window.
type twinWindow struct {
	twin   string
	batch  graph.OpsBatch
	events []telemetry.Event
	cursor uint64 // the twin's cursor when the window began
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
		if name := strings.ToLower(ev.Metric.Name); name == "up" || name == "health" {
			tw.batch.Health = append(tw.batch.Health, graph.HealthRow{Entity: ev.Metric.Entity, Up: ev.Metric.Value >= 1, At: at})
		}
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
