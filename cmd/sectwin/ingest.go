package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sectwin/sectwin/internal/config"
)

// runIngest uploads documents to a running server's POST /ingest, one after another, showing
// progress, and reports each job (and with --wait, its CI verdict).
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var twin, subject, format string
	var wait, replace bool
	var timeout time.Duration
	cfg, fs, err := parse("ingest", "sectwin ingest FILE... [--twin T] [--wait] [flags]", config.GroupCommon|config.GroupClient, args, stderr,
		func(fs *flag.FlagSet) {
			fs.StringVar(&twin, "twin", "", "twin to ingest into (a token for one twin may leave it out)")
			fs.StringVar(&subject, "subject", "", "the artifact the documents describe: a name, or a sha256: digest")
			fs.StringVar(&format, "format", "", "the documents' format when detection should not decide: cyclonedx, spdx, sarif, trivy, grype")
			fs.BoolVar(&replace, "replace", false, "supersede the subject's earlier document of the same format")
			fs.BoolVar(&wait, "wait", false, "wait for each job to end and print its CI verdict; exit 1 on FAILED or a FAIL verdict")
			fs.DurationVar(&timeout, "wait-timeout", 10*time.Minute, "how long --wait waits for one job")
		})
	if err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usageError{errors.New("name the documents to ingest: sectwin ingest sbom.cdx.json [more files]")}
	}
	token, err := clientToken(cfg)
	if err != nil {
		return err
	}
	failed := 0
	for _, f := range files {
		q := url.Values{}
		for k, v := range map[string]string{"twin": twin, "subject": subject, "format": format} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if replace {
			q.Set("replace", "true")
		}
		if wait {
			q.Set("wait", timeout.String())
		}
		res, err := upload(ctx, cfg.Client.Server, token, f, q, stderr)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", f, err)
			failed++
			continue
		}
		line := fmt.Sprintf("%s: job %s %s", f, res.Job.ID, res.Job.State)
		if res.Job.State == "DONE" {
			line += fmt.Sprintf(" (nodes %d created, %d updated; edges %d created, %d updated)",
				res.Job.Written.NodesCreated, res.Job.Written.NodesUpdated, res.Job.Written.EdgesCreated, res.Job.Written.EdgesUpdated)
		}
		for _, e := range res.Job.Errors {
			line += fmt.Sprintf("; %s %s", e.Location, e.Message)
		}
		if res.Verdict != nil {
			line += " verdict " + res.Verdict.Result
			if len(res.Verdict.Reasons) > 0 {
				line += ": " + strings.Join(res.Verdict.Reasons, "; ")
			}
			if res.Verdict.Result != "PASS" {
				failed++
			}
		}
		if res.Job.State == "FAILED" {
			failed++
		}
		fmt.Fprintln(stdout, line)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d documents failed or failed the gate", failed, len(files))
	}
	return nil
}

type ingestResponse struct {
	Job struct {
		ID, State string
		Written   struct{ NodesCreated, NodesUpdated, EdgesCreated, EdgesUpdated int }
		Errors    []struct{ Location, Message string }
	} `json:"job"`
	Verdict *struct {
		Result  string   `json:"result"`
		Reasons []string `json:"reasons"`
	} `json:"verdict"`
	Error *struct{ Code, Message string } `json:"error"`
}

// upload posts one file, reporting progress on progress.
func upload(ctx context.Context, server, token, file string, q url.Values, progress io.Writer) (*ingestResponse, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pr := &progressReader{r: f}
	done := make(chan struct{})
	var reporting sync.WaitGroup
	reporting.Go(func() { reportProgress(pr, st.Size(), filepath.Base(file), progress, done) })
	stop := func() { close(done); reporting.Wait() }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(server, "/")+"/ingest?"+q.Encode(), pr)
	if err != nil {
		stop()
		return nil, err
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	stop()
	if err != nil {
		return nil, fmt.Errorf("cannot reach sectwin at %s (%w): start it with 'make run', or point --server at it", server, err)
	}
	defer resp.Body.Close()
	var out ingestResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("HTTP %d with an unreadable body: %w", resp.StatusCode, err)
	}
	if out.Error != nil {
		return nil, fmt.Errorf("refused (HTTP %d %s): %s", resp.StatusCode, out.Error.Code, out.Error.Message)
	}
	return &out, nil
}

type progressReader struct {
	r    io.Reader
	read atomic.Int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read.Add(int64(n))
	return n, err
}

// reportProgress prints how much of a file is uploaded, every second, and once at the end.
func reportProgress(p *progressReader, size int64, name string, w io.Writer, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	print := func() {
		pct := 100.0
		if size > 0 {
			pct = 100 * float64(p.read.Load()) / float64(size)
		}
		fmt.Fprintf(w, "uploading %s: %3.0f%% of %.1f MiB\n", name, pct, float64(size)/(1<<20))
	}
	for {
		select {
		case <-done:
			print()
			return
		case <-t.C:
			print()
		}
	}
}
