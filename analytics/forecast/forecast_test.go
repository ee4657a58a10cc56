package forecast

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func approx(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// componentForm is a brute-force Holt-Winters: the textbook component-form equations over
// whole arrays l[t], b[t], s[t] (index t+1 for time t; s has m entries before time 0), with
// the initial states computed from their definition. It returns the final level and trend, the
// last m seasonal terms in time order, every one-step error, and the h-step forecasts from the
// end of the series.
func componentForm(y []float64, m int, p Params, h int) (l, b float64, s []float64, errs, fc []float64) {
	n := len(y)
	// Initial states.
	a1, a2 := 0.0, 0.0
	for i := 0; i < m; i++ {
		a1 += y[i] / float64(m)
		a2 += y[m+i] / float64(m)
	}
	slope := (a2 - a1) / float64(m)
	trendLine := func(t float64) float64 { return a1 + slope*(t-float64(m-1)/2) }
	L := make([]float64, n+1)
	B := make([]float64, n+1)
	S := make([]float64, n+m) // S[t+m] is s_t; S[0..m-1] are s_{-m}..s_{-1}
	var centre float64
	for i := 0; i < m; i++ {
		S[i] = 0.5*(y[i]-trendLine(float64(i))) + 0.5*(y[m+i]-trendLine(float64(m+i)))
		centre += S[i]
	}
	for i := 0; i < m; i++ {
		S[i] -= centre / float64(m)
	}
	L[0], B[0] = trendLine(-1), slope
	for t := 0; t < n; t++ {
		lPrev, bPrev, sPrev := L[t], B[t], S[t] // S[t] is s_{t−m}
		errs = append(errs, y[t]-(lPrev+p.Phi*bPrev+sPrev))
		L[t+1] = p.Alpha*(y[t]-sPrev) + (1-p.Alpha)*(lPrev+p.Phi*bPrev)
		B[t+1] = p.Beta*(L[t+1]-lPrev) + (1-p.Beta)*p.Phi*bPrev
		S[t+m] = p.Gamma*(y[t]-lPrev-p.Phi*bPrev) + (1-p.Gamma)*sPrev
	}
	for k := 1; k <= h; k++ {
		phiK := 0.0
		for j := 1; j <= k; j++ {
			phiK += math.Pow(p.Phi, float64(j))
		}
		// The last time is n−1: y_{n−1+k} uses s_{n−1+k−m(⌊(k−1)/m⌋+1)}, at S index +m.
		fc = append(fc, L[n]+phiK*B[n]+S[n-1+k-m*((k-1)/m+1)+m])
	}
	return L[n], B[n], S[n:], errs, fc
}

func TestRecurrencesMatchComponentForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	series := func(n int) []float64 {
		y := make([]float64, n)
		for i := range y {
			y[i] = 20 + float64(i)/3 + 5*math.Sin(float64(i)) + rng.NormFloat64()
		}
		return y
	}
	tests := []struct {
		name string
		m, n int
		p    Params
	}{
		{"plain", 4, 12, Params{Alpha: 0.3, Beta: 0.1, Gamma: 0.2, Phi: 1}},
		{"damped", 4, 13, Params{Alpha: 0.5, Beta: 0.4, Gamma: 0.3, Phi: 0.9}},
		{"two seasons only", 3, 6, Params{Alpha: 0.2, Beta: 0.2, Gamma: 0.1, Phi: 1}},
		{"no smoothing", 5, 17, Params{Alpha: 0, Beta: 0, Gamma: 0, Phi: 1}},
		{"all level", 2, 9, Params{Alpha: 1, Beta: 1, Gamma: 0, Phi: 0.8}},
		{"phi zero means one", 6, 20, Params{Alpha: 0.1, Beta: 0.05, Gamma: 0.6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := series(tc.n)
			p := tc.p
			model, err := Fit(y, tc.m, Options{Params: &p})
			if err != nil {
				t.Fatal(err)
			}
			if p.Phi == 0 {
				p.Phi = 1
			}
			if model.Params() != p {
				t.Errorf("params %+v, want %+v", model.Params(), p)
			}
			h := 2*tc.m + 3
			l, b, s, errs, fc := componentForm(y, tc.m, p, h)
			if !approx(model.level, l, 1e-12) || !approx(model.trend, b, 1e-12) {
				t.Errorf("level, trend %v %v; want %v %v", model.level, model.trend, l, b)
			}
			for k := range tc.m { // s[k] is the term of time n−m+k, at position (n−m+k) mod m
				if got := model.season[(tc.n-tc.m+k)%tc.m]; !approx(got, s[k], 1e-12) {
					t.Errorf("season term of time %d: %v, want %v", tc.n-tc.m+k, got, s[k])
				}
			}
			var sse float64
			for _, e := range errs {
				sse += e * e
			}
			// Given parameters: only the m + 1 initial states count against the degrees of freedom.
			if want := math.Sqrt(sse / math.Max(1, float64(len(errs)-tc.m-1))); !approx(model.Sigma(), want, 1e-12) {
				t.Errorf("sigma %v, want %v", model.Sigma(), want)
			}
			got, err := model.Forecast(h, 0.9)
			if err != nil {
				t.Fatal(err)
			}
			for k := range h {
				if !approx(got[k].Mean, fc[k], 1e-12) {
					t.Errorf("forecast %d: %v, want %v", k+1, got[k].Mean, fc[k])
				}
			}
		})
	}
}

// The variance coefficients c_j are the effect of a unit one-step error on the forecast j
// steps later: check the closed form against the model's own Update.
func TestVarianceCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	y := make([]float64, 60)
	for i := range y {
		y[i] = 100 + 10*math.Sin(2*math.Pi*float64(i)/5) + 3*rng.NormFloat64()
	}
	for _, p := range []Params{
		{Alpha: 0.3, Beta: 0.2, Gamma: 0.4, Phi: 1},
		{Alpha: 0.6, Beta: 0.5, Gamma: 0.1, Phi: 0.85},
	} {
		model, err := Fit(y, 5, Options{Params: &p})
		if err != nil {
			t.Fatal(err)
		}
		const h, level = 13, 0.95
		pts, _ := model.Forecast(h, level)
		zs := math.Sqrt2 * math.Erfinv(level) * model.Sigma()
		next := pts[0].Mean
		a, b := model.clone(), model.clone()
		a.Update(next)
		b.Update(next + 1)
		pa, _ := a.Forecast(h-1, level)
		pb, _ := b.Forecast(h-1, level)
		for j := 1; j < h; j++ {
			c := pb[j-1].Mean - pa[j-1].Mean
			w0, w1 := (pts[j-1].Upper-pts[j-1].Mean)/zs, (pts[j].Upper-pts[j].Mean)/zs
			if c2 := w1*w1 - w0*w0; !approx(c2, c*c, 1e-9) {
				t.Errorf("%+v: c_%d² %v from the interval, %v from an impulse", p, j, c2, c*c)
			}
		}
	}
}

func TestForecastExactSeries(t *testing.T) {
	tests := []struct {
		name   string
		m, n   int
		y      func(t float64) float64
		damped bool
	}{
		{"daily sine and trend", 24, 24 * 6, func(t float64) float64 {
			return 50 + 0.5*t + 10*math.Sin(2*math.Pi*t/24) + 3*math.Cos(2*math.Pi*t/8)
		}, false},
		{"weekly with daily and weekend cycles, falling", 168, 168 * 3, func(t float64) float64 {
			return 1000 - 0.8*t + 200*math.Sin(2*math.Pi*t/24) + 150*math.Cos(2*math.Pi*t/168)
		}, false},
		{"damped fit on a flat cycle", 12, 12 * 5, func(t float64) float64 {
			return 7 + 2*math.Sin(2*math.Pi*t/12)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := make([]float64, tc.n)
			for i := range y {
				y[i] = tc.y(float64(i))
			}
			model, err := Fit(y, tc.m, Options{Damped: tc.damped})
			if err != nil {
				t.Fatal(err)
			}
			h := 2 * tc.m
			pts, err := model.Forecast(h, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			for k, pt := range pts {
				want := tc.y(float64(tc.n + k))
				if math.Abs(pt.Mean-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("step %d: %v, want %v", k+1, pt.Mean, want)
				}
				if !(pt.Lower <= pt.Mean && pt.Mean <= pt.Upper) || pt.Upper-pt.Lower > 1e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("step %d: interval %+v on an exact series", k+1, pt)
				}
			}
		})
	}
}

// noisySeries is trend + daily cycle + N(0, σ²) noise.
func noisySeries(rng *rand.Rand, n, m int, sigma float64) []float64 {
	y := make([]float64, n)
	for i := range y {
		t := float64(i)
		y[i] = 100 + 0.2*t + 20*math.Sin(2*math.Pi*t/float64(m)) + sigma*rng.NormFloat64()
	}
	return y
}

// etsSeries simulates ETS(A,A,A) with the given parameters (in the component form's terms).
func etsSeries(rng *rand.Rand, n, m int, p Params, sigma float64) []float64 {
	level, trend := 100.0, 0.1
	season := make([]float64, m)
	for i := range season {
		season[i] = 20 * math.Sin(2*math.Pi*float64(i)/float64(m))
	}
	y := make([]float64, n)
	for i := range y {
		e := sigma * rng.NormFloat64()
		s := season[i%m]
		y[i] = level + p.Phi*trend + s + e
		level += p.Phi*trend + p.Alpha*e
		trend = p.Phi*trend + p.Alpha*p.Beta*e
		season[i%m] = s + p.Gamma*e
	}
	return y
}

// Over many seeded trials the intervals cover future values at close to their nominal level.
// (Trials are correlated within a horizon, so hundreds are needed for a steady estimate.)
func TestIntervalCoverage(t *testing.T) {
	const m, n, horizon = 24, 24 * 10, 24
	type band struct{ level, lo, hi float64 }
	tests := []struct {
		name   string
		gen    func(rng *rand.Rand, n int) []float64
		opt    Options
		trials int
		bands  []band
	}{
		{"pattern and white noise", func(r *rand.Rand, n int) []float64 { return noisySeries(r, n, m, 5) }, Options{}, 300,
			[]band{{0.95, 0.90, 0.99}, {0.80, 0.72, 0.88}}},
		{"ETS process", func(r *rand.Rand, n int) []float64 {
			return etsSeries(r, n, m, Params{Alpha: 0.3, Beta: 0.1, Gamma: 0.1, Phi: 1}, 4)
		}, Options{}, 300, []band{{0.95, 0.90, 0.99}}},
		{"damped ETS process", func(r *rand.Rand, n int) []float64 {
			return etsSeries(r, n, m, Params{Alpha: 0.4, Beta: 0.2, Gamma: 0.05, Phi: 0.9}, 4)
		}, Options{Damped: true}, 200, []band{{0.95, 0.90, 0.99}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			covered := make([]int, len(tc.bands))
			total := 0
			for trial := range tc.trials {
				rng := rand.New(rand.NewPCG(uint64(trial), 99))
				y := tc.gen(rng, n+horizon)
				model, err := Fit(y[:n], m, tc.opt)
				if err != nil {
					t.Fatal(err)
				}
				for i, b := range tc.bands {
					pts, err := model.Forecast(horizon, b.level)
					if err != nil {
						t.Fatal(err)
					}
					for k, pt := range pts {
						if v := y[n+k]; pt.Lower <= v && v <= pt.Upper {
							covered[i]++
						}
					}
				}
				total += horizon
			}
			for i, b := range tc.bands {
				got := float64(covered[i]) / float64(total)
				t.Logf("coverage %.3f at nominal %.2f", got, b.level)
				if got < b.lo || got > b.hi {
					t.Errorf("coverage %.3f at nominal %.2f, want within [%.2f, %.2f]", got, b.level, b.lo, b.hi)
				}
			}
		})
	}
}

func TestUpdateMatchesFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	y := noisySeries(rng, 24*8, 24, 3)
	p := Params{Alpha: 0.2, Beta: 0.05, Gamma: 0.1, Phi: 0.95}
	whole, err := Fit(y, 24, Options{Params: &p})
	if err != nil {
		t.Fatal(err)
	}
	part, err := Fit(y[:24*5], 24, Options{Params: &p})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range y[24*5:] {
		if err := part.Update(v); err != nil {
			t.Fatal(err)
		}
	}
	if part.level != whole.level || part.trend != whole.trend || part.pos != whole.pos || part.Len() != whole.Len() ||
		part.Sigma() != whole.Sigma() {
		t.Errorf("updated %+v, fitted %+v", part, whole)
	}
	for i := range part.season {
		if part.season[i] != whole.season[i] {
			t.Fatalf("season %d: %v, %v", i, part.season[i], whole.season[i])
		}
	}
	// Bad values change nothing.
	before := *part
	beforeSeason := append([]float64(nil), part.season...)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 2 * MaxAbs} {
		if err := part.Update(v); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("Update(%v): %v", v, err)
		}
	}
	if part.level != before.level || part.trend != before.trend || part.pos != before.pos || part.n != before.n ||
		part.sse != before.sse || part.dof != before.dof {
		t.Errorf("bad values changed the model")
	}
	for i := range beforeSeason {
		if part.season[i] != beforeSeason[i] {
			t.Errorf("bad values changed season %d", i)
		}
	}
}

func TestSkip(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	y := noisySeries(rng, 24*4, 24, 3)
	model, err := Fit(y, 24, Options{Damped: true})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := model.Forecast(30, 0.9)
	sigma := model.Sigma()
	if err := model.Skip(); err != nil {
		t.Fatal(err)
	}
	got, _ := model.Forecast(29, 0.9)
	for k := range got {
		if !approx(got[k].Mean, want[k+1].Mean, 1e-12) {
			t.Errorf("step %d after Skip: %v, want %v", k+1, got[k].Mean, want[k+1].Mean)
		}
	}
	if model.Sigma() != sigma || model.Len() != len(y)+1 {
		t.Errorf("sigma %v → %v, len %d", sigma, model.Sigma(), model.Len())
	}
}

func TestNonNegative(t *testing.T) {
	// A rate falling to zero: forecasts and intervals stay at or above zero.
	y := make([]float64, 48)
	for i := range y {
		y[i] = math.Max(0, 40-float64(i)+5*math.Sin(2*math.Pi*float64(i)/12))
	}
	model, err := Fit(y, 12, Options{NonNegative: true})
	if err != nil {
		t.Fatal(err)
	}
	pts, _ := model.Forecast(24, 0.99)
	for k, pt := range pts {
		if pt.Lower < 0 || pt.Mean < 0 || pt.Upper < 0 || pt.Lower > pt.Mean || pt.Mean > pt.Upper {
			t.Errorf("step %d: %+v", k+1, pt)
		}
	}
	if err := model.Update(-1); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Update(-1): %v", err)
	}
	if _, err := Fit(append([]float64{-1}, y...), 12, Options{NonNegative: true}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Fit with a negative value: %v", err)
	}
	if _, err := Fit(append([]float64{-1}, y...), 12, Options{}); err != nil {
		t.Errorf("Fit with a negative value, signed: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ok := make([]float64, 48)
	for i := range ok {
		ok[i] = float64(i % 7)
	}
	withAt := func(i int, v float64) []float64 {
		y := append([]float64(nil), ok...)
		y[i] = v
		return y
	}
	bad := func(p Params) Options { return Options{Params: &p} }
	tests := []struct {
		name   string
		y      []float64
		season int
		opt    Options
		want   error
	}{
		{"season 1", ok, 1, Options{}, ErrSeason},
		{"season 0", ok, 0, Options{}, ErrSeason},
		{"season negative", ok, -24, Options{}, ErrSeason},
		{"one season and a bit", ok[:35], 24, Options{}, ErrTooShort},
		{"empty", nil, 2, Options{}, ErrTooShort},
		{"huge season", ok, math.MaxInt, Options{}, ErrTooShort},
		{"NaN", withAt(5, math.NaN()), 12, Options{}, ErrInvalidValue},
		{"+Inf", withAt(0, math.Inf(1)), 12, Options{}, ErrInvalidValue},
		{"-Inf", withAt(47, math.Inf(-1)), 12, Options{}, ErrInvalidValue},
		{"huge", withAt(47, -2*MaxAbs), 12, Options{}, ErrInvalidValue},
		{"alpha above 1", ok, 12, bad(Params{Alpha: 1.5}), ErrInvalidParams},
		{"beta negative", ok, 12, bad(Params{Alpha: 0.5, Beta: -0.1}), ErrInvalidParams},
		{"gamma above 1 - alpha", ok, 12, bad(Params{Alpha: 0.5, Gamma: 0.6}), ErrInvalidParams},
		{"phi above 1", ok, 12, bad(Params{Alpha: 0.5, Phi: 1.1}), ErrInvalidParams},
		{"phi negative", ok, 12, bad(Params{Alpha: 0.5, Phi: -0.5}), ErrInvalidParams},
		{"NaN parameter", ok, 12, bad(Params{Alpha: math.NaN()}), ErrInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := Fit(tc.y, tc.season, tc.opt); m != nil || !errors.Is(err, tc.want) {
				t.Errorf("Fit: %v, %v; want %v", m, err, tc.want)
			}
		})
	}
	model, err := Fit(ok, 12, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		h     int
		level float64
	}{{0, 0.9}, {-1, 0.9}, {MaxHorizon + 1, 0.9}, {1, 0}, {1, 1}, {1, -0.5}, {1, math.NaN()}, {1, math.Inf(1)}} {
		if pts, err := model.Forecast(a.h, a.level); pts != nil || !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Forecast(%d, %v): %v", a.h, a.level, err)
		}
	}
}

// The grid search finds at least as good a fit as any grid point, and is deterministic.
func TestFitBeatsGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	y := etsSeries(rng, 24*6, 24, Params{Alpha: 0.35, Beta: 0.15, Gamma: 0.12, Phi: 1}, 3)
	model, err := Fit(y, 24, Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Fit(y, 24, Options{})
	if again.Params() != model.Params() || again.Sigma() != model.Sigma() {
		t.Errorf("two fits differ: %+v, %+v", model.Params(), again.Params())
	}
	for _, a := range []float64{0.05, 0.2, 0.35, 0.5, 0.9} {
		for _, b := range []float64{0, 0.1, 0.3} {
			for _, g := range []float64{0, 0.1, 0.05} {
				p := Params{Alpha: a, Beta: b, Gamma: g, Phi: 1}
				other, err := Fit(y, 24, Options{Params: &p})
				if err != nil {
					t.Fatal(err)
				}
				if other.Sigma() < model.Sigma() {
					t.Errorf("%+v fits better (σ %v) than the fitted %+v (σ %v)", p, other.Sigma(), model.Params(), model.Sigma())
				}
			}
		}
	}
	t.Logf("fitted %+v, sigma %.3f (true 3)", model.Params(), model.Sigma())
}
