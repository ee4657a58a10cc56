package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/config"
)

const tokenUsage = `usage:
  sectwin token create --scope read,ingest --twin traffic [--name ci] [--ttl 720h]
  sectwin token list
  sectwin token revoke <token-id>`

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tokenUsage)
		return usageError{errors.New("token: say create, list or revoke")}
	}
	sub, args := args[0], args[1:]
	var scopes, twins, name string
	var ttl time.Duration
	var extra func(*flag.FlagSet)
	synopsis := "sectwin token " + sub + " [flags]"
	switch sub {
	case "create":
		extra = func(fs *flag.FlagSet) {
			fs.StringVar(&scopes, "scope", "", "comma-separated scopes: "+strings.Join(auth.ScopeStrings(auth.AllScopes()), ", "))
			fs.StringVar(&twins, "twin", "", "comma-separated twin names the token may see, or * for all")
			fs.StringVar(&name, "name", "", "a label for the token, shown by 'token list' (default: the scopes)")
			fs.DurationVar(&ttl, "ttl", 0, "lifetime, such as 720h; 0 never expires")
		}
	case "list":
	case "revoke":
		synopsis = "sectwin token revoke <token-id> [flags]"
	default:
		fmt.Fprintln(stderr, tokenUsage)
		return usageError{fmt.Errorf("token: unknown subcommand %q", sub)}
	}
	cfg, fs, err := parse("token "+sub, synopsis, config.GroupCommon|config.GroupNeo4j, args, stderr, extra)
	if err != nil {
		return err
	}

	// Validate everything the user typed before touching the database.
	var req auth.IssueRequest
	switch sub {
	case "create":
		if req.Scopes, err = auth.ParseScopes(scopes); err != nil {
			return usageError{fmt.Errorf("--scope: %w", err)}
		}
		if req.Twins, err = auth.ParseTwins(twins); err != nil {
			return usageError{fmt.Errorf("--twin: %w", err)}
		}
		req.Name, req.TTL = name, ttl
		if req.Name == "" {
			req.Name = strings.Join(auth.ScopeStrings(req.Scopes), "+")
		}
	case "revoke":
		if fs.NArg() != 1 {
			return usageError{errors.New("token revoke: give exactly one token id (see 'sectwin token list')")}
		}
	}

	db, _, err := connectGraph(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	tokens := graph.Tokens{DB: db}

	switch sub {
	case "create":
		secret, rec, err := auth.Issue(ctx, tokens, req, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created token %s (%s) scopes=%s twins=%s%s\nThis is the only time it is shown; store it now:\n",
			rec.ID, rec.Name, strings.Join(rec.Scopes, ","), strings.Join(rec.Twins, ","), expiry(rec.ExpiresAt))
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		toks, err := tokens.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tTWINS\tCREATED\tSTATE")
		for _, t := range toks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), strings.Join(t.Twins, ","),
				t.CreatedAt.Format(time.RFC3339), tokenState(t, time.Now()))
		}
		return tw.Flush()
	default: // revoke
		rec, err := tokens.Revoke(ctx, fs.Arg(0))
		if errors.Is(err, graph.ErrNotFound) {
			return fmt.Errorf("no token with id %q: see 'sectwin token list'", fs.Arg(0))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (%s); servers stop accepting it within --auth-cache-ttl\n", rec.ID, rec.Name)
		return nil
	}
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " expires=" + t.Format(time.RFC3339)
}

func tokenState(t graph.APIToken, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked " + t.RevokedAt.Format(time.RFC3339)
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	case !t.ExpiresAt.IsZero():
		return "live until " + t.ExpiresAt.Format(time.RFC3339)
	}
	return "live"
}
