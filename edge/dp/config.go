package dp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/bits"
)

// ErrInvalidConfig reports a metric or window configuration that fails
// validation. The wrapping error says which field and why.
var ErrInvalidConfig = errors.New("dp: invalid config")

// Algo names an aggregation algorithm.
type Algo string

// The supported algorithms.
const (
	AlgoCount Algo = "DP-Count"
	AlgoSum   Algo = "DP-Sum"
	AlgoMean  Algo = "DP-Mean"
)

// Limits enforced by [MetricConfig.Validate].
const (
	// MaxMetricEpsilon is the largest ε one metric may spend per window.
	// Beyond ε = 20 the likelihood ratio e^ε exceeds 4·10^8 and the
	// "protection" is meaningless.
	MaxMetricEpsilon Epsilon = 20 * MicroPerEpsilon
	// MaxAbsBound bounds |lower| and |upper| (2^53, so bounds survive any
	// JSON tooling exactly).
	MaxAbsBound = 1 << 53
	// MaxNoiseScale bounds the discrete Laplace scale Δ/ε, so that noise
	// never comes near the int64 range.
	MaxNoiseScale = 1 << 48
)

// MechanismDiscreteLaplace is the mechanism name stated in releases.
const MechanismDiscreteLaplace = "dlap-cks20"

// MetricConfig configures one DP metric, for example
//
//	{"name": "bytes", "algo": "DP-Sum", "epsilon": 1.0, "bounds": [0, 100]}
//
// Zero values of the optional fields take their documented defaults.
type MetricConfig struct {
	// Name identifies the metric in releases.
	Name string `json:"name"`
	// Algo is DP-Count, DP-Sum or DP-Mean.
	Algo Algo `json:"algo"`
	// Epsilon is spent per window, 0 < ε ≤ MaxMetricEpsilon.
	Epsilon Epsilon `json:"epsilon"`
	// Bounds is [lower, upper] with lower < upper, for DP-Sum (a unit's
	// total per partition) and DP-Mean (each record). DP-Count takes none.
	Bounds []int64 `json:"bounds,omitempty"`
	// MaxPartitions is L0, the number of partitions one unit may touch per
	// window. Default 1.
	MaxPartitions int64 `json:"max_partitions,omitempty"`
	// MaxContributionsPerPartition is L∞ for DP-Count: the records one unit
	// may add to one partition. Default 1 (count distinct units). DP-Sum
	// and DP-Mean derive L∞ from Bounds and must leave it zero.
	MaxContributionsPerPartition int64 `json:"max_contributions_per_partition,omitempty"`
	// Scale is the fixed-point scale of the values (a value v means
	// v/Scale), stated in releases. Default 1.
	Scale int64 `json:"scale,omitempty"`
}

// Noise describes one noisy quantity of a release: discrete Laplace with
// P[Z=z] ∝ exp(−|z|·S/T), calibrated to ε-DP for the given sensitivity.
type Noise struct {
	Quantity    string  `json:"quantity"`
	Epsilon     Epsilon `json:"epsilon"`
	Sensitivity int64   `json:"sensitivity"`
	S           uint64  `json:"s"`
	T           uint64  `json:"t"`
}

// plan is a validated metric with its defaults filled in and its noise
// calibrated.
type plan struct {
	cfg          MetricConfig
	l0, linf     int64
	lower, upper int64
	mid          int64 // DP-Mean centre
	noise        []Noise
}

// Validate reports whether c is a usable metric configuration. Errors wrap
// [ErrInvalidConfig] and name the offending field.
func (c MetricConfig) Validate() error {
	_, err := c.plan()
	return err
}

func (c MetricConfig) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: metric %q: %s", ErrInvalidConfig, c.Name, fmt.Sprintf(format, args...))
}

func (c MetricConfig) plan() (plan, error) {
	if c.Name == "" {
		return plan{}, c.errorf("name is empty")
	}
	switch c.Algo {
	case AlgoCount, AlgoSum, AlgoMean:
	default:
		return plan{}, c.errorf("unknown algo %q (want %s, %s or %s)", c.Algo, AlgoCount, AlgoSum, AlgoMean)
	}
	switch {
	case c.Epsilon <= 0:
		return plan{}, c.errorf("epsilon must be greater than 0 (got %s)", c.Epsilon)
	case c.Epsilon > MaxMetricEpsilon:
		return plan{}, c.errorf("epsilon %s is absurd (more than %s)", c.Epsilon, MaxMetricEpsilon)
	case c.Algo == AlgoMean && c.Epsilon < 2:
		return plan{}, c.errorf("DP-Mean splits epsilon in two and needs at least 0.000002")
	}
	switch {
	case c.MaxPartitions < 0:
		return plan{}, c.errorf("max_partitions must be positive (got %d)", c.MaxPartitions)
	case c.MaxPartitions == 0:
		c.MaxPartitions = 1
	}
	switch {
	case c.Scale < 0:
		return plan{}, c.errorf("scale must be positive (got %d)", c.Scale)
	case c.Scale == 0:
		c.Scale = 1
	}
	p := plan{l0: c.MaxPartitions}
	if c.Algo == AlgoCount {
		if len(c.Bounds) != 0 {
			return plan{}, c.errorf("DP-Count takes no bounds (use max_contributions_per_partition)")
		}
		switch {
		case c.MaxContributionsPerPartition < 0:
			return plan{}, c.errorf("max_contributions_per_partition must be positive (got %d)", c.MaxContributionsPerPartition)
		case c.MaxContributionsPerPartition == 0:
			c.MaxContributionsPerPartition = 1
		}
		p.linf = c.MaxContributionsPerPartition
	} else {
		if c.MaxContributionsPerPartition != 0 {
			return plan{}, c.errorf("%s derives L∞ from bounds; max_contributions_per_partition must be unset", c.Algo)
		}
		if len(c.Bounds) != 2 {
			return plan{}, c.errorf("%s needs bounds [lower, upper] (got %d values)", c.Algo, len(c.Bounds))
		}
		p.lower, p.upper = c.Bounds[0], c.Bounds[1]
		switch {
		case p.lower > p.upper:
			return plan{}, c.errorf("bounds reversed: lower %d > upper %d", p.lower, p.upper)
		case p.lower == p.upper:
			return plan{}, c.errorf("bounds [%d, %d] are empty: need lower < upper", p.lower, p.upper)
		case p.lower < -MaxAbsBound || p.upper > MaxAbsBound:
			return plan{}, c.errorf("bounds [%d, %d] exceed ±2^53", p.lower, p.upper)
		}
		p.linf = max(abs(p.lower), abs(p.upper))
	}
	c.Bounds = append([]int64(nil), c.Bounds...)
	p.cfg = c

	var err error
	switch c.Algo {
	case AlgoCount:
		err = p.addNoise("count", c.Epsilon, p.l0, p.linf)
	case AlgoSum:
		err = p.addNoise("sum", c.Epsilon, p.l0, p.linf)
	case AlgoMean:
		span := p.upper - p.lower // ≤ 2^54, no overflow
		p.mid = p.lower + span/2
		half := span - span/2 // ⌈span/2⌉ bounds |v − mid|
		countEps := c.Epsilon / 2
		if err = p.addNoise("count", countEps, p.l0, 1); err == nil {
			err = p.addNoise("sum", c.Epsilon-countEps, p.l0, half)
		}
	}
	if err != nil {
		return plan{}, err
	}
	return p, nil
}

// addNoise calibrates discrete Laplace noise for eps-DP at sensitivity
// l0·linf: s = m, t = Δ·10^6, reduced by their gcd.
func (p *plan) addNoise(quantity string, eps Epsilon, l0, linf int64) error {
	hi, sens := bits.Mul64(uint64(l0), uint64(linf))
	if hi != 0 || sens > math.MaxInt64 {
		return p.cfg.errorf("sensitivity L0·L∞ = %d·%d overflows", l0, linf)
	}
	hi, t := bits.Mul64(sens, MicroPerEpsilon)
	if hi != 0 {
		return p.cfg.errorf("sensitivity %d is too large", sens)
	}
	s := uint64(eps)
	// Scale t/s must not exceed MaxNoiseScale: t ≤ MaxNoiseScale·s.
	if hi, lo := bits.Mul64(MaxNoiseScale, s); hi == 0 && t > lo {
		return p.cfg.errorf("noise scale Δ/ε = %d/%s exceeds 2^48", sens, eps)
	}
	g := gcd(s, t)
	p.noise = append(p.noise, Noise{Quantity: quantity, Epsilon: eps, Sensitivity: int64(sens), S: s / g, T: t / g})
	return nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Hash returns the hex SHA-256 of a canonical encoding of c with its
// defaults filled in, or an error if c is invalid. Equal configurations
// hash equally however they were written.
func (c MetricConfig) Hash() (string, error) {
	p, err := c.plan()
	if err != nil {
		return "", err
	}
	return p.hash(), nil
}

func (p plan) hash() string {
	h := newCanon("sectwin/dp/metric/v1")
	h.str(p.cfg.Name)
	h.str(string(p.cfg.Algo))
	h.int(int64(p.cfg.Epsilon))
	h.int(p.lower)
	h.int(p.upper)
	h.int(p.l0)
	h.int(p.linf)
	h.int(p.cfg.Scale)
	return h.sum()
}

// canon is an unambiguous encoding fed to SHA-256: every string is length
// prefixed and every integer is 8 bytes big-endian.
type canon struct{ h hash.Hash }

func newCanon(domain string) canon {
	c := canon{h: sha256.New()}
	c.str(domain)
	return c
}

func (c canon) str(s string) {
	c.int(int64(len(s)))
	c.h.Write([]byte(s))
}

func (c canon) int(v int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	c.h.Write(b[:])
}

func (c canon) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }
