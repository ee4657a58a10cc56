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
	AttackGraph(ctx context.Context, twin string, withHashes bool, fn func(graph.AttackAdjacency)) error
	AttackFacts(ctx context.Context, twin string, rule graph.AttackRule) ([]graph.AttackFact, error)
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

// Rules are numbered for packed refs as graph.AttackRuleIndex numbers them: index 0 is any rule
// the analysis does not know (such as the benchmarks' synthetic steps).
var ruleIDs = func() []string {
	out := []string{""}
	for _, r := range graph.AttackRules() {
		out = append(out, r.ID)
	}
	return out
}()

// packRef makes an engine edge's Ref from a step's internal id (negative for simulated steps)
// and its rule index: the engine keeps one int64 per edge, and the rule is needed per edge (fix
// costs, explanations of simulated steps) without a map of millions of entries.
func packRef(rel int64, rule uint8) int64 { return rel<<8 | int64(rule) }

func refRel(ref int64) int64   { return ref >> 8 }
func refRule(ref int64) string { return ruleIDs[ref&0xff] }

// storedStep is one stored step as derivation compares it with the derived ones.
type storedStep struct {
	rel, from, to int64
	p             float64
	rule          uint8
	hash          string
}

// add appends a stored step as an engine edge; steps whose ends are not attack-graph nodes are
// skipped.
func (p *projection) add(e storedStep) {
	f, ok1 := p.index(e.from)
	t, ok2 := p.index(e.to)
	if ok1 && ok2 {
		p.edges = append(p.edges, attackpath.Edge{From: f, To: t, P: e.p, Ref: packRef(e.rel, e.rule)})
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

// load reads a twin's attack graph as the engine needs it, streaming the steps straight into
// engine edges (sources numbered in arrival order until the nodes are sorted).
func load(ctx context.Context, st Store, twin string) (*projection, error) {
	p := &projection{}
	var to []int64
	err := st.AttackGraph(ctx, twin, false, func(a graph.AttackAdjacency) {
		from := int32(len(p.nodes))
		p.nodes = append(p.nodes, a.Node)
		for i, rel := range a.Rels {
			p.edges = append(p.edges, attackpath.Edge{From: from, P: a.P[i], Ref: packRef(rel, a.Rules[i])})
			to = append(to, a.To[i])
		}
	})
	if err != nil {
		return nil, err
	}
	renumber := p.sortNodes()
	kept := p.edges[:0]
	for i, e := range p.edges {
		if t, ok := p.index(to[i]); ok {
			e.From, e.To = renumber[e.From], t
			kept = append(kept, e)
		}
	}
	p.edges = slices.Clip(kept)
	return p, nil
}

// loadSteps reads a twin's attack-graph nodes and its stored steps with their hashes, for
// derivation.
func loadSteps(ctx context.Context, st Store, twin string) (*projection, []storedStep, error) {
	p := &projection{}
	var steps []storedStep
	err := st.AttackGraph(ctx, twin, true, func(a graph.AttackAdjacency) {
		p.nodes = append(p.nodes, a.Node)
		for i, rel := range a.Rels {
			steps = append(steps, storedStep{rel: rel, from: a.Node.DBID, to: a.To[i], p: a.P[i], rule: a.Rules[i], hash: a.Hashes[i]})
		}
	})
	if err != nil {
		return nil, nil, err
	}
	p.sortNodes()
	return p, steps, nil
}

// sortNodes sorts the nodes by internal id and returns each old position's new one.
func (p *projection) sortNodes() []int32 {
	order := make([]int32, len(p.nodes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(p.nodes[a].DBID, p.nodes[b].DBID) })
	sorted := make([]graph.AttackNode, len(p.nodes))
	renumber := make([]int32, len(p.nodes))
	for i, old := range order {
		sorted[i] = p.nodes[old]
		renumber[old] = int32(i)
	}
	p.nodes = sorted
	return renumber
}

// derive runs every rule over the twin and writes the difference between the steps they derive
// and the stored ones: new and changed steps are merged, vanished ones deleted, unchanged ones
// left alone. Steps of other rules (such as synthetic benchmark graphs) are never touched. It
// returns the projection after the write.
func derive(ctx context.Context, st Store, twin string, now time.Time) (*projection, DeriveResult, error) {
	start := time.Now()
	p, rows, err := loadSteps(ctx, st, twin)
	if err != nil {
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

	var deletes []int64
	var upserts []graph.AttackEdge
	have := map[stepKey]bool{}
	kept := rows[:0]
	for _, e := range rows {
		if e.rule == 0 {
			kept = append(kept, e)
			continue
		}
		k := stepKey{e.from, e.to, ruleIDs[e.rule]}
		s, ok := want[k]
		switch {
		case !ok || have[k]:
			deletes = append(deletes, e.rel)
		case s.hash() != e.hash:
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
			kept = append(kept, storedStep{rel: rels[i], from: e.From, to: e.To, p: e.P, rule: graph.AttackRuleIndex(e.Rule)})
		}
	}
	p.edges = make([]attackpath.Edge, 0, len(kept))
	for _, e := range kept {
		p.add(e)
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
