package response

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Defaults of Options.
const (
	DefaultWorkers       = 4
	DefaultQueueSize     = 1024
	DefaultMaxAttempts   = 5
	DefaultBackoff       = time.Second
	DefaultMaxBackoff    = time.Minute
	DefaultActionTimeout = 30 * time.Second
	DefaultMaxRateKeys   = 10000
)

// Bounds of computed arguments. An entity or subject over its bound is an error (cutting it
// could name something else); texts are cut.
const (
	maxEntityBytes  = 1024
	maxSubjectBytes = 256
	maxTitleBytes   = 512
	maxTextBytes    = 4096
)

// ErrShutdown is the error of actions dropped because the engine shut down.
var ErrShutdown = errors.New("the response engine shut down")

// Options configure an Engine; zero values take the defaults.
type Options struct {
	// Now is the clock of decisions, rate limits and audit records (default time.Now).
	Now func() time.Time
	// DryRun runs every playbook dry: triggers are evaluated and audited, never executed.
	DryRun bool
	// Workers execute actions; QueueSize decisions may wait for one. A decision arriving at a
	// full queue is dropped (and audited), never waited for.
	Workers   int
	QueueSize int
	// MaxAttempts bounds the attempts at an action; the wait before a retry starts at Backoff
	// and doubles up to MaxBackoff (each wait is jittered down by up to a half).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// ActionTimeout bounds one attempt.
	ActionTimeout time.Duration
	// MaxRateKeys bounds the rate limit buckets of a playbook (see Decision.RateLimited).
	MaxRateKeys int
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, DefaultWorkers)
	def(&o.QueueSize, DefaultQueueSize)
	def(&o.MaxAttempts, DefaultMaxAttempts)
	def(&o.MaxRateKeys, DefaultMaxRateKeys)
	defDur(&o.Backoff, DefaultBackoff)
	defDur(&o.MaxBackoff, DefaultMaxBackoff)
	defDur(&o.ActionTimeout, DefaultActionTimeout)
	return o
}

// Decision is what a playbook makes of a trigger. Evaluate and Run return one for every
// playbook listening to the trigger's kind.
type Decision struct {
	Playbook  string
	TriggerID string // the trigger's id, assigned by the engine when it had none
	// Matched: the condition held.
	Matched bool
	// RateLimited: the condition held but the rate limit refused the trigger, because the
	// key's bucket was empty or because every one of Options.MaxRateKeys buckets was in use.
	RateLimited bool
	// DryRun: the playbook or the engine runs dry.
	DryRun bool
	// Reason says why the actions do not run: the condition was false, the rate limit, the dry
	// run, or Err. Empty when they run.
	Reason string
	// Err is an error evaluating the condition or the rate key; no action runs.
	Err error
	// Actions are computed when the condition held, rate limited or not.
	Actions []Action
}

// Action is one action of a decision, with its computed arguments.
type Action struct {
	Index int // in the playbook's actions
	Kind  ActionKind
	Args  Args  // nil when Err
	Err   error // the arguments could not be computed
	// Outcome is set by Run: queued, dropped, dry_run, rate_limited or failed (arguments).
	// Evaluate leaves it empty.
	Outcome Outcome
}

// Notice is the JSON body of publish and webhook actions.
type Notice struct {
	ID       string    `json:"id"` // the action id: the same on every retry and redelivery
	Playbook string    `json:"playbook"`
	At       time.Time `json:"at"`
	Trigger  Trigger   `json:"trigger"`
}

// Engine evaluates triggers against a Set of playbooks and executes the actions.
type Engine struct {
	set      *Set
	x        Executor
	a        Auditor
	o        Options
	limiters []*limiter // by playbook index
	seq      atomic.Uint64

	queue   chan *job
	mu      sync.RWMutex // guards closed against enqueues
	closed  bool
	closing chan struct{}
	base    context.Context // workers' context, cancelled when Shutdown gives up waiting
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// job is a decision's runnable actions, for a worker. ready closes once Run has audited them
// as queued, so that no outcome is recorded before its decision.
type job struct {
	rec     AuditRecord // the decision's part of every record
	actions []Action
	ready   chan struct{}
}

// New starts an engine running set's playbooks with x, auditing to a. Shutdown stops it.
func New(set *Set, x Executor, a Auditor, o Options) (*Engine, error) {
	switch {
	case set == nil:
		return nil, errors.New("response: no playbooks")
	case x == nil:
		return nil, errors.New("response: no executor")
	case a == nil:
		return nil, errors.New("response: no auditor")
	}
	o = o.withDefaults()
	e := &Engine{set: set, x: x, a: a, o: o, queue: make(chan *job, o.QueueSize), closing: make(chan struct{})}
	for _, p := range set.playbooks {
		e.limiters = append(e.limiters, newLimiter(p.max, p.per, o.MaxRateKeys))
	}
	e.base, e.cancel = context.WithCancel(context.Background())
	for range o.Workers {
		e.wg.Add(1)
		go e.work()
	}
	return e, nil
}

// Evaluate says what the playbooks would make of t, without executing, auditing or taking
// rate limit tokens: RateLimited says whether the bucket is empty now.
func (e *Engine) Evaluate(_ context.Context, t Trigger) []Decision {
	_, ds := e.decide(t, false)
	return ds
}

// Run evaluates t, takes rate limit tokens, audits every decision and queues the actions that
// may run for the workers. It never waits for an action: when the queue is full, or the engine
// has shut down, the actions are audited as dropped. ctx carries values to the Auditor; its
// cancellation does not stop actions already queued.
func (e *Engine) Run(ctx context.Context, t Trigger) []Decision {
	ctx = context.WithoutCancel(ctx)
	t, ds := e.decide(t, true)
	for i := range ds {
		d := &ds[i]
		rec := AuditRecord{
			Playbook: d.Playbook, TriggerID: t.ID, TriggerKind: t.Kind, Twin: t.Twin,
			TriggerSummary: t.Summary(), DryRun: d.DryRun,
		}
		if d.Err != nil {
			r := rec
			r.At, r.Outcome, r.Error = e.o.Now(), OutcomeFailed, d.Err.Error()
			e.a.Record(ctx, r)
			continue
		}
		if !d.Matched {
			continue
		}
		j := &job{rec: rec, ready: make(chan struct{})}
		for k := range d.Actions {
			a := &d.Actions[k]
			var msg string
			switch {
			case d.RateLimited:
				a.Outcome, msg = OutcomeRateLimited, d.Reason
			case a.Err != nil:
				a.Outcome, msg = OutcomeFailed, a.Err.Error()
			case d.DryRun:
				a.Outcome = OutcomeDryRun
			default:
				j.actions = append(j.actions, *a)
				continue
			}
			e.record(ctx, rec, *a, a.Outcome, 0, msg)
		}
		if len(j.actions) > 0 {
			e.submit(ctx, d, j)
		}
	}
	return ds
}

// submit queues j for the workers and audits its actions as queued, or as dropped.
func (e *Engine) submit(ctx context.Context, d *Decision, j *job) {
	defer close(j.ready)
	outcome, msg := OutcomeQueued, ""
	if err := e.enqueue(j); err != nil {
		outcome, msg = OutcomeDropped, err.Error()
	}
	for _, a := range j.actions {
		d.Actions[a.Index].Outcome = outcome
		e.record(ctx, j.rec, a, outcome, 0, msg)
	}
}

// enqueue hands j to the workers without waiting.
func (e *Engine) enqueue(j *job) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrShutdown
	}
	select {
	case e.queue <- j:
		return nil
	default:
		return fmt.Errorf("the response queue is full (%d decisions waiting)", cap(e.queue))
	}
}

// Shutdown stops accepting triggers (Run drops their actions) and waits for the workers to
// finish the queue. When ctx ends first, it cancels the actions in progress, drops the rest
// (audited) and returns ctx's error once the workers have stopped.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.closing)
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		e.cancel()
		return nil
	case <-ctx.Done():
		e.cancel()
		<-done
		return fmt.Errorf("response: shutdown: %w", ctx.Err())
	}
}

func (e *Engine) work() {
	defer e.wg.Done()
	for {
		select {
		case j := <-e.queue:
			e.do(j)
		case <-e.closing:
			for {
				select {
				case j := <-e.queue:
					e.do(j)
				default:
					return
				}
			}
		}
	}
}

// do executes a job's actions in playbook order; each is retried on its own.
func (e *Engine) do(j *job) {
	<-j.ready
	ctx := context.WithoutCancel(e.base)
	for _, a := range j.actions {
		if e.base.Err() != nil {
			e.record(ctx, j.rec, a, OutcomeDropped, 0, fmt.Errorf("%w before the action ran", ErrShutdown).Error())
			continue
		}
		e.execute(ctx, j.rec, a)
	}
}

func (e *Engine) execute(ctx context.Context, rec AuditRecord, a Action) {
	for attempt := 1; ; attempt++ {
		err := e.attempt(a.Args)
		if err == nil {
			e.record(ctx, rec, a, OutcomeDone, attempt, "")
			return
		}
		if e.base.Err() != nil {
			e.record(ctx, rec, a, OutcomeFailed, attempt, fmt.Sprintf("%v; %v", err, ErrShutdown))
			return
		}
		if errors.Is(err, ErrPermanent) || attempt >= e.o.MaxAttempts {
			e.record(ctx, rec, a, OutcomeFailed, attempt, err.Error())
			return
		}
		e.record(ctx, rec, a, OutcomeRetrying, attempt, err.Error())
		t := time.NewTimer(e.backoff(attempt))
		select {
		case <-t.C:
		case <-e.base.Done():
			t.Stop()
			e.record(ctx, rec, a, OutcomeFailed, attempt, fmt.Sprintf("%v; %v before the next attempt", err, ErrShutdown))
			return
		}
	}
}

// attempt executes once, bounded by ActionTimeout; a panicking Executor is a permanent failure.
func (e *Engine) attempt(args Args) (err error) {
	ctx, cancel := context.WithTimeout(e.base, e.o.ActionTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("executor panicked: %v: %w", r, ErrPermanent)
		}
	}()
	return args.exec(ctx, e.x)
}

// backoff is the wait after the attempt-th failure: Backoff doubling up to MaxBackoff,
// jittered down by up to a half so that actions failing together do not retry together.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.o.Backoff
	for i := 1; i < attempt && d < e.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, e.o.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func (e *Engine) record(ctx context.Context, rec AuditRecord, a Action, outcome Outcome, attempts int, msg string) {
	rec.At, rec.Action, rec.Outcome, rec.Attempts, rec.Error = e.o.Now(), a.Kind, outcome, attempts, msg
	if a.Args != nil {
		rec.ActionID = a.Args.cause().ActionID
		rec.Args = a.Args.Audit()
	}
	e.a.Record(ctx, rec)
}

// decide evaluates t against every playbook listening to its kind; take consumes rate limit
// tokens. It returns t with its id and time filled in.
func (e *Engine) decide(t Trigger, take bool) (Trigger, []Decision) {
	now := e.o.Now()
	if t.ID == "" {
		t.ID = fmt.Sprintf("%s-%d-%d", t.Kind, now.UnixNano(), e.seq.Add(1))
	}
	if t.At.IsZero() {
		t.At = now
	}
	env := envOf(t)
	var ds []Decision
	for i, p := range e.set.playbooks {
		if !slices.Contains(p.on, t.Kind) {
			continue
		}
		d := Decision{Playbook: p.name, TriggerID: t.ID, DryRun: p.dryRun || e.o.DryRun}
		ok, err := evalBool(p.when, env)
		if err != nil {
			d.Err = fmt.Errorf("playbook %s: condition: %w", p.name, err)
		}
		d.Matched = ok
		key := ""
		if ok && p.key != nil {
			if key, err = evalString(p.key, env); err != nil {
				d.Err = fmt.Errorf("playbook %s: rate key: %w", p.name, err)
			}
		}
		switch {
		case d.Err != nil:
			d.Reason = d.Err.Error()
		case !ok:
			d.Reason = "the condition is false"
		}
		if d.Reason != "" {
			ds = append(ds, d)
			continue
		}
		if allowed, why := e.limiters[i].allow(key, now, take); !allowed {
			d.RateLimited, d.Reason = true, why
		} else if d.DryRun {
			d.Reason = "dry run"
		}
		for k, a := range p.actions {
			args, err := computeArgs(p, k, a, t, env)
			d.Actions = append(d.Actions, Action{Index: k, Kind: a.kind, Args: args, Err: err})
		}
		ds = append(ds, d)
	}
	return t, ds
}

// computeArgs evaluates an action's expressions over the trigger.
func computeArgs(p *playbook, index int, a action, t Trigger, env exprEnv) (Args, error) {
	c := Cause{
		ActionID:    hashID(p.name, strconv.Itoa(index), t.ID),
		Playbook:    p.name,
		TriggerID:   t.ID,
		TriggerKind: t.Kind,
		Twin:        t.Twin,
	}
	fail := func(field string, err error) (Args, error) {
		return nil, fmt.Errorf("%s %s: %w", a.kind, field, err)
	}
	text := func(prog *vm.Program, def string, limit int) (string, error) {
		if prog == nil {
			return clip(def, limit), nil
		}
		s, err := evalString(prog, env)
		return clip(s, limit), err
	}
	var entity string
	if a.kind == ActionQuarantine || a.kind == ActionFinding || a.kind == ActionDefeater {
		entity = t.Entity
		if a.entity != nil {
			var err error
			if entity, err = evalString(a.entity, env); err != nil {
				return fail("entity", err)
			}
		}
		if err := checkName(entity, maxEntityBytes); err != nil {
			return fail("entity", err)
		}
	}
	summary := p.name + ": " + t.Summary()
	switch a.kind {
	case ActionQuarantine:
		reason, err := text(a.reason, summary, maxTextBytes)
		if err != nil {
			return fail("reason", err)
		}
		return Quarantine{Cause: c, Entity: entity, Reason: reason}, nil
	case ActionPublish:
		subject, err := evalString(a.subject, env)
		if err == nil {
			err = checkSubject(subject)
		}
		if err != nil {
			return fail("subject", err)
		}
		payload, err := json.Marshal(Notice{ID: c.ActionID, Playbook: p.name, At: t.At, Trigger: t})
		if err != nil {
			return fail("payload", err)
		}
		return Publish{Cause: c, Subject: subject, Payload: payload}, nil
	case ActionWebhook:
		body, err := json.Marshal(Notice{ID: c.ActionID, Playbook: p.name, At: t.At, Trigger: t})
		if err != nil {
			return fail("body", err)
		}
		return Webhook{Cause: c, URL: a.url, Secret: a.secret, Body: body}, nil
	case ActionFinding:
		title, err := text(a.title, "", maxTitleBytes)
		if err == nil && strings.TrimSpace(title) == "" {
			err = errors.New("is empty")
		}
		if err != nil {
			return fail("title", err)
		}
		msg, err := text(a.message, summary, maxTextBytes)
		if err != nil {
			return fail("message", err)
		}
		return Finding{Cause: c, Fingerprint: hashID(p.name, strconv.Itoa(index), t.Twin, entity),
			Entity: entity, Title: title, Severity: a.severity, Message: msg}, nil
	case ActionDefeater:
		txt, err := text(a.text, summary, maxTextBytes)
		if err != nil {
			return fail("text", err)
		}
		return Defeater{Cause: c, ID: hashID(p.name, strconv.Itoa(index), t.Twin),
			Entity: entity, Kind: a.defeaterKind, Severity: a.severity, Text: txt, Evidence: a.evidence, Trigger: t}, nil
	}
	return nil, fmt.Errorf("unknown action %q", a.kind)
}

// checkName accepts a non-empty identifier without control characters, at most limit bytes.
func checkName(s string, limit int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("is empty")
	case len(s) > limit:
		return fmt.Errorf("is longer than %d bytes", limit)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errors.New("holds control characters")
	}
	return nil
}

// checkSubject accepts a NATS subject under SubjectPrefix without wildcards or empty tokens.
func checkSubject(s string) error {
	if err := checkName(s, maxSubjectBytes); err != nil {
		return err
	}
	if !strings.HasPrefix(s, SubjectPrefix) {
		return fmt.Errorf("%q does not start with %q", clip(s, 80), SubjectPrefix)
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t") {
			return fmt.Errorf("%q is not a NATS subject to publish to (empty tokens, wildcards or spaces)", clip(s, 80))
		}
	}
	return nil
}

// hashID is a stable id of its parts.
func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func evalBool(prog *vm.Program, env exprEnv) (bool, error) {
	out, err := expr.Run(prog, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("gives %T, not true or false", out)
	}
	return b, nil
}

func evalString(prog *vm.Program, env exprEnv) (string, error) {
	out, err := expr.Run(prog, env)
	if err != nil {
		return "", err
	}
	s, ok := out.(string)
	if !ok {
		return "", fmt.Errorf("gives %T, not a string", out)
	}
	return s, nil
}
