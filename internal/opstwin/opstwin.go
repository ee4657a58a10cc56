// Package opstwin wires the operations twin into a server: the live-state worker reading the
// TELEMETRY stream into the graph, the detectors watching each window (analytics/opswatch),
// the response playbooks (analytics/response) acting on alerts, anomalies and assurance status
// changes, and the POST /telemetry endpoint.
package opstwin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/opswatch"
	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/livestate"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/ingest/telemetryhook"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/events"
)

// Service is the operations twin inside a server.
type Service struct {
	Worker *livestate.Worker
	Hook   *telemetryhook.Handler
	Events events.NATS
	// Playbooks is nil when none are configured.
	Playbooks *response.Engine
	running   sync.WaitGroup
	cases     *caseEditor
	log       zerolog.Logger
}

// New builds the service; Start runs it. A playbook file that does not load refuses the start,
// naming each problem.
func New(b *bus.Bus, db *graph.DB, cfg config.Ops, log zerolog.Logger) (*Service, error) {
	ev := events.NATS{Bus: b, Log: log.With().Str("component", "events").Logger()}
	s := &Service{Hook: &telemetryhook.Handler{Bus: b}, Events: ev, log: log.With().Str("component", "opstwin").Logger(),
		cases: &caseEditor{db: db, ev: ev, log: log.With().Str("component", "playbooks").Logger()}}
	var react opswatch.Reactor
	if cfg.Playbooks != "" {
		set, err := response.Load(cfg.Playbooks)
		if err != nil {
			return nil, fmt.Errorf("playbooks (--playbooks %s): %w", cfg.Playbooks, err)
		}
		plog := log.With().Str("component", "playbooks").Logger()
		eng, err := response.New(set, executor{db: db, bus: b, ev: ev, poster: &response.WebhookPoster{}, cases: s.cases}, auditor{db: db, log: plog},
			response.Options{DryRun: cfg.DryRun})
		if err != nil {
			return nil, err
		}
		s.Playbooks, react = eng, eng
		s.log.Info().Strs("playbooks", set.Names()).Bool("dry_run", cfg.DryRun).Msg("response playbooks loaded")
	}
	live := graph.NewLiveState(db)
	s.Worker = &livestate.Worker{Bus: b, Store: live, Decode: telemetry.DecodeFor, Announce: ev,
		Observe: opswatch.New(watchStore{DB: db, live: live}, ev, react, log.With().Str("component", "opswatch").Logger()),
		Log:     log.With().Str("component", "livestate").Logger()}
	return s, nil
}

// statusConsumer is the durable consumer through which the replicas share the assurance status
// changes that trigger playbooks.
const statusConsumer = "playbooks-status"

// Start runs the live-state worker, and feeds assurance status changes to the playbooks, until
// ctx ends. Call it once the migrations are applied.
func (s *Service) Start(ctx context.Context) error {
	if s.Playbooks != nil {
		// Shared by the replicas: each status change triggers the playbooks on one of them.
		err := s.Events.ConsumeAllStatus(ctx, statusConsumer, func(ctx context.Context, c events.StatusChanged) {
			if c.From == c.To {
				return
			}
			s.Playbooks.Run(ctx, response.Trigger{ID: c.Twin + "/" + c.Case + "/" + c.Element + "/" + c.At.Format(time.RFC3339Nano),
				Kind: response.KindStatusChange, At: c.At, Twin: c.Twin, Entity: c.Element, Type: c.Kind, Status: c.To, Previous: c.From,
				Fields: map[string]any{"case": c.Case, "reasons": string(c.Reasons)}})
		})
		if err != nil {
			return err
		}
		s.running.Go(func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = s.Playbooks.Shutdown(sctx)
		})
	}
	s.running.Go(func() {
		if err := s.Worker.Run(ctx); err != nil {
			s.log.Error().Err(err).Msg("live-state worker stopped")
		}
		if w, ok := s.Worker.Observe.(interface{ Wait() }); ok {
			w.Wait()
		}
	})
	return nil
}

// Wait returns once the live-state worker, the detectors' background work and the playbooks'
// actions in hand have stopped
// (after the context given to Start ended): a server calls it before it closes the graph.
func (s *Service) Wait() { s.running.Wait() }

// watchStore is what the detectors write through: the graph, with anomalies' entities resolved
// (by a host's name or address) through the live state's cached topology.
type watchStore struct {
	*graph.DB
	live *graph.LiveState
}

func (s watchStore) RecordAnomalies(ctx context.Context, twin string, rows []graph.AnomalyRow) ([]string, error) {
	return s.live.RecordAnomalies(ctx, twin, rows)
}
