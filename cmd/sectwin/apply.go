package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/manifest"
)

// runApply sends a twin manifest to a running server's applyManifest mutation, kubectl-style:
// the server owns the write (one transaction) and announces the change to subscribers. The
// manifest is validated here first, so mistakes show with file and line without a round trip.
func runApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file string
	var prune, dryRun bool
	cfg, _, err := parse("apply", "sectwin apply -f twin.yaml [--prune] [--dry-run] [flags]", config.GroupCommon|config.GroupClient, args, stderr,
		func(fs *flag.FlagSet) {
			fs.StringVar(&file, "f", "", "manifest file to apply (- reads standard input); see docs/manifest.md")
			fs.BoolVar(&prune, "prune", false, "remove what this manifest declared before and no longer declares")
			fs.BoolVar(&dryRun, "dry-run", false, "validate on the server without writing")
		})
	if err != nil {
		return err
	}
	if file == "" {
		return usageError{errors.New("name the manifest with -f twin.yaml (examples/traffic-signals.yaml is one)")}
	}
	data, name, err := readManifest(file)
	if err != nil {
		return err
	}
	m, err := manifest.Parse(name, data)
	if err != nil {
		return problemsError(err)
	}
	token, err := clientToken(cfg)
	if err != nil {
		return err
	}
	mode := ""
	if dryRun {
		mode = " (dry run)"
	}
	fmt.Fprintf(stderr, "applying %s to twin %s at %s%s…\n", name, m.TwinName(), cfg.Client.Server, mode)
	var out struct {
		ApplyManifest struct {
			Twin, Source                             string
			NodesCreated, NodesUpdated, NodesDeleted int
			EdgesCreated, EdgesUpdated, EdgesDeleted int
			DryRun                                   bool
		}
	}
	err = callGraphQL(ctx, cfg.Client.Server, token, `mutation($in: ApplyManifestInput!) { applyManifest(input: $in) {
  twin source nodesCreated nodesUpdated nodesDeleted edgesCreated edgesUpdated edgesDeleted dryRun } }`,
		map[string]any{"in": map[string]any{"manifest": string(data), "filename": name, "prune": prune, "dryRun": dryRun}}, &out)
	if err != nil {
		return err
	}
	r := out.ApplyManifest
	if r.DryRun {
		_, err = fmt.Fprintf(stdout, "%s is valid for twin %s; nothing written (dry run)\n", name, r.Twin)
		return err
	}
	_, err = fmt.Fprintf(stdout, "applied %s to twin %s: nodes %d created, %d unchanged or updated, %d deleted; edges %d created, %d unchanged or updated, %d deleted\n",
		name, r.Twin, r.NodesCreated, r.NodesUpdated, r.NodesDeleted, r.EdgesCreated, r.EdgesUpdated, r.EdgesDeleted)
	return err
}

// maxManifestBytes matches the server's request cap, minus room for the JSON around it.
const maxManifestBytes = 1800 << 10

func readManifest(file string) ([]byte, string, error) {
	var r io.Reader
	name := file
	if file == "-" {
		r, name = os.Stdin, "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, "", fmt.Errorf("read manifest: %w", err)
		}
		defer f.Close()
		r, name = f, filepath.Base(file)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read manifest %s: %w", name, err)
	}
	if len(data) > maxManifestBytes {
		return nil, "", fmt.Errorf("manifest %s is over %d KiB; split it into several manifests with different metadata.name", name, maxManifestBytes>>10)
	}
	return data, name, nil
}

// problemsError prints one manifest problem per line.
func problemsError(err error) error {
	var me *manifest.Error
	if !errors.As(err, &me) {
		return err
	}
	lines := make([]string, len(me.Problems))
	for i, p := range me.Problems {
		lines[i] = fmt.Sprintf("  %s:%d:%d: %s: %s", p.File, p.Line, p.Column, p.Field, p.Message)
	}
	return fmt.Errorf("the manifest has %d problem(s); nothing was written:\n%s", len(me.Problems), strings.Join(lines, "\n"))
}

// clientToken is --token, or the dev admin token that 'make run' writes.
func clientToken(cfg *config.Config) (string, error) {
	if t := cfg.Client.Token.Reveal(); t != "" {
		return t, nil
	}
	path := filepath.Join(cfg.DataDir, "admin.token")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no API token: pass --token (or SECTWIN_TOKEN), or run the server with 'make run', which writes %s", path)
	}
	return strings.TrimSpace(string(b)), nil
}

// callGraphQL posts one operation and decodes its data into out. GraphQL errors become Go
// errors carrying their code and, for manifests, every problem.
func callGraphQL(ctx context.Context, server, token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(server, "/")+"/graphql", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("server URL %q: %w", server, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach sectwin at %s (%w): start it with 'make run', or point --server (SECTWIN_SERVER) at it", server, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code     string `json:"code"`
				Problems []struct {
					File         string
					Line, Column int
					Field        string
					Message      string
				} `json:"problems"`
			} `json:"extensions"`
		} `json:"errors"`
		Error *struct{ Code, Message string } `json:"error"` // REST-style errors (401, 503)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("HTTP %d from %s is not a GraphQL response: %.200s", resp.StatusCode, server, raw)
	}
	if res.Error != nil {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized {
			hint = "; check --token or <data-dir>/admin.token"
		}
		return fmt.Errorf("server refused: %s: %s%s", res.Error.Code, res.Error.Message, hint)
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		if len(e.Extensions.Problems) > 0 {
			lines := make([]string, len(e.Extensions.Problems))
			for i, p := range e.Extensions.Problems {
				lines[i] = fmt.Sprintf("  %s:%d:%d: %s: %s", p.File, p.Line, p.Column, p.Field, p.Message)
			}
			return fmt.Errorf("%s: nothing was written:\n%s", e.Extensions.Code, strings.Join(lines, "\n"))
		}
		return fmt.Errorf("%s: %s", e.Extensions.Code, e.Message)
	}
	return json.Unmarshal(res.Data, out)
}
