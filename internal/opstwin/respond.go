package opstwin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
)

// executor carries out playbook actions against the twin, NATS and HTTP.
type executor struct {
	db     *graph.DB
	bus    *bus.Bus
	ev     events.NATS
	poster *response.WebhookPoster
	cases  *caseEditor
}

var errNoEntity = errors.New("the twin has no host or service by that name or address")

func (x executor) Quarantine(ctx context.Context, q response.Quarantine) error {
	n, err := x.db.Quarantine(ctx, q.Twin, q.Entity, q.Reason, "playbook "+q.Playbook+" ("+q.ActionID+")", time.Now())
	if err != nil {
		return err
	}
	if n == nil {
		return fmt.Errorf("%w: quarantine %q: %w", response.ErrPermanent, q.Entity, errNoEntity)
	}
	return x.ev.Publish(ctx, events.Change{Twin: q.Twin, Op: "QUARANTINE", Source: "playbook:" + q.Playbook, At: time.Now().UTC(),
		NodesUpdated: 1, Nodes: []graph.NodeRef{*n}})
}

func (x executor) Publish(ctx context.Context, p response.Publish) error {
	return x.bus.Publish(ctx, p.Subject, p.Payload, p.ActionID)
}

func (x executor) Webhook(ctx context.Context, w response.Webhook) error {
	return x.poster.Webhook(ctx, w)
}

// OpenFinding opens (or refreshes) a Finding FOUND_IN the host or service the entity names.
func (x executor) OpenFinding(ctx context.Context, f response.Finding) error {
	batch := graph.Batch{Nodes: []graph.NodeRow{{Label: graph.LabelFinding, Key: f.Fingerprint, Props: map[string]any{
		"tool": "sectwin playbook", "ruleId": f.Playbook, "severity": f.Severity, "status": "OPEN",
		"message": f.Title + ": " + f.Message, "location": f.Entity}}}}
	for _, label := range []string{graph.LabelHost, graph.LabelService} {
		nodes, err := x.db.Nodes(ctx, f.Twin, label, []string{f.Entity})
		if err != nil {
			return err
		}
		if _, ok := nodes[f.Entity]; ok {
			batch.Edges = append(batch.Edges, graph.EdgeRow{Type: "FOUND_IN", From: graph.NodeRef{Label: graph.LabelFinding, Key: f.Fingerprint},
				To: graph.NodeRef{Label: label, Key: f.Entity}})
			break
		}
	}
	res, err := x.db.Write(ctx, f.Twin, batch, graph.WriteOptions{Source: "playbook:" + f.Playbook})
	if err != nil {
		return err
	}
	return x.ev.Publish(ctx, events.FromWrite(f.Twin, events.OpUpsert, "playbook:"+f.Playbook, res))
}

// CreateDefeater challenges every claim about the entity with a defeater in its case's gsn2x
// source (see caseEditor.create).
func (x executor) CreateDefeater(ctx context.Context, d response.Defeater) error {
	return x.cases.create(ctx, d)
}

// auditor keeps the playbook audit trail in the twin (ResponseAction nodes) and the log.
type auditor struct {
	db  *graph.DB
	log zerolog.Logger
}

func (a auditor) Record(ctx context.Context, r response.AuditRecord) {
	a.log.Info().Str("playbook", r.Playbook).Str("action", string(r.Action)).Str("action_id", r.ActionID).Str("trigger", r.TriggerSummary).
		Str("outcome", string(r.Outcome)).Int("attempts", r.Attempts).Bool("dry_run", r.DryRun).Str("error", r.Error).Msg("playbook")
	if r.Twin == "" || r.ActionID == "" {
		return
	}
	args, _ := json.Marshal(r.Args)
	rec := graph.ResponseRecord{ActionID: r.ActionID, Playbook: r.Playbook, Action: string(r.Action), TriggerID: r.TriggerID,
		TriggerKind: string(r.TriggerKind), TriggerSummary: r.TriggerSummary, Outcome: string(r.Outcome), Error: r.Error, Args: string(args),
		DryRun: r.DryRun, Attempts: r.Attempts, At: r.At}
	if err := a.db.RecordResponse(context.WithoutCancel(ctx), r.Twin, rec); err != nil {
		a.log.Warn().Err(err).Str("action_id", r.ActionID).Msg("playbook audit record not stored")
	}
}
