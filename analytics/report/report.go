package report

import (
	"math"
	"slices"
	"strings"
	"time"
)

// OnDemand is the Schedule of a report that no schedule produced.
const OnDemand = "on-demand"

// Report is one attack-path analysis of one twin, as rendered and delivered. It holds no
// graph-store types: the caller fills it from the engine's results.
type Report struct {
	ID   string `json:"id"`
	Twin string `json:"twin"`
	// Schedule names the schedule that produced the report, or is OnDemand.
	Schedule    string    `json:"schedule"`
	GeneratedAt time.Time `json:"generatedAt"`
	// Duration is how long the analysis took (JSON: nanoseconds).
	Duration    time.Duration `json:"duration"`
	Exposure    Exposure      `json:"exposure"`
	Paths       []Path        `json:"paths"`
	ChokePoints []ChokePoint  `json:"chokePoints"`
	FixPlan     FixPlan       `json:"fixPlan"`
	Delta       Delta         `json:"delta"`
	// PreviousID is the report Delta compares with; empty for a schedule's first report.
	PreviousID string `json:"previousId"`
}

// Exposure summarises how reachable the crown jewels are from the entry points.
type Exposure struct {
	EntryPoints        int `json:"entryPoints"`
	ExposedEntryPoints int `json:"exposedEntryPoints"` // entry points with a path to a jewel
	CrownJewels        int `json:"crownJewels"`
	ReachableJewels    int `json:"reachableJewels"`
	// ExposurePct is the share of entry points that reach a jewel, in percent.
	ExposurePct float64 `json:"exposurePct"`
	// Severity is SeverityFor(ExposurePct).
	Severity string `json:"severity"`
	// CompromiseEstimate is a noisy-OR estimate, in [0, 1], that some jewel is compromised,
	// over the top disjoint paths. It assumes independent hops, so it is an estimate only.
	CompromiseEstimate float64 `json:"compromiseEstimate"`
}

// Severity bands of Exposure.ExposurePct, as BloodHound's exposure bands.
const (
	SeverityCritical = "CRITICAL" // ≥ 95 %
	SeverityHigh     = "HIGH"     // ≥ 80 %
	SeverityModerate = "MODERATE" // ≥ 40 %
	SeverityLow      = "LOW"      // below 40 %
)

// SeverityFor returns the severity band of an exposure percentage (0-100): CRITICAL from 95,
// HIGH from 80, MODERATE from 40, LOW below (and for NaN).
func SeverityFor(pct float64) string {
	switch {
	case pct >= 95:
		return SeverityCritical
	case pct >= 80:
		return SeverityHigh
	case pct >= 40:
		return SeverityModerate
	default:
		return SeverityLow
	}
}

// NewExposure returns an Exposure with ExposurePct and Severity derived from the counts.
func NewExposure(entryPoints, exposedEntryPoints, crownJewels, reachableJewels int, compromiseEstimate float64) Exposure {
	var pct float64
	if entryPoints > 0 {
		pct = 100 * float64(exposedEntryPoints) / float64(entryPoints)
	}
	return Exposure{
		EntryPoints:        entryPoints,
		ExposedEntryPoints: exposedEntryPoints,
		CrownJewels:        crownJewels,
		ReachableJewels:    reachableJewels,
		ExposurePct:        pct,
		Severity:           SeverityFor(pct),
		CompromiseEstimate: compromiseEstimate,
	}
}

// Path is one ranked attack path from an entry point to a target.
type Path struct {
	Rank int `json:"rank"` // 1 is the most likely
	// Key is the path's stable signature, PathKey of its node ids; Diff matches paths by it.
	Key        string  `json:"key"`
	Likelihood float64 `json:"likelihood"` // product of the hop probabilities
	Entry      NodeRef `json:"entry"`
	Target     NodeRef `json:"target"`
	Hops       []Hop   `json:"hops"`
	// Techniques are the distinct techniques along the path (e.g. ATT&CK ids), in order.
	Techniques     []string  `json:"techniques"`
	Explanation    string    `json:"explanation"`
	ImpactedAssets []NodeRef `json:"impactedAssets"`
	// BaseLikelihood is the likelihood without observations; Trace the alerts and anomalies
	// observed along the path, in the order they were first seen; SequenceLinks how many pairs
	// of them lie on consecutive hops in time order (attack traces).
	BaseLikelihood float64      `json:"baseLikelihood"`
	Trace          []TraceEntry `json:"trace"`
	SequenceLinks  int          `json:"sequenceLinks"`
}

// TraceEntry is one alert or anomaly observed on a path, and what it did to the hop it is on.
type TraceEntry struct {
	Hop int     `json:"hop"` // index in the path's Hops
	On  NodeRef `json:"on"`  // the hop's target, which the observation is about
	// Via names the host a data store inherits the observation from.
	Via       string    `json:"via,omitempty"`
	Kind      string    `json:"kind"` // ALERT or ANOMALY
	Key       string    `json:"key"`
	Name      string    `json:"name"` // the alert's rule or the anomaly's type
	Source    string    `json:"source"`
	Severity  string    `json:"severity,omitempty"`
	Score     float64   `json:"score,omitempty"`
	Technique string    `json:"technique,omitempty"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Message   string    `json:"message"`
	// Weight is its evidence weight on the hop; Raise its share of the hop's raise.
	Weight         float64 `json:"weight"`
	Raise          float64 `json:"raise"`
	TechniqueMatch bool    `json:"techniqueMatch"`
	// LinkedFromHop is the earlier hop whose observation (LinkedFromKey) this one follows in
	// time on consecutive hops, or -1; LinkRaise what that link added to the hop.
	LinkedFromHop int     `json:"linkedFromHop"`
	LinkedFromKey string  `json:"linkedFromKey,omitempty"`
	LinkRaise     float64 `json:"linkRaise"`
}

// Hop is one step of a Path.
type Hop struct {
	From        NodeRef `json:"from"`
	To          NodeRef `json:"to"`
	Probability float64 `json:"probability"`
	// UntracedProbability is the probability before observations (the computed or
	// overridden one); 0 in reports made before attack traces.
	UntracedProbability float64  `json:"untracedProbability"`
	Technique           string   `json:"technique"`
	Rule                string   `json:"rule"` // the derivation rule that made the edge, if derived
	Explanation         string   `json:"explanation"`
	Evidence            []string `json:"evidence"` // what supports the hop: findings, CVEs, config facts
}

// NodeRef names a node of the twin.
type NodeRef struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Name        string `json:"name"`
	Criticality string `json:"criticality"`
	CrownJewel  bool   `json:"crownJewel"`
}

// DisplayName is the node's name, or its id when it has none.
func (n NodeRef) DisplayName() string {
	if n.Name != "" {
		return n.Name
	}
	return n.ID
}

// ChokePoint is a node through which many paths pass.
type ChokePoint struct {
	Node NodeRef `json:"node"`
	// IsDominator marks a node every path to some jewel passes through.
	IsDominator     bool    `json:"isDominator"`
	PathsBlockedPct float64 `json:"pathsBlockedPct"` // share of the paths fixing it blocks, in percent
	MassRemoved     float64 `json:"massRemoved"`     // path likelihood removed by fixing it
	JewelsProtected int     `json:"jewelsProtected"`
}

// FixPlan is a short list of fixes and what they achieve together.
type FixPlan struct {
	Actions []FixAction `json:"actions"`
	// RemovedPct is the share of path likelihood the actions remove, in percent.
	RemovedPct float64 `json:"removedPct"`
	// ResidualLikelihood is the likelihood of the most likely path left after the actions.
	ResidualLikelihood float64 `json:"residualLikelihood"`
}

// FixAction is one fix of a FixPlan.
type FixAction struct {
	Target         NodeRef `json:"target"` // the node to fix
	Edge           string  `json:"edge"`   // the edge to cut, when the fix is an edge
	Description    string  `json:"description"`
	MassRemovedPct float64 `json:"massRemovedPct"` // this action's share, in percent
}

// Delta is what changed since the previous report.
type Delta struct {
	New      []PathSummary `json:"new"`
	Resolved []PathSummary `json:"resolved"`
	Changed  []PathChange  `json:"changed"`
}

// PathSummary identifies a path in a Delta.
type PathSummary struct {
	Key        string   `json:"key"`
	Rank       int      `json:"rank"`
	Likelihood float64  `json:"likelihood"`
	Entry      NodeRef  `json:"entry"`
	Target     NodeRef  `json:"target"`
	HopCount   int      `json:"hopCount"`
	Techniques []string `json:"techniques"`
}

// PathChange is a path present in both reports whose likelihood moved.
type PathChange struct {
	Key    string  `json:"key"`
	Rank   int     `json:"rank"` // in the current report
	Entry  NodeRef `json:"entry"`
	Target NodeRef `json:"target"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// ChangeThreshold is the relative move of a path's likelihood above which Diff reports it as
// changed: |after-before| > ChangeThreshold × before, i.e. more than 1 %. Any move away from
// a likelihood of 0 counts.
const ChangeThreshold = 0.01

// keySep separates node ids in a path key. sectwin's node ids are base64url, so it never
// occurs in them.
const keySep = ">"

// PathKey returns the stable signature of the path through nodeIDs, in order.
func PathKey(nodeIDs ...string) string { return strings.Join(nodeIDs, keySep) }

// NodeIDs returns the ids of the nodes along the path: the entry, then each hop's head. A path
// without hops is its entry and, if different, its target.
func (p *Path) NodeIDs() []string {
	ids := make([]string, 0, len(p.Hops)+1)
	ids = append(ids, p.Entry.ID)
	for _, h := range p.Hops {
		ids = append(ids, h.To.ID)
	}
	if len(p.Hops) == 0 && p.Target.ID != "" && p.Target.ID != p.Entry.ID {
		ids = append(ids, p.Target.ID)
	}
	return ids
}

// key is p.Key, or PathKey of its nodes when the caller left it empty.
func (p *Path) key() string {
	if p.Key != "" {
		return p.Key
	}
	return PathKey(p.NodeIDs()...)
}

// Summary returns the PathSummary of p.
func (p *Path) Summary() PathSummary {
	return PathSummary{
		Key:        p.key(),
		Rank:       p.Rank,
		Likelihood: p.Likelihood,
		Entry:      p.Entry,
		Target:     p.Target,
		HopCount:   len(p.Hops),
		Techniques: slices.Clone(p.Techniques),
	}
}

// Diff compares cur with prev, matching paths by Key (PathKey of the nodes when a Key is
// empty): paths only in cur are New, paths only in prev are Resolved, and paths in both whose
// likelihood moved by more than ChangeThreshold are Changed. A nil prev makes every path New.
// New and Changed follow cur's order, Resolved follows prev's. The lists are never nil.
func Diff(prev, cur *Report) Delta {
	d := Delta{New: []PathSummary{}, Resolved: []PathSummary{}, Changed: []PathChange{}}
	before := map[string]*Path{}
	if prev != nil {
		for i := range prev.Paths {
			p := &prev.Paths[i]
			if _, dup := before[p.key()]; !dup {
				before[p.key()] = p
			}
		}
	}
	seen := map[string]bool{}
	if cur != nil {
		for i := range cur.Paths {
			p := &cur.Paths[i]
			k := p.key()
			if seen[k] {
				continue
			}
			seen[k] = true
			old, ok := before[k]
			switch {
			case !ok:
				d.New = append(d.New, p.Summary())
			case changed(old.Likelihood, p.Likelihood):
				d.Changed = append(d.Changed, PathChange{
					Key: k, Rank: p.Rank, Entry: p.Entry, Target: p.Target,
					Before: old.Likelihood, After: p.Likelihood,
				})
			}
		}
	}
	if prev != nil {
		for i := range prev.Paths {
			p := &prev.Paths[i]
			k := p.key()
			if !seen[k] {
				seen[k] = true // once, even if prev repeats it
				d.Resolved = append(d.Resolved, p.Summary())
			}
		}
	}
	return d
}

// changed reports a relative move of more than ChangeThreshold.
func changed(before, after float64) bool {
	if before == 0 {
		return after != 0
	}
	return math.Abs(after-before) > ChangeThreshold*math.Abs(before)
}
