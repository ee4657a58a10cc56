// Command edge benchmarks the edge collector's record pipeline: 10^6 generated events with
// personal data through decode → allowlist → pseudonymise → generalise → encode, against a bare
// decode → encode passthrough of the same events, in alternating rounds of one run (the machine
// is noisy, so the ratio is the number to read). It prints name=value lines, the ratio last.
//
//	go run ./bench/edge [--events N] [--rounds R] [--seed S]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/transform"
)

func main() {
	events := flag.Int("events", 1_000_000, "events per round")
	rounds := flag.Int("rounds", 3, "alternating rounds of each")
	seed := flag.Uint64("seed", 1, "generator seed")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-edge:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*events, *rounds, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "bench-edge:", err)
		os.Exit(1)
	}
}

// pipeline is the benchmarked config: the contract's allowlist, pseudonymisation and
// generalisation.
const pipeline = `pipelines:
  flows:
    allow_fields: [ts, event, src_ip, dst_ip, dst_port, bytes, user, device, location]
    generalize:
      src_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      dst_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      ts: {bucket: 1m}
      location: {geohash: 6}
    pseudonymize: {fields: [user, device], key_ref: "env:BENCH_EDGE_KEY", key_id: bench, rotation: daily}
`

func generate(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	var b bytes.Buffer
	b.Grow(n * 300)
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, `{"ts":"%s","event":"flow","src_ip":"10.%d.%d.%d","dst_ip":"192.0.2.%d","dst_port":%d,"bytes":%d,`+
			`"user":"user%d@example.org","device":"%02x:%02x:%02x:%02x:%02x:%02x","plate":"AB-%03d-CD","location":[%.5f,%.5f],"note":"seq %d"}`+"\n",
			start.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256),
			[]int{22, 80, 443, 8080}[rng.IntN(4)], rng.IntN(100000), rng.IntN(5000),
			rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(1000),
			10+rng.Float64(), 59+rng.Float64(), i)
	}
	return b.Bytes()
}

// pass decodes every event and encodes it again, through plan when it is not nil.
func pass(data []byte, plan *transform.Plan) (int, time.Duration, error) {
	ctx := context.Background()
	d := decode.NewJSON(bytes.NewReader(data), decode.Options{})
	var enc decode.Encoder
	var buf []byte
	n := 0
	start := time.Now()
	for rec, err := range decode.Records(ctx, d) {
		if err != nil {
			return n, 0, err
		}
		if plan != nil {
			out, dropped, err := plan.Apply(rec)
			if err != nil {
				return n, 0, err
			}
			if dropped {
				continue
			}
			rec = out
		}
		if buf, err = enc.Append(buf[:0], rec); err != nil {
			return n, 0, err
		}
		buf = append(buf, '\n')
		if _, err := io.Discard.Write(buf); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, time.Since(start), nil
}

func run(events, rounds int, seed uint64) error {
	if os.Getenv("BENCH_EDGE_KEY") == "" {
		os.Setenv("BENCH_EDGE_KEY", "bench-edge-pseudonymisation-key-0123456789")
	}
	doc, err := transform.Parse("bench.yaml", []byte(pipeline))
	if err != nil {
		return err
	}
	plan, err := transform.Compile(doc.Pipelines["flows"])
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench-edge: generating %d events\n", events)
	data := generate(events, seed)
	var piped, bare []time.Duration
	for r := range rounds {
		for _, withPlan := range []bool{r%2 == 0, r%2 != 0} {
			p := plan
			if !withPlan {
				p = nil
			}
			n, d, err := pass(data, p)
			if err != nil {
				return err
			}
			if n != events {
				return fmt.Errorf("%d of %d events came out", n, events)
			}
			if withPlan {
				piped = append(piped, d)
			} else {
				bare = append(bare, d)
			}
			fmt.Fprintf(os.Stderr, "bench-edge: round %d, pipeline=%t: %s\n", r+1, withPlan, d.Round(time.Millisecond))
		}
	}
	mp, mb := median(piped), median(bare)
	fmt.Printf("edge_events=%d\n", events)
	fmt.Printf("edge_events_per_sec=%.0f\n", float64(events)/mp.Seconds())
	fmt.Printf("passthrough_events_per_sec=%.0f\n", float64(events)/mb.Seconds())
	fmt.Printf("edge_vs_passthrough_ratio=%.3f\n", mb.Seconds()/mp.Seconds())
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
