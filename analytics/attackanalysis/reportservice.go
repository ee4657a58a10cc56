package attackanalysis

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/report"
	"github.com/sectwin/sectwin/graph"
)

// ScheduleStore keeps the schedules that live in the graph.
type ScheduleStore interface {
	ReportSchedules(ctx context.Context, twin string) ([]graph.ReportSchedule, error)
	SetReportSchedule(ctx context.Context, s graph.ReportSchedule) error
	DeleteReportSchedule(ctx context.Context, twin, name string) (bool, error)
	// ClaimReportRun reports whether this server got the run due at due (graph.DB's).
	ClaimReportRun(ctx context.Context, twin, schedule string, due time.Time) (bool, error)
}

// StoredTarget is a report target as kept in the graph: a webhook's secret is named by the
// environment variable that holds it, never stored.
type StoredTarget struct {
	Kind      string `json:"kind"`
	Path      string `json:"path,omitempty"`
	URL       string `json:"url,omitempty"`
	SecretEnv string `json:"secretEnv,omitempty"`
	Subject   string `json:"subject,omitempty"`
}

// Target resolves the stored target, reading its secret from the environment.
func (t StoredTarget) Target() report.Target {
	out := report.Target{Kind: t.Kind, Path: t.Path, URL: t.URL, Subject: t.Subject}
	if t.SecretEnv != "" {
		out.Secret = report.Secret(os.Getenv(t.SecretEnv))
	}
	return out
}

// ScheduledReport is a schedule and where it came from.
type ScheduledReport struct {
	report.Schedule
	Origin  string // CONFIG or GRAPH
	Stored  []StoredTarget
	NextRun time.Time
}

// ReportService runs reports on their schedules (from the config file and from the graph) and
// on demand.
type ReportService struct {
	rp     *Reporter
	st     ScheduleStore
	config []report.Schedule
	sched  *report.Scheduler
	log    zerolog.Logger

	mu    sync.Mutex
	graph []ScheduledReport
}

// NewReportService returns a service over the config's schedules and the graph's.
func NewReportService(rp *Reporter, st ScheduleStore, config []report.Schedule, log zerolog.Logger) *ReportService {
	s := &ReportService{rp: rp, st: st, config: config, log: log}
	s.sched = report.NewScheduler(func(ctx context.Context, sc report.Schedule, due time.Time) error {
		// Every replica's scheduler fires; the one that claims the run makes the report.
		mine, err := st.ClaimReportRun(ctx, sc.Twin, sc.Name, due)
		if err != nil {
			return err
		}
		if !mine {
			log.Debug().Str("twin", sc.Twin).Str("schedule", sc.Name).Time("due", due).Msg("report run claimed by another server")
			return nil
		}
		_, _, err = rp.Run(ctx, sc)
		return err
	}, report.SystemClock(), log)
	return s
}

// Start loads the graph's schedules and runs every schedule until ctx ends; the graph's are
// reloaded every reload interval, so schedules set through another replica take effect.
func (s *ReportService) Start(ctx context.Context, reload time.Duration) error {
	if err := s.Reload(ctx); err != nil {
		s.log.Warn().Err(err).Msg("report schedules in the graph not loaded yet; retrying")
	}
	if err := s.sched.Start(ctx); err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(reload)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_ = s.sched.Stop(stop)
				cancel()
				return
			case <-t.C:
				if err := s.Reload(ctx); err != nil {
					s.log.Warn().Err(err).Msg("reload report schedules")
				}
			}
		}
	}()
	return nil
}

// Reload reads the graph's schedules and hands every schedule to the scheduler.
func (s *ReportService) Reload(ctx context.Context) error {
	stored, err := s.st.ReportSchedules(ctx, "")
	if err != nil {
		return err
	}
	var list []ScheduledReport
	for _, g := range stored {
		sr, err := fromStored(g)
		if err != nil {
			s.log.Warn().Err(err).Str("twin", g.Twin).Str("schedule", g.Name).Msg("skipping unreadable report schedule")
			continue
		}
		list = append(list, sr)
	}
	s.mu.Lock()
	s.graph = list
	s.mu.Unlock()
	all := slices.Clone(s.config)
	for _, g := range list {
		g.Schedule.Name = graphName(g.Twin, g.Name)
		all = append(all, g.Schedule)
	}
	return s.sched.Replace(all)
}

// graphName keeps graph schedules of different twins apart in the scheduler.
func graphName(twin, name string) string { return twin + "/" + name }

func fromStored(g graph.ReportSchedule) (ScheduledReport, error) {
	sr := ScheduledReport{Origin: "GRAPH", Schedule: report.Schedule{Name: g.Name, Twin: g.Twin, Cron: g.Cron, K: g.K, MinLikelihood: g.MinLikelihood}}
	for _, f := range g.Formats {
		pf, err := report.ParseFormat(f)
		if err != nil {
			return sr, err
		}
		sr.Formats = append(sr.Formats, pf)
	}
	if g.Targets != "" {
		if err := json.Unmarshal([]byte(g.Targets), &sr.Stored); err != nil {
			return sr, fmt.Errorf("targets: %w", err)
		}
	}
	for _, t := range sr.Stored {
		sr.Targets = append(sr.Targets, t.Target())
	}
	return sr, nil
}

// Schedules lists a twin's schedules.
func (s *ReportService) Schedules(ctx context.Context, twin string) ([]ScheduledReport, error) {
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	var out []ScheduledReport
	for _, c := range s.config {
		if c.Twin == twin {
			out = append(out, ScheduledReport{Schedule: c, Origin: "CONFIG", NextRun: s.sched.Next(c.Name)})
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.graph {
		if g.Twin == twin {
			g.NextRun = s.sched.Next(graphName(g.Twin, g.Name))
			out = append(out, g)
		}
	}
	return out, nil
}

// SetSchedule validates and stores a graph schedule, then reloads.
func (s *ReportService) SetSchedule(ctx context.Context, sc report.Schedule, stored []StoredTarget) (ScheduledReport, error) {
	for _, t := range stored {
		if t.Kind == report.KindWebhook && t.SecretEnv == "" {
			return ScheduledReport{}, fmt.Errorf("%w: a webhook target needs secretEnv, the environment variable holding its signing secret", report.ErrInvalid)
		}
		if t.SecretEnv != "" && os.Getenv(t.SecretEnv) == "" {
			return ScheduledReport{}, fmt.Errorf("%w: environment variable %s is not set on this server", report.ErrInvalid, t.SecretEnv)
		}
		sc.Targets = append(sc.Targets, t.Target())
	}
	if err := sc.Validate(); err != nil {
		return ScheduledReport{}, err
	}
	for _, c := range s.config {
		if c.Twin == sc.Twin && c.Name == sc.Name {
			return ScheduledReport{}, fmt.Errorf("%w: schedule %q comes from the config file; rename this one", report.ErrInvalid, sc.Name)
		}
	}
	targets, _ := json.Marshal(stored)
	formats := make([]string, len(sc.Formats))
	for i, f := range sc.Formats {
		formats[i] = string(f)
	}
	if err := s.st.SetReportSchedule(ctx, graph.ReportSchedule{Twin: sc.Twin, Name: sc.Name, Cron: sc.Cron, Formats: formats,
		Targets: string(targets), K: sc.K, MinLikelihood: sc.MinLikelihood, UpdatedAt: time.Now().UTC()}); err != nil {
		return ScheduledReport{}, err
	}
	if err := s.Reload(ctx); err != nil {
		return ScheduledReport{}, err
	}
	return ScheduledReport{Schedule: sc, Origin: "GRAPH", Stored: stored, NextRun: s.sched.Next(graphName(sc.Twin, sc.Name))}, nil
}

// DeleteSchedule deletes a graph schedule.
func (s *ReportService) DeleteSchedule(ctx context.Context, twin, name string) (bool, error) {
	ok, err := s.st.DeleteReportSchedule(ctx, twin, name)
	if err != nil || !ok {
		return ok, err
	}
	return true, s.Reload(ctx)
}

// RunNow runs a twin's report at once: with the named schedule's settings and targets, or on
// demand when schedule is empty.
func (s *ReportService) RunNow(ctx context.Context, twin, schedule string) (graph.ReportRun, error) {
	sc := report.Schedule{Name: report.OnDemand, Twin: twin}
	if schedule != "" {
		list, err := s.Schedules(ctx, twin)
		if err != nil {
			return graph.ReportRun{}, err
		}
		i := slices.IndexFunc(list, func(x ScheduledReport) bool { return x.Name == schedule })
		if i < 0 {
			return graph.ReportRun{}, fmt.Errorf("%w: %q for twin %s", ErrNoSuchSchedule, schedule, twin)
		}
		sc = list[i].Schedule
	}
	run, _, err := s.rp.Run(ctx, sc)
	return run, err
}

// Render renders a stored run.
func (s *ReportService) Render(run graph.ReportRun, f report.Format) ([]byte, error) {
	return s.rp.RenderStored(run, f)
}
