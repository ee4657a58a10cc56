package dp

import (
	"errors"
	"math"
	"testing"
)

// sampleDLap draws n discrete Laplace samples and bins them.
func sampleDLap(t *testing.T, src Source, n int, s, tt uint64, k int64) []int64 {
	t.Helper()
	obs := make([]int64, 2*k+3)
	for range n {
		z, err := DiscreteLaplace(src, s, tt)
		if err != nil {
			t.Fatalf("DiscreteLaplace(%d, %d): %v", s, tt, err)
		}
		obs[binOf(z, k)]++
	}
	return obs
}

// TestDiscreteLaplaceChiSquare compares 10^6 draws from a seeded source
// with the exact PMF. s/t = 0.4 is ε = 0.4 at Δ = 1 (s = 400000,
// t = 1000000 before the gcd).
func TestDiscreteLaplaceChiSquare(t *testing.T) {
	const (
		n = 1_000_000
		s = 400_000
		u = 1_000_000
	)
	k, exp := dlapBins(n, s, u, 5)
	obs := sampleDLap(t, newSeeded(20260101), n, s, u, k)
	df := len(exp) - 1
	crit := chiSquareCritical(df, 0.001)
	stat := chiSquare(obs, exp)
	t.Logf("n=%d s/t=%d/%d bins=%d (|z| ≤ %d plus two tails) χ²=%.2f critical(df=%d, p=0.001)=%.2f", n, s, u, len(exp), k, stat, df, crit)
	if stat > crit {
		t.Errorf("χ² = %.2f exceeds the p=0.001 critical value %.2f (df=%d)", stat, crit, df)
	}

	// The same sample against a 5% wider scale must be rejected: the test
	// has power to detect a miscalibrated sampler.
	wrong := dlapExpected(n, s*100, u*105, k)
	if ws := chiSquare(obs, wrong); ws <= crit {
		t.Errorf("χ² against a 5%% wider scale = %.2f, want > %.2f", ws, crit)
	} else {
		t.Logf("χ² against a 5%% wider scale = %.0f (rejected)", ws)
	}
}

// TestDiscreteLaplaceChiSquareCrypto runs the same test on the production
// source. It is random, so a rejection at p=0.001 is retried once with a
// fresh sample: a correct sampler fails both with probability 10^-6, a
// wrong one fails both.
func TestDiscreteLaplaceChiSquareCrypto(t *testing.T) {
	const (
		n = 100_000
		s = 3
		u = 7
	)
	src := NewCryptoSource()
	k, exp := dlapBins(n, s, u, 5)
	crit := chiSquareCritical(len(exp)-1, 0.001)
	var stat float64
	for try := range 2 {
		stat = chiSquare(sampleDLap(t, src, n, s, u, k), exp)
		t.Logf("try %d: n=%d s/t=%d/%d χ²=%.2f critical(df=%d)=%.2f", try, n, s, u, stat, len(exp)-1, crit)
		if stat <= crit {
			return
		}
	}
	t.Errorf("χ² = %.2f exceeds %.2f twice", stat, crit)
}

func TestDiscreteLaplaceSmallScale(t *testing.T) {
	// s/t = 5: almost all mass at 0 and ±1; exercises the B=1, Y=0 rejection.
	const n = 200_000
	k, exp := dlapBins(n, 5, 1, 5)
	obs := sampleDLap(t, newSeeded(7), n, 5, 1, k)
	crit := chiSquareCritical(len(exp)-1, 0.001)
	if stat := chiSquare(obs, exp); stat > crit {
		t.Errorf("χ² = %.2f > %.2f (df=%d)", stat, crit, len(exp)-1)
	}
}

// TestBernoulliExp checks the frequency of Bernoulli(exp(−n/d)) against
// the exact probability, within 5 binomial standard deviations.
func TestBernoulliExp(t *testing.T) {
	const draws = 200_000
	tests := []struct{ n, d uint64 }{
		{0, 1}, {1, 3}, {1, 2}, {1, 1}, {3, 2}, {7, 3}, {5, 1}, {8, 1},
	}
	src := newSeeded(99)
	for _, tt := range tests {
		p := math.Exp(-float64(tt.n) / float64(tt.d))
		var hits int
		for range draws {
			b, err := BernoulliExp(src, tt.n, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if b {
				hits++
			}
		}
		mean, sd := draws*p, math.Sqrt(draws*p*(1-p))
		t.Logf("γ=%d/%d: %d hits, expected %.1f ± %.1f", tt.n, tt.d, hits, mean, sd)
		if math.Abs(float64(hits)-mean) > 5*sd+1e-9 {
			t.Errorf("BernoulliExp(%d/%d): %d hits in %d, want %.1f ± %.1f", tt.n, tt.d, hits, draws, mean, 5*sd)
		}
	}
}

func TestBernoulli(t *testing.T) {
	const draws = 100_000
	src := newSeeded(3)
	for _, tt := range []struct{ n, d uint64 }{{0, 5}, {1, 2}, {2, 3}, {5, 5}, {1, 1 << 40}} {
		p := float64(tt.n) / float64(tt.d)
		var hits int
		for range draws {
			b, err := Bernoulli(src, tt.n, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if b {
				hits++
			}
		}
		if sd := math.Sqrt(draws * p * (1 - p)); math.Abs(float64(hits)-draws*p) > 5*sd {
			t.Errorf("Bernoulli(%d/%d): %d hits, want %.1f ± %.1f", tt.n, tt.d, hits, draws*p, 5*sd)
		}
	}
}

// TestUniformNoModuloBias uses n = 3·2^62, where w mod n would put half the
// mass below 2^62 instead of a third.
func TestUniformNoModuloBias(t *testing.T) {
	const draws = 60_000
	src := newSeeded(11)
	n := uint64(3) << 62
	var low int
	for range draws {
		u, err := Uniform(src, n)
		if err != nil {
			t.Fatal(err)
		}
		if u >= n {
			t.Fatalf("Uniform(%d) = %d", n, u)
		}
		if u < 1<<62 {
			low++
		}
	}
	p := 1.0 / 3
	if sd := math.Sqrt(draws * p * (1 - p)); math.Abs(float64(low)-draws*p) > 5*sd {
		t.Errorf("%d of %d draws below 2^62, want %.0f ± %.0f (modulo bias?)", low, draws, draws*p, 5*sd)
	}

	// And a small n, bin by bin.
	obs := make([]int64, 7)
	for range 70_000 {
		u, err := Uniform(src, 7)
		if err != nil {
			t.Fatal(err)
		}
		obs[u]++
	}
	exp := []float64{10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000}
	if stat, crit := chiSquare(obs, exp), chiSquareCritical(6, 0.001); stat > crit {
		t.Errorf("Uniform(7): χ² = %.2f > %.2f", stat, crit)
	}
}

func TestSamplerInvalidParameters(t *testing.T) {
	src := newSeeded(1)
	tests := []struct {
		name string
		call func() error
	}{
		{"uniform zero", func() error { _, err := Uniform(src, 0); return err }},
		{"bernoulli zero denominator", func() error { _, err := Bernoulli(src, 0, 0); return err }},
		{"bernoulli above one", func() error { _, err := Bernoulli(src, 3, 2); return err }},
		{"bernoulli exp zero denominator", func() error { _, err := BernoulliExp(src, 1, 0); return err }},
		{"laplace s=0", func() error { _, err := DiscreteLaplace(src, 0, 1); return err }},
		{"laplace t=0", func() error { _, err := DiscreteLaplace(src, 1, 0); return err }},
		{"nil source", func() error { _, err := DiscreteLaplace(nil, 1, 1); return err }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%s: err = %v, want ErrInvalidParameter", tt.name, err)
		}
	}
}

func TestSamplerFailsClosed(t *testing.T) {
	tests := []struct {
		name string
		src  Source
		want error
	}{
		{"source error at once", &failing{ok: 0, src: newSeeded(1)}, ErrRandomness},
		{"source error mid-sample", &failing{ok: 3, src: newSeeded(1)}, ErrRandomness},
		{"stuck at zero", constant(0), ErrStalled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := DiscreteLaplace(tt.src, 1, 3)
			if !errors.Is(err, tt.want) || z != 0 {
				t.Fatalf("DiscreteLaplace = %d, %v; want 0, %v", z, err, tt.want)
			}
		})
	}
}

func TestDiscreteLaplaceOverflowIsAnError(t *testing.T) {
	// Scale 2^64−1: about half the draws exceed int64.
	src := newSeeded(5)
	var overflows int
	for range 200 {
		_, err := DiscreteLaplace(src, 1, math.MaxUint64)
		switch {
		case errors.Is(err, ErrOverflow):
			overflows++
		case err != nil:
			t.Fatal(err)
		}
	}
	if overflows == 0 {
		t.Error("no ErrOverflow at scale 2^64")
	}
}
