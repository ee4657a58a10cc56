package resolvers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestReportReadyAndFailedDelivery: a report run fires reportReady for its twin only, and a
// delivery that fails is recorded on the stored Report rather than losing the run.
func TestReportReadyAndFailedDelivery(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin := testenv.NewTwin(t, db)
	if _, _, err := (graph.Twins{DB: db}).Ensure(t.Context(), twin, ""); err != nil {
		t.Fatal(err)
	}
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	vars := map[string]any{"t": twin}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	sub, err := api.Subscribe(ctx, token, `subscription($t: String!) { reportReady(twin: $t) { id twin status } }`, vars)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := make(chan apitest.Response, 1)
	go func() {
		if r, err := sub.Next(ctx); err == nil {
			got <- r
		}
	}()
	// The subscription starts listening asynchronously: run reports until an event arrives.
	var ids []string
	var ev apitest.Response
	for ev.Data == nil {
		var run struct{ RunAttackPathReport struct{ ID string } }
		api.MustData(t, token, `mutation($t: String!) { runAttackPathReport(twin: $t) { id } }`, vars, &run)
		ids = append(ids, run.RunAttackPathReport.ID)
		select {
		case ev = <-got:
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no reportReady event")
		}
	}
	if !strings.Contains(string(ev.Data), `"twin":"`+twin+`"`) || !strings.Contains(string(ev.Data), `"status":"DONE"`) {
		t.Fatalf("event %s (runs %v)", ev.Data, ids)
	}

	// A folder target that cannot be written: the run is stored, its delivery recorded as failed.
	api.MustData(t, token, `mutation($t: String!) { setReportSchedule(twin: $t, input: {name: "broken", cron: "@daily", formats: [JSON],
  targets: [{kind: "folder", path: "/proc/sectwin-cannot-write-here"}]}) { name } }`, vars, nil)
	var run struct {
		RunAttackPathReport struct {
			ID, Status string
			Deliveries []struct {
				Target   string
				Attempts int
				Error    *string
			}
		}
	}
	api.MustData(t, token, `mutation($t: String!) { runAttackPathReport(twin: $t, schedule: "broken") { id status deliveries { target attempts error } } }`, vars, &run)
	r := run.RunAttackPathReport
	if r.Status != "DELIVERY_FAILED" || len(r.Deliveries) != 1 || r.Deliveries[0].Error == nil || r.Deliveries[0].Attempts < 1 {
		t.Fatalf("failed delivery: %+v", r)
	}
	var stored struct {
		Report *struct{ Status, Content string }
	}
	api.MustData(t, token, `query($id: ID!) { report(id: $id) { status content } }`, map[string]any{"id": r.ID}, &stored)
	if stored.Report == nil || stored.Report.Status != "DELIVERY_FAILED" || !strings.Contains(stored.Report.Content, `"twin": "`+twin+`"`) {
		t.Fatalf("stored report: %+v", stored.Report)
	}
	// An unknown schedule is NOT_FOUND, and a schedule that does not validate BAD_USER_INPUT.
	if c := api.Do(t, token, `mutation($t: String!) { runAttackPathReport(twin: $t, schedule: "nope") { id } }`, vars).Code(); c != "NOT_FOUND" {
		t.Errorf("unknown schedule: %s", c)
	}
	if c := api.Do(t, token, `mutation($t: String!) { setReportSchedule(twin: $t, input: {name: "bad", cron: "every tuesday"}) { name } }`, vars).Code(); c != "BAD_USER_INPUT" {
		t.Errorf("bad cron: %s", c)
	}
}
