package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/livestate"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/config"
)

// runReplay rebuilds a twin's live state from the telemetry JetStream keeps, into another twin
// that has the same design (livestate.Replay).
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from, into, since string
	var reset bool
	cfg, _, err := parse("replay", "sectwin replay --twin T --into U [--since 2h|RFC3339] [--reset] [flags]",
		config.GroupCommon|config.GroupNeo4j|config.GroupNATS, args, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&from, "twin", "", "the twin whose telemetry is replayed (required)")
			fs.StringVar(&into, "into", "", "the twin that receives the live state: it must exist, with the same design, and have no live state yet (required)")
			fs.StringVar(&since, "since", "", "replay only what was stored since then: a duration back from now (2h) or an RFC 3339 time; empty: all that the stream keeps")
			fs.BoolVar(&reset, "reset", false, "delete the --into twin's live state first (connections, alerts, unknown endpoints, cursors)")
		})
	if err != nil {
		return err
	}
	if from == "" || into == "" {
		return usageError{errors.New("replay: --twin and --into are required (replaying into the twin itself would count the events the server applies meanwhile twice; replay into a copy of its design)")}
	}
	if from == into {
		return usageError{errors.New("replay: --into must be another twin than --twin")}
	}
	var start time.Time
	if since != "" {
		if d, err := time.ParseDuration(since); err == nil && d > 0 {
			start = time.Now().Add(-d)
		} else if start, err = time.Parse(time.RFC3339, since); err != nil {
			return usageError{fmt.Errorf("replay: --since %q is neither a duration (2h) nor an RFC 3339 time", since)}
		}
	}
	db, log, err := connectGraph(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if ok, err := (graph.Twins{DB: db}).Exists(ctx, into); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("replay: twin %s does not exist: create it with the design of %s first (sectwin apply -f)", into, from)
	}
	if reset {
		n, err := db.ClearLiveState(ctx, into)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "replay: deleted %d nodes and connections of %s's live state\n", n, into)
	} else if has, err := db.HasLiveState(ctx, into); err != nil {
		return err
	} else if has {
		return fmt.Errorf("replay: twin %s already has live state; add --reset to delete it first", into)
	}
	b, _, err := connectServerNATS(ctx, cfg, "sectwin-replay", log)
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx))
	t0 := time.Now()
	lastShown := time.Time{}
	r := &livestate.Replay{Bus: b, Store: graph.NewLiveState(db), Decode: telemetry.DecodeFor, Log: log, From: from, Into: into, Since: start,
		Progress: func(read, total uint64) {
			if time.Since(lastShown) >= time.Second || read == total {
				lastShown = time.Now()
				fmt.Fprintf(stderr, "replay: %d of %d events (%.0f%%), %s\n", read, total, 100*float64(read)/float64(total), time.Since(t0).Round(time.Second))
			}
		}}
	st, err := r.Run(ctx)
	if err != nil {
		return err
	}
	took := time.Since(t0)
	fmt.Fprintf(stdout, "replayed %d events of %s into %s in %s (%.0f events/s): %d applied, %d malformed (skipped: dead-lettered when first received), %d windows\n",
		st.Read, from, into, took.Round(time.Millisecond), float64(st.Read)/max(took.Seconds(), 1e-9), st.Applied, st.Malformed, st.Windows)
	return nil
}
