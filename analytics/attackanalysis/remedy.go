package attackanalysis

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/graph"
)

// stepCosts are the effort units of breaking one step of a rule; rules absent here describe where
// things run rather than a weakness, and their steps are not offered as fixes.
var stepCosts = map[string]float64{
	"exposed-exploit":          1, // patch or upgrade the component
	"reachable-exploit":        1,
	"datastore-network-access": 1, // require strong authentication
	"credential-use":           1, // enforce MFA, rotate the credential
	"stored-credential":        1, // move the credential to a vault
	"identity-access":          1, // revoke the grant
	"runs-as":                  2, // give the workload its own least-privilege identity
	"zone-reach":               2, // tighten the firewall rule
	"container-escape":         2, // harden the runtime
	"data-flow":                3, // re-architect the connection
}

// FixAction is one step of a fix plan.
type FixAction struct {
	From, To    graph.NodeRef
	Rule        string
	Evidence    []string
	Description string
	Cost        float64
	// MassRemovedPct is the share of the initial path likelihood this action removes, given
	// the actions before it.
	MassRemovedPct float64
}

// FixPlan is a greedy plan of fixes ranked by likelihood removed per effort.
type FixPlan struct {
	Actions            []FixAction
	InitialLikelihood  float64 // sum of the top-k paths' likelihoods
	ResidualLikelihood float64
	RemovedPct         float64
	Summary            string
}

// FixOptions bound a fix plan.
type FixOptions struct {
	MaxActions     int
	TargetResidual float64 // stop when residual/initial falls to this fraction
}

// FixPlan picks the steps whose fixing removes most path likelihood per unit of effort.
func (a *Analyzer) FixPlan(ctx context.Context, twin string, q PathQuery, opt FixOptions) (*FixPlan, error) {
	s, err := a.Snapshot(ctx, twin)
	if err != nil {
		return nil, err
	}
	return a.fixPlan(ctx, s, q, opt)
}

func (a *Analyzer) fixPlan(ctx context.Context, s *Snapshot, q PathQuery, opt FixOptions) (*FixPlan, error) {
	from, err := s.resolve(q.From, DefaultEntries)
	if err != nil {
		return nil, err
	}
	to, err := s.resolve(q.To, DefaultTargets)
	if err != nil {
		return nil, err
	}
	plan := &FixPlan{}
	if len(from) == 0 || len(to) == 0 {
		plan.Summary = "No entry points or no targets: nothing to fix."
		return plan, nil
	}
	fp, err := s.g.FixPlan(ctx, attackpath.Query{Sources: from, Targets: to, K: q.K, MinLikelihood: q.MinLikelihood, MaxHops: q.MaxHops},
		attackpath.FixOptions{
			MaxActions: opt.MaxActions, TargetResidual: opt.TargetResidual,
			NodeCost: func(int32) (float64, bool) { return 0, false },
			EdgeCost: func(e attackpath.EdgeID) (float64, bool) {
				c, ok := stepCosts[refRule(s.g.EdgeRef(e))]
				return c, ok
			},
		})
	if err != nil {
		return nil, err
	}
	var rels []int64
	for _, act := range fp.Actions {
		if act.Edge >= 0 {
			rels = append(rels, refRel(s.g.EdgeRef(act.Edge)))
		}
	}
	details, err := a.st.AttackEdgeDetails(ctx, s.Twin, rels)
	if err != nil {
		return nil, err
	}
	plan.InitialLikelihood, plan.ResidualLikelihood, plan.RemovedPct = fp.InitialMass, fp.ResidualMass, fp.RemovedPct
	for _, act := range fp.Actions {
		if act.Edge < 0 {
			continue
		}
		e := act.Edge
		d := details[refRel(s.g.EdgeRef(e))]
		fa := FixAction{From: s.Ref(s.g.EdgeFrom(e)), To: s.Ref(s.g.EdgeTo(e)), Rule: d.Rule, Evidence: d.Evidence, Cost: act.Cost}
		if fp.InitialMass > 0 {
			fa.MassRemovedPct = 100 * act.MassRemoved / fp.InitialMass
		}
		fa.Description = fixPhrase(fa)
		plan.Actions = append(plan.Actions, fa)
	}
	switch len(plan.Actions) {
	case 0:
		plan.Summary = "No fixable step lies on the top paths."
	default:
		plan.Summary = fmt.Sprintf("Fix these %d and remove %.0f%% of path likelihood.", len(plan.Actions), plan.RemovedPct)
	}
	return plan, nil
}

func fixPhrase(f FixAction) string {
	from, to := describe(f.From), describe(f.To)
	vuln := "its open vulnerability"
	if len(f.Evidence) > 0 {
		if _, _, key, err := graph.ParseID(f.Evidence[0]); err == nil {
			vuln = key
		}
	}
	switch f.Rule {
	case "exposed-exploit", "reachable-exploit":
		return fmt.Sprintf("Patch %s in %s (reached from %s)", vuln, to, from)
	case "datastore-network-access":
		return fmt.Sprintf("Require strong authentication on %s for %s", to, from)
	case "credential-use":
		return fmt.Sprintf("Enforce MFA on %s or rotate %s", to, from)
	case "stored-credential":
		return fmt.Sprintf("Move %s out of %s into a vault", to, from)
	case "identity-access":
		return fmt.Sprintf("Revoke the access of %s to %s", from, to)
	case "runs-as":
		return fmt.Sprintf("Run %s as a least-privilege identity instead of %s", from, to)
	case "zone-reach":
		return fmt.Sprintf("Tighten the network rule from %s to %s", from, to)
	case "container-escape":
		return fmt.Sprintf("Harden the runtime of %s on %s", from, to)
	case "data-flow":
		return fmt.Sprintf("Restrict the connection from %s to %s", from, to)
	}
	return fmt.Sprintf("Break the step %s → %s (%s)", from, to, f.Rule)
}

// Cut is a minimum set of nodes whose removal separates every entry from every target.
type Cut struct {
	Nodes []graph.NodeRef
	// Possible is false when no set of removable nodes separates them (a target is one step
	// from an entry, say).
	Possible bool
}

// MinimumCut returns a minimum vertex cut between the entries and the targets. Zones, entries
// and targets are not removable; every other node costs one.
func (a *Analyzer) MinimumCut(ctx context.Context, twin string, q PathQuery) (*Cut, error) {
	s, err := a.Snapshot(ctx, twin)
	if err != nil {
		return nil, err
	}
	from, err := s.resolve(q.From, DefaultEntries)
	if err != nil {
		return nil, err
	}
	to, err := s.resolve(q.To, DefaultTargets)
	if err != nil {
		return nil, err
	}
	if len(from) == 0 || len(to) == 0 {
		return &Cut{Possible: true}, nil
	}
	ends := map[int32]bool{}
	for _, v := range append(append([]int32(nil), from...), to...) {
		ends[v] = true
	}
	c, err := s.g.MinCut(ctx, from, to,
		func(v int32) int64 {
			if ends[v] || s.Node(v).Label == graph.LabelZone {
				return attackpath.Infinite
			}
			return 1
		},
		func(attackpath.EdgeID) int64 { return attackpath.Infinite })
	if err != nil {
		return nil, err
	}
	out := &Cut{Possible: !c.Infinite}
	for _, v := range c.Nodes {
		out.Nodes = append(out.Nodes, s.Ref(v))
	}
	return out, nil
}

// Reach is one node an attacker holding a start node can gain.
type Reach struct {
	Node       graph.NodeRef
	Likelihood float64
	Hops       int
}

// BlastRadius returns what an attacker holding node can gain, most likely first.
func (a *Analyzer) BlastRadius(ctx context.Context, twin string, node graph.NodeRef, minLikelihood float64, limit int) ([]Reach, error) {
	s, err := a.Snapshot(ctx, twin)
	if err != nil {
		return nil, err
	}
	i, ok := s.Lookup(node)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an attack-graph node of twin %s", ErrBadSelector, node, twin)
	}
	reach, err := s.g.BlastRadius(ctx, []int32{i}, minLikelihood, limit+1)
	if err != nil {
		return nil, err
	}
	var out []Reach
	for _, r := range reach {
		if r.Node == i {
			continue
		}
		out = append(out, Reach{Node: s.Ref(r.Node), Likelihood: r.Likelihood, Hops: r.Hops})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// Change is one what-if change; exactly one field is set.
type Change struct {
	PatchVulnerability string // vulnerability id: its exploit steps lose it
	RemoveStep         *StepRef
	AddExposure        *Exposure
	SetProbability     *StepProbability
}

// StepRef names steps between two nodes; an empty rule means every rule's.
type StepRef struct {
	From, To graph.NodeRef
	Rule     string
}

// Exposure exposes a service to a zone (an internet zone when Zone is empty).
type Exposure struct {
	Service string
	Zone    string
	Port    int
}

// StepProbability sets the probability of steps.
type StepProbability struct {
	StepRef
	P float64
}

// Simulation compares the paths before and after a set of changes.
type Simulation struct {
	Before, After                          *PathsResult
	LikelihoodChangePct                    float64 // of the summed top-k likelihood
	StepsRemoved, StepsChanged, StepsAdded int
	Resolved, New                          []string // path keys
}

// Simulate applies changes to a copy of the twin's attack graph and recomputes the top paths.
// It never writes.
func (a *Analyzer) Simulate(ctx context.Context, twin string, q PathQuery, changes []Change) (*Simulation, error) {
	s, err := a.Snapshot(ctx, twin)
	if err != nil {
		return nil, err
	}
	var ch attackpath.Changes
	ch.SetP = map[int64]float64{}
	sim := &Simulation{}
	added := map[int64]graph.AttackEdge{}
	for i, c := range changes {
		switch {
		case c.PatchVulnerability != "":
			if err := a.simulatePatch(ctx, s, c.PatchVulnerability, &ch, sim); err != nil {
				return nil, err
			}
		case c.RemoveStep != nil:
			rels, err := s.stepRefs(*c.RemoveStep)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i+1, err)
			}
			ch.RemoveEdges = append(ch.RemoveEdges, rels...)
			sim.StepsRemoved += len(rels)
		case c.SetProbability != nil:
			if c.SetProbability.P < 0 || c.SetProbability.P > 1 || math.IsNaN(c.SetProbability.P) {
				return nil, fmt.Errorf("%w: change %d: probability must be between 0 and 1", ErrBadSelector, i+1)
			}
			rels, err := s.stepRefs(c.SetProbability.StepRef)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i+1, err)
			}
			for _, r := range rels {
				ch.SetP[r] = c.SetProbability.P
			}
			sim.StepsChanged += len(rels)
		case c.AddExposure != nil:
			e, err := a.simulateExposure(ctx, s, *c.AddExposure, -int64(len(added)+1))
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i+1, err)
			}
			if e != nil {
				added[e.Rel] = *e
				from, _ := s.proj.index(e.From)
				to, _ := s.proj.index(e.To)
				ch.AddEdges = append(ch.AddEdges, attackpath.Edge{From: from, To: to, P: e.P, Ref: packRef(e.Rel, graph.AttackRuleIndex(e.Rule))})
				sim.StepsAdded++
			}
		default:
			return nil, fmt.Errorf("%w: change %d sets nothing", ErrBadSelector, i+1)
		}
	}
	after, err := s.g.WithChanges(ch)
	if err != nil {
		return nil, err
	}
	if sim.Before, err = a.paths(ctx, s, s.g, q, nil); err != nil {
		return nil, err
	}
	if sim.After, err = a.paths(ctx, s, after, q, added); err != nil {
		return nil, err
	}
	before, afterMass := mass(sim.Before.Paths), mass(sim.After.Paths)
	if before > 0 {
		sim.LikelihoodChangePct = 100 * (afterMass - before) / before
	}
	keys := func(ps []Path) map[string]bool {
		m := map[string]bool{}
		for _, p := range ps {
			m[p.Key] = true
		}
		return m
	}
	kb, ka := keys(sim.Before.Paths), keys(sim.After.Paths)
	for _, p := range sim.Before.Paths {
		if !ka[p.Key] {
			sim.Resolved = append(sim.Resolved, p.Key)
		}
	}
	for _, p := range sim.After.Paths {
		if !kb[p.Key] {
			sim.New = append(sim.New, p.Key)
		}
	}
	return sim, nil
}

func mass(ps []Path) float64 {
	var m float64
	for _, p := range ps {
		m += p.Likelihood
	}
	return m
}

// stepRefs finds the engine refs of the stored steps a StepRef names.
func (s *Snapshot) stepRefs(r StepRef) ([]int64, error) {
	from, ok1 := s.Lookup(r.From)
	to, ok2 := s.Lookup(r.To)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: no attack step from %s to %s", ErrBadSelector, r.From, r.To)
	}
	out := s.refsBetween(from, to, r.Rule)
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no attack step from %s to %s%s", ErrBadSelector, r.From, r.To, ruleSuffix(r.Rule))
	}
	return out, nil
}

// refsBetween lists the refs of the steps from one node to another (of one rule, unless rule is
// empty).
func (s *Snapshot) refsBetween(from, to int32, rule string) []int64 {
	var out []int64
	for e := range s.g.Out(from) {
		if ref := s.g.EdgeRef(e); s.g.EdgeTo(e) == to && (rule == "" || refRule(ref) == rule) {
			out = append(out, ref)
		}
	}
	return out
}

func ruleSuffix(rule string) string {
	if rule == "" {
		return ""
	}
	return " by rule " + rule
}

// simulatePatch re-evaluates the exploit steps that rest on vuln without it.
func (a *Analyzer) simulatePatch(ctx context.Context, s *Snapshot, vuln string, ch *attackpath.Changes, sim *Simulation) error {
	found := false
	for _, rule := range graph.AttackRules() {
		if !rule.Exploit {
			continue
		}
		facts, err := a.st.AttackFacts(ctx, s.Twin, rule)
		if err != nil {
			return err
		}
		for _, f := range facts {
			from, ok1 := s.proj.index(f.From)
			to, ok2 := s.proj.index(f.To)
			if !ok1 || !ok2 {
				continue
			}
			refs := s.refsBetween(from, to, rule.ID)
			if len(refs) == 0 {
				continue
			}
			rel := refs[0]
			rest := f.Vulns[:0:0]
			for _, v := range f.Vulns {
				if strings.EqualFold(v.ID, vuln) {
					found = true
				} else {
					rest = append(rest, v)
				}
			}
			if len(rest) == len(f.Vulns) {
				continue
			}
			f.Vulns = rest
			if st, ok := evaluate(s.Twin, rule, f, s.proj.name); ok {
				ch.SetP[rel] = st.p
				sim.StepsChanged++
			} else {
				ch.RemoveEdges = append(ch.RemoveEdges, rel)
				sim.StepsRemoved++
			}
		}
	}
	if !found {
		return fmt.Errorf("%w: no exploit step of twin %s rests on %s", ErrBadSelector, s.Twin, vuln)
	}
	return nil
}

// ServiceVulns is the one extra read simulations need.
type ServiceVulns interface {
	ServiceOpenVulns(ctx context.Context, twin, service string) (graph.AttackFact, bool, error)
}

func (a *Analyzer) simulateExposure(ctx context.Context, s *Snapshot, x Exposure, ref int64) (*graph.AttackEdge, error) {
	sv, ok := a.st.(ServiceVulns)
	if !ok {
		return nil, fmt.Errorf("exposure simulation needs service reads")
	}
	zone := int32(-1)
	if x.Zone == "" {
		if len(s.entries) == 0 {
			return nil, fmt.Errorf("%w: the twin has no internet zone; name the zone to expose to", ErrBadSelector)
		}
		zone = s.entries[0]
	} else if i, ok := s.Lookup(graph.NodeRef{Label: graph.LabelZone, Key: x.Zone}); ok {
		zone = i
	} else {
		return nil, fmt.Errorf("%w: no zone %q", ErrBadSelector, x.Zone)
	}
	f, found, err := sv.ServiceOpenVulns(ctx, s.Twin, x.Service)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no service %q", ErrBadSelector, x.Service)
	}
	f.From = s.proj.nodes[zone].DBID
	f.Detail = []string{fmt.Sprintf("tcp/%d (simulated)", x.Port)}
	rule, _ := graph.AttackRuleByID("exposed-exploit")
	st, ok := evaluate(s.Twin, rule, f, s.proj.name)
	if !ok {
		return nil, nil // nothing exploitable: the exposure adds no step
	}
	e := st.edge()
	e.Rel = ref
	return &e, nil
}
