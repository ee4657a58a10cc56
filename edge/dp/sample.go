package dp

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

var (
	// ErrInvalidParameter reports a sampler parameter outside its domain,
	// such as a zero denominator.
	ErrInvalidParameter = errors.New("dp: invalid sampler parameter")
	// ErrOverflow reports an integer result that does not fit its type.
	ErrOverflow = errors.New("dp: integer overflow")
	// ErrStalled reports that a sampler used up its draw limit. With a
	// uniform source this has probability far below 2^-1000; in practice it
	// means the source is stuck.
	ErrStalled = errors.New("dp: sampler exceeded its draw limit (randomness source stuck?)")
)

// maxDraws bounds the words one public sampling call may take from its
// source. The expected number is below 40 for every parameter.
const maxDraws = 1 << 16

// draws is a source with a budget of words, shared by the nested samplers
// of one public call.
type draws struct {
	src  Source
	left int
}

func newDraws(src Source) (*draws, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: nil source", ErrInvalidParameter)
	}
	return &draws{src: src, left: maxDraws}, nil
}

func (d *draws) word() (uint64, error) {
	if d.left == 0 {
		return 0, ErrStalled
	}
	d.left--
	w, err := d.src.Uint64()
	if err != nil {
		if !errors.Is(err, ErrRandomness) {
			err = fmt.Errorf("%w: %w", ErrRandomness, err)
		}
		return 0, err
	}
	return w, nil
}

// uniform returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method: the rejection step removes the modulo bias.
func (d *draws) uniform(n uint64) (uint64, error) {
	w, err := d.word()
	if err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(w, n)
	if lo < n {
		threshold := -n % n // 2^64 mod n
		for lo < threshold {
			if w, err = d.word(); err != nil {
				return 0, err
			}
			hi, lo = bits.Mul64(w, n)
		}
	}
	return hi, nil
}

// bernoulli returns true with probability num/den, 0 ≤ num ≤ den, den > 0.
func (d *draws) bernoulli(num, den uint64) (bool, error) {
	switch {
	case num == 0:
		return false, nil
	case num >= den:
		return true, nil
	}
	u, err := d.uniform(den)
	return u < num, err
}

// bernoulliExp01 returns true with probability exp(−num/den) for
// 0 ≤ num ≤ den (CKS20 Algorithm 1, case γ ∈ [0,1]).
func (d *draws) bernoulliExp01(num, den uint64) (bool, error) {
	k := uint64(1)
	for {
		// Bernoulli(γ/k) = Bernoulli(num/den) · Bernoulli(1/k).
		a, err := d.bernoulli(num, den)
		if err != nil {
			return false, err
		}
		if a {
			if a, err = d.bernoulli(1, k); err != nil {
				return false, err
			}
		}
		if !a {
			return k%2 == 1, nil
		}
		k++
	}
}

// bernoulliExp returns true with probability exp(−num/den), den > 0
// (CKS20 Algorithm 1).
func (d *draws) bernoulliExp(num, den uint64) (bool, error) {
	if num <= den {
		return d.bernoulliExp01(num, den)
	}
	for i := num / den; i > 0; i-- {
		b, err := d.bernoulliExp01(1, 1)
		if err != nil || !b {
			return false, err
		}
	}
	return d.bernoulliExp01(num%den, den)
}

// discreteLaplace implements CKS20 Algorithm 2 for s, t > 0.
func (d *draws) discreteLaplace(s, t uint64) (int64, error) {
	g := gcd(s, t)
	s, t = s/g, t/g
	for {
		u, err := d.uniform(t)
		if err != nil {
			return 0, err
		}
		ok, err := d.bernoulliExp(u, t)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		var v uint64
		for {
			a, err := d.bernoulliExp01(1, 1)
			if err != nil {
				return 0, err
			}
			if !a {
				break
			}
			v++
		}
		// y = ⌊(u + t·v)/s⌋ in 128 bits.
		hi, lo := bits.Mul64(t, v)
		var c uint64
		lo, c = bits.Add64(lo, u, 0)
		hi += c // t·v + u < 2^128 since u < t
		if hi >= s {
			return 0, fmt.Errorf("%w: discrete Laplace draw exceeds 64 bits", ErrOverflow)
		}
		y, _ := bits.Div64(hi, lo, s)
		negative, err := d.bernoulli(1, 2)
		if err != nil {
			return 0, err
		}
		if negative && y == 0 {
			continue
		}
		if y > math.MaxInt64 {
			return 0, fmt.Errorf("%w: discrete Laplace draw exceeds int64", ErrOverflow)
		}
		if negative {
			return -int64(y), nil
		}
		return int64(y), nil
	}
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Uniform returns a uniformly distributed integer in [0, n) drawn from src,
// using rejection so that there is no modulo bias. n must be positive.
func Uniform(src Source, n uint64) (uint64, error) {
	if n == 0 {
		return 0, fmt.Errorf("%w: Uniform(0)", ErrInvalidParameter)
	}
	d, err := newDraws(src)
	if err != nil {
		return 0, err
	}
	return d.uniform(n)
}

// Bernoulli returns true with probability num/den. It requires den > 0 and
// num ≤ den.
func Bernoulli(src Source, num, den uint64) (bool, error) {
	if den == 0 || num > den {
		return false, fmt.Errorf("%w: Bernoulli(%d/%d)", ErrInvalidParameter, num, den)
	}
	d, err := newDraws(src)
	if err != nil {
		return false, err
	}
	return d.bernoulli(num, den)
}

// BernoulliExp returns true with probability exp(−num/den), exactly, using
// only integer arithmetic (CKS20 Algorithm 1). It requires den > 0.
func BernoulliExp(src Source, num, den uint64) (bool, error) {
	if den == 0 {
		return false, fmt.Errorf("%w: BernoulliExp(%d/%d)", ErrInvalidParameter, num, den)
	}
	d, err := newDraws(src)
	if err != nil {
		return false, err
	}
	return d.bernoulliExp(num, den)
}

// DiscreteLaplace returns an exact sample Z with P[Z=z] ∝ exp(−|z|·s/t),
// the discrete Laplace distribution with scale t/s (CKS20 Algorithm 2).
// s and t must be positive. It returns [ErrOverflow] when the sample does
// not fit an int64 (only possible for scales near 2^63), [ErrRandomness]
// when src fails and [ErrStalled] when src appears stuck.
func DiscreteLaplace(src Source, s, t uint64) (int64, error) {
	if s == 0 || t == 0 {
		return 0, fmt.Errorf("%w: DiscreteLaplace(s=%d, t=%d)", ErrInvalidParameter, s, t)
	}
	d, err := newDraws(src)
	if err != nil {
		return 0, err
	}
	return d.discreteLaplace(s, t)
}
