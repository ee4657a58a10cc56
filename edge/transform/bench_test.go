package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/transform"
)

// The benchmarks compare a pipeline (decode → allowlist + 2 pseudonyms + 2 IP prefixes + time
// bucket + GPS grid → encode) with a bare decode → encode of the same JSON lines, one event
// per op. Compare their events/s (the design note's per-event figures, section 6):
//
//	go test ./edge/transform -run '^$' -bench 'Pipeline|Passthrough' -benchtime 1000000x

// benchEvents generates n distinct netflow-like JSON lines with personal data.
func benchEvents(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	base := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	for i := range n {
		src := fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256))
		if i%5 == 0 {
			src = fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(65536), r.IntN(65536), r.IntN(65536))
		}
		fmt.Fprintf(&b, `{"ts":%q,"src_ip":%q,"dst_ip":"203.0.113.%d","src_port":%d,"dst_port":%d,"proto":"tcp","bytes":%d,"pkts":%d,`+
			`"device_id":"dev-%05d","user":"user%d@example.org","site":"site-%d","gps":{"lat":%.6f,"lon":%.6f},`+
			`"mac":"3c:22:fb:%02x:%02x:%02x","event_type":"flow","note":"flow from workstation %d to gateway, policy allow"}`+"\n",
			base.Add(time.Duration(i)*137*time.Millisecond).Format(time.RFC3339Nano), src, r.IntN(256), 1024+r.IntN(60000),
			[]int{22, 53, 80, 443, 8883}[r.IntN(5)], r.IntN(1<<20), 1+r.IntN(1000), r.IntN(5000), r.IntN(5000), r.IntN(12),
			41+r.Float64(), -8-r.Float64(), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(100))
	}
	return b.Bytes()
}

// loopReader serves data over and over, so a decoder never runs dry.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

var benchConfig = transform.Config{
	AllowFields: []string{"ts", "src_ip", "dst_ip", "dst_port", "proto", "bytes", "site"},
	Pseudonymize: &transform.Pseudonymize{
		Fields: []string{"device_id", "user"}, Fn: "hmac-sha256", KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: "quarterly",
	},
	Generalize: map[string]transform.Generalize{
		"src_ip":  ip(24, 48),
		"dst_ip":  ip(24, 48),
		"ts":      {Bucket: "1m"},
		"gps.lat": {GridM: floatp(500), LonField: "gps.lon"},
	},
}

const benchLines = 4096

func benchmarkLoop(b *testing.B, plan *transform.Plan) {
	data := benchEvents(benchLines)
	d := decode.NewJSON(&loopReader{data: data}, decode.Options{})
	var enc decode.Encoder
	var buf []byte
	ctx := context.Background()
	b.SetBytes(int64(len(data) / benchLines))
	b.ReportAllocs()
	for b.Loop() {
		rec, err := d.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if plan != nil {
			if rec, _, err = plan.Apply(rec); err != nil {
				b.Fatal(err)
			}
		}
		if buf, err = enc.Append(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
		buf = append(buf, '\n')
		_, _ = io.Discard.Write(buf)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPipeline: decode, minimise (allowlist, 2× HMAC-SHA256, 2× IP prefix, 1-minute
// time bucket, 500 m GPS grid), encode.
func BenchmarkPipeline(b *testing.B) {
	benchmarkLoop(b, compile(b, benchConfig))
}

// BenchmarkPassthrough: decode and encode the same lines, nothing else.
func BenchmarkPassthrough(b *testing.B) {
	benchmarkLoop(b, nil)
}

// BenchmarkPassthroughStdlib: the same passthrough with encoding/json into map[string]any,
// for reference.
func BenchmarkPassthroughStdlib(b *testing.B) {
	data := benchEvents(benchLines)
	dec := json.NewDecoder(&loopReader{data: data})
	dec.UseNumber()
	b.SetBytes(int64(len(data) / benchLines))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			b.Fatal(err)
		}
		out, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Discard.Write(append(out, '\n'))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestBenchEventsArePipelined: the benchmark's events really go through every transform.
func TestBenchEventsArePipelined(t *testing.T) {
	p := compile(t, benchConfig)
	d := decode.NewJSON(bytes.NewReader(benchEvents(20)), decode.Options{})
	for rec, err := range decode.Records(context.Background(), d) {
		if err != nil {
			t.Fatal(err)
		}
		out := apply(t, p, rec)
		if len(out) != 11 || !pseudonymRE.MatchString(out["user"].(string)) {
			t.Fatalf("%v", out)
		}
	}
	if s := p.Stats(); s.Pseudonymized != 40 || s.Generalized != 80 || s.GeneralizeFailed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// BenchmarkPipelineVsPassthrough alternates chunks of events between the pipeline and the
// passthrough, so both see the same machine load, and reports their throughput ratio
// (pipeline events/s ÷ passthrough events/s) as "ratio". One op is one event of each.
func BenchmarkPipelineVsPassthrough(b *testing.B) {
	ratioBench(b, compile(b, benchConfig), benchEvents(benchLines))
}

func ratioBench(b *testing.B, plan *transform.Plan, data []byte) {
	piped := decode.NewJSON(&loopReader{data: data}, decode.Options{})
	bare := decode.NewJSON(&loopReader{data: data}, decode.Options{})
	var enc decode.Encoder
	var buf []byte
	ctx := context.Background()
	var tPiped, tBare time.Duration
	const chunk = 1000
	run := func(d decode.Decoder, p *transform.Plan, n int) time.Duration {
		start := time.Now()
		for range n {
			rec, err := d.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if p != nil {
				if rec, _, err = p.Apply(rec); err != nil {
					b.Fatal(err)
				}
			}
			if buf, err = enc.Append(buf[:0], rec); err != nil {
				b.Fatal(err)
			}
			_, _ = io.Discard.Write(append(buf, '\n'))
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i += chunk {
		n := min(chunk, b.N-i)
		if (i/chunk)%2 == 0 {
			tPiped += run(piped, plan, n)
			tBare += run(bare, nil, n)
		} else {
			tBare += run(bare, nil, n)
			tPiped += run(piped, plan, n)
		}
	}
	b.ReportMetric(tBare.Seconds()/tPiped.Seconds(), "ratio")
	b.ReportMetric(float64(b.N)/tPiped.Seconds(), "pipeline-events/s")
	b.ReportMetric(float64(b.N)/tBare.Seconds(), "passthrough-events/s")
}
