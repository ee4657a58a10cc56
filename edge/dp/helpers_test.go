package dp

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// seeded is the deterministic Source of these tests: ChaCha8 from a fixed
// seed, so every statistical test is reproducible.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed uint64) *seeded {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return &seeded{r: rand.NewChaCha8(s)}
}

func (s *seeded) Uint64() (uint64, error) { return s.r.Uint64(), nil }

var errBroken = errors.New("entropy device unplugged")

// failing is a Source that works for ok words and then fails.
type failing struct {
	ok  int
	src Source
}

func (f *failing) Uint64() (uint64, error) {
	if f.ok <= 0 {
		return 0, errBroken
	}
	f.ok--
	return f.src.Uint64()
}

// constant is a stuck Source.
type constant uint64

func (c constant) Uint64() (uint64, error) { return uint64(c), nil }

// gammaQ is the regularized upper incomplete gamma function Q(a, x), by
// its series for x < a+1 and Lentz's continued fraction otherwise.
func gammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	front := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1.0; n < 10000; n++ {
			term *= x / (a + n)
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-16 {
				break
			}
		}
		return 1 - front*sum
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1.0; i < 10000; i++ {
		an := -i * (i - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return front * h
}

// chiSquareCritical returns x with P[χ²(df) > x] = p, by bisection on
// Q(df/2, x/2), which is decreasing in x.
func chiSquareCritical(df int, p float64) float64 {
	lo, hi := 0.0, float64(df)+100*math.Sqrt(float64(2*df))+100
	for range 200 {
		mid := (lo + hi) / 2
		if gammaQ(float64(df)/2, mid/2) > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func TestChiSquareCritical(t *testing.T) {
	// Reference values of the χ² upper 0.001 quantile (standard tables).
	tests := []struct {
		df   int
		want float64
	}{
		{1, 10.828}, {2, 13.816}, {10, 29.588}, {20, 45.315}, {30, 59.703}, {50, 86.661}, {100, 149.449},
	}
	for _, tt := range tests {
		if got := chiSquareCritical(tt.df, 0.001); math.Abs(got-tt.want) > 0.002 {
			t.Errorf("chiSquareCritical(%d, 0.001) = %.4f, want %.3f", tt.df, got, tt.want)
		}
	}
}

// dlapPMF is the exact probability of z under P[Z=z] ∝ exp(−|z|·s/t).
func dlapPMF(z int64, s, t uint64) float64 {
	q := math.Exp(-float64(s) / float64(t))
	return (1 - q) / (1 + q) * math.Pow(q, math.Abs(float64(z)))
}

// dlapTail is P[Z > k] for k ≥ 0.
func dlapTail(k int64, s, t uint64) float64 {
	q := math.Exp(-float64(s) / float64(t))
	return math.Pow(q, float64(k+1)) / (1 + q)
}

// dlapBins returns the bin edge k and the expected count of each bin for n
// draws: bin 0 is z < −k, bins 1..2k+1 are z = −k..k, the last is z > k.
// k is the largest value whose bins and tails all expect at least minExpected.
func dlapBins(n int, s, t uint64, minExpected float64) (int64, []float64) {
	var k int64
	for float64(n)*dlapPMF(k+1, s, t) >= minExpected && float64(n)*dlapTail(k+1, s, t) >= minExpected {
		k++
	}
	return k, dlapExpected(n, s, t, k)
}

// dlapExpected returns the expected bin counts of n draws for bin edge k.
func dlapExpected(n int, s, t uint64, k int64) []float64 {
	exp := make([]float64, 2*k+3)
	exp[0] = float64(n) * dlapTail(k, s, t)
	exp[len(exp)-1] = exp[0]
	for z := -k; z <= k; z++ {
		exp[z+k+1] = float64(n) * dlapPMF(z, s, t)
	}
	return exp
}

func binOf(z, k int64) int64 {
	switch {
	case z < -k:
		return 0
	case z > k:
		return 2*k + 2
	}
	return z + k + 1
}

func chiSquare(observed []int64, expected []float64) float64 {
	var stat float64
	for i, e := range expected {
		d := float64(observed[i]) - e
		stat += d * d / e
	}
	return stat
}
