package dp

import (
	"math"
	"math/bits"
)

// i128 is a two's-complement signed 128-bit integer, used to accumulate
// partition totals exactly.
type i128 struct{ hi, lo uint64 }

func i128From(v int64) i128 { return i128{hi: uint64(v >> 63), lo: uint64(v)} }

func (a i128) negative() bool { return a.hi>>63 == 1 }

// add returns a+b and false on signed 128-bit overflow.
func (a i128) add(b i128) (i128, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	r := i128{hi, lo}
	if a.negative() == b.negative() && r.negative() != a.negative() {
		return a, false
	}
	return r, true
}

func (a i128) cmp(b i128) int {
	switch {
	case int64(a.hi) < int64(b.hi):
		return -1
	case int64(a.hi) > int64(b.hi):
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// sat converts a to int64, saturating at the int64 range.
func (a i128) sat() int64 { return a.clamp(math.MinInt64, math.MaxInt64) }

// clamp returns a clamped to [lo, hi].
func (a i128) clamp(lo, hi int64) int64 {
	if a.cmp(i128From(lo)) < 0 {
		return lo
	}
	if a.cmp(i128From(hi)) > 0 {
		return hi
	}
	return int64(a.lo)
}

// abs returns |a| as an unsigned 128-bit value.
func (a i128) abs() (hi, lo uint64) {
	if !a.negative() {
		return a.hi, a.lo
	}
	lo, c := bits.Add64(^a.lo, 1, 0)
	hi, _ = bits.Add64(^a.hi, 0, c)
	return hi, lo
}

// divRound returns a/n rounded half away from zero, saturated to int64;
// n must be positive.
func (a i128) divRound(n int64) int64 {
	hi, lo := a.abs()
	d := uint64(n)
	var c uint64
	lo, c = bits.Add64(lo, d/2, 0)
	hi += c
	qhi := hi / d
	qlo, _ := bits.Div64(hi%d, lo, d)
	if qhi != 0 || qlo > math.MaxInt64 {
		if a.negative() {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	if a.negative() {
		return -int64(qlo)
	}
	return int64(qlo)
}
