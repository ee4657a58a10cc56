package attackanalysis

import (
	"context"
	"time"
)

// Follow keeps snapshots fresh as their twins change, until changed closes or ctx ends. Each
// change marks the twin's snapshot stale at once, so no question is answered from a graph older
// than a change it could have seen; twins already analysed are then re-derived eagerly after a
// quiet period (a burst of writes costs one derivation), the rest on their first question.
func (a *Analyzer) Follow(ctx context.Context, changed <-chan string, quiet time.Duration) {
	pending := map[string]bool{}
	timer := time.NewTimer(quiet)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case twin, ok := <-changed:
			if !ok {
				return
			}
			if a.Invalidate(twin) {
				pending[twin] = true
				timer.Reset(quiet)
			}
		case <-timer.C:
			for twin := range pending {
				if _, err := a.Snapshot(ctx, twin); err != nil && ctx.Err() == nil {
					a.log.Warn().Err(err).Str("twin", twin).Msg("attack graph refresh failed; the next question retries")
				}
			}
			clear(pending)
		}
	}
}
