package attackanalysis

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/analytics/attacktrace"
	"github.com/sectwin/sectwin/graph"
)

// Selector picks attack-graph nodes; its fields combine with OR.
type Selector struct {
	Refs           []graph.NodeRef
	Internet       bool // zones marked internet
	CrownJewels    bool // assets marked crown jewel
	MinCriticality int  // assets at or above this criticality rank (1 LOW … 4 CRITICAL); 0: none
}

func (s Selector) empty() bool {
	return len(s.Refs) == 0 && !s.Internet && !s.CrownJewels && s.MinCriticality == 0
}

// Defaults: from the internet, to the crown jewels.
var (
	DefaultEntries = Selector{Internet: true}
	DefaultTargets = Selector{CrownJewels: true}
)

// resolve returns the engine indexes a selector picks, sorted. Naming a node that is not in the
// attack graph is an error (ErrBadSelector) that names it.
func (s *Snapshot) resolve(sel, def Selector) ([]int32, error) {
	if sel.empty() {
		sel = def
	}
	var out []int32
	var unknown []string
	for _, r := range sel.Refs {
		i, ok := s.Lookup(r)
		if !ok {
			unknown = append(unknown, r.String())
			continue
		}
		out = append(out, i)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: not attack-graph nodes of twin %s (zones, hosts, services, data stores, identities or credentials): %s",
			ErrBadSelector, s.Twin, strings.Join(unknown, ", "))
	}
	switch {
	case sel.Internet && !sel.CrownJewels && sel.MinCriticality == 0:
		out = append(out, s.entries...)
	case sel.CrownJewels && !sel.Internet && sel.MinCriticality == 0:
		out = append(out, s.jewels...)
	case sel.Internet || sel.CrownJewels || sel.MinCriticality > 0:
		for i, n := range s.proj.nodes {
			if (sel.Internet && n.Internet) || (sel.CrownJewels && n.CrownJewel) || (sel.MinCriticality > 0 && n.CriticalityRank >= sel.MinCriticality) {
				out = append(out, int32(i))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// PathQuery asks for the most likely attack paths.
type PathQuery struct {
	From, To      Selector
	K             int
	MinLikelihood float64
	MaxHops       int
}

// Hop is one step of an explained path.
type Hop struct {
	From, To graph.NodeRef
	// P is the step's probability on this path: UntracedP raised by the observations of its
	// target and by a link in sequence with the hop before (attack traces); UntracedP is the
	// stored probability (BaseP, or an analyst's override); BaseP what the rule computed.
	P, UntracedP, BaseP float64
	Overridden          bool
	Rule                string
	RuleVersion         int
	Technique           string
	Evidence            []string // global ids
	Explanation         string
	// Observed are the alerts and anomalies about the hop's target that raised it, strongest
	// first.
	Observed      []Observed
	contributions []attacktrace.Contribution
}

// Path is one explained attack path.
type Path struct {
	Rank       int
	Likelihood float64
	// BaseLikelihood is the likelihood without observations (the product of UntracedP).
	BaseLikelihood float64
	// Trace is every observation on the path, in the order they were first seen; Links how
	// many pairs of them lie on consecutive hops in time order.
	Trace         []TraceEntry
	Links         int
	Entry, Target graph.NodeRef
	Hops          []Hop
	Techniques    []string
	Explanation   string
	Impacted      []graph.NodeRef
	// Key identifies the path across runs: its nodes and rules.
	Key string
}

// PathsResult answers a PathQuery.
type PathsResult struct {
	Twin     string
	Epoch    uint64
	Entries  int
	Targets  int
	Paths    []Path
	Estimate float64 // noisy-OR over the paths: an estimate that assumes independent paths
	// Observations is how many alerts and anomalies about attack-graph nodes the answer
	// rests on.
	Observations int
	// Unreached are targets no entry reaches.
	Unreached []graph.NodeRef
}

// maxUnreached bounds the unreached targets listed.
const maxUnreached = 100

// Paths returns the k most likely attack paths from the entries to the targets, explained.
func (a *Analyzer) Paths(ctx context.Context, twin string, q PathQuery) (*PathsResult, error) {
	s, err := a.Snapshot(ctx, twin)
	if err != nil {
		return nil, err
	}
	return a.paths(ctx, s, s.g, q, nil)
}

// paths answers q on g, a snapshot's graph or a simulated copy of it; simulated holds the
// simulation's added steps, by their (negative) refs.
func (a *Analyzer) paths(ctx context.Context, s *Snapshot, g *attackpath.Graph, q PathQuery, simulated map[int64]graph.AttackEdge) (*PathsResult, error) {
	from, err := s.resolve(q.From, DefaultEntries)
	if err != nil {
		return nil, err
	}
	to, err := s.resolve(q.To, DefaultTargets)
	if err != nil {
		return nil, err
	}
	res := &PathsResult{Twin: s.Twin, Epoch: s.Epoch, Entries: len(from), Targets: len(to), Observations: s.Observations()}
	if len(from) == 0 || len(to) == 0 {
		return res, nil
	}
	k := q.K
	if s.Observations() > 0 && k > 0 {
		k = traceCandidates(q.K)
	}
	paths, err := g.TopK(ctx, attackpath.Query{Sources: from, Targets: to, K: k, MinLikelihood: q.MinLikelihood, MaxHops: q.MaxHops})
	if err != nil {
		return nil, err
	}
	res.Paths, err = a.explain(ctx, s, g, paths, simulated)
	if err != nil {
		return nil, err
	}
	res.Paths = a.applyTraces(s, res.Paths, q.K)
	miss := 1.0
	for _, p := range res.Paths {
		miss *= 1 - min(max(p.Likelihood, 0), 1)
	}
	res.Estimate = 1 - miss
	reached := map[int32]bool{}
	for _, p := range paths {
		reached[p.Nodes[len(p.Nodes)-1]] = true
	}
	if len(paths) < k {
		// Fewer paths than asked: every target without one is unreachable.
		for _, t := range to {
			if !reached[t] && len(res.Unreached) < maxUnreached {
				res.Unreached = append(res.Unreached, s.Ref(t))
			}
		}
	}
	return res, nil
}

// explain turns engine paths into explained ones, reading the hops' rules and evidence in one
// round trip.
func (a *Analyzer) explain(ctx context.Context, s *Snapshot, g *attackpath.Graph, paths []attackpath.Path, simulated map[int64]graph.AttackEdge) ([]Path, error) {
	var rels []int64
	seen := map[int64]bool{}
	for _, p := range paths {
		for _, e := range p.Edges {
			if r := refRel(g.EdgeRef(e)); r > 0 && !seen[r] {
				seen[r] = true
				rels = append(rels, r)
			}
		}
	}
	details, err := a.st.AttackEdgeDetails(ctx, s.Twin, rels)
	if err != nil {
		return nil, err
	}
	out := make([]Path, len(paths))
	for i, p := range paths {
		ep := Path{Rank: i + 1, Likelihood: p.Likelihood, BaseLikelihood: p.Likelihood, Entry: s.Ref(p.Nodes[0]), Target: s.Ref(p.Nodes[len(p.Nodes)-1])}
		var key, story strings.Builder
		key.WriteString(ep.Entry.String())
		fmt.Fprintf(&story, "From %s", describe(ep.Entry))
		for j, e := range p.Edges {
			h := Hop{From: s.Ref(p.Nodes[j]), To: s.Ref(p.Nodes[j+1]), P: g.EdgeP(e), BaseP: g.EdgeP(e)}
			rel := refRel(g.EdgeRef(e))
			d, ok := details[rel]
			if sd, sim := simulated[rel]; sim {
				d, ok = sd, true
				d.Explanation = "simulated: " + d.Explanation
			}
			if ok {
				h.BaseP, h.Overridden, h.Rule, h.RuleVersion, h.Technique, h.Evidence, h.Explanation =
					d.BaseP, d.Overridden, d.Rule, d.RuleVersion, d.Technique, d.Evidence, d.Explanation
			}
			s.hopTrace(&h, g.EdgeRef(e))
			if h.Technique != "" && !slices.Contains(ep.Techniques, h.Technique) {
				ep.Techniques = append(ep.Techniques, h.Technique)
			}
			fmt.Fprintf(&key, "|%s>%s", h.Rule, h.To)
			fmt.Fprintf(&story, ", %s (p %.2f)", stepPhrase(h), h.P)
			ep.Hops = append(ep.Hops, h)
		}
		for _, n := range p.Nodes[1:] {
			if an := s.Node(n); an.CrownJewel || an.CriticalityRank >= 3 || n == p.Nodes[len(p.Nodes)-1] {
				ep.Impacted = append(ep.Impacted, s.Ref(n))
			}
		}
		fmt.Fprintf(&story, ": likelihood %.3g over %d steps.", p.Likelihood, len(p.Edges))
		ep.Key, ep.Explanation = key.String(), story.String()
		out[i] = ep
	}
	return out, nil
}

func describe(r graph.NodeRef) string { return strings.ToLower(r.Label) + " " + r.Key }

// stepPhrase is a hop in a sentence.
func stepPhrase(h Hop) string {
	to := describe(h.To)
	switch h.Rule {
	case "exposed-exploit", "reachable-exploit":
		vuln := "a vulnerability"
		if len(h.Evidence) > 0 {
			if _, _, key, err := graph.ParseID(h.Evidence[0]); err == nil {
				vuln = key
			}
		}
		return fmt.Sprintf("exploit %s in %s [%s, %s]", vuln, to, h.Technique, h.Rule)
	case "foothold":
		return fmt.Sprintf("gain a foothold in %s [%s]", to, h.Rule)
	case "zone-reach":
		return fmt.Sprintf("move into %s [%s]", to, h.Rule)
	case "host-control":
		return fmt.Sprintf("take over %s from its host [%s, %s]", to, h.Technique, h.Rule)
	case "container-escape":
		return fmt.Sprintf("escape to %s [%s, %s]", to, h.Technique, h.Rule)
	case "runs-as", "credential-use":
		return fmt.Sprintf("act as %s [%s, %s]", to, h.Technique, h.Rule)
	case "stored-credential":
		return fmt.Sprintf("steal %s [%s, %s]", to, h.Technique, h.Rule)
	case "identity-access", "data-flow", "datastore-network-access":
		return fmt.Sprintf("access %s [%s, %s]", to, h.Technique, h.Rule)
	}
	return fmt.Sprintf("reach %s [%s]", to, h.Rule)
}

// ChokePoint is a node many paths pass through.
type ChokePoint struct {
	Node graph.NodeRef
	// IsDominator: every path from the entries to at least one target passes it.
	IsDominator      bool
	TargetsDominated int
	PathsThrough     int
	PathsBlockedPct  float64 // of the top-k paths
	MassRemovedPct   float64 // of the top-k paths' likelihood
}

// ChokePoints returns the nodes whose removal breaks most of the top-k paths, dominators first.
func (a *Analyzer) ChokePoints(ctx context.Context, twin string, q PathQuery, first int) ([]ChokePoint, error) {
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
		return nil, nil
	}
	paths, err := s.g.TopK(ctx, attackpath.Query{Sources: from, Targets: to, K: q.K, MinLikelihood: q.MinLikelihood, MaxHops: q.MaxHops})
	if err != nil {
		return nil, err
	}
	ends := map[int32]bool{}
	for _, v := range from {
		ends[v] = true
	}
	for _, v := range to {
		ends[v] = true
	}
	type acc struct {
		paths int
		mass  float64
	}
	through := map[int32]*acc{}
	var total float64
	for _, p := range paths {
		total += p.Likelihood
		for _, v := range p.Nodes {
			if ends[v] {
				continue
			}
			c := through[v]
			if c == nil {
				c = &acc{}
				through[v] = c
			}
			c.paths++
			c.mass += p.Likelihood
		}
	}
	doms, err := s.g.ChokePoints(from, to)
	if err != nil {
		return nil, err
	}
	byNode := map[int32]*ChokePoint{}
	for _, cp := range doms {
		byNode[cp.Node] = &ChokePoint{Node: s.Ref(cp.Node), IsDominator: true, TargetsDominated: cp.Targets}
	}
	for v, c := range through {
		cp := byNode[v]
		if cp == nil {
			cp = &ChokePoint{Node: s.Ref(v)}
			byNode[v] = cp
		}
		cp.PathsThrough = c.paths
		if len(paths) > 0 {
			cp.PathsBlockedPct = 100 * float64(c.paths) / float64(len(paths))
		}
		if total > 0 {
			cp.MassRemovedPct = 100 * c.mass / total
		}
	}
	out := make([]ChokePoint, 0, len(byNode))
	for _, cp := range byNode {
		out = append(out, *cp)
	}
	slices.SortFunc(out, func(x, y ChokePoint) int {
		switch {
		case x.IsDominator != y.IsDominator:
			if x.IsDominator {
				return -1
			}
			return 1
		case x.MassRemovedPct != y.MassRemovedPct:
			if x.MassRemovedPct > y.MassRemovedPct {
				return -1
			}
			return 1
		case x.TargetsDominated != y.TargetsDominated:
			return y.TargetsDominated - x.TargetsDominated
		}
		return strings.Compare(x.Node.String(), y.Node.String())
	})
	if first > 0 && len(out) > first {
		out = out[:first]
	}
	return out, nil
}
