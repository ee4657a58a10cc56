// Package assuring wires live assurance evaluation into a server: the evaluator of every case
// (analytics/assurancecase.Live) over the twin in Neo4j, fed by the twin change events on NATS
// and announcing status changes there.
package assuring

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
)

// New returns the live evaluator of a server; Start runs it.
func New(b *bus.Bus, db *graph.DB, log zerolog.Logger) *assurancecase.Live {
	ev := events.NATS{Bus: b, Log: log.With().Str("component", "events").Logger()}
	return assurancecase.NewLive(db, assurancecase.TwinEvidence{DB: db}, ev, log.With().Str("component", "assurance").Logger(), assurancecase.LiveOptions{})
}

// Start follows twin changes and sweeps evidence expiries until ctx ends. With loadAll it first
// evaluates every stored case; otherwise only the cases imported or read through this server.
func Start(ctx context.Context, live *assurancecase.Live, b *bus.Bus, log zerolog.Logger, loadAll bool) error {
	ev := events.NATS{Bus: b, Log: log.With().Str("component", "events").Logger()}
	changes, err := ev.Follow(ctx)
	if err != nil {
		return err
	}
	return live.Start(ctx, changes, loadAll)
}
