package response

import (
	"testing"
	"time"
)

func TestLimiterBounds(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		max     int
		per     time.Duration
		steps   []time.Duration // offsets from t0 of successive takes
		allowed []bool
	}{
		{"the largest bucket does not overflow", MaxRate, MaxRatePer,
			[]time.Duration{0, 0, 365 * 24 * time.Hour}, []bool{true, true, true}},
		{"one a day", 1, MaxRatePer,
			[]time.Duration{0, MaxRatePer - 1, MaxRatePer}, []bool{true, false, true}},
		{"a clock stepped back refills nothing, then counts from the new time", 1, time.Second,
			[]time.Duration{0, -time.Hour, -time.Hour + time.Second - 1, -time.Hour + time.Second}, []bool{true, false, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(tt.max, tt.per, 10)
			for i, d := range tt.steps {
				if ok, why := l.allow("k", t0.Add(d), true); ok != tt.allowed[i] {
					t.Errorf("take %d at %s: %v (%s), want %v", i, d, ok, why, tt.allowed[i])
				}
			}
			if l.len() != 1 {
				t.Errorf("%d buckets", l.len())
			}
		})
	}
}

func TestLimiterPeekDoesNotStore(t *testing.T) {
	l := newLimiter(1, time.Minute, 1)
	now := time.Now()
	for range 3 {
		if ok, _ := l.allow("a", now, false); !ok {
			t.Fatal("a peek at a new key was refused")
		}
	}
	if l.len() != 0 {
		t.Errorf("peeks stored %d buckets", l.len())
	}
	l.allow("a", now, true)
	if ok, why := l.allow("b", now, false); ok || why == "" {
		t.Errorf("a peek at a new key with the table full: %v %q", ok, why)
	}
}
