package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
)

// runWorker runs ingest workers alone, against the NATS of a running server (its embedded one
// by default, or --nats-url), so that ingest scales apart from the API.
func runWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, _, err := parse("worker", "sectwin worker [flags]", config.GroupCommon|config.GroupNeo4j|config.GroupNATS|config.GroupIngest, args, stderr, nil)
	if err != nil {
		return err
	}
	db, log, err := connectGraph(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	b, url, err := connectServerNATS(ctx, cfg, "sectwin-worker", log)
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx))
	ing, err := newIngestService(ctx, cfg, b, db, log)
	if err != nil {
		return err
	}
	n := max(cfg.Ingest.Workers, 1)
	if err := ing.startWorkers(ctx, b, n, cfg.Ingest.AckWait); err != nil {
		return err
	}
	log.Info().Int("workers", n).Str("nats", url).Msg("ingest workers running; Ctrl-C stops them after their current documents")
	<-ctx.Done()
	ing.stop()
	return nil
}

// connectServerNATS connects to the NATS of a running server: --nats-url, or else its embedded
// NATS on 127.0.0.1:--nats-port with the token it keeps in its data dir.
func connectServerNATS(ctx context.Context, cfg *config.Config, name string, log zerolog.Logger) (*bus.Bus, string, error) {
	url, token := cfg.NATS.URL, cfg.NATS.Token.Reveal()
	if url == "" {
		url = fmt.Sprintf("nats://127.0.0.1:%d", cfg.NATS.Port)
		if token == "" {
			b, err := os.ReadFile(filepath.Join(cfg.DataDir, "nats", "token"))
			if err != nil {
				return nil, "", fmt.Errorf("no NATS to work with: start 'sectwin serve' (it runs NATS embedded), or set --nats-url (SECTWIN_NATS_URL); reading its token: %w", err)
			}
			token = strings.TrimSpace(string(b))
		}
	}
	b, err := bus.Open(ctx, bus.Config{URL: url, Token: token, Name: name, Logger: log.With().Str("component", "nats").Logger()})
	if err != nil {
		return nil, "", fmt.Errorf("%w (is 'sectwin serve' running, or is --nats-url right?)", err)
	}
	return b, url, nil
}
