package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sectwin/sectwin/internal/config"
)

// runReport runs an attack-path report on a running server and writes it: the server derives
// the twin's attack graph afresh, stores the run as a Report node (so the next run diffs against
// it) and announces it on reportReady.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "attack-paths" {
		return usageError{errors.New("usage: sectwin report attack-paths --twin T [--format html|md|json] [--out FILE] [--schedule NAME]")}
	}
	var twin, format, out, schedule string
	cfg, _, err := parse("report attack-paths", "sectwin report attack-paths --twin T [--format html|md|json] [--out FILE] [flags]",
		config.GroupCommon|config.GroupClient, args[1:], stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&twin, "twin", "", "the twin to report on")
			fs.StringVar(&format, "format", "html", "html (self-contained), md or json")
			fs.StringVar(&out, "out", "", "file to write; empty writes standard output")
			fs.StringVar(&schedule, "schedule", "", "run with this schedule's settings and deliver to its targets")
		})
	if err != nil {
		return err
	}
	if twin == "" {
		return usageError{errors.New("name the twin with --twin")}
	}
	gqlFormat, ok := map[string]string{"html": "HTML", "md": "MARKDOWN", "markdown": "MARKDOWN", "json": "JSON"}[strings.ToLower(format)]
	if !ok {
		return usageError{fmt.Errorf("--format %q is not one of html, md, json", format)}
	}
	token, err := clientToken(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "running the attack-path report of twin %s at %s…\n", twin, cfg.Client.Server)
	start := time.Now()
	var res struct {
		RunAttackPathReport struct {
			ID, Severity, Status           string
			Paths, NewPaths, ResolvedPaths int
			ExposurePct                    float64
			Content                        string
		}
	}
	var sched any
	if schedule != "" {
		sched = schedule
	}
	err = callGraphQL(ctx, cfg.Client.Server, token, `mutation($t: String!, $s: String, $f: ReportFormat!) {
  runAttackPathReport(twin: $t, schedule: $s) { id severity status paths newPaths resolvedPaths exposurePct content(format: $f) } }`,
		map[string]any{"t": twin, "s": sched, "f": gqlFormat}, &res)
	if err != nil {
		return err
	}
	r := res.RunAttackPathReport
	w := stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		defer f.Close()
		w = f
	}
	if _, err := io.WriteString(w, r.Content); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	where := "standard output"
	if out != "" {
		where = out
	}
	fmt.Fprintf(stderr, "report %s: %d paths (%d new, %d resolved), exposure %.0f%% %s, %s; wrote %s in %s\n",
		r.ID, r.Paths, r.NewPaths, r.ResolvedPaths, r.ExposurePct, r.Severity, strings.ToLower(r.Status), where, time.Since(start).Round(time.Millisecond))
	return nil
}
