// Package attacks wires attack-path analysis into a server: the analyzer, kept fresh by twin
// change events, scheduled reports, their delivery and their announcement on NATS.
package attacks

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/analytics/attacktrace"
	"github.com/sectwin/sectwin/analytics/report"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/events"
)

// Service is attack-path analysis inside a server.
type Service struct {
	Analyzer *attackanalysis.Analyzer
	Reports  *attackanalysis.ReportService
	Events   events.NATS
}

// Start builds the service and runs its schedules and its change follower until ctx ends.
func Start(ctx context.Context, cfg config.Attack, b *bus.Bus, db *graph.DB, log zerolog.Logger) (*Service, error) {
	var schedules []report.Schedule
	if cfg.Schedules != "" {
		data, err := os.ReadFile(cfg.Schedules)
		if err != nil {
			return nil, fmt.Errorf("report schedules (--report-schedules): %w", err)
		}
		if schedules, err = report.ParseSchedules(data); err != nil {
			return nil, fmt.Errorf("report schedules in %s: %w", cfg.Schedules, err)
		}
	}
	ev := events.NATS{Bus: b, Log: log.With().Str("component", "events").Logger()}
	alog := log.With().Str("component", "attackpaths").Logger()
	an := attackanalysis.New(db, alog, attackanalysis.Options{MaxTwins: cfg.MaxTwins,
		Trace: attacktrace.Params{Window: cfg.TraceWindow, HalfLife: cfg.TraceHalfLife}})
	dl := report.NewDeliverer(nil, natsPublisher{b.Conn()}, alog, report.RetryOptions{Attempts: cfg.DeliveryAttempts})
	rp, err := attackanalysis.NewReporter(an, db, dl, func(ctx context.Context, run graph.ReportRun) {
		if err := ev.PublishReport(ctx, events.ReportReady{Twin: run.Twin, ID: run.ID}); err != nil {
			alog.Warn().Err(err).Str("report", run.ID).Msg("announce report")
		}
	}, alog)
	if err != nil {
		return nil, err
	}
	svc := attackanalysis.NewReportService(rp, db, schedules, alog)
	if err := svc.Start(ctx, cfg.ScheduleReload); err != nil {
		return nil, err
	}
	changes, err := ev.SubscribeAllChanges(ctx)
	if err != nil {
		return nil, err
	}
	classified := make(chan attackanalysis.TwinChange, 256)
	go func() {
		defer close(classified)
		for c := range changes {
			select {
			case classified <- attackanalysis.TwinChange{Twin: c.Twin, Kind: Classify(c)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go an.Follow(ctx, classified, attackanalysis.FollowOptions{Quiet: 500 * time.Millisecond})
	return &Service{Analyzer: an, Reports: svc, Events: ev}, nil
}

// Classify tells what a change event means for attack paths. The operations twin's telemetry
// windows and anomaly detections write alerts, anomalies, observed connections and observedAt
// stamps, which no attack rule reads: they only change the trace. A window with a deploy (it
// names the Artifact now running) rewires RUNS, which exploit rules read; a window whose event
// was truncated may hide one. Everything else is a model change.
func Classify(c events.Change) attackanalysis.ChangeKind {
	if c.Source != "telemetry" && c.Source != "anomaly" {
		return attackanalysis.ModelChanged
	}
	if c.Op != events.OpUpsert {
		return attackanalysis.ModelChanged
	}
	for _, n := range c.Nodes {
		if n.Label == graph.LabelArtifact {
			return attackanalysis.ModelChanged
		}
	}
	if c.Truncated && c.Source == "telemetry" {
		return attackanalysis.TelemetryChanged
	}
	return attackanalysis.ObservationsChanged
}

// natsPublisher adapts a NATS connection to report.Publisher.
type natsPublisher struct{ nc *nats.Conn }

func (p natsPublisher) Publish(ctx context.Context, subject string, data []byte, headers map[string]string) error {
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range headers {
		m.Header.Set(k, v)
	}
	if err := p.nc.PublishMsg(m); err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return p.nc.FlushWithContext(fctx)
}
