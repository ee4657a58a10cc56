package dp

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDiscreteLaplace: for any s, t the sampler returns a value or a
// documented error, never panics, and never stalls with a uniform source.
func FuzzDiscreteLaplace(f *testing.F) {
	f.Add(uint64(1), uint64(1), uint64(1))
	f.Add(uint64(2), uint64(400000), uint64(1000000))
	f.Add(uint64(3), uint64(1), uint64(1<<63))
	f.Add(uint64(4), uint64(1<<63), uint64(1))
	f.Fuzz(func(t *testing.T, seed, s, tt uint64) {
		z, err := DiscreteLaplace(newSeeded(seed), s, tt)
		switch {
		case s == 0 || tt == 0:
			if !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("DiscreteLaplace(%d, %d) = %d, %v; want ErrInvalidParameter", s, tt, z, err)
			}
		case err != nil:
			if !errors.Is(err, ErrOverflow) || z != 0 {
				t.Fatalf("DiscreteLaplace(%d, %d) = %d, %v", s, tt, z, err)
			}
		case s >= tt && (z > 64 || z < -64):
			// Scale t/s ≤ 1: |z| > 64 has probability below e^-64.
			t.Fatalf("DiscreteLaplace(%d, %d) = %d: implausible for scale ≤ 1", s, tt, z)
		}
	})
}

// FuzzBernoulliExp: any rational γ = n/d gives a boolean or, for d = 0,
// ErrInvalidParameter.
func FuzzBernoulliExp(f *testing.F) {
	f.Add(uint64(1), uint64(0), uint64(1))
	f.Add(uint64(2), uint64(7), uint64(3))
	f.Add(uint64(3), uint64(1<<63), uint64(1))
	f.Add(uint64(4), uint64(1), uint64(1<<63))
	f.Fuzz(func(t *testing.T, seed, n, d uint64) {
		b, err := BernoulliExp(newSeeded(seed), n, d)
		switch {
		case d == 0:
			if !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("BernoulliExp(%d/0) = %v, %v", n, b, err)
			}
		case err != nil:
			t.Fatalf("BernoulliExp(%d/%d): %v", n, d, err)
		case n == 0 && !b:
			t.Fatalf("BernoulliExp(0/%d) = false, want true", d)
		}
	})
}

// FuzzParseEpsilon: whatever parses is positive and round-trips through
// String.
func FuzzParseEpsilon(f *testing.F) {
	for _, s := range []string{"1", "1.0", "0.000001", "0.0000001", "-1", "1e3", "9223372036854"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEpsilon(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEpsilon) {
				t.Fatalf("ParseEpsilon(%q): %v does not wrap ErrInvalidEpsilon", s, err)
			}
			return
		}
		if e <= 0 {
			t.Fatalf("ParseEpsilon(%q) = %d", s, e)
		}
		if back, err := ParseEpsilon(e.String()); err != nil || back != e {
			t.Fatalf("ParseEpsilon(%q) = %d, String %q parses to %d, %v", s, e, e.String(), back, err)
		}
	})
}

// FuzzWindowConfig: any JSON metric config is either rejected with
// ErrInvalidConfig or yields a window that bounds, releases every
// partition once and states Δ = L0·L∞.
func FuzzWindowConfig(f *testing.F) {
	f.Add([]byte(`{"name":"bytes","algo":"DP-Sum","epsilon":1.0,"bounds":[0,100]}`), int64(250))
	f.Add([]byte(`{"name":"n","algo":"DP-Count","epsilon":0.5,"max_partitions":2,"max_contributions_per_partition":3}`), int64(1))
	f.Add([]byte(`{"name":"m","algo":"DP-Mean","epsilon":2,"bounds":[-9007199254740992,9007199254740992]}`), int64(-1<<63))
	f.Fuzz(func(t *testing.T, data []byte, value int64) {
		var cfg MetricConfig
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		spec := WindowSpec{Metric: cfg, Partitions: []string{"a", "b", "c"}, Guarantee: Guarantee{Kind: EventLevel}}
		w, err := NewWindow(spec, newSeeded(uint64(value)))
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewWindow: %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		for i, p := range []string{"a", "b", "c", "a", "b"} {
			if err := w.Add(string(rune('u'+i%2)), p, value); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}
		rel, err := w.Release()
		if err != nil {
			if errors.Is(err, ErrOverflow) {
				return
			}
			t.Fatalf("Release: %v", err)
		}
		st := rel.Statement
		if len(rel.Partitions) != 3 || st.L0 < 1 || st.LInf < 1 {
			t.Fatalf("release %+v", rel)
		}
		for _, n := range st.Noise {
			if n.Quantity == "count" && cfg.Algo == AlgoMean {
				continue
			}
			if n.Sensitivity != st.L0*st.LInf && cfg.Algo != AlgoMean {
				t.Fatalf("sensitivity %d, want L0·L∞ = %d", n.Sensitivity, st.L0*st.LInf)
			}
		}
	})
}
