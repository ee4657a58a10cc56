package anomaly

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// MaxValue is the largest value Rate accepts (2^53, the largest float64 below which every
// integer is exact); larger values are rejected so scores stay finite.
const MaxValue = 1 << 53

// minScaleFloor is the smallest MinScale accepted: with values ≤ MaxValue it keeps |z| finite.
const minScaleFloor = 1e-9

// kappa turns a mean absolute deviation into a standard deviation for Gaussian noise: √(π/2).
var kappa = math.Sqrt(math.Pi / 2)

// HoursPerWeek is the number of seasonal slots.
const HoursPerWeek = 7 * 24

// Direction says which deviations a Rate scores.
type Direction int

// Directions. Both is the zero value.
const (
	Both  Direction = iota // score |z|: spikes and drops (a drop can be a sensor gone quiet)
	Above                  // score max(z, 0): spikes only
	Below                  // score max(−z, 0): drops only
)

// RateOptions configures a Rate. Zero fields take their defaults.
type RateOptions struct {
	// HalfLife is the half-life of the mean (plain mode) and of the dispersion (both modes), in
	// observations: an observation's weight halves after HalfLife more. Default 60.
	HalfLife float64
	// Warmup is how many residuals the dispersion must have learnt from before anything is
	// flagged: in plain mode the first Warmup+1 observations are never anomalous. Default 20,
	// at least 1.
	Warmup int
	// Threshold is the score at or above which an observation is anomalous at sensitivity 1.
	// Default 4.
	Threshold float64
	// Clip is where warm updates are winsorised, in units of the scale; +Inf turns clipping
	// off. Default 3, at least 1.
	Clip float64
	// MinScale is the floor of the scale, in the units of the values. Default 1 (one event, for
	// counts); set it for rates in other units. At least 1e-9.
	MinScale float64
	// Poisson also floors the scale at √expected, as a count of independent arrivals varies.
	Poisson bool
	// Direction says which deviations score. Default Both.
	Direction Direction
	// Seasonal keeps one mean per hour of the week (see the package doc).
	Seasonal bool
	// SeasonalHalfLife is the half-life of each hour's mean, in observations of that hour (one
	// a week with hourly buckets, twelve with 5-minute buckets). Default 4.
	SeasonalHalfLife float64
	// Location is the time zone of the hour of the week. Default UTC.
	Location *time.Location
	// Label names what is counted, for explanations: "flows in 5m" gives "42 flows in 5m,
	// expected 10±3 …".
	Label string
}

// withDefaults validates o and fills in its defaults.
func (o RateOptions) withDefaults() (RateOptions, error) {
	bad := func(name string, v any) (RateOptions, error) {
		return o, fmt.Errorf("rate option %s = %v: %w", name, v, ErrInvalidOptions)
	}
	switch {
	case o.HalfLife == 0:
		o.HalfLife = 60
	case !(o.HalfLife > 0 && o.HalfLife <= 1e12):
		return bad("HalfLife", o.HalfLife)
	}
	switch {
	case o.Warmup == 0:
		o.Warmup = 20
	case o.Warmup < 0:
		return bad("Warmup", o.Warmup)
	}
	switch {
	case o.Threshold == 0:
		o.Threshold = 4
	case !(o.Threshold > 0 && o.Threshold < math.Inf(1)):
		return bad("Threshold", o.Threshold)
	}
	switch {
	case o.Clip == 0:
		o.Clip = 3
	case !(o.Clip >= 1): // +Inf allowed: no clipping
		return bad("Clip", o.Clip)
	}
	switch {
	case o.MinScale == 0:
		o.MinScale = 1
	case !(o.MinScale >= minScaleFloor && o.MinScale <= MaxValue):
		return bad("MinScale", o.MinScale)
	}
	if o.Direction < Both || o.Direction > Below {
		return bad("Direction", o.Direction)
	}
	switch {
	case o.SeasonalHalfLife == 0:
		o.SeasonalHalfLife = 4
	case !(o.SeasonalHalfLife > 0 && o.SeasonalHalfLife <= 1e12):
		return bad("SeasonalHalfLife", o.SeasonalHalfLife)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o, nil
}

// alphaFor is the EWMA weight whose half-life is h observations: 1 − 2^(−1/h).
func alphaFor(h float64) float64 { return -math.Expm1(-math.Ln2 / h) }

// Rate is a streaming baseline of one entity's per-bucket counts or rates. Its zero value is not
// usable: build it with NewRate. It holds about 200 bytes, plus 2.7 KB in seasonal mode.
type Rate struct {
	opt       RateOptions
	alpha     float64 // dispersion, and mean in plain mode
	alphaSlot float64 // mean in seasonal mode
	mad       float64 // EW mean absolute deviation of the residuals
	residuals uint64  // residuals folded into mad
	last      time.Time
	seen      bool
	slots     []rateSlot // 1 in plain mode, HoursPerWeek in seasonal mode
}

// rateSlot is one baseline mean: the whole series' in plain mode, an hour of the week's in
// seasonal mode.
type rateSlot struct {
	mean float64
	n    uint64 // observations folded in
}

// NewRate returns an empty baseline.
func NewRate(opt RateOptions) (*Rate, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Rate{opt: o, alpha: alphaFor(o.HalfLife), alphaSlot: alphaFor(o.HalfLife)}
	if o.Seasonal {
		r.alphaSlot = alphaFor(o.SeasonalHalfLife)
		r.slots = make([]rateSlot, HoursPerWeek)
	} else {
		r.slots = make([]rateSlot, 1)
	}
	return r, nil
}

// Options returns the options in force, defaults filled in.
func (r *Rate) Options() RateOptions { return r.opt }

// Result is what Rate.Observe says about one observation. Time and Value are the evidence: the
// bucket the caller counted.
type Result struct {
	Time  time.Time
	Value float64
	// Expected and Scale are the baseline's mean and standard deviation before this
	// observation; both are 0 when the baseline had no mean for it yet (HasExpected false).
	Expected    float64
	Scale       float64
	HasExpected bool
	// Z is the signed robust z-score (Value − Expected) / Scale; Score is its part that
	// Direction scores, in [0, +Inf), always finite.
	Z     float64
	Score float64
	// Threshold is the threshold in force for this observation: Threshold / sensitivity.
	Threshold float64
	// Warm tells whether the baseline was past its warm-up; Anomalous is Warm && Score ≥
	// Threshold.
	Warm      bool
	Anomalous bool
	// Slot is the hour of the week (0 = Sunday 0h … 167 = Saturday 23h) in seasonal mode, -1
	// in plain mode.
	Slot  int
	Label string
}

// Observe scores value, the count or rate of the bucket at t, against the baseline, then folds
// it in. sensitivity multiplies the detector's sensitivity (the threshold is divided by it):
// above 1 for weak or critical assets; a sensitivity that is not finite and positive counts as
// 1.
//
// A value that is NaN, infinite, negative or above MaxValue returns ErrInvalidValue, and a t
// before the last accepted one returns ErrOutOfOrder; both leave the baseline unchanged (equal
// times are accepted). Observe allocates nothing.
func (r *Rate) Observe(t time.Time, value, sensitivity float64) (Result, error) {
	if !(value >= 0 && value <= MaxValue) {
		return Result{Time: t, Value: value, Slot: -1}, ErrInvalidValue
	}
	if r.seen && t.Before(r.last) {
		return Result{Time: t, Value: value, Slot: -1}, ErrOutOfOrder
	}
	if !(sensitivity > 0 && sensitivity < math.Inf(1)) {
		sensitivity = 1
	}
	res := Result{Time: t, Value: value, Threshold: r.opt.Threshold / sensitivity, Slot: -1, Label: r.opt.Label}
	slot := &r.slots[0]
	if r.opt.Seasonal {
		res.Slot = HourOfWeek(t, r.opt.Location)
		slot = &r.slots[res.Slot]
	}
	r.seen, r.last = true, t

	if slot.n == 0 {
		slot.mean, slot.n = value, 1
		return res, nil
	}
	m := slot.mean
	scale := max(kappa*r.mad, r.opt.MinScale)
	if r.opt.Poisson && m > 0 {
		scale = max(scale, math.Sqrt(m))
	}
	resid := value - m
	z := resid / scale
	res.Expected, res.Scale, res.HasExpected, res.Z = m, scale, true, z
	switch r.opt.Direction {
	case Both:
		res.Score = math.Abs(z)
	case Above:
		res.Score = max(z, 0)
	case Below:
		res.Score = max(-z, 0)
	}
	res.Warm = r.residuals >= uint64(r.opt.Warmup)
	res.Anomalous = res.Warm && res.Score >= res.Threshold

	if res.Warm {
		c := r.opt.Clip * scale // +Inf when clipping is off
		resid = min(max(resid, -c), c)
	}
	slot.n++
	slot.mean = m + weight(r.alphaSlot, slot.n)*resid
	r.residuals++
	r.mad += weight(r.alpha, r.residuals) * (math.Abs(resid) - r.mad)
	return res, nil
}

// weight is the EWMA weight of the k-th observation: 1/k while that exceeds alpha (a running
// mean while the baseline is young), alpha after.
func weight(alpha float64, k uint64) float64 { return max(alpha, 1/float64(k)) }

// HourOfWeek is t's hour of the week in loc (nil for UTC): 0 for Sunday 0h to 167 for Saturday
// 23h.
func HourOfWeek(t time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return int(t.Weekday())*24 + t.Hour()
}

// Explanation says in plain language what the observation was against what was expected: "42
// flows in 5m, expected 10±3 for Tuesday 14h (z=10.6)". It allocates; call it for the results
// you report.
func (r Result) Explanation() string {
	b := make([]byte, 0, 96)
	b = appendNum(b, r.Value)
	if r.Label != "" {
		b = append(b, ' ')
		b = append(b, r.Label...)
	}
	if !r.HasExpected {
		b = append(b, ": first observation"...)
		b = appendSlot(b, r.Slot)
		return string(b)
	}
	b = append(b, ", expected "...)
	b = appendNum(b, r.Expected)
	b = append(b, "±"...)
	b = appendNum(b, r.Scale)
	b = appendSlot(b, r.Slot)
	b = append(b, " (z="...)
	b = strconv.AppendFloat(b, r.Z, 'f', 1, 64)
	b = append(b, ')')
	if !r.Warm {
		b = append(b, "; baseline still warming up"...)
	}
	return string(b)
}

func appendSlot(b []byte, slot int) []byte {
	if slot < 0 || slot >= HoursPerWeek {
		return b
	}
	b = append(b, " for "...)
	b = append(b, time.Weekday(slot/24).String()...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(slot%24), 10)
	return append(b, 'h')
}

// appendNum appends v with a precision that suits its size: 42, 3.2, 0.47.
func appendNum(b []byte, v float64) []byte {
	a := math.Abs(v)
	prec := 0
	switch {
	case a == math.Trunc(a) || a >= 10:
	case a >= 1:
		prec = 1
	default:
		prec = 2
	}
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}
