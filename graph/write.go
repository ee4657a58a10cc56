package graph

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// NodeRow is one node to upsert. Props not given keep their stored values; a nil value removes
// the property.
type NodeRow struct {
	Label string
	Key   string
	Props map[string]any
}

// EdgeRow is one relationship to upsert or remove. Its KeyProps (see EdgeKind) must be in Props.
type EdgeRow struct {
	Type  string
	From  NodeRef
	To    NodeRef
	Props map[string]any
}

// Batch is a set of changes to one twin, written in one transaction: node upserts first, then
// edge upserts, then edge and node removals.
type Batch struct {
	Nodes       []NodeRow
	Edges       []EdgeRow
	DeleteEdges []EdgeRow
	DeleteNodes []NodeRef
}

// Empty reports a batch with nothing to do.
func (b Batch) Empty() bool {
	return len(b.Nodes)+len(b.Edges)+len(b.DeleteEdges)+len(b.DeleteNodes) == 0
}

// WriteOptions steer Write.
type WriteOptions struct {
	// Source names who writes, recorded in the provenance of every node and edge touched:
	// "manifest:traffic.yaml", "graphql:<token id>", "cyclonedx:sha256:…".
	Source string
	// Prune removes what carries Source but is not in the batch: the source's earlier
	// contributions that it no longer declares. Nodes and edges that other sources also
	// declared only lose Source from their provenance.
	Prune bool
	// Supersede names sources this write replaces, such as the previous SBOM of the same
	// subject. After the batch is written, in the same transaction, they are removed from the
	// provenance of every node and edge of the twin, and what no source declares any longer is
	// deleted. A write that fails removes nothing.
	Supersede []string
	// Now is the time recorded as seen; zero means time.Now().
	Now time.Time
}

// WriteResult counts what a write did.
type WriteResult struct {
	NodesCreated, NodesUpdated, NodesDeleted int
	EdgesCreated, EdgesUpdated, EdgesDeleted int
	// Changed lists the nodes created, updated or deleted (nodes of changed edges included),
	// for change events.
	Changed []NodeRef
}

// Problem is one thing wrong with a batch.
type Problem struct {
	Path    string // "nodes[3].props.version", "edges[0].to"
	Message string
}

// ValidationError lists everything wrong with a batch. Nothing is written.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-10)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Path + ": " + p.Message)
	}
	return b.String()
}

// MissingNodesError names edge endpoints that do not exist in the twin. Nothing is written.
type MissingNodesError struct{ Missing []NodeRef }

func (e *MissingNodesError) Error() string {
	names := make([]string, 0, min(len(e.Missing), 5))
	for _, r := range e.Missing[:min(len(e.Missing), 5)] {
		names = append(names, r.String())
	}
	more := ""
	if len(e.Missing) > 5 {
		more = fmt.Sprintf(" and %d more", len(e.Missing)-5)
	}
	return "no such node in the twin: " + strings.Join(names, ", ") + more + "; create them first"
}

// ErrTwinNotFound means the twin does not exist.
var ErrTwinNotFound = errors.New("twin not found")

// maxKeyLen bounds natural keys and string properties: purls can be long, but not this long.
const (
	maxKeyLen    = 2048
	maxStringLen = 64 << 10
	maxListLen   = 1000
)

// loc names a row of a batch for problems; it is formatted only when there is one, since
// validation runs over every row of big documents.
type loc struct {
	list string
	i    int
}

func (l loc) at(suffix string) string { return fmt.Sprintf("%s[%d]%s", l.list, l.i, suffix) }

// validate checks every row against the model and returns a copy whose property values have the
// types Neo4j stores.
func (b Batch) validate() (Batch, error) {
	var probs []Problem
	add := func(l loc, suffix, format string, args ...any) {
		probs = append(probs, Problem{Path: l.at(suffix), Message: fmt.Sprintf(format, args...)})
	}
	checkRef := func(l loc, suffix string, r NodeRef) {
		k, ok := KindOf(r.Label)
		switch {
		case !ok || r.Label == LabelTwin:
			add(l, suffix, "unknown node type %q; one of %s", r.Label, strings.Join(writableLabels(), ", "))
		case r.Key == "":
			add(l, suffix, "%s.%s is required", r.Label, k.Key)
		case len(r.Key) > maxKeyLen:
			add(l, suffix, "%s.%s is longer than %d bytes", r.Label, k.Key, maxKeyLen)
		case !utf8.ValidString(r.Key):
			add(l, suffix, "%s.%s is not valid UTF-8", r.Label, k.Key)
		}
	}
	checkProps := func(l loc, allowed map[string]PropType, in map[string]any) map[string]any {
		out := make(map[string]any, len(in))
		// Unsorted: problems are sorted at the end.
		for name, raw := range in {
			t, ok := allowed[name]
			if !ok {
				add(l, ".props."+name, "unknown property; allowed: %s", strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
				continue
			}
			v, err := coerce(t, raw)
			if err != nil {
				add(l, ".props."+name, "%v", err)
				continue
			}
			switch x := v.(type) {
			case string:
				if len(x) > maxStringLen {
					add(l, ".props."+name, "longer than %d bytes", maxStringLen)
				} else if !utf8.ValidString(x) {
					add(l, ".props."+name, "not valid UTF-8")
				}
			case []string:
				if len(x) > maxListLen {
					add(l, ".props."+name, "more than %d items", maxListLen)
				}
			}
			out[name] = v
		}
		return out
	}
	out := Batch{Nodes: make([]NodeRow, 0, len(b.Nodes))}
	for i, n := range b.Nodes {
		l := loc{"nodes", i}
		checkRef(l, "", NodeRef{n.Label, n.Key})
		k, ok := KindOf(n.Label)
		if !ok {
			continue
		}
		props := checkProps(l, k.writable, n.Props)
		if _, has := n.Props[k.Key]; has {
			add(l, ".props."+k.Key, "the key goes in Key, not Props")
		}
		for d, from := range k.Derived {
			if v, ok := props[from]; ok {
				props[d] = rank(v)
			}
		}
		out.Nodes = append(out.Nodes, NodeRow{Label: n.Label, Key: n.Key, Props: props})
	}
	edges := func(kind string, rows []EdgeRow) []EdgeRow {
		res := make([]EdgeRow, 0, len(rows))
		for i, e := range rows {
			l := loc{kind, i}
			ek, ok := EdgeKindOf(e.Type)
			if !ok {
				add(l, ".type", "unknown relationship %q; one of %s", e.Type, strings.Join(EdgeTypes(), ", "))
				continue
			}
			checkRef(l, ".from", e.From)
			checkRef(l, ".to", e.To)
			if !ek.Allows(e.From.Label, e.To.Label) {
				add(l, "", "%s cannot join %s to %s", e.Type, e.From.Label, e.To.Label)
			}
			props := checkProps(l, ek.Props, e.Props)
			for _, kp := range ek.KeyProps {
				if props[kp] == nil {
					add(l, ".props."+kp, "required for %s", e.Type)
				}
			}
			res = append(res, EdgeRow{Type: e.Type, From: e.From, To: e.To, Props: props})
		}
		return res
	}
	out.Edges = edges("edges", b.Edges)
	out.DeleteEdges = edges("deleteEdges", b.DeleteEdges)
	for i, r := range b.DeleteNodes {
		checkRef(loc{"deleteNodes", i}, "", r)
	}
	out.DeleteNodes = b.DeleteNodes
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
		return Batch{}, &ValidationError{Problems: probs}
	}
	return out, nil
}

// rank orders severities and criticalities: NONE or unknown 0, LOW 1 … CRITICAL 4.
func rank(v any) any {
	if v == nil {
		return nil
	}
	s, _ := v.(string)
	switch strings.ToUpper(s) {
	case "LOW":
		return int64(1)
	case "MEDIUM", "MODERATE":
		return int64(2)
	case "HIGH":
		return int64(3)
	case "CRITICAL":
		return int64(4)
	}
	return int64(0)
}

// Validate checks a batch against the model without writing.
func (b Batch) Validate() error {
	_, err := b.validate()
	return err
}

func writableLabels() []string {
	return slices.DeleteFunc(Labels(), func(l string) bool { return l == LabelTwin })
}

// chunkSize bounds the rows of one UNWIND statement, keeping each statement's memory small.
const chunkSize = 5000

// Write applies a batch to a twin in one transaction. It fails with a *ValidationError or a
// *MissingNodesError before anything is written, and with ErrTwinNotFound when the twin does not
// exist.
func (db *DB) Write(ctx context.Context, twin string, b Batch, opt WriteOptions) (WriteResult, error) {
	b, err := b.validate()
	if err != nil {
		return WriteResult{}, err
	}
	if opt.Source == "" {
		return WriteResult{}, errors.New("write: a source is required for provenance")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	w := writer{twin: twin, src: opt.Source, now: opt.Now}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		w.res = WriteResult{}
		if err := w.twinExists(ctx, tx); err != nil {
			return nil, err
		}
		if err := w.nodes(ctx, tx, b.Nodes); err != nil {
			return nil, err
		}
		if err := w.edges(ctx, tx, b.Edges); err != nil {
			return nil, err
		}
		if err := w.deleteEdges(ctx, tx, b.DeleteEdges); err != nil {
			return nil, err
		}
		if err := w.deleteNodes(ctx, tx, b.DeleteNodes); err != nil {
			return nil, err
		}
		if opt.Prune {
			if err := w.prune(ctx, tx, b); err != nil {
				return nil, err
			}
		}
		if old := slices.DeleteFunc(slices.Clone(opt.Supersede), func(s string) bool { return s == opt.Source }); len(old) > 0 {
			if err := w.supersede(ctx, tx, old); err != nil {
				return nil, err
			}
		}
		if touchesTopology(b, opt) {
			// The live state (LiveState) reloads a twin's topology when this moves.
			if err := run(ctx, tx, `MATCH (t:Twin {twin: $twin, name: $twin}) SET t.topologyVersion = coalesce(t.topologyVersion, 0) + 1`, w.params(nil)); err != nil {
				return nil, err
			}
		}
		return w.res, nil
	})
	if err != nil {
		return WriteResult{}, fmt.Errorf("write to twin %s: %w", twin, err)
	}
	res := out.(WriteResult)
	res.Changed = dedupRefs(res.Changed)
	return res, nil
}

// touchesTopology says whether a write may change what the live state reads of the twin's
// topology (LiveState): hosts, zones, services, or the edges between them. Pruning and
// superseding may delete any of them.
func touchesTopology(b Batch, opt WriteOptions) bool {
	if opt.Prune || len(opt.Supersede) > 0 {
		return true
	}
	node := func(label string) bool { return label == LabelHost || label == LabelZone || label == LabelService }
	for _, n := range b.Nodes {
		if node(n.Label) {
			return true
		}
	}
	for _, r := range b.DeleteNodes {
		if node(r.Label) {
			return true
		}
	}
	for _, e := range slices.Concat(b.Edges, b.DeleteEdges) {
		switch e.Type {
		case "IN_ZONE", "REACHES", "EXPOSES", "DEPLOYED_ON":
			return true
		}
	}
	return false
}

type writer struct {
	twin string
	src  string
	now  time.Time
	res  WriteResult
}

func (w *writer) params(extra map[string]any) map[string]any {
	p := map[string]any{"twin": w.twin, "source": w.src, "now": w.now}
	maps.Copy(p, extra)
	return p
}

func (w *writer) twinExists(ctx context.Context, tx neo4j.ManagedTransaction) error {
	res, err := tx.Run(ctx, "MATCH (t:Twin {twin: $twin, name: $twin}) RETURN t.name", w.params(nil))
	if err != nil {
		return err
	}
	if _, err := res.Single(ctx); err != nil {
		return ErrTwinNotFound
	}
	return nil
}

// provenanceSet records a sighting by $source at $now on the variable v.
func provenanceSet(v string) string {
	return fmt.Sprintf(`ON CREATE SET %[1]s.firstSeen = $now, %[1]s.sources = [$source]
ON MATCH SET %[1]s.sources = CASE WHEN $source IN coalesce(%[1]s.sources, []) THEN %[1]s.sources ELSE coalesce(%[1]s.sources, []) + $source END
SET %[1]s.lastSeen = $now`, v)
}

func (w *writer) nodes(ctx context.Context, tx neo4j.ManagedTransaction, rows []NodeRow) error {
	byLabel := map[string][]map[string]any{}
	for _, n := range rows {
		byLabel[n.Label] = append(byLabel[n.Label], map[string]any{"key": n.Key, "props": n.Props})
		w.res.Changed = append(w.res.Changed, NodeRef{n.Label, n.Key})
	}
	for _, label := range slices.Sorted(maps.Keys(byLabel)) {
		k, _ := KindOf(label)
		// Labels and property names come from the model, never from input.
		cypher := fmt.Sprintf(`UNWIND $rows AS row
MERGE (n:%s {twin: $twin, %s: row.key})
%s
SET n += row.props`, label, k.Key, provenanceSet("n"))
		for chunk := range slices.Chunk(byLabel[label], chunkSize) {
			res, err := tx.Run(ctx, cypher, w.params(map[string]any{"rows": chunk}))
			if err != nil {
				return err
			}
			sum, err := res.Consume(ctx)
			if err != nil {
				return err
			}
			created := sum.Counters().NodesCreated()
			w.res.NodesCreated += created
			w.res.NodesUpdated += len(chunk) - created
		}
	}
	return nil
}

// edgeGroup is the rows of one relationship type between one pair of labels: one statement.
type edgeGroup struct {
	typ, from, to string
}

func groupEdges(rows []EdgeRow) (map[edgeGroup][]map[string]any, []edgeGroup) {
	groups := map[edgeGroup][]map[string]any{}
	for i, e := range rows {
		g := edgeGroup{e.Type, e.From.Label, e.To.Label}
		ek, _ := EdgeKindOf(e.Type)
		keys := map[string]any{}
		for _, kp := range ek.KeyProps {
			keys[kp] = e.Props[kp]
		}
		groups[g] = append(groups[g], map[string]any{"i": i, "from": e.From.Key, "to": e.To.Key, "keys": keys, "props": e.Props})
	}
	order := slices.SortedFunc(maps.Keys(groups), func(a, b edgeGroup) int {
		return strings.Compare(a.typ+a.from+a.to, b.typ+b.from+b.to)
	})
	return groups, order
}

// edgeKeyPattern is the property map a MERGE or MATCH of this edge kind uses: its key properties.
func edgeKeyPattern(ek EdgeKind) string {
	if len(ek.KeyProps) == 0 {
		return ""
	}
	parts := make([]string, len(ek.KeyProps))
	for i, kp := range ek.KeyProps {
		parts[i] = fmt.Sprintf("%s: row.keys.%s", kp, kp)
	}
	return " {" + strings.Join(parts, ", ") + "}"
}

func (w *writer) edges(ctx context.Context, tx neo4j.ManagedTransaction, rows []EdgeRow) error {
	groups, order := groupEdges(rows)
	for _, g := range order {
		ek, _ := EdgeKindOf(g.typ)
		fk, _ := KindOf(g.from)
		tk, _ := KindOf(g.to)
		cypher := fmt.Sprintf(`UNWIND $rows AS row
MATCH (a:%s {twin: $twin, %s: row.from})
MATCH (b:%s {twin: $twin, %s: row.to})
MERGE (a)-[r:%s%s]->(b)
%s
SET r += row.props
RETURN collect(row.i) AS done`, g.from, fk.Key, g.to, tk.Key, g.typ, edgeKeyPattern(ek), provenanceSet("r"))
		for chunk := range slices.Chunk(groups[g], chunkSize) {
			res, err := tx.Run(ctx, cypher, w.params(map[string]any{"rows": chunk}))
			if err != nil {
				return err
			}
			rec, err := res.Single(ctx)
			if err != nil {
				return err
			}
			sum, err := res.Consume(ctx)
			if err != nil {
				return err
			}
			done := map[int64]bool{}
			list, _ := rec.Values[0].([]any)
			for _, v := range list {
				done[v.(int64)] = true
			}
			if len(done) < len(chunk) {
				return missingEndpoints(ctx, tx, w.twin, rows, chunk, done)
			}
			created := sum.Counters().RelationshipsCreated()
			w.res.EdgesCreated += created
			w.res.EdgesUpdated += len(chunk) - created
			for _, row := range chunk {
				e := rows[row["i"].(int)]
				w.res.Changed = append(w.res.Changed, e.From, e.To)
			}
		}
	}
	return nil
}

// missingEndpoints finds which endpoints of the rows that matched nothing do not exist.
func missingEndpoints(ctx context.Context, tx neo4j.ManagedTransaction, twin string, rows []EdgeRow, chunk []map[string]any, done map[int64]bool) error {
	seen := map[NodeRef]bool{}
	var missing []NodeRef
	for _, row := range chunk {
		i := row["i"].(int)
		if done[int64(i)] {
			continue
		}
		for _, r := range []NodeRef{rows[i].From, rows[i].To} {
			if seen[r] {
				continue
			}
			seen[r] = true
			k, _ := KindOf(r.Label)
			res, err := tx.Run(ctx, fmt.Sprintf("MATCH (n:%s {twin: $twin, %s: $key}) RETURN count(n) AS c", r.Label, k.Key),
				map[string]any{"twin": twin, "key": r.Key})
			if err != nil {
				return err
			}
			rec, err := res.Single(ctx)
			if err != nil {
				return err
			}
			if rec.Values[0].(int64) == 0 {
				missing = append(missing, r)
			}
		}
	}
	return &MissingNodesError{Missing: missing}
}

func (w *writer) deleteEdges(ctx context.Context, tx neo4j.ManagedTransaction, rows []EdgeRow) error {
	groups, order := groupEdges(rows)
	for _, g := range order {
		ek, _ := EdgeKindOf(g.typ)
		fk, _ := KindOf(g.from)
		tk, _ := KindOf(g.to)
		cypher := fmt.Sprintf(`UNWIND $rows AS row
MATCH (a:%s {twin: $twin, %s: row.from})-[r:%s%s]->(b:%s {twin: $twin, %s: row.to})
DELETE r`, g.from, fk.Key, g.typ, edgeKeyPattern(ek), g.to, tk.Key)
		for chunk := range slices.Chunk(groups[g], chunkSize) {
			n, err := deleted(ctx, tx, cypher, w.params(map[string]any{"rows": chunk}))
			if err != nil {
				return err
			}
			w.res.EdgesDeleted += n.rels
		}
		for _, row := range groups[g] {
			e := rows[row["i"].(int)]
			w.res.Changed = append(w.res.Changed, e.From, e.To)
		}
	}
	return nil
}

func (w *writer) deleteNodes(ctx context.Context, tx neo4j.ManagedTransaction, refs []NodeRef) error {
	byLabel := map[string][]string{}
	for _, r := range refs {
		byLabel[r.Label] = append(byLabel[r.Label], r.Key)
	}
	for _, label := range slices.Sorted(maps.Keys(byLabel)) {
		k, _ := KindOf(label)
		cypher := fmt.Sprintf(`UNWIND $keys AS key
MATCH (n:%s {twin: $twin, %s: key})
DETACH DELETE n`, label, k.Key)
		for chunk := range slices.Chunk(byLabel[label], chunkSize) {
			n, err := deleted(ctx, tx, cypher, w.params(map[string]any{"keys": chunk}))
			if err != nil {
				return err
			}
			w.res.NodesDeleted += n.nodes
			w.res.EdgesDeleted += n.rels
		}
		for _, key := range byLabel[label] {
			w.res.Changed = append(w.res.Changed, NodeRef{label, key})
		}
	}
	return nil
}

type deleteCounts struct{ nodes, rels int }

func deleted(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) (deleteCounts, error) {
	res, err := tx.Run(ctx, cypher, params)
	if err != nil {
		return deleteCounts{}, err
	}
	sum, err := res.Consume(ctx)
	if err != nil {
		return deleteCounts{}, err
	}
	return deleteCounts{sum.Counters().NodesDeleted(), sum.Counters().RelationshipsDeleted()}, nil
}

// prune removes what the source declared before but b no longer declares. Edges first, so that
// a node the source still declares keeps its other edges.
func (w *writer) prune(ctx context.Context, tx neo4j.ManagedTransaction, b Batch) error {
	keepEdges := map[string][]any{}
	for _, e := range b.Edges {
		ek, _ := EdgeKindOf(e.Type)
		id := []any{e.From.Label, e.From.Key, e.To.Label, e.To.Key}
		for _, kp := range ek.KeyProps {
			id = append(id, e.Props[kp])
		}
		keepEdges[e.Type] = append(keepEdges[e.Type], id)
	}
	for _, typ := range EdgeTypes() {
		ek, _ := EdgeKindOf(typ)
		id := "[head(labels(a)), a[$akey], head(labels(b)), b[$bkey]"
		for _, kp := range ek.KeyProps {
			id += ", r." + kp
		}
		id += "]"
		for _, p := range ek.Pairs {
			fk, _ := KindOf(p[0])
			tk, _ := KindOf(p[1])
			cypher := fmt.Sprintf(`MATCH (a:%s {twin: $twin})-[r:%s]->(b:%s {twin: $twin})
WHERE $source IN r.sources AND NOT %s IN $keep
WITH r, r.sources = [$source] AS only
SET r.sources = [s IN r.sources WHERE s <> $source]
WITH r, only WHERE only
DELETE r
RETURN count(*) AS n`, p[0], typ, p[1], id)
			if err := w.dropEdges(ctx, tx, cypher, map[string]any{"keep": keepEdges[typ], "akey": fk.Key, "bkey": tk.Key}); err != nil {
				return err
			}
		}
	}
	keepNodes := map[string][]string{}
	for _, n := range b.Nodes {
		keepNodes[n.Label] = append(keepNodes[n.Label], n.Key)
	}
	for _, label := range writableLabels() {
		k, _ := KindOf(label)
		cypher := fmt.Sprintf(`MATCH (n:%s {twin: $twin})
WHERE $source IN n.sources AND NOT n.%s IN $keep
WITH n, n.sources = [$source] AS only, n.%s AS key
SET n.sources = [s IN n.sources WHERE s <> $source]
WITH n, only, key WHERE only
DETACH DELETE n
RETURN collect(key) AS keys`, label, k.Key, k.Key)
		if err := w.dropNodes(ctx, tx, label, cypher, map[string]any{"keep": keepNodes[label]}); err != nil {
			return err
		}
	}
	return nil
}

// supersede removes the old sources from every edge and node of the twin, edges first, and
// deletes what is left without a source.
func (w *writer) supersede(ctx context.Context, tx neo4j.ManagedTransaction, old []string) error {
	for _, typ := range EdgeTypes() {
		ek, _ := EdgeKindOf(typ)
		for _, p := range ek.Pairs {
			if err := w.dropEdges(ctx, tx, fmt.Sprintf(`MATCH (:%s {twin: $twin})-[r:%s]->(:%s {twin: $twin})
WHERE any(s IN r.sources WHERE s IN $old)
SET r.sources = [s IN r.sources WHERE NOT s IN $old]
WITH r WHERE size(r.sources) = 0
DELETE r
RETURN count(*)`, p[0], typ, p[1]), map[string]any{"old": old}); err != nil {
				return err
			}
		}
	}
	for _, label := range writableLabels() {
		k, _ := KindOf(label)
		if err := w.dropNodes(ctx, tx, label, fmt.Sprintf(`MATCH (n:%s {twin: $twin})
WHERE any(s IN n.sources WHERE s IN $old)
SET n.sources = [s IN n.sources WHERE NOT s IN $old]
WITH n, n.%s AS key WHERE size(n.sources) = 0
DETACH DELETE n
RETURN collect(key)`, label, k.Key), map[string]any{"old": old}); err != nil {
			return err
		}
	}
	return nil
}

// dropEdges runs a statement that deletes relationships and returns their count.
func (w *writer) dropEdges(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) error {
	res, err := tx.Run(ctx, cypher, w.params(params))
	if err != nil {
		return err
	}
	rec, err := res.Single(ctx)
	if err != nil {
		return err
	}
	w.res.EdgesDeleted += int(rec.Values[0].(int64))
	return nil
}

// dropNodes runs a statement that deletes nodes of label and returns their keys.
func (w *writer) dropNodes(ctx context.Context, tx neo4j.ManagedTransaction, label, cypher string, params map[string]any) error {
	res, err := tx.Run(ctx, cypher, w.params(params))
	if err != nil {
		return err
	}
	rec, err := res.Single(ctx)
	if err != nil {
		return err
	}
	keys, _ := rec.Values[0].([]any)
	w.res.NodesDeleted += len(keys)
	for _, key := range keys {
		w.res.Changed = append(w.res.Changed, NodeRef{label, key.(string)})
	}
	return nil
}

func dedupRefs(refs []NodeRef) []NodeRef {
	seen := make(map[NodeRef]bool, len(refs))
	out := refs[:0]
	for _, r := range refs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
