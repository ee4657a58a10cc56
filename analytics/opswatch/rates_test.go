package opswatch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestSensitivity is the mapping from monitoring priority to the rate detectors' sensitivity.
func TestSensitivity(t *testing.T) {
	tests := []struct {
		score     int
		sens      float64
		threshold float64 // at the default threshold 4
	}{
		{1, 1, 4}, {2, 1, 4}, {3, 1, 4},
		{4, 1.25, 3.2}, {6, 1.25, 3.2},
		{8, 1.6, 2.5}, {9, 1.6, 2.5},
		{12, 2, 2}, {16, 2, 2},
	}
	for _, tt := range tests {
		if s := Sensitivity(tt.score); s != tt.sens || 4/s != tt.threshold {
			t.Errorf("score %d: sensitivity %v (threshold %v), want %v (%v)", tt.score, s, 4/s, tt.sens, tt.threshold)
		}
	}
}

// TestPriorities maps what the twin knows of hosts and services to the names telemetry uses.
func TestPriorities(t *testing.T) {
	ents := []graph.MonitoredEntity{
		{Label: graph.LabelHost, Name: "web-1", Addresses: []string{"10.0.1.5"}, Statuses: []string{"SUPPORTED"}},
		{Label: graph.LabelHost, Name: "jump-1", Addresses: []string{"10.0.9.9"}, Criticality: "HIGH", Statuses: []string{"SUPPORTED", "UNDERMINED"}},
		{Label: graph.LabelService, Name: "db", Criticality: "CRITICAL", Hosts: []graph.MonitoredHost{{Name: "db-1", Addresses: []string{"10.0.2.7"}}}},
		{Label: graph.LabelService, Name: "shop", CrownJewel: true, Statuses: []string{"UNKNOWN"}, Hosts: []graph.MonitoredHost{{Name: "web-1"}}},
		{Label: graph.LabelService, Name: "blog", Criticality: "low", Statuses: []string{"SUPPORTED"}},
	}
	got := Priorities(ents)
	tests := []struct {
		name  string
		score int
		level string
		sens  float64
	}{
		{"web-1", 12, "CRITICAL", 2},    // its own claim holds (1×1), but the crown jewel it runs has an UNKNOWN claim (4×3)
		{"10.0.1.5", 1, "LOW", 1},       // the address is the host's own: the service names the host by name only
		{"jump-1", 12, "CRITICAL", 2},   // HIGH × UNDERMINED
		{"10.0.9.9", 12, "CRITICAL", 2}, // by address
		{"db", 8, "HIGH", 1.6},          // CRITICAL × no claim
		{"db-1", 8, "HIGH", 1.6},        // the host the database runs on
		{"10.0.2.7", 8, "HIGH", 1.6},
		{"shop", 12, "CRITICAL", 2},
		{"blog", 1, "LOW", 1}, // low, supported
	}
	for _, tt := range tests {
		p, ok := got[tt.name]
		if !ok || p.score != tt.score || p.level != tt.level || p.sens != tt.sens {
			t.Errorf("%s: %+v (%v), want %d %s %v", tt.name, p, ok, tt.score, tt.level, tt.sens)
		}
	}
	if _, ok := got["app-1"]; ok || defaultPriority.score != 2 || defaultPriority.sens != 1 {
		t.Errorf("an entity the twin does not rate: %+v", defaultPriority)
	}
}

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// flowsFrom is n flows from src (a host, by name) within minute m after t0, each to its own destination (so
// that only src's series moves).
func flowsFrom(twin, src string, m, n int) []telemetry.Event {
	out := make([]telemetry.Event, n)
	for i := range out {
		out[i] = telemetry.Event{ID: fmt.Sprintf("%s-%d-%d", src, m, i), Source: "test", Time: t0.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Second),
			Twin: twin, Kind: telemetry.KindFlow, Flow: &telemetry.Flow{Src: src, Dst: fmt.Sprintf("10.8.%d.%d", m, i), Port: 443, Proto: "tcp"}}
	}
	return out
}

// TestRateAnomalies feeds windows to a Watcher over the real Neo4j: thirty minutes of a steady
// ten flows a minute from two hosts, then a burst from one of them. A large burst from an
// unrated host is one rate anomaly; a moderate one (z ≈ 3.5) is not, while the same burst from
// the host running a CRITICAL service (monitoring priority HIGH, threshold 2.5) is.
func TestRateAnomalies(t *testing.T) {
	db := testenv.Migrated(t)
	tests := []struct {
		name  string
		burst map[string]int // flows in minute 30 by source address
		want  []string       // entities with a rate anomaly
	}{
		{"a large burst from an unrated host", map[string]int{"app-1": 60, "db-1": 10}, []string{"app-1"}},
		{"a moderate burst from both: only the high-priority host", map[string]int{"app-1": 21, "db-1": 21}, []string{"db-1"}},
		{"steady: nothing", map[string]int{"app-1": 10, "db-1": 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			twin := testenv.NewTwin(t, db)
			batch := graph.Batch{
				Nodes: []graph.NodeRow{
					{Label: graph.LabelHost, Key: "app-1", Props: map[string]any{"addresses": []any{"10.0.3.4"}}},
					{Label: graph.LabelHost, Key: "db-1", Props: map[string]any{"addresses": []any{"10.0.2.7"}}},
					{Label: graph.LabelService, Key: "db", Props: map[string]any{"criticality": "CRITICAL"}},
				},
				Edges: []graph.EdgeRow{{Type: "DEPLOYED_ON", From: graph.NodeRef{Label: graph.LabelService, Key: "db"}, To: graph.NodeRef{Label: graph.LabelHost, Key: "db-1"}}},
			}
			if _, err := db.Write(ctx, twin, batch, graph.WriteOptions{Source: "test"}); err != nil {
				t.Fatal(err)
			}
			var clock sync.Mutex // the background refresh of priorities reads it too
			now := t0
			w, err := NewWithOptions(db, nil, nil, zerolog.Nop(), Options{Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now }})
			if err != nil {
				t.Fatal(err)
			}
			for m := 0; m <= 32; m++ {
				var evs []telemetry.Event
				for _, src := range []string{"app-1", "db-1"} {
					n := 10
					if m == 30 {
						n = tt.burst[src]
					}
					evs = append(evs, flowsFrom(twin, src, m, n)...)
				}
				clock.Lock()
				now = t0.Add(time.Duration(m+1) * time.Minute)
				clock.Unlock()
				w.Window(ctx, twin, evs, graph.OpsResult{})
			}
			w.Wait()
			got, err := db.Anomalies(ctx, twin, t0.Add(-time.Hour), nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			var entities []string
			for _, a := range got {
				if a.Type != "rate" {
					continue
				}
				entities = append(entities, a.Entity)
				if !a.At.Equal(t0.Add(30*time.Minute)) || a.About == nil || a.About.Key != a.Entity || !strings.Contains(a.Explanation, "flows out of "+a.Entity) {
					t.Errorf("anomaly %+v", a)
				}
			}
			if fmt.Sprint(entities) != fmt.Sprint(tt.want) {
				t.Errorf("rate anomalies about %v, want %v: %+v", entities, tt.want, got)
			}
		})
	}
}

// BenchmarkWindow measures Window per event on a 50 000 events/s mix (flows 70%, failed and
// successful logins 15%, alerts 10%, metrics 5%) over 10 000 entities, in windows of 5 000
// events (the live-state worker's bound), with the priorities read from the real Neo4j.
//
//	NEO4J_URI=bolt://127.0.0.1:7687 go test ./analytics/opswatch/ -run XXX -bench Window -benchmem
func BenchmarkWindow(b *testing.B) {
	db := testenv.Migrated(b)
	twin := testenv.NewTwin(b, db)
	const entities, window, rate = 10000, 5000, 50000
	rng := rand.New(rand.NewPCG(7, 7))
	names := make([]string, entities)
	for i := range names {
		names[i] = fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
	}
	// 64 windows of events, replayed with times moved forward.
	const windows = 64
	evs := make([][]telemetry.Event, windows)
	for w := range evs {
		evs[w] = make([]telemetry.Event, window)
		for i := range evs[w] {
			e := telemetry.Event{ID: fmt.Sprint(w, "-", i), Source: "bench", Twin: twin}
			src, dst := names[rng.IntN(entities)], names[rng.IntN(entities)]
			switch r := rng.IntN(100); {
			case r < 70:
				e.Kind, e.Flow = telemetry.KindFlow, &telemetry.Flow{Src: src, Dst: dst, Port: 443, Proto: "tcp", Bytes: 1000}
			case r < 85:
				outcome := "failure"
				if r < 80 {
					outcome = "success"
				}
				e.Kind, e.Auth = telemetry.KindAuth, &telemetry.Auth{Principal: "u" + fmt.Sprint(rng.IntN(200000)), Outcome: outcome, Src: src, Target: dst}
			case r < 95:
				e.Kind, e.Alert = telemetry.KindAlert, &telemetry.Alert{Source: "suricata", Rule: "2010935", Severity: "MEDIUM", Entity: dst}
			default:
				e.Kind, e.Metric = telemetry.KindMetric, &telemetry.Metric{Entity: dst, Name: "cpu", Value: 0.5}
			}
			evs[w][i] = e
		}
	}
	ctx := context.Background()
	start := time.Now().Add(-24 * time.Hour)
	now := start
	w, err := NewWithOptions(db, nil, nil, zerolog.Nop(), Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	step := time.Duration(window) * time.Second / rate // 100 ms of traffic per window
	k := 0
	feed := func() {
		batch := evs[k%windows]
		base := start.Add(time.Duration(k) * step)
		for i := range batch {
			batch[i].Time = base.Add(time.Duration(i) * step / window)
		}
		now = base.Add(step)
		w.Window(ctx, twin, batch, graph.OpsResult{})
		k++
	}
	for range 1200 { // two minutes of traffic (few principals fail often enough to be brute force): the baselines exist and the buckets close
		feed()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		feed()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*window), "ns/event")
}
