package attacktrace

import "math"

// Hop is one hop of a path as the sequence rule sees it.
type Hop struct {
	// Raised is the hop's probability after the evidence of its own target (StepRaise).
	Raised float64
	// Observed are the observations of its target that count: StepRaise's contributions.
	Observed []Contribution
	// Transparent: the hop's target cannot carry observations (a zone, identity or
	// credential), so it does not break a sequence.
	Transparent bool
}

// Link is one pair of observations on consecutive observed hops, in time order.
type Link struct {
	// From and To are hop indexes (From < To); FromObs and ToObs index their Observed.
	From, To       int
	FromObs, ToObs int
	Weight         float64
	// Raise is what the link added to hop To's probability.
	Raise float64
}

// Sequence is the result of the sequence rule on one path.
type Sequence struct {
	// P is each hop's probability with its link, if any.
	P     []float64
	Links []Link
}

// Likelihood is the product of the hops' probabilities.
func (s Sequence) Likelihood() float64 {
	l := 1.0
	for _, p := range s.P {
		l *= p
	}
	return l
}

// Chains splits a path's observed hops into chains of consecutive ones: successive observed
// hops with only transparent hops between them.
func Chains(hops []Hop) [][]int {
	var out [][]int
	var cur []int
	for j, h := range hops {
		switch {
		case len(h.Observed) > 0:
			cur = append(cur, j)
		case !h.Transparent:
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// linkWeight is the weight of the link from observation a (on the earlier hop) to b, or 0 when
// b was first seen before a.
func (p Params) linkWeight(a, b Contribution) float64 {
	if b.Observation.First.Before(a.Observation.First) {
		return 0
	}
	return p.Link * min(a.Weight, b.Weight)
}

// linkGain is the log-likelihood a link of weight l adds to a hop of probability raised.
func linkGain(raised, l float64) float64 {
	if l <= 0 || raised <= 0 {
		return 0
	}
	return math.Log1p(-(1-raised)*(1-l)) - math.Log(raised)
}

// Sequence applies the sequence rule to a path: within each chain of consecutive observed
// hops, it picks one observation per hop so that the links between successive hops make the
// path most likely (Viterbi over the chain; ties go to the earlier, stronger observation), and
// raises each linked hop by noisy-OR with its link's weight.
func (p Params) Sequence(hops []Hop) Sequence {
	p = p.WithDefaults()
	s := Sequence{P: make([]float64, len(hops))}
	for j, h := range hops {
		s.P[j] = h.Raised
	}
	for _, chain := range Chains(hops) {
		if len(chain) < 2 {
			continue
		}
		// best[r][c]: the best gain of the chain's first r+1 hops with observation c chosen
		// on hop chain[r]; from[r][c] the choice on hop chain[r-1] that achieves it.
		best := make([][]float64, len(chain))
		from := make([][]int, len(chain))
		best[0] = make([]float64, len(hops[chain[0]].Observed))
		for r := 1; r < len(chain); r++ {
			prev, cur := hops[chain[r-1]], hops[chain[r]]
			best[r] = make([]float64, len(cur.Observed))
			from[r] = make([]int, len(cur.Observed))
			for c, b := range cur.Observed {
				bestV, bestC := math.Inf(-1), 0
				for c0, a := range prev.Observed {
					if v := best[r-1][c0] + linkGain(cur.Raised, p.linkWeight(a, b)); v > bestV {
						bestV, bestC = v, c0
					}
				}
				best[r][c], from[r][c] = bestV, bestC
			}
		}
		last := len(chain) - 1
		c, bestV := 0, math.Inf(-1)
		for i, v := range best[last] {
			if v > bestV {
				c, bestV = i, v
			}
		}
		var links []Link
		for r := last; r > 0; r-- {
			c0 := from[r][c]
			a, b := hops[chain[r-1]].Observed[c0], hops[chain[r]].Observed[c]
			if l := p.linkWeight(a, b); l > 0 {
				j := chain[r]
				raised := 1 - (1-s.P[j])*(1-l)
				links = append(links, Link{From: chain[r-1], To: j, FromObs: c0, ToObs: c, Weight: l, Raise: raised - s.P[j]})
				s.P[j] = raised
			}
			c = c0
		}
		for i, k := 0, len(links)-1; i < k; i, k = i+1, k-1 {
			links[i], links[k] = links[k], links[i]
		}
		s.Links = append(s.Links, links...)
	}
	return s
}
