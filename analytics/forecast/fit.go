package forecast

import "math"

// Bounds of the pattern search on φ when damped.
const (
	phiMin = 0.8
	phiMax = 0.98
)

// search returns the parameters with the smallest one-step SSE: the best grid point,
// refined by a pattern search.
func search(y []float64, init *Model, damped bool) Params {
	// The grid (see the package doc).
	gridAlpha := [...]float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9}
	gridBeta := [...]float64{0, 0.02, 0.1, 0.3, 0.5}
	gridGamma := [...]float64{0, 0.05, 0.15, 0.3, 0.6}
	phis := []float64{1}
	if damped {
		phis = []float64{0.8, 0.9, 0.95, 0.98}
	}
	work := init.clone()
	best, bestSSE := Params{}, math.Inf(1)
	try := func(p Params) bool {
		if sse := work.runSSE(y, init, p, bestSSE); sse < bestSSE {
			best, bestSSE = p, sse
			return true
		}
		return false
	}
	for _, phi := range phis {
		for _, a := range gridAlpha {
			for _, b := range gridBeta {
				for _, g := range gridGamma {
					if g <= 1-a {
						try(Params{Alpha: a, Beta: b, Gamma: g, Phi: phi})
					}
				}
			}
		}
	}
	if math.IsInf(bestSSE, 1) { // every point diverged: the most conservative one
		return Params{Alpha: gridAlpha[0], Beta: 0, Gamma: 0, Phi: phis[0]}
	}
	// Pattern search: each parameter in turn moves by ±δ while that improves the SSE (at most
	// 20 rounds per δ, which bounds the work).
	for delta := 0.05; delta >= 0.001; delta /= 2 {
		for round, improved := 0, true; improved && round < 20; round++ {
			improved = false
			for k := range 4 {
				if k == 3 && !damped {
					break
				}
				for _, sign := range [2]float64{1, -1} {
					p := best
					v := p.at(k) + sign*delta
					p.set(k, v)
					if p.admissible(damped) && try(p) {
						improved = true
					}
				}
			}
		}
	}
	return best
}

func (p *Params) at(k int) float64 {
	return [4]float64{p.Alpha, p.Beta, p.Gamma, p.Phi}[k]
}

func (p *Params) set(k int, v float64) {
	switch k {
	case 0:
		p.Alpha = v
	case 1:
		p.Beta = v
	case 2:
		p.Gamma = v
	case 3:
		p.Phi = v
	}
}

// admissible tells whether the search may try p.
func (p Params) admissible(damped bool) bool {
	ok := p.Alpha >= 0 && p.Alpha <= 1 && p.Beta >= 0 && p.Beta <= 1 && p.Gamma >= 0 && p.Gamma <= 1-p.Alpha
	if damped {
		return ok && p.Phi >= phiMin && p.Phi <= phiMax
	}
	return ok && p.Phi == 1
}

// runSSE runs the recursion with p over y from init's states, using m as scratch, and returns the
// sum of the squared one-step errors; it gives up, returning +Inf, once the sum exceeds bound or
// is not finite.
func (m *Model) runSSE(y []float64, init *Model, p Params, bound float64) float64 {
	m.level, m.trend, m.pos, m.n, m.p = init.level, init.trend, 0, 0, p
	copy(m.season, init.season)
	var sum float64
	for _, v := range y {
		e := m.step(v)
		sum += e * e
		if !(sum <= bound) { // also NaN
			return math.Inf(1)
		}
	}
	return sum
}
