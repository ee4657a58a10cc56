package transform

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

// bounder admits at most max records per privacy unit per tumbling window of processing
// time. Units are kept as keyed 64-bit hashes (maphash, random per process), so raw
// identifiers are never held in memory; a collision only bounds two units together.
type bounder struct {
	max, maxUnits int
	window        time.Duration
	seed          maphash.Seed

	mu     sync.Mutex
	start  int64 // window start, Unix ns
	counts map[uint64]int
}

func newBounder(max int, window time.Duration, maxUnits int) *bounder {
	return &bounder{max: max, maxUnits: maxUnits, window: window, seed: maphash.MakeSeed(), counts: map[uint64]int{}, start: -1}
}

// missingUnit stands for every record without a privacy unit: they share one allowance.
const missingUnit = "\x00no privacy unit"

func (b *bounder) admit(unit any, now time.Time) bool {
	text, ok := decode.ScalarText(unit)
	if !ok {
		text = missingUnit
	}
	h := maphash.String(b.seed, text)
	start := floorDiv(now.UnixNano(), int64(b.window))
	b.mu.Lock()
	defer b.mu.Unlock()
	if start != b.start {
		clear(b.counts)
		b.start = start
	}
	n, seen := b.counts[h]
	switch {
	case n >= b.max:
		return false
	case !seen && len(b.counts) >= b.maxUnits:
		return false // fail closed rather than grow without bound
	}
	b.counts[h] = n + 1
	return true
}
