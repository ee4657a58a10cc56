// Package events carries twin change events over NATS. Every write to a twin publishes one on
// sectwin.events.twin.<twin>; the EVENTS stream keeps them for replay, and every sectwin replica
// subscribed to that subject delivers them to its GraphQL subscribers.
package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
)

// Change operations.
const (
	OpUpsert      = "UPSERT"
	OpDelete      = "DELETE"
	OpApply       = "APPLY"
	OpTwinCreated = "TWIN_CREATED"
	OpTwinDeleted = "TWIN_DELETED"
	// OpAssuranceCase: a case (the AssuranceCase node listed) was imported, edited or deleted.
	OpAssuranceCase = "assurance-case"
	// OpAssuranceTriage: a person triaged a defeater of the case listed.
	OpAssuranceTriage = "assurance-triage"
)

// MaxNodes bounds the nodes listed in one event; the counts stay exact.
const MaxNodes = 500

// Change is one committed write to a twin.
type Change struct {
	Twin   string    `json:"twin"`
	Op     string    `json:"op"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`

	NodesCreated int `json:"nodesCreated"`
	NodesUpdated int `json:"nodesUpdated"`
	NodesDeleted int `json:"nodesDeleted"`
	EdgesCreated int `json:"edgesCreated"`
	EdgesUpdated int `json:"edgesUpdated"`
	EdgesDeleted int `json:"edgesDeleted"`

	Nodes     []graph.NodeRef `json:"nodes"`
	Truncated bool            `json:"truncated"`
}

// FromWrite describes a write's result as a change event.
func FromWrite(twin, op, source string, res graph.WriteResult) Change {
	c := Change{
		Twin: twin, Op: op, Source: source, At: time.Now().UTC(),
		NodesCreated: res.NodesCreated, NodesUpdated: res.NodesUpdated, NodesDeleted: res.NodesDeleted,
		EdgesCreated: res.EdgesCreated, EdgesUpdated: res.EdgesUpdated, EdgesDeleted: res.EdgesDeleted,
		Nodes: res.Changed,
	}
	if len(c.Nodes) > MaxNodes {
		c.Nodes, c.Truncated = c.Nodes[:MaxNodes], true
	}
	return c
}

// Subject is where a twin's changes are published.
func Subject(twin string) string { return bus.SubjectEvents + ".twin." + twin }

// NATS publishes and subscribes to change events through a bus.
type NATS struct {
	Bus *bus.Bus
	Log zerolog.Logger
}

// Publish sends c to the EVENTS stream and to live subscribers.
func (n NATS) Publish(ctx context.Context, c Change) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode change: %w", err)
	}
	return n.Bus.Publish(ctx, Subject(c.Twin), data, "")
}

// Subscribe delivers the twin's changes published from now on, until ctx ends. A subscriber too
// slow to keep up (256 events behind) loses the oldest: subscriptions are live views, and the
// EVENTS stream keeps the full history.
func (n NATS) Subscribe(ctx context.Context, twin string) (<-chan Change, error) {
	return subscribe(ctx, n, Subject(twin), "changes of "+twin, func(c Change) bool { return true })
}

// subscribe delivers the JSON messages on subject, decoded as T and kept when ok says so, until
// ctx ends. It returns once the server has the subscription, so nothing published after it
// returns is missed.
func subscribe[T any](ctx context.Context, n NATS, subject, what string, ok func(T) bool) (<-chan T, error) {
	msgs := make(chan *nats.Msg, 256)
	sub, err := n.Bus.Conn().ChanSubscribe(subject, msgs)
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", what, err)
	}
	// FlushWithContext needs a deadline, and ctx (the subscription's lifetime) has none.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = n.Bus.Conn().FlushWithContext(fctx)
	cancel()
	if err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe to %s: %w", what, err)
	}
	out := make(chan T, 16)
	go func() {
		defer close(out)
		defer sub.Unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-msgs:
				var v T
				if err := json.Unmarshal(m.Data, &v); err != nil || !ok(v) {
					n.Log.Warn().Err(err).Str("subject", m.Subject).Msg("undecodable event skipped")
					continue
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// ReportReady announces a completed attack-path report run.
type ReportReady struct {
	Twin string `json:"twin"`
	ID   string `json:"id"`
}

// ReportSubject is where a twin's completed reports are announced.
func ReportSubject(twin string) string { return bus.SubjectEvents + ".report." + twin }

// PublishReport announces a completed report run.
func (n NATS) PublishReport(ctx context.Context, r ReportReady) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report event: %w", err)
	}
	return n.Bus.Publish(ctx, ReportSubject(r.Twin), data, "report-"+r.ID)
}

// SubscribeReports delivers the twin's report runs completed from now on, until ctx ends.
func (n NATS) SubscribeReports(ctx context.Context, twin string) (<-chan ReportReady, error) {
	return subscribe(ctx, n, ReportSubject(twin), "reports of "+twin, func(r ReportReady) bool { return r.ID != "" })
}

// SubscribeChanged delivers the name of every twin that changes from now on, until ctx ends;
// a slow reader loses events, never blocks the bus.
func (n NATS) SubscribeChanged(ctx context.Context) (<-chan string, error) {
	msgs := make(chan *nats.Msg, 1024)
	sub, err := n.Bus.Conn().ChanSubscribe(Subject("*"), msgs)
	if err != nil {
		return nil, fmt.Errorf("subscribe to twin changes: %w", err)
	}
	out := make(chan string, 256)
	go func() {
		defer close(out)
		defer sub.Unsubscribe()
		prefix := len(Subject(""))
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-msgs:
				if len(m.Subject) <= prefix {
					continue
				}
				select {
				case out <- m.Subject[prefix:]:
				default:
					n.Log.Warn().Str("subject", m.Subject).Msg("twin change dropped: its reader is behind")
				}
			}
		}
	}()
	return out, nil
}

// SubscribeAllChanges delivers every twin's changes published from now on, until ctx ends: live,
// like Subscribe (a reader 256 events behind loses the oldest), for followers that need to know
// what changed and not only which twin (attack-path analysis tells telemetry from model writes).
func (n NATS) SubscribeAllChanges(ctx context.Context) (<-chan Change, error) {
	return subscribe(ctx, n, Subject("*"), "changes of every twin", func(c Change) bool { return c.Twin != "" })
}

// StatusChanged announces that an element of an assurance case changed status (or reasons or
// confidence), after the change was stored.
type StatusChanged struct {
	Twin       string          `json:"twin"`
	Case       string          `json:"case"`
	Element    string          `json:"element"`
	Kind       string          `json:"kind"` // Goal, Strategy, Solution, Context, Assumption, Justification or Defeater
	From       string          `json:"from"` // "" when the element had no status yet
	To         string          `json:"to"`
	Reasons    json.RawMessage `json:"reasons"`
	Confidence float64         `json:"confidence"`
	Cause      json.RawMessage `json:"cause"`
	At         time.Time       `json:"at"`
}

// AssuranceSubject is where a twin's assurance status changes are announced.
func AssuranceSubject(twin string) string { return bus.SubjectEvents + ".assurance." + twin }

// statusPublishAttempts bounds the publishes of one status change: a change is stored before it
// is announced and never announced again, so a publish that times out on a loaded server is
// tried again rather than lost.
const statusPublishAttempts = 4

// PublishStatus announces status changes, in order. Each carries a message id made of what it
// is (twin, case, element, status, time), so that a publish tried again after a lost
// acknowledgement is stored once (the stream's duplicate window).
func (n NATS) PublishStatus(ctx context.Context, changes []StatusChanged) error {
	for _, c := range changes {
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode status change: %w", err)
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%d", c.Twin, c.Case, c.Element, c.To, c.At.UnixNano()))
		id := "status-" + hex.EncodeToString(sum[:16])
		for attempt := 1; ; attempt++ {
			err = n.Bus.Publish(ctx, AssuranceSubject(c.Twin), data, id)
			if err == nil || attempt == statusPublishAttempts || ctx.Err() != nil {
				break
			}
			n.Log.Warn().Err(err).Str("twin", c.Twin).Str("case", c.Case).Str("element", c.Element).Int("attempt", attempt).
				Msg("status change not announced yet; trying again")
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SubscribeStatus delivers the twin's assurance status changes from now on, until ctx ends.
func (n NATS) SubscribeStatus(ctx context.Context, twin string) (<-chan StatusChanged, error) {
	return subscribe(ctx, n, AssuranceSubject(twin), "assurance status of "+twin, func(c StatusChanged) bool { return c.Element != "" })
}

// Follow delivers every twin's changes published from now on, in order and without gaps, until
// ctx ends: it reads the EVENTS stream through an ordered consumer, so a slow reader lags
// instead of losing events (live subscriptions drop them). It is for followers whose state
// must not miss a change, such as live assurance evaluation.
func (n NATS) Follow(ctx context.Context) (<-chan Change, error) {
	cons, err := n.Bus.JetStream().OrderedConsumer(ctx, bus.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{Subject(">")}, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, fmt.Errorf("follow twin changes: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("follow twin changes: %w", err)
	}
	out := make(chan Change, 64)
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	go func() {
		defer close(out)
		for {
			m, err := it.Next()
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					n.Log.Warn().Err(err).Msg("following twin changes stopped")
				}
				return
			}
			var c Change
			if err := json.Unmarshal(m.Data(), &c); err != nil || c.Twin == "" {
				n.Log.Warn().Err(err).Str("subject", m.Subject()).Msg("undecodable change skipped")
				continue
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// AlertsRaised announces the alerts a telemetry window created in a twin.
type AlertsRaised struct {
	Twin string   `json:"twin"`
	Keys []string `json:"keys"`
}

// AlertSubject is where a twin's new alerts are announced.
func AlertSubject(twin string) string { return bus.SubjectEvents + ".alert." + twin }

// PublishAlerts announces new alerts.
func (n NATS) PublishAlerts(ctx context.Context, a AlertsRaised) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	return n.Bus.Publish(ctx, AlertSubject(a.Twin), data, "")
}

// SubscribeAlerts delivers the twin's new alerts from now on, until ctx ends.
func (n NATS) SubscribeAlerts(ctx context.Context, twin string) (<-chan AlertsRaised, error) {
	return subscribe(ctx, n, AlertSubject(twin), "alerts of "+twin, func(a AlertsRaised) bool { return len(a.Keys) > 0 })
}

// AnomaliesDetected announces the anomalies detected in a twin.
type AnomaliesDetected struct {
	Twin string   `json:"twin"`
	Keys []string `json:"keys"`
}

// AnomalySubject is where a twin's new anomalies are announced.
func AnomalySubject(twin string) string { return bus.SubjectEvents + ".anomaly." + twin }

// PublishAnomalies announces new anomalies.
func (n NATS) PublishAnomalies(ctx context.Context, a AnomaliesDetected) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode anomalies: %w", err)
	}
	return n.Bus.Publish(ctx, AnomalySubject(a.Twin), data, "")
}

// SubscribeAnomalies delivers the twin's new anomalies from now on, until ctx ends.
func (n NATS) SubscribeAnomalies(ctx context.Context, twin string) (<-chan AnomaliesDetected, error) {
	return subscribe(ctx, n, AnomalySubject(twin), "anomalies of "+twin, func(a AnomaliesDetected) bool { return len(a.Keys) > 0 })
}

// SubscribeAllStatus delivers the assurance status changes of every twin from now on, until ctx
// ends (for response playbooks).
func (n NATS) SubscribeAllStatus(ctx context.Context) (<-chan StatusChanged, error) {
	return subscribe(ctx, n, AssuranceSubject("*"), "assurance status of every twin", func(c StatusChanged) bool { return c.Element != "" })
}

// ConsumeAllStatus hands every twin's assurance status changes, from when the durable consumer
// was first made on, to fn, until ctx ends. The servers that consume with the same durable name
// (replicas on one NATS) share them: each change goes to one of them, so what reacts to it
// (response playbooks) reacts once, not once per replica. A change is acknowledged once fn
// returns; one whose server stops before that goes to another. Changes made while no server
// consumes wait in the EVENTS stream (EventsMaxAge).
func (n NATS) ConsumeAllStatus(ctx context.Context, durable string, fn func(context.Context, StatusChanged)) error {
	cons, err := n.Bus.JetStream().CreateOrUpdateConsumer(ctx, bus.StreamEvents, jetstream.ConsumerConfig{
		Durable: durable, Description: "assurance status changes, shared by the replicas",
		FilterSubject: AssuranceSubject("*"), DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute, MaxDeliver: 5,
	})
	if err != nil {
		return fmt.Errorf("consume assurance status changes (%s): %w", durable, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var c StatusChanged
		if err := json.Unmarshal(m.Data(), &c); err != nil || c.Element == "" {
			n.Log.Warn().Err(err).Str("subject", m.Subject()).Msg("undecodable status change skipped")
			_ = m.Term()
			return
		}
		fn(ctx, c)
		if err := m.Ack(); err != nil {
			n.Log.Warn().Err(err).Str("twin", c.Twin).Str("case", c.Case).Msg("status change not acknowledged: it may be handed over again")
		}
	})
	if err != nil {
		return fmt.Errorf("consume assurance status changes (%s): %w", durable, err)
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
	}()
	return nil
}
