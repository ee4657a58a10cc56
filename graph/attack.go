package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// The attack graph: derived ATTACK relationships between attack-graph nodes, read back as a
// projection for the engine in analytics/attackpath. Nodes and relationships are addressed by
// their internal ids inside one projection; they are never shown to users, who see global ids.

// VulnFact is what an exploit rule knows about one open vulnerability of its target.
type VulnFact struct {
	ID        string
	EPSS      *float64
	CVSS      *float64
	Vector    string
	Severity  string
	KEV       bool
	Component string // purl of the affected component
	Status    string // VEX status; empty when none was stated
}

// AttackFact is one candidate step a rule found.
type AttackFact struct {
	From, To int64
	Controls []string
	Detail   []string
	Vulns    []VulnFact
}

// AttackFacts runs one rule's pattern over the twin.
func (db *DB) AttackFacts(ctx context.Context, twin string, rule AttackRule) ([]AttackFact, error) {
	var out []AttackFact
	err := db.stream(ctx, rule.cypher, map[string]any{"twin": twin}, func(rec *neo4j.Record) error {
		f := decodeFact(rec)
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("attack rule %s on twin %s: %w", rule.ID, twin, err)
	}
	return out, nil
}

func decodeFact(rec *neo4j.Record) AttackFact {
	f := AttackFact{From: rec.Values[0].(int64), To: rec.Values[1].(int64)}
	f.Controls = stringList(rec.Values[2])
	f.Detail = stringList(rec.Values[3])
	if vs, ok := rec.Values[4].([]any); ok {
		for _, v := range vs {
			m, _ := v.(map[string]any)
			f.Vulns = append(f.Vulns, VulnFact{
				ID: asString(m["id"]), EPSS: asFloat(m["epss"]), CVSS: asFloat(m["cvss"]),
				Vector: asString(m["vector"]), Severity: asString(m["severity"]), KEV: m["kev"] == true,
				Component: asString(m["component"]), Status: asString(m["status"]),
			})
		}
		slices.SortFunc(f.Vulns, func(a, b VulnFact) int { return strings.Compare(a.ID+a.Component, b.ID+b.Component) })
	}
	return f
}

// AttackNode is one node of the attack-graph projection.
type AttackNode struct {
	DBID            int64
	Label, Key      string
	CriticalityRank int
	CrownJewel      bool
	Internet        bool
}

// AttackEdge is one stored attack step.
type AttackEdge struct {
	Rel         int64 // internal id; 0 before it is written
	From, To    int64
	Rule        string
	RuleVersion int
	P, BaseP    float64
	Overridden  bool
	Technique   string
	Evidence    []string // global ids of the nodes that justify the step (vulnerabilities…)
	Explanation string
	Hash        string // content hash of everything above but Rel: unchanged steps are not rewritten
}

// AttackAdjacency is one attack-graph node with its outgoing stored steps, side by side: the
// projection reads a twin as one record per node rather than one per step, which halves the
// time to read millions of steps.
type AttackAdjacency struct {
	Node AttackNode
	Rels []int64   // internal ids of the steps
	To   []int64   // internal ids of their targets
	P    []float64 // their probabilities (0 when missing)
	// Rules are AttackRuleIndex values: 1 + the position in AttackRules(), 0 for a rule this
	// version does not know (a retired rule, or the benchmarks' synthetic steps).
	Rules  []uint8
	Hashes []string // content hashes, only when asked for
}

// AttackRuleIndex is 1 + the position of a rule in AttackRules(), or 0 for an unknown rule.
func AttackRuleIndex(id string) uint8 {
	for i, r := range attackRules {
		if r.ID == id {
			return uint8(i + 1)
		}
	}
	return 0
}

// attackGraphReaders is how many reads of one projection run at once: one decodes while the
// other waits on the server. Each label is split in that many parts.
const attackGraphReaders = 2

// AttackGraph streams the twin's attack-graph nodes, each with its outgoing stored steps. fn is
// called from one goroutine at a time, in no particular order; withHashes adds the steps'
// content hashes, which only derivation needs.
func (db *DB) AttackGraph(ctx context.Context, twin string, withHashes bool, fn func(AttackAdjacency)) error {
	ruleIndex := make(map[string]any, len(attackRules))
	for i, r := range attackRules {
		ruleIndex[r.ID] = int64(i + 1)
	}
	hashes := "[]"
	if withHashes {
		hashes = "[r IN rs | CASE WHEN $rules[r.rule] IS NULL THEN null ELSE r.hash END]"
	}
	type job struct {
		label string
		part  int
	}
	jobs := make(chan job, len(attackLabels)*attackGraphReaders)
	for _, l := range attackLabels {
		for part := range attackGraphReaders {
			jobs <- job{l, part}
		}
	}
	close(jobs)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range attackGraphReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					return
				}
				if err := db.attackAdjacency(ctx, twin, j.label, j.part, ruleIndex, hashes, &mu, fn); err != nil {
					cancel(fmt.Errorf("attack-graph %s nodes of twin %s: %w", j.label, twin, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

func (db *DB) attackAdjacency(ctx context.Context, twin, label string, part int, ruleIndex map[string]any, hashes string,
	mu *sync.Mutex, fn func(AttackAdjacency)) error {
	k, _ := KindOf(label)
	internet := "false"
	if label == LabelZone {
		internet = "coalesce(n.internet, false)"
	}
	cypher := fmt.Sprintf(`MATCH (n:%s {twin: $twin}) WHERE id(n) %% $parts = $part
WITH n, [(n)-[r:ATTACK]->() | r] AS rs
RETURN id(n), n.%s, coalesce(n.criticalityRank, 0), coalesce(n.crownJewel, false), %s,
  [r IN rs | id(r)], [r IN rs | id(endNode(r))], [r IN rs | coalesce(r.p, 0.0)], [r IN rs | coalesce($rules[r.rule], 0)], %s`,
		label, k.Key, internet, hashes)
	params := map[string]any{"twin": twin, "parts": attackGraphReaders, "part": part, "rules": ruleIndex}
	return db.stream(ctx, cypher, params, func(rec *neo4j.Record) error {
		v := rec.Values
		key, _ := v[1].(string)
		a := AttackAdjacency{Node: AttackNode{DBID: v[0].(int64), Label: label, Key: key,
			CriticalityRank: int(v[2].(int64)), CrownJewel: v[3] == true, Internet: v[4] == true}}
		rels, _ := v[5].([]any)
		tos, _ := v[6].([]any)
		ps, _ := v[7].([]any)
		rules, _ := v[8].([]any)
		if len(tos) != len(rels) || len(ps) != len(rels) || len(rules) != len(rels) {
			return fmt.Errorf("node %d: step lists of different lengths", a.Node.DBID)
		}
		a.Rels, a.To, a.P, a.Rules = make([]int64, len(rels)), make([]int64, len(rels)), make([]float64, len(rels)), make([]uint8, len(rels))
		for i := range rels {
			a.Rels[i], _ = rels[i].(int64)
			a.To[i], _ = tos[i].(int64)
			a.P[i], _ = ps[i].(float64)
			r, _ := rules[i].(int64)
			a.Rules[i] = uint8(r)
		}
		if hs, ok := v[9].([]any); ok && len(hs) > 0 {
			a.Hashes = make([]string, len(rels))
			for i := range min(len(hs), len(rels)) {
				a.Hashes[i], _ = hs[i].(string)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		fn(a)
		return nil
	})
}

// AttackEdgeDetails returns the stored steps with these internal ids, by id.
func (db *DB) AttackEdgeDetails(ctx context.Context, twin string, rels []int64) (map[int64]AttackEdge, error) {
	const cypher = `UNWIND $rels AS rel MATCH (s)-[r:ATTACK]->(t) WHERE id(r) = rel AND r.twin = $twin
RETURN id(r), id(s), id(t), r.rule, r.ruleVersion, r.p, r.baseP, r.overridden, r.technique, r.evidence, r.explanation`
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "rels": rels})
	if err != nil {
		return nil, fmt.Errorf("attack step details: %w", err)
	}
	out := make(map[int64]AttackEdge, len(recs))
	for _, rec := range recs {
		v := rec.Values
		e := AttackEdge{Rel: v[0].(int64), From: v[1].(int64), To: v[2].(int64), Rule: asString(v[3]),
			Overridden: v[7] == true, Technique: asString(v[8]), Evidence: stringList(v[9]), Explanation: asString(v[10])}
		if n, ok := v[4].(int64); ok {
			e.RuleVersion = int(n)
		}
		if p := asFloat(v[5]); p != nil {
			e.P = *p
		}
		if p := asFloat(v[6]); p != nil {
			e.BaseP = *p
		}
		out[e.Rel] = e
	}
	return out, nil
}

// ApplyAttackDelta writes new and changed steps and deletes removed ones, in one transaction.
// It returns the internal ids of the upserted steps, in order. A step is keyed by its endpoints
// and rule, so applying the same delta twice changes nothing.
func (db *DB) ApplyAttackDelta(ctx context.Context, twin string, upserts []AttackEdge, deletes []int64, at time.Time) ([]int64, error) {
	const upsert = `UNWIND $rows AS row
MATCH (s) WHERE id(s) = row.from AND s.twin = $twin
MATCH (t) WHERE id(t) = row.to AND t.twin = $twin
MERGE (s)-[r:ATTACK {rule: row.rule}]->(t)
ON CREATE SET r.twin = $twin, r.firstSeen = $at
SET r.ruleVersion = row.ruleVersion, r.p = row.p, r.baseP = row.baseP, r.overridden = row.overridden,
    r.technique = row.technique, r.evidence = row.evidence, r.explanation = row.explanation,
    r.hash = row.hash, r.lastSeen = $at
RETURN row.i AS i, id(r) AS rel`
	const remove = `UNWIND $rels AS rel MATCH ()-[r:ATTACK]->() WHERE id(r) = rel AND r.twin = $twin DELETE r`
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		ids := make([]int64, len(upserts))
		for chunk := range slices.Chunk(deletes, chunkSize) {
			if err := run(ctx, tx, remove, map[string]any{"twin": twin, "rels": chunk}); err != nil {
				return nil, err
			}
		}
		rows := make([]map[string]any, len(upserts))
		for i, e := range upserts {
			rows[i] = map[string]any{"i": i, "from": e.From, "to": e.To, "rule": e.Rule, "ruleVersion": e.RuleVersion,
				"p": e.P, "baseP": e.BaseP, "overridden": e.Overridden, "technique": e.Technique,
				"evidence": orEmpty(e.Evidence), "explanation": e.Explanation, "hash": e.Hash}
		}
		for chunk := range slices.Chunk(rows, chunkSize) {
			res, err := tx.Run(ctx, upsert, map[string]any{"twin": twin, "rows": chunk, "at": at})
			if err != nil {
				return nil, err
			}
			for res.Next(ctx) {
				rec := res.Record()
				ids[rec.Values[0].(int64)] = rec.Values[1].(int64)
			}
			if err := res.Err(); err != nil {
				return nil, err
			}
		}
		return ids, nil
	})
	if err != nil {
		return nil, fmt.Errorf("write attack steps of twin %s: %w", twin, err)
	}
	return out.([]int64), nil
}

// ResolveAttackNodes returns the internal ids of attack-graph nodes given by label and key;
// unknown ones are absent.
func (db *DB) ResolveAttackNodes(ctx context.Context, twin string, refs []NodeRef) (map[NodeRef]int64, error) {
	out := map[NodeRef]int64{}
	byLabel := map[string][]string{}
	for _, r := range refs {
		if slices.Contains(attackLabels, r.Label) {
			byLabel[r.Label] = append(byLabel[r.Label], r.Key)
		}
	}
	for l, keys := range byLabel {
		k, _ := KindOf(l)
		recs, err := db.collect(ctx, fmt.Sprintf("UNWIND $keys AS key MATCH (n:%s {twin: $twin, %s: key}) RETURN key, id(n)", l, k.Key),
			map[string]any{"twin": twin, "keys": keys})
		if err != nil {
			return nil, fmt.Errorf("resolve %s nodes: %w", l, err)
		}
		for _, rec := range recs {
			out[NodeRef{Label: l, Key: rec.Values[0].(string)}] = rec.Values[1].(int64)
		}
	}
	return out, nil
}

// stream runs one read statement in an auto-commit transaction and hands each record to fn as
// it arrives, with a large fetch size: projections read millions of rows and must not hold them
// all. It is not retried (fn has already seen records): callers retry the whole read.
func (db *DB) stream(ctx context.Context, cypher string, params map[string]any, fn func(*neo4j.Record) error) error {
	db.txs.Add(1)
	return db.once(func() error {
		s := db.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: db.database, AccessMode: neo4j.AccessModeRead, FetchSize: 20000})
		defer s.Close(ctx)
		res, err := s.Run(ctx, cypher, params)
		if err != nil {
			return err
		}
		for res.Next(ctx) {
			if err := fn(res.Record()); err != nil {
				return err
			}
		}
		return res.Err()
	})
}

func asString(v any) string { s, _ := v.(string); return s }

func asFloat(v any) *float64 {
	switch n := v.(type) {
	case float64:
		return &n
	case int64:
		f := float64(n)
		return &f
	}
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AttackOverride is an analyst's probability for one attack step. Every override is kept: setting
// a new one or clearing it deactivates the previous version, so the history says who changed
// what, when and why.
type AttackOverride struct {
	Twin      string
	From, To  NodeRef
	Rule      string
	P         float64
	Reason    string
	By        string
	At        time.Time
	Version   int
	Active    bool
	ClearedBy string
	ClearedAt time.Time
}

// SetAttackOverride records o as the active override of its step, replacing the previous one.
// Its Version is set from the history.
func (db *DB) SetAttackOverride(ctx context.Context, o AttackOverride) (AttackOverride, error) {
	const cypher = `OPTIONAL MATCH (old:AttackOverride {twin: $twin, from: $from, to: $to, rule: $rule})
WITH max(old.version) AS last, collect(old) AS olds
FOREACH (x IN [o IN olds WHERE o.active] | SET x.active = false, x.clearedBy = $by, x.clearedAt = $at)
CREATE (n:AttackOverride {twin: $twin, from: $from, to: $to, rule: $rule, p: $p, reason: $reason,
  by: $by, at: $at, version: coalesce(last, 0) + 1, active: true})
RETURN n.version`
	from, to := ID(o.From.Label, o.Twin, o.From.Key), ID(o.To.Label, o.Twin, o.To.Key)
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, cypher, map[string]any{"twin": o.Twin, "from": from, "to": to, "rule": o.Rule,
			"p": o.P, "reason": o.Reason, "by": o.By, "at": o.At})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return rec.Values[0].(int64), nil
	})
	if err != nil {
		return o, fmt.Errorf("override attack step: %w", err)
	}
	o.Version, o.Active = int(out.(int64)), true
	return o, nil
}

// ClearAttackOverride deactivates the active override of a step; false when there was none.
func (db *DB) ClearAttackOverride(ctx context.Context, twin string, from, to NodeRef, rule, by string, at time.Time) (bool, error) {
	const cypher = `MATCH (o:AttackOverride {twin: $twin, from: $from, to: $to, rule: $rule, active: true})
SET o.active = false, o.clearedBy = $by, o.clearedAt = $at RETURN count(o)`
	recs, err := db.writeCollect(ctx, cypher, map[string]any{"twin": twin, "from": ID(from.Label, twin, from.Key),
		"to": ID(to.Label, twin, to.Key), "rule": rule, "by": by, "at": at})
	if err != nil {
		return false, fmt.Errorf("clear attack override: %w", err)
	}
	return len(recs) == 1 && recs[0].Values[0].(int64) > 0, nil
}

// AttackOverrides lists a twin's overrides, newest first; only the active ones unless all.
func (db *DB) AttackOverrides(ctx context.Context, twin string, all bool) ([]AttackOverride, error) {
	const cypher = `MATCH (o:AttackOverride {twin: $twin}) WHERE $all OR o.active
RETURN o.from, o.to, o.rule, o.p, o.reason, o.by, o.at, o.version, o.active, o.clearedBy, o.clearedAt
ORDER BY o.at DESC, o.version DESC`
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "all": all})
	if err != nil {
		return nil, fmt.Errorf("attack overrides of twin %s: %w", twin, err)
	}
	out := make([]AttackOverride, 0, len(recs))
	for _, rec := range recs {
		v := rec.Values
		o := AttackOverride{Twin: twin, Rule: asString(v[2]), Reason: asString(v[4]), By: asString(v[5]),
			Active: v[8] == true, ClearedBy: asString(v[9])}
		if l, _, k, err := ParseID(asString(v[0])); err == nil {
			o.From = NodeRef{Label: l, Key: k}
		}
		if l, _, k, err := ParseID(asString(v[1])); err == nil {
			o.To = NodeRef{Label: l, Key: k}
		}
		if p := asFloat(v[3]); p != nil {
			o.P = *p
		}
		o.At, _ = v[6].(time.Time)
		if n, ok := v[7].(int64); ok {
			o.Version = int(n)
		}
		o.ClearedAt, _ = v[10].(time.Time)
		out = append(out, o)
	}
	return out, nil
}

// writeCollect runs one write statement and returns all its records.
func (db *DB) writeCollect(ctx context.Context, cypher string, params map[string]any) ([]*neo4j.Record, error) {
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, cypher, params)
		if err != nil {
			return nil, err
		}
		return res.Collect(ctx)
	})
	if err != nil {
		return nil, err
	}
	return out.([]*neo4j.Record), nil
}

// ServiceOpenVulns returns a service's internal id, its controls and the open vulnerabilities of
// its components, for what-if simulations that expose it; found is false when there is no such
// service.
func (db *DB) ServiceOpenVulns(ctx context.Context, twin, service string) (fact AttackFact, found bool, err error) {
	const cypher = `MATCH (t:Service {twin: $twin, name: $name})
OPTIONAL MATCH (t)-[:RUNS]->(:Artifact)-[:CONTAINS]->(c:Component)<-[a:AFFECTS]-(v:Vulnerability)
WHERE NOT coalesce(a.status, '') IN ['not_affected', 'fixed']
WITH t, [x IN collect(DISTINCT CASE WHEN v IS NULL THEN null ELSE {id: v.vulnerabilityId, epss: v.epss, cvss: v.cvssScore,
  vector: v.cvssVector, severity: v.severity, kev: v.kev, component: c.purl, status: coalesce(a.status, '')} END) WHERE x IS NOT NULL] AS vulns
RETURN id(t), id(t), t.controls, [], vulns`
	err = db.stream(ctx, cypher, map[string]any{"twin": twin, "name": service}, func(rec *neo4j.Record) error {
		fact, found = decodeFact(rec), true
		return nil
	})
	if err != nil {
		return fact, false, fmt.Errorf("open vulnerabilities of service %s: %w", service, err)
	}
	return fact, found, nil
}

// MaxAttackHops bounds ad-hoc Cypher path queries over the attack graph.
const MaxAttackHops = 8

// attackQueryTimeout is the time budget of one ad-hoc Cypher path query.
const attackQueryTimeout = 5 * time.Second

// ErrQueryBudget marks a query cut off by its time budget.
var ErrQueryBudget = errors.New("the query exceeded its time budget of 5s; lower maxHops or k")

// HopPath is a path by hop count over stored attack steps.
type HopPath struct {
	Nodes      []NodeRef
	Rules      []string
	Likelihood float64
}

// ShortestAttackPaths runs Cypher SHORTEST k over the stored attack steps between two nodes,
// bounded in hops (1 to MaxAttackHops) and in time. It ranks by hop count only, as Neo4j does.
func (db *DB) ShortestAttackPaths(ctx context.Context, twin string, from, to NodeRef, k, maxHops int) ([]HopPath, error) {
	if maxHops < 1 || maxHops > MaxAttackHops || k < 1 || k > 100 {
		return nil, fmt.Errorf("%w: maxHops must be 1 to %d and k 1 to 100", ErrQueryBudget, MaxAttackHops)
	}
	if !slices.Contains(attackLabels, from.Label) || !slices.Contains(attackLabels, to.Label) {
		return nil, nil
	}
	fk, _ := KindOf(from.Label)
	tk, _ := KindOf(to.Label)
	// Labels, keys and bounds come from the model and validated integers; values are parameters.
	cypher := fmt.Sprintf(`MATCH (a:%s {twin: $twin, %s: $from}), (b:%s {twin: $twin, %s: $to})
MATCH p = SHORTEST %d (a)-[:ATTACK]->{1,%d}(b)
RETURN [n IN nodes(p) | [labels(n), n.name]], [r IN relationships(p) | r.rule], reduce(l = 1.0, r IN relationships(p) | l * r.p)`,
		from.Label, fk.Key, to.Label, tk.Key, k, maxHops)
	var out []HopPath
	_, err := db.execute(ctx, neo4j.AccessModeRead, func(tx neo4j.ManagedTransaction) (any, error) {
		out = out[:0]
		res, err := tx.Run(ctx, cypher, map[string]any{"twin": twin, "from": from.Key, "to": to.Key})
		if err != nil {
			return nil, err
		}
		for res.Next(ctx) {
			v := res.Record().Values
			var hp HopPath
			for _, n := range v[0].([]any) {
				pair := n.([]any)
				label := ""
				for _, l := range stringList(pair[0]) {
					if slices.Contains(attackLabels, l) {
						label = l
					}
				}
				hp.Nodes = append(hp.Nodes, NodeRef{Label: label, Key: asString(pair[1])})
			}
			hp.Rules = stringList(v[1])
			if l := asFloat(v[2]); l != nil {
				hp.Likelihood = *l
			}
			out = append(out, hp)
		}
		return nil, res.Err()
	}, neo4j.WithTxTimeout(attackQueryTimeout))
	var ne *neo4j.Neo4jError
	switch {
	case errors.As(err, &ne) && strings.Contains(ne.Code, "TransactionTimedOut"):
		return nil, ErrQueryBudget
	case err != nil:
		return nil, fmt.Errorf("shortest attack paths: %w", err)
	}
	return out, nil
}
