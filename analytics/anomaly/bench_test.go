package anomaly

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// go test ./analytics/anomaly/ -run XXX -bench . -benchmem

func BenchmarkRateObserve(b *testing.B) {
	for _, tc := range []struct {
		name string
		opt  RateOptions
	}{
		{"plain", RateOptions{Poisson: true}},
		{"seasonal", RateOptions{Seasonal: true, Poisson: true, Location: time.FixedZone("CET", 3600)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r, _ := NewRate(tc.opt)
			rng := rand.New(rand.NewPCG(1, 1))
			values := make([]float64, 4096)
			for i := range values {
				values[i] = float64(rng.IntN(40))
			}
			b.ReportAllocs()
			i, at := 0, t0
			for b.Loop() {
				at = at.Add(time.Second) // b.N can reach 10^8: 5-minute steps would pass year 2262
				if _, err := r.Observe(at, values[i%len(values)], 1); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkEdgesObserve(b *testing.B) {
	const capacity = 100000
	edges := make([]Edge, 4*capacity)
	for i := range edges {
		edges[i] = Edge{Src: "10.0." + strconv.Itoa(i/250%250) + "." + strconv.Itoa(i%250), Dst: "10.1.0." + strconv.Itoa(i%7),
			Port: 1024 + i%50000, Proto: "tcp"}
	}
	// known: every edge fits and has been seen; churn: four times the capacity in rotation,
	// so every observation is new and evicts.
	for _, tc := range []struct {
		name string
		n    int
	}{{"known", capacity / 2}, {"churn", len(edges)}} {
		b.Run(tc.name, func(b *testing.B) {
			s, _ := NewEdges(capacity)
			for i := range min(tc.n, capacity) {
				s.Observe(t0, edges[i], "")
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Observe(t0, edges[i%tc.n], "ref")
				i++
			}
		})
	}
}

func BenchmarkBruteForceObserve(b *testing.B) {
	d, _ := NewBruteForce(BruteForceOptions{Failures: 10, Window: time.Minute, MaxKeys: 10000})
	rng := rand.New(rand.NewPCG(2, 2))
	events := make([]AuthEvent, 1<<16)
	names := make([]string, 20000) // twice MaxKeys: keys are evicted and come back
	for i := range names {
		names[i] = "user" + strconv.Itoa(i)
	}
	for i := range events {
		events[i] = AuthEvent{Principal: names[rng.IntN(len(names))], Success: rng.IntN(20) == 0, Ref: "ev"}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := events[i%len(events)]
		ev.Time = t0.Add(time.Duration(i) * time.Millisecond)
		if _, err := d.Observe(ev); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkTravelObserve(b *testing.B) {
	d, _ := NewTravel(TravelOptions{MaxPrincipals: 10000})
	rng := rand.New(rand.NewPCG(3, 3))
	locs := []string{paris.String(), nyc.String(), london.String(), "35.6762,139.6503"}
	events := make([]AuthEvent, 1<<16)
	for i := range events { // each user at home, but for one login in a hundred
		u := rng.IntN(5000)
		loc := locs[u%len(locs)]
		if rng.IntN(100) == 0 {
			loc = locs[rng.IntN(len(locs))]
		}
		events[i] = AuthEvent{Principal: "user" + strconv.Itoa(u), Success: true, Location: loc}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := events[i%len(events)]
		ev.Time = t0.Add(time.Duration(i) * time.Second)
		if _, err := d.Observe(ev); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
