// Command sectwin is the security digital twin: one binary with subcommands.
//
//	sectwin serve                 run the API server (GraphQL, health, metrics) with NATS embedded
//	sectwin migrate [--status]    apply the Cypher migrations, or list them
//	sectwin token create|list|revoke
//	sectwin apply -f twin.yaml [--prune] [--dry-run]
//	sectwin ingest FILE... [--twin T] [--wait]
//	sectwin worker                ingest workers alone, against a server's NATS
//	sectwin replay --twin T --into U [--since 2h] [--reset]
//	                              rebuild a twin's live state from the telemetry JetStream keeps
//	sectwin edge [check|budget|aggregate] --config F
//	                              the edge collector, its config check, its budget ledger, and
//	                              the regional aggregator of a cohort
//	sectwin version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/logging"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the API server: GraphQL, health, metrics, embedded NATS", runServe},
		{"migrate", "apply pending Cypher migrations (--status lists them)", runMigrate},
		{"token", "create, list or revoke API tokens", runToken},
		{"apply", "apply a declarative twin manifest (-f twin.yaml) through the server", runApply},
		{"ingest", "upload SBOMs and scan reports to a server (FILE... [--twin T] [--wait])", runIngest},
		{"worker", "run ingest workers alone, against a server's NATS", runWorker},
		{"edge", "the edge collector: run it, check its config, show its budget ledger (--config edge.yaml)", runEdge},
		{"replay", "rebuild a twin's live state from the telemetry JetStream keeps (--twin T --into U)", runReplay},
		{"report", "run an attack-path report on a server (attack-paths --twin T --format html|md|json --out F)", runReport},
		{"version", "print the version", func(_ context.Context, _ []string, out, _ io.Writer) error {
			_, err := fmt.Fprintln(out, "sectwin", version)
			return err
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sectwin:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks a mistake on the command line: exit status 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return usageError{errors.New("no command given")}
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return usageError{fmt.Errorf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sectwin <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sectwin <command> -h' for its settings. Every flag can also be set as SECTWIN_<FLAG>.")
}

// parse registers the groups' settings on a new flag set and loads flags and environment.
func parse(name, synopsis string, groups config.Groups, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config.Register(fs, groups)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = config.Usage(fs, synopsis)
	if err := cfg.Load(fs, args, os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageError{err}
	}
	return cfg, fs, nil
}

func newLogger(cfg *config.Config, w io.Writer) (zerolog.Logger, error) {
	return logging.New(w, cfg.Log.Level, cfg.Log.Format)
}

func openGraph(cfg *config.Config) (*graph.DB, error) {
	return graph.Open(graph.Config{
		URI:      cfg.Neo4j.URI,
		User:     cfg.Neo4j.User,
		Password: cfg.Neo4j.Password.Reveal(),
		Database: cfg.Neo4j.Database,
	})
}

// connectGraph builds a one-shot command's logger and opens Neo4j, waiting up to --neo4j-wait
// for it to answer. The caller closes the DB.
func connectGraph(ctx context.Context, cfg *config.Config, stderr io.Writer) (*graph.DB, zerolog.Logger, error) {
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return nil, log, err
	}
	db, err := openGraph(cfg)
	if err != nil {
		return nil, log, err
	}
	wctx, cancel := context.WithTimeout(ctx, cfg.Neo4jWaitTimeout)
	defer cancel()
	if err := db.WaitReady(wctx, log); err != nil {
		_ = db.Close(context.WithoutCancel(ctx))
		return nil, log, fmt.Errorf("%w\nIs Neo4j running at %s? Start one with 'scripts/neo4j-local.sh start' (or 'docker compose up neo4j'), or set SECTWIN_NEO4J_URI", err, cfg.Neo4j.URI)
	}
	return db, log, nil
}
