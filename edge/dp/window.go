package dp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	// ErrUnknownPartition reports a record whose partition was not declared.
	// The record is dropped; partitions are never created from data.
	ErrUnknownPartition = errors.New("dp: record for an undeclared partition")
	// ErrInvalidRecord reports a record without a privacy unit.
	ErrInvalidRecord = errors.New("dp: invalid record")
)

// DeltaPure is the δ stated by every release of this package: discrete
// Laplace noise gives pure ε-DP.
const DeltaPure = "0"

// PartitionSeparator joins the dimensions of a key built by
// [CrossPartitions].
const PartitionSeparator = "|"

// WindowSpec declares one metric's aggregation window.
type WindowSpec struct {
	// Metric is the metric to release.
	Metric MetricConfig
	// Partitions are the public partition keys, declared up front (for
	// example region × 15-minute bucket, see [CrossPartitions]). Every one
	// is released, zeros included. They must be unique and non-empty.
	Partitions []string
	// MinUnits, if positive, suppresses partitions with fewer distinct
	// units after bounding. This pre-threshold is defence in depth and not
	// differentially private on its own: the suppression pattern is a
	// deterministic function of the data and is not covered by ε.
	MinUnits int64
	// Guarantee is the guarantee the caller's budget declares; it is
	// stated in the release.
	Guarantee Guarantee
	// Start and End identify the window in the release (informational).
	Start, End time.Time
}

// Statement is what a release states about itself: its guarantee,
// mechanism and every parameter needed to audit it.
type Statement struct {
	Metric    string    `json:"metric"`
	Algo      Algo      `json:"algo"`
	Mechanism string    `json:"mechanism"`
	Guarantee Guarantee `json:"guarantee"`
	Epsilon   Epsilon   `json:"epsilon"`
	// Delta is δ as a rational string; always "0" (pure ε-DP).
	Delta string `json:"delta"`
	// L0 and LInf are the contribution caps per unit and window; the
	// sensitivity of each noisy quantity is in Noise.
	L0   int64 `json:"l0"`
	LInf int64 `json:"linf"`
	// Bounds is [lower, upper] for DP-Sum and DP-Mean.
	Bounds []int64 `json:"bounds,omitempty"`
	Scale  int64   `json:"scale"`
	// MinUnits is the pre-threshold (0: none). When positive, which
	// partitions are suppressed is not covered by Epsilon.
	MinUnits int64   `json:"minUnits"`
	Noise    []Noise `json:"noise"`
	// Partitions is the number of declared partitions.
	Partitions int `json:"partitions"`
	// PartitionSetHash is the hex SHA-256 of the sorted partition keys.
	PartitionSetHash string `json:"partitionSetHash"`
	// ConfigHash is the hex SHA-256 of the metric, partition set,
	// threshold and guarantee.
	ConfigHash string    `json:"configHash"`
	Start      time.Time `json:"start,omitzero"`
	End        time.Time `json:"end,omitzero"`
}

func (s Statement) clone() Statement {
	s.Bounds = slices.Clone(s.Bounds)
	s.Noise = slices.Clone(s.Noise)
	return s
}

// PartitionValue is one released partition.
type PartitionValue struct {
	Key string `json:"key"`
	// Value is the noisy count, sum or mean; zero when Suppressed.
	Value int64 `json:"value"`
	// Units is the noisy number of units (DP-Mean only).
	Units int64 `json:"units,omitempty"`
	// Suppressed is set when MinUnits suppressed the partition.
	Suppressed bool `json:"suppressed,omitempty"`
}

// Release is the result of releasing a [Window]: every declared partition,
// in declaration order, with the statement of its guarantee.
type Release struct {
	Statement  Statement        `json:"statement"`
	Partitions []PartitionValue `json:"partitions"`
}

// Window aggregates one metric over one window. It bounds each privacy
// unit's contribution (L0 partitions by reservoir sampling, L∞ per
// partition), then releases every declared partition once. It is safe for
// concurrent use.
type Window struct {
	p     plan
	stmt  Statement
	keys  []string
	index map[string]int
	src   Source

	mu    sync.Mutex
	units map[string]*unitState
	state lifecycle
	err   error // sticky: a failed draw while bounding refuses the release
}

// unitState is one unit's bounded contributions: at most L0 kept
// partitions, chosen by reservoir sampling over its distinct partitions.
type unitState struct {
	seen uint64      // distinct partitions seen
	pos  map[int]int // partition → index in kept, or -1 when dropped
	kept []kept
}

type kept struct {
	partition int
	c         contribution
}

// NewWindow validates spec and returns an open window drawing its
// randomness (noise and reservoir sampling) from src. A nil src means
// [NewCryptoSource].
func NewWindow(spec WindowSpec, src Source) (*Window, error) {
	p, err := spec.Metric.plan()
	if err != nil {
		return nil, err
	}
	if err := spec.Guarantee.Validate(); err != nil {
		return nil, fmt.Errorf("%w: metric %q: %w", ErrInvalidConfig, spec.Metric.Name, err)
	}
	if spec.MinUnits < 0 {
		return nil, spec.Metric.errorf("min_units must not be negative (got %d)", spec.MinUnits)
	}
	if len(spec.Partitions) == 0 {
		return nil, spec.Metric.errorf("no public partitions declared")
	}
	index := make(map[string]int, len(spec.Partitions))
	for i, k := range spec.Partitions {
		if k == "" {
			return nil, spec.Metric.errorf("partition %d has an empty key", i)
		}
		if _, dup := index[k]; dup {
			return nil, spec.Metric.errorf("partition %q declared twice", k)
		}
		index[k] = i
	}
	if src == nil {
		src = NewCryptoSource()
	}
	psh := PartitionSetHash(spec.Partitions)
	ch := newCanon("sectwin/dp/window/v1")
	ch.str(p.hash())
	ch.str(psh)
	ch.int(spec.MinUnits)
	ch.str(spec.Guarantee.String())
	w := &Window{
		p:     p,
		keys:  slices.Clone(spec.Partitions),
		index: index,
		src:   src,
		units: make(map[string]*unitState),
		stmt: Statement{
			Metric:           p.cfg.Name,
			Algo:             p.cfg.Algo,
			Mechanism:        MechanismDiscreteLaplace,
			Guarantee:        spec.Guarantee,
			Epsilon:          p.cfg.Epsilon,
			Delta:            DeltaPure,
			L0:               p.l0,
			LInf:             p.linf,
			Bounds:           slices.Clone(p.cfg.Bounds),
			Scale:            p.cfg.Scale,
			MinUnits:         spec.MinUnits,
			Noise:            slices.Clone(p.noise),
			Partitions:       len(spec.Partitions),
			PartitionSetHash: psh,
			ConfigHash:       ch.sum(),
			Start:            spec.Start,
			End:              spec.End,
		},
	}
	return w, nil
}

// PartitionSetHash returns the hex SHA-256 of the sorted partition keys,
// each length-prefixed, so the same set hashes equally in any order.
func PartitionSetHash(keys []string) string {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	h := newCanon("sectwin/dp/partitions/v1")
	h.int(int64(len(sorted)))
	for _, k := range sorted {
		h.str(k)
	}
	return h.sum()
}

// CrossPartitions returns the cross product of dims as keys joined by
// [PartitionSeparator], in row-major order: CrossPartitions([a b], [1 2])
// is [a|1 a|2 b|1 b|2]. A part containing the separator is an error.
func CrossPartitions(dims ...[]string) ([]string, error) {
	keys := []string{""}
	for d, dim := range dims {
		next := make([]string, 0, len(keys)*len(dim))
		for _, prefix := range keys {
			for _, part := range dim {
				if strings.Contains(part, PartitionSeparator) {
					return nil, fmt.Errorf("%w: partition part %q contains %q", ErrInvalidConfig, part, PartitionSeparator)
				}
				if d > 0 {
					part = prefix + PartitionSeparator + part
				}
				next = append(next, part)
			}
		}
		keys = next
	}
	if len(dims) == 0 {
		return nil, nil
	}
	return keys, nil
}

// Statement returns what the release of w will state, so that a budget can
// be reserved before [Window.Release].
func (w *Window) Statement() Statement { return w.stmt.clone() }

// Add records value for unit in partition. DP-Count ignores value; DP-Sum
// sums the unit's values and clamps the total; DP-Mean clamps each value and
// averages the unit's values. A unit's records for partitions beyond its L0
// sample are dropped silently. Errors: [ErrReleased], [ErrInvalidRecord],
// [ErrUnknownPartition] (record dropped), [ErrOverflow] (record dropped),
// or a randomness failure, which also refuses the later release.
func (w *Window) Add(unit, partition string, value int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != open {
		return ErrReleased
	}
	if w.err != nil {
		return w.err
	}
	if unit == "" {
		return fmt.Errorf("%w: empty privacy unit", ErrInvalidRecord)
	}
	pi, ok := w.index[partition]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPartition, partition)
	}
	u := w.units[unit]
	if u == nil {
		u = &unitState{pos: make(map[int]int, 1)}
		w.units[unit] = u
	}
	k, seen := u.pos[pi]
	if !seen {
		var err error
		if k, err = w.admit(u, pi); err != nil {
			w.err = fmt.Errorf("dp: contribution bounding: %w", err)
			return w.err
		}
	}
	if k < 0 {
		return nil // bounded away by L0
	}
	return w.accumulate(&u.kept[k].c, value)
}

// admit applies reservoir sampling (Algorithm R) to a unit's new partition
// and returns its index in kept, or -1 when it is dropped.
func (w *Window) admit(u *unitState, pi int) (int, error) {
	u.seen++
	if int64(len(u.kept)) < w.p.l0 {
		u.kept = append(u.kept, kept{partition: pi})
		u.pos[pi] = len(u.kept) - 1
		return len(u.kept) - 1, nil
	}
	j, err := Uniform(w.src, u.seen)
	if err != nil {
		return 0, err
	}
	if j >= uint64(w.p.l0) {
		u.pos[pi] = -1
		return -1, nil
	}
	u.pos[u.kept[j].partition] = -1
	u.kept[j] = kept{partition: pi}
	u.pos[pi] = int(j)
	return int(j), nil
}

func (w *Window) accumulate(c *contribution, value int64) error {
	switch w.p.cfg.Algo {
	case AlgoSum, AlgoMean:
		if w.p.cfg.Algo == AlgoMean {
			value = clampInt(value, w.p.lower, w.p.upper)
		}
		sum, ok := c.sum.add(i128From(value))
		if !ok {
			return fmt.Errorf("dp: unit total: %w", ErrOverflow)
		}
		c.sum = sum
	}
	if c.records < 1<<63-1 {
		c.records++
	}
	return nil
}

func (w *Window) newAgg() partitionAgg {
	switch w.p.cfg.Algo {
	case AlgoCount:
		return &Count{p: w.p}
	case AlgoSum:
		return &Sum{p: w.p}
	default:
		return &Mean{p: w.p}
	}
}

// collect feeds every unit's bounded contributions to one aggregator per
// partition and counts the distinct units of each partition.
func (w *Window) collect(unitsMap map[string]*unitState) ([]partitionAgg, []int64, error) {
	aggs := make([]partitionAgg, len(w.keys))
	units := make([]int64, len(w.keys))
	for i := range aggs {
		aggs[i] = w.newAgg()
	}
	for _, u := range unitsMap {
		for i := range u.kept {
			k := &u.kept[i]
			if err := aggs[k.partition].addUnit(&k.c); err != nil {
				return nil, nil, err
			}
			units[k.partition]++
		}
	}
	return aggs, units, nil
}

// Release draws the noise and releases every declared partition, once.
// Partitions with fewer than MinUnits units are marked Suppressed and get
// no value. On any error nothing is released and the window stays
// released: a failed release is not retried.
func (w *Window) Release() (*Release, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != open {
		return nil, ErrReleased
	}
	w.state = released
	unitsMap := w.units
	w.units = nil
	if w.err != nil {
		return nil, fmt.Errorf("dp: window release refused: %w", w.err)
	}
	aggs, units, err := w.collect(unitsMap)
	if err != nil {
		return nil, fmt.Errorf("dp: window release refused: %w", err)
	}
	out := make([]PartitionValue, len(w.keys))
	for i, key := range w.keys {
		if units[i] < w.stmt.MinUnits {
			out[i] = PartitionValue{Key: key, Suppressed: true}
			continue
		}
		v, err := aggs[i].release(w.src)
		if err != nil {
			return nil, fmt.Errorf("dp: window release refused: partition %q: %w", key, err)
		}
		v.Key = key
		out[i] = v
	}
	return &Release{Statement: w.stmt.clone(), Partitions: out}, nil
}
