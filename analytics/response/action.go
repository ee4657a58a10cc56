package response

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/sectwin/sectwin/edge/secret"
)

// ActionKind names an action, as in a playbook's actions list.
type ActionKind string

// The actions.
const (
	ActionQuarantine ActionKind = "quarantine"
	ActionPublish    ActionKind = "publish"
	ActionWebhook    ActionKind = "webhook"
	ActionFinding    ActionKind = "finding"
	ActionDefeater   ActionKind = "defeater"
)

// ActionKinds lists every action.
func ActionKinds() []ActionKind {
	return []ActionKind{ActionQuarantine, ActionPublish, ActionWebhook, ActionFinding, ActionDefeater}
}

// ErrPermanent marks an action error that retrying cannot fix (a refused webhook, an unknown
// entity): an Executor wraps it (fmt.Errorf("…: %w", ErrPermanent)) and the engine records the
// action as failed without retrying.
var ErrPermanent = errors.New("permanent failure")

// Executor carries out actions: the server implements it against Neo4j, NATS and HTTP (a
// WebhookPoster serves Webhook). Its methods are called from the engine's workers, never from
// Run's caller, each with a context bounded by Options.ActionTimeout. An action may be
// delivered more than once (a retry after a timeout that had in fact succeeded): the ids in
// each argument make it idempotent. Errors must not hold secrets; they go to audit records.
type Executor interface {
	Quarantine(ctx context.Context, q Quarantine) error
	Publish(ctx context.Context, p Publish) error
	Webhook(ctx context.Context, w Webhook) error
	OpenFinding(ctx context.Context, f Finding) error
	CreateDefeater(ctx context.Context, d Defeater) error
}

// Cause says why an action runs.
type Cause struct {
	// ActionID is the same for every attempt and every delivery of the same trigger: a hash of
	// the playbook, the action's index and the trigger id.
	ActionID    string
	Playbook    string
	TriggerID   string
	TriggerKind Kind
	Twin        string
}

// Quarantine marks an entity of the twin quarantined.
type Quarantine struct {
	Cause
	Entity string
	Reason string
}

// Publish publishes Payload, a JSON Notice, on a NATS subject under SubjectPrefix.
type Publish struct {
	Cause
	Subject string
	Payload []byte
}

// Webhook POSTs Body, a JSON Notice, to URL, signed with Secret (see WebhookPoster).
type Webhook struct {
	Cause
	URL    string
	Secret secret.Value // prints as [redacted]
	Body   []byte
}

// Finding opens a Finding about an entity. Fingerprint hashes the playbook, the action's
// index, the twin and the entity: a playbook firing again about the same entity refreshes one
// Finding rather than opening another.
type Finding struct {
	Cause
	Fingerprint string
	Entity      string
	Title       string
	Severity    string // LOW, MEDIUM, HIGH or CRITICAL
	Message     string
}

// Defeater evidence modes (the defeater action's evidence field).
const (
	// DefeaterEvidenceTrigger backs the defeater with evidence that the trigger (an anomaly, an
	// alert) is still in the twin: the executor decides what that evidence reads.
	DefeaterEvidenceTrigger = "trigger"
	// DefeaterEvidenceNone leaves the defeater without evidence: untriaged, it weighs by the
	// severity policy until a person triages it.
	DefeaterEvidenceNone = "none"
)

// Defeater creates a defeater challenging the claims about an entity. ID hashes the playbook,
// the action's index and the twin: the executor derives each defeater's id from it and the
// claim it challenges, so the same action firing again about the same claim (whatever name or
// address the trigger gives the entity) names the same defeater.
type Defeater struct {
	Cause
	ID       string
	Entity   string
	Kind     string // rebutting, undercutting or undermining
	Severity string // low, medium, high or critical
	Text     string
	// Evidence is DefeaterEvidenceTrigger or DefeaterEvidenceNone.
	Evidence string
	// Trigger is what fired the playbook, for the executor to point the evidence at.
	Trigger Trigger
}

// Args are an action's computed arguments: a Quarantine, Publish, Webhook, Finding or
// Defeater.
type Args interface {
	// Action is the action's kind.
	Action() ActionKind
	// Audit is the arguments as audit records show them, secrets redacted.
	Audit() map[string]string
	cause() Cause
	exec(ctx context.Context, x Executor) error
}

// Action implements Args.
func (Quarantine) Action() ActionKind { return ActionQuarantine }

// Action implements Args.
func (Publish) Action() ActionKind { return ActionPublish }

// Action implements Args.
func (Webhook) Action() ActionKind { return ActionWebhook }

// Action implements Args.
func (Finding) Action() ActionKind { return ActionFinding }

// Action implements Args.
func (Defeater) Action() ActionKind { return ActionDefeater }

// Audit implements Args.
func (q Quarantine) Audit() map[string]string {
	return map[string]string{"entity": q.Entity, "reason": q.Reason}
}

// Audit implements Args.
func (p Publish) Audit() map[string]string {
	return map[string]string{"subject": p.Subject, "payload_bytes": strconv.Itoa(len(p.Payload))}
}

// Audit implements Args: the URL without its query (which may hold a token), never the secret.
func (w Webhook) Audit() map[string]string {
	return map[string]string{"url": redactURL(w.URL), "secret": w.Secret.String(), "body_bytes": strconv.Itoa(len(w.Body))}
}

// Audit implements Args.
func (f Finding) Audit() map[string]string {
	return map[string]string{"entity": f.Entity, "title": f.Title, "severity": f.Severity, "fingerprint": f.Fingerprint}
}

// Audit implements Args.
func (d Defeater) Audit() map[string]string {
	return map[string]string{"entity": d.Entity, "kind": d.Kind, "severity": d.Severity, "text": d.Text, "id": d.ID, "evidence": d.Evidence}
}

func (q Quarantine) cause() Cause { return q.Cause }
func (p Publish) cause() Cause    { return p.Cause }
func (w Webhook) cause() Cause    { return w.Cause }
func (f Finding) cause() Cause    { return f.Cause }
func (d Defeater) cause() Cause   { return d.Cause }

func (q Quarantine) exec(ctx context.Context, x Executor) error { return x.Quarantine(ctx, q) }
func (p Publish) exec(ctx context.Context, x Executor) error    { return x.Publish(ctx, p) }
func (w Webhook) exec(ctx context.Context, x Executor) error    { return x.Webhook(ctx, w) }
func (f Finding) exec(ctx context.Context, x Executor) error    { return x.OpenFinding(ctx, f) }
func (d Defeater) exec(ctx context.Context, x Executor) error   { return x.CreateDefeater(ctx, d) }

// redactURL drops a URL's user information, query and fragment, which may hold credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
