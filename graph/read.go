package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Reads. Every statement matches on the twin first, so a read never leaves its namespace, and
// takes every value from input as a parameter. Labels, property names and bounds on path length
// come from the model or from validated integers.

// Nodes returns the nodes of one label with these keys, by key. Missing keys are absent.
func (db *DB) Nodes(ctx context.Context, twin, label string, keys []string) (map[string]Node, error) {
	k, ok := KindOf(label)
	if !ok {
		return nil, fmt.Errorf("unknown label %q", label)
	}
	cypher := fmt.Sprintf("UNWIND $keys AS key MATCH (n:%s {twin: $twin, %s: key}) RETURN n", label, k.Key)
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "keys": keys})
	if err != nil {
		return nil, fmt.Errorf("get %s nodes: %w", label, err)
	}
	out := make(map[string]Node, len(recs))
	for _, rec := range recs {
		n, err := decodeNode(rec.Values[0].(neo4j.Node))
		if err != nil {
			return nil, err
		}
		out[n.Ref().Key] = n
	}
	return out, nil
}

// collect runs one read statement and returns all its records.
func (db *DB) collect(ctx context.Context, cypher string, params map[string]any) ([]*neo4j.Record, error) {
	out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
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

// Op is a filter operator.
type Op int

// Filter operators.
const (
	OpEq       Op = iota // property = value
	OpIn                 // property IN values
	OpPrefix             // property STARTS WITH value
	OpContains           // toLower(property) CONTAINS toLower(value)
	OpGte                // property >= value
	OpAnyIn              // any element of a list property is in values
)

// Cond is one filter condition on a node property of the model.
type Cond struct {
	Prop  string
	Op    Op
	Value any
}

// Rel is a filter on the existence of a relationship: (n)-[:Type]->(:To {Prop: Value}), or with
// In, (n)<-[:Type]-(…).
type Rel struct {
	Type   string
	In     bool   // the relationship points at n
	Label  string // label of the other node
	Prop   string // optional condition on the other node
	Value  any
	Negate bool // no such relationship
	// Via also accepts the relationship from a node one hop away: a service is in a zone
	// directly, or through a host it is DEPLOYED_ON.
	Via *Hop
}

// PageQuery asks for one page of a connection: the nodes of one label in a twin, filtered, in a
// stable order (by OrderBy, then by key), after a cursor.
type PageQuery struct {
	Twin    string
	Label   string
	Conds   []Cond
	Rels    []Rel
	OrderBy string // a property of the label; empty orders by key alone
	Desc    bool
	After   string // an EndCursor of an earlier page with the same order
	First   int
	Count   bool // also count every match
	// Props, when not nil, are the only properties the caller reads (see project).
	Props []string
}

// Page is one page of a connection.
type Page struct {
	Nodes       []Node
	Cursors     []string
	HasNextPage bool
	Total       int // only when counted
}

// ErrBadCursor means an after cursor that this order did not produce.
var ErrBadCursor = errors.New("malformed cursor: pass an endCursor from a page with the same orderBy")

// cursor is a page position: the sort value and the key of the last node.
type cursor struct {
	V any    `json:"v"`
	K string `json:"k"`
}

func encodeCursor(v any, k string) string {
	b, _ := json.Marshal(cursor{V: v, K: k})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, t PropType) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var c cursor
	if err := dec.Decode(&c); err != nil || c.K == "" {
		return cursor{}, ErrBadCursor
	}
	if c.V != nil {
		v, err := coerce(t, c.V)
		if err != nil {
			return cursor{}, ErrBadCursor
		}
		c.V = v
	}
	return c, nil
}

// sortDefault is what a missing property sorts as, so that ordering and cursors stay total.
func sortDefault(t PropType) string {
	switch t {
	case PropInt, PropFloat:
		return "-1"
	case PropBool:
		return "false"
	case PropTime:
		return "datetime('0001-01-01T00:00:00Z')"
	}
	return "''"
}

// MaxPageSize bounds First.
const MaxPageSize = 500

// Page returns one page of a connection in one round trip.
func (db *DB) Page(ctx context.Context, q PageQuery) (Page, error) {
	k, ok := KindOf(q.Label)
	if !ok {
		return Page{}, fmt.Errorf("unknown label %q", q.Label)
	}
	if q.First < 0 || q.First > MaxPageSize {
		return Page{}, fmt.Errorf("first must be between 0 and %d", MaxPageSize)
	}
	params := map[string]any{"twin": q.Twin, "limit": q.First + 1}
	where, err := filterClause(k, q.Conds, q.Rels, params)
	if err != nil {
		return Page{}, err
	}
	sortExpr, sortType := "n."+k.Key, PropString
	if q.OrderBy != "" && q.OrderBy != k.Key {
		t, ok := k.Props[q.OrderBy]
		if !ok || t == PropStrings {
			return Page{}, fmt.Errorf("cannot order %s by %q", q.Label, q.OrderBy)
		}
		sortExpr, sortType = fmt.Sprintf("coalesce(n.%s, %s)", q.OrderBy, sortDefault(t)), t
	}
	keyExpr := "n." + k.Key
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	after := ""
	if q.After != "" {
		c, err := decodeCursor(q.After, sortType)
		if err != nil {
			return Page{}, err
		}
		params["afterKey"] = c.K
		if sortExpr == keyExpr {
			after = fmt.Sprintf("%s %s $afterKey", keyExpr, cmp)
		} else {
			params["afterValue"] = c.V
			after = fmt.Sprintf("(%[1]s %[2]s $afterValue OR (%[1]s = $afterValue AND %[3]s %[2]s $afterKey))", sortExpr, cmp, keyExpr)
		}
	}
	conds := where
	if after != "" {
		conds = append(slices.Clone(conds), after)
	}
	match := fmt.Sprintf("MATCH (n:%s {twin: $twin})", q.Label)
	var b strings.Builder
	if q.Count {
		fmt.Fprintf(&b, "CALL () { %s%s RETURN count(n) AS total }\n", match, whereSQL(where))
	}
	// Ordering by key also names twin first, so the (twin, key) index supplies the order and
	// a page reads only its rows, not every match.
	if sortExpr == keyExpr {
		fmt.Fprintf(&b, "CALL () { %s%s\n  WITH n ORDER BY n.twin %s, %s %s", match, whereSQL(conds), dir, keyExpr, dir)
	} else {
		fmt.Fprintf(&b, "CALL () { %s%s\n  WITH n ORDER BY %s %s, %s %s", match, whereSQL(conds), sortExpr, dir, keyExpr, dir)
	}
	fmt.Fprintf(&b, " LIMIT $limit RETURN collect([%s, %s]) AS page }\n", project("n", q.Label, q.Props), sortExpr)
	if q.Count {
		b.WriteString("RETURN page, total")
	} else {
		b.WriteString("RETURN page, 0 AS total")
	}
	recs, err := db.collect(ctx, b.String(), params)
	if err != nil {
		return Page{}, fmt.Errorf("page of %s: %w", q.Label, err)
	}
	var p Page
	rows, _ := recs[0].Values[0].([]any)
	total, _ := recs[0].Values[1].(int64)
	p.Total = int(total)
	if len(rows) > q.First {
		p.HasNextPage = true
		rows = rows[:q.First]
	}
	for _, r := range rows {
		pair := r.([]any)
		n, err := decodeAs(q.Label, pair[0])
		if err != nil {
			return Page{}, err
		}
		p.Nodes = append(p.Nodes, n)
		v := pair[1]
		if sortExpr == keyExpr {
			v = nil
		}
		p.Cursors = append(p.Cursors, encodeCursor(v, n.Ref().Key))
	}
	return p, nil
}

func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// filterClause turns conditions into Cypher predicates on n, with values as parameters.
func filterClause(k Kind, conds []Cond, rels []Rel, params map[string]any) ([]string, error) {
	var out []string
	for i, c := range conds {
		if _, ok := k.Props[c.Prop]; !ok && c.Prop != k.Key {
			return nil, fmt.Errorf("%s has no property %q", k.Label, c.Prop)
		}
		p := fmt.Sprintf("f%d", i)
		params[p] = c.Value
		prop := "n." + c.Prop
		switch c.Op {
		case OpEq:
			out = append(out, fmt.Sprintf("%s = $%s", prop, p))
		case OpIn:
			out = append(out, fmt.Sprintf("%s IN $%s", prop, p))
		case OpPrefix:
			out = append(out, fmt.Sprintf("%s STARTS WITH $%s", prop, p))
		case OpContains:
			out = append(out, fmt.Sprintf("toLower(%s) CONTAINS toLower($%s)", prop, p))
		case OpGte:
			out = append(out, fmt.Sprintf("%s >= $%s", prop, p))
		case OpAnyIn:
			out = append(out, fmt.Sprintf("any(x IN coalesce(%s, []) WHERE x IN $%s)", prop, p))
		default:
			return nil, fmt.Errorf("unknown operator %d", c.Op)
		}
	}
	for i, r := range rels {
		if _, ok := EdgeKindOf(r.Type); !ok {
			return nil, fmt.Errorf("unknown relationship %q", r.Type)
		}
		ok, _ := KindOf(r.Label)
		if ok.Label == "" {
			return nil, fmt.Errorf("unknown label %q", r.Label)
		}
		left, right := "-", "->"
		if r.In {
			left, right = "<-", "-"
		}
		other := fmt.Sprintf("(:%s {twin: $twin})", r.Label)
		if r.Prop != "" {
			if _, has := ok.Props[r.Prop]; !has && r.Prop != ok.Key {
				return nil, fmt.Errorf("%s has no property %q", r.Label, r.Prop)
			}
			p := fmt.Sprintf("r%d", i)
			params[p] = r.Value
			other = fmt.Sprintf("(:%s {twin: $twin, %s: $%s})", r.Label, r.Prop, p)
		}
		not := ""
		if r.Negate {
			not = "NOT "
		}
		exists := fmt.Sprintf("EXISTS { (n)%s[:%s]%s%s }", left, r.Type, right, other)
		if r.Via != nil {
			if _, ok := KindOf(r.Via.Label); !ok {
				return nil, fmt.Errorf("unknown label %q", r.Via.Label)
			}
			if _, ok := EdgeKindOf(r.Via.Type); !ok || r.Via.In {
				return nil, fmt.Errorf("unsupported via hop %v", *r.Via)
			}
			exists = fmt.Sprintf("(%s OR EXISTS { (n)-[:%s]->(:%s {twin: $twin})%s[:%s]%s%s })", exists, r.Via.Type, r.Via.Label, left, r.Type, right, other)
		}
		out = append(out, not+exists)
	}
	return out, nil
}

// Neighbor is a node reached over a path, with the properties of its last relationship.
type Neighbor struct {
	Node Node
	Edge map[string]any
}

// Hop is one relationship step from a node: its type, direction and the label at the far end
// (empty: any label of the model).
type Hop struct {
	Type  string
	In    bool
	Label string
}

// Neighbors returns, for each key of a from-label node, the distinct nodes at the end of path
// (one to three hops), ordered by label and key, at most limit per node, with the properties of
// one last relationship reaching each. One statement serves every key: dataloaders batch
// through it.
func (db *DB) Neighbors(ctx context.Context, twin, from string, keys []string, path []Hop, limit int) (map[string][]Neighbor, error) {
	fk, ok := KindOf(from)
	if !ok {
		return nil, fmt.Errorf("unknown label %q", from)
	}
	if len(path) == 0 || len(path) > 3 {
		return nil, fmt.Errorf("a neighbor path has one to three hops, not %d", len(path))
	}
	var pat strings.Builder
	for i, hop := range path {
		if _, ok := EdgeKindOf(hop.Type); !ok {
			return nil, fmt.Errorf("unknown relationship %q", hop.Type)
		}
		if hop.Label != "" {
			if _, ok := KindOf(hop.Label); !ok {
				return nil, fmt.Errorf("unknown label %q", hop.Label)
			}
		}
		left, right := "-", "->"
		if hop.In {
			left, right = "<-", "-"
		}
		rv, nv := "", ""
		if i == len(path)-1 {
			rv, nv = "r", "b"
		}
		label := ""
		if hop.Label != "" {
			label = ":" + hop.Label
		}
		fmt.Fprintf(&pat, "%s[%s:%s]%s(%s%s {twin: $twin})", left, rv, hop.Type, right, nv, label)
	}
	cypher := fmt.Sprintf(`UNWIND $keys AS key
MATCH (a:%s {twin: $twin, %s: key})%s
WITH key, b, head(collect(properties(r))) AS r
ORDER BY head(labels(b)), coalesce(b.name, b.purl, b.digest, b.vulnerabilityId, b.fingerprint, b.techniqueId)
WITH key, collect({b: b, r: r})[..$limit] AS items
RETURN key, items`, from, fk.Key, pat.String())
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "keys": keys, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("neighbors of %s over %v: %w", from, path, err)
	}
	out := make(map[string][]Neighbor, len(recs))
	for _, rec := range recs {
		key := rec.Values[0].(string)
		for _, it := range rec.Values[1].([]any) {
			m := it.(map[string]any)
			n, err := decodeNode(m["b"].(neo4j.Node))
			if err != nil {
				continue // a node of a later model version: not ours to show
			}
			edge, _ := m["r"].(map[string]any)
			out[key] = append(out[key], Neighbor{Node: n, Edge: edge})
		}
	}
	return out, nil
}

// Reached is a node found by a traversal, at its shortest distance.
type Reached struct {
	Node   Node
	Depth  int
	Parent NodeRef        // the node before it on one shortest path
	Via    []string       // relationship types along that path
	Edge   map[string]any // properties of the last relationship
}

// MaxDepth bounds traversal depth.
const MaxDepth = 10

// TreeQuery asks for a component and its dependency tree.
type TreeQuery struct {
	Twin, Purl string
	Depth      int  // 1 to MaxDepth hops
	Reverse    bool // dependents instead of dependencies
	Limit      int
	// RootProps and Props, when not nil, are the properties the caller reads of the component
	// and of those reached (see project).
	RootProps, Props []string
	// Edges also returns, for each component reached, its parent on a shortest path and the
	// properties of the DEPENDS_ON from it.
	Edges bool
}

// Dependencies returns the component (nil when absent) and the components it depends on (or,
// with Reverse, that depend on it), up to Depth hops, each once at its shortest distance, nearest
// first. One statement reads both, so a lookup with its tree is one round trip.
func (db *DB) Dependencies(ctx context.Context, q TreeQuery) (*Component, []Reached, error) {
	if q.Depth < 1 || q.Depth > MaxDepth {
		return nil, nil, fmt.Errorf("depth must be between 1 and %d", MaxDepth)
	}
	arrow := "-[:DEPENDS_ON]->"
	if q.Reverse {
		arrow = "<-[:DEPENDS_ON]-"
	}
	edges := "null, null"
	if q.Edges {
		edges = "nodes(p)[-2].purl, properties(last(relationships(p)))"
	}
	cypher := fmt.Sprintf(`MATCH (c:Component {twin: $twin, purl: $purl})
CALL (c) {
  MATCH p = ANY SHORTEST (c)%s{1,%d}(d:Component)
  WITH p, d, length(p) AS depth
  ORDER BY depth, d.purl LIMIT $limit
  RETURN collect([%s, depth, %s]) AS deps
}
RETURN %s, deps`, arrow, q.Depth, project("d", LabelComponent, q.Props), edges, project("c", LabelComponent, q.RootProps))
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": q.Twin, "purl": q.Purl, "limit": q.Limit})
	if err != nil || len(recs) == 0 {
		return nil, nil, err
	}
	n, err := decodeAs(LabelComponent, recs[0].Values[0])
	if err != nil {
		return nil, nil, err
	}
	root := n.(*Component)
	var out []Reached
	for _, row := range recs[0].Values[1].([]any) {
		out = append(out, reachedFrom(row.([]any), LabelComponent, LabelComponent)...)
	}
	return root, out, nil
}

// reachedFrom decodes one [node, depth, parent key, edge properties, via types] row; label is
// the node's, needed when it was projected.
func reachedFrom(v []any, label, parentLabel string) []Reached {
	n, err := decodeAs(label, v[0])
	if err != nil {
		return nil
	}
	r := Reached{Node: n, Depth: int(v[1].(int64))}
	if s, ok := v[2].(string); ok {
		r.Parent = NodeRef{parentLabel, s}
	}
	r.Edge, _ = v[3].(map[string]any)
	if len(v) > 4 {
		for _, t := range v[4].([]any) {
			r.Via = append(r.Via, t.(string))
		}
	}
	return []Reached{r}
}

func (db *DB) reached(ctx context.Context, cypher string, params map[string]any, parentLabel string) ([]Reached, error) {
	recs, err := db.collect(ctx, cypher, params)
	if err != nil {
		return nil, fmt.Errorf("traversal: %w", err)
	}
	out := make([]Reached, 0, len(recs))
	for _, rec := range recs {
		out = append(out, reachedFrom(rec.Values, "", parentLabel)...)
	}
	return out, nil
}

// Exposure is where a service is exposed: a zone, and the port and protocol.
type Exposure struct {
	Zone     string
	Internet bool
	Port     int
	Proto    string
}

// AffectedService is a running service that carries a vulnerable component.
type AffectedService struct {
	Service    *Service
	Components []*Component // the vulnerable components it carries
	Artifacts  []string     // digests of the artifacts that contain them
	Exposures  []Exposure
}

// AffectedServices returns the vulnerability (nil when absent) and the services that RUN an
// artifact that CONTAINS a component it AFFECTS, with where they are exposed, ordered by name.
// One statement reads both.
//
// props, when not nil, name the properties the caller reads of each label (see project).
func (db *DB) AffectedServices(ctx context.Context, twin, vulnID string, limit int, props map[string][]string) (*Vulnerability, []AffectedService, error) {
	recs, err := db.collect(ctx, `MATCH (v:Vulnerability {twin: $twin, vulnerabilityId: $id})
CALL (v) {
  MATCH (v)-[:AFFECTS]->(c:Component)<-[:CONTAINS]-(a:Artifact)<-[:RUNS]-(s:Service)
  WITH s, collect(DISTINCT `+project("c", LabelComponent, props[LabelComponent])+`) AS comps, collect(DISTINCT a.digest) AS digests
  ORDER BY s.name LIMIT $limit
  OPTIONAL MATCH (s)-[e:EXPOSES]->(z:Zone)
  WITH s, comps, digests, e, z ORDER BY z.name, e.port
  WITH s, comps, digests, collect(CASE WHEN z IS NULL THEN null ELSE [z.name, coalesce(z.internet, false), e.port, e.proto] END) AS exposures
  ORDER BY s.name
  RETURN collect([`+project("s", LabelService, props[LabelService])+`, comps, digests, exposures]) AS affected
}
RETURN `+project("v", LabelVulnerability, props[LabelVulnerability])+`, affected`, map[string]any{"twin": twin, "id": vulnID, "limit": limit})
	if err != nil {
		return nil, nil, fmt.Errorf("affected services of %s: %w", vulnID, err)
	}
	if len(recs) == 0 {
		return nil, nil, nil
	}
	rn, err := decodeAs(LabelVulnerability, recs[0].Values[0])
	if err != nil {
		return nil, nil, err
	}
	root := rn.(*Vulnerability)
	rows := recs[0].Values[1].([]any)
	out := make([]AffectedService, 0, len(rows))
	for _, row := range rows {
		rec := struct{ Values []any }{row.([]any)}
		var a AffectedService
		sn, err := decodeAs(LabelService, rec.Values[0])
		if err != nil {
			return nil, nil, err
		}
		a.Service = sn.(*Service)
		for _, c := range rec.Values[1].([]any) {
			cn, err := decodeAs(LabelComponent, c)
			if err != nil {
				return nil, nil, err
			}
			a.Components = append(a.Components, cn.(*Component))
		}
		slices.SortFunc(a.Components, func(x, y *Component) int { return strings.Compare(x.Purl, y.Purl) })
		for _, d := range rec.Values[2].([]any) {
			a.Artifacts = append(a.Artifacts, d.(string))
		}
		slices.Sort(a.Artifacts)
		for _, e := range rec.Values[3].([]any) {
			x := e.([]any)
			exp := Exposure{Zone: x[0].(string), Internet: x[1].(bool)}
			if p, ok := x[2].(int64); ok {
				exp.Port = int(p)
			}
			exp.Proto, _ = x[3].(string)
			a.Exposures = append(a.Exposures, exp)
		}
		out = append(out, a)
	}
	return root, out, nil
}

// Blast-radius traversal: the relationships an attacker who holds a node can follow, forwards,
// and the ones followed backwards (a zone gives access to what is in it, a host to what runs
// on it).
var (
	blastForward  = []string{"REACHES", "FLOWS_TO", "RUNS_AS", "HAS_ACCESS", "DEPLOYED_ON", "IN_ZONE", "STORES", "AUTHENTICATES"}
	blastBackward = []string{"IN_ZONE", "DEPLOYED_ON"}
)

// BlastRadius returns what a node can reach within depth hops: services, hosts, zones, data
// stores, identities and credentials, each at its shortest distance, with the relationship
// types along the way.
func (db *DB) BlastRadius(ctx context.Context, twin string, from NodeRef, depth, limit int) ([]Reached, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("depth must be between 1 and %d", MaxDepth)
	}
	k, ok := KindOf(from.Label)
	if !ok {
		return nil, fmt.Errorf("unknown label %q", from.Label)
	}
	cypher := fmt.Sprintf(`MATCH (s:%s {twin: $twin, %s: $key})
MATCH p = ANY SHORTEST (s) ((x)-[r]-(y) WHERE (type(r) IN $fwd AND startNode(r) = x) OR (type(r) IN $bwd AND endNode(r) = x)){1,%d} (t)
WHERE t <> s AND (t:Service OR t:Host OR t:Zone OR t:DataStore OR t:Identity OR t:Credential)
WITH t, length(p) AS depth, nodes(p)[-2] AS parent, relationships(p) AS rels
ORDER BY depth, head(labels(t)), t.name LIMIT $limit
RETURN t, depth, parent.name, properties(last(rels)), [x IN rels | type(x)]`, from.Label, k.Key, depth)
	recs, err := db.reached(ctx, cypher, map[string]any{"twin": twin, "key": from.Key, "limit": limit, "fwd": blastForward, "bwd": blastBackward}, "")
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// Search returns nodes of the given labels whose name or key starts with prefix (case
// sensitive, index-backed), ordered by label then key.
func (db *DB) Search(ctx context.Context, twin, prefix string, labels []string, limit int) ([]Node, error) {
	if len(labels) == 0 {
		labels = writableLabels()
	}
	var parts []string
	for _, l := range labels {
		k, ok := KindOf(l)
		if !ok {
			return nil, fmt.Errorf("unknown label %q", l)
		}
		cond := fmt.Sprintf("n.%s STARTS WITH $q", k.Key)
		if _, ok := k.Props["name"]; ok {
			cond += " OR n.name STARTS WITH $q"
		}
		parts = append(parts, fmt.Sprintf("MATCH (n:%s {twin: $twin}) WHERE %s RETURN n, %q AS label, n.%s AS key ORDER BY key LIMIT $limit", l, cond, l, k.Key))
	}
	cypher := "CALL () { " + strings.Join(parts, "\nUNION ALL\n") + " }\nRETURN n ORDER BY label, key LIMIT $limit"
	recs, err := db.collect(ctx, cypher, map[string]any{"twin": twin, "q": prefix, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := make([]Node, 0, len(recs))
	for _, rec := range recs {
		n, err := decodeNode(rec.Values[0].(neo4j.Node))
		if err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// Stats counts a twin's nodes by label and edges by type.
type Stats struct {
	Nodes map[string]int
	Edges map[string]int
}

// TotalNodes sums Nodes.
func (s Stats) TotalNodes() int { return sum(s.Nodes) }

// TotalEdges sums Edges.
func (s Stats) TotalEdges() int { return sum(s.Edges) }

func sum(m map[string]int) int {
	n := 0
	for v := range maps.Values(m) {
		n += v
	}
	return n
}

// Stats counts what a twin holds: the Twin node, grants and derived attack steps excluded.
func (db *DB) Stats(ctx context.Context, twin string) (Stats, error) {
	s := Stats{Nodes: map[string]int{}, Edges: map[string]int{}}
	for _, l := range writableLabels() {
		recs, err := db.collect(ctx, fmt.Sprintf("MATCH (n:%s {twin: $twin})-[r]->() WHERE NOT r:ATTACK RETURN type(r), count(r)", l), map[string]any{"twin": twin})
		if err != nil {
			return Stats{}, fmt.Errorf("stats of twin %s: %w", twin, err)
		}
		nodes, err := db.collect(ctx, fmt.Sprintf("MATCH (n:%s {twin: $twin}) RETURN count(n)", l), map[string]any{"twin": twin})
		if err != nil {
			return Stats{}, fmt.Errorf("stats of twin %s: %w", twin, err)
		}
		if c := int(nodes[0].Values[0].(int64)); c > 0 {
			s.Nodes[l] = c
		}
		for _, rec := range recs {
			s.Edges[rec.Values[0].(string)] += int(rec.Values[1].(int64))
		}
	}
	return s, nil
}
