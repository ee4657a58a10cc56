package dp

import (
	"errors"
	"fmt"
)

// ErrReleased reports an Add or Release on an aggregator or window that has
// already been released (or whose release failed). Noise is drawn at most
// once per partition and window.
var ErrReleased = errors.New("dp: already released")

type lifecycle uint8

const (
	open lifecycle = iota
	released
)

func planFor(cfg MetricConfig, algo Algo) (plan, error) {
	if cfg.Algo != algo {
		return plan{}, cfg.errorf("algo is %q, not %q", cfg.Algo, algo)
	}
	return cfg.plan()
}

func clampInt(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

// draw returns one noise sample for n, or an error that refuses the release.
func draw(src Source, n Noise) (i128, error) {
	z, err := DiscreteLaplace(src, n.S, n.T)
	if err != nil {
		return i128{}, fmt.Errorf("dp: %s noise: release refused: %w", n.Quantity, err)
	}
	return i128From(z), nil
}

// noisy returns total+z saturated to int64 (post-processing).
func noisy(total, z i128) i128 {
	r, ok := total.add(z)
	if !ok { // unreachable for |total| < 2^127; saturate towards total's sign
		if total.negative() {
			return i128From(-1 << 63)
		}
		return i128From(1<<63 - 1)
	}
	return r
}

// contribution is one unit's bounded input to one partition in a [Window].
type contribution struct {
	records int64 // saturating
	sum     i128  // DP-Sum: raw values; DP-Mean: values clamped per record
}

// partitionAgg is what a [Window] needs from an aggregator.
type partitionAgg interface {
	addUnit(c *contribution) error
	release(src Source) (PartitionValue, error)
}

// Count is a DP-Count over one partition and window. Each Add is one
// unit's record count, clamped to [0, L∞]; the noise has sensitivity
// L0·L∞. It is not safe for concurrent use.
type Count struct {
	p     plan
	total i128
	state lifecycle
}

// NewCount returns an open DP-Count for cfg, whose Algo must be DP-Count.
func NewCount(cfg MetricConfig) (*Count, error) {
	p, err := planFor(cfg, AlgoCount)
	if err != nil {
		return nil, err
	}
	return &Count{p: p}, nil
}

// Add adds one unit's number of records, clamped to [0, L∞]. The caller
// must call it at most once per unit and bound each unit to L0 partitions;
// [Window] does both.
func (c *Count) Add(records int64) error {
	if c.state != open {
		return ErrReleased
	}
	t, ok := c.total.add(i128From(clampInt(records, 0, c.p.linf)))
	if !ok {
		return fmt.Errorf("dp: count: %w", ErrOverflow)
	}
	c.total = t
	return nil
}

func (c *Count) addUnit(u *contribution) error { return c.Add(u.records) }

// Release draws the noise, once, and returns the noisy count. It may be
// negative; clamping it is the consumer's post-processing. Any error
// refuses the release and leaves the aggregator released.
func (c *Count) Release(src Source) (int64, error) {
	if c.state != open {
		return 0, ErrReleased
	}
	c.state = released
	z, err := draw(src, c.p.noise[0])
	if err != nil {
		return 0, err
	}
	return noisy(c.total, z).sat(), nil
}

func (c *Count) release(src Source) (PartitionValue, error) {
	v, err := c.Release(src)
	return PartitionValue{Value: v}, err
}

// Sum is a DP-Sum over one partition and window. Each Add is one unit's
// total in the partition, clamped to [lower, upper]; the noise has
// sensitivity L0·max(|lower|, |upper|). It is not safe for concurrent use.
type Sum struct {
	p     plan
	total i128
	state lifecycle
}

// NewSum returns an open DP-Sum for cfg, whose Algo must be DP-Sum.
func NewSum(cfg MetricConfig) (*Sum, error) {
	p, err := planFor(cfg, AlgoSum)
	if err != nil {
		return nil, err
	}
	return &Sum{p: p}, nil
}

// Add adds one unit's total, clamped to [lower, upper]. The caller must
// call it at most once per unit and bound each unit to L0 partitions;
// [Window] does both.
func (s *Sum) Add(total int64) error { return s.add(i128From(total)) }

func (s *Sum) add(total i128) error {
	if s.state != open {
		return ErrReleased
	}
	t, ok := s.total.add(i128From(total.clamp(s.p.lower, s.p.upper)))
	if !ok {
		return fmt.Errorf("dp: sum: %w", ErrOverflow)
	}
	s.total = t
	return nil
}

func (s *Sum) addUnit(u *contribution) error { return s.add(u.sum) }

// Release draws the noise, once, and returns the noisy sum saturated to
// int64. Any error refuses the release and leaves the aggregator released.
func (s *Sum) Release(src Source) (int64, error) {
	if s.state != open {
		return 0, ErrReleased
	}
	s.state = released
	z, err := draw(src, s.p.noise[0])
	if err != nil {
		return 0, err
	}
	return noisy(s.total, z).sat(), nil
}

func (s *Sum) release(src Source) (PartitionValue, error) {
	v, err := s.Release(src)
	return PartitionValue{Value: v}, err
}

// Mean is a DP-Mean over one partition and window: the mean over units of
// each unit's value, released as mid + S/max(C, 1) clamped to
// [lower, upper], where S is the noisy sum of (value − mid) with ε−⌊ε/2⌋
// and C the noisy unit count with ⌊ε/2⌋. It is not safe for concurrent use.
type Mean struct {
	p     plan
	sum   i128 // Σ (value − mid)
	units i128
	state lifecycle
}

// MeanValue is a released DP-Mean.
type MeanValue struct {
	// Mean is the noisy mean, clamped to [lower, upper].
	Mean int64
	// Units is the noisy number of contributing units (it may be ≤ 0).
	Units int64
}

// NewMean returns an open DP-Mean for cfg, whose Algo must be DP-Mean.
func NewMean(cfg MetricConfig) (*Mean, error) {
	p, err := planFor(cfg, AlgoMean)
	if err != nil {
		return nil, err
	}
	return &Mean{p: p}, nil
}

// Add adds one unit's value, clamped to [lower, upper]. The caller must
// call it at most once per unit and bound each unit to L0 partitions;
// [Window] does both, using the mean of the unit's clamped records.
func (m *Mean) Add(value int64) error {
	if m.state != open {
		return ErrReleased
	}
	v := clampInt(value, m.p.lower, m.p.upper) - m.p.mid // |v| ≤ 2^54
	sum, ok1 := m.sum.add(i128From(v))
	units, ok2 := m.units.add(i128From(1))
	if !ok1 || !ok2 {
		return fmt.Errorf("dp: mean: %w", ErrOverflow)
	}
	m.sum, m.units = sum, units
	return nil
}

func (m *Mean) addUnit(u *contribution) error {
	if u.records <= 0 {
		return nil
	}
	return m.Add(u.sum.divRound(u.records))
}

// Release draws both noises, once, and returns the noisy mean and unit
// count. Any error refuses the release and leaves the aggregator released.
func (m *Mean) Release(src Source) (MeanValue, error) {
	if m.state != open {
		return MeanValue{}, ErrReleased
	}
	m.state = released
	zc, err := draw(src, m.p.noise[0])
	if err != nil {
		return MeanValue{}, err
	}
	zs, err := draw(src, m.p.noise[1])
	if err != nil {
		return MeanValue{}, err
	}
	units := noisy(m.units, zc).sat()
	q := noisy(m.sum, zs).divRound(max(units, 1))
	mean, _ := i128From(m.p.mid).add(i128From(q))
	return MeanValue{Mean: mean.clamp(m.p.lower, m.p.upper), Units: units}, nil
}

func (m *Mean) release(src Source) (PartitionValue, error) {
	v, err := m.Release(src)
	return PartitionValue{Value: v.Mean, Units: v.Units}, err
}
