package dp

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func countSpec(l0 int64, parts ...string) WindowSpec {
	return WindowSpec{
		Metric:     MetricConfig{Name: "flows", Algo: AlgoCount, Epsilon: 20_000_000, MaxPartitions: l0},
		Partitions: parts,
		Guarantee:  Guarantee{Kind: WEvent, W: 60},
	}
}

type record struct {
	unit, partition string
	value           int64
}

func addAll(t *testing.T, w *Window, recs []record) {
	t.Helper()
	for _, r := range recs {
		if err := w.Add(r.unit, r.partition, r.value); err != nil {
			t.Fatalf("Add(%+v): %v", r, err)
		}
	}
}

func TestWindowReleasesEveryDeclaredPartition(t *testing.T) {
	w, err := NewWindow(countSpec(1, "north", "south", "east"), newSeeded(1))
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, w, []record{{"u1", "south", 0}, {"u2", "south", 0}, {"u3", "north", 0}})
	rel, err := w.Release()
	if err != nil {
		t.Fatal(err)
	}
	// ε = 20 at Δ = 1: P[noise ≠ 0] ≈ 4·10^-9, so the seeded noise is 0.
	want := []PartitionValue{{Key: "north", Value: 1}, {Key: "south", Value: 2}, {Key: "east", Value: 0}}
	if !slices.Equal(rel.Partitions, want) {
		t.Errorf("Partitions = %+v, want %+v", rel.Partitions, want)
	}
}

// TestWindowL0Reservoir checks that a unit touching 5 partitions with
// L0 = 2 keeps exactly 2, each with probability 2/5.
func TestWindowL0Reservoir(t *testing.T) {
	const windows = 20_000
	parts := []string{"p0", "p1", "p2", "p3", "p4"}
	src := newSeeded(17)
	kept := make([]int, len(parts))
	for range windows {
		w, err := NewWindow(countSpec(2, parts...), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			addAll(t, w, []record{{"u", p, 1}, {"u", p, 1}})
		}
		u := w.units["u"]
		if len(u.kept) != 2 {
			t.Fatalf("kept %d partitions, want 2", len(u.kept))
		}
		for _, k := range u.kept {
			kept[k.partition]++
			if k.c.records != 2 {
				t.Fatalf("kept partition %d has %d records, want 2", k.partition, k.c.records)
			}
		}
	}
	p := 2.0 / 5
	sd := math.Sqrt(windows * p * (1 - p))
	for i, n := range kept {
		if math.Abs(float64(n)-windows*p) > 5*sd {
			t.Errorf("partition %d kept in %d of %d windows, want %.0f ± %.0f", i, n, windows, windows*p, 5*sd)
		}
	}
	t.Logf("kept counts %v, expected %.0f each", kept, windows*p)
}

func TestWindowDroppedPartitionStaysDropped(t *testing.T) {
	for seed := range uint64(20) {
		w, err := NewWindow(countSpec(1, "a", "b"), newSeeded(seed))
		if err != nil {
			t.Fatal(err)
		}
		addAll(t, w, []record{{"u", "a", 1}, {"u", "b", 1}, {"u", "a", 1}, {"u", "b", 1}, {"u", "a", 1}})
		u := w.units["u"]
		if len(u.kept) != 1 {
			t.Fatalf("kept = %+v", u.kept)
		}
		want := map[int]int64{0: 3, 1: 2}[u.kept[0].partition]
		if got := u.kept[0].c.records; got != want {
			t.Errorf("seed %d: kept partition %d has %d records, want %d", seed, u.kept[0].partition, got, want)
		}
	}
}

func TestWindowContributions(t *testing.T) {
	tests := []struct {
		name   string
		metric MetricConfig
		recs   []record
		want   map[string]int64 // exact partition totals before noise
	}{
		{
			"count clamps records per unit to L∞",
			MetricConfig{Name: "n", Algo: AlgoCount, Epsilon: 1_000_000, MaxPartitions: 2, MaxContributionsPerPartition: 2},
			[]record{{"u1", "a", 0}, {"u1", "a", 0}, {"u1", "a", 0}, {"u2", "a", 0}, {"u2", "b", 0}},
			map[string]int64{"a": 3, "b": 1},
		},
		{
			"sum clamps each unit's total",
			MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{0, 100}, MaxPartitions: 2},
			[]record{{"u1", "a", 60}, {"u1", "a", 70}, {"u2", "a", -5}, {"u3", "a", 150}, {"u3", "a", -100}, {"u3", "b", 7}},
			map[string]int64{"a": 100 + 0 + 50, "b": 7},
		},
		{
			"sum of values beyond int64 per unit is clamped, not wrapped",
			MetricConfig{Name: "s", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{-100, 100}},
			[]record{{"u1", "a", math.MaxInt64}, {"u1", "a", math.MaxInt64}, {"u2", "a", math.MinInt64}, {"u2", "a", math.MinInt64}, {"u2", "a", math.MaxInt64}},
			map[string]int64{"a": 100 - 100, "b": 0},
		},
		{
			"mean clamps each record and averages per unit (centred on mid 5)",
			MetricConfig{Name: "m", Algo: AlgoMean, Epsilon: 1_000_000, Bounds: []int64{0, 10}},
			[]record{{"u1", "a", 2}, {"u1", "a", 4}, {"u2", "a", 50}, {"u3", "a", -7}, {"u3", "a", 8}},
			map[string]int64{"a": (3 - 5) + (10 - 5) + (4 - 5), "b": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWindow(WindowSpec{Metric: tt.metric, Partitions: []string{"a", "b"}, Guarantee: Guarantee{Kind: EventLevel}}, newSeeded(1))
			if err != nil {
				t.Fatal(err)
			}
			addAll(t, w, tt.recs)
			aggs, _, err := w.collect(w.units)
			if err != nil {
				t.Fatal(err)
			}
			for i, key := range []string{"a", "b"} {
				var got int64
				switch a := aggs[i].(type) {
				case *Count:
					got = a.total.sat()
				case *Sum:
					got = a.total.sat()
				case *Mean:
					got = a.sum.sat()
				}
				if got != tt.want[key] {
					t.Errorf("partition %s total = %d, want %d", key, got, tt.want[key])
				}
			}
		})
	}
}

func TestWindowMinUnits(t *testing.T) {
	spec := countSpec(1, "a", "b")
	spec.MinUnits = 3
	w, err := NewWindow(spec, newSeeded(1))
	if err != nil {
		t.Fatal(err)
	}
	// u1 has 5 records in a: still one unit.
	addAll(t, w, []record{{"u1", "a", 0}, {"u1", "a", 0}, {"u1", "a", 0}, {"u2", "a", 0}, {"x", "b", 0}, {"y", "b", 0}, {"z", "b", 0}})
	rel, err := w.Release()
	if err != nil {
		t.Fatal(err)
	}
	want := []PartitionValue{{Key: "a", Suppressed: true}, {Key: "b", Value: 3}}
	if !slices.Equal(rel.Partitions, want) {
		t.Errorf("Partitions = %+v, want %+v", rel.Partitions, want)
	}
	if rel.Statement.MinUnits != 3 {
		t.Errorf("Statement.MinUnits = %d", rel.Statement.MinUnits)
	}
}

func TestWindowErrors(t *testing.T) {
	w, err := NewWindow(countSpec(1, "a"), newSeeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add("u", "zz", 1); !errors.Is(err, ErrUnknownPartition) {
		t.Errorf("unknown partition: %v", err)
	}
	if err := w.Add("", "a", 1); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("empty unit: %v", err)
	}
	if _, err := w.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Release(); !errors.Is(err, ErrReleased) {
		t.Errorf("second Release: %v", err)
	}
	if err := w.Add("u", "a", 1); !errors.Is(err, ErrReleased) {
		t.Errorf("Add after Release: %v", err)
	}
}

func TestWindowFailsClosed(t *testing.T) {
	t.Run("source fails while bounding", func(t *testing.T) {
		w, err := NewWindow(countSpec(1, "a", "b"), &failing{ok: 0, src: newSeeded(1)})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add("u", "a", 1); err != nil { // no draw: within L0
			t.Fatal(err)
		}
		if err := w.Add("u", "b", 1); !errors.Is(err, ErrRandomness) { // reservoir draw
			t.Fatalf("Add = %v, want ErrRandomness", err)
		}
		if err := w.Add("v", "a", 1); !errors.Is(err, ErrRandomness) {
			t.Fatalf("Add after failure = %v, want the sticky error", err)
		}
		if rel, err := w.Release(); rel != nil || !errors.Is(err, ErrRandomness) {
			t.Fatalf("Release = %v, %v; want refusal", rel, err)
		}
	})
	t.Run("source fails during the noise draws", func(t *testing.T) {
		// One partition's noise at ε=20, Δ=1 takes a handful of words;
		// fail somewhere inside the later partitions.
		w, err := NewWindow(countSpec(1, "a", "b", "c", "d"), &failing{ok: 6, src: newSeeded(1)})
		if err != nil {
			t.Fatal(err)
		}
		rel, err := w.Release()
		if rel != nil || !errors.Is(err, ErrRandomness) {
			t.Fatalf("Release = %+v, %v; want nil and ErrRandomness", rel, err)
		}
		if _, err := w.Release(); !errors.Is(err, ErrReleased) {
			t.Fatalf("retry = %v, want ErrReleased", err)
		}
	})
}

func TestWindowStatement(t *testing.T) {
	spec := WindowSpec{
		Metric:     MetricConfig{Name: "bytes", Algo: AlgoSum, Epsilon: 1_000_000, Bounds: []int64{0, 1_000_000}, MaxPartitions: 2},
		Partitions: []string{"site1|443", "site2|443"},
		Guarantee:  Guarantee{Kind: WEvent, W: 60},
	}
	w, err := NewWindow(spec, newSeeded(1))
	if err != nil {
		t.Fatal(err)
	}
	st := w.Statement()
	if st.Mechanism != MechanismDiscreteLaplace || st.Delta != "0" || st.Epsilon != 1_000_000 ||
		st.L0 != 2 || st.LInf != 1_000_000 || !slices.Equal(st.Bounds, []int64{0, 1_000_000}) ||
		st.Guarantee.String() != "w_event(60)" || st.Partitions != 2 || st.Scale != 1 {
		t.Errorf("Statement = %+v", st)
	}
	if len(st.Noise) != 1 || st.Noise[0].Sensitivity != 2_000_000 || st.Noise[0].S != 1 || st.Noise[0].T != 2_000_000 {
		t.Errorf("Noise = %+v, want Δ = L0·L∞ = 2000000 at ε = 1", st.Noise)
	}
	st.Bounds[0] = 99 // the statement is a copy
	if w.Statement().Bounds[0] != 0 {
		t.Error("Statement shares its slices with the window")
	}

	// The partition set hash ignores order; the config hash covers the threshold.
	rev := spec
	rev.Partitions = []string{"site2|443", "site1|443"}
	w2, _ := NewWindow(rev, nil)
	if w2.Statement().PartitionSetHash != w.Statement().PartitionSetHash {
		t.Error("partition set hash depends on declaration order")
	}
	thr := spec
	thr.MinUnits = 5
	w3, _ := NewWindow(thr, nil)
	if w3.Statement().ConfigHash == w.Statement().ConfigHash {
		t.Error("config hash ignores min_units")
	}
	if PartitionSetHash([]string{"ab", "c"}) == PartitionSetHash([]string{"a", "bc"}) {
		t.Error("partition set hash is ambiguous")
	}
}

func TestWindowSpecValidation(t *testing.T) {
	good := countSpec(1, "a")
	tests := []struct {
		name    string
		mod     func(*WindowSpec)
		wantErr string
	}{
		{"no partitions", func(s *WindowSpec) { s.Partitions = nil }, "no public partitions"},
		{"duplicate partition", func(s *WindowSpec) { s.Partitions = []string{"a", "b", "a"} }, `partition "a" declared twice`},
		{"empty key", func(s *WindowSpec) { s.Partitions = []string{"a", ""} }, "empty key"},
		{"negative min_units", func(s *WindowSpec) { s.MinUnits = -1 }, "min_units"},
		{"no guarantee", func(s *WindowSpec) { s.Guarantee = Guarantee{} }, "no guarantee declared"},
		{"bad metric", func(s *WindowSpec) { s.Metric.Epsilon = 0 }, "epsilon must be greater than 0"},
	}
	for _, tt := range tests {
		spec := good
		tt.mod(&spec)
		if _, err := NewWindow(spec, nil); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: NewWindow = %v, want ErrInvalidConfig containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestCrossPartitions(t *testing.T) {
	got, err := CrossPartitions([]string{"north", "south"}, []string{"00:00", "00:15"})
	want := []string{"north|00:00", "north|00:15", "south|00:00", "south|00:15"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("CrossPartitions = %v, %v; want %v", got, err, want)
	}
	if _, err := CrossPartitions([]string{"a|b"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("separator in a part: %v", err)
	}
}

func TestWindowConcurrentAdds(t *testing.T) {
	w, err := NewWindow(countSpec(1, "a", "b"), newSeededLocked(3))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 250 {
				unit := fmt.Sprintf("u%d-%d", g, i)
				_ = w.Add(unit, "a", 1)
				_ = w.Add(unit, "b", 1) // over L0: reservoir draw
			}
		})
	}
	wg.Wait()
	rel, err := w.Release()
	if err != nil {
		t.Fatal(err)
	}
	if total := rel.Partitions[0].Value + rel.Partitions[1].Value; total != 1000 {
		t.Errorf("a + b = %d, want 1000 units (L0 = 1)", total)
	}
}

// lockedSeeded is a seeded source safe for concurrent use.
type lockedSeeded struct {
	mu sync.Mutex
	s  *seeded
}

func newSeededLocked(seed uint64) *lockedSeeded { return &lockedSeeded{s: newSeeded(seed)} }

func (l *lockedSeeded) Uint64() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Uint64()
}
