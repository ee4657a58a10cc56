// Package attacktrace turns what the operations twin observed (alerts and anomalies about hosts
// and services) into evidence on attack paths: a step whose target shows activity becomes more
// likely, and a sequence of observations along consecutive hops, in time order, more likely
// still. It knows nothing of Neo4j or GraphQL: the caller hands it observations and the hops of
// a path, and gets back raised probabilities with what each observation contributed.
//
// # The rule
//
// Each observation o gets an evidence weight w(o) in [0, 1): the probability that it reveals
// the attack step it is about, independently of the other observations.
//
//   - An alert weighs by severity: CRITICAL 0.6, HIGH 0.4, MEDIUM 0.2, LOW 0.08 (other 0.05).
//   - An anomaly weighs by type (brute_force_succeeded 0.6, impossible_travel 0.4, new_edge
//     0.3, brute_force 0.3, rate 0.2, other 0.2) times its score normalised to [0, 1] (the
//     score itself for the detectors that score in (0, 1], score/10 capped at 1 for rate
//     z-scores).
//   - Repetition corroborates, with diminishing returns: an alert counted n times weighs
//     1 − (1 − w)^(1 + log10 n).
//   - A technique that matches the step's (the same ATT&CK id, or one is a sub-technique of the
//     other) counts as a second, independent corroboration: w' = 1 − (1 − w)². Anomalies carry
//     the technique their type implies (new_edge T1210, brute_force T1110,
//     brute_force_succeeded and impossible_travel T1078).
//   - Old evidence fades: w is halved every HalfLife of age (now − last seen), and evidence
//     older than Window is not read at all.
//
// A step of prior probability p (the rule's, or an analyst's override) whose target has
// observations O is raised by noisy-OR: p' = 1 − (1 − p)·Π(1 − w(o)). The step succeeds unless
// both the model's prior mechanism and every independent piece of evidence say otherwise; the
// raise is monotone, never lowers p, never exceeds 1, and does not depend on the order of O.
// Each observation's share of the raise is attributed in proportion to −ln(1 − w(o)), so the
// shares add up to p' − p whatever the order.
//
// A sequence raises more than scattered evidence. Along a path, two observed hops are
// consecutive when only hops into nodes that cannot carry observations (zones, identities,
// credentials: Transparent) lie between them. If an observation on the earlier hop was first
// seen at or before one on the later hop, the pair is a link: it says the attacker moved from
// one to the other, and adds one more noisy-OR term of weight Link·min(w_i, w_j) to the later
// hop. Each hop takes part in links through one chosen observation; the choice that makes the
// path most likely is found by dynamic programming over the hops (Viterbi), which the tests
// check against enumerating every choice. Scattered observations (out of time order, or with an
// unobserved host or service between them) get the per-hop raise only.
//
// The per-hop raise depends only on the step, so it goes into the engine's graph and ranks
// paths exactly; links depend on the path and are applied to the candidate paths the engine
// returns (see attackanalysis).
package attacktrace

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Kinds of observation.
const (
	KindAlert   = "ALERT"
	KindAnomaly = "ANOMALY"
)

// Observation is one alert or anomaly about an attack-graph node.
type Observation struct {
	Kind string // KindAlert or KindAnomaly
	Key  string // the Alert's or Anomaly's key
	// Name is the alert's rule or the anomaly's type; Source the alert's source (suricata…).
	Name, Source string
	Severity     string  // alerts: LOW, MEDIUM, HIGH or CRITICAL
	Score        float64 // anomalies
	Technique    string  // ATT&CK id; for anomalies, implied by the type when empty
	Count        int64   // alerts: how many times it fired (at least 1)
	// First is when it was first seen (ordering in sequences); Last when last seen (decay).
	First, Last time.Time
	Message     string
	// Via is the caller's note of where the observation was inherited from (a data store
	// carries its host's); the rule does not read it.
	Via string
}

// Params tune the rule; the zero value of a field takes its default.
type Params struct {
	// Window bounds the age of evidence read (default 7 days).
	Window time.Duration
	// HalfLife halves an observation's weight per this much age (default 24 h).
	HalfLife time.Duration
	// Link is the weight of a link relative to the weaker of its two observations (default 0.5).
	Link float64
	// MaxPerNode bounds the observations of one node that count, strongest first (default 20).
	MaxPerNode int
}

// Defaults of Params.
const (
	DefaultWindow     = 7 * 24 * time.Hour
	DefaultHalfLife   = 24 * time.Hour
	DefaultLink       = 0.5
	DefaultMaxPerNode = 20
)

// WithDefaults returns p with its zero fields set to the defaults.
func (p Params) WithDefaults() Params {
	if p.Window <= 0 {
		p.Window = DefaultWindow
	}
	if p.HalfLife <= 0 {
		p.HalfLife = DefaultHalfLife
	}
	if p.Link <= 0 || p.Link > 1 {
		p.Link = DefaultLink
	}
	if p.MaxPerNode <= 0 {
		p.MaxPerNode = DefaultMaxPerNode
	}
	return p
}

var severityWeights = map[string]float64{"CRITICAL": 0.6, "HIGH": 0.4, "MEDIUM": 0.2, "LOW": 0.08}

const otherSeverityWeight = 0.05

var anomalyWeights = map[string]float64{"brute_force_succeeded": 0.6, "impossible_travel": 0.4, "new_edge": 0.3, "brute_force": 0.3, "rate": 0.2}

const otherAnomalyWeight = 0.2

var anomalyTechniques = map[string]string{"new_edge": "T1210", "brute_force": "T1110", "brute_force_succeeded": "T1078", "impossible_travel": "T1078"}

// maxWeight keeps every weight below 1, so that no single observation makes a step certain.
const maxWeight = 0.99

// EffectiveTechnique is the ATT&CK technique o stands for: its own, or the one its anomaly type
// implies.
func (o Observation) EffectiveTechnique() string {
	if o.Technique != "" || o.Kind != KindAnomaly {
		return o.Technique
	}
	return anomalyTechniques[o.Name]
}

// TechniqueMatches reports whether two ATT&CK ids name the same technique, or one is a
// sub-technique of the other (T1078 and T1078.001); empty ids match nothing.
func TechniqueMatches(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	pa, _, _ := strings.Cut(a, ".")
	pb, _, _ := strings.Cut(b, ".")
	return a == b || (pa == pb && (pa == a || pb == b))
}

// Weight is the evidence weight of o for a step of technique stepTechnique, at now.
func (p Params) Weight(o Observation, stepTechnique string, now time.Time) float64 {
	p = p.WithDefaults()
	var w float64
	switch o.Kind {
	case KindAnomaly:
		base, ok := anomalyWeights[o.Name]
		if !ok {
			base = otherAnomalyWeight
		}
		s := o.Score
		if o.Name == "rate" {
			s /= 10
		}
		if math.IsNaN(s) {
			s = 0
		}
		w = base * min(max(s, 0), 1)
	default:
		var ok bool
		if w, ok = severityWeights[strings.ToUpper(o.Severity)]; !ok {
			w = otherSeverityWeight
		}
		if o.Count > 1 {
			w = 1 - math.Pow(1-w, 1+math.Log10(float64(o.Count)))
		}
	}
	if TechniqueMatches(o.EffectiveTechnique(), stepTechnique) {
		w = 1 - (1-w)*(1-w)
	}
	last := o.Last
	if last.IsZero() {
		last = o.First
	}
	if age := now.Sub(last); age > 0 {
		w *= math.Exp2(-float64(age) / float64(p.HalfLife))
	}
	return min(max(w, 0), maxWeight)
}

// Matched reports whether o's technique matches the step's.
func Matched(o Observation, stepTechnique string) bool {
	return TechniqueMatches(o.EffectiveTechnique(), stepTechnique)
}

// Contribution is what one observation added to one step's probability.
type Contribution struct {
	Observation Observation
	Weight      float64
	// Raise is its share of the step's raise (p' − p), in probability.
	Raise float64
	// TechniqueMatch: the observation's technique is the step's.
	TechniqueMatch bool
}

// StepRaise raises a step of prior probability p and technique by the observations of its
// target (noisy-OR), and returns the raised probability with each observation's share, largest
// first. Only the MaxPerNode strongest observations count.
func (p Params) StepRaise(prior float64, technique string, obs []Observation, now time.Time) (float64, []Contribution) {
	p = p.WithDefaults()
	prior = min(max(prior, 0), 1)
	if len(obs) == 0 {
		return prior, nil
	}
	cs := make([]Contribution, 0, len(obs))
	for _, o := range obs {
		if w := p.Weight(o, technique, now); w > 0 {
			cs = append(cs, Contribution{Observation: o, Weight: w, TechniqueMatch: Matched(o, technique)})
		}
	}
	slices.SortStableFunc(cs, func(a, b Contribution) int {
		switch {
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return strings.Compare(a.Observation.Key, b.Observation.Key)
	})
	if len(cs) > p.MaxPerNode {
		cs = cs[:p.MaxPerNode]
	}
	miss := 1 - prior
	var logSum float64
	for _, c := range cs {
		miss *= 1 - c.Weight
		logSum += -math.Log1p(-c.Weight)
	}
	raised := 1 - miss
	if logSum > 0 {
		for i := range cs {
			cs[i].Raise = (raised - prior) * (-math.Log1p(-cs[i].Weight)) / logSum
		}
	}
	return raised, cs
}
