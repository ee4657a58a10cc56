package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/sectwin/sectwin/edge/aggregator"
	"github.com/sectwin/sectwin/edge/budget"
	"github.com/sectwin/sectwin/edge/collector"
	"github.com/sectwin/sectwin/edge/transform"
	"github.com/sectwin/sectwin/internal/logging"
)

const edgeUsage = `usage:
  sectwin edge --config edge.yaml          run the collector (logs on stderr; stdout outputs on stdout)
  sectwin edge check --config edge.yaml    validate a config and print every problem with its line
  sectwin edge budget --config edge.yaml   show the privacy budget ledger and verify its hash chain
                      [--ledger FILE]      (or name the ledger file directly)
  sectwin edge aggregate --config aggregate.yaml
                                           the regional aggregator of a cohort's secure aggregation

docs/edge.md describes the config.`

// runEdge is `sectwin edge`: the edge collector and its tools. It reads no sectwin server
// settings: an edge site has only its edge.yaml.
func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := "run"
	if len(args) > 0 && (args[0] == "check" || args[0] == "budget" || args[0] == "run" || args[0] == "aggregate") {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("edge "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "the collector's edge.yaml")
	ledgerPath := fs.String("ledger", "", "budget: the ledger file (default: the config's ledger)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "console", "console or json (logs go to stderr)")
	fs.Usage = func() { fmt.Fprintln(stderr, edgeUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("edge %s: unexpected argument %q", sub, fs.Arg(0))}
	}
	if sub == "budget" && *configPath == "" && *ledgerPath != "" {
		return edgeBudget(ctx, *ledgerPath, stdout)
	}
	if *configPath == "" {
		fs.Usage()
		return usageError{errors.New("edge: --config is required")}
	}
	data, err := os.ReadFile(*configPath)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	if sub == "aggregate" {
		return edgeAggregate(ctx, *configPath, data, *logLevel, *logFormat, stdout, stderr)
	}
	var keys transform.Keys = transform.EnvFileKeys{}
	if sub == "budget" {
		keys = noKeys{} // reading the ledger needs no pseudonymisation key
	}
	cfg, plans, err := collector.Parse(*configPath, data, keys)
	if err != nil {
		var ce *collector.ConfigError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				fmt.Fprintln(stderr, p.String())
			}
			return fmt.Errorf("edge: %d problem(s) in %s", len(ce.Problems), *configPath)
		}
		return fmt.Errorf("edge: %w", err)
	}
	switch sub {
	case "check":
		_, err := fmt.Fprintf(stdout, "%s: ok (%d inputs, %d outputs, %d pipelines; config hash %s)\n",
			*configPath, len(cfg.Inputs), len(cfg.Outputs), len(cfg.Pipelines), cfg.Hash()[:16])
		return err
	case "budget":
		path := *ledgerPath
		if path == "" {
			path = cfg.Ledger
		}
		if path == "" {
			return usageError{errors.New("edge budget: the config has no ledger; pass --ledger FILE")}
		}
		return edgeBudget(ctx, path, stdout)
	}
	log, err := logging.New(stderr, *logLevel, *logFormat)
	if err != nil {
		return usageError{err}
	}
	log = log.With().Str("site", cfg.Site).Str("twin", cfg.Twin).Logger()
	c, err := collector.New(ctx, cfg, plans, collector.Options{Stdout: stdout, Log: log})
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	log.Info().Str("config", *configPath).Str("config_hash", cfg.Hash()[:16]).Int("inputs", len(cfg.Inputs)).Msg("edge collector started")
	runErr := c.Run(ctx)
	closeErr := c.Close(context.WithoutCancel(ctx))
	if runErr != nil {
		return fmt.Errorf("edge: %w", runErr)
	}
	return closeErr
}

// edgeBudget prints the ledger's budgets and verifies its chain.
func edgeBudget(ctx context.Context, path string, stdout io.Writer) error {
	sum, entries, err := budget.Verify(ctx, path)
	if err != nil {
		return fmt.Errorf("edge budget: %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "ledger %s: %d entries, chain verified (head %s)\n", path, len(entries), sum.Head)
	for _, w := range sum.Warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tUNIT\tGUARANTEE\tCAP ε\tSPENT ε\tREMAINING ε\tLIFETIME ε\tWINDOWS\tRESERVATIONS\tCOMMITTED\tUNCOMMITTED")
	for _, b := range sum.Budgets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", b.Policy.Stream, b.Policy.Unit, b.Policy.Guarantee, b.Policy.Cap,
			b.Spent, b.Remaining, b.Lifetime, b.Windows, b.Reservations, b.Committed, b.Uncommitted)
	}
	return tw.Flush()
}

// noKeys stands in for the pseudonymisation keys when only the config's shape matters.
type noKeys struct{}

func (noKeys) Load(string) (transform.Secret, error) {
	return transform.NewSecret([]byte("not a key: the budget command pseudonymises nothing")), nil
}

// edgeAggregate runs the regional aggregator.
func edgeAggregate(ctx context.Context, path string, data []byte, level, format string, stdout, stderr io.Writer) error {
	cfg, err := aggregator.Parse(path, data)
	if err != nil {
		return fmt.Errorf("edge aggregate: %w", err)
	}
	log, err := logging.New(stderr, level, format)
	if err != nil {
		return usageError{err}
	}
	a, err := aggregator.New(ctx, cfg, stdout, log.With().Str("site", cfg.Site).Logger())
	if err != nil {
		return fmt.Errorf("edge aggregate: %w", err)
	}
	defer a.Close()
	log.Info().Str("config", path).Int("pipelines", len(cfg.Pipelines)).Msg("edge aggregator started")
	return a.Run(ctx)
}
