package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/assuring"
	"github.com/sectwin/sectwin/internal/attacks"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/opstwin"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/migrations"
	"github.com/sectwin/sectwin/resolvers"
)

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, _, err := parse("serve", "sectwin serve [flags]", config.GroupCommon|config.GroupNeo4j|config.GroupNATS|config.GroupServer|config.GroupIngest, args, stderr, nil)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		return err
	}

	// Claim the HTTP port first, so a clash is reported before anything else starts.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("HTTP address %s is in use (another sectwin?): stop that process, or choose another address with --addr or SECTWIN_ADDR", cfg.Addr)
		}
		return fmt.Errorf("listen on %s (--addr, SECTWIN_ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close()

	b, err := bus.Open(ctx, bus.Config{
		URL:      cfg.NATS.URL,
		Token:    cfg.NATS.Token.Reveal(),
		StoreDir: filepath.Join(cfg.DataDir, "nats"),
		Port:     cfg.NATS.Port,
		Name:     "sectwin-serve",
		Logger:   log.With().Str("component", "nats").Logger(),
	})
	if err != nil {
		return err
	}
	db, err := openGraph(cfg)
	if err != nil {
		_ = b.Close(context.WithoutCancel(ctx))
		return err
	}

	ing, err := newIngestService(ctx, cfg, b, db, log)
	if err != nil {
		_ = b.Close(context.WithoutCancel(ctx))
		_ = db.Close(context.WithoutCancel(ctx))
		return err
	}
	defer ing.stop()

	atk, err := attacks.Start(ctx, cfg.Attack, b, db, log)
	if err != nil {
		return err
	}

	live := assuring.New(b, db, log)
	ops, err := opstwin.New(b, db, cfg.Ops, log)
	if err != nil {
		_ = b.Close(context.WithoutCancel(ctx))
		_ = db.Close(context.WithoutCancel(ctx))
		return err
	}
	ops.UseAssurance(live) // playbook defeaters are evaluated at once

	startup := &startupState{}
	migrator := &graph.Migrator{DB: db, Log: log.With().Str("component", "migrate").Logger()}
	authn := auth.NewAuthenticator(graph.Tokens{DB: db}, cfg.AuthCacheTTL)
	closing := make(chan struct{})
	handler := server.New(server.Options{
		Log:  log,
		Auth: authn,
		Resolver: &resolvers.Resolver{
			Version:       version,
			Neo4j:         db,
			Migrations:    migrator,
			Graph:         db,
			Changes:       events.NATS{Bus: b, Log: log.With().Str("component", "events").Logger()},
			Jobs:          ing.pipeline.Jobs,
			Attacks:       atk.Analyzer,
			ReportService: atk.Reports,
			ReportBus:     atk.Events,
			Assurance:     live,
			StatusBus:     events.NATS{Bus: b, Log: log.With().Str("component", "events").Logger()},
			AlertBus:      ops.Events,
		},
		Checks: []server.Check{
			{Name: "neo4j", Fn: db.Ping},
			{Name: "nats", Fn: b.Check},
			{Name: "migrations", Fn: startup.check},
		},
		Ingest:        ing.webhook,
		Telemetry:     ops.Hook,
		GraphiQL:      cfg.GraphiQL,
		MaxDepth:      cfg.GraphQLMaxDepth,
		MaxAliases:    cfg.GraphQLMaxAlias,
		MaxComplexity: cfg.GraphQLMaxComplx,
		Closing:       closing,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	// A fatal start-up problem (an edited migration) stops the server through fatal.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Str("neo4j", cfg.Neo4j.URI).Str("nats", natsDesc(cfg, b)).
		Bool("dev", cfg.Dev).Str("version", version).Msg("sectwin serving; /readyz turns 200 once Neo4j answers and migrations are applied")
	if cfg.GraphiQL {
		log.Info().Msgf("GraphiQL at http://%s/", displayAddr(ln.Addr()))
	}

	var bootDone sync.WaitGroup
	bootDone.Go(func() {
		if err := bootstrap(runCtx, cfg, db, migrator, migs, startup, log); err != nil {
			if runCtx.Err() == nil {
				cancel(err)
			}
			return
		}
		// Workers start once the migrations (and their constraints) are in place.
		if err := ing.startWorkers(runCtx, b, cfg.Ingest.Workers, cfg.Ingest.AckWait); err != nil {
			cancel(err)
			return
		}
		if err := ops.Start(runCtx); err != nil {
			cancel(fmt.Errorf("start the operations twin: %w", err))
			return
		}
		// Every stored case is evaluated, then kept current by change events and expiries.
		if err := assuring.Start(runCtx, live, b, log, true); err != nil && runCtx.Err() == nil {
			cancel(fmt.Errorf("start assurance evaluation: %w", err))
		}
	})

	var runErr error
	select {
	case <-runCtx.Done():
		if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
			runErr = cause
		}
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	log.Info().Msg("shutting down: finishing in-flight requests")
	cancel(nil)
	bootDone.Wait()
	ops.Wait()  // the live-state worker commits or drops its window before the graph closes
	live.Wait() // and live assurance evaluation stores what it evaluated

	// In-flight requests finish (up to the grace period), websockets end, NATS drains, then the
	// Neo4j driver closes.
	shutCtx, shutCancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer shutCancel()
	close(closing)
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn().Err(err).Msg("http shutdown incomplete; closing remaining connections")
		_ = srv.Close()
	}
	if err := b.Close(shutCtx); err != nil {
		log.Warn().Err(err).Msg("nats drain incomplete")
	}
	if err := db.Close(shutCtx); err != nil {
		log.Warn().Err(err).Msg("neo4j driver close")
	}
	log.Info().Msg("stopped")
	return runErr
}

// bootstrap waits for Neo4j, applies migrations and, in dev mode, makes sure an admin token
// exists. Transient failures are retried; an edited migration is fatal.
func bootstrap(ctx context.Context, cfg *config.Config, db *graph.DB, m *graph.Migrator, migs []graph.Migration, st *startupState, log zerolog.Logger) error {
	delay := time.Second
	for {
		err := bootstrapOnce(ctx, cfg, db, m, migs, log)
		if err == nil {
			st.set(nil)
			return nil
		}
		st.set(err)
		if errors.Is(err, graph.ErrChecksumMismatch) {
			log.Error().Err(err).Msg("refusing to start: a migration was edited after it was applied")
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn().Err(err).Dur("retry_in", delay).Msg("start-up step failed; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

func bootstrapOnce(ctx context.Context, cfg *config.Config, db *graph.DB, m *graph.Migrator, migs []graph.Migration, log zerolog.Logger) error {
	if err := db.WaitReady(ctx, log); err != nil {
		return err
	}
	if cfg.MigrateOnStart {
		res, err := m.Apply(ctx, migs)
		if err != nil {
			return err
		}
		log.Info().Int("applied", len(res.Applied)).Int("already", res.Current).Msg("migrations up to date")
	}
	if cfg.Dev {
		path := filepath.Join(cfg.DataDir, "admin.token")
		created, err := auth.EnsureAdminToken(ctx, graph.Tokens{DB: db}, path)
		if err != nil {
			return err
		}
		msg := "dev admin token ready"
		if created {
			msg = "dev admin token created"
		}
		log.Info().Str("path", path).Msg(msg + `: curl -H "Authorization: Bearer $(cat ` + path + `)" ...`)
	}
	return nil
}

// startupState is the "migrations" readiness check: failing until bootstrap succeeds.
type startupState struct {
	mu   sync.Mutex
	done bool
	err  error
}

func (s *startupState) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done, s.err = err == nil, err
}

func (s *startupState) check(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.done:
		return nil
	case s.err != nil:
		return fmt.Errorf("start-up not complete: %w", s.err)
	}
	return errors.New("start-up not complete: waiting for Neo4j")
}

func natsDesc(cfg *config.Config, b *bus.Bus) string {
	if cfg.NATS.URL != "" {
		return "external"
	}
	if u := b.ClientURL(); u != "" {
		return "embedded " + u
	}
	return "embedded (in-process only)"
}

func displayAddr(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
