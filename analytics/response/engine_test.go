package response_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/response"
)

// clock is a fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// executor records what it executes. It fails the first failures[kind] attempts of an action
// (with a permanent error when permanent), and with block set waits for it to close (or for
// the context to end) first.
type executor struct {
	mu        sync.Mutex
	calls     []response.Args
	attempts  map[string]int // by action id
	failures  map[response.ActionKind]int
	permanent bool
	block     chan struct{}
	entered   chan struct{} // receives on every call, when set
}

func (x *executor) call(ctx context.Context, a response.Args) error {
	if x.entered != nil {
		select {
		case x.entered <- struct{}{}:
		default:
		}
	}
	if x.block != nil {
		select {
		case <-x.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.attempts == nil {
		x.attempts = map[string]int{}
	}
	id := idOf(a)
	x.attempts[id]++
	if x.attempts[id] <= x.failures[a.Action()] {
		if x.permanent {
			return fmt.Errorf("refused: %w", response.ErrPermanent)
		}
		return errors.New("temporarily unavailable")
	}
	x.calls = append(x.calls, a)
	return nil
}

func (x *executor) Calls() []response.Args {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]response.Args(nil), x.calls...)
}

func (x *executor) Quarantine(ctx context.Context, q response.Quarantine) error {
	return x.call(ctx, q)
}
func (x *executor) Publish(ctx context.Context, p response.Publish) error     { return x.call(ctx, p) }
func (x *executor) Webhook(ctx context.Context, w response.Webhook) error     { return x.call(ctx, w) }
func (x *executor) OpenFinding(ctx context.Context, f response.Finding) error { return x.call(ctx, f) }
func (x *executor) CreateDefeater(ctx context.Context, d response.Defeater) error {
	return x.call(ctx, d)
}

func mustParse(t testing.TB, in string) *response.Set {
	t.Helper()
	set, err := response.Parse("pb.yaml", []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newEngine(t testing.TB, set *response.Set, x response.Executor, ring *response.Ring, o response.Options) *response.Engine {
	t.Helper()
	e, err := response.New(set, x, ring, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

func shutdown(t *testing.T, e *response.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

var dmzToCore = response.Trigger{
	ID: "anomaly-1", Kind: response.KindAnomaly, Twin: "city", Type: "new_edge",
	Src: "web-1", Dst: "db-1", SrcZone: "dmz", DstZone: "core", Score: 0.97,
}

func TestEvaluate(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	set := mustParse(t, example)
	with := func(f func(*response.Trigger)) response.Trigger {
		tr := dmzToCore
		f(&tr)
		return tr
	}
	type want struct {
		playbook         string
		matched, dry     bool
		actions          int
		reasonHas        string
		firstActionEntry string // key=value in the first action's audited arguments
	}
	tests := []struct {
		name string
		in   response.Trigger
		want []want
	}{
		{"dmz to core", dmzToCore, []want{{"quarantine-dmz-to-core", true, false, 5, "", "entity=web-1"}}},
		{"dmz to dmz", with(func(t *response.Trigger) { t.DstZone = "dmz" }), []want{{"quarantine-dmz-to-core", false, false, 0, "the condition is false", ""}}},
		{"another anomaly", with(func(t *response.Trigger) { t.Type = "spike" }), []want{{"quarantine-dmz-to-core", false, false, 0, "condition is false", ""}}},
		{"an alert with a technique", response.Trigger{Kind: response.KindAlert, Entity: "host-7", Type: "ssh-brute-force", Severity: "HIGH", Fields: map[string]any{"technique": "T1110"}},
			[]want{{"critical-alerts", true, true, 1, "dry run", "title=ssh-brute-force"}}},
		{"an alert without one", response.Trigger{Kind: response.KindAlert, Severity: "HIGH"}, []want{{"critical-alerts", false, true, 0, "condition is false", ""}}},
		{"a low alert", response.Trigger{Kind: response.KindAlert, Severity: "LOW", Fields: map[string]any{"technique": "T1110"}}, []want{{"critical-alerts", false, true, 0, "", ""}}},
		{"an event", response.Trigger{Kind: response.KindEvent, Type: "auth", Severity: "CRITICAL", Fields: map[string]any{"technique": "T1078"}}, []want{{"critical-alerts", true, true, 1, "dry run", ""}}},
		{"undermined", response.Trigger{Kind: response.KindStatusChange, Twin: "city", Entity: "G1", Status: "UNDERMINED", Previous: "SUPPORTED"},
			[]want{{"undermined", true, false, 1, "", "subject=sectwin.response.city.undermined"}}},
		{"still undermined", response.Trigger{Kind: response.KindStatusChange, Status: "UNDERMINED", Previous: "UNDERMINED"}, []want{{"undermined", false, false, 0, "", ""}}},
		{"a kind no playbook listens to", response.Trigger{Kind: "flow"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &executor{}
			ring := response.NewRing(100)
			e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now})
			ds := e.Evaluate(context.Background(), tt.in)
			if len(ds) != len(tt.want) {
				t.Fatalf("%d decisions, want %d: %+v", len(ds), len(tt.want), ds)
			}
			for i, w := range tt.want {
				d := ds[i]
				if d.Playbook != w.playbook || d.Matched != w.matched || d.DryRun != w.dry || len(d.Actions) != w.actions || d.Err != nil {
					t.Errorf("decision %+v, want %+v", d, w)
				}
				if !strings.Contains(d.Reason, w.reasonHas) {
					t.Errorf("reason %q, want %q", d.Reason, w.reasonHas)
				}
				if w.firstActionEntry != "" {
					k, v, _ := strings.Cut(w.firstActionEntry, "=")
					if a := d.Actions[0]; a.Err != nil {
						t.Errorf("first action: %v", a.Err)
					} else if got := a.Args.Audit()[k]; got != v {
						t.Errorf("first action's %s is %q, want %q", k, got, v)
					}
				}
			}
			if len(x.Calls()) != 0 || len(ring.Records()) != 0 {
				t.Errorf("Evaluate executed %d actions and audited %d records", len(x.Calls()), len(ring.Records()))
			}
		})
	}
}

func TestEvaluateArguments(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	e := newEngine(t, mustParse(t, example), &executor{}, response.NewRing(1), response.Options{Now: newClock().Now})
	ds := e.Evaluate(context.Background(), dmzToCore)
	if len(ds) != 1 || len(ds[0].Actions) != 5 {
		t.Fatalf("decisions %+v", ds)
	}
	acts := ds[0].Actions
	q := acts[0].Args.(response.Quarantine)
	if q.Entity != "web-1" || q.Reason != "new edge into the core: web-1 -> db-1" || q.Playbook != "quarantine-dmz-to-core" || q.TriggerID != "anomaly-1" || q.Twin != "city" {
		t.Errorf("quarantine %+v", q)
	}
	p := acts[1].Args.(response.Publish)
	var n response.Notice
	if err := json.Unmarshal(p.Payload, &n); err != nil || p.Subject != "sectwin.response.city.quarantine" || n.Trigger.Src != "web-1" || n.ID != p.ActionID {
		t.Errorf("publish %+v, notice %+v, %v", p, n, err)
	}
	w := acts[2].Args.(response.Webhook)
	var wn response.Notice
	if err := json.Unmarshal(w.Body, &wn); err != nil || w.URL != "https://soc.example/hook?team=blue" || string(w.Secret.Bytes()) != testSecret || wn.ID != w.ActionID || wn.Playbook != "quarantine-dmz-to-core" {
		t.Errorf("webhook %+v, notice %+v, %v", w, wn, err)
	}
	if got := w.Audit()["url"]; got != "https://soc.example/hook" {
		t.Errorf("audited url %q: the query may hold a token", got)
	}
	f := acts[3].Args.(response.Finding)
	if f.Severity != "HIGH" || f.Entity != "web-1" || f.Title != "DMZ host reached the core: web-1" || f.Fingerprint == "" {
		t.Errorf("finding %+v", f)
	}
	d := acts[4].Args.(response.Defeater)
	if d.Kind != "rebutting" || d.Severity != "high" || d.Entity != "db-1" || d.Text != "reached from the DMZ by web-1" || d.ID == "" ||
		d.Evidence != response.DefeaterEvidenceTrigger || d.Trigger.ID != dmzToCore.ID || d.Trigger.Type != dmzToCore.Type {
		t.Errorf("defeater %+v", d)
	}
	// Ids are stable for the same trigger; fingerprints for the same entity.
	again := e.Evaluate(context.Background(), dmzToCore)[0].Actions
	other := dmzToCore
	other.ID = "anomaly-2"
	third := e.Evaluate(context.Background(), other)[0].Actions
	for i := range acts {
		a, b, c := acts[i].Args, again[i].Args, third[i].Args
		if idOf(a) != idOf(b) || idOf(a) == idOf(c) {
			t.Errorf("action %d ids: %s, again %s, another trigger %s", i, idOf(a), idOf(b), idOf(c))
		}
	}
	if third[3].Args.(response.Finding).Fingerprint != f.Fingerprint || third[4].Args.(response.Defeater).ID != d.ID {
		t.Error("another trigger about the same entities changed the finding's fingerprint or the defeater's id")
	}
}

func idOf(a response.Args) string {
	switch v := a.(type) {
	case response.Quarantine:
		return v.ActionID
	case response.Publish:
		return v.ActionID
	case response.Webhook:
		return v.ActionID
	case response.Finding:
		return v.ActionID
	case response.Defeater:
		return v.ActionID
	}
	return ""
}

func TestRunErrors(t *testing.T) {
	set := mustParse(t, `version: 1
playbooks:
  - name: by-port
    on: [event]
    when: trigger.fields.port > 1024
    actions: [quarantine: {}]
  - name: computed
    on: [event]
    when: 'true'
    actions:
      - quarantine: {entity: 'trigger.fields.host ?? ""'}
      - publish: {subject: '"sectwin.response." + trigger.entity'}
      - finding: {title: '"t"', severity: LOW, entity: trigger.fields.host}
`)
	tests := []struct {
		name    string
		in      response.Trigger
		failed  map[response.ActionKind]string // action → error text; "" for the condition
		queued  int
		decided int
	}{
		{"a port that is no number", response.Trigger{Kind: response.KindEvent, Entity: "h", Fields: map[string]any{"port": "http"}},
			map[response.ActionKind]string{"": "condition", response.ActionQuarantine: "entity: is empty", response.ActionFinding: "not a string"}, 1, 2},
		{"a wildcard subject", response.Trigger{Kind: response.KindEvent, Entity: ">", Fields: map[string]any{"port": 80, "host": "h"}},
			map[response.ActionKind]string{response.ActionPublish: "not a NATS subject"}, 2, 2},
		{"a control character", response.Trigger{Kind: response.KindEvent, Entity: "x", Fields: map[string]any{"port": 80, "host": "h\n"}},
			map[response.ActionKind]string{response.ActionQuarantine: "control characters", response.ActionFinding: "control characters"}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &executor{}
			ring := response.NewRing(100)
			e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now})
			ds := e.Run(context.Background(), tt.in)
			if len(ds) != tt.decided {
				t.Errorf("%d decisions", len(ds))
			}
			shutdown(t, e)
			got := map[response.ActionKind]string{}
			for _, r := range ring.Records() {
				if r.Outcome == response.OutcomeFailed {
					got[r.Action] = r.Error
					if r.Attempts != 0 {
						t.Errorf("%s failed after %d attempts; it was never attempted", r.Action, r.Attempts)
					}
				}
			}
			for k, msg := range tt.failed {
				if !strings.Contains(got[k], msg) {
					t.Errorf("%q failed with %q, want %q (records %+v)", k, got[k], msg, ring.Records())
				}
			}
			if len(got) != len(tt.failed) {
				t.Errorf("failures %v, want %v", got, tt.failed)
			}
			if n := len(x.Calls()); n != tt.queued {
				t.Errorf("%d actions executed, want %d", n, tt.queued)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	set := mustParse(t, pb(okFields+"    rate: {max: 3, per: 1m, key: trigger.entity}\n    actions: [quarantine: {}]\n"))
	clk := newClock()
	x := &executor{}
	ring := response.NewRing(1000)
	e := newEngine(t, set, x, ring, response.Options{Now: clk.Now})
	steps := []struct {
		advance time.Duration
		entity  string
		allowed bool
	}{
		{0, "a", true}, {0, "a", true}, {0, "a", true},
		{0, "a", false}, // three a minute
		{0, "b", true},  // another key has its own bucket
		{19999 * time.Millisecond, "a", false},
		{time.Millisecond, "a", true}, // 20 s gives one token back, exactly
		{0, "a", false},
		{time.Hour, "a", true}, {0, "a", true}, {0, "a", true}, // refilled, never above three
		{0, "a", false},
		{0, "b", true}, {0, "b", true}, {0, "b", true}, // b's bucket refilled too
		{0, "b", false},
	}
	allowed := 0
	for i, s := range steps {
		clk.Advance(s.advance)
		tr := response.Trigger{Kind: response.KindAlert, Entity: s.entity}
		if ev := e.Evaluate(context.Background(), tr); ev[0].RateLimited == s.allowed {
			t.Errorf("step %d: Evaluate says rate limited %v, want %v", i, ev[0].RateLimited, !s.allowed)
		}
		d := e.Run(context.Background(), tr)[0]
		if d.RateLimited == s.allowed {
			t.Errorf("step %d (%s at +%s): rate limited %v (%s), want %v", i, s.entity, s.advance, d.RateLimited, d.Reason, !s.allowed)
		}
		if s.allowed {
			allowed++
		} else if d.Actions[0].Outcome != response.OutcomeRateLimited || !strings.Contains(d.Reason, "rate limit of 3 per 1m0s") {
			t.Errorf("step %d: outcome %q, reason %q", i, d.Actions[0].Outcome, d.Reason)
		}
	}
	shutdown(t, e)
	if n := len(x.Calls()); n != allowed {
		t.Errorf("%d actions executed, want %d", n, allowed)
	}
	limited := 0
	for _, r := range ring.Records() {
		if r.Outcome == response.OutcomeRateLimited {
			limited++
		}
	}
	if limited != len(steps)-allowed {
		t.Errorf("%d rate_limited records, want %d", limited, len(steps)-allowed)
	}
}

func TestRateLimitKeyTable(t *testing.T) {
	set := mustParse(t, pb(okFields+"    rate: {max: 1, per: 1m, key: trigger.entity}\n    actions: [quarantine: {}]\n"))
	clk := newClock()
	e := newEngine(t, set, &executor{}, response.NewRing(100), response.Options{Now: clk.Now, MaxRateKeys: 2})
	run := func(entity string) response.Decision {
		return e.Run(context.Background(), response.Trigger{Kind: response.KindAlert, Entity: entity})[0]
	}
	if run("a").RateLimited || run("b").RateLimited {
		t.Fatal("the first two keys were limited")
	}
	if d := run("c"); !d.RateLimited || !strings.Contains(d.Reason, "key table full") {
		t.Errorf("a third key while two are busy: %+v", d)
	}
	clk.Advance(time.Minute) // a and b are idle: full again, as good as new
	if d := run("c"); d.RateLimited {
		t.Errorf("a third key once the others are idle: %+v", d)
	}
	if d := run("c"); !d.RateLimited {
		t.Error("c's bucket was not kept")
	}
	if d := run("a"); d.RateLimited {
		t.Error("a was not full again")
	}
}

func TestDryRun(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	set := mustParse(t, example)
	alert := response.Trigger{ID: "a1", Kind: response.KindAlert, Entity: "host-7", Severity: "CRITICAL", Type: "r", Fields: map[string]any{"technique": "T1059"}}
	tests := []struct {
		name   string
		global bool
		in     response.Trigger
		dry    int
	}{
		{"a dry playbook", false, alert, 1},
		{"a live playbook, the engine dry", true, dmzToCore, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &executor{}
			ring := response.NewRing(100)
			e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now, DryRun: tt.global})
			d := e.Run(context.Background(), tt.in)[0]
			shutdown(t, e)
			if !d.DryRun || d.Reason != "dry run" {
				t.Errorf("decision %+v", d)
			}
			if n := len(x.Calls()); n != 0 {
				t.Errorf("a dry run executed %d actions", n)
			}
			recs := ring.Records()
			if len(recs) != tt.dry {
				t.Fatalf("%d records, want %d: %+v", len(recs), tt.dry, recs)
			}
			for _, r := range recs {
				if r.Outcome != response.OutcomeDryRun || !r.DryRun || r.TriggerID != tt.in.ID || r.Args == nil || r.ActionID == "" {
					t.Errorf("record %+v", r)
				}
			}
		})
	}
}

func TestRetries(t *testing.T) {
	set := mustParse(t, pb(okFields+"    actions: [quarantine: {}, publish: {subject: '\"sectwin.response.x\"'}]\n"))
	tests := []struct {
		name      string
		failures  int
		permanent bool
		outcome   response.Outcome
		attempts  int
		retries   int
	}{
		{"succeeds at once", 0, false, response.OutcomeDone, 1, 0},
		{"succeeds at the third attempt", 2, false, response.OutcomeDone, 3, 2},
		{"fails every attempt", 10, false, response.OutcomeFailed, 4, 3},
		{"fails permanently", 10, true, response.OutcomeFailed, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &executor{failures: map[response.ActionKind]int{response.ActionQuarantine: tt.failures}, permanent: tt.permanent}
			ring := response.NewRing(100)
			e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now, MaxAttempts: 4, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
			e.Run(context.Background(), response.Trigger{ID: "t1", Kind: response.KindAlert, Entity: "h1"})
			shutdown(t, e)
			var outcomes []string
			retries := 0
			for _, r := range ring.Records() {
				if r.Action != response.ActionQuarantine {
					continue
				}
				outcomes = append(outcomes, string(r.Outcome))
				switch r.Outcome {
				case response.OutcomeRetrying:
					retries++
					if r.Error == "" || r.Attempts != retries {
						t.Errorf("retry record %+v", r)
					}
				case response.OutcomeDone, response.OutcomeFailed:
					if r.Outcome != tt.outcome || r.Attempts != tt.attempts {
						t.Errorf("outcome %s after %d attempts, want %s after %d", r.Outcome, r.Attempts, tt.outcome, tt.attempts)
					}
					if (r.Outcome == response.OutcomeFailed) != (r.Error != "") {
						t.Errorf("outcome %s with error %q", r.Outcome, r.Error)
					}
				}
			}
			if retries != tt.retries || outcomes[0] != string(response.OutcomeQueued) {
				t.Errorf("records %v, want queued first and %d retries", outcomes, tt.retries)
			}
			// The quarantine's failure does not stop the publish after it.
			var published bool
			for _, a := range x.Calls() {
				published = published || a.Action() == response.ActionPublish
			}
			if !published {
				t.Error("the publish after a failing quarantine did not run")
			}
		})
	}
}

func TestRunNeverBlocks(t *testing.T) {
	set := mustParse(t, pb(okFields+"    rate: {max: 10000, per: 1s}\n    actions: [quarantine: {}, publish: {subject: '\"sectwin.response.x\"'}]\n"))
	x := &executor{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	ring := response.NewRing(10000)
	e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now, Workers: 1, QueueSize: 2})

	const n = 200
	done := make(chan []response.Decision, n)
	go func() {
		for i := range n {
			done <- e.Run(context.Background(), response.Trigger{ID: fmt.Sprint(i), Kind: response.KindAlert, Entity: "h"})
		}
		close(done)
	}()
	deadline := time.After(5 * time.Second)
	queued, dropped := 0, 0
	for got := 0; got < n; {
		select {
		case ds, ok := <-done:
			if !ok {
				t.Fatalf("%d decisions", got)
			}
			got++
			for _, a := range ds[0].Actions {
				switch a.Outcome {
				case response.OutcomeQueued:
					queued++
				case response.OutcomeDropped:
					dropped++
				default:
					t.Errorf("outcome %q", a.Outcome)
				}
			}
		case <-deadline:
			t.Fatal("Run blocked on a busy executor")
		}
	}
	// One decision with the worker, two in the queue: the rest are dropped.
	if queued > 2*3 || dropped < 2*(n-3) {
		t.Errorf("%d actions queued and %d dropped of %d", queued, dropped, 2*n)
	}
	close(x.block)
	shutdown(t, e)
	final := map[string]response.Outcome{}
	for _, r := range ring.Records() {
		if r.Outcome == response.OutcomeDropped && !strings.Contains(r.Error, "queue is full") {
			t.Errorf("dropped with %q", r.Error)
		}
		final[r.ActionID] = r.Outcome
	}
	for id, o := range final {
		if o != response.OutcomeDone && o != response.OutcomeDropped {
			t.Errorf("action %s ended %s", id, o)
		}
	}
	if len(final) != 2*n {
		t.Errorf("%d actions audited, want %d", len(final), 2*n)
	}
}

func TestShutdown(t *testing.T) {
	set := mustParse(t, pb(okFields+"    rate: {max: 100, per: 1s}\n    actions: [quarantine: {}]\n"))
	x := &executor{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	ring := response.NewRing(100)
	e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now, Workers: 1, QueueSize: 4})
	for i := range 3 {
		e.Run(context.Background(), response.Trigger{ID: fmt.Sprint(i), Kind: response.KindAlert, Entity: "h"})
	}
	<-x.entered // the first action is in progress, two wait
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	d := e.Run(context.Background(), response.Trigger{ID: "late", Kind: response.KindAlert, Entity: "h"})
	if d[0].Actions[0].Outcome != response.OutcomeDropped {
		t.Errorf("Run after Shutdown: %+v", d)
	}
	final := map[string]response.AuditRecord{}
	for _, r := range ring.Records() {
		if r.Outcome != response.OutcomeQueued {
			final[r.TriggerID] = r
		}
	}
	for id, want := range map[string]response.Outcome{"0": response.OutcomeFailed, "1": response.OutcomeDropped, "2": response.OutcomeDropped, "late": response.OutcomeDropped} {
		if r := final[id]; r.Outcome != want || !strings.Contains(r.Error, "shut down") && !strings.Contains(r.Error, "deadline") {
			t.Errorf("trigger %s: %s (%s), want %s", id, r.Outcome, r.Error, want)
		}
	}
}

func TestSecretsNeverAudited(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	in := strings.Replace(example, "https://soc.example/hook?team=blue", srv.URL+"/hook?token=query-token", 1)
	set := mustParse(t, in)
	ring := response.NewRing(1000)
	x := webhookVia{&executor{}, &response.WebhookPoster{Client: srv.Client()}}
	e := newEngine(t, set, x, ring, response.Options{Now: newClock().Now, MaxAttempts: 2, Backoff: time.Millisecond})
	ds := e.Run(context.Background(), dmzToCore)
	shutdown(t, e)

	// The audit trail shows neither the secret nor the URL's query.
	var out bytes.Buffer
	log := zerolog.New(&out)
	for _, r := range ring.Records() {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		fmt.Fprintf(&out, "%v %+v %#v\n", r, r, r)
		log.Info().Interface("record", r).Send()
	}
	audited := out.String()
	if strings.Contains(audited, testSecret) || strings.Contains(audited, "query-token") {
		t.Error("a secret or the URL's query reached the audit trail")
	}
	if !strings.Contains(audited, `"outcome":"failed"`) || !strings.Contains(audited, "503") {
		t.Errorf("the failing webhook was not audited:\n%s", audited)
	}
	// Decisions, arguments and logs of them do not show the secret.
	out.Reset()
	for _, d := range ds {
		fmt.Fprintf(&out, "%v %+v %#v\n", d, d, d)
		log.Info().Interface("decision", d).Send()
		for _, a := range d.Actions {
			if w, ok := a.Args.(response.Webhook); ok {
				fmt.Fprintf(&out, "%v %+v %s %q\n", w, w, w.Secret, w.Secret)
				log.Info().Interface("webhook", w).Stringer("secret", w.Secret).Send()
			}
		}
	}
	if strings.Contains(out.String(), testSecret) {
		t.Error("a decision shows the secret")
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Error("the decisions were not rendered")
	}
}

// webhookVia executes webhooks with a WebhookPoster and the rest with a fake.
type webhookVia struct {
	*executor
	*response.WebhookPoster
}

func (w webhookVia) Webhook(ctx context.Context, h response.Webhook) error {
	return w.WebhookPoster.Webhook(ctx, h)
}

func TestNew(t *testing.T) {
	set := mustParse(t, pb(okFields+"    actions: [quarantine: {}]\n"))
	for _, tt := range []struct {
		set *response.Set
		x   response.Executor
		a   response.Auditor
	}{{nil, &executor{}, response.NewRing(1)}, {set, nil, response.NewRing(1)}, {set, &executor{}, nil}} {
		if e, err := response.New(tt.set, tt.x, tt.a, response.Options{}); err == nil {
			t.Errorf("New(%v, %v, %v) = %v", tt.set, tt.x, tt.a, e)
		}
	}
}

func TestRing(t *testing.T) {
	r := response.NewRing(3)
	for i := range 5 {
		r.Record(context.Background(), response.AuditRecord{Attempts: i})
	}
	var got []int
	for _, rec := range r.Records() {
		got = append(got, rec.Attempts)
	}
	if fmt.Sprint(got) != "[2 3 4]" {
		t.Errorf("records %v", got)
	}
}
