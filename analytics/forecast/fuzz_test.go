package forecast

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// decode turns fuzz bytes into a season, options and values, often special: NaN, ±Inf, huge,
// negative.
func decode(data []byte) (season int, opt Options, values []float64) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	season = int(next()%12) - 1
	flags := next()
	opt.Damped = flags&1 != 0
	opt.NonNegative = flags&2 != 0
	if flags&4 != 0 {
		opt.Params = &Params{Alpha: float64(next()) / 255, Beta: float64(next()) / 255, Gamma: float64(next()) / 255,
			Phi: float64(next()) / 255}
	}
	for len(data) > 0 && len(values) < 200 {
		switch k := next(); k % 16 {
		case 0:
			values = append(values, math.NaN())
		case 1:
			values = append(values, math.Inf(1-2*int(k/16%2)))
		case 2:
			values = append(values, MaxAbs*float64(int(next())-128)/64)
		case 3:
			var b [8]byte
			for i := range b {
				b[i] = next()
			}
			values = append(values, math.Float64frombits(binary.LittleEndian.Uint64(b[:])))
		default:
			values = append(values, float64(int(next())-16)*float64(k))
		}
	}
	return season, opt, values
}

func FuzzFitUpdate(f *testing.F) {
	f.Add([]byte{4, 0, 5, 10, 6, 20, 7, 30, 8, 40, 5, 12, 6, 22, 7, 31, 8, 44, 5, 9, 6, 30})
	f.Add([]byte{3, 7, 200, 100, 50, 255, 9, 1, 9, 2, 9, 3, 9, 1, 9, 2, 9, 3, 0, 1, 2, 4, 128})
	f.Add([]byte{2, 1, 2, 255, 2, 0, 2, 255, 2, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		season, opt, values := decode(data)
		split := min(len(values), 2*max(season, 2)+len(values)/4)
		m, err := Fit(values[:split], season, opt)
		if err != nil {
			if !errors.Is(err, ErrSeason) && !errors.Is(err, ErrTooShort) && !errors.Is(err, ErrInvalidValue) &&
				!errors.Is(err, ErrInvalidParams) && !errors.Is(err, ErrDiverged) {
				t.Fatalf("Fit: unexpected error %v", err)
			}
			return
		}
		check := func(stage string) {
			if !m.finite() || math.IsNaN(m.Sigma()) || math.IsInf(m.Sigma(), 0) {
				t.Fatalf("%s: non-finite model %+v", stage, m)
			}
			pts, err := m.Forecast(2*season+1, 0.95)
			if err != nil {
				t.Fatalf("%s: Forecast: %v", stage, err)
			}
			for _, p := range pts {
				if math.IsNaN(p.Mean) || !(p.Lower <= p.Mean && p.Mean <= p.Upper) ||
					(opt.NonNegative && p.Lower < 0) {
					t.Fatalf("%s: point %+v", stage, p)
				}
			}
		}
		check("fit")
		for i, v := range values[split:] {
			n := m.Len()
			err := m.Update(v)
			switch {
			case err == nil:
				if m.Len() != n+1 {
					t.Fatalf("update %d: len %d → %d", i, n, m.Len())
				}
			case errors.Is(err, ErrInvalidValue) || errors.Is(err, ErrDiverged):
				if m.Len() != n {
					t.Fatalf("update %d: rejected %v but len %d → %d", i, v, n, m.Len())
				}
			default:
				t.Fatalf("update %d: %v", i, err)
			}
			if i%7 == 3 {
				n := m.Len()
				if err := m.Skip(); (err == nil) != (m.Len() == n+1) || (err != nil && !errors.Is(err, ErrDiverged)) {
					t.Fatalf("skip after update %d: %v, len %d → %d", i, err, n, m.Len())
				}
			}
		}
		check("updates")
	})
}
