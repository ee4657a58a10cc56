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

// ApplyOps applies one window of telemetry to a twin in one transaction, unless the twin's
// cursor is already at or past b.Through.
func (db *DB) ApplyOps(ctx context.Context, twin string, b OpsBatch) (OpsResult, error) {
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `MERGE (c:TelemetryCursor {twin: $twin, stream: $stream})
WITH c, coalesce(c.seq, 0) AS seq
SET c.seq = CASE WHEN seq < $through THEN $through ELSE seq END, c.at = datetime()
RETURN seq < $through`, map[string]any{"twin": twin, "stream": b.Stream, "through": int64(b.Through)})
		if err != nil {
			return nil, err
		}
		if rec.Values[0] != true {
			return OpsResult{}, nil
		}
		res := OpsResult{Applied: true}
		ends, err := resolveEndpoints(ctx, tx, twin, b)
		if err != nil {
			return nil, err
		}
		if err := applySeen(ctx, tx, twin, b, ends, &res); err != nil {
			return nil, err
		}
		if err := applyDeploys(ctx, tx, twin, b, &res); err != nil {
			return nil, err
		}
		if err := applyFlows(ctx, tx, twin, b, ends, &res); err != nil {
			return nil, err
		}
		if err := applyAlerts(ctx, tx, twin, b, ends, &res); err != nil {
			return nil, err
		}
		return res, nil
	})
	if err != nil {
		return OpsResult{}, fmt.Errorf("apply telemetry to %s: %w", twin, err)
	}
	return out.(OpsResult), nil
}

// endpoint is what an entity string of telemetry resolves to.
type endpoint struct {
	label, key string
}

// resolveEndpoints maps every entity the window names to a Host (by name or address) or a
// Service (by name); what resolves to neither is absent from the map.
func resolveEndpoints(ctx context.Context, tx neo4j.ManagedTransaction, twin string, b OpsBatch) (map[string]endpoint, error) {
	set := map[string]struct{}{}
	for _, s := range b.Seen {
		set[s.Entity] = struct{}{}
	}
	for _, f := range b.Flows {
		set[f.Src], set[f.Dst] = struct{}{}, struct{}{}
	}
	for _, a := range b.Alerts {
		set[a.Entity] = struct{}{}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range set {
			if k != "" && !yield(k) {
				return
			}
		}
	})
	out := map[string]endpoint{}
	if len(names) == 0 {
		return out, nil
	}
	res, err := tx.Run(ctx, `UNWIND $names AS e
OPTIONAL MATCH (h:Host {twin: $twin, name: e})
OPTIONAL MATCH (s:Service {twin: $twin, name: e})
RETURN e, h.name AS host, s.name AS service
UNION
MATCH (h:Host {twin: $twin}) WHERE any(a IN coalesce(h.addresses, []) WHERE a IN $names)
UNWIND [a IN h.addresses WHERE a IN $names] AS e
RETURN e, h.name AS host, null AS service`, map[string]any{"twin": twin, "names": names})
	if err != nil {
		return nil, err
	}
	for res.Next(ctx) {
		v := res.Record().Values
		e := asString(v[0])
		switch {
		case v[1] != nil:
			out[e] = endpoint{LabelHost, asString(v[1])}
		case v[2] != nil:
			if _, ok := out[e]; !ok {
				out[e] = endpoint{LabelService, asString(v[2])}
			}
		}
	}
	return out, res.Err()
}

func applySeen(ctx context.Context, tx neo4j.ManagedTransaction, twin string, b OpsBatch, ends map[string]endpoint, res *OpsResult) error {
	latest := map[endpoint]time.Time{}
	note := func(e string, at time.Time) {
		if ep, ok := ends[e]; ok && at.After(latest[ep]) {
			latest[ep] = at
		}
	}
	for _, s := range b.Seen {
		note(s.Entity, s.At)
	}
	for _, f := range b.Flows {
		note(f.Src, f.Last)
		note(f.Dst, f.Last)
	}
	if len(latest) == 0 {
		return nil
	}
	var hosts, services []map[string]any
	for ep, at := range latest {
		row := map[string]any{"key": ep.key, "at": at.UTC()}
		if ep.label == LabelHost {
			hosts = append(hosts, row)
		} else {
			services = append(services, row)
		}
		res.Nodes = append(res.Nodes, NodeRef{Label: ep.label, Key: ep.key})
	}
	for label, rows := range map[string][]map[string]any{LabelHost: hosts, LabelService: services} {
		if len(rows) == 0 {
			continue
		}
		if err := run(ctx, tx, fmt.Sprintf(`UNWIND $rows AS row
MATCH (n:%s {twin: $twin, name: row.key})
SET n.observedAt = CASE WHEN n.observedAt IS NULL OR n.observedAt < row.at THEN row.at ELSE n.observedAt END`, label),
			map[string]any{"twin": twin, "rows": rows}); err != nil {
			return err
		}
	}
	return nil
}

func applyDeploys(ctx context.Context, tx neo4j.ManagedTransaction, twin string, b OpsBatch, res *OpsResult) error {
	if len(b.Deploys) == 0 {
		return nil
	}
	// The newest deploy of each service wins.
	newest := map[string]DeployRow{}
	for _, d := range b.Deploys {
		if cur, ok := newest[d.Service]; !ok || d.At.After(cur.At) {
			newest[d.Service] = d
		}
	}
	rows := make([]map[string]any, 0, len(newest))
	for _, d := range newest {
		rows = append(rows, map[string]any{"service": d.Service, "digest": d.Digest, "at": d.At.UTC()})
	}
	result, err := tx.Run(ctx, `UNWIND $rows AS row
MATCH (s:Service {twin: $twin, name: row.service})
MERGE (a:Artifact {twin: $twin, digest: row.digest})
  ON CREATE SET a.firstSeen = datetime(), a.lastSeen = datetime(), a.sources = ['telemetry']
WITH s, a, row
OPTIONAL MATCH (s)-[old:RUNS]->(o:Artifact) WHERE o <> a
DELETE old
WITH DISTINCT s, a, row
MERGE (s)-[r:RUNS]->(a)
  ON CREATE SET r.firstSeen = datetime(), r.sources = ['telemetry']
SET r.lastSeen = datetime(), s.runningDigest = row.digest, s.deployedAt = row.at
RETURN s.name, a.digest`, map[string]any{"twin": twin, "rows": rows})
	if err != nil {
		return err
	}
	for result.Next(ctx) {
		v := result.Record().Values
		res.Nodes = append(res.Nodes, NodeRef{Label: LabelService, Key: asString(v[0])}, NodeRef{Label: LabelArtifact, Key: asString(v[1])})
	}
	return result.Err()
}

// applyFlows merges the window's connections. An end the twin does not know becomes an
// ObservedEndpoint. A connection is designed when its ends share a zone, or a REACHES rule
// (port 0 for any, proto empty for any) joins them (or their zones), or the destination runs a
// service EXPOSES-ed on the port to a zone of the source (an unknown source counts as in the
// internet zone).
func applyFlows(ctx context.Context, tx neo4j.ManagedTransaction, twin string, b OpsBatch, ends map[string]endpoint, res *OpsResult) error {
	if len(b.Flows) == 0 {
		return nil
	}
	rows := make([]map[string]any, 0, len(b.Flows))
	for _, f := range b.Flows {
		row := map[string]any{"src": f.Src, "dst": f.Dst, "port": f.Port, "proto": f.Proto, "bucket": f.Bucket.UTC(),
			"count": f.Count, "bytes": f.Bytes, "first": f.First.UTC(), "last": f.Last.UTC()}
		for side, e := range map[string]string{"s": f.Src, "d": f.Dst} {
			if ep, ok := ends[e]; ok && ep.label == LabelHost {
				row[side+"Host"] = ep.key
			} else {
				row[side+"Host"] = nil
			}
		}
		rows = append(rows, row)
	}
	for chunk := range slices.Chunk(rows, chunkSize) {
		result, err := tx.Run(ctx, `UNWIND $rows AS f
CALL (f) {
  OPTIONAL MATCH (h:Host {twin: $twin, name: f.sHost})
  CALL (f, h) {
    WITH f, h WHERE h IS NULL
    MERGE (e:ObservedEndpoint {twin: $twin, address: f.src})
      ON CREATE SET e.firstSeen = f.first
    SET e.lastSeen = CASE WHEN e.lastSeen IS NULL OR e.lastSeen < f.last THEN f.last ELSE e.lastSeen END
    RETURN e AS n
    UNION
    WITH f, h WHERE h IS NOT NULL
    RETURN h AS n
  }
  RETURN n AS s
}
CALL (f) {
  OPTIONAL MATCH (h:Host {twin: $twin, name: f.dHost})
  CALL (f, h) {
    WITH f, h WHERE h IS NULL
    MERGE (e:ObservedEndpoint {twin: $twin, address: f.dst})
      ON CREATE SET e.firstSeen = f.first
    SET e.lastSeen = CASE WHEN e.lastSeen IS NULL OR e.lastSeen < f.last THEN f.last ELSE e.lastSeen END
    RETURN e AS n
    UNION
    WITH f, h WHERE h IS NOT NULL
    RETURN h AS n
  }
  RETURN n AS d
}
OPTIONAL MATCH (s)-[:IN_ZONE]->(zs:Zone)
OPTIONAL MATCH (d)-[:IN_ZONE]->(zd:Zone)
WITH f, s, d, collect(DISTINCT zs) AS szs, collect(DISTINCT zd) AS dzs
OPTIONAL MATCH (inet:Zone {twin: $twin, internet: true})
WITH f, s, d, szs, dzs, collect(inet) AS inets
WITH f, s, d, CASE WHEN s:ObservedEndpoint THEN inets ELSE szs END AS szs, dzs
WITH f, s, d, szs, dzs,
  (s:Host AND d:Host AND any(z IN szs WHERE z IN dzs))
  OR any(a IN [s] + szs WHERE EXISTS { MATCH (a)-[r:REACHES]->(b)
              WHERE (b = d OR b IN dzs)
                AND (coalesce(r.port, 0) = 0 OR r.port = f.port)
                AND (coalesce(r.proto, '') = '' OR toLower(r.proto) = toLower(f.proto)) })
  OR EXISTS { MATCH (svc:Service)-[:DEPLOYED_ON]->(d), (svc)-[x:EXPOSES]->(z:Zone)
              WHERE z IN szs AND (coalesce(x.port, 0) = 0 OR x.port = f.port) } AS designed
OPTIONAL MATCH (s)-[prior:CONNECTS_TO {port: f.port, proto: f.proto}]->(d)
WITH f, s, d, designed, [z IN szs | z.name] AS szones, [z IN dzs | z.name] AS dzones, count(prior) = 0 AS fresh
MERGE (s)-[c:CONNECTS_TO {port: f.port, proto: f.proto, bucket: f.bucket}]->(d)
  ON CREATE SET c.twin = $twin, c.count = 0, c.bytes = 0, c.firstSeen = f.first
SET c.count = c.count + f.count, c.bytes = c.bytes + f.bytes, c.designed = designed, c.deviation = NOT designed,
  c.lastSeen = CASE WHEN c.lastSeen IS NULL OR c.lastSeen < f.last THEN f.last ELSE c.lastSeen END
RETURN labels(s)[0], coalesce(s.name, s.address), labels(d)[0], coalesce(d.name, d.address), f.port, f.proto, f.bucket,
  c.count, c.bytes, designed, fresh, szones, dzones`, map[string]any{"twin": twin, "rows": chunk})
		if err != nil {
			return err
		}
		for result.Next(ctx) {
			v := result.Record().Values
			c := Connection{Src: NodeRef{Label: asString(v[0]), Key: asString(v[1])}, Dst: NodeRef{Label: asString(v[2]), Key: asString(v[3])},
				Port: int(asInt(v[4])), Proto: asString(v[5]), Count: asInt(v[7]), Bytes: asInt(v[8]), Designed: v[9] == true, New: v[10] == true}
			c.Bucket, _ = v[6].(time.Time)
			for _, z := range asList(v[11]) {
				c.SrcZones = append(c.SrcZones, asString(z))
			}
			for _, z := range asList(v[12]) {
				c.DstZones = append(c.DstZones, asString(z))
			}
			res.Connections = append(res.Connections, c)
			res.Nodes = append(res.Nodes, c.Src, c.Dst)
		}
		if err := result.Err(); err != nil {
			return err
		}
	}
	return nil
}

func applyAlerts(ctx context.Context, tx neo4j.ManagedTransaction, twin string, b OpsBatch, ends map[string]endpoint, res *OpsResult) error {
	if len(b.Alerts) == 0 {
		return nil
	}
	rows := make([]map[string]any, 0, len(b.Alerts))
	for _, a := range b.Alerts {
		row := map[string]any{"key": a.Key, "source": a.Source, "rule": a.Rule, "severity": a.Severity, "entity": a.Entity,
			"technique": a.Technique, "message": a.Message, "count": a.Count, "first": a.First.UTC(), "last": a.Last.UTC(),
			"label": nil, "target": nil}
		if ep, ok := ends[a.Entity]; ok {
			row["label"], row["target"] = ep.label, ep.key
		}
		rows = append(rows, row)
	}
	for chunk := range slices.Chunk(rows, chunkSize) {
		result, err := tx.Run(ctx, `UNWIND $rows AS row
MERGE (a:Alert {twin: $twin, key: row.key})
  ON CREATE SET a.source = row.source, a.rule = row.rule, a.entity = row.entity, a.technique = row.technique,
    a.count = 0, a.firstSeen = row.first, a.created = true
  ON MATCH SET a.created = false
SET a.count = a.count + row.count, a.severity = row.severity, a.message = row.message,
  a.lastSeen = CASE WHEN a.lastSeen IS NULL OR a.lastSeen < row.last THEN row.last ELSE a.lastSeen END
WITH a, row
CALL (a, row) {
  OPTIONAL MATCH (h:Host {twin: $twin, name: row.target}) WHERE row.label = 'Host'
  OPTIONAL MATCH (v:Service {twin: $twin, name: row.target}) WHERE row.label = 'Service'
  WITH a, coalesce(h, v) AS t WHERE t IS NOT NULL
  MERGE (a)-[:ABOUT]->(t)
}
WITH a, a.created AS created
REMOVE a.created
RETURN a.key, created`, map[string]any{"twin": twin, "rows": chunk})
		if err != nil {
			return err
		}
		for result.Next(ctx) {
			v := result.Record().Values
			if v[1] == true {
				res.AlertsCreated = append(res.AlertsCreated, asString(v[0]))
			}
		}
		if err := result.Err(); err != nil {
			return err
		}
	}
	return nil
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
// names and EVIDENCED_BY the nodes they rest on, and returns the keys of those it created.
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
			"at": r.At.UTC(), "evidence": ev}
	}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `UNWIND $rows AS row
MERGE (a:Anomaly {twin: $twin, key: row.key})
  ON CREATE SET a.type = row.type, a.entity = row.entity, a.score = row.score, a.explanation = row.explanation, a.at = row.at, a.created = true
  ON MATCH SET a.created = false
WITH a, row
CALL (a, row) {
  OPTIONAL MATCH (h:Host {twin: $twin}) WHERE h.name = row.entity OR row.entity IN coalesce(h.addresses, [])
  OPTIONAL MATCH (s:Service {twin: $twin, name: row.entity})
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
}

// EntityState reads the live state of a Host or Service.
func (db *DB) EntityState(ctx context.Context, twin string, n NodeRef) (EntityState, error) {
	if n.Label != LabelHost && n.Label != LabelService {
		return EntityState{}, fmt.Errorf("entity state: %s is not a Host or Service", n.Label)
	}
	recs, err := db.collect(ctx, fmt.Sprintf(`MATCH (n:%s {twin: $twin, name: $key})
RETURN n.observedAt, coalesce(n.quarantined, false), n.quarantinedAt, n.quarantineReason, n.quarantinedBy, n.runningDigest`, n.Label),
		map[string]any{"twin": twin, "key": n.Key})
	if err != nil || len(recs) == 0 {
		return EntityState{}, err
	}
	v := recs[0].Values
	s := EntityState{Quarantined: v[1] == true, QuarantineReason: asString(v[3]), QuarantinedBy: asString(v[4]), RunningDigest: asString(v[5])}
	s.ObservedAt, _ = v[0].(time.Time)
	s.QuarantinedAt, _ = v[2].(time.Time)
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
