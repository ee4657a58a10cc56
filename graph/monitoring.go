package graph

import (
	"context"
	"fmt"
)

// MonitoredEntity is what the operations twin's detectors need to know about a Host or
// Service to weigh its monitoring priority (analytics/assurancecase.Priority): its criticality,
// the statuses of the claims about it, and, for a service, the hosts it is deployed on (which
// inherit its priority, as telemetry names hosts).
type MonitoredEntity struct {
	Label, Name string
	Addresses   []string // a host's
	Criticality string
	CrownJewel  bool
	// Statuses are the distinct statuses of the evaluated case elements about it (for a
	// service, also about the artifacts it runs), as ClaimsAbout finds them.
	Statuses []string
	// Hosts are the hosts a service is DEPLOYED_ON.
	Hosts []MonitoredHost
}

// MonitoredHost is a host a service is deployed on.
type MonitoredHost struct {
	Name      string
	Addresses []string
}

// MonitoringInputs returns the twin's Hosts and Services that have a criticality, are crown
// jewels, or have evaluated claims about them (the others all weigh the same), by label and
// name. Two queries whatever the twin's size: the detectors call it once a minute per twin.
func (db *DB) MonitoringInputs(ctx context.Context, twin string) ([]MonitoredEntity, error) {
	recs, err := db.collect(ctx, `CALL () {
  MATCH (n:Host {twin: $twin}) WHERE n.criticality IS NOT NULL OR n.crownJewel
  RETURN n, null AS status
  UNION
  MATCH (n:Service {twin: $twin}) WHERE n.criticality IS NOT NULL OR n.crownJewel
  RETURN n, null AS status
  UNION
  MATCH (e:GsnElement {twin: $twin})-[:ABOUT]->(x) WHERE e.status IS NOT NULL AND (x:Host OR x:Service)
  RETURN x AS n, e.status AS status
  UNION
  MATCH (e:GsnElement {twin: $twin})-[:ABOUT]->(:Artifact)<-[:RUNS]-(n:Service {twin: $twin}) WHERE e.status IS NOT NULL
  RETURN n, e.status AS status
}
WITH n, [s IN collect(DISTINCT status) WHERE s IS NOT NULL] AS statuses
RETURN labels(n)[0], n.name, coalesce(n.addresses, []), n.criticality, coalesce(n.crownJewel, false), statuses,
  CASE WHEN n:Service THEN [(n)-[:DEPLOYED_ON]->(h:Host) | [h.name, coalesce(h.addresses, [])]] ELSE [] END
ORDER BY labels(n)[0], n.name`, map[string]any{"twin": twin})
	if err != nil {
		return nil, fmt.Errorf("monitoring inputs of %s: %w", twin, err)
	}
	out := make([]MonitoredEntity, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		e := MonitoredEntity{Label: asString(v[0]), Name: asString(v[1]), Addresses: stringList(v[2]), Criticality: asString(v[3]), Statuses: stringList(v[5])}
		e.CrownJewel, _ = v[4].(bool)
		for _, h := range asList(v[6]) {
			pair := asList(h)
			if len(pair) == 2 {
				e.Hosts = append(e.Hosts, MonitoredHost{Name: asString(pair[0]), Addresses: stringList(pair[1])})
			}
		}
		out = append(out, e)
	}
	return out, nil
}
