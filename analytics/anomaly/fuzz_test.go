package anomaly

import (
	"encoding/binary"
	"math"
	"strconv"
	"testing"
	"time"
)

// byteReader hands out fuzz bytes; past the end it returns zeros.
type byteReader []byte

func (r *byteReader) byte() byte {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return b
}

// value decodes a float64 that is often special: NaN, ±Inf, negative, huge, or ordinary.
func (r *byteReader) value() float64 {
	switch k := r.byte(); k % 8 {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1)
	case 2:
		return -float64(r.byte())
	case 3:
		return MaxValue * float64(r.byte()) / 128
	case 4:
		var b [8]byte
		for i := range b {
			b[i] = r.byte()
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
	default:
		return float64(r.byte()) * float64(k)
	}
}

// step decodes a time step that is sometimes backwards.
func (r *byteReader) step() time.Duration {
	b := r.byte()
	if b >= 250 {
		return -time.Duration(b-249) * time.Hour
	}
	return time.Duration(b) * 7 * time.Minute
}

func FuzzRateObserve(f *testing.F) {
	f.Add([]byte{0, 5, 10, 5, 10, 5, 10, 5, 10, 5, 200, 5, 250, 5, 0, 0})
	f.Add([]byte{1, 3, 1, 0, 2, 5, 1, 1, 255, 6, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{7, 2, 3, 100, 3, 255, 7, 12, 4, 255, 255, 255, 255, 255, 255, 239, 127})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := byteReader(data)
		opt := RateOptions{
			HalfLife: float64(r.byte()%50 + 1), Warmup: int(r.byte() % 8), Seasonal: r.byte()%2 == 1,
			Poisson: r.byte()%2 == 1, Direction: Direction(r.byte() % 3), SeasonalHalfLife: float64(r.byte()%5 + 1),
		}
		if r.byte()%3 == 0 {
			opt.Clip = math.Inf(1)
		}
		rate, err := NewRate(opt)
		if err != nil {
			t.Fatal(err)
		}
		at := t0
		lo, hi := math.Inf(1), math.Inf(-1)
		for len(r) > 0 {
			at = at.Add(r.step())
			v := r.value()
			sens := float64(r.byte()) / 16
			res, err := rate.Observe(at, v, sens)
			valid := v >= 0 && v <= MaxValue
			if !valid {
				if err != ErrInvalidValue {
					t.Fatalf("value %v: %v", v, err)
				}
				continue
			}
			if err != nil {
				if err != ErrOutOfOrder {
					t.Fatalf("value %v at %v: %v", v, at, err)
				}
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			for _, x := range []float64{res.Score, res.Z, res.Expected, res.Scale, res.Threshold} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("non-finite result %+v", res)
				}
			}
			if res.Score < 0 || (res.Anomalous && !res.Warm) || (res.HasExpected && (res.Expected < lo || res.Expected > hi)) {
				t.Fatalf("result %+v (values in [%v, %v])", res, lo, hi)
			}
			_ = res.Explanation()
		}
	})
}

func FuzzEdgesObserve(f *testing.F) {
	f.Add(uint8(3), []byte{0, 1, 2, 3, 0, 1, 4, 5, 6, 0, 7, 200, 201})
	f.Add(uint8(1), []byte{255, 0, 255, 0, 1, 1, 1})
	f.Fuzz(func(t *testing.T, capacity uint8, data []byte) {
		s, err := NewEdges(int(capacity%16) + 1)
		if err != nil {
			t.Fatal(err)
		}
		// A reference model of the same set: edge → last use (pinned: -1).
		ref := map[Edge]int{}
		for i, b := range data {
			e := Edge{Src: strconv.Itoa(int(b % 5)), Dst: strconv.Itoa(int(b / 5 % 5)), Port: int(b/25) - 1, Proto: "tcp"}
			if b%7 == 0 {
				e.Src = ""
			}
			if b >= 200 { // seed
				_, known := ref[e]
				wantErr := !e.valid() || (!known && s.Pinned() >= s.set.capacity)
				if err := s.Seed(e); (err != nil) != wantErr {
					t.Fatalf("seed %v: %v", e, err)
				}
				if !wantErr {
					if !known && len(ref) == s.set.capacity {
						evictLRU(ref)
					}
					ref[e] = -1
				}
				continue
			}
			res, err := s.Observe(t0, e, "")
			if !e.valid() {
				if err != ErrInvalidEdge {
					t.Fatalf("%v: %v", e, err)
				}
				continue
			}
			last, known := ref[e]
			if res.New == known || res.Pinned != (last == -1 && known) {
				t.Fatalf("step %d %v: %+v, reference known=%v", i, e, res, known)
			}
			switch {
			case known && last >= 0:
				ref[e] = i
			case !known && res.Remembered:
				if len(ref) == s.set.capacity {
					evictLRU(ref)
				}
				ref[e] = i
			}
			if s.Len() != len(ref) || s.Len() > s.set.capacity {
				t.Fatalf("len %d, reference %d", s.Len(), len(ref))
			}
		}
	})
}

// evictLRU removes the least recently used unpinned edge of a reference model.
func evictLRU(ref map[Edge]int) {
	var victim Edge
	best := math.MaxInt
	for e, at := range ref {
		if at >= 0 && at < best {
			victim, best = e, at
		}
	}
	delete(ref, victim)
}

func FuzzBruteForceObserve(f *testing.F) {
	f.Add([]byte{3, 10, 2, 0, 1, 0, 1, 0, 1, 0, 129, 0, 2, 0})
	f.Add([]byte{1, 1, 1, 255, 0, 255, 128, 0, 0, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := byteReader(data)
		opt := BruteForceOptions{Failures: int(r.byte()%6) + 1, Window: time.Duration(r.byte()%20+1) * time.Second,
			MaxKeys: int(r.byte()%4) + 1, By: KeyBy(r.byte() % 2)}
		d, err := NewBruteForce(opt)
		if err != nil {
			t.Fatal(err)
		}
		at := t0
		for len(r) > 0 {
			b := r.byte()
			at = at.Add(time.Duration(int(r.byte())-16) * 100 * time.Millisecond)
			ev := AuthEvent{Time: at, Principal: strconv.Itoa(int(b % 5)), Src: strconv.Itoa(int(b / 5 % 3)), Success: b >= 128}
			if b%11 == 0 {
				ev.Principal, ev.Src = "", ""
			}
			fd, err := d.Observe(ev)
			if err != nil && err != ErrOutOfOrder {
				t.Fatal(err)
			}
			if d.Keys() > opt.MaxKeys {
				t.Fatalf("%d keys", d.Keys())
			}
			if fd == nil {
				continue
			}
			n := len(fd.Evidence)
			if fd.Succeeded {
				n--
			}
			if n != opt.Failures || fd.Span < 0 || fd.Span >= opt.Window || !(fd.Score > 0 && fd.Score <= 1) {
				t.Fatalf("finding %+v", fd)
			}
		}
	})
}

func FuzzTravelObserve(f *testing.F) {
	f.Add(uint8(0), int64(0), "48.8566,2.3522", int64(3600e9), "40.7128,-74.006")
	f.Add(uint8(1), int64(-1), "0,0", int64(0), "0,180")
	f.Add(uint8(2), int64(5e9), "NaN,1", int64(1e9), " 90 , -180 ")
	f.Fuzz(func(t *testing.T, who uint8, d1 int64, loc1 string, d2 int64, loc2 string) {
		d, err := NewTravel(TravelOptions{MinDistanceKm: float64(who % 3)})
		if err != nil {
			t.Fatal(err)
		}
		p := strconv.Itoa(int(who % 2))
		t1 := t0.Add(time.Duration(d1))
		t2 := t1.Add(time.Duration(d2))
		for _, ev := range []AuthEvent{
			{Time: t1, Principal: p, Success: true, Location: loc1},
			{Time: t2, Principal: "0", Success: true, Location: loc2},
		} {
			f, err := d.Observe(ev)
			if f == nil {
				continue
			}
			if err != nil || !(f.Score > 0 && f.Score <= 1) || !(f.DistanceKm >= 0 && f.DistanceKm <= math.Pi*EarthRadiusKm+1e-6) ||
				math.IsNaN(f.SpeedKmh) || math.IsInf(f.SpeedKmh, 0) || f.Gap < 0 {
				t.Fatalf("%+v, %v", f, err)
			}
		}
	})
}
