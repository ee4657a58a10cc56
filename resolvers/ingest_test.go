package resolvers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestIngestJobsOverGraphQL(t *testing.T) {
	db := testenv.Migrated(t)
	b := testenv.NATS(t)
	api := apitest.Start(t, db, b, apitest.Options{Log: testenv.Logger(t)})
	mine, other := testenv.RandomName("t"), testenv.RandomName("t")
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead}, mine)
	store, err := jobs.Open(t.Context(), b.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sub, err := api.Subscribe(ctx, token, `subscription($t: String!) { ingestJobUpdated(twin: $t) { id state format warnings { location message } } }`, map[string]any{"t": mine})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// The subscription starts listening asynchronously: keep updating until an event arrives.
	if _, _, err := store.Create(ctx, jobs.Job{ID: "jother", Twin: other, Format: "spdx"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Create(ctx, jobs.Job{ID: "jmine", Twin: mine, Format: "cyclonedx"}); err != nil {
		t.Fatal(err)
	}
	// Events arrive in order but the subscription may see the job's creation
	// first: read every event, none may name the other twin's job, and stop
	// at the update to PARSING.
	got := make(chan apitest.Response, 16)
	go func() {
		defer close(got)
		for {
			r, err := sub.Next(ctx)
			if err != nil {
				return
			}
			got <- r
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	update := func() {
		if _, err := store.Update(ctx, "jother", func(j *jobs.Job) { j.Attempts++ }); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Update(ctx, "jmine", func(j *jobs.Job) { j.State = jobs.Parsing }); err != nil {
			t.Fatal(err)
		}
	}
	update()
	for parsing := false; !parsing; {
		select {
		case r, ok := <-got:
			if !ok {
				t.Fatal("subscription ended before the PARSING event")
			}
			if !strings.Contains(string(r.Data), `"id":"jmine"`) {
				t.Fatalf("event of another job: %s %+v", r.Data, r.Errors)
			}
			parsing = strings.Contains(string(r.Data), `"state":"PARSING"`)
		case <-tick.C:
			update()
		case <-ctx.Done():
			t.Fatal("no ingestJobUpdated event")
		}
	}
	var out struct {
		IngestJob  *struct{ ID, State, Format string }
		IngestJobs []struct{ ID string }
	}
	api.MustData(t, token, `query($t: String!) { ingestJob(id: "jmine") { id state format } ingestJobs(twin: $t) { id } }`, map[string]any{"t": mine}, &out)
	if out.IngestJob == nil || out.IngestJob.Format != "cyclonedx" || len(out.IngestJobs) != 1 || out.IngestJobs[0].ID != "jmine" {
		t.Fatalf("queries: %+v", out)
	}
	// Another twin's job is invisible, and looks like no job at all.
	var hidden struct{ IngestJob *struct{ ID string } }
	api.MustData(t, token, `{ ingestJob(id: "jother") { id } }`, nil, &hidden)
	if hidden.IngestJob != nil {
		t.Errorf("a job of another twin is visible: %+v", hidden)
	}
	if r := api.Do(t, token, `query($t: String!) { ingestJobs(twin: $t) { id } }`, map[string]any{"t": other}); r.Code() != "NOT_FOUND" {
		t.Errorf("ingestJobs of another twin: %+v", r.Errors)
	}
}
