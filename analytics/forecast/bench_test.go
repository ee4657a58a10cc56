package forecast

import (
	"math/rand/v2"
	"testing"
)

// go test ./analytics/forecast/ -run XXX -bench . -benchmem

func BenchmarkFit(b *testing.B) {
	for _, tc := range []struct {
		name   string
		m, n   int
		damped bool
	}{
		{"hourly-daily-14d", 24, 24 * 14, false},
		{"hourly-daily-14d-damped", 24, 24 * 14, true},
		{"hourly-weekly-4w", 168, 168 * 4, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			y := noisySeries(rand.New(rand.NewPCG(1, 1)), tc.n, tc.m, 5)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fit(y, tc.m, Options{Damped: tc.damped}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	y := noisySeries(rng, 168*4, 168, 5)
	model, err := Fit(y, 168, Options{Damped: true})
	if err != nil {
		b.Fatal(err)
	}
	next := noisySeries(rng, 4096, 168, 5)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := model.Update(next[i%len(next)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkForecast(b *testing.B) {
	y := noisySeries(rand.New(rand.NewPCG(3, 3)), 24*14, 24, 5)
	model, err := Fit(y, 24, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := model.Forecast(24, 0.95); err != nil {
			b.Fatal(err)
		}
	}
}
