// Package response is the twin's automated response: declarative playbooks that turn a trigger
// (a telemetry event, an alert, an anomaly or an assurance status change) into actions
// (publish to NATS, POST a signed webhook, quarantine an entity, open a Finding, create a
// defeater).
//
// A playbook file (Parse, Load) is version 1 YAML read strictly: unknown fields, invalid
// conditions, unknown actions, missing secrets and bad rate limits refuse the whole file with
// every problem's file and line. Conditions and computed arguments are expr-lang expressions
// compiled at load time against the trigger's fields.
//
// An Engine evaluates triggers against the playbooks (Evaluate, side-effect free) and runs the
// resulting actions (Run) through an Executor on a bounded queue of worker goroutines, so that
// Run never blocks its caller: when the queue is full the actions are dropped, and that is
// audited. Failed actions are retried with exponential backoff a bounded number of times.
// Every decision, retry and outcome goes to an Auditor. Playbooks are rate limited by token
// buckets per key, and may run dry (evaluated and audited, never executed).
//
// The package knows nothing of Neo4j or NATS: the server implements Executor. The one action
// implemented here is the signed webhook, WebhookPoster.
//
// Docs: docs/playbooks.md.
package response
