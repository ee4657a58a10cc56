package attackanalysis

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/graph"
)

// Store is what the analysis needs from Neo4j.
type Store interface {
	AttackNodes(ctx context.Context, twin string, fn func(graph.AttackNode)) error
	AttackFacts(ctx context.Context, twin string, rule graph.AttackRule) ([]graph.AttackFact, error)
	AttackEdgeRows(ctx context.Context, twin string, fn func(graph.AttackEdgeRow)) error
	ApplyAttackDelta(ctx context.Context, twin string, upserts []graph.AttackEdge, deletes []int64, at time.Time) ([]int64, error)
	AttackEdgeDetails(ctx context.Context, twin string, rels []int64) (map[int64]graph.AttackEdge, error)
	AttackOverrides(ctx context.Context, twin string, all bool) ([]graph.AttackOverride, error)
}

// DeriveResult says what one derivation changed.
type DeriveResult struct {
	Steps                     int // attack steps the rules derive
	Created, Updated, Deleted int
	Duration                  time.Duration
}

type stepKey struct {
	from, to int64
	rule     string
}

// projection is a twin's attack graph as read from Neo4j: nodes sorted by internal id, and the
// stored steps as engine edges whose Ref packs the step's internal id and its rule (packRef).
type projection struct {
	nodes []graph.AttackNode
	edges []attackpath.Edge
}

// Rules are numbered for packed refs; index 0 is any rule the analysis does not know (such as
// the benchmarks' synthetic steps).
var ruleIDs = func() []string {
	out := []string{""}
	for _, r := range graph.AttackRules() {
		out = append(out, r.ID)
	}
	return out
}()

func ruleIndex(id string) int64 {
	for i, r := range ruleIDs {
		if r == id {
			return int64(i)
		}
	}
	return 0
}

// packRef makes an engine edge's Ref from a step's internal id (negative for simulated steps)
// and its rule: the engine keeps one int64 per edge, and the rule is needed per edge (fix
// costs, explanations of simulated steps) without a map of millions of entries.
func packRef(rel int64, rule string) int64 { return rel<<8 | ruleIndex(rule) }

func refRel(ref int64) int64   { return ref >> 8 }
func refRule(ref int64) string { return ruleIDs[ref&0xff] }

// add appends a stored step as an engine edge; steps whose ends are not attack-graph nodes are
// skipped.
func (p *projection) add(rel, from, to int64, prob float64, rule string) {
	f, ok1 := p.index(from)
	t, ok2 := p.index(to)
	if ok1 && ok2 {
		p.edges = append(p.edges, attackpath.Edge{From: f, To: t, P: prob, Ref: packRef(rel, rule)})
	}
}

func (p *projection) index(dbID int64) (int32, bool) {
	i, ok := slices.BinarySearchFunc(p.nodes, dbID, func(n graph.AttackNode, id int64) int { return cmp.Compare(n.DBID, id) })
	return int32(i), ok
}

func (p *projection) name(dbID int64) string {
	if i, ok := p.index(dbID); ok {
		return describe(graph.NodeRef{Label: p.nodes[i].Label, Key: p.nodes[i].Key})
	}
	return fmt.Sprintf("node %d", dbID)
}

// loadNodes reads a twin's attack-graph nodes.
func loadNodes(ctx context.Context, st Store, twin string) (*projection, error) {
	p := &projection{}
	if err := st.AttackNodes(ctx, twin, func(n graph.AttackNode) { p.nodes = append(p.nodes, n) }); err != nil {
		return nil, err
	}
	slices.SortFunc(p.nodes, func(a, b graph.AttackNode) int { return cmp.Compare(a.DBID, b.DBID) })
	return p, nil
}

// load reads a twin's attack-graph nodes and stored steps, streaming the steps straight into
// engine edges.
func load(ctx context.Context, st Store, twin string) (*projection, error) {
	p, err := loadNodes(ctx, st, twin)
	if err != nil {
		return nil, err
	}
	err = st.AttackEdgeRows(ctx, twin, func(r graph.AttackEdgeRow) { p.add(r.Rel, r.From, r.To, r.P, r.Rule) })
	return p, err
}

// derive runs every rule over the twin and writes the difference between the steps they derive
// and the stored ones: new and changed steps are merged, vanished ones deleted, unchanged ones
// left alone. Steps of other rules (such as synthetic benchmark graphs) are never touched. It
// returns the projection after the write.
func derive(ctx context.Context, st Store, twin string, now time.Time) (*projection, DeriveResult, error) {
	start := time.Now()
	p, err := loadNodes(ctx, st, twin)
	if err != nil {
		return nil, DeriveResult{}, err
	}
	var rows []graph.AttackEdgeRow
	if err := st.AttackEdgeRows(ctx, twin, func(r graph.AttackEdgeRow) { rows = append(rows, r) }); err != nil {
		return nil, DeriveResult{}, err
	}
	overrides, err := activeOverrides(ctx, st, twin, p)
	if err != nil {
		return nil, DeriveResult{}, err
	}
	want := map[stepKey]step{}
	var order []stepKey
	for _, rule := range graph.AttackRules() {
		facts, err := st.AttackFacts(ctx, twin, rule)
		if err != nil {
			return nil, DeriveResult{}, err
		}
		for _, f := range facts {
			if f.From == f.To {
				continue
			}
			if _, ok := p.index(f.From); !ok {
				continue
			}
			if _, ok := p.index(f.To); !ok {
				continue
			}
			s, ok := evaluate(twin, rule, f, p.name)
			if !ok {
				continue
			}
			k := stepKey{f.From, f.To, rule.ID}
			prev, seen := want[k]
			if !seen {
				order = append(order, k)
			}
			if !seen || s.p > prev.p {
				want[k] = s
			}
		}
	}
	for k, o := range overrides {
		if s, ok := want[k]; ok {
			s.p, s.overridden = o.P, true
			s.explanation += fmt.Sprintf("; probability set to %.3g by %s (%s), computed %.3g", o.P, o.By, o.Reason, s.baseP)
			want[k] = s
		}
	}

	rules := map[string]bool{}
	for _, r := range graph.AttackRules() {
		rules[r.ID] = true
	}
	var deletes []int64
	var upserts []graph.AttackEdge
	have := map[stepKey]bool{}
	kept := rows[:0]
	for _, e := range rows {
		if !rules[e.Rule] {
			kept = append(kept, e)
			continue
		}
		k := stepKey{e.From, e.To, e.Rule}
		s, ok := want[k]
		switch {
		case !ok || have[k]:
			deletes = append(deletes, e.Rel)
		case s.hash() != e.Hash:
			have[k] = true
			upserts = append(upserts, s.edge()) // MERGE finds it and sets the new properties
		default:
			have[k] = true
			kept = append(kept, e)
		}
	}
	res := DeriveResult{Steps: len(want), Updated: len(upserts), Deleted: len(deletes)}
	for _, k := range order {
		if !have[k] {
			upserts = append(upserts, want[k].edge())
			res.Created++
		}
	}
	if len(upserts) > 0 || len(deletes) > 0 {
		rels, err := st.ApplyAttackDelta(ctx, twin, upserts, deletes, now)
		if err != nil {
			return nil, DeriveResult{}, err
		}
		for i, e := range upserts {
			kept = append(kept, graph.AttackEdgeRow{Rel: rels[i], From: e.From, To: e.To, P: e.P, Rule: e.Rule, Hash: e.Hash})
		}
	}
	p.edges = make([]attackpath.Edge, 0, len(kept))
	for _, e := range kept {
		p.add(e.Rel, e.From, e.To, e.P, e.Rule)
	}
	res.Duration = time.Since(start)
	return p, res, nil
}

func (s step) edge() graph.AttackEdge {
	return graph.AttackEdge{From: s.from, To: s.to, Rule: s.rule.ID, RuleVersion: s.rule.Version, P: s.p, BaseP: s.baseP,
		Overridden: s.overridden, Technique: s.rule.Technique, Evidence: s.evidence, Explanation: s.explanation, Hash: s.hash()}
}

// hash is the content hash of a step: a stored step with the same hash is not rewritten.
func (s step) hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%d\x00%s\x00%d\x00%.9g\x00%.9g\x00%t\x00%s\x00%s\x00%s", s.from, s.to, s.rule.ID, s.rule.Version,
		s.p, s.baseP, s.overridden, s.rule.Technique, strings.Join(s.evidence, "\x01"), s.explanation)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// activeOverrides maps the twin's active overrides to step keys; overrides of nodes that no longer
// exist are ignored.
func activeOverrides(ctx context.Context, st Store, twin string, p *projection) (map[stepKey]graph.AttackOverride, error) {
	list, err := st.AttackOverrides(ctx, twin, false)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	byRef := make(map[graph.NodeRef]int64, len(p.nodes))
	for _, n := range p.nodes {
		byRef[graph.NodeRef{Label: n.Label, Key: n.Key}] = n.DBID
	}
	out := map[stepKey]graph.AttackOverride{}
	for _, o := range list {
		from, ok1 := byRef[o.From]
		to, ok2 := byRef[o.To]
		if ok1 && ok2 {
			out[stepKey{from, to, o.Rule}] = o
		}
	}
	return out, nil
}
