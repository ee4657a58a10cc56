package attackpath

import "math"

// CostResolution is the step of the integer costs used for ranking: −ln p is rounded to a
// multiple of it (so likelihoods are resolved to about one part in a million).
const CostResolution = 1.0 / costScale

const costScale = 1 << 20

// infDist marks an unreachable node in distance arrays.
const infDist = math.MaxUint32

// costUnits returns the integer cost of probability p, which must be in (0, 1]. Every float64
// p > 0 fits: −ln(5e-324) × 2^20 < 7.9e8.
func costUnits(p float64) uint32 {
	if p >= 1 {
		return 0
	}
	return uint32(math.Round(-math.Log(p) * costScale))
}

// normP returns p clamped to (0, 1] and whether the edge is kept (p NaN or ≤ 0 is not).
func normP(p float64) (float64, bool) {
	switch {
	case math.IsNaN(p) || p <= 0:
		return 0, false
	case p > 1:
		return 1, true
	}
	return p, true
}

// unitsToCost converts an integer cost to −ln p.
func unitsToCost(u uint64) float64 { return float64(u) / costScale }

// likelihoodUnits returns the largest integer path cost that can still have a likelihood of at
// least minL, with slack for the rounding of up to hops edges; 0 ≤ minL ≤ 1. It leaves room
// to add more slack without overflow.
func likelihoodUnits(minL float64, hops int) uint64 {
	if minL <= 0 {
		return math.MaxUint64 >> 1
	}
	c := -math.Log(minL) * costScale
	if c > 1<<50 {
		return math.MaxUint64 >> 1 // still room for slack
	}
	return uint64(math.Ceil(c)) + uint64(hops) + 1
}
