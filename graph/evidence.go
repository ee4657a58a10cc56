package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
)

// Reads for analytics/assurance/evidence, with the signatures of evidence.Store's methods so
// that a store over the twin delegates to them: a spec's subject and its digests
// (EvidenceSubject), vulnerabilities with their VEX status (EvidenceExposures), SARIF findings
// by provenance source (EvidenceFindings), runtime events (EvidenceEvents), the heartbeat of
// edge collectors (LatestRelease) and the two database steps of a cypher_check (ExplainCypher,
// RunCypher). The scan runs the ingest pipeline records and manual attestations are read by
// EvidenceScanRuns (scanruns.go) and EvidenceAttestations (attestations.go). Labels are
// formatted into Cypher only from fixed sets; every value is a parameter.
//
// A cypher_check query is user text by nature: it is never concatenated into other Cypher.
// It runs as written, with its declared parameters and $twin, in a read-mode session and a
// read transaction that carries the check's timeout (Neo4j ends it server-side), and only
// after its EXPLAIN plan has been accepted in that same transaction.

// ExplainCypher plans q with EXPLAIN, without running it, and returns the statement type and
// the plan's operators (depth first). A query Neo4j refuses (syntax, semantics, unknown
// procedure) gives an error wrapping evidence.ErrBadQuery.
func (db *DB) ExplainCypher(ctx context.Context, twin string, q evidence.CypherQuery) (evidence.CypherPlan, error) {
	out, err := db.cypherTx(ctx, q, func(tx neo4j.ManagedTransaction) (any, error) {
		return explain(ctx, tx, twin, q)
	})
	if err != nil {
		return evidence.CypherPlan{}, cypherError("explain", err)
	}
	return out.(evidence.CypherPlan), nil
}

// RunCypher plans q with EXPLAIN, lets accept (evidence.CheckPlan when nil) refuse the plan
// (its error is returned as is), and only then runs q in the same read transaction, with
// q.Timeout and reading at most q.MaxRows rows. A missing parameter, which EXPLAIN does not
// check, gives an error wrapping evidence.ErrBadQuery here. Culprits are the global ids of the twin's nodes the rows return, as nodes or
// as global id strings of this twin.
func (db *DB) RunCypher(ctx context.Context, twin string, q evidence.CypherQuery, accept func(evidence.CypherPlan) error) (evidence.CypherRows, error) {
	if accept == nil {
		accept = evidence.CheckPlan
	}
	if q.MaxRows <= 0 || q.MaxRows > evidence.MaxCypherRows {
		return evidence.CypherRows{}, fmt.Errorf("cypher check: max rows %d outside 1..%d", q.MaxRows, evidence.MaxCypherRows)
	}
	var refused error
	out, err := db.cypherTx(ctx, q, func(tx neo4j.ManagedTransaction) (any, error) {
		plan, err := explain(ctx, tx, twin, q)
		if err != nil {
			return nil, err
		}
		if err := accept(plan); err != nil {
			refused = err
			return nil, err
		}
		res, err := tx.Run(ctx, q.Query, cypherParams(twin, q))
		if err != nil {
			return nil, err
		}
		var rows evidence.CypherRows
		for res.Next(ctx) {
			if rows.Rows == q.MaxRows {
				rows.Truncated = true
				break
			}
			rows.Rows++
			for _, v := range res.Record().Values {
				rows.Culprits = appendCulprits(rows.Culprits, twin, v)
			}
		}
		if err := res.Err(); err != nil {
			return nil, err
		}
		return rows, nil
	})
	if refused != nil {
		return evidence.CypherRows{}, refused
	}
	if err != nil {
		return evidence.CypherRows{}, cypherError("run", err)
	}
	rows := out.(evidence.CypherRows)
	rows.Culprits = slices.Compact(rows.Culprits)
	return rows, nil
}

// cypherTx runs fn in a read transaction with q's timeout, pulling at most MaxRows+1 records
// per batch so that a truncated result is not streamed whole.
func (db *DB) cypherTx(ctx context.Context, q evidence.CypherQuery, fn func(tx neo4j.ManagedTransaction) (any, error)) (any, error) {
	timeout := q.Timeout
	if timeout <= 0 || timeout > evidence.MaxCypherTimeout {
		timeout = evidence.DefaultCypherTimeout
	}
	// The client gives up a little after the server should have.
	ctx, cancel := context.WithTimeout(ctx, timeout+2*time.Second)
	defer cancel()
	fetch := q.MaxRows + 1
	if fetch < 2 {
		fetch = neo4j.FetchDefault
	}
	var out any
	db.txs.Add(1)
	err := db.once(func() error {
		s := db.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: db.database, AccessMode: neo4j.AccessModeRead, FetchSize: fetch})
		defer s.Close(ctx)
		var err error
		out, err = s.ExecuteRead(ctx, fn, neo4j.WithTxTimeout(timeout),
			neo4j.WithTxMetadata(map[string]any{"app": "sectwin", "purpose": "cypher_check"}))
		return err
	})
	return out, err
}

func cypherParams(twin string, q evidence.CypherQuery) map[string]any {
	params := make(map[string]any, len(q.Params)+1)
	for k, v := range q.Params {
		params[k] = v
	}
	params["twin"] = twin
	return params
}

func explain(ctx context.Context, tx neo4j.ManagedTransaction, twin string, q evidence.CypherQuery) (evidence.CypherPlan, error) {
	res, err := tx.Run(ctx, "EXPLAIN "+q.Query, cypherParams(twin, q))
	if err != nil {
		return evidence.CypherPlan{}, err
	}
	sum, err := res.Consume(ctx)
	if err != nil {
		return evidence.CypherPlan{}, err
	}
	plan := evidence.CypherPlan{StatementType: statementType(sum.StatementType())}
	var walk func(p neo4j.Plan)
	walk = func(p neo4j.Plan) {
		if p == nil {
			return
		}
		details, _ := p.Arguments()["Details"].(string)
		plan.Operators = append(plan.Operators, evidence.PlanOperator{Name: p.Operator(), Details: details})
		for _, c := range p.Children() {
			walk(c)
		}
	}
	walk(sum.Plan())
	return plan, nil
}

func statementType(t neo4j.StatementType) string {
	switch t {
	case neo4j.StatementTypeReadOnly:
		return evidence.StatementReadOnly
	case neo4j.StatementTypeReadWrite:
		return "READ_WRITE"
	case neo4j.StatementTypeWriteOnly:
		return "WRITE_ONLY"
	case neo4j.StatementTypeSchemaWrite:
		return "SCHEMA_WRITE"
	}
	return "UNKNOWN"
}

// cypherError marks the errors that are the query's fault with evidence.ErrBadQuery.
func cypherError(step string, err error) error {
	var ne *neo4j.Neo4jError
	if errors.As(err, &ne) && (strings.HasPrefix(ne.Code, "Neo.ClientError.Statement.") ||
		strings.HasPrefix(ne.Code, "Neo.ClientError.Procedure.")) {
		return fmt.Errorf("%w: %s", evidence.ErrBadQuery, ne.Msg)
	}
	return fmt.Errorf("cypher check %s: %w", step, err)
}

// appendCulprits adds the global ids in a returned value: model nodes of this twin, global id
// strings of this twin, and lists of those.
func appendCulprits(out []string, twin string, v any) []string {
	switch x := v.(type) {
	case neo4j.Node:
		if t, _ := x.Props["twin"].(string); t != twin {
			return out
		}
		for _, l := range x.Labels {
			if k, ok := KindOf(l); ok {
				if key, ok := x.Props[k.Key].(string); ok && key != "" {
					return append(out, ID(l, twin, key))
				}
			}
		}
	case string:
		if _, t, _, err := ParseID(x); err == nil && t == twin {
			return append(out, x)
		}
	case []any:
		for _, e := range x {
			out = appendCulprits(out, twin, e)
		}
	}
	return out
}

// LatestRelease returns when the newest EdgeEvent or EdgeAggregate of an edge collector site
// (and pipeline, unless empty) was received, or the zero time when there is none.
func (db *DB) LatestRelease(ctx context.Context, twin, site, pipeline string) (time.Time, error) {
	recs, err := db.collect(ctx, `CALL {
  MATCH (e:EdgeEvent {twin: $twin, site: $site}) WHERE $pipeline = '' OR e.pipeline = $pipeline
  RETURN max(e.receivedAt) AS at
  UNION ALL
  MATCH (a:EdgeAggregate {twin: $twin, site: $site}) WHERE $pipeline = '' OR a.pipeline = $pipeline
  RETURN max(a.receivedAt) AS at
}
RETURN max(at)`, map[string]any{"twin": twin, "site": site, "pipeline": pipeline})
	if err != nil {
		return time.Time{}, fmt.Errorf("latest release of site %s: %w", site, err)
	}
	if len(recs) == 0 {
		return time.Time{}, nil
	}
	at, _ := recs[0].Values[0].(time.Time)
	return at.UTC(), nil
}

// evidenceSubjectLabels are the labels a spec's subject may have; labels are formatted into
// Cypher from this set only.
var evidenceSubjectLabels = []string{LabelService, LabelArtifact, LabelComponent, LabelHost, LabelZone, LabelDataStore}

// EvidenceSubject resolves the subject of an evidence spec (evidence.Store's Subject): whether
// it exists, its global id, and the artifacts evidence about it may be about (see
// evidence.SubjectFacts).
func (db *DB) EvidenceSubject(ctx context.Context, twin string, s evidence.SubjectRef) (evidence.SubjectFacts, error) {
	const artifact = `CASE WHEN a IS NULL THEN null ELSE {key: a.digest, name: coalesce(a.name, ''), firstSeen: a.firstSeen,
  running: EXISTS { (:Service {twin: $twin})-[:RUNS]->(a) }, direct: %s} END`
	var cypher string
	params := map[string]any{"twin": twin, "key": s.Key, "name": s.Name}
	switch {
	case s.Label == LabelTwin:
		cypher = `OPTIONAL MATCH (t:Twin {twin: $twin, name: $twin})
OPTIONAL MATCH (a:Artifact {twin: $twin})
RETURN t IS NOT NULL, t.name, collect(` + fmt.Sprintf(artifact, "false") + `)`
	case s.Label == LabelArtifact && s.Name != "":
		cypher = `OPTIONAL MATCH (a:Artifact {twin: $twin, name: $name})
WITH collect(` + fmt.Sprintf(artifact, "false") + `) AS arts
RETURN size(arts) > 0, null, arts`
	case s.Label == LabelArtifact:
		cypher = `OPTIONAL MATCH (x:Artifact {twin: $twin, digest: $key})
OPTIONAL MATCH (a:Artifact {twin: $twin}) WHERE a = x OR x.name IS NOT NULL AND a.name = x.name
RETURN x IS NOT NULL, x.digest, collect(` + fmt.Sprintf(artifact, "a = x") + `)`
	case s.Label == LabelService:
		cypher = `OPTIONAL MATCH (x:Service {twin: $twin, name: $key})
OPTIONAL MATCH (x)-[:RUNS]->(r:Artifact)
WITH x, collect(DISTINCT r) AS runs, [n IN collect(DISTINCT r.name) WHERE n IS NOT NULL] AS names
OPTIONAL MATCH (a:Artifact {twin: $twin}) WHERE a IN runs OR a.name IN names
RETURN x IS NOT NULL, x.name, collect(` + fmt.Sprintf(artifact, "a IN runs") + `)`
	case s.Label == LabelComponent:
		cypher = `OPTIONAL MATCH (x:Component {twin: $twin, purl: $key})
OPTIONAL MATCH (a:Artifact)-[:CONTAINS]->(x)
RETURN x IS NOT NULL, x.purl, collect(` + fmt.Sprintf(artifact, "true") + `)`
	case slices.Contains(evidenceSubjectLabels, s.Label):
		k, _ := KindOf(s.Label)
		cypher = fmt.Sprintf(`OPTIONAL MATCH (x:%s {twin: $twin, %s: $key})
RETURN x IS NOT NULL, x.%s, []`, s.Label, k.Key, k.Key)
	default:
		return evidence.SubjectFacts{}, fmt.Errorf("evidence subject: unknown label %q", s.Label)
	}
	recs, err := db.collect(ctx, cypher, params)
	if err != nil {
		return evidence.SubjectFacts{}, fmt.Errorf("evidence subject %s: %w", s, err)
	}
	if len(recs) == 0 {
		return evidence.SubjectFacts{}, nil
	}
	v := recs[0].Values
	out := evidence.SubjectFacts{Found: v[0] == true}
	if !out.Found {
		return evidence.SubjectFacts{}, nil
	}
	if key, ok := v[1].(string); ok {
		out.ID = ID(s.Label, twin, key)
	}
	for _, x := range v[2].([]any) {
		m := x.(map[string]any)
		key, _ := m["key"].(string)
		name, _ := m["name"].(string)
		seen, _ := m["firstSeen"].(time.Time)
		out.Artifacts = append(out.Artifacts, evidence.ArtifactFact{ID: ID(LabelArtifact, twin, key), Key: key, Name: name,
			FirstSeen: seen.UTC(), Running: m["running"] == true, Direct: m["direct"] == true})
	}
	slices.SortFunc(out.Artifacts, func(a, b evidence.ArtifactFact) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// EvidenceExposures returns every AFFECTS of a vulnerability to a component in scope (the
// components the artifacts CONTAIN, or one component), whatever its VEX status
// (evidence.Store's Exposures). KnownSince is the AFFECTS relationship's firstSeen.
func (db *DB) EvidenceExposures(ctx context.Context, twin string, scope evidence.ExposureScope) ([]evidence.Exposure, error) {
	cypher := `MATCH (a:Artifact {twin: $twin})-[:CONTAINS]->(c:Component {twin: $twin}) WHERE a.digest IN $artifacts
WITH c, collect(DISTINCT a.digest) AS arts
MATCH (v:Vulnerability {twin: $twin})-[r:AFFECTS]->(c)
RETURN v.vulnerabilityId, v.severity, v.cvssScore, v.epss, coalesce(v.kev, false), r.status, c.purl, arts, r.firstSeen`
	if scope.Component != "" {
		cypher = `MATCH (v:Vulnerability {twin: $twin})-[r:AFFECTS]->(c:Component {twin: $twin, purl: $purl})
RETURN v.vulnerabilityId, v.severity, v.cvssScore, v.epss, coalesce(v.kev, false), r.status, c.purl, [], r.firstSeen`
	}
	artifacts := scope.Artifacts
	if artifacts == nil {
		artifacts = []string{}
	}
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "artifacts": artifacts, "purl": scope.Component})
	if err != nil {
		return nil, fmt.Errorf("evidence exposures: %w", err)
	}
	out := make([]evidence.Exposure, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		id, _ := v[0].(string)
		x := evidence.Exposure{Vulnerability: ID(LabelVulnerability, twin, id), VulnerabilityID: id, KEV: v[4] == true}
		x.Severity, _ = v[1].(string)
		if f, ok := v[2].(float64); ok {
			x.CVSS = &f
		}
		if f, ok := v[3].(float64); ok {
			x.EPSS = &f
		}
		x.Status, _ = v[5].(string)
		x.Component, _ = v[6].(string)
		for _, a := range v[7].([]any) {
			x.Artifacts = append(x.Artifacts, a.(string))
		}
		slices.Sort(x.Artifacts)
		if t, ok := v[8].(time.Time); ok {
			x.KnownSince = t.UTC()
		}
		out = append(out, x)
	}
	return out, nil
}

// EvidenceFindings returns the findings FOUND_IN these artifacts (by digest) whose FOUND_IN
// relationship one of these provenance sources declared, whatever their status
// (evidence.Store's Findings). Sources lists those of the sources asked for.
func (db *DB) EvidenceFindings(ctx context.Context, twin string, artifacts, sources []string) ([]evidence.Finding, error) {
	if len(artifacts) == 0 || len(sources) == 0 {
		return nil, nil
	}
	recs, err := db.collect(ctx, `MATCH (f:Finding {twin: $twin})-[r:FOUND_IN]->(a:Artifact {twin: $twin})
WHERE a.digest IN $artifacts
WITH f, r, a, [s IN coalesce(r.sources, []) WHERE s IN $sources] AS srcs
WHERE size(srcs) > 0
RETURN f.fingerprint, coalesce(f.ruleId, ''), coalesce(f.tool, ''), coalesce(f.severity, ''), coalesce(f.status, ''), a.digest, srcs
ORDER BY f.fingerprint, a.digest`, map[string]any{"twin": twin, "artifacts": artifacts, "sources": sources})
	if err != nil {
		return nil, fmt.Errorf("evidence findings: %w", err)
	}
	out := make([]evidence.Finding, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		key := v[0].(string)
		f := evidence.Finding{ID: ID(LabelFinding, twin, key), RuleID: v[1].(string), Tool: v[2].(string),
			Severity: v[3].(string), Status: v[4].(string), Artifact: v[5].(string)}
		for _, s := range v[6].([]any) {
			f.Sources = append(f.Sources, s.(string))
		}
		out = append(out, f)
	}
	return out, nil
}

// EvidenceEvents calls fn, oldest first, for every EdgeEvent of the twin received after
// q.Since that DESCRIBES q.Subject or a zone it is IN_ZONE (every event of the twin when the
// subject is the twin), skipping events whose lower-cased JSON contains none of q.Contains
// (when set), until fn returns an error (evidence.Store's Events). Event ids are encoded as ID
// encodes them (ParseID knows only the model's labels).
func (db *DB) EvidenceEvents(ctx context.Context, twin string, q evidence.EventQuery, fn func(evidence.Event) error) error {
	var match string
	switch {
	case q.Subject.Label == LabelTwin:
		match = `MATCH (e:EdgeEvent {twin: $twin}) WHERE e.receivedAt > $since`
	case slices.Contains([]string{LabelService, LabelHost, LabelZone, LabelDataStore}, q.Subject.Label):
		k, _ := KindOf(q.Subject.Label)
		match = fmt.Sprintf(`MATCH (s:%s {twin: $twin, %s: $key})
OPTIONAL MATCH (s)-[:IN_ZONE]->(z:Zone)
WITH s, collect(z) AS zones
WITH [s] + zones AS about
MATCH (e:EdgeEvent {twin: $twin})-[:DESCRIBES]->(x) WHERE x IN about AND e.receivedAt > $since`, q.Subject.Label, k.Key)
	default:
		return fmt.Errorf("evidence events: a %q cannot be described by runtime events", q.Subject.Label)
	}
	contains := q.Contains
	if contains == nil {
		contains = []string{}
	}
	cypher := match + `
WITH DISTINCT e
WHERE size($contains) = 0 OR any(n IN $contains WHERE toLower(e.data) CONTAINS n)
RETURN e.id, e.receivedAt, coalesce(e.data, ''), coalesce(e.site, ''), coalesce(e.pipeline, '')
ORDER BY e.receivedAt, e.id`
	// Collected first and handed to fn after the transaction, so that a retried transaction
	// never calls fn twice for one event.
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "key": q.Subject.Key, "since": q.Since.UTC(), "contains": contains})
	if err != nil {
		return fmt.Errorf("evidence events: %w", err)
	}
	for _, r := range recs {
		v := r.Values
		at, _ := v[1].(time.Time)
		ev := evidence.Event{ID: ID(LabelEdgeEvent, twin, v[0].(string)), At: at.UTC(), Data: v[2].(string), Site: v[3].(string), Pipeline: v[4].(string)}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}
