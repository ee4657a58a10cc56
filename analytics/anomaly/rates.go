package anomaly

import (
	"fmt"
	"time"
)

// RatesOptions configures a Rates. Zero fields take their defaults.
type RatesOptions struct {
	// Step is the width of the buckets events are counted in, by event time. Default 1 minute.
	Step time.Duration
	// Grace is how long after a bucket ends Close waits for late events before scoring it.
	// Default one Step.
	Grace time.Duration
	// MaxKeys bounds the baselines kept; the least recently counted is evicted (its open bucket
	// unscored) to make room. Default 100 000.
	MaxKeys int
	// MaxFill bounds the empty buckets folded in for a silence: a key silent for longer has its
	// last MaxFill buckets folded in as zeros (by then the older ones would weigh little).
	// Default 4 × the baseline's HalfLife.
	MaxFill int
	// Rate configures each key's baseline.
	Rate RateOptions
}

// Rates keeps one Rate baseline per key (an entity and a series) over counts of events per
// fixed bucket of event time. Count adds events to a key's open bucket; a bucket is scored
// (Rate.Observe) when it is closed: by a later event of the same key, or by Close once the
// stream's time has passed the bucket's end by Grace. Buckets in which a key had no event are
// folded in as zeros before its next bucket, so a key's baseline counts its silences, but they
// are never reported: a silence is a heartbeat's business, not a rate's. An event older than
// its key's open bucket is counted in that bucket; one older than a bucket already scored is
// dropped (Late counts them).
//
// It is not safe for use by several goroutines at once. Count and Close allocate nothing once
// the keys have reached their bound, except for a new key's baseline.
type Rates[K comparable] struct {
	opt  RatesOptions
	step int64 // nanoseconds
	keys lru[K]
	ser  []rateSeries
	late uint64
	own  func(K) K
}

// rateSeries is one key's baseline and its open bucket.
type rateSeries struct {
	rate   *Rate
	open   int64 // the open bucket's index (its start / step), valid when active
	count  float64
	active bool
	last   int64 // the last bucket scored or folded in, valid when scored
	scored bool
}

// Scored is a bucket a Rates scored: its key and its result.
type Scored[K comparable] struct {
	Key K
	Result
}

// NewRates returns an empty set of baselines.
func NewRates[K comparable](o RatesOptions) (*Rates[K], error) {
	if o.Step == 0 {
		o.Step = time.Minute
	}
	if o.Step < time.Millisecond || o.Step > 7*24*time.Hour {
		return nil, fmt.Errorf("rates option Step = %v: %w", o.Step, ErrInvalidOptions)
	}
	if o.Grace == 0 {
		o.Grace = o.Step
	}
	if o.Grace < 0 {
		return nil, fmt.Errorf("rates option Grace = %v: %w", o.Grace, ErrInvalidOptions)
	}
	if o.MaxKeys == 0 {
		o.MaxKeys = 100000
	}
	if o.MaxKeys < 1 || o.MaxKeys > 1<<30 {
		return nil, fmt.Errorf("rates option MaxKeys = %d: %w", o.MaxKeys, ErrInvalidOptions)
	}
	ro, err := o.Rate.withDefaults()
	if err != nil {
		return nil, err
	}
	o.Rate = ro
	if o.MaxFill == 0 {
		o.MaxFill = int(min(4*ro.HalfLife, 1e6))
	}
	if o.MaxFill < 0 {
		return nil, fmt.Errorf("rates option MaxFill = %d: %w", o.MaxFill, ErrInvalidOptions)
	}
	return &Rates[K]{opt: o, step: int64(o.Step), keys: newLRU[K](o.MaxKeys)}, nil
}

// OwnKeys sets a function that copies a new key before it is kept (strings.Clone for keys
// that hold strings sliced from a larger buffer, which keeping them would pin).
func (s *Rates[K]) OwnKeys(f func(K) K) { s.own = f }

// Options returns the options in force, defaults filled in.
func (s *Rates[K]) Options() RatesOptions { return s.opt }

// Len is the number of keys held.
func (s *Rates[K]) Len() int { return s.keys.len() }

// Late is the number of events dropped because their bucket was already scored.
func (s *Rates[K]) Late() uint64 { return s.late }

// Bucket is the start of the bucket t falls in.
func (s *Rates[K]) Bucket(t time.Time) time.Time { return time.Unix(0, s.index(t)*s.step).UTC() }

func (s *Rates[K]) index(t time.Time) int64 {
	ns := t.UnixNano()
	i := ns / s.step
	if ns < 0 && ns%s.step != 0 {
		i--
	}
	return i
}

// Count adds n events (n > 0) at t to key's bucket. When t falls after the key's open bucket,
// that bucket is scored first, with the sensitivity sens gives the key (see Rate.Observe; sens
// is called only then), and returned with scored true.
func (s *Rates[K]) Count(key K, t time.Time, n float64, sens func(K) float64) (res Scored[K], scored bool) {
	if !(n > 0 && n <= MaxValue) {
		return res, false
	}
	b := s.index(t)
	slot, ok := s.keys.get(key)
	if ok {
		s.keys.touch(slot)
	} else {
		var evicted bool
		if s.own != nil {
			key = s.own(key)
		}
		if slot, evicted, ok = s.keys.add(key); !ok {
			return res, false
		}
		if int(slot) == len(s.ser) {
			s.ser = append(s.ser, rateSeries{})
		}
		r := s.ser[slot].rate
		if !evicted || r == nil {
			r, _ = NewRate(s.opt.Rate) // the options are valid
		} else {
			r.reset()
		}
		s.ser[slot] = rateSeries{rate: r, open: b, count: n, active: true}
		return res, false
	}
	se := &s.ser[slot]
	switch {
	case se.active && b <= se.open:
		se.count += n
		return res, false
	case se.active:
		res, scored = s.score(key, se, sens(key))
	case se.scored && b <= se.last:
		s.late++
		return res, false
	}
	if se.scored {
		s.fill(se, b)
	}
	se.open, se.count, se.active = b, n, true
	return res, scored
}

// Close scores the open buckets that ended at least Grace before now (the stream's time: the
// newest event time seen), appending the anomalous ones to out. sens gives each key's
// sensitivity. It visits every key: call it once per bucket, not per event.
func (s *Rates[K]) Close(now time.Time, sens func(K) float64, out []Scored[K]) []Scored[K] {
	through := s.index(now.Add(-s.opt.Grace)) // buckets before this one have ended Grace ago
	for slot := range s.ser {
		se := &s.ser[slot]
		if !se.active || se.open >= through {
			continue
		}
		key := s.keys.nodes[slot].key
		if r, ok := s.score(key, se, sens(key)); ok && r.Anomalous {
			out = append(out, r)
		}
	}
	return out
}

// score folds the open bucket in and closes it.
func (s *Rates[K]) score(key K, se *rateSeries, sens float64) (Scored[K], bool) {
	if se.scored {
		s.fill(se, se.open)
	}
	r, err := se.rate.Observe(time.Unix(0, se.open*s.step).UTC(), se.count, sens)
	se.active, se.scored, se.last = false, true, se.open
	if err != nil {
		return Scored[K]{}, false
	}
	return Scored[K]{Key: key, Result: r}, true
}

// fill folds in zeros for the empty buckets after the last scored one and before b.
func (s *Rates[K]) fill(se *rateSeries, b int64) {
	from := se.last + 1
	if b-from > int64(s.opt.MaxFill) {
		from = b - int64(s.opt.MaxFill)
	}
	for i := from; i < b; i++ {
		_, _ = se.rate.Observe(time.Unix(0, i*s.step).UTC(), 0, 1)
	}
	if b-1 > se.last {
		se.last = b - 1
	}
}

// reset empties a baseline for reuse by another key.
func (r *Rate) reset() {
	slots := r.slots
	clear(slots)
	*r = Rate{opt: r.opt, alpha: r.alpha, alphaSlot: r.alphaSlot, slots: slots}
}
