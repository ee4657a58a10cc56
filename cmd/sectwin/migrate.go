package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/migrations"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var status bool
	cfg, _, err := parse("migrate", "sectwin migrate [--status] [flags]", config.GroupCommon|config.GroupNeo4j, args, stderr,
		func(fs *flag.FlagSet) {
			fs.BoolVar(&status, "status", false, "list applied and pending migrations; change nothing")
		})
	if err != nil {
		return err
	}
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		return err
	}
	db, log, err := connectGraph(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	m := &graph.Migrator{DB: db, Log: log}

	if status {
		applied, err := m.Applied(ctx)
		if err != nil {
			return err
		}
		return printStatus(stdout, migs, applied)
	}
	start := time.Now()
	res, err := m.Apply(ctx, migs)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, a := range res.Applied {
		fmt.Fprintf(stdout, "applied %s (%d statements)\n", a.Name, len(a.Statements))
	}
	fmt.Fprintf(stdout, "migrations: %d applied now, %d already applied, %d known (%s)\n",
		len(res.Applied), res.Current, len(migs), time.Since(start).Round(time.Millisecond))
	return nil
}

func printStatus(w io.Writer, migs []graph.Migration, applied []graph.AppliedMigration) error {
	byVersion := map[int]graph.AppliedMigration{}
	for _, a := range applied {
		byVersion[a.Version] = a
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
	for _, m := range migs {
		a, ok := byVersion[m.Version]
		switch {
		case !ok:
			fmt.Fprintf(tw, "%04d\t%s\tpending\t\n", m.Version, m.Name)
		case a.Checksum != m.Checksum:
			fmt.Fprintf(tw, "%04d\t%s\tEDITED AFTER APPLY\t%s\n", m.Version, m.Name, a.AppliedAt.Format(time.RFC3339))
		default:
			fmt.Fprintf(tw, "%04d\t%s\tapplied\t%s\n", m.Version, m.Name, a.AppliedAt.Format(time.RFC3339))
		}
	}
	return tw.Flush()
}
