// Package aggregator is the regional aggregator behind `sectwin edge aggregate`: it runs the
// secure-aggregation rounds of one cohort of edge collectors (edge/cohort), learns only each
// window's sum over the collectors that took part, reserves the release in its own regional
// budget ledger, and releases the sum as DP aggregates with their privacy manifest.
//
// Each collector adds full-scale discrete Laplace noise to its values before masking them, so
// the sum is ε-DP for a unit seen by one collector whatever the others do (at the price of more
// noise); the manifest states it.
package aggregator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/budget"
	"github.com/sectwin/sectwin/edge/cohort"
	"github.com/sectwin/sectwin/edge/collector"
	"github.com/sectwin/sectwin/edge/dp"
	"github.com/sectwin/sectwin/edge/output"
	"github.com/sectwin/sectwin/edge/secagg"
	"github.com/sectwin/sectwin/internal/bus"
)

// Config is an aggregate.yaml.
type Config struct {
	Version int    `yaml:"version"`
	Site    string `yaml:"site"` // the aggregator's name in manifests
	Twin    string `yaml:"twin"`
	Ledger  string `yaml:"ledger"`
	// NATS is where the rounds run: the server the cohort's collectors publish to.
	NATS         collector.OutputConfig    `yaml:"nats"`
	Outputs      []collector.OutputConfig  `yaml:"outputs"`
	PhaseTimeout string                    `yaml:"phase_timeout"`
	Pipelines    map[string]PipelineConfig `yaml:"pipelines"`

	hash string
}

// PipelineConfig mirrors the collectors' pipeline of the same name: its aggregate section
// (with the same secure_aggregation cohort, members and threshold) and its link.
type PipelineConfig struct {
	Link      *collector.Link     `yaml:"link"`
	Aggregate collector.Aggregate `yaml:"aggregate"`
}

// Parse reads and validates an aggregate.yaml.
func Parse(file string, data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	cfg := &Config{}
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	sum := sha256.Sum256(data)
	cfg.hash = hex.EncodeToString(sum[:])
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if cfg.Version != 1 {
		bad("version: must be 1")
	}
	if cfg.Site == "" || cfg.Twin == "" || cfg.Ledger == "" {
		bad("site, twin and ledger are required")
	}
	if cfg.NATS.URL == "" {
		bad("nats.url: required, the NATS server the cohort's collectors use")
	}
	if cfg.PhaseTimeout != "" {
		if d, err := time.ParseDuration(cfg.PhaseTimeout); err != nil || d <= 0 {
			bad("phase_timeout: must be a positive duration such as 10s")
		}
	}
	if len(cfg.Outputs) == 0 {
		bad("outputs: at least one (stdout, nats or telemetry)")
	}
	if len(cfg.Pipelines) == 0 {
		bad("pipelines: at least one")
	}
	cohorts := map[string]string{}
	for name, p := range cfg.Pipelines {
		sa := p.Aggregate.SecureAggregation
		if sa == nil {
			bad("pipelines.%s.aggregate.secure_aggregation: required", name)
			continue
		}
		if other, dup := cohorts[sa.Cohort]; dup {
			bad("pipelines.%s: cohort %s is also pipeline %s's", name, sa.Cohort, other)
		}
		cohorts[sa.Cohort] = name
		if err := cohort.CheckName("cohort", sa.Cohort); err != nil {
			bad("pipelines.%s.aggregate.secure_aggregation.cohort: %v", name, err)
		}
		if _, err := time.ParseDuration(p.Aggregate.Window); err != nil {
			bad("pipelines.%s.aggregate.window: %v", name, err)
		}
		if params := sa.Params("check", max(p.Aggregate.Length(), 1)); params.Validate() != nil {
			err := params.Validate()
			bad("pipelines.%s.aggregate.secure_aggregation: %v", name, err)
		}
		if _, err := p.Aggregate.PartitionKeys(); err != nil {
			bad("pipelines.%s.aggregate.partitions: %v", name, err)
		}
		for i, m := range p.Aggregate.Metrics {
			if _, err := m.MetricConfig(); err != nil {
				bad("pipelines.%s.aggregate.metrics[%d]: %v", name, i, err)
			}
		}
		if _, err := policyOf(name, p.Aggregate); err != nil {
			bad("pipelines.%s.aggregate.budget: %v", name, err)
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, fmt.Errorf("%s:\n  %s", file, strings.Join(errs, "\n  "))
	}
	return cfg, nil
}

func policyOf(name string, a collector.Aggregate) (budget.Policy, error) {
	eps, g, err := a.Budget.Limits()
	if err != nil {
		return budget.Policy{}, err
	}
	return budget.Policy{Stream: "secagg:" + name, Unit: "cohort", Guarantee: g, Cap: eps}, nil
}

// Aggregator runs the rounds of every pipeline of a config.
type Aggregator struct {
	cfg     *Config
	log     zerolog.Logger
	nats    *output.NATS
	outputs []output.Output
	ledger  *budget.Ledger
	// Received, when set, sees every round message (tests inspect them).
	Received func(subject string, data []byte)
}

// New connects and opens the ledger.
func New(ctx context.Context, cfg *Config, stdout io.Writer, log zerolog.Logger) (*Aggregator, error) {
	a := &Aggregator{cfg: cfg, log: log}
	var err error
	if a.nats, err = cfg.NATS.DialNATS(ctx, ""); err != nil {
		return nil, err
	}
	for _, o := range cfg.Outputs {
		out, err := o.Open(ctx, cfg.Twin, cfg.Site, stdout)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.outputs = append(a.outputs, out)
	}
	if a.ledger, err = budget.Open(ctx, cfg.Ledger, budget.Options{}); err != nil {
		a.Close()
		return nil, fmt.Errorf("regional ledger %s: %w", cfg.Ledger, err)
	}
	for name, p := range cfg.Pipelines {
		pol, _ := policyOf(name, p.Aggregate)
		if err := a.ledger.Declare(ctx, pol); err != nil {
			a.Close()
			return nil, fmt.Errorf("pipeline %s: %w", name, err)
		}
	}
	return a, nil
}

// Run serves every pipeline's cohort until ctx ends.
func (a *Aggregator) Run(ctx context.Context) error {
	timeout := 10 * time.Second
	if d, err := time.ParseDuration(a.cfg.PhaseTimeout); err == nil && d > 0 {
		timeout = d
	}
	errc := make(chan error, len(a.cfg.Pipelines))
	for name, p := range a.cfg.Pipelines {
		sa := p.Aggregate.SecureAggregation
		length, _ := time.ParseDuration(p.Aggregate.Window)
		srv := &cohort.Server{NC: a.nats.Conn(), Cohort: sa.Cohort, PhaseTimeout: timeout, Received: a.Received,
			Log: a.log.With().Str("pipeline", name).Logger(),
			Params: func(round string) (secagg.Params, error) {
				idx, err := windowOf(name, round)
				if err != nil {
					return secagg.Params{}, err
				}
				// Only the window just closed and the one before it: older or future rounds are
				// replays or clock trouble.
				now := time.Now().UnixNano() / length.Nanoseconds()
				if idx < now-2 || idx > now {
					return secagg.Params{}, fmt.Errorf("window %d is not a recent one (now %d)", idx, now)
				}
				return sa.Params(round, p.Aggregate.Length()), nil
			},
			Release: func(ctx context.Context, res *secagg.Result) { a.release(ctx, name, p, res) },
		}
		go func() { errc <- srv.Run(ctx) }()
	}
	var errs []error
	for range a.cfg.Pipelines {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

func windowOf(pipeline, round string) (int64, error) {
	rest, ok := strings.CutPrefix(round, pipeline+"-w")
	if !ok {
		return 0, fmt.Errorf("round %q is not one of pipeline %s", round, pipeline)
	}
	return strconv.ParseInt(rest, 10, 64)
}

// release reserves the regional budget of a round's sum, sends every partition of every metric,
// and commits.
func (a *Aggregator) release(ctx context.Context, name string, p PipelineConfig, res *secagg.Result) {
	idx, _ := windowOf(name, res.Round)
	length, _ := time.ParseDuration(p.Aggregate.Window)
	start := time.Unix(0, idx*length.Nanoseconds()).UTC()
	w := budget.Window{Index: idx, Start: start, End: start.Add(length)}
	parts, _ := p.Aggregate.PartitionKeys() // validated by Parse
	_, g, _ := p.Aggregate.Budget.Limits()
	sum := secagg.ToInt64s(res.Sum)
	for mi, m := range p.Aggregate.Metrics {
		// The statement of a collector's window of this metric gives the caps and bounds the
		// regional reservation records.
		metric, err := m.MetricConfig()
		var mc *dp.Window
		if err == nil {
			mc, err = dp.NewWindow(dp.WindowSpec{Metric: metric, Partitions: parts, Guarantee: g, Start: w.Start, End: w.End}, nil)
		}
		if err != nil {
			a.log.Error().Err(err).Str("pipeline", name).Str("metric", m.Name).Msg("release refused: bad metric")
			continue
		}
		req := budget.RequestFor("secagg:"+name, "cohort", w, mc.Statement(), "")
		req.Mechanism, req.ConfigHash = "secagg-sum/"+dp.MechanismDiscreteLaplace, a.cfg.hash
		ticket, err := a.ledger.Reserve(ctx, req)
		if err != nil {
			ev := a.log.Error()
			msg := "release refused: the regional budget ledger failed"
			if errors.Is(err, budget.ErrBudgetExhausted) {
				ev, msg = a.log.Warn().Str("suppressed", "budget_exhausted"), "release refused: the regional budget is exhausted"
			}
			ev.Err(err).Str("pipeline", name).Str("metric", m.Name).Msg(msg)
			continue
		}
		man := audit.Manifest{Site: a.cfg.Site, Pipeline: name, Kind: audit.KindAggregate, ConfigHash: a.cfg.hash,
			Mechanism: "secagg-sum(" + m.Algo + ")/" + dp.MechanismDiscreteLaplace, Epsilon: metric.Epsilon.String(), Delta: dp.DeltaPure,
			Guarantee: g.String(), LedgerEntry: ticket.Hash}
		scale := max(m.Scale, 1)
		for pi, part := range parts {
			v := sum[mi*len(parts)+pi]
			doc := map[string]any{"metric": m.Name, "algo": m.Algo, "partition": p.Aggregate.PartitionFields(part),
				"window_start": w.Start, "window_end": w.End, "value": float64(v) / float64(scale),
				"cohort": res.Cohort, "collectors": len(res.Included), "dropped": len(res.Dropped), "noise_contributors": len(res.Included)}
			data, _ := json.Marshal(doc)
			msg := output.Message{Subject: strings.Join([]string{bus.SubjectEdge, a.cfg.Twin, a.cfg.Site, name, audit.KindAggregate}, "."),
				Data: data, Manifest: man}
			if l := p.Link; l != nil && l.Key != "" {
				msg.Link = &[2]string{l.Label, l.Key}
			}
			for _, o := range a.outputs {
				if err := o.Send(ctx, msg); err != nil {
					a.log.Error().Err(err).Str("output", o.Name()).Msg("output did not take a release")
				}
			}
		}
		if _, err := a.ledger.Commit(ctx, ticket); err != nil {
			a.log.Error().Err(err).Msg("commit failed; the reservation counts as spent")
		}
	}
	for _, o := range a.outputs {
		if s, ok := o.(*output.Stdout); ok {
			_ = s.Flush()
		}
	}
}

// Close flushes the outputs and closes the connections and the ledger.
func (a *Aggregator) Close() error {
	var errs []error
	for _, o := range a.outputs {
		errs = append(errs, o.Close(context.Background()))
	}
	if a.nats != nil {
		errs = append(errs, a.nats.Close(context.Background()))
	}
	if a.ledger != nil {
		errs = append(errs, a.ledger.Close())
	}
	return errors.Join(errs...)
}
