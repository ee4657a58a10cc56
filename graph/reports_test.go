package graph_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sectwin/sectwin/internal/testenv"
)

// TestClaimReportRunOnce: of several servers claiming the same scheduled run at once, exactly
// one gets it; another run of the schedule, or the same run of another schedule, is claimed
// anew; claims a week older than the one made are pruned.
func TestClaimReportRunOnce(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	due := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	claim := func(schedule string, at time.Time) bool {
		t.Helper()
		ok, err := db.ClaimReportRun(ctx, twin, schedule, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("weekly", due.Add(-8*24*time.Hour)) {
		t.Fatal("a first claim was refused")
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if ok, err := db.ClaimReportRun(ctx, twin, "weekly", due); err != nil {
				t.Error(err)
			} else if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("%d of 8 concurrent claims of one run succeeded, want 1", n)
	}
	if claim("weekly", due) {
		t.Error("a run claimed twice")
	}
	if !claim("weekly", due.Add(time.Hour)) || !claim("daily", due) {
		t.Error("another run, or another schedule's run, was refused")
	}
	if old := count(t, db, `MATCH (c:ReportClaim {twin: $twin}) WHERE c.due < $due RETURN count(c)`, map[string]any{"twin": twin, "due": due}); old != 0 {
		t.Errorf("%d claims over a week old remain", old)
	}
}
