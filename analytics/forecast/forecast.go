package forecast

import (
	"errors"
	"fmt"
	"math"
)

// Errors. Fit and Forecast wrap them with detail; Update returns them as they are.
var (
	// ErrSeason: the season length is below 2.
	ErrSeason = errors.New("forecast: season length must be at least 2")
	// ErrTooShort: the series is shorter than two seasons.
	ErrTooShort = errors.New("forecast: series shorter than two seasons")
	// ErrInvalidValue: a value is NaN, infinite, larger in magnitude than MaxAbs, or negative
	// with Options.NonNegative.
	ErrInvalidValue = errors.New("forecast: invalid value")
	// ErrInvalidParams: a given parameter is outside its range.
	ErrInvalidParams = errors.New("forecast: invalid parameters")
	// ErrInvalidArgument: a forecast horizon or level is outside its range.
	ErrInvalidArgument = errors.New("forecast: invalid argument")
	// ErrDiverged: the parameters drive the states to infinity on these data.
	ErrDiverged = errors.New("forecast: model diverged")
)

// MaxAbs is the largest magnitude of a value accepted, so that squared errors stay finite.
const MaxAbs = 1e100

// MaxHorizon is the longest forecast.
const MaxHorizon = 1 << 20

// Params are the smoothing parameters of the component form (see the package doc).
type Params struct {
	Alpha float64 // level, in [0, 1]
	Beta  float64 // trend, in [0, 1]
	Gamma float64 // season, in [0, 1 − Alpha]
	// Phi damps the trend, in (0, 1]; 0 means 1 (no damping).
	Phi float64
}

func (p Params) validate() error {
	if !(p.Alpha >= 0 && p.Alpha <= 1 && p.Beta >= 0 && p.Beta <= 1 && p.Gamma >= 0 && p.Gamma <= 1-p.Alpha+1e-12 &&
		p.Phi > 0 && p.Phi <= 1) {
		return fmt.Errorf("%+v: %w", p, ErrInvalidParams)
	}
	return nil
}

// Options configures Fit.
type Options struct {
	// Params, when set, are used as they are; otherwise they are fitted.
	Params *Params
	// Damped lets the fit damp the trend (φ < 1), which keeps long forecasts from running
	// away with a trend that will not last.
	Damped bool
	// NonNegative rejects negative values and clamps forecasts and intervals at 0, for
	// counts and rates.
	NonNegative bool
}

// Model is a fitted Holt-Winters model. It holds about 100 bytes plus 8 per season position.
// It is not safe for use by several goroutines at once.
type Model struct {
	p            Params
	level, trend float64
	season       []float64 // season[i] is the term for the observation at position i
	pos          int       // the next observation's position in season
	sse          float64   // sum of squared one-step errors
	n            int       // observations folded in (and errors in sse)
	dof          int       // degrees of freedom used up by estimation
	nonNeg       bool
}

// Point is one step of a forecast: its mean and its prediction interval.
type Point struct {
	Mean, Lower, Upper float64
}

// Fit fits a model to series, equally spaced observations with a season of season steps (24
// for hourly buckets with a daily cycle, 168 for a weekly one), and folds the whole series in,
// so that the model forecasts from its end. The series needs at least two seasons. It returns
// ErrSeason, ErrTooShort, ErrInvalidValue (with the index), ErrInvalidParams, or ErrDiverged,
// wrapped.
func Fit(series []float64, season int, opt Options) (*Model, error) {
	if season < 2 {
		return nil, fmt.Errorf("season %d: %w", season, ErrSeason)
	}
	if len(series)/2 < season { // not 2*season, which a huge season overflows
		return nil, fmt.Errorf("%d observations, season %d needs at least %d: %w", len(series), season, 2*season, ErrTooShort)
	}
	for i, y := range series {
		if !validValue(y, opt.NonNegative) {
			return nil, fmt.Errorf("observation %d is %v: %w", i, y, ErrInvalidValue)
		}
	}
	init := initial(series, season)
	var p Params
	fitted := 0 // parameters estimated from the data, besides the m + 1 initial states
	if opt.Params != nil {
		p = *opt.Params
		if p.Phi == 0 {
			p.Phi = 1
		}
		if err := p.validate(); err != nil {
			return nil, err
		}
	} else {
		p, fitted = search(series, init, opt.Damped), 3
		if opt.Damped {
			fitted = 4
		}
	}
	m := init.clone()
	m.p, m.nonNeg, m.dof = p, opt.NonNegative, fitted+season+1
	for _, y := range series {
		e := m.step(y)
		m.sse += e * e
	}
	if !m.finite() {
		return nil, fmt.Errorf("parameters %+v: %w", p, ErrDiverged)
	}
	return m, nil
}

func validValue(y float64, nonNeg bool) bool {
	return y >= -MaxAbs && y <= MaxAbs && (!nonNeg || y >= 0)
}

// initial returns the initial states (see the package doc), with no parameters.
func initial(y []float64, m int) *Model {
	var a1, a2 float64
	for i := range m {
		a1 += y[i]
		a2 += y[m+i]
	}
	a1, a2 = a1/float64(m), a2/float64(m)
	b := (a2 - a1) / float64(m)
	mid := float64(m-1) / 2
	line := func(t int) float64 { return a1 + b*(float64(t)-mid) }
	s := make([]float64, m)
	var mean float64
	for i := range m {
		s[i] = ((y[i] - line(i)) + (y[m+i] - line(m+i))) / 2
		mean += s[i]
	}
	mean /= float64(m)
	for i := range s {
		s[i] -= mean
	}
	return &Model{level: line(-1), trend: b, season: s}
}

func (m *Model) clone() *Model {
	c := *m
	c.season = append([]float64(nil), m.season...)
	return &c
}

// step folds y in and returns its one-step error.
func (m *Model) step(y float64) float64 {
	p := m.p
	dt := p.Phi * m.trend
	e := y - (m.level + dt + m.season[m.pos])
	m.level += dt + p.Alpha*e
	m.trend = dt + p.Alpha*p.Beta*e
	m.season[m.pos] += p.Gamma * e
	m.pos++
	if m.pos == len(m.season) {
		m.pos = 0
	}
	m.n++
	return e
}

func (m *Model) finite() bool {
	ok := finite(m.level) && finite(m.trend) && finite(m.sse)
	for _, s := range m.season {
		ok = ok && finite(s)
	}
	return ok
}

// Update folds the next observation in, keeping the model current without refitting; the
// one-step error also updates σ. A value Fit would reject returns ErrInvalidValue, and a value
// that would make the states overflow returns ErrDiverged; both leave the model unchanged.
// Update allocates nothing.
func (m *Model) Update(x float64) error {
	if !validValue(x, m.nonNeg) {
		return ErrInvalidValue
	}
	return m.advance(x, true)
}

// Skip advances the model over a missing observation, as if the one-step forecast had been
// observed: the states move along the trend and σ is unchanged. Should that overflow, it
// returns ErrDiverged and changes nothing.
func (m *Model) Skip() error {
	return m.advance(m.level+m.p.Phi*m.trend+m.season[m.pos], false)
}

// advance folds x in, counting its error in σ or not, unless the states would overflow.
func (m *Model) advance(x float64, count bool) error {
	level, trend, pos, n := m.level, m.trend, m.pos, m.n
	old := m.season[pos]
	e := m.step(x)
	sse := m.sse
	if count {
		sse += e * e
	}
	if !finite(m.level) || !finite(m.trend) || !finite(m.season[pos]) || !finite(sse) {
		m.level, m.trend, m.pos, m.n, m.season[pos] = level, trend, pos, n, old
		return ErrDiverged
	}
	m.sse = sse
	if !count {
		m.dof++ // keeps σ² = sse/(n − dof) as it was
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Params returns the parameters in use (fitted or given; Phi is 1 without damping).
func (m *Model) Params() Params { return m.p }

// Season returns the season length.
func (m *Model) Season() int { return len(m.season) }

// Len returns how many observations have been folded in (Fit's and Update's; Skip's too).
func (m *Model) Len() int { return m.n }

// Sigma returns the standard deviation of the one-step errors: √(SSE / (n − k)), k counting
// the m + 1 initial states and the fitted parameters (see the package doc).
func (m *Model) Sigma() float64 {
	return math.Sqrt(m.sse / float64(max(m.n-m.dof, 1)))
}

// Forecast returns the next h steps (1 ≤ h ≤ MaxHorizon) with prediction intervals at level
// (in (0, 1), 0.95 for 95%). With Options.NonNegative every bound is clamped at 0.
func (m *Model) Forecast(h int, level float64) ([]Point, error) {
	if h < 1 || h > MaxHorizon {
		return nil, fmt.Errorf("horizon %d: %w", h, ErrInvalidArgument)
	}
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("level %v: %w", level, ErrInvalidArgument)
	}
	z := math.Sqrt2 * math.Erfinv(level)
	sigma := m.Sigma()
	p, season := m.p, len(m.season)
	out := make([]Point, h)
	var phiSum float64 // φ + … + φ^k
	var phiPow = 1.0
	var sumC2 float64 // Σ_{j<k} c_j²
	for k := 1; k <= h; k++ {
		phiPow *= p.Phi
		phiSum += phiPow
		mean := m.level + phiSum*m.trend + m.season[(m.pos+k-1)%season]
		half := z * sigma * math.Sqrt(1+sumC2)
		pt := Point{Mean: mean, Lower: mean - half, Upper: mean + half}
		if m.nonNeg {
			pt = Point{Mean: max(pt.Mean, 0), Lower: max(pt.Lower, 0), Upper: max(pt.Upper, 0)}
		}
		out[k-1] = pt
		// c_k for the next step's variance.
		c := p.Alpha + p.Alpha*p.Beta*phiSum
		if k%season == 0 {
			c += p.Gamma
		}
		sumC2 += c * c
	}
	return out, nil
}
