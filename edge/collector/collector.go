package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/budget"
	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/dp"
	"github.com/sectwin/sectwin/edge/input"
	"github.com/sectwin/sectwin/edge/output"
	"github.com/sectwin/sectwin/edge/secret"
	"github.com/sectwin/sectwin/edge/transform"
	"github.com/sectwin/sectwin/internal/bus"
)

// Options are what a collector takes from its process.
type Options struct {
	Stdin  io.Reader // for stdin inputs
	Stdout io.Writer // for stdout outputs
	Log    zerolog.Logger
	Now    func() time.Time
	// Noise is the randomness of DP noise; nil means crypto/rand (dp.NewCryptoSource).
	Noise dp.Source
	// StatsEvery is how often counters are logged; 0 means every 30 s.
	StatsEvery time.Duration
}

// Stats counts what a collector did.
type Stats struct {
	Records      int64 // records decoded
	Released     int64 // records released (the real-time lane)
	Dropped      int64 // dropped by drop rules or contribution bounding
	Malformed    int64 // malformed or oversized records, dead-lettered
	Failed       int64 // records transforms could not handle, dead-lettered
	Aggregated   int64 // records added to an aggregate window
	OutOfDomain  int64 // records for an undeclared partition or without a privacy unit
	Aggregates   int64 // partitions released
	Refused      int64 // releases refused because the budget is exhausted
	SendFailures int64 // messages an output did not take
}

type counters struct {
	records, released, dropped, malformed, failed, aggregated, outOfDomain, aggregates, refused, sendFailures atomic.Int64
}

// Collector runs one edge.yaml.
type Collector struct {
	cfg     *Config
	plans   map[string]*transform.Plan
	opt     Options
	log     zerolog.Logger
	outputs map[string]output.Output
	ledger  *budget.Ledger
	dead    *deadLetter
	aggs    map[string]*aggregator
	n       counters
}

// New opens the collector's outputs, dead-letter file and budget ledger (declaring each
// aggregating pipeline's budget). Close releases them.
func New(ctx context.Context, cfg *Config, plans map[string]*transform.Plan, opt Options) (*Collector, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Stdin == nil {
		opt.Stdin = os.Stdin
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.StatsEvery <= 0 {
		opt.StatsEvery = 30 * time.Second
	}
	c := &Collector{cfg: cfg, plans: plans, opt: opt, log: opt.Log, outputs: map[string]output.Output{}, aggs: map[string]*aggregator{}}
	ok := false
	defer func() {
		if !ok {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	dl, err := openDeadLetter(cfg.DeadLetter, cfg.DeadLetterRaw)
	if err != nil {
		return nil, err
	}
	c.dead = dl
	for _, o := range cfg.Outputs {
		out, err := o.Open(ctx, cfg.Twin, cfg.Site, opt.Stdout)
		if err != nil {
			return nil, err
		}
		c.outputs[o.Name] = out
	}
	for name, p := range cfg.Pipelines {
		if p.Aggregate == nil {
			continue
		}
		if c.ledger == nil {
			if c.ledger, err = budget.Open(ctx, cfg.Ledger, budget.Options{Now: opt.Now}); err != nil {
				return nil, fmt.Errorf("budget ledger %s: %w", cfg.Ledger, err)
			}
		}
		a, err := newAggregator(name, p, opt.Noise, opt.Now())
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", name, err)
		}
		if err := c.ledger.Declare(ctx, a.policy); err != nil {
			return nil, fmt.Errorf("pipeline %s: budget: %w", name, err)
		}
		c.aggs[name] = a
	}
	ok = true
	return c, nil
}

// Stats returns the counters so far.
func (c *Collector) Stats() Stats {
	n := &c.n
	return Stats{Records: n.records.Load(), Released: n.released.Load(), Dropped: n.dropped.Load(), Malformed: n.malformed.Load(),
		Failed: n.failed.Load(), Aggregated: n.aggregated.Load(), OutOfDomain: n.outOfDomain.Load(), Aggregates: n.aggregates.Load(),
		Refused: n.refused.Load(), SendFailures: n.sendFailures.Load()}
}

// Run reads every input until ctx ends (or, for a config whose inputs are all stdin, until
// standard input ends), then releases the open aggregate windows and flushes the outputs.
func (c *Collector) Run(ctx context.Context) error {
	inputs, err := c.buildInputs()
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if m := c.cfg.Metrics; m != nil {
		metricsCtx, stopMetrics := context.WithCancel(ctx)
		defer stopMetrics()
		go func() {
			if err := c.serveMetrics(metricsCtx, m); err != nil {
				cancel(fmt.Errorf("metrics on %s: %w", m.Listen, err))
			}
		}()
	}
	var wg sync.WaitGroup
	for i, in := range inputs {
		ic := c.cfg.Inputs[i]
		pr, pw := io.Pipe()
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := in.Run(runCtx, func(ctx context.Context, r input.Record) error {
				if r.Err != nil {
					c.n.malformed.Add(1)
					c.dead.write(ic.Name, 0, r.Err.Error(), r.Data)
					return nil
				}
				if _, err := pw.Write(r.Data); err != nil {
					return err
				}
				_, err := pw.Write([]byte{'\n'})
				return err
			})
			if err != nil && !errors.Is(err, context.Canceled) && runCtx.Err() == nil {
				cancel(fmt.Errorf("input %s: %w", ic.Name, err))
			}
			pw.CloseWithError(err)
		}()
		go func() {
			defer wg.Done()
			defer pr.Close()
			if err := c.decodeLoop(runCtx, ic, pr); err != nil && runCtx.Err() == nil {
				cancel(fmt.Errorf("input %s: %w", ic.Name, err))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastStats := c.opt.Now()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-runCtx.Done():
			<-done
			break loop
		case <-tick.C:
			now := c.opt.Now()
			for _, a := range c.aggs {
				if w := a.rollover(now); w != nil {
					c.release(runCtx, a, w)
				}
			}
			if now.Sub(lastStats) >= c.opt.StatsEvery {
				lastStats = now
				c.logStats("collector running")
			}
		}
	}
	// Release what the open windows hold: a graceful stop (or the end of stdin) spends their
	// budget rather than losing their records.
	final := context.WithoutCancel(ctx)
	for _, a := range c.aggs {
		if w := a.rollover(time.Time{}); w != nil {
			c.release(final, a, w)
		}
	}
	c.logStats("collector stopped")
	if err := context.Cause(runCtx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return err
	}
	return nil
}

func (c *Collector) logStats(msg string) {
	s := c.Stats()
	c.log.Info().Int64("records", s.Records).Int64("released", s.Released).Int64("dropped", s.Dropped).
		Int64("malformed", s.Malformed).Int64("failed", s.Failed).Int64("aggregated", s.Aggregated).
		Int64("out_of_domain", s.OutOfDomain).Int64("aggregates", s.Aggregates).Int64("refused_budget_exhausted", s.Refused).
		Int64("send_failures", s.SendFailures).Msg(msg)
	for _, oc := range c.cfg.Outputs {
		if t, ok := c.outputs[oc.Name].(*output.Telemetry); ok {
			published, skipped := t.Counts()
			c.log.Info().Str("output", oc.Name).Int64("telemetry_events", published).Int64("telemetry_skipped", skipped).Msg(msg)
		}
	}
}

func (c *Collector) buildInputs() ([]input.Input, error) {
	out := make([]input.Input, 0, len(c.cfg.Inputs))
	for _, ic := range c.cfg.Inputs {
		switch ic.Type {
		case "stdin":
			out = append(out, &input.Reader{InputName: ic.Name, R: c.opt.Stdin, MaxBytes: c.cfg.MaxRecordBytes})
		case "file":
			out = append(out, &input.Tail{InputName: ic.Name, Path: ic.Path, FromStart: ic.FromStart, MaxBytes: c.cfg.MaxRecordBytes})
		case "http":
			tok, err := secret.Load(ic.TokenRef)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", ic.Name, err)
			}
			out = append(out, &input.HTTP{InputName: ic.Name, Addr: ic.Listen, Path: ic.HTTPPath, Token: tok, MaxBytes: c.cfg.MaxRecordBytes})
		case "mqtt":
			m := &input.MQTT{InputName: ic.Name, Broker: ic.Broker, Topics: ic.Topics, QoS: byte(ic.QoS), ClientID: ic.ClientID,
				Username: ic.Username, MaxBytes: c.cfg.MaxRecordBytes}
			if m.ClientID == "" {
				m.ClientID = "sectwin-edge-" + c.cfg.Site + "-" + ic.Name
			}
			if ic.PasswordRef != "" {
				pw, err := secret.Load(ic.PasswordRef)
				if err != nil {
					return nil, fmt.Errorf("input %s: %w", ic.Name, err)
				}
				m.Password = pw
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// decodeLoop decodes one input's records and processes them.
func (c *Collector) decodeLoop(ctx context.Context, ic InputConfig, r io.Reader) error {
	d, err := decode.New(ic.Decoder, r, decode.Options{MaxRecordBytes: c.cfg.MaxRecordBytes})
	if err != nil {
		return err
	}
	for rec, err := range decode.Records(ctx, d) {
		if err != nil {
			if decode.IsRecordError(err) {
				c.n.malformed.Add(1)
				var de *decode.Error
				line, raw := 0, []byte(nil)
				if errors.As(err, &de) {
					line, raw = de.Line, de.Raw
				}
				c.dead.write(ic.Name, line, err.Error(), raw)
				continue
			}
			if errors.Is(err, io.ErrClosedPipe) || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		c.n.records.Add(1)
		c.process(ctx, ic, rec)
	}
	return nil
}

// process runs one record through its pipeline and releases it, or adds it to the aggregates.
func (c *Collector) process(ctx context.Context, ic InputConfig, rec decode.Record) {
	name := ic.Pipeline
	p := c.cfg.Pipelines[name]
	out, dropped, err := c.plans[name].Apply(rec)
	switch {
	case err != nil:
		c.n.failed.Add(1)
		c.dead.write(ic.Name, 0, "transform: "+err.Error(), nil)
		return
	case dropped:
		c.n.dropped.Add(1)
		return
	}
	if a := c.aggs[name]; a != nil {
		if err := a.add(out); err != nil {
			c.n.outOfDomain.Add(1)
		} else {
			c.n.aggregated.Add(1)
		}
	}
	if !p.releasesEvents() {
		return
	}
	data, err := json.Marshal(out)
	if err != nil {
		c.n.failed.Add(1)
		c.dead.write(ic.Name, 0, "encode: "+err.Error(), nil)
		return
	}
	m := audit.Manifest{Site: c.cfg.Site, Pipeline: name, Kind: audit.KindEvent, ConfigHash: c.cfg.Hash(),
		KeyID: c.plans[name].KeyID(), Mechanism: audit.MechanismMinimised}
	if c.send(ctx, name, p, ic.Decoder, data, m, linkOf(p.Link, out)) {
		c.n.released.Add(1)
	}
}

func (p Pipeline) releasesEvents() bool {
	if p.ReleaseEvents != nil {
		return *p.ReleaseEvents
	}
	return p.Aggregate == nil
}

// linkOf names the element a release describes: a fixed key, or a field of the released record
// (never of the raw one: a field the allowlist dropped links nothing).
func linkOf(l *Link, rec decode.Record) *[2]string {
	if l == nil {
		return nil
	}
	if l.Key != "" {
		return &[2]string{l.Label, l.Key}
	}
	if v, ok := rec.Text(l.Field); ok && v != "" {
		return &[2]string{l.Label, v}
	}
	return nil
}

// send delivers one release to the pipeline's outputs; it reports whether every output took it.
// The manifest's kind (event or aggregate) names the lane; decoder is the input's decoder for
// an event, empty for an aggregate.
func (c *Collector) send(ctx context.Context, name string, p Pipeline, decoder string, data []byte, m audit.Manifest, link *[2]string) bool {
	msg := output.Message{Subject: strings.Join([]string{bus.SubjectEdge, c.cfg.Twin, c.cfg.Site, name, m.Kind}, "."), Data: data, Manifest: m,
		Link: link, Decoder: decoder}
	ok := true
	for _, o := range c.outputsOf(p) {
		if err := o.Send(ctx, msg); err != nil {
			ok = false
			c.n.sendFailures.Add(1)
			c.log.Error().Err(err).Str("output", o.Name()).Str("pipeline", name).Msg("output did not take a release")
		}
	}
	return ok
}

func (c *Collector) outputsOf(p Pipeline) []output.Output {
	if len(p.Outputs) == 0 {
		out := make([]output.Output, 0, len(c.outputs))
		for _, oc := range c.cfg.Outputs {
			out = append(out, c.outputs[oc.Name])
		}
		return out
	}
	out := make([]output.Output, 0, len(p.Outputs))
	for _, n := range p.Outputs {
		out = append(out, c.outputs[n])
	}
	return out
}

// Close flushes and closes the outputs, the ledger and the dead-letter file.
func (c *Collector) Close(ctx context.Context) error {
	var errs []error
	for _, o := range c.outputs {
		errs = append(errs, o.Close(ctx))
	}
	if c.ledger != nil {
		errs = append(errs, c.ledger.Close())
	}
	if c.dead != nil {
		errs = append(errs, c.dead.close())
	}
	return errors.Join(errs...)
}
