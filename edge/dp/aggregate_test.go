package dp

import (
	"crypto/rand"
	"errors"
	"io"
	"math"
	"testing"
)

// TestCountMAE checks that DP-Count's mean absolute error matches
// E|Z| = 2q/(1−q²), q = exp(−ε), of discrete Laplace with scale 1/ε.
func TestCountMAE(t *testing.T) {
	const (
		releases = 20_000
		units    = 7
	)
	cfg := MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 500_000}
	src := newSeeded(42)
	var sumAbs float64
	for range releases {
		c, err := NewCount(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for range units {
			if err := c.Add(1); err != nil {
				t.Fatal(err)
			}
		}
		v, err := c.Release(src)
		if err != nil {
			t.Fatal(err)
		}
		sumAbs += math.Abs(float64(v - units))
	}
	q := math.Exp(-0.5)
	want := 2 * q / (1 - q*q)
	second := 2 * q / ((1 - q) * (1 - q)) // E[Z²]
	se := math.Sqrt((second - want*want) / releases)
	got := sumAbs / releases
	t.Logf("ε=0.5: MAE %.4f over %d releases, expected E|Z| = %.4f (standard error %.4f)", got, releases, want, se)
	if math.Abs(got-want) > 5*se {
		t.Errorf("MAE = %.4f, want %.4f ± %.4f", got, want, 5*se)
	}
}

func TestAggregatorClamping(t *testing.T) {
	count := MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000, MaxContributionsPerPartition: 3}
	sum := MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{-10, 100}}
	mean := MetricConfig{Name: "m", Algo: AlgoMean, Epsilon: 1_000_000, Bounds: []int64{0, 10}}
	tests := []struct {
		name string
		cfg  MetricConfig
		adds []int64
		want int64 // exact total before noise (DP-Mean: Σ(v − mid))
	}{
		{"count within L∞", count, []int64{1, 2, 3}, 6},
		{"count above L∞", count, []int64{4, 1000, math.MaxInt64}, 9},
		{"count negative", count, []int64{-5, math.MinInt64, 1}, 1},
		{"sum within bounds", sum, []int64{5, -3, 99}, 101},
		{"sum clamped", sum, []int64{500, -500, math.MaxInt64, math.MinInt64}, 180},
		{"mean clamped", mean, []int64{-7, 20, 5, math.MaxInt64}, -5 + 5 + 0 + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var total func() int64
			var add func(int64) error
			switch tt.cfg.Algo {
			case AlgoCount:
				c, err := NewCount(tt.cfg)
				if err != nil {
					t.Fatal(err)
				}
				add, total = c.Add, func() int64 { return c.total.sat() }
			case AlgoSum:
				s, err := NewSum(tt.cfg)
				if err != nil {
					t.Fatal(err)
				}
				add, total = s.Add, func() int64 { return s.total.sat() }
			case AlgoMean:
				m, err := NewMean(tt.cfg)
				if err != nil {
					t.Fatal(err)
				}
				add, total = m.Add, func() int64 { return m.sum.sat() }
			}
			for _, v := range tt.adds {
				if err := add(v); err != nil {
					t.Fatal(err)
				}
			}
			if got := total(); got != tt.want {
				t.Errorf("total = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMeanRelease(t *testing.T) {
	// Large ε: noise of scale 1/10 (count) and 5/10 (sum) barely moves
	// the mean of 1000 units.
	cfg := MetricConfig{Name: "m", Algo: AlgoMean, Epsilon: 20_000_000, Bounds: []int64{0, 10}}
	m, err := NewMean(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := m.Add(int64(6 + i%2)); err != nil { // mean 6.5
			t.Fatal(err)
		}
	}
	v, err := m.Release(newSeeded(8))
	if err != nil {
		t.Fatal(err)
	}
	if v.Mean < 6 || v.Mean > 7 || v.Units < 990 || v.Units > 1010 {
		t.Errorf("Release = %+v, want mean 6 or 7 over ~1000 units", v)
	}
}

func TestAggregatorsReleaseOnce(t *testing.T) {
	src := newSeeded(1)
	c, _ := NewCount(MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000})
	s, _ := NewSum(MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{0, 1}})
	m, _ := NewMean(MetricConfig{Name: "m", Algo: AlgoMean, Epsilon: 1_000_000, Bounds: []int64{0, 1}})
	tests := []struct {
		name    string
		add     func() error
		release func() error
	}{
		{"count", func() error { return c.Add(1) }, func() error { _, err := c.Release(src); return err }},
		{"sum", func() error { return s.Add(1) }, func() error { _, err := s.Release(src); return err }},
		{"mean", func() error { return m.Add(1) }, func() error { _, err := m.Release(src); return err }},
	}
	for _, tt := range tests {
		if err := tt.add(); err != nil {
			t.Fatalf("%s: Add: %v", tt.name, err)
		}
		if err := tt.release(); err != nil {
			t.Fatalf("%s: Release: %v", tt.name, err)
		}
		if err := tt.release(); !errors.Is(err, ErrReleased) {
			t.Errorf("%s: second Release = %v, want ErrReleased", tt.name, err)
		}
		if err := tt.add(); !errors.Is(err, ErrReleased) {
			t.Errorf("%s: Add after Release = %v, want ErrReleased", tt.name, err)
		}
	}
}

func TestAggregatorsFailClosed(t *testing.T) {
	tests := []struct {
		name    string
		release func(Source) (int64, error)
	}{
		{"count", func(src Source) (int64, error) {
			c, _ := NewCount(MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000})
			_ = c.Add(1)
			v, err := c.Release(src)
			if _, again := c.Release(newSeeded(1)); !errors.Is(again, ErrReleased) {
				return v, errors.New("failed release was retried")
			}
			return v, err
		}},
		{"sum", func(src Source) (int64, error) {
			s, _ := NewSum(MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{0, 9}})
			_ = s.Add(5)
			return s.Release(src)
		}},
		{"mean", func(src Source) (int64, error) {
			m, _ := NewMean(MetricConfig{Name: "m", Algo: AlgoMean, Epsilon: 1_000_000, Bounds: []int64{0, 9}})
			_ = m.Add(5)
			v, err := m.Release(src)
			return v.Mean, err
		}},
	}
	for _, tt := range tests {
		v, err := tt.release(&failing{ok: 0, src: newSeeded(1)})
		if !errors.Is(err, ErrRandomness) || v != 0 {
			t.Errorf("%s: Release = %d, %v; want 0 and ErrRandomness", tt.name, v, err)
		}
		// A failure at any later draw (DP-Mean: also inside its second
		// noise) refuses the whole release.
		var refused, done int
		for ok := 1; ok < 120; ok++ {
			v, err := tt.release(&failing{ok: ok, src: newSeeded(uint64(ok))})
			switch {
			case err == nil:
				done++
			case errors.Is(err, ErrRandomness) && v == 0:
				refused++
			default:
				t.Fatalf("%s: failure after %d words: Release = %d, %v", tt.name, ok, v, err)
			}
		}
		if refused == 0 || done == 0 {
			t.Errorf("%s: %d refused and %d completed releases; want both", tt.name, refused, done)
		}
	}
}

func TestNewAggregatorWrongAlgo(t *testing.T) {
	cfg := MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{0, 1}}
	if _, err := NewCount(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewCount(DP-Sum config) = %v", err)
	}
	if _, err := NewMean(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewMean(DP-Sum config) = %v", err)
	}
	cfg.Algo = AlgoCount
	if _, err := NewSum(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewSum(DP-Count config) = %v", err)
	}
}

// TestProductionSourceIsCryptoRand fails if the production source, or the
// default source of a Window, reads from anything but crypto/rand.
func TestProductionSourceIsCryptoRand(t *testing.T) {
	rs, ok := NewCryptoSource().(*readerSource)
	if !ok || rs.base != rand.Reader {
		t.Fatalf("NewCryptoSource() = %T reading %v, want *readerSource over crypto/rand.Reader", NewCryptoSource(), rs)
	}
	w, err := NewWindow(WindowSpec{
		Metric:     MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000},
		Partitions: []string{"a"},
		Guarantee:  Guarantee{Kind: EventLevel},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ws, ok := w.src.(*readerSource); !ok || ws.base != rand.Reader {
		t.Fatalf("Window default source = %T, want *readerSource over crypto/rand.Reader", w.src)
	}
}

// flaky fails its first read and then works.
type flaky struct{ calls int }

func (f *flaky) Read(p []byte) (int, error) {
	f.calls++
	if f.calls == 1 {
		return 0, io.ErrUnexpectedEOF
	}
	return len(p), nil
}

func TestReaderSourceErrorIsSticky(t *testing.T) {
	src := newReaderSource(&flaky{})
	for i := range 3 {
		if _, err := src.Uint64(); !errors.Is(err, ErrRandomness) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("call %d: err = %v, want sticky ErrRandomness", i, err)
		}
	}
	if _, err := NewCryptoSource().Uint64(); err != nil {
		t.Fatalf("crypto source: %v", err)
	}
}

func TestI128(t *testing.T) {
	max64, min64 := i128From(math.MaxInt64), i128From(math.MinInt64)
	big, ok := max64.add(max64)
	if !ok || big.sat() != math.MaxInt64 || big.clamp(0, 10) != 10 {
		t.Errorf("2·MaxInt64: %+v %v", big, ok)
	}
	small, ok := min64.add(min64)
	if !ok || small.sat() != math.MinInt64 || small.clamp(-3, 3) != -3 {
		t.Errorf("2·MinInt64: %+v %v", small, ok)
	}
	if back, _ := big.add(i128From(-math.MaxInt64)); back.sat() != math.MaxInt64 {
		t.Errorf("2·MaxInt64 − MaxInt64 = %d", back.sat())
	}
	top := i128{hi: 1<<63 - 1, lo: math.MaxUint64}
	if _, ok := top.add(i128From(1)); ok {
		t.Error("overflow of 2^127−1 + 1 not detected")
	}
	if _, ok := (i128{hi: 1 << 63}).add(i128From(-1)); ok {
		t.Error("overflow of −2^127 − 1 not detected")
	}
	if noisy(top, i128From(1)).sat() != math.MaxInt64 {
		t.Error("noisy does not saturate")
	}
	for _, tt := range []struct{ a, n, want int64 }{
		{7, 2, 4}, {-7, 2, -4}, {6, 4, 2}, {5, 4, 1}, {-5, 4, -1}, {0, 3, 0}, {math.MinInt64, 1, math.MinInt64},
	} {
		if got := i128From(tt.a).divRound(tt.n); got != tt.want {
			t.Errorf("divRound(%d, %d) = %d, want %d", tt.a, tt.n, got, tt.want)
		}
	}
	if got := big.divRound(1); got != math.MaxInt64 {
		t.Errorf("divRound saturation = %d", got)
	}
}
