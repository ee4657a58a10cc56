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

// Reads for analytics/assurance/evidence: the two database steps of a cypher_check
// (ExplainCypher, RunCypher) and the heartbeat of edge collectors (LatestRelease). Their
// signatures are those of evidence.Store, so a store over the twin can delegate to them.
//
// A cypher_check query is user text by nature: it is never concatenated into other Cypher.
// It runs as written, with its declared parameters and $twin, in a read-mode session and a
// read transaction that carries the check's timeout (Neo4j ends it server-side), and only
// after its EXPLAIN plan has been accepted in that same transaction.

// ExplainCypher plans q with EXPLAIN, without running it, and returns the statement type and
// the plan's operators (depth first). A query Neo4j refuses (syntax, semantics, unknown
// procedure, missing parameter) gives an error wrapping evidence.ErrBadQuery.
func (db *DB) ExplainCypher(ctx context.Context, twin string, q evidence.CypherQuery) (evidence.CypherPlan, error) {
	out, err := db.cypherTx(ctx, q, func(tx neo4j.ManagedTransaction) (any, error) {
		return explain(ctx, tx, twin, q)
	})
	if err != nil {
		return evidence.CypherPlan{}, cypherError("explain", err)
	}
	return out.(evidence.CypherPlan), nil
}

// RunCypher plans q with EXPLAIN, lets accept refuse the plan (its error is returned as is),
// and only then runs q in the same read transaction, with q.Timeout and reading at most
// q.MaxRows rows. Culprits are the global ids of the twin's nodes the rows return, as nodes or
// as global id strings of this twin.
func (db *DB) RunCypher(ctx context.Context, twin string, q evidence.CypherQuery, accept func(evidence.CypherPlan) error) (evidence.CypherRows, error) {
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
