package response

import (
	"context"
	"sync"
	"time"
)

// Outcome is what became of an action, as an audit record says.
type Outcome string

// The outcomes.
const (
	// OutcomeQueued: the action was accepted for execution.
	OutcomeQueued Outcome = "queued"
	// OutcomeRetrying: an attempt failed and another will follow.
	OutcomeRetrying Outcome = "retrying"
	// OutcomeDone: an attempt succeeded.
	OutcomeDone Outcome = "done"
	// OutcomeFailed: every attempt failed, the failure was permanent, the arguments could not
	// be computed, or the condition could not be evaluated.
	OutcomeFailed Outcome = "failed"
	// OutcomeRateLimited: the playbook's rate limit refused the trigger.
	OutcomeRateLimited Outcome = "rate_limited"
	// OutcomeDropped: the queue was full, or the engine shut down before the action ran.
	OutcomeDropped Outcome = "dropped"
	// OutcomeDryRun: the playbook or the engine runs dry; the action was not executed.
	OutcomeDryRun Outcome = "dry_run"
)

// AuditRecord is one entry of the response audit trail: a decision, an attempt or an outcome.
type AuditRecord struct {
	At       time.Time  `json:"at"`
	Playbook string     `json:"playbook"`
	Action   ActionKind `json:"action,omitempty"` // empty when the condition failed
	ActionID string     `json:"action_id,omitempty"`
	// The trigger.
	TriggerID      string `json:"trigger_id"`
	TriggerKind    Kind   `json:"trigger_kind"`
	Twin           string `json:"twin,omitempty"`
	TriggerSummary string `json:"trigger_summary"`
	// Args are the action's computed arguments, secrets redacted.
	Args     map[string]string `json:"args,omitempty"`
	DryRun   bool              `json:"dry_run"`
	Outcome  Outcome           `json:"outcome"`
	Attempts int               `json:"attempts"`
	Error    string            `json:"error,omitempty"`
}

// Auditor receives the audit trail. Record is called from Run's caller (decisions, rate
// limits, drops) and from the workers (attempts, outcomes), concurrently: it must be safe for
// concurrent use and must not block for long (buffer, and drop rather than wait).
type Auditor interface {
	Record(ctx context.Context, r AuditRecord)
}

// Ring is an in-memory Auditor keeping the last records, for tests and for a status page.
type Ring struct {
	mu   sync.Mutex
	buf  []AuditRecord
	next int
	full bool
}

// NewRing returns a Ring keeping the last n records (at least one).
func NewRing(n int) *Ring { return &Ring{buf: make([]AuditRecord, max(n, 1))} }

// Record implements Auditor.
func (r *Ring) Record(_ context.Context, rec AuditRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = rec
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// Records returns the records kept, oldest first.
func (r *Ring) Records() []AuditRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]AuditRecord(nil), r.buf[:r.next]...)
	}
	return append(append([]AuditRecord(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}
