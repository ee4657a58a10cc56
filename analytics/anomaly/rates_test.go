package anomaly

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestRates feeds per-event counts through Rates and checks which buckets are scored, when,
// and which are anomalous.
func TestRates(t *testing.T) {
	type ev struct {
		key string
		at  time.Duration // after t0
		n   float64
	}
	steady := func(key string, minutes, perMinute int) []ev {
		var out []ev
		for m := range minutes {
			for i := range perMinute {
				out = append(out, ev{key, time.Duration(m)*time.Minute + time.Duration(i)*time.Second, 1})
			}
		}
		return out
	}
	burst := func(key string, minute, n int) []ev {
		var out []ev
		for i := range n {
			out = append(out, ev{key, time.Duration(minute)*time.Minute + time.Duration(i)*10*time.Millisecond, 1})
		}
		return out
	}
	cat := func(parts ...[]ev) []ev {
		var out []ev
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name      string
		opt       RatesOptions
		events    []ev
		closeAt   time.Duration // Close at t0 + closeAt after the events (0: not called)
		after     []ev          // fed after Close
		sens      float64
		anomalies []string // "key@minute" of anomalous buckets, in order
		late      uint64
		keys      int
	}{
		{"steady: nothing", RatesOptions{}, steady("a", 40, 10), 42 * time.Minute, nil, 1, nil, 0, 1},
		{"burst after warm-up, closed by the next event", RatesOptions{},
			cat(steady("a", 30, 10), burst("a", 30, 60), []ev{{"a", 31 * time.Minute, 1}}), 0, nil, 1, []string{"a@30"}, 0, 1},
		{"burst closed by Close after the grace", RatesOptions{},
			cat(steady("a", 30, 10), burst("a", 30, 60)), 32 * time.Minute, nil, 1, []string{"a@30"}, 0, 1},
		{"burst not closed within the grace", RatesOptions{},
			cat(steady("a", 30, 10), burst("a", 30, 60)), 31*time.Minute + 30*time.Second, nil, 1, nil, 0, 1},
		{"burst during warm-up: not flagged", RatesOptions{},
			cat(steady("a", 10, 10), burst("a", 10, 60)), 12 * time.Minute, nil, 1, nil, 0, 1},
		{"only the bursting key", RatesOptions{},
			cat(steady("a", 30, 10), steady("b", 30, 10), burst("b", 30, 60)), 32 * time.Minute, nil, 1, []string{"b@30"}, 0, 2},
		{"a smaller burst: below the threshold at sensitivity 1", RatesOptions{Rate: RateOptions{Poisson: true}},
			cat(steady("a", 30, 10), burst("a", 30, 21)), 32 * time.Minute, nil, 1, nil, 0, 1},
		{"the same smaller burst at sensitivity 2", RatesOptions{Rate: RateOptions{Poisson: true}},
			cat(steady("a", 30, 10), burst("a", 30, 21)), 32 * time.Minute, nil, 2, []string{"a@30"}, 0, 1},
		{"silences are zeros: a key active every other minute", RatesOptions{},
			func() []ev {
				var out []ev
				for m := 0; m < 60; m += 2 {
					out = append(out, burst("a", m, 10)...)
				}
				return out
			}(), 62 * time.Minute, nil, 1, nil, 0, 1},
		{"an event for a scored bucket is dropped", RatesOptions{},
			steady("a", 3, 5), 5 * time.Minute, []ev{{"a", 150 * time.Second, 1}}, 1, nil, 1, 1},
		{"an event for an earlier bucket counts in the open one", RatesOptions{},
			cat(steady("a", 30, 10), burst("a", 30, 50), burst("a", 29, 10)), 32 * time.Minute, nil, 1, []string{"a@30"}, 0, 1},
		{"keys beyond the bound evict the least recent", RatesOptions{MaxKeys: 2},
			cat(steady("a", 2, 1), steady("b", 2, 1), steady("c", 2, 1)), 0, nil, 1, nil, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewRates[string](tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			note := func(r Scored[string]) {
				if r.Anomalous {
					got = append(got, r.Key+"@"+strconv.Itoa(int(r.Time.Sub(t0)/time.Minute)))
				}
			}
			sens := func(string) float64 { return tt.sens }
			for _, e := range tt.events {
				if r, ok := s.Count(e.key, t0.Add(e.at), e.n, sens); ok {
					note(r)
				}
			}
			if tt.closeAt > 0 {
				for _, r := range s.Close(t0.Add(tt.closeAt), sens, nil) {
					note(r)
				}
			}
			for _, e := range tt.after {
				if r, ok := s.Count(e.key, t0.Add(e.at), e.n, sens); ok {
					note(r)
				}
			}
			if !equal(got, tt.anomalies) || s.Late() != tt.late || s.Len() != tt.keys {
				t.Errorf("anomalies %v late %d keys %d, want %v %d %d", got, s.Late(), s.Len(), tt.anomalies, tt.late, tt.keys)
			}
		})
	}
}

func TestRatesOptions(t *testing.T) {
	for _, o := range []RatesOptions{{Step: time.Microsecond}, {Grace: -1}, {MaxKeys: -1}, {MaxFill: -1}, {Rate: RateOptions{Warmup: -1}}} {
		if _, err := NewRates[string](o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	s, err := NewRates[string](RatesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Options(); o.Step != time.Minute || o.Grace != time.Minute || o.MaxKeys != 100000 || o.MaxFill != 240 || o.Rate.Threshold != 4 {
		t.Errorf("defaults %+v", o)
	}
	if b := s.Bucket(t0.Add(-30 * time.Second)); !b.Equal(t0.Add(-time.Minute)) {
		t.Errorf("bucket of a time before a minute boundary: %v", b)
	}
}

func equal(a, b []string) bool {
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
