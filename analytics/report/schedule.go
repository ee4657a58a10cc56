package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// Schedule is a recurring report of one twin.
type Schedule struct {
	Name string `json:"name"`
	Twin string `json:"twin"`
	// Cron is a standard 5-field cron expression (minute hour day-of-month month day-of-week) or
	// a descriptor: @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>. It is
	// evaluated in UTC unless it starts with CRON_TZ=<zone> (or TZ=<zone>) and a space.
	Cron    string   `json:"cron"`
	Formats []Format `json:"formats"`
	Targets []Target `json:"targets"`
	// K is how many of the most likely paths to report; 0 means DefaultK.
	K int `json:"k,omitempty"`
	// MinLikelihood drops paths less likely than this, in [0, 1].
	MinLikelihood float64 `json:"minLikelihood,omitempty"`
}

// Limits of Schedule.K.
const (
	DefaultK = 20
	MaxK     = 1000
)

// TopK is K, or DefaultK when K is 0.
func (s Schedule) TopK() int {
	if s.K == 0 {
		return DefaultK
	}
	return s.K
}

// ErrInvalid is wrapped by every FieldError: a schedule or target that does not validate.
var ErrInvalid = errors.New("invalid report schedule or target")

// FieldError is one problem with one field of a schedule or target. Validation returns every
// problem found, joined; errors.As finds the first.
type FieldError struct {
	Schedule string // the schedule's name, "#<n>" when it has none, "" for a lone target
	Field    string // e.g. "cron", "formats[1]", "targets[0].url"
	Problem  string
	Err      error // the underlying cause, if any: a cron parse error, ErrUnknownFormat
}

// Error names the schedule, the field and the problem.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Schedule != "" {
		fmt.Fprintf(&b, "schedule %q: ", e.Schedule)
	}
	b.WriteString(e.Field + ": " + e.Problem)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalid and the cause.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// twinName is the rule of internal/auth for twin names.
var twinName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// maxScheduleName bounds a schedule's name, in bytes.
const maxScheduleName = 128

// ParseSchedules decodes a JSON array of schedules (formats may be spelled as ParseFormat
// accepts; unknown fields are refused) and validates them with ValidateSchedules.
func ParseSchedules(data []byte) ([]Schedule, error) {
	type raw struct {
		Schedule
		Formats []string `json:"formats"`
	}
	var raws []raw
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raws); err != nil {
		return nil, fmt.Errorf("parse schedules: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse schedules: data after the JSON array")
	}
	out := make([]Schedule, 0, len(raws))
	for _, r := range raws {
		s := r.Schedule
		s.Formats = nil
		for _, f := range r.Formats {
			if pf, err := ParseFormat(f); err == nil {
				s.Formats = append(s.Formats, pf)
			} else {
				s.Formats = append(s.Formats, Format(f)) // Validate names it
			}
		}
		out = append(out, s)
	}
	if err := ValidateSchedules(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateSchedules validates each schedule and that no two share a name.
func ValidateSchedules(ss []Schedule) error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range ss {
		err := s.Validate()
		if s.Name == "" {
			var fes []*FieldError
			collect(err, &fes)
			for _, fe := range fes {
				fe.Schedule = fmt.Sprintf("#%d", i+1)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
		if s.Name != "" && seen[s.Name] {
			errs = append(errs, &FieldError{Schedule: s.Name, Field: "name", Problem: "more than one schedule has this name"})
		}
		seen[s.Name] = true
	}
	return errors.Join(errs...)
}

// collect gathers the FieldErrors of a joined error.
func collect(err error, out *[]*FieldError) {
	switch e := err.(type) {
	case *FieldError:
		*out = append(*out, e)
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			collect(x, out)
		}
	}
}

// Validate returns every problem of s, as FieldErrors joined.
func (s Schedule) Validate() error {
	var errs []error
	bad := func(field, problem string, err error) {
		errs = append(errs, &FieldError{Schedule: s.Name, Field: field, Problem: problem, Err: err})
	}
	switch {
	case s.Name == "":
		bad("name", "missing", nil)
	case len(s.Name) > maxScheduleName:
		bad("name", fmt.Sprintf("longer than %d bytes", maxScheduleName), nil)
	case strings.IndexFunc(s.Name, unicode.IsControl) >= 0:
		bad("name", "holds control characters", nil)
	case s.Name == OnDemand:
		bad("name", fmt.Sprintf("%q is reserved for reports no schedule made", OnDemand), nil)
	}
	switch {
	case s.Twin == "":
		bad("twin", "missing", nil)
	case !twinName.MatchString(s.Twin):
		bad("twin", fmt.Sprintf("%q is not a twin name (lowercase letters, digits, - and _, at most 63)", s.Twin), nil)
	}
	if s.Cron == "" {
		bad("cron", "missing: give a 5-field cron expression or a descriptor such as @daily", nil)
	} else if _, err := parseCron(s.Cron); err != nil {
		bad("cron", fmt.Sprintf("bad cron expression %q", s.Cron), err)
	}
	if len(s.Formats) == 0 {
		bad("formats", "missing: list at least one of html, md, json", nil)
	}
	for i, f := range s.Formats {
		field := fmt.Sprintf("formats[%d]", i)
		switch {
		case !f.valid():
			bad(field, fmt.Sprintf("unknown format %q", string(f)), ErrUnknownFormat)
		case slices.Index(s.Formats, f) < i:
			bad(field, fmt.Sprintf("format %q listed twice", string(f)), nil)
		}
	}
	for i, t := range s.Targets {
		for _, p := range t.problems() {
			bad(fmt.Sprintf("targets[%d].%s", i, p.field), p.problem, nil)
		}
	}
	if s.K < 0 || s.K > MaxK {
		bad("k", fmt.Sprintf("%d is outside 0 (the default, %d) to %d", s.K, DefaultK, MaxK), nil)
	}
	if math.IsNaN(s.MinLikelihood) || s.MinLikelihood < 0 || s.MinLikelihood > 1 {
		bad("minLikelihood", fmt.Sprintf("%g is not a probability in [0, 1]", s.MinLikelihood), nil)
	}
	return errors.Join(errs...)
}

// Validate returns every problem of t, as FieldErrors joined.
func (t Target) Validate() error {
	var errs []error
	for _, p := range t.problems() {
		errs = append(errs, &FieldError{Field: p.field, Problem: p.problem})
	}
	return errors.Join(errs...)
}

type problem struct{ field, problem string }

// problems lists what is wrong with t. Fields another kind uses are refused, so that a target
// written for one kind but labelled with another does not pass silently.
func (t Target) problems() []problem {
	var ps []problem
	bad := func(field, p string) { ps = append(ps, problem{field, p}) }
	unused := func(field string, set bool) {
		if set {
			bad(field, "not used by a "+t.Kind+" target")
		}
	}
	switch t.Kind {
	case KindFolder:
		if strings.TrimSpace(t.Path) == "" {
			bad("path", "missing: a folder target needs the folder to write into")
		} else if strings.ContainsRune(t.Path, 0) {
			bad("path", "holds a NUL byte")
		}
		unused("url", t.URL != "")
		unused("secret", t.Secret != "")
		unused("subject", t.Subject != "")
	case KindWebhook:
		if t.URL == "" {
			bad("url", "missing: a webhook target needs the URL to post to")
		} else if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url", "not an absolute http or https URL")
		}
		if t.Secret == "" {
			bad("secret", "missing: a webhook target needs the shared secret that signs its posts")
		}
		unused("path", t.Path != "")
		unused("subject", t.Subject != "")
	case KindNATS:
		if t.Subject == "" {
			bad("subject", "missing: a nats target needs the subject to publish to")
		} else if msg := badSubject(t.Subject); msg != "" {
			bad("subject", msg)
		}
		unused("path", t.Path != "")
		unused("url", t.URL != "")
		unused("secret", t.Secret != "")
	case "":
		bad("kind", "missing: use folder, webhook or nats")
	default:
		bad("kind", fmt.Sprintf("unknown target kind %q (allowed: folder, webhook, nats)", t.Kind))
	}
	return ps
}

// badSubject says what makes s unfit to publish to, or "".
func badSubject(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Sprintf("%q holds white space", s)
	}
	for tok := range strings.SplitSeq(s, ".") {
		switch tok {
		case "":
			return fmt.Sprintf("%q has an empty token", s)
		case "*", ">":
			return fmt.Sprintf("%q has a wildcard: publish to a concrete subject", s)
		}
	}
	return ""
}

// parseCron parses spec with robfig/cron's standard parser, in UTC unless spec names a zone.
func parseCron(spec string) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// The parser slices up to the first space and panics without one.
		if !strings.Contains(spec, " ") {
			return nil, errors.New("a time zone prefix must be followed by a space and an expression")
		}
	} else {
		spec = "CRON_TZ=UTC " + spec
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparsable: %v", r)
		}
	}()
	if sched, err = cron.ParseStandard(spec); err != nil {
		return nil, err
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		sched = aligned{every.Delay}
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, errors.New("it never fires")
	}
	return sched, nil
}

// aligned is "@every d" on multiples of d since the zero time (UTC), not d after the server
// started: replicas started at different times agree on when a run is due, and so claim the
// same run (robfig/cron's ConstantDelaySchedule counts from the time it is asked).
type aligned struct{ every time.Duration }

func (a aligned) Next(t time.Time) time.Time { return t.UTC().Truncate(a.every).Add(a.every) }

// RunFunc produces and delivers one report of s, the run due at due (the time the schedule
// named, not when the run started: replicas agree on it, and claim the run by it). Its context
// ends when the Scheduler stops.
type RunFunc func(ctx context.Context, s Schedule, due time.Time) error

// Clock is the Scheduler's time source; tests pass a fake one.
type Clock interface {
	Now() time.Time
	// At returns a channel that receives once the clock reaches t, at once if it has. The
	// deadline is absolute, so a fake clock moved forward between the Scheduler's Now and its
	// At cannot make it miss a run.
	At(t time.Time) <-chan time.Time
}

// SystemClock returns the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                  { return time.Now() }
func (systemClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// Scheduler runs each schedule at the times its cron expression gives. It never runs one
// schedule twice at once: a run that comes due while the previous one is still running is
// skipped (and logged), as robfig/cron's SkipIfStillRunning does. A run that comes due while
// the process sleeps runs once on wake-up, not once per missed time.
//
// robfig/cron's own runner reads the system clock, so the Scheduler uses only its parser and
// schedules, and keeps time with its Clock.
type Scheduler struct {
	run   RunFunc
	clock Clock
	log   zerolog.Logger
	wake  chan struct{} // a Replace happened: plan again

	mu      sync.Mutex
	entries map[string]*entry
	running map[string]bool
	cancel  context.CancelFunc // nil when not started
	done    chan struct{}      // closed when the loop ends
	runs    sync.WaitGroup
}

type entry struct {
	s    Schedule
	spec cron.Schedule
	next time.Time
}

// NewScheduler returns a stopped Scheduler without schedules; clock nil means SystemClock.
func NewScheduler(run RunFunc, clock Clock, log zerolog.Logger) *Scheduler {
	if clock == nil {
		clock = SystemClock()
	}
	return &Scheduler{
		run:     run,
		clock:   clock,
		log:     log.With().Str("component", "report-scheduler").Logger(),
		wake:    make(chan struct{}, 1),
		entries: map[string]*entry{},
		running: map[string]bool{},
	}
}

// ErrStarted is returned by Start on a Scheduler already started.
var ErrStarted = errors.New("report scheduler already started")

// Replace swaps the set of schedules, at any time: schedules live in the graph and change.
// A schedule whose name and cron expression are unchanged keeps its next run time; a run in
// progress finishes, and its schedule is still not run twice at once. If any schedule is
// invalid, nothing changes and the error names every problem.
func (sc *Scheduler) Replace(schedules []Schedule) error {
	if err := ValidateSchedules(schedules); err != nil {
		return fmt.Errorf("replace report schedules: %w", err)
	}
	now := sc.clock.Now()
	entries := make(map[string]*entry, len(schedules))
	sc.mu.Lock()
	for _, s := range schedules {
		spec, _ := parseCron(s.Cron) // validated
		e := &entry{s: cloneSchedule(s), spec: spec}
		if old, ok := sc.entries[s.Name]; ok && old.s.Cron == s.Cron {
			e.next = old.next
		} else {
			e.next = spec.Next(now)
		}
		entries[s.Name] = e
	}
	sc.entries = entries
	sc.mu.Unlock()
	select {
	case sc.wake <- struct{}{}:
	default:
	}
	sc.log.Debug().Int("schedules", len(schedules)).Msg("report schedules replaced")
	return nil
}

func cloneSchedule(s Schedule) Schedule {
	s.Formats = slices.Clone(s.Formats)
	s.Targets = slices.Clone(s.Targets)
	return s
}

// Schedules returns the current schedules, sorted by name.
func (sc *Scheduler) Schedules() []Schedule {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make([]Schedule, 0, len(sc.entries))
	for _, e := range sc.entries {
		out = append(out, cloneSchedule(e.s))
	}
	slices.SortFunc(out, func(a, b Schedule) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Next returns when the named schedule runs next, or the zero time for an unknown name.
func (sc *Scheduler) Next(name string) time.Time {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, ok := sc.entries[name]; ok {
		return e.next
	}
	return time.Time{}
}

// Running reports whether a run of the named schedule is in progress.
func (sc *Scheduler) Running(name string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.running[name]
}

// Start runs the schedules until ctx ends or Stop is called. Runs get a context derived from
// ctx, cancelled by Stop.
func (sc *Scheduler) Start(ctx context.Context) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.cancel != nil {
		return ErrStarted
	}
	ctx, sc.cancel = context.WithCancel(ctx)
	sc.done = make(chan struct{})
	go sc.loop(ctx, sc.done)
	sc.log.Info().Int("schedules", len(sc.entries)).Msg("report scheduler started")
	return nil
}

// Stop stops starting runs, cancels the context of the runs in progress and waits for them to
// return, or for ctx to end (its error is returned then). A stopped Scheduler can start again.
func (sc *Scheduler) Stop(ctx context.Context) error {
	sc.mu.Lock()
	cancel, done := sc.cancel, sc.done
	sc.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	finished := make(chan struct{})
	go func() {
		<-done // no run starts after the loop ended
		sc.runs.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		return fmt.Errorf("stop report scheduler: runs still in progress: %w", ctx.Err())
	}
	sc.mu.Lock()
	if sc.done == done {
		sc.cancel, sc.done = nil, nil
	}
	sc.mu.Unlock()
	sc.log.Info().Msg("report scheduler stopped")
	return nil
}

// loop starts the runs that are due, then sleeps until the next one or a Replace.
func (sc *Scheduler) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		now := sc.clock.Now()
		var earliest time.Time
		sc.mu.Lock()
		if ctx.Err() != nil {
			sc.mu.Unlock()
			return
		}
		type dueRun struct {
			e  *entry
			at time.Time
		}
		var due []dueRun
		for _, e := range sc.entries {
			if e.next.IsZero() {
				continue
			}
			if !e.next.After(now) {
				due = append(due, dueRun{e, e.next})
				e.next = e.spec.Next(now)
			}
			if !e.next.IsZero() && (earliest.IsZero() || e.next.Before(earliest)) {
				earliest = e.next
			}
		}
		slices.SortFunc(due, func(a, b dueRun) int { return strings.Compare(a.e.s.Name, b.e.s.Name) })
		for _, d := range due {
			sc.startLocked(ctx, d.e.s, d.at)
		}
		sc.mu.Unlock()

		var timer <-chan time.Time // nil, never ready, without schedules
		if !earliest.IsZero() {
			timer = sc.clock.At(earliest)
		}
		select {
		case <-ctx.Done():
			return
		case <-sc.wake:
		case <-timer:
		}
	}
}

// startLocked starts a run of s unless one is in progress. sc.mu is held.
func (sc *Scheduler) startLocked(ctx context.Context, s Schedule, due time.Time) {
	log := sc.log.With().Str("schedule", s.Name).Str("twin", s.Twin).Logger()
	if sc.running[s.Name] {
		log.Warn().Msg("report run skipped: the previous run of this schedule is still in progress")
		return
	}
	sc.running[s.Name] = true
	sc.runs.Add(1)
	s = cloneSchedule(s)
	go func() {
		start := sc.clock.Now()
		defer func() {
			if r := recover(); r != nil {
				log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Msg("report run panicked")
			}
			sc.mu.Lock()
			delete(sc.running, s.Name)
			sc.mu.Unlock()
			sc.runs.Done()
		}()
		log.Info().Msg("report run started")
		if err := sc.run(ctx, s, due); err != nil {
			log.Error().Err(err).Dur("took", sc.clock.Now().Sub(start)).Msg("report run failed")
			return
		}
		log.Info().Dur("took", sc.clock.Now().Sub(start)).Msg("report run finished")
	}()
}
