package livestate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/bus"
)

// Replay rebuilds a twin's live state from the raw telemetry JetStream keeps (bus.TelemetryMaxAge):
// it reads every event published on telemetry.<From>.* (or those since Since), in stream order,
// and applies them, in windows as the live worker does, to the twin Into, which should have
// From's design and no live state of its own yet. Events are aggregated the same way and
// written through the same Store, so the connections, alerts, endpoints and observed times it
// leaves are those the live worker left (detectors and announcements do not run: anomalies
// and playbooks act on live telemetry only). Into's telemetry cursor keeps a replay that is
// interrupted and run again from counting anything twice.
type Replay struct {
	Bus    *bus.Bus
	Store  Store
	Decode Decoder
	Log    zerolog.Logger
	From   string
	Into   string
	// Since, when not zero, starts at the first event stored at or after it.
	Since time.Time
	// MaxBatch bounds a window (default 20 000 events).
	MaxBatch int
	// Progress, when set, is called after each window with the events read and how many the
	// stream had left when the replay began.
	Progress func(read, total uint64)
}

// ReplayStats says what a replay did.
type ReplayStats struct {
	Read, Applied, Malformed, Skipped int64
	Windows                           int64
}

// replayStall is how long a replay waits for the next event it knows the stream holds.
const replayStall = 30 * time.Second

// ErrNothingToReplay: the stream keeps no telemetry of the twin (from Since).
var ErrNothingToReplay = errors.New("no telemetry of the twin in JetStream")

// Run replays until the events that were stored when it began are applied.
func (r *Replay) Run(ctx context.Context) (ReplayStats, error) {
	if r.From == "" || r.Into == "" {
		return ReplayStats{}, errors.New("replay: the twin to read (From) and the twin to write (Into) are required")
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{telemetry.Subject(r.From, "*")}}
	if !r.Since.IsZero() {
		since := r.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cons, err := r.Bus.JetStream().OrderedConsumer(ctx, bus.StreamTelemetry, cfg)
	if err != nil {
		return ReplayStats{}, fmt.Errorf("replay %s: %w", r.From, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return ReplayStats{}, fmt.Errorf("replay %s: %w", r.From, err)
	}
	total := info.NumPending
	if total == 0 {
		return ReplayStats{}, fmt.Errorf("replay %s: %w", r.From, ErrNothingToReplay)
	}
	maxBatch := cmp.Or(r.MaxBatch, 20000)
	it, err := cons.Messages(jetstream.PullMaxMessages(min(max(maxBatch, 1000), 10000)))
	if err != nil {
		return ReplayStats{}, fmt.Errorf("replay %s: %w", r.From, err)
	}
	defer it.Stop()
	w := &Worker{Bus: r.Bus, Store: r.Store, Decode: r.Decode, Log: r.Log, into: r.Into}
	var read atomic.Uint64 // the reader counts, the applier reports progress
	ready := make(chan *window)
	done := make(chan bool, 1)
	go func() {
		done <- w.applyAll(ctx, ready, func(*window) {
			if r.Progress != nil {
				r.Progress(min(read.Load(), total), total)
			}
		})
	}()
	last := false
	err = w.read(ctx, maxBatch, 20*time.Millisecond, ready, func(wait time.Duration) (jetstream.Msg, error) {
		if last {
			return nil, errEndOfStream
		}
		// The ordered consumer may be recreating itself (after a missed heartbeat): give it time.
		m, err := it.Next(jetstream.NextMaxWait(max(wait, replayStall)))
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) {
				return nil, fmt.Errorf("replay %s: no telemetry for %s with %d of %d events read (did the stream's retention drop them?)", r.From, replayStall, read.Load(), total)
			}
			return nil, err
		}
		n := read.Add(1)
		if md, err := m.Metadata(); err == nil && md.NumPending == 0 || n >= total {
			last = true
		}
		return m, nil
	})
	close(ready)
	ok := <-done
	st := w.Stats()
	stats := ReplayStats{Read: int64(read.Load()), Applied: st.Applied, Malformed: st.Malformed, Skipped: st.Skipped, Windows: st.Windows}
	switch {
	case err != nil:
		return stats, err
	case !ok || ctx.Err() != nil:
		return stats, fmt.Errorf("replay %s: interrupted after %d of %d events: %w", r.From, read.Load(), total, cmp.Or(ctx.Err(), context.Canceled))
	}
	return stats, nil
}
