package anomaly

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// t0 is a Monday 00:00 UTC.
var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// refRate recomputes every result of a series from scratch, without the recurrences: each mean
// and each mean absolute deviation is an explicit weighted sum over every value folded in so
// far, with weights w_j·Π_{l>j}(1 − w_l), w_j = max(α, 1/j). O(n²): for small series only.
func refRate(t *testing.T, opt RateOptions, times []time.Time, values []float64, sens float64) []Result {
	t.Helper()
	o, err := opt.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	alpha := 1 - math.Pow(2, -1/o.HalfLife)
	alphaSlot := alpha
	if o.Seasonal {
		alphaSlot = 1 - math.Pow(2, -1/o.SeasonalHalfLife)
	}
	// ewSum is Σ_j v_j w_j Π_{l>j}(1 − w_l) over the whole list.
	ewSum := func(vs []float64, a float64) float64 {
		var s float64
		for j := range vs {
			w := math.Max(a, 1/float64(j+1))
			for l := j + 1; l < len(vs); l++ {
				w *= 1 - math.Max(a, 1/float64(l+1))
			}
			s += w * vs[j]
		}
		return s
	}
	folded := map[int][]float64{} // per slot: the (winsorised) values folded into its mean
	var absResid []float64        // every (winsorised) |residual|, in order
	var last time.Time
	seen := false
	out := make([]Result, len(values))
	for i, x := range values {
		tt := times[i]
		if math.IsNaN(x) || x < 0 || x > MaxValue || (seen && tt.Before(last)) {
			out[i] = Result{Slot: -2} // marks a rejected observation
			continue
		}
		seen, last = true, tt
		slot := 0
		res := Result{Time: tt, Value: x, Slot: -1, Threshold: o.Threshold / sens, Label: o.Label}
		if o.Seasonal {
			slot = int(tt.In(o.Location).Weekday())*24 + tt.In(o.Location).Hour()
			res.Slot = slot
		}
		if len(folded[slot]) == 0 {
			folded[slot] = append(folded[slot], x)
			out[i] = res
			continue
		}
		m := ewSum(folded[slot], alphaSlot)
		d := ewSum(absResid, alpha)
		scale := math.Max(math.Sqrt(math.Pi/2)*d, o.MinScale)
		if o.Poisson && m > 0 {
			scale = math.Max(scale, math.Sqrt(m))
		}
		z := (x - m) / scale
		res.Expected, res.Scale, res.HasExpected, res.Z = m, scale, true, z
		switch o.Direction {
		case Both:
			res.Score = math.Abs(z)
		case Above:
			res.Score = math.Max(z, 0)
		case Below:
			res.Score = math.Max(-z, 0)
		}
		res.Warm = len(absResid) >= o.Warmup
		res.Anomalous = res.Warm && res.Score >= res.Threshold
		r := x - m
		if res.Warm && !math.IsInf(o.Clip, 1) {
			r = math.Max(-o.Clip*scale, math.Min(o.Clip*scale, r))
		}
		folded[slot] = append(folded[slot], m+r)
		absResid = append(absResid, math.Abs(r))
		out[i] = res
	}
	return out
}

func approx(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestRateMatchesBruteForce(t *testing.T) {
	// A noisy series with spikes, drops, invalid values and a step back in time.
	rng := rand.New(rand.NewPCG(1, 2))
	var times []time.Time
	var values []float64
	at := t0
	for i := range 400 {
		at = at.Add(37 * time.Minute)
		x := 50 + 10*rng.NormFloat64()
		switch {
		case i%97 == 50:
			x = 400
		case i%89 == 40:
			x = 0
		case i == 123:
			x = math.NaN()
		case i == 124:
			x = -3
		}
		x = math.Max(x, 0)
		if i == 200 {
			times = append(times, at.Add(-2*time.Hour)) // out of order
		} else {
			times = append(times, at)
		}
		values = append(values, x)
	}
	values[124] = -3
	tests := []struct {
		name string
		opt  RateOptions
		sens float64
	}{
		{"defaults", RateOptions{}, 1},
		{"short half-life", RateOptions{HalfLife: 5, Warmup: 3}, 1},
		{"poisson above", RateOptions{Poisson: true, Direction: Above, HalfLife: 20}, 2},
		{"below no clip", RateOptions{Direction: Below, Clip: math.Inf(1), HalfLife: 10}, 1.5},
		{"clip 1 min scale 0.1", RateOptions{Clip: 1, MinScale: 0.1, HalfLife: 8, Warmup: 1}, 1},
		{"seasonal", RateOptions{Seasonal: true, Warmup: 5, SeasonalHalfLife: 2}, 1},
		{"seasonal zone", RateOptions{Seasonal: true, Location: time.FixedZone("UTC+5:30", 5*3600+1800), Poisson: true}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := refRate(t, tc.opt, times, values, tc.sens)
			r, err := NewRate(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			anomalies := 0
			for i := range values {
				got, err := r.Observe(times[i], values[i], tc.sens)
				w := want[i]
				if w.Slot == -2 {
					if err == nil {
						t.Fatalf("obs %d (%v at %v): accepted, want rejected", i, values[i], times[i])
					}
					continue
				}
				if err != nil {
					t.Fatalf("obs %d: %v", i, err)
				}
				if got.HasExpected != w.HasExpected || got.Warm != w.Warm || got.Anomalous != w.Anomalous ||
					got.Slot != w.Slot || !approx(got.Expected, w.Expected) || !approx(got.Scale, w.Scale) ||
					!approx(got.Z, w.Z) || !approx(got.Score, w.Score) || got.Threshold != w.Threshold {
					t.Fatalf("obs %d:\n got %+v\nwant %+v", i, got, w)
				}
				if got.Anomalous {
					anomalies++
				}
			}
			if anomalies == 0 {
				t.Errorf("no anomaly in a series with spikes: the comparison exercised too little")
			}
		})
	}
}

// feed observes values at 5-minute steps from t0 and returns the results.
func feed(t *testing.T, r *Rate, values []float64, sens float64) []Result {
	t.Helper()
	out := make([]Result, len(values))
	for i, v := range values {
		res, err := r.Observe(t0.Add(time.Duration(i)*5*time.Minute), v, sens)
		if err != nil {
			t.Fatalf("obs %d: %v", i, err)
		}
		out[i] = res
	}
	return out
}

func repeat(v float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestRateKnownSeries(t *testing.T) {
	constThen := func(spike float64) []float64 { return append(repeat(10, 50), spike) }
	drift := make([]float64, 600) // 100 → 250 over 600 buckets, ±2 of noise
	for i := range drift {
		drift[i] = 100 + 0.25*float64(i) + 2*float64(i%3-1)
	}
	early := append(repeat(10, 5), 500)
	tests := []struct {
		name      string
		opt       RateOptions
		values    []float64
		sens      float64
		anomalous []int // indexes flagged, exactly
		explain   map[int]string
	}{
		{
			name: "constant then spike", opt: RateOptions{Poisson: true, Label: "flows in 5m"},
			values: constThen(42), sens: 1, anomalous: []int{50},
			explain: map[int]string{50: "42 flows in 5m, expected 10±3.2 (z=10.1)"},
		},
		{
			name: "constant then small rise", opt: RateOptions{Poisson: true},
			values: constThen(20), sens: 1, anomalous: nil, // z = 3.2 < 4
		},
		{
			name: "small rise on a critical asset", opt: RateOptions{Poisson: true},
			values: constThen(20), sens: 2, anomalous: []int{50}, // threshold 2
		},
		{
			name: "drop, both directions", opt: RateOptions{Poisson: true},
			values: append(repeat(30, 50), 0), sens: 1, anomalous: []int{50}, // z = -5.5
		},
		{
			name: "drop, spikes only", opt: RateOptions{Poisson: true, Direction: Above},
			values: append(repeat(30, 50), 0), sens: 1, anomalous: nil,
		},
		{
			name: "drop, drops only", opt: RateOptions{Poisson: true, Direction: Below},
			values: append(repeat(30, 50), 0), sens: 1, anomalous: []int{50},
		},
		{
			name: "spike, drops only", opt: RateOptions{Poisson: true, Direction: Below},
			values: constThen(42), sens: 1, anomalous: nil,
		},
		{
			name: "slow drift", opt: RateOptions{HalfLife: 30},
			values: drift, sens: 1, anomalous: nil,
		},
		{
			name: "spike during warm-up", opt: RateOptions{Warmup: 10},
			values: early, sens: 1, anomalous: nil,
			explain: map[int]string{5: "500, expected 10±1 (z=490.0); baseline still warming up", 0: "10: first observation"},
		},
		{
			name: "min scale without poisson", opt: RateOptions{},
			values: constThen(15), sens: 1, anomalous: []int{50}, // scale floor 1: z = 5
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRate(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			res := feed(t, r, tc.values, tc.sens)
			var got []int
			for i, x := range res {
				if x.Anomalous {
					got = append(got, i)
				}
				if x.Anomalous && !x.Warm {
					t.Errorf("obs %d anomalous before warm-up", i)
				}
			}
			if !equalInts(got, tc.anomalous) {
				t.Errorf("anomalous at %v, want %v", got, tc.anomalous)
			}
			for i, want := range tc.explain {
				if e := res[i].Explanation(); e != want {
					t.Errorf("obs %d explanation %q, want %q", i, e, want)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A spike moves a warm baseline by at most α·Clip·scale, so the bucket after it is judged
// against nearly the old baseline, and a second spike right after is flagged too.
func TestRateSpikeBarelyMovesBaseline(t *testing.T) {
	r, err := NewRate(RateOptions{Poisson: true, HalfLife: 10})
	if err != nil {
		t.Fatal(err)
	}
	res := feed(t, r, append(repeat(10, 50), 1000, 1000, 10), 1)
	alpha := 1 - math.Pow(2, -0.1)
	if got, limit := res[51].Expected-10, alpha*3*math.Sqrt(10); got > limit+1e-9 {
		t.Errorf("baseline moved by %v after a spike, limit %v", got, limit)
	}
	if !res[50].Anomalous || !res[51].Anomalous || res[52].Anomalous {
		t.Errorf("anomalous = %v %v %v, want true true false", res[50].Anomalous, res[51].Anomalous, res[52].Anomalous)
	}
}

// A level shift is absorbed: flagged at first, then no longer.
func TestRateLevelShiftAbsorbed(t *testing.T) {
	r, err := NewRate(RateOptions{Poisson: true, HalfLife: 10})
	if err != nil {
		t.Fatal(err)
	}
	res := feed(t, r, append(repeat(10, 50), repeat(40, 100)...), 1)
	if !res[50].Anomalous {
		t.Error("the shift is not flagged")
	}
	for i := 120; i < len(res); i++ {
		if res[i].Anomalous {
			t.Fatalf("obs %d still anomalous 70 buckets after the shift: %s", i, res[i].Explanation())
		}
	}
}

// weekly is an hourly weekly pattern: busy working hours, quiet nights, quieter weekends.
func weekly(at time.Time) float64 {
	h, wd := at.Hour(), at.Weekday()
	switch {
	case wd == time.Saturday || wd == time.Sunday:
		return 10
	case h >= 8 && h < 18:
		return 200
	default:
		return 20
	}
}

func TestRateSeasonal(t *testing.T) {
	const weeks = 6
	offHour := t0.Add(weeks*7*24*time.Hour + (6*24+3)*time.Hour) // week 7, Sunday 03h
	run := func(opt RateOptions) (flagged []time.Time, off Result) {
		r, err := NewRate(opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := range (weeks + 1) * 7 * 24 {
			at := t0.Add(time.Duration(i) * time.Hour)
			v := weekly(at) + float64(i%5-2) // deterministic noise ±2
			if at.Equal(offHour) {
				v = 200 // a working-hours load on a Sunday night
			}
			res, err := r.Observe(at, v, 1)
			if err != nil {
				t.Fatal(err)
			}
			if at.Equal(offHour) {
				off = res
			}
			if res.Anomalous {
				flagged = append(flagged, at)
			}
		}
		return flagged, off
	}

	flagged, off := run(RateOptions{Seasonal: true, Poisson: true, Label: "logins in 1h"})
	if len(flagged) != 1 || !flagged[0].Equal(offHour) {
		t.Errorf("seasonal: flagged %v, want only %v", flagged, offHour)
	}
	if want := "200 logins in 1h, expected 10±"; !strings.HasPrefix(off.Explanation(), want) ||
		!strings.Contains(off.Explanation(), " for Sunday 3h (z=") {
		t.Errorf("explanation %q", off.Explanation())
	}
	// A plain baseline cannot tell: its mean and spread cover the whole week.
	_, off = run(RateOptions{Poisson: true})
	if off.Anomalous {
		t.Errorf("plain: the off-pattern hour is flagged (z=%.1f); the seasonal test is too easy", off.Z)
	}
}

func TestHourOfWeek(t *testing.T) {
	tests := []struct {
		at   time.Time
		loc  *time.Location
		want int
	}{
		{time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), nil, 0},                            // Sunday 0h
		{time.Date(2026, 1, 10, 23, 59, 0, 0, time.UTC), nil, 167},                       // Saturday 23h
		{time.Date(2026, 1, 6, 14, 5, 0, 0, time.UTC), time.UTC, 2*24 + 14},              // Tuesday 14h
		{time.Date(2026, 1, 10, 23, 0, 0, 0, time.UTC), time.FixedZone("+2", 7200), 1},   // Sunday 1h there
		{time.Date(2026, 1, 4, 0, 30, 0, 0, time.UTC), time.FixedZone("-1", -3600), 167}, // Saturday 23h there
	}
	for _, tc := range tests {
		if got := HourOfWeek(tc.at, tc.loc); got != tc.want {
			t.Errorf("HourOfWeek(%v, %v) = %d, want %d", tc.at, tc.loc, got, tc.want)
		}
	}
}

func TestRateBadInput(t *testing.T) {
	base := append(repeat(10, 30), 11, 9, 10)
	tests := []struct {
		name  string
		at    time.Time
		value float64
		want  error
	}{
		{"NaN", t0.Add(time.Hour), math.NaN(), ErrInvalidValue},
		{"+Inf", t0.Add(time.Hour), math.Inf(1), ErrInvalidValue},
		{"-Inf", t0.Add(time.Hour), math.Inf(-1), ErrInvalidValue},
		{"negative", t0.Add(time.Hour), -1, ErrInvalidValue},
		{"above MaxValue", t0.Add(time.Hour), MaxValue * 2, ErrInvalidValue},
		{"time going backwards", t0.Add(-time.Hour), 10, ErrOutOfOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clean, _ := NewRate(RateOptions{Warmup: 5})
			dirty, _ := NewRate(RateOptions{Warmup: 5})
			for i, v := range base {
				at := t0.Add(time.Duration(i) * time.Second)
				a, _ := clean.Observe(at, v, 1)
				if i == 20 {
					if _, err := dirty.Observe(tc.at, tc.value, 1); !errors.Is(err, tc.want) {
						t.Fatalf("error %v, want %v", err, tc.want)
					}
				}
				b, err := dirty.Observe(at, v, 1)
				if err != nil || a != b {
					t.Fatalf("obs %d after the bad one: %+v, %v; want %+v", i, b, err, a)
				}
			}
		})
	}
	// Equal times are accepted; sensitivities that are not finite and positive count as 1.
	r, _ := NewRate(RateOptions{Warmup: 1})
	for _, s := range []float64{1, 0, -2, math.NaN(), math.Inf(1), math.Inf(-1)} {
		res, err := r.Observe(t0, 10, s)
		if err != nil || res.Threshold != 4 {
			t.Errorf("sensitivity %v: threshold %v, %v; want 4, nil", s, res.Threshold, err)
		}
	}
}

func TestRateOptionsInvalid(t *testing.T) {
	for _, opt := range []RateOptions{
		{HalfLife: -1}, {HalfLife: math.NaN()}, {HalfLife: math.Inf(1)},
		{Warmup: -1},
		{Threshold: -1}, {Threshold: math.Inf(1)}, {Threshold: math.NaN()},
		{Clip: 0.5}, {Clip: math.NaN()}, {Clip: -1},
		{MinScale: 1e-12}, {MinScale: -1}, {MinScale: math.NaN()},
		{Direction: 3}, {Direction: -1},
		{SeasonalHalfLife: -2},
	} {
		if _, err := NewRate(opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewRate(%+v): %v, want ErrInvalidOptions", opt, err)
		}
	}
	if _, err := NewRate(RateOptions{Clip: math.Inf(1)}); err != nil {
		t.Errorf("Clip +Inf: %v", err)
	}
}
