package report

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // CRON_TZ zones, whatever the machine has installed

	"github.com/rs/zerolog"
)

func validSchedule() Schedule {
	return Schedule{
		Name:    "nightly",
		Twin:    "prod-eu",
		Cron:    "0 2 * * *",
		Formats: []Format{HTML, JSON},
		Targets: []Target{
			{Kind: KindFolder, Path: "/var/lib/sectwin/reports"},
			{Kind: KindWebhook, URL: "https://hooks.example.com/sectwin", Secret: "k"},
			{Kind: KindNATS, Subject: "sectwin.reports.prod-eu"},
		},
		K:             20,
		MinLikelihood: 0.01,
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Schedule)
		wantField string // "" when valid
		wantText  string
	}{
		{"valid", func(*Schedule) {}, "", ""},
		{"@hourly", func(s *Schedule) { s.Cron = "@hourly" }, "", ""},
		{"@daily", func(s *Schedule) { s.Cron = "@daily" }, "", ""},
		{"@every", func(s *Schedule) { s.Cron = "@every 90s" }, "", ""},
		{"steps and ranges", func(s *Schedule) { s.Cron = "*/15 8-18 * * MON-FRI" }, "", ""},
		{"time zone", func(s *Schedule) { s.Cron = "CRON_TZ=Europe/Paris 0 6 * * 1-5" }, "", ""},
		{"no targets is allowed", func(s *Schedule) { s.Targets = nil }, "", ""},
		{"default k", func(s *Schedule) { s.K = 0 }, "", ""},

		{"missing name", func(s *Schedule) { s.Name = "" }, "name", "missing"},
		{"reserved name", func(s *Schedule) { s.Name = OnDemand }, "name", "reserved"},
		{"control characters in name", func(s *Schedule) { s.Name = "a\nb" }, "name", "control"},
		{"missing twin", func(s *Schedule) { s.Twin = "" }, "twin", "missing"},
		{"bad twin", func(s *Schedule) { s.Twin = "Prod EU" }, "twin", "not a twin name"},
		{"missing cron", func(s *Schedule) { s.Cron = "" }, "cron", "missing"},
		{"too few fields", func(s *Schedule) { s.Cron = "* * *" }, "cron", "bad cron expression"},
		{"six fields", func(s *Schedule) { s.Cron = "0 0 2 * * *" }, "cron", "bad cron expression"},
		{"minute out of range", func(s *Schedule) { s.Cron = "61 * * * *" }, "cron", "bad cron expression"},
		{"unknown descriptor", func(s *Schedule) { s.Cron = "@fortnightly" }, "cron", "bad cron expression"},
		{"bad @every", func(s *Schedule) { s.Cron = "@every soon" }, "cron", "bad cron expression"},
		{"unknown zone", func(s *Schedule) { s.Cron = "CRON_TZ=Nowhere/City 0 * * * *" }, "cron", "bad location"},
		{"zone without expression", func(s *Schedule) { s.Cron = "CRON_TZ=UTC" }, "cron", "followed by"},
		{"never fires", func(s *Schedule) { s.Cron = "0 0 30 2 *" }, "cron", "never fires"},
		{"no formats", func(s *Schedule) { s.Formats = nil }, "formats", "at least one"},
		{"unknown format", func(s *Schedule) { s.Formats = []Format{HTML, "pdf"} }, "formats[1]", `unknown format "pdf"`},
		{"format twice", func(s *Schedule) { s.Formats = []Format{JSON, JSON} }, "formats[1]", "twice"},
		{"unknown target kind", func(s *Schedule) { s.Targets[1] = Target{Kind: "s3", URL: "x"} }, "targets[1].kind", `unknown target kind "s3"`},
		{"missing target kind", func(s *Schedule) { s.Targets[0].Kind = "" }, "targets[0].kind", "missing"},
		{"webhook without URL", func(s *Schedule) { s.Targets[1].URL = "" }, "targets[1].url", "missing"},
		{"webhook without secret", func(s *Schedule) { s.Targets[1].Secret = "" }, "targets[1].secret", "missing"},
		{"webhook to ftp", func(s *Schedule) { s.Targets[1].URL = "ftp://example.com/x" }, "targets[1].url", "http or https"},
		{"webhook relative URL", func(s *Schedule) { s.Targets[1].URL = "/hook" }, "targets[1].url", "http or https"},
		{"webhook with a path", func(s *Schedule) { s.Targets[1].Path = "/tmp" }, "targets[1].path", "not used by a webhook target"},
		{"folder without path", func(s *Schedule) { s.Targets[0].Path = " " }, "targets[0].path", "missing"},
		{"folder with a secret", func(s *Schedule) { s.Targets[0].Secret = "x" }, "targets[0].secret", "not used by a folder target"},
		{"nats without subject", func(s *Schedule) { s.Targets[2].Subject = "" }, "targets[2].subject", "missing"},
		{"nats wildcard", func(s *Schedule) { s.Targets[2].Subject = "sectwin.reports.>" }, "targets[2].subject", "wildcard"},
		{"nats empty token", func(s *Schedule) { s.Targets[2].Subject = "a..b" }, "targets[2].subject", "empty token"},
		{"nats space", func(s *Schedule) { s.Targets[2].Subject = "a b" }, "targets[2].subject", "white space"},
		{"negative k", func(s *Schedule) { s.K = -1 }, "k", "outside"},
		{"huge k", func(s *Schedule) { s.K = MaxK + 1 }, "k", "outside"},
		{"likelihood above 1", func(s *Schedule) { s.MinLikelihood = 1.5 }, "minLikelihood", "probability"},
		{"likelihood NaN", func(s *Schedule) { s.MinLikelihood = math.NaN() }, "minLikelihood", "probability"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSchedule()
			tt.edit(&s)
			err := s.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("%v is no FieldError", err)
			}
			if fe.Field != tt.wantField || fe.Schedule != s.Name || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("got %q (field %s, schedule %q), want field %s and %q", err, fe.Field, fe.Schedule, tt.wantField, tt.wantText)
			}
			if s.Name != "" && !strings.Contains(err.Error(), "schedule "+strconv.Quote(s.Name)) {
				t.Errorf("error does not name the schedule: %v", err)
			}
			if tt.wantField == "formats[1]" && strings.Contains(tt.wantText, "unknown") && !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("%v is not ErrUnknownFormat", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := Schedule{Name: "x", Cron: "nope", Formats: []Format{"pdf"}, K: -1}
	err := s.Validate()
	var fes []*FieldError
	collect(err, &fes)
	var fields []string
	for _, fe := range fes {
		fields = append(fields, fe.Field)
	}
	if want := []string{"twin", "cron", "formats[0]", "k"}; !slices.Equal(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}

func TestParseSchedules(t *testing.T) {
	const good = `[
  {"name": "nightly", "twin": "prod-eu", "cron": "@daily", "formats": ["HTML", "markdown", "json"],
   "targets": [{"kind": "webhook", "url": "https://hooks.example.com/r", "secret": "k"},
               {"kind": "nats", "subject": "sectwin.reports.prod-eu"}],
   "k": 50, "minLikelihood": 0.001},
  {"name": "hourly", "twin": "staging", "cron": "0 * * * *", "formats": ["md"],
   "targets": [{"kind": "folder", "path": "/tmp/reports"}]}
]`
	ss, err := ParseSchedules([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || !slices.Equal(ss[0].Formats, []Format{HTML, Markdown, JSON}) || ss[0].Targets[0].Secret.Reveal() != "k" ||
		ss[0].TopK() != 50 || ss[1].TopK() != DefaultK || ss[1].Targets[0].Path != "/tmp/reports" {
		t.Errorf("parsed %+v", ss)
	}

	tests := []struct {
		name, in     string
		wantSchedule string // in the FieldError; "" when the JSON itself is wrong
		wantText     string
	}{
		{"not JSON", `{`, "", "parse schedules"},
		{"not an array", `{"name": "x"}`, "", "parse schedules"},
		{"unknown field", `[{"name": "x", "twin": "t", "cron": "@daily", "formats": ["json"], "crontab": "x"}]`, "", `unknown field "crontab"`},
		{"trailing data", `[] []`, "", "after the JSON array"},
		{"unknown format", `[{"name": "x", "twin": "t", "cron": "@daily", "formats": ["json", "pdf"]}]`, "x", `formats[1]: unknown format "pdf"`},
		{"bad cron", `[{"name": "weekly", "twin": "t", "cron": "every week", "formats": ["json"]}]`, "weekly", "cron: bad cron expression"},
		{"unnamed", `[{"name": "a", "twin": "t", "cron": "@daily", "formats": ["json"]}, {"twin": "t", "cron": "@daily", "formats": ["json"]}]`, "#2", "name: missing"},
		{"duplicate names", `[{"name": "a", "twin": "t", "cron": "@daily", "formats": ["json"]}, {"name": "a", "twin": "u", "cron": "@daily", "formats": ["json"]}]`, "a", "more than one"},
		{"webhook without secret", `[{"name": "w", "twin": "t", "cron": "@daily", "formats": ["json"], "targets": [{"kind": "webhook", "url": "https://x.example"}]}]`, "w", "targets[0].secret: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSchedules([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v, want %q", err, tt.wantText)
			}
			var fe *FieldError
			if tt.wantSchedule == "" {
				if errors.As(err, &fe) {
					t.Errorf("a JSON error came as a FieldError: %v", err)
				}
				return
			}
			if !errors.As(err, &fe) || fe.Schedule != tt.wantSchedule || !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v (schedule %q), want schedule %q", err, fe.Schedule, tt.wantSchedule)
			}
		})
	}
}

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock { return &fakeClock{now: now} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) At(t time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !t.After(c.now) {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{t, ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			keep = append(keep, w)
		} else {
			w.ch <- c.now
		}
	}
	c.waiters = keep
}

// runRecorder is a RunFunc that counts runs per schedule and can hold them.
type runRecorder struct {
	mu      sync.Mutex
	started map[string]int
	ended   map[string]int
	ctxs    []context.Context
	hold    map[string]chan struct{} // a run of that schedule waits for the channel to close
	panics  map[string]bool
}

func newRecorder() *runRecorder {
	return &runRecorder{started: map[string]int{}, ended: map[string]int{}, hold: map[string]chan struct{}{}, panics: map[string]bool{}}
}

func (r *runRecorder) run(ctx context.Context, s Schedule, _ time.Time) error {
	r.mu.Lock()
	r.started[s.Name]++
	r.ctxs = append(r.ctxs, ctx)
	hold, panics := r.hold[s.Name], r.panics[s.Name]
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.ended[s.Name]++
		r.mu.Unlock()
	}()
	if panics {
		panic("boom")
	}
	if hold != nil {
		<-hold
	}
	return ctx.Err()
}

func (r *runRecorder) counts(name string) (started, ended int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started[name], r.ended[name]
}

// eventually polls cond for up to 5 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle lets the scheduler's goroutines act on what just happened, for the checks that
// something did not happen.
func settle() { time.Sleep(30 * time.Millisecond) }

func sched(name, cron string) Schedule {
	return Schedule{Name: name, Twin: "prod", Cron: cron, Formats: []Format{JSON}}
}

func startScheduler(t *testing.T, sc *Scheduler) {
	t.Helper()
	if err := sc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sc.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestSchedulerFiresOnTime(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 3, 14, 10, 0, 30, 0, time.UTC))
	rec := newRecorder()
	sc := NewScheduler(rec.run, clk, zerolog.Nop())
	if err := sc.Replace([]Schedule{sched("five", "*/5 * * * *"), sched("hourly", "@hourly")}); err != nil {
		t.Fatal(err)
	}
	if got := sc.Next("five"); !got.Equal(time.Date(2026, 3, 14, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("Next(five) = %v", got)
	}
	if got := sc.Next("hourly"); !got.Equal(time.Date(2026, 3, 14, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("Next(hourly) = %v", got)
	}
	if !sc.Next("unknown").IsZero() {
		t.Error("Next of an unknown schedule is not zero")
	}
	startScheduler(t, sc)
	if err := sc.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}

	clk.Advance(4*time.Minute + 29*time.Second) // 10:04:59
	settle()
	if s, _ := rec.counts("five"); s != 0 {
		t.Fatal("ran early")
	}
	clk.Advance(time.Second) // 10:05:00
	eventually(t, "five to run", func() bool { s, _ := rec.counts("five"); return s == 1 })
	eventually(t, "five to finish", func() bool { return !sc.Running("five") })
	if got := sc.Next("five"); !got.Equal(time.Date(2026, 3, 14, 10, 10, 0, 0, time.UTC)) {
		t.Errorf("Next(five) after a run = %v", got)
	}

	// Eleven due times of five pass at once: it runs once, not eleven times.
	clk.Advance(55 * time.Minute) // 11:00:00
	eventually(t, "hourly to run", func() bool { s, _ := rec.counts("hourly"); return s == 1 })
	eventually(t, "five to run again", func() bool { s, _ := rec.counts("five"); return s == 2 })
	settle()
	if s, _ := rec.counts("five"); s != 2 {
		t.Errorf("five ran %d times, want 2", s)
	}
	if got := sc.Next("five"); !got.Equal(time.Date(2026, 3, 14, 11, 5, 0, 0, time.UTC)) {
		t.Errorf("Next(five) = %v", got)
	}
}

func TestSchedulerSkipsWhileRunning(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	rec := newRecorder()
	release := make(chan struct{})
	rec.hold["slow"] = release
	var logs syncBuffer
	sc := NewScheduler(rec.run, clk, zerolog.New(&logs))
	if err := sc.Replace([]Schedule{sched("slow", "@every 1m"), sched("fast", "@every 1m")}); err != nil {
		t.Fatal(err)
	}
	startScheduler(t, sc)

	clk.Advance(time.Minute)
	eventually(t, "the first run", func() bool { s, _ := rec.counts("slow"); return s == 1 && sc.Running("slow") })
	eventually(t, "fast to run once", func() bool { s, _ := rec.counts("fast"); return s == 1 && !sc.Running("fast") })
	clk.Advance(time.Minute) // slow is still running
	eventually(t, "the skip to be logged", func() bool { return strings.Contains(logs.String(), "still in progress") })
	eventually(t, "fast to run twice", func() bool { s, _ := rec.counts("fast"); return s == 2 })
	if s, _ := rec.counts("slow"); s != 1 {
		t.Fatalf("slow started %d times while running", s)
	}
	if !strings.Contains(logs.String(), `"schedule":"slow"`) {
		t.Error("the skip does not name the schedule")
	}

	close(release)
	eventually(t, "the first run to end", func() bool { return !sc.Running("slow") })
	clk.Advance(time.Minute)
	eventually(t, "the next run", func() bool { s, _ := rec.counts("slow"); return s == 2 })
}

func TestSchedulerReplace(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 3, 14, 10, 0, 30, 0, time.UTC))
	rec := newRecorder()
	sc := NewScheduler(rec.run, clk, zerolog.Nop())
	if err := sc.Replace([]Schedule{sched("a", "*/5 * * * *"), sched("b", "@hourly")}); err != nil {
		t.Fatal(err)
	}
	startScheduler(t, sc)
	nextA := sc.Next("a")

	clk.Advance(time.Minute)
	if err := sc.Replace([]Schedule{sched("a", "*/5 * * * *"), sched("c", "@every 1m")}); err != nil {
		t.Fatal(err)
	}
	if !sc.Next("a").Equal(nextA) {
		t.Errorf("unchanged schedule moved from %v to %v", nextA, sc.Next("a"))
	}
	if !sc.Next("b").IsZero() {
		t.Error("removed schedule still planned")
	}
	// @every 1m falls on whole minutes (aligned, so that replicas agree), not a minute after now.
	if want := clk.Now().Truncate(time.Minute).Add(time.Minute); !sc.Next("c").Equal(want) {
		t.Errorf("Next(c) = %v, want %v", sc.Next("c"), want)
	}
	if names := sc.Schedules(); len(names) != 2 || names[0].Name != "a" || names[1].Name != "c" {
		t.Errorf("Schedules() = %v", names)
	}

	// The running loop picks up the new set.
	clk.Advance(time.Minute)
	eventually(t, "c to run", func() bool { s, _ := rec.counts("c"); return s == 1 })

	// A changed expression is planned again.
	if err := sc.Replace([]Schedule{sched("a", "@hourly"), sched("c", "@every 1m")}); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 14, 11, 0, 0, 0, time.UTC); !sc.Next("a").Equal(want) {
		t.Errorf("Next(a) = %v, want %v", sc.Next("a"), want)
	}

	// An invalid set changes nothing.
	err := sc.Replace([]Schedule{sched("a", "@hourly"), sched("d", "not cron")})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Schedule != "d" || fe.Field != "cron" {
		t.Fatalf("invalid replace: %v", err)
	}
	if sc.Next("c").IsZero() || !sc.Next("d").IsZero() {
		t.Error("an invalid Replace changed the set")
	}
	settle()
	if s, _ := rec.counts("b"); s != 0 {
		t.Errorf("removed schedule b ran %d times", s)
	}
}

func TestSchedulerStop(t *testing.T) {
	t.Run("cancels runs and waits for them", func(t *testing.T) {
		clk := newFakeClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
		rec := newRecorder()
		sc := NewScheduler(func(ctx context.Context, s Schedule, due time.Time) error {
			_ = rec.run(ctx, s, due)
			<-ctx.Done()
			return ctx.Err()
		}, clk, zerolog.Nop())
		if err := sc.Replace([]Schedule{sched("a", "@every 1m")}); err != nil {
			t.Fatal(err)
		}
		if err := sc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		eventually(t, "the run", func() bool { s, _ := rec.counts("a"); return s == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sc.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		runCtx := rec.ctxs[0]
		rec.mu.Unlock()
		if runCtx.Err() == nil {
			t.Error("the run's context is still live after Stop")
		}
		// Stopped: time passes, nothing runs; it can start again.
		clk.Advance(time.Minute)
		settle()
		if s, _ := rec.counts("a"); s != 1 {
			t.Errorf("ran %d times after Stop", s)
		}
		if err := sc.Start(context.Background()); err != nil {
			t.Fatalf("restart: %v", err)
		}
		clk.Advance(time.Minute)
		eventually(t, "the run after restart", func() bool { s, _ := rec.counts("a"); return s == 2 })
		if err := sc.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("gives up waiting when its context ends", func(t *testing.T) {
		clk := newFakeClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
		rec := newRecorder()
		release := make(chan struct{})
		rec.hold["stubborn"] = release // ignores its context
		sc := NewScheduler(rec.run, clk, zerolog.Nop())
		if err := sc.Replace([]Schedule{sched("stubborn", "@every 1m")}); err != nil {
			t.Fatal(err)
		}
		if err := sc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		eventually(t, "the run", func() bool { s, _ := rec.counts("stubborn"); return s == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := sc.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v, want a deadline error", err)
		}
		close(release)
		if err := sc.Stop(context.Background()); err != nil {
			t.Errorf("second Stop: %v", err)
		}
	})
}

func TestSchedulerSurvivesPanics(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	rec := newRecorder()
	rec.panics["bad"] = true
	var logs syncBuffer
	sc := NewScheduler(rec.run, clk, zerolog.New(&logs))
	if err := sc.Replace([]Schedule{sched("bad", "@every 1m")}); err != nil {
		t.Fatal(err)
	}
	startScheduler(t, sc)
	for i := 1; i <= 2; i++ {
		clk.Advance(time.Minute)
		eventually(t, "a run", func() bool { _, e := rec.counts("bad"); return e == i })
		eventually(t, "the run to end", func() bool { return !sc.Running("bad") })
	}
	if !strings.Contains(logs.String(), "panicked") {
		t.Error("panic not logged")
	}
}

// TestSchedulerRealClock runs "@every 1s" on the system clock for a few seconds.
func TestSchedulerRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 3 seconds")
	}
	rec := newRecorder()
	sc := NewScheduler(rec.run, nil, zerolog.Nop())
	before := time.Now()
	if err := sc.Replace([]Schedule{sched("tick", "@every 1s")}); err != nil {
		t.Fatal(err)
	}
	// On the next whole second.
	if next := sc.Next("tick"); !next.After(before) || next.Sub(before) > time.Second || next.Nanosecond() != 0 {
		t.Errorf("next run at %v, planned at %v", next, before)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two runs", func() bool { s, _ := rec.counts("tick"); return s >= 2 })
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer stopCancel()
	if err := sc.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	s, e := rec.counts("tick")
	if s != e {
		t.Errorf("%d runs started, %d ended after Stop", s, e)
	}
}
