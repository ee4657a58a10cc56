package dp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMetricConfigValidate(t *testing.T) {
	sum := func(mod func(*MetricConfig)) MetricConfig {
		c := MetricConfig{Name: "bytes", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{0, 100}}
		mod(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     MetricConfig
		wantErr string // "" for valid
	}{
		{"valid sum", sum(func(*MetricConfig) {}), ""},
		{"valid count", MetricConfig{Name: "flows", Algo: AlgoCount, Epsilon: 500_000, MaxPartitions: 3, MaxContributionsPerPartition: 5}, ""},
		{"valid mean", sum(func(c *MetricConfig) { c.Algo = AlgoMean; c.Bounds = []int64{-10, 10} }), ""},
		{"unknown algo", sum(func(c *MetricConfig) { c.Algo = "DP-Median" }), `unknown algo "DP-Median"`},
		{"empty algo", sum(func(c *MetricConfig) { c.Algo = "" }), "unknown algo"},
		{"no name", sum(func(c *MetricConfig) { c.Name = "" }), "name is empty"},
		{"zero epsilon", sum(func(c *MetricConfig) { c.Epsilon = 0 }), "epsilon must be greater than 0"},
		{"negative epsilon", sum(func(c *MetricConfig) { c.Epsilon = -5 }), "epsilon must be greater than 0"},
		{"absurd epsilon", sum(func(c *MetricConfig) { c.Epsilon = 25_000_000 }), "epsilon 25 is absurd"},
		{"max epsilon", sum(func(c *MetricConfig) { c.Epsilon = MaxMetricEpsilon }), ""},
		{"reversed bounds", sum(func(c *MetricConfig) { c.Bounds = []int64{100, 0} }), "bounds reversed: lower 100 > upper 0"},
		{"empty bounds", sum(func(c *MetricConfig) { c.Bounds = []int64{7, 7} }), "need lower < upper"},
		{"missing bounds", sum(func(c *MetricConfig) { c.Bounds = nil }), "needs bounds [lower, upper]"},
		{"three bounds", sum(func(c *MetricConfig) { c.Bounds = []int64{1, 2, 3} }), "needs bounds"},
		{"huge bounds", sum(func(c *MetricConfig) { c.Bounds = []int64{0, 1 << 60} }), "exceed ±2^53"},
		{"count with bounds", MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1, Bounds: []int64{0, 1}}, "DP-Count takes no bounds"},
		{"sum with L∞", sum(func(c *MetricConfig) { c.MaxContributionsPerPartition = 2 }), "derives L∞ from bounds"},
		{"negative L0", sum(func(c *MetricConfig) { c.MaxPartitions = -1 }), "max_partitions must be positive"},
		{"negative L∞", MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1, MaxContributionsPerPartition: -1}, "max_contributions_per_partition must be positive"},
		{"negative scale", sum(func(c *MetricConfig) { c.Scale = -1 }), "scale must be positive"},
		{"mean epsilon too small", sum(func(c *MetricConfig) { c.Algo = AlgoMean; c.Epsilon = 1 }), "needs at least 0.000002"},
		{"noise scale too large", sum(func(c *MetricConfig) { c.Epsilon = 1; c.Bounds = []int64{0, 1 << 40} }), "exceeds 2^48"},
		{"sensitivity overflow", MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1, MaxPartitions: 1 << 40, MaxContributionsPerPartition: 1 << 40}, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestMetricConfigJSON(t *testing.T) {
	var c MetricConfig
	in := `{"name": "bytes", "algo": "DP-Sum", "epsilon": 1.0, "bounds": [0, 100]}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.Epsilon != 1_000_000 || c.Algo != AlgoSum || len(c.Bounds) != 2 || c.Bounds[1] != 100 {
		t.Fatalf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"epsilon": 0.1234567}`), &c); !errors.Is(err, ErrInvalidEpsilon) {
		t.Errorf("7 decimals: %v", err)
	}
}

func TestNoiseCalibration(t *testing.T) {
	tests := []struct {
		name string
		cfg  MetricConfig
		want []Noise
	}{
		{
			"count ε=1 Δ=1",
			MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000},
			[]Noise{{Quantity: "count", Epsilon: 1_000_000, Sensitivity: 1, S: 1, T: 1}},
		},
		{
			"count ε=0.5 L0=3 L∞=2",
			MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 500_000, MaxPartitions: 3, MaxContributionsPerPartition: 2},
			[]Noise{{Quantity: "count", Epsilon: 500_000, Sensitivity: 6, S: 1, T: 12}},
		},
		{
			"sum bounds [-30, 20] L0=2",
			MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_500_000, Bounds: []int64{-30, 20}, MaxPartitions: 2},
			[]Noise{{Quantity: "sum", Epsilon: 1_500_000, Sensitivity: 60, S: 1, T: 40}},
		},
		{
			"mean bounds [0, 101] ε=1.000001",
			MetricConfig{Name: "m", Algo: AlgoMean, Epsilon: 1_000_001, Bounds: []int64{0, 101}},
			[]Noise{
				{Quantity: "count", Epsilon: 500_000, Sensitivity: 1, S: 1, T: 2},
				{Quantity: "sum", Epsilon: 500_001, Sensitivity: 51, S: 166_667, T: 17_000_000}, // gcd 3,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cfg.plan()
			if err != nil {
				t.Fatal(err)
			}
			if len(p.noise) != len(tt.want) {
				t.Fatalf("noise = %+v, want %+v", p.noise, tt.want)
			}
			var total Epsilon
			for i := range tt.want {
				if p.noise[i] != tt.want[i] {
					t.Errorf("noise[%d] = %+v, want %+v", i, p.noise[i], tt.want[i])
				}
				total += p.noise[i].Epsilon
			}
			if total != tt.cfg.Epsilon {
				t.Errorf("noise spends %s, config says %s", total, tt.cfg.Epsilon)
			}
		})
	}
}

func TestMetricConfigHash(t *testing.T) {
	a := MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000}
	b := a
	b.MaxPartitions, b.MaxContributionsPerPartition, b.Scale = 1, 1, 1 // the defaults, written out
	ha, err := a.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if hb, _ := b.Hash(); ha != hb {
		t.Errorf("defaults written out change the hash: %s vs %s", ha, hb)
	}
	c := a
	c.Epsilon++
	if hc, _ := c.Hash(); hc == ha {
		t.Error("epsilon does not change the hash")
	}
	if _, err := (MetricConfig{}).Hash(); err == nil {
		t.Error("invalid config hashed")
	}
}
