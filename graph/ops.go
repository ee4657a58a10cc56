package graph

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// The operations twin's live state (docs/telemetry.md): telemetry is aggregated in memory over
// a short window and applied here in one transaction per twin and window, never as a node per
// event:
//
//   - observed connections are CONNECTS_TO relationships per (port, proto, hour bucket)
//     between the Hosts the endpoints resolve to (by name or address), or ObservedEndpoint
//     nodes for endpoints the twin does not know, with counters, first and last seen, and
//     whether the design allows them (designed); one it does not is a policy deviation;
//   - alerts are Alert nodes deduplicated per (source, rule, entity, hour), with a count, ABOUT
//     the Host or Service they name;
//   - Hosts and Services get observedAt when telemetry names them, and a deploy sets the
//     service's running artifact (RUNS) and runningDigest.
//
// Each twin has a TelemetryCursor: the stream sequence of the last event applied. A window is
// applied only past the cursor, and the cursor moves in the same transaction, so a window
// redelivered after a crash between commit and acknowledgement is not counted twice.

// Labels and relationship types of the operations twin.
const (
	LabelAlert            = "Alert"
	LabelObservedEndpoint = "ObservedEndpoint"
	LabelTelemetryCursor  = "TelemetryCursor"
	RelConnectsTo         = "CONNECTS_TO"
)

// OpsBatch is one window of telemetry about one twin, aggregated.
type OpsBatch struct {
	Seen    []SeenRow
	Health  []HealthRow
	Deploys []DeployRow
	Flows   []FlowRow
	Alerts  []AlertRow
	// Through is the stream sequence of the window's last event; Stream names the stream.
	Stream  string
	Through uint64
}

// SeenRow records that telemetry named an entity (a host or service name, or an address).
type SeenRow struct {
	Entity string
	At     time.Time
}

// HealthRow is the latest health metric (up or health) of an entity in a window.
type HealthRow struct {
	Entity string
	Up     bool
	At     time.Time
}

// Health values.
const (
	HealthUp   = "UP"
	HealthDown = "DOWN"
)

// DeployRow records that a service runs an artifact digest.
type DeployRow struct {
	Service, Digest, Host string
	At                    time.Time
}

// FlowRow is the connections of one (src, dst, port, proto) in one hour bucket of a window.
type FlowRow struct {
	Src, Dst     string
	Port         int
	Proto        string
	Bucket       time.Time // the hour the connections fall in
	Count, Bytes int64
	First, Last  time.Time
}

// AlertRow is the alerts of one key (source, rule, entity, hour) in a window.
type AlertRow struct {
	Key                            string
	Source, Rule, Severity, Entity string
	Technique, Message             string
	Count                          int64
	First, Last                    time.Time
}

// Connection is an observed connection as written.
type Connection struct {
	Src, Dst     NodeRef
	Port         int
	Proto        string
	Bucket       time.Time
	Count, Bytes int64
	Designed     bool
	New          bool // the first CONNECTS_TO between the two ends on this port and proto
	// SrcZones and DstZones are the zones of the ends (the internet zone for an unknown source).
	SrcZones, DstZones []string
}

// OpsResult says what a window changed.
type OpsResult struct {
	// Applied is false when the cursor was already at or past the window (a redelivery).
	Applied     bool
	Connections []Connection
	// AlertsCreated are the keys of the Alert nodes the window created.
	AlertsCreated []string
	// Nodes are the twin nodes the window wrote, for change events.
	Nodes []NodeRef
}

// Deviations are the window's connections the design does not allow.
func (r OpsResult) Deviations() []Connection {
	var out []Connection
	for _, c := range r.Connections {
		if !c.Designed {
			out = append(out, c)
		}
	}
	return out
}

// TelemetryCursor returns the stream sequence of the last telemetry event applied to the twin
// (0 when none).
func (db *DB) TelemetryCursor(ctx context.Context, twin, stream string) (uint64, error) {
	recs, err := db.collect(ctx, `MATCH (c:TelemetryCursor {twin: $twin, stream: $stream}) RETURN c.seq`, map[string]any{"twin": twin, "stream": stream})
	if err != nil {
		return 0, fmt.Errorf("telemetry cursor of %s: %w", twin, err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	return uint64(asInt(recs[0].Values[0])), nil
}

// endpoint is what an entity string of telemetry resolves to.
type endpoint struct {
	label, key string
}

// AlertNode is an Alert as read.
type AlertNode struct {
	Twin, Key, Source, Rule, Severity, Entity, Technique, Message string
	Count                                                         int64
	FirstSeen, LastSeen                                           time.Time
	About                                                         *NodeRef
}

// Alerts returns a twin's alerts last seen at or after since, newest first, optionally of one
// severity, at most limit.
func (db *DB) Alerts(ctx context.Context, twin string, since time.Time, severity string, limit int) ([]AlertNode, error) {
	return db.alerts(ctx, twin, `a.lastSeen >= $since AND ($severity = '' OR a.severity = $severity)`,
		map[string]any{"since": since.UTC(), "severity": severity, "limit": limit})
}

// AlertsByKey returns the alerts with these keys.
func (db *DB) AlertsByKey(ctx context.Context, twin string, keys []string) ([]AlertNode, error) {
	return db.alerts(ctx, twin, `a.key IN $keys`, map[string]any{"keys": keys, "limit": len(keys)})
}

func (db *DB) alerts(ctx context.Context, twin, where string, params map[string]any) ([]AlertNode, error) {
	params["twin"] = twin
	recs, err := db.collect(ctx, `MATCH (a:Alert {twin: $twin}) WHERE `+where+`
OPTIONAL MATCH (a)-[:ABOUT]->(t)
RETURN a.key, a.source, a.rule, a.severity, a.entity, a.technique, a.message, a.count, a.firstSeen, a.lastSeen,
  labels(t)[0], t.name
ORDER BY a.lastSeen DESC, a.key LIMIT $limit`, params)
	if err != nil {
		return nil, fmt.Errorf("alerts of %s: %w", twin, err)
	}
	out := make([]AlertNode, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		a := AlertNode{Twin: twin, Key: asString(v[0]), Source: asString(v[1]), Rule: asString(v[2]), Severity: asString(v[3]),
			Entity: asString(v[4]), Technique: asString(v[5]), Message: asString(v[6]), Count: asInt(v[7])}
		a.FirstSeen, _ = v[8].(time.Time)
		a.LastSeen, _ = v[9].(time.Time)
		if v[10] != nil {
			a.About = &NodeRef{Label: asString(v[10]), Key: asString(v[11])}
		}
		out = append(out, a)
	}
	return out, nil
}

// ObservedConnection is the observed connections between two ends on one port and proto,
// summed over their buckets.
type ObservedConnection struct {
	Src, Dst            NodeRef
	Port                int
	Proto               string
	Count, Bytes        int64
	FirstSeen, LastSeen time.Time
	Designed            bool
}

// Connections returns a twin's observed connections last seen at or after since (only those the
// design does not allow, with deviationsOnly), most recent first, at most limit.
func (db *DB) Connections(ctx context.Context, twin string, since time.Time, deviationsOnly bool, limit int) ([]ObservedConnection, error) {
	recs, err := db.collect(ctx, `MATCH (s)-[c:CONNECTS_TO]->(d)
WHERE c.twin = $twin AND c.lastSeen >= $since AND (NOT $dev OR c.deviation)
WITH s, d, c.port AS port, c.proto AS proto, sum(c.count) AS count, sum(c.bytes) AS bytes, min(c.firstSeen) AS first,
  max(c.lastSeen) AS last, all(x IN collect(c.designed) WHERE x) AS designed
RETURN labels(s)[0], coalesce(s.name, s.address), labels(d)[0], coalesce(d.name, d.address), port, proto, count, bytes, first, last, designed
ORDER BY last DESC LIMIT $limit`, map[string]any{"twin": twin, "since": since.UTC(), "dev": deviationsOnly, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("connections of %s: %w", twin, err)
	}
	out := make([]ObservedConnection, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		c := ObservedConnection{Src: NodeRef{Label: asString(v[0]), Key: asString(v[1])}, Dst: NodeRef{Label: asString(v[2]), Key: asString(v[3])},
			Port: int(asInt(v[4])), Proto: asString(v[5]), Count: asInt(v[6]), Bytes: asInt(v[7]), Designed: v[10] == true}
		c.FirstSeen, _ = v[8].(time.Time)
		c.LastSeen, _ = v[9].(time.Time)
		out = append(out, c)
	}
	return out, nil
}

// LabelAnomaly labels anomalies the operations twin detected.
const LabelAnomaly = "Anomaly"

// AnomalyRow is one detected anomaly to record.
type AnomalyRow struct {
	Key         string // deterministic: the same detection recorded twice is one node
	Type        string // new_edge, rate, brute_force, brute_force_succeeded, impossible_travel
	Entity      string // as telemetry named it
	Score       float64
	Explanation string
	At          time.Time
	// Evidence are the twin nodes it rests on: Hosts, Services, ObservedEndpoints and Alerts
	// (others are ignored).
	Evidence []NodeRef
	// About is the Host or Service the entity names, when the caller resolved it (a
	// LiveState does, by name or address); nil: a Host or else a Service of that name.
	About *NodeRef
}

// AnomalyNode is an Anomaly as read.
type AnomalyNode struct {
	Twin, Key, Type, Entity, Explanation string
	Score                                float64
	At                                   time.Time
	About                                *NodeRef
	Evidence                             []NodeRef
}

// RecordAnomalies stores anomalies (MERGE by key), ABOUT the Host or Service their entity
// names (row.About, or else a Host and then a Service of that name: an address resolves only
// through a LiveState) and EVIDENCED_BY the nodes they rest on, and returns the keys of those
// it created.
func (db *DB) RecordAnomalies(ctx context.Context, twin string, rows []AnomalyRow) ([]string, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	params := make([]map[string]any, len(rows))
	for i, r := range rows {
		var ev []map[string]any
		for _, n := range r.Evidence {
			if slices.Contains([]string{LabelHost, LabelService, LabelObservedEndpoint, LabelAlert}, n.Label) {
				ev = append(ev, map[string]any{"label": n.Label, "key": n.Key})
			}
		}
		params[i] = map[string]any{"key": r.Key, "type": r.Type, "entity": r.Entity, "score": r.Score, "explanation": r.Explanation,
			"at": r.At.UTC(), "evidence": ev, "label": nil, "target": nil}
		if r.About != nil && (r.About.Label == LabelHost || r.About.Label == LabelService) {
			params[i]["label"], params[i]["target"] = r.About.Label, r.About.Key
		}
	}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `UNWIND $rows AS row
MERGE (a:Anomaly {twin: $twin, key: row.key})
  ON CREATE SET a.type = row.type, a.entity = row.entity, a.score = row.score, a.explanation = row.explanation, a.at = row.at, a.created = true
  ON MATCH SET a.created = false
WITH a, row
CALL (a, row) {
  OPTIONAL MATCH (h:Host {twin: $twin, name: coalesce(row.target, row.entity)}) WHERE coalesce(row.label, 'Host') = 'Host'
  OPTIONAL MATCH (s:Service {twin: $twin, name: coalesce(row.target, row.entity)}) WHERE coalesce(row.label, 'Service') = 'Service'
  WITH a, coalesce(h, s) AS t WHERE t IS NOT NULL
  MERGE (a)-[:ABOUT]->(t)
}
CALL (a, row) {
  UNWIND row.evidence AS e
  OPTIONAL MATCH (h:Host {twin: $twin, name: e.key}) WHERE e.label = 'Host'
  OPTIONAL MATCH (s:Service {twin: $twin, name: e.key}) WHERE e.label = 'Service'
  OPTIONAL MATCH (o:ObservedEndpoint {twin: $twin, address: e.key}) WHERE e.label = 'ObservedEndpoint'
  OPTIONAL MATCH (x:Alert {twin: $twin, key: e.key}) WHERE e.label = 'Alert'
  WITH a, coalesce(h, s, o, x) AS n WHERE n IS NOT NULL
  MERGE (a)-[:EVIDENCED_BY]->(n)
}
WITH a, a.created AS created
REMOVE a.created
RETURN a.key, created`, map[string]any{"twin": twin, "rows": params})
		if err != nil {
			return nil, err
		}
		var created []string
		for res.Next(ctx) {
			if res.Record().Values[1] == true {
				created = append(created, asString(res.Record().Values[0]))
			}
		}
		return created, res.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("record anomalies of %s: %w", twin, err)
	}
	created, _ := out.([]string)
	return created, nil
}

// Anomalies returns a twin's anomalies at or after since (all with keys, when keys is not
// nil), newest first, at most limit.
func (db *DB) Anomalies(ctx context.Context, twin string, since time.Time, keys []string, limit int) ([]AnomalyNode, error) {
	recs, err := db.collect(ctx, `MATCH (a:Anomaly {twin: $twin}) WHERE (NOT $byKeys AND a.at >= $since) OR ($byKeys AND a.key IN $keys)
OPTIONAL MATCH (a)-[:ABOUT]->(t)
WITH a, head(collect(t)) AS t
RETURN a.key, a.type, a.entity, a.explanation, a.score, a.at, labels(t)[0], t.name,
  [(a)-[:EVIDENCED_BY]->(e) | [labels(e)[0], coalesce(e.name, e.address, e.key)]]
ORDER BY a.at DESC, a.key LIMIT $limit`, map[string]any{"twin": twin, "since": since.UTC(), "keys": keys, "byKeys": keys != nil, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("anomalies of %s: %w", twin, err)
	}
	out := make([]AnomalyNode, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		a := AnomalyNode{Twin: twin, Key: asString(v[0]), Type: asString(v[1]), Entity: asString(v[2]), Explanation: asString(v[3])}
		if f := asFloat(v[4]); f != nil {
			a.Score = *f
		}
		a.At, _ = v[5].(time.Time)
		if v[6] != nil {
			a.About = &NodeRef{Label: asString(v[6]), Key: asString(v[7])}
		}
		for _, e := range asList(v[8]) {
			pair := asList(e)
			if len(pair) == 2 {
				a.Evidence = append(a.Evidence, NodeRef{Label: asString(pair[0]), Key: asString(pair[1])})
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Quarantine marks the Host or Service an entity names (a name, or a host address)
// quarantined, with the reason and the action that did it. It returns the node marked, or nil
// when the twin has no such entity.
func (db *DB) Quarantine(ctx context.Context, twin, entity, reason, by string, at time.Time) (*NodeRef, error) {
	recs, err := db.collectWrite(ctx, `CALL () {
  MATCH (h:Host {twin: $twin}) WHERE h.name = $entity OR $entity IN coalesce(h.addresses, [])
  RETURN h AS n
  UNION
  MATCH (s:Service {twin: $twin, name: $entity})
  RETURN s AS n
}
WITH n LIMIT 1
SET n.quarantined = true, n.quarantinedAt = coalesce(n.quarantinedAt, $at), n.quarantineReason = $reason, n.quarantinedBy = $by
RETURN labels(n)[0], n.name`, map[string]any{"twin": twin, "entity": entity, "reason": reason, "by": by, "at": at.UTC()})
	if err != nil {
		return nil, fmt.Errorf("quarantine %s in %s: %w", entity, twin, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return &NodeRef{Label: asString(recs[0][0]), Key: asString(recs[0][1])}, nil
}

// ResponseRecord is one audit record of a response playbook's action.
type ResponseRecord struct {
	ActionID, Playbook, Action, TriggerID, TriggerKind, TriggerSummary string
	Outcome, Error, Args                                               string // Args: JSON, secrets redacted
	DryRun                                                             bool
	Attempts                                                           int
	At                                                                 time.Time
}

// RecordResponse appends an audit record of a playbook action to the twin: one ResponseAction
// node per action id, carrying its latest outcome and every outcome in order.
func (db *DB) RecordResponse(ctx context.Context, twin string, r ResponseRecord) error {
	_, err := db.collectWrite(ctx, `MERGE (a:ResponseAction {twin: $twin, id: $r.ActionID})
  ON CREATE SET a.playbook = $r.Playbook, a.action = $r.Action, a.triggerId = $r.TriggerID, a.triggerKind = $r.TriggerKind,
    a.trigger = $r.TriggerSummary, a.args = $r.Args, a.dryRun = $r.DryRun, a.firstAt = $at, a.outcomes = []
SET a.outcome = $r.Outcome, a.error = $r.Error, a.attempts = $r.Attempts, a.at = $at,
  a.outcomes = a.outcomes + [$r.Outcome + ' ' + toString($at)]`,
		map[string]any{"twin": twin, "r": map[string]any{"ActionID": r.ActionID, "Playbook": r.Playbook, "Action": r.Action, "TriggerID": r.TriggerID,
			"TriggerKind": r.TriggerKind, "TriggerSummary": r.TriggerSummary, "Args": r.Args, "DryRun": r.DryRun, "Outcome": r.Outcome,
			"Error": r.Error, "Attempts": r.Attempts}, "at": r.At.UTC()})
	if err != nil {
		return fmt.Errorf("record response action %s: %w", r.ActionID, err)
	}
	return nil
}

// collectWrite runs one write statement in a write transaction and returns its rows' values.
func (db *DB) collectWrite(ctx context.Context, cypher string, params map[string]any) ([][]any, error) {
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, cypher, params)
		if err != nil {
			return nil, err
		}
		var rows [][]any
		for res.Next(ctx) {
			rows = append(rows, res.Record().Values)
		}
		return rows, res.Err()
	})
	if err != nil {
		return nil, err
	}
	rows, _ := out.([][]any)
	return rows, nil
}

// EntityState is a Host's or Service's live state.
type EntityState struct {
	ObservedAt, QuarantinedAt time.Time
	Quarantined               bool
	QuarantineReason          string
	QuarantinedBy             string
	RunningDigest             string
	Health                    string // HealthUp, HealthDown, or "" when no health metric came
	HealthAt                  time.Time
}

// EntityState reads the live state of a Host or Service.
func (db *DB) EntityState(ctx context.Context, twin string, n NodeRef) (EntityState, error) {
	if n.Label != LabelHost && n.Label != LabelService {
		return EntityState{}, fmt.Errorf("entity state: %s is not a Host or Service", n.Label)
	}
	recs, err := db.collect(ctx, fmt.Sprintf(`MATCH (n:%s {twin: $twin, name: $key})
RETURN n.observedAt, coalesce(n.quarantined, false), n.quarantinedAt, n.quarantineReason, n.quarantinedBy, n.runningDigest,
  n.health, n.healthAt`, n.Label),
		map[string]any{"twin": twin, "key": n.Key})
	if err != nil || len(recs) == 0 {
		return EntityState{}, err
	}
	v := recs[0].Values
	s := EntityState{Quarantined: v[1] == true, QuarantineReason: asString(v[3]), QuarantinedBy: asString(v[4]), RunningDigest: asString(v[5])}
	s.ObservedAt, _ = v[0].(time.Time)
	s.QuarantinedAt, _ = v[2].(time.Time)
	s.Health = asString(v[6])
	s.HealthAt, _ = v[7].(time.Time)
	return s, nil
}

// HourlyCounts returns, for the hours from since (truncated to the hour) until now, how many
// connections to or from the hosts a service is DEPLOYED_ON were observed (series "flows"), or
// how many alerts about the service or those hosts were raised (series "alerts"), hour by hour
// (0 for an hour without any). A service the twin does not have gives ErrNotFound.
func (db *DB) HourlyCounts(ctx context.Context, twin, service, series string, since, now time.Time) ([]float64, error) {
	var cypher string
	switch series {
	case "flows":
		cypher = `MATCH (s:Service {twin: $twin, name: $service})
OPTIONAL MATCH (s)-[:DEPLOYED_ON]->(h:Host)
OPTIONAL MATCH (h)-[c:CONNECTS_TO]-() WHERE c.bucket >= $since
RETURN s IS NOT NULL, c.bucket AS hour, sum(c.count) AS n`
	case "alerts":
		cypher = `MATCH (s:Service {twin: $twin, name: $service})
OPTIONAL MATCH (s)-[:DEPLOYED_ON]->(h:Host)
WITH s, [s] + collect(h) AS targets
UNWIND targets AS t
OPTIONAL MATCH (a:Alert)-[:ABOUT]->(t) WHERE a.firstSeen >= $since
RETURN s IS NOT NULL, CASE WHEN a IS NULL THEN null ELSE datetime.truncate('hour', a.firstSeen) END AS hour, sum(a.count) AS n`
	default:
		return nil, fmt.Errorf("hourly counts: unknown series %q", series)
	}
	since = since.UTC().Truncate(time.Hour)
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "service": service, "since": since})
	if err != nil {
		return nil, fmt.Errorf("hourly %s of %s: %w", series, service, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("service %s of twin %s: %w", service, twin, ErrNotFound)
	}
	hours := int(now.UTC().Truncate(time.Hour).Sub(since)/time.Hour) + 1
	out := make([]float64, max(hours, 0))
	for _, r := range recs {
		at, ok := r.Values[1].(time.Time)
		if !ok {
			continue
		}
		if i := int(at.UTC().Sub(since) / time.Hour); i >= 0 && i < len(out) {
			out[i] += float64(asInt(r.Values[2]))
		}
	}
	return out, nil
}
