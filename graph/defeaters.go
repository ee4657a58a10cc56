package graph

import (
	"context"
	"fmt"
	"time"
)

// Reads for the response playbooks' defeater action (internal/opstwin): which twin nodes an
// entity named by telemetry stands for, and the version of a case, to detect an edit that
// raced with the playbook's own.

// EntityNodes returns the Hosts and Services an entity named by telemetry stands for: hosts
// named so or having it among their addresses, and the service of that name; by label, then
// key. None is not an error.
func (db *DB) EntityNodes(ctx context.Context, twin, entity string) ([]NodeRef, error) {
	recs, err := db.collect(ctx, `CALL () {
  MATCH (h:Host {twin: $twin}) WHERE h.name = $entity OR $entity IN coalesce(h.addresses, [])
  RETURN 'Host' AS label, h.name AS key
  UNION
  MATCH (s:Service {twin: $twin, name: $entity})
  RETURN 'Service' AS label, s.name AS key
}
RETURN label, key ORDER BY label, key`, map[string]any{"twin": twin, "entity": entity})
	if err != nil {
		return nil, fmt.Errorf("nodes of entity %q in %s: %w", entity, twin, err)
	}
	out := make([]NodeRef, 0, len(recs))
	for _, r := range recs {
		out = append(out, NodeRef{Label: asString(r.Values[0]), Key: asString(r.Values[1])})
	}
	return out, nil
}

// AssuranceCaseVersion returns the stored version of a case, or ErrNotFound.
func (db *DB) AssuranceCaseVersion(ctx context.Context, twin, id string) (int, error) {
	recs, err := db.collect(ctx, `MATCH (c:AssuranceCase {twin: $twin, id: $id}) RETURN c.version`, map[string]any{"twin": twin, "id": id})
	if err != nil {
		return 0, fmt.Errorf("version of case %s: %w", id, err)
	}
	if len(recs) == 0 {
		return 0, fmt.Errorf("case %s of %s: %w", id, twin, ErrNotFound)
	}
	return int(asInt(recs[0].Values[0])), nil
}

// ResponseActions returns the audit records of a twin's playbook actions (ResponseAction
// nodes, their latest outcome; playbook "" for every playbook), oldest first, at most limit.
func (db *DB) ResponseActions(ctx context.Context, twin, playbook string, limit int) ([]ResponseRecord, error) {
	recs, err := db.collect(ctx, `MATCH (a:ResponseAction {twin: $twin}) WHERE $playbook = '' OR a.playbook = $playbook
RETURN a.id, a.playbook, a.action, a.triggerId, a.triggerKind, a.trigger, a.outcome, a.error, a.args, a.dryRun, a.attempts, a.at
ORDER BY a.firstAt, a.id LIMIT $limit`, map[string]any{"twin": twin, "playbook": playbook, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("response actions of %s: %w", twin, err)
	}
	out := make([]ResponseRecord, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		rec := ResponseRecord{ActionID: asString(v[0]), Playbook: asString(v[1]), Action: asString(v[2]), TriggerID: asString(v[3]),
			TriggerKind: asString(v[4]), TriggerSummary: asString(v[5]), Outcome: asString(v[6]), Error: asString(v[7]), Args: asString(v[8]),
			Attempts: int(asInt(v[10]))}
		rec.DryRun, _ = v[9].(bool)
		rec.At, _ = v[11].(time.Time)
		out = append(out, rec)
	}
	return out, nil
}
