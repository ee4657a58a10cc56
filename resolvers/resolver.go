// Package resolvers holds sectwin's thin GraphQL resolvers: each one validates its input, checks
// the caller's scopes and twins, and delegates to graph/ or analytics/.
package resolvers

import (
	"context"
	"sync"
	"time"

	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/analytics/report"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/internal/events"
)

// ServerInfoSource says what Neo4j runs.
type ServerInfoSource interface {
	ServerInfo(ctx context.Context) (graph.ServerInfo, error)
}

// MigrationLister lists applied migrations.
type MigrationLister interface {
	Applied(ctx context.Context) ([]graph.AppliedMigration, error)
}

// ChangeBus carries twin change events between replicas.
type ChangeBus interface {
	Publish(ctx context.Context, c events.Change) error
	Subscribe(ctx context.Context, twin string) (<-chan events.Change, error)
}

// JobStore reads ingest jobs.
type JobStore interface {
	Get(ctx context.Context, id string) (jobs.Job, error)
	List(ctx context.Context, twins []string, all bool, limit int) ([]jobs.Job, error)
	Watch(ctx context.Context) (<-chan jobs.Job, error)
}

// ReportRunner runs attack-path reports and keeps their schedules.
type ReportRunner interface {
	RunNow(ctx context.Context, twin, schedule string) (graph.ReportRun, error)
	Render(run graph.ReportRun, f report.Format) ([]byte, error)
	Schedules(ctx context.Context, twin string) ([]attackanalysis.ScheduledReport, error)
	SetSchedule(ctx context.Context, s report.Schedule, targets []attackanalysis.StoredTarget) (attackanalysis.ScheduledReport, error)
	DeleteSchedule(ctx context.Context, twin, name string) (bool, error)
}

// ReportBus announces completed report runs.
type ReportBus interface {
	SubscribeReports(ctx context.Context, twin string) (<-chan events.ReportReady, error)
}

// Resolver carries the resolvers' dependencies.
type Resolver struct {
	Version       string
	Neo4j         ServerInfoSource
	Migrations    MigrationLister
	Graph         *graph.DB
	Changes       ChangeBus
	Jobs          JobStore                 // nil: ingest is not served here
	Attacks       *attackanalysis.Analyzer // nil: attack-path analysis is not served here
	ReportService ReportRunner             // nil: reports are not served here
	ReportBus     ReportBus
	Assurance     *assurancecase.Live // nil: cases are stored but not evaluated here
	StatusBus     StatusBus           // nil: assuranceStatusChanged is not served here
	AlertBus      AlertBus            // nil: alertRaised is not served here

	// existing remembers twins seen to exist for a few seconds, sparing every request a round
	// trip. Only existence is cached, never access: that is decided per request.
	existing existenceCache
}

// twinExistsTTL is how long a twin seen to exist is remembered. A twin deleted through
// another replica may look present here for this long (its reads then come back empty).
const twinExistsTTL = 5 * time.Second

type existenceCache struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (c *existenceCache) fresh(twin string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.seen[twin]
	return ok && now.Sub(t) < twinExistsTTL
}

func (c *existenceCache) remember(twin string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil || len(c.seen) > 10000 {
		c.seen = map[string]time.Time{}
	}
	c.seen[twin] = now
}

func (c *existenceCache) forget(twin string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, twin)
}

// twinExists reports whether a twin exists, from the cache when fresh.
func (r *Resolver) twinExists(ctx context.Context, twin string) (bool, error) {
	now := time.Now()
	if r.existing.fresh(twin, now) {
		return true, nil
	}
	ok, err := r.twins().Exists(ctx, twin)
	if ok {
		r.existing.remember(twin, now)
	}
	return ok, err
}

func (r *Resolver) twins() graph.Twins { return graph.Twins{DB: r.Graph} }
