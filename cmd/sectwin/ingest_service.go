package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/edge"
	"github.com/sectwin/sectwin/ingest/formats"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/pipeline"
	"github.com/sectwin/sectwin/ingest/webhook"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/events"
)

// ingestMaxDeliver is how many attempts a request gets before it is dead-lettered. A worker
// waits out Neo4j outages without spending attempts.
const ingestMaxDeliver = 5

// ingestDurable is the one durable consumer every worker of every process shares; edgeDurable
// the same for edge collector releases.
const (
	ingestDurable = "ingest-workers"
	edgeDurable   = "edge-workers"
)

// ingestService is the ingest pipeline of one process: its webhook, and its workers.
type ingestService struct {
	pipeline *pipeline.Pipeline
	edge     *edge.Worker // stores what edge collectors release
	webhook  *webhook.Handler
	stops    []func()
}

func newIngestService(ctx context.Context, cfg *config.Config, b *bus.Bus, db *graph.DB, log zerolog.Logger) (*ingestService, error) {
	js, err := jobs.Open(ctx, b.JetStream())
	if err != nil {
		return nil, err
	}
	docs, err := pipeline.OpenDocs(ctx, b.JetStream())
	if err != nil {
		return nil, err
	}
	l := log.With().Str("component", "ingest").Logger()
	p := &pipeline.Pipeline{Bus: b, Jobs: js, Docs: docs, Graph: db, Parse: formats.Parse, Log: l,
		Announce: events.NATS{Bus: b, Log: l}, MaxDeliver: ingestMaxDeliver}
	var twins []string
	for _, t := range strings.Split(cfg.Ingest.HMACTwins, ",") {
		if t = strings.TrimSpace(t); t != "" {
			twins = append(twins, t)
		}
	}
	h := &webhook.Handler{Pipeline: p, Parse: formats.Parse, Graph: db, MaxBytes: cfg.Ingest.MaxBytes,
		HMACSecret: []byte(cfg.Ingest.HMACSecret.Reveal()), HMACTwins: twins,
		Policy: webhook.Policy{MaxNewCritical: cfg.Ingest.MaxNewCritical, FailOnKEV: cfg.Ingest.FailOnKEV}}
	e := &edge.Worker{Graph: db, Log: log.With().Str("component", "edge-ingest").Logger()}
	return &ingestService{pipeline: p, webhook: h, edge: e}, nil
}

// startWorkers runs n workers on the shared durable consumer.
func (s *ingestService) startWorkers(ctx context.Context, b *bus.Bus, n int, ackWait time.Duration) error {
	for range n {
		stop, err := b.Consume(ctx, bus.ConsumerSpec{
			Stream: bus.StreamIngest, Durable: ingestDurable, FilterSubject: bus.SubjectIngest + ".>",
			AckWait: ackWait, MaxDeliver: ingestMaxDeliver,
		}, s.pipeline.Handle)
		if err != nil {
			return fmt.Errorf("start ingest worker: %w", err)
		}
		s.stops = append(s.stops, stop)
		stop, err = b.Consume(ctx, bus.ConsumerSpec{
			Stream: bus.StreamEdge, Durable: edgeDurable, FilterSubject: bus.SubjectEdge + ".>",
			AckWait: ackWait, MaxDeliver: ingestMaxDeliver,
		}, s.edge.Handle)
		if err != nil {
			return fmt.Errorf("start edge ingest worker: %w", err)
		}
		s.stops = append(s.stops, stop)
	}
	return nil
}

// stop ends the workers, waiting for their in-flight documents.
func (s *ingestService) stop() {
	for _, stop := range s.stops {
		stop()
	}
}
