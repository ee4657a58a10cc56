package attackanalysis

import (
	"context"
	"time"
)

// ChangeKind says what a change event means for a twin's attack graph.
type ChangeKind int

const (
	// ModelChanged: the twin model changed; the attack graph is derived again.
	ModelChanged ChangeKind = iota
	// ObservationsChanged: only alerts or anomalies changed; the trace is read again, the
	// attack graph is not derived.
	ObservationsChanged
	// TelemetryChanged: observations changed, and the event may not list everything the
	// window wrote (it was truncated), so a deploy could hide in it: the trace is read again
	// at once and the graph derived again at most once per FollowOptions.TelemetryDerive.
	TelemetryChanged
)

// TwinChange is one change event as Follow reads it.
type TwinChange struct {
	Twin string
	Kind ChangeKind
}

// FollowOptions pace Follow; zero fields take the defaults.
type FollowOptions struct {
	// Quiet is how long model changes must pause before a twin is derived again (default
	// 500 ms): a burst of writes costs one derivation.
	Quiet time.Duration
	// TraceDelay is the longest a new observation waits before the trace is read again
	// (default 1 s). It throttles rather than debounces: a steady stream of telemetry windows
	// costs one read per TraceDelay per twin, and still reaches the paths.
	TraceDelay time.Duration
	// TelemetryDerive bounds how often truncated telemetry events derive a twin again
	// (default 1 min).
	TelemetryDerive time.Duration
}

func (o FollowOptions) withDefaults() FollowOptions {
	if o.Quiet <= 0 {
		o.Quiet = 500 * time.Millisecond
	}
	if o.TraceDelay <= 0 {
		o.TraceDelay = time.Second
	}
	if o.TelemetryDerive <= 0 {
		o.TelemetryDerive = time.Minute
	}
	return o
}

// Follow keeps snapshots fresh as their twins change, until changes closes or ctx ends.
//
// A model change marks the twin's snapshot stale at once, so no question is answered from a
// graph older than a change it could have seen; twins already analysed are then re-derived
// eagerly after a quiet period, the rest on their first question. An observation (a new alert
// or anomaly) marks only the trace stale, which the next question, or Follow within
// TraceDelay, reads again onto the derived graph without deriving it.
func (a *Analyzer) Follow(ctx context.Context, changes <-chan TwinChange, opt FollowOptions) {
	opt = opt.withDefaults()
	pending := map[string]bool{}   // derive again
	traced := map[string]bool{}    // read observations again
	telemetry := map[string]bool{} // derive again at the next telemetry tick
	derive := time.NewTimer(opt.Quiet)
	derive.Stop()
	trace := time.NewTimer(opt.TraceDelay)
	trace.Stop()
	traceArmed := false
	tick := time.NewTicker(opt.TelemetryDerive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			switch c.Kind {
			case ModelChanged:
				if a.Invalidate(c.Twin) {
					pending[c.Twin] = true
					derive.Reset(opt.Quiet)
				}
				continue
			case TelemetryChanged:
				telemetry[c.Twin] = true
			}
			if a.InvalidateTrace(c.Twin) {
				traced[c.Twin] = true
				if !traceArmed {
					traceArmed = true
					trace.Reset(opt.TraceDelay)
				}
			}
		case <-derive.C:
			for twin := range pending {
				a.refreshQuietly(ctx, twin)
			}
			clear(pending)
		case <-trace.C:
			traceArmed = false
			for twin := range traced {
				a.refreshQuietly(ctx, twin)
			}
			clear(traced)
		case <-tick.C:
			for twin := range telemetry {
				if a.Invalidate(twin) {
					a.refreshQuietly(ctx, twin)
				}
			}
			clear(telemetry)
		}
	}
}

func (a *Analyzer) refreshQuietly(ctx context.Context, twin string) {
	if _, err := a.Snapshot(ctx, twin); err != nil && ctx.Err() == nil {
		a.log.Warn().Err(err).Str("twin", twin).Msg("attack graph refresh failed; the next question retries")
	}
}
