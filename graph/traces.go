package graph

import (
	"context"
	"fmt"
	"time"
)

// Attack traces: the operations twin's alerts and anomalies read as observations of
// attack-graph nodes (analytics/attacktrace weighs them, analytics/attackanalysis puts them on
// the paths). An Alert or Anomaly is ABOUT a Host or Service; a DataStore deployed on a Host
// also carries the host's observations (alerts name machines and services, never data stores).

// TraceObservation is one alert or anomaly about one attack-graph node.
type TraceObservation struct {
	Node NodeRef // the Host, Service or DataStore it is about
	// Via is the Host a DataStore inherits the observation from; empty when direct.
	Via string
	// Kind is "ALERT" or "ANOMALY".
	Kind, Key string
	// Name is the alert's rule or the anomaly's type.
	Name, Source, Severity, Technique, Message string
	Score                                      float64
	Count                                      int64
	First, Last                                time.Time
}

// MaxTraceObservations bounds the observations one read returns per kind (newest first).
const MaxTraceObservations = 5000

// TraceObservations returns the twin's alerts last seen and anomalies detected at or after
// since, each once per attack-graph node it is about, newest first (at most
// MaxTraceObservations of each kind). Both reads start from the (twin, lastSeen) and (twin, at)
// indexes.
func (db *DB) TraceObservations(ctx context.Context, twin string, since time.Time) ([]TraceObservation, error) {
	// Each observation once per node it bears on: the Host or Service it is about, and the data
	// stores deployed on that host (via it).
	const attach = `
MATCH (a)-[:ABOUT]->(t) WHERE t.twin = $twin AND (t:Host OR t:Service)
CALL (t) {
  RETURN t AS n, '' AS via
  UNION
  MATCH (d:DataStore {twin: $twin})-[:DEPLOYED_ON]->(t) WHERE t:Host
  RETURN d AS n, t.name AS via
}
RETURN CASE WHEN n:Host THEN 'Host' WHEN n:Service THEN 'Service' ELSE 'DataStore' END AS label, n.name AS name, via,
`
	const alerts = `MATCH (a:Alert {twin: $twin}) WHERE a.lastSeen >= $since
WITH a ORDER BY a.lastSeen DESC, a.key LIMIT $limit` + attach + `  'ALERT' AS kind, a.key AS key, a.rule AS rule, a.source AS source, a.severity AS severity,
  coalesce(a.technique, '') AS technique, coalesce(a.message, '') AS message, 0.0 AS score,
  coalesce(a.count, 1) AS count, coalesce(a.firstSeen, a.lastSeen) AS first, a.lastSeen AS last`
	const anomalies = `MATCH (a:Anomaly {twin: $twin}) WHERE a.at >= $since
WITH a ORDER BY a.at DESC, a.key LIMIT $limit` + attach + `  'ANOMALY' AS kind, a.key AS key, a.type AS rule, 'anomaly' AS source, '' AS severity,
  '' AS technique, coalesce(a.explanation, '') AS message, coalesce(a.score, 0.0) AS score,
  1 AS count, a.at AS first, a.at AS last`
	params := map[string]any{"twin": twin, "since": since.UTC(), "limit": MaxTraceObservations}
	var out []TraceObservation
	for _, q := range []string{alerts, anomalies} {
		recs, err := db.collect(ctx, q, params)
		if err != nil {
			return nil, fmt.Errorf("trace observations of twin %s: %w", twin, err)
		}
		for _, rec := range recs {
			v := rec.Values
			o := TraceObservation{Node: NodeRef{Label: asString(v[0]), Key: asString(v[1])}, Via: asString(v[2]),
				Kind: asString(v[3]), Key: asString(v[4]), Name: asString(v[5]), Source: asString(v[6]), Severity: asString(v[7]),
				Technique: asString(v[8]), Message: asString(v[9]), Count: asInt(v[11])}
			if f := asFloat(v[10]); f != nil {
				o.Score = *f
			}
			o.First, _ = v[12].(time.Time)
			o.Last, _ = v[13].(time.Time)
			out = append(out, o)
		}
	}
	return out, nil
}
