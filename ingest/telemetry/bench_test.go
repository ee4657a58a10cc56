package telemetry

import (
	"strings"
	"testing"
	"time"
)

// typicalEvents are one typical event of each kind, as the worker receives them.
func typicalEvents(at time.Time) []Event {
	base := Event{ID: "1-42", Source: "urn:sectwin:bench:zeek-1", Time: at, Twin: "t"}
	with := func(kind string, set func(*Event)) Event {
		e := base
		e.Kind = kind
		set(&e)
		return e
	}
	return []Event{
		with(KindFlow, func(e *Event) {
			e.Flow = &Flow{Src: "10.1.2.3", Dst: "10.2.3.4", Port: 443, Proto: "tcp", Bytes: 12345, Packets: 13}
		}),
		with(KindAuth, func(e *Event) {
			e.Subject = "bastion-1"
			e.Auth = &Auth{Principal: "k2026q4:Q2hhbmdlIG1lIHBsZWFz", Outcome: "failure", Src: "192.0.2.7", Target: "bastion-1", Method: "password"}
		}),
		with(KindAlert, func(e *Event) {
			e.Alert = &Alert{Source: "suricata", Rule: "2210045", Severity: "HIGH", Entity: "10.2.3.4",
				Message: "SURICATA STREAM Packet with invalid ack", Technique: "T1046"}
		}),
		with(KindMetric, func(e *Event) {
			e.Metric = &Metric{Entity: "urn:ngsi-ld:ParkingSpot:1", Name: "occupancy", Value: 0.75, Unit: "ratio"}
		}),
		with(KindDeploy, func(e *Event) {
			e.Deploy = &Deploy{Service: "checkout", Digest: "sha256:" + strings.Repeat("3f", 32), Host: "web-1"}
		}),
	}
}

// BenchmarkDecodeFor measures the worker's per-event decode of a typical event of each kind:
// DecodeFor (the fast path), and the slow path it falls back to for comparison. cpu-ns/op is
// the process's CPU time per op (GC included; all the process's threads, so run it with -cpu 1
// for a per-core figure): on a machine shared with Neo4j and NATS, ns/op also counts the wait
// for a core.
func BenchmarkDecodeFor(b *testing.B) {
	for _, path := range []struct {
		name   string
		decode func(twin, kind string, data []byte) (Event, error)
	}{
		{"fast", DecodeFor},
		{"slow", func(twin, kind string, data []byte) (Event, error) {
			return decodeEventSlow(data, twin, kind, time.Now())
		}},
	} {
		for _, ev := range typicalEvents(time.Now().UTC()) {
			data, err := Encode(ev)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(path.name+"/"+ev.Kind, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				cpu0, ok := processCPU()
				for b.Loop() {
					if _, err := path.decode("t", ev.Kind, data); err != nil {
						b.Fatal(err)
					}
				}
				if cpu1, _ := processCPU(); ok {
					b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
