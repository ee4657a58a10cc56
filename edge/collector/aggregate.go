package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/budget"
	"github.com/sectwin/sectwin/edge/cohort"
	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/dp"
	"github.com/sectwin/sectwin/edge/output"
	"github.com/sectwin/sectwin/edge/secagg"
)

// aggregator is one pipeline's aggregate lane: a tumbling window of DP metrics over the
// declared partitions.
type aggregator struct {
	name       string
	p          Pipeline
	length     time.Duration
	partitions []string
	declared   map[string]bool
	metrics    []dp.MetricConfig
	guarantee  dp.Guarantee
	policy     budget.Policy
	noise      dp.Source

	mu  sync.Mutex
	cur *window
}

// window is one open window: a dp.Window per metric.
type window struct {
	start, end time.Time
	metrics    []*dp.Window
}

func newAggregator(name string, p Pipeline, noise dp.Source, now time.Time) (*aggregator, error) {
	a := p.Aggregate
	length, err := time.ParseDuration(a.Window)
	if err != nil {
		return nil, err
	}
	parts, err := a.PartitionKeys()
	if err != nil {
		return nil, err
	}
	capEps, g, err := a.Budget.Limits()
	if err != nil {
		return nil, err
	}
	ag := &aggregator{name: name, p: p, length: length, partitions: parts, declared: map[string]bool{}, guarantee: g, noise: noise,
		policy: budget.Policy{Stream: name, Unit: p.PrivacyUnit, Guarantee: g, Cap: capEps}}
	for _, k := range parts {
		ag.declared[k] = true
	}
	for _, m := range a.Metrics {
		mc, err := m.MetricConfig()
		if err != nil {
			return nil, err
		}
		ag.metrics = append(ag.metrics, mc)
	}
	if ag.noise == nil {
		ag.noise = dp.NewCryptoSource()
	}
	ag.cur, err = ag.open(now.Truncate(length))
	return ag, err
}

func (a *aggregator) open(start time.Time) (*window, error) {
	w := &window{start: start, end: start.Add(a.length)}
	for _, m := range a.metrics {
		dw, err := dp.NewWindow(dp.WindowSpec{Metric: m, Partitions: a.partitions, MinUnits: a.p.Aggregate.MinUnits,
			Guarantee: a.guarantee, Start: w.start, End: w.end}, a.noise)
		if err != nil {
			return nil, err
		}
		w.metrics = append(w.metrics, dw)
	}
	return w, nil
}

// errOutOfDomain marks a record the aggregates cannot take: no privacy unit, an undeclared
// partition, or a value that is not a number.
var errOutOfDomain = errors.New("record outside the declared aggregate domain")

// add adds a (transformed) record to the open window.
func (a *aggregator) add(rec decode.Record) error {
	unit, ok := rec.Text(a.p.PrivacyUnit)
	if !ok || unit == "" {
		return errOutOfDomain
	}
	keys := make([]string, len(a.p.Aggregate.GroupBy))
	for i, f := range a.p.Aggregate.GroupBy {
		v, ok := rec.Text(f)
		if !ok {
			return errOutOfDomain
		}
		keys[i] = v
	}
	part := strings.Join(keys, dp.PartitionSeparator)
	if !a.declared[part] {
		return errOutOfDomain
	}
	values := make([]int64, len(a.metrics))
	for i, m := range a.metrics {
		if m.Algo == dp.AlgoCount {
			values[i] = 1
			continue
		}
		v, err := fixedPoint(rec[a.p.Aggregate.Metrics[i].Field], m.Scale)
		if err != nil {
			return errOutOfDomain
		}
		values[i] = v
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, w := range a.cur.metrics {
		if err := w.Add(unit, part, values[i]); err != nil {
			return fmt.Errorf("%w: %w", errOutOfDomain, err)
		}
	}
	return nil
}

// fixedPoint reads a decoded number (json.Number or numeric text) as an integer of scale units,
// rounding half away from zero; values beyond int64 saturate (the window clamps them anyway).
func fixedPoint(v any, scale int64) (int64, error) {
	if scale <= 0 {
		scale = 1
	}
	s, ok := decode.ScalarText(v)
	if !ok {
		return 0, errOutOfDomain
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return 0, errOutOfDomain
	}
	r.Mul(r, new(big.Rat).SetInt64(scale))
	f, _ := r.Float64()
	switch {
	case math.IsNaN(f):
		return 0, errOutOfDomain
	case f >= math.MaxInt64:
		return math.MaxInt64, nil
	case f <= math.MinInt64:
		return math.MinInt64, nil
	}
	return int64(math.Round(f)), nil
}

// rollover closes the open window when now has passed its end (or always, for the zero time)
// and returns it; the next window opens at now's window start.
func (a *aggregator) rollover(now time.Time) *window {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !now.IsZero() && now.Before(a.cur.end) {
		return nil
	}
	old := a.cur
	next, err := a.open(now.Truncate(a.length))
	if err != nil || now.IsZero() {
		next = nil
	}
	a.cur = next
	if a.cur == nil {
		// After the final release (or a failure to open) the lane takes nothing more.
		a.cur = &window{start: old.end, end: old.end}
	}
	return old
}

// release reserves each metric's budget (fsynced), releases the window with noise, sends every
// partition, and commits the reservation. An exhausted budget refuses the release: nothing
// leaves, and the refusal is logged and counted.
func (c *Collector) release(ctx context.Context, a *aggregator, w *window) {
	if len(w.metrics) == 0 {
		return
	}
	keyID := c.plans[a.name].KeyID()
	idx := w.start.UnixNano() / a.length.Nanoseconds()
	var masked []int64 // the secure-aggregation vector: every metric's partitions, in order
	var tickets []budget.Ticket
	for i, dw := range w.metrics {
		st := dw.Statement()
		req := budget.RequestFor(a.name, a.p.PrivacyUnit, budget.Window{Index: idx, Start: w.start, End: w.end}, st, keyID)
		req.ConfigHash = c.cfg.Hash()
		ticket, err := c.ledger.Reserve(ctx, req)
		if err != nil {
			var ex *budget.ExhaustedError
			if errors.As(err, &ex) || errors.Is(err, budget.ErrBudgetExhausted) {
				c.n.refused.Add(1)
				c.log.Warn().Str("pipeline", a.name).Str("metric", st.Metric).Time("window_start", w.start).
					Str("suppressed", "budget_exhausted").Err(err).Msg("release refused: the privacy budget is exhausted")
				continue
			}
			c.log.Error().Err(err).Str("pipeline", a.name).Msg("release refused: the budget ledger failed")
			continue
		}
		rel, err := dw.Release()
		if err != nil {
			// The reservation stays: an orphaned reservation counts as spent, failing closed.
			c.log.Error().Err(err).Str("pipeline", a.name).Str("metric", st.Metric).Msg("release failed after its budget was reserved")
			continue
		}
		if a.p.Aggregate.SecureAggregation != nil {
			for _, pv := range rel.Partitions {
				masked = append(masked, pv.Value)
			}
			tickets = append(tickets, ticket)
			continue
		}
		m := audit.Manifest{Site: c.cfg.Site, Pipeline: a.name, Kind: audit.KindAggregate, ConfigHash: c.cfg.Hash(), KeyID: keyID,
			Mechanism: string(st.Algo) + "/" + st.Mechanism, Epsilon: st.Epsilon.String(), Delta: st.Delta,
			Guarantee: st.Guarantee.String(), LedgerEntry: ticket.Hash}
		metric := a.p.Aggregate.Metrics[i]
		for _, pv := range rel.Partitions {
			doc := aggregateDoc{Metric: metric.Name, Algo: string(st.Algo), Partition: a.p.Aggregate.PartitionFields(pv.Key),
				WindowStart: w.start.UTC(), WindowEnd: w.end.UTC(), Value: float64(pv.Value) / float64(max(st.Scale, 1)),
				Units: pv.Units, Suppressed: pv.Suppressed, Statement: rel.Statement}
			data, err := json.Marshal(doc)
			if err != nil {
				continue
			}
			var link *[2]string
			if l := a.p.Link; l != nil && l.Key != "" {
				link = &[2]string{l.Label, l.Key}
			}
			if c.send(ctx, a.name, a.p, "", data, m, link) {
				c.n.aggregates.Add(1)
			}
		}
		c.commit(ctx, a.name, ticket)
	}
	if sa := a.p.Aggregate.SecureAggregation; sa != nil && len(tickets) == len(w.metrics) {
		// Every metric's budget is reserved and its noise drawn: send the values masked. A
		// refused metric leaves the vector incomplete, and the collector sits the round out.
		c.secureRound(ctx, a, sa, idx, masked)
		for _, t := range tickets {
			c.commit(ctx, a.name, t)
		}
	}
}

func (c *Collector) commit(ctx context.Context, pipeline string, t budget.Ticket) {
	if _, err := c.ledger.Commit(ctx, t); err != nil {
		c.log.Error().Err(err).Str("pipeline", pipeline).Msg("commit of a released window failed; the reservation counts as spent")
	}
}

// secureRound takes part in the cohort's round for this window with the noisy values.
func (c *Collector) secureRound(ctx context.Context, a *aggregator, sa *SecureAggregation, idx int64, values []int64) {
	out, _ := c.outputs[sa.Output].(*output.NATS)
	if out == nil {
		return
	}
	timeout := 60 * time.Second
	if d, err := time.ParseDuration(sa.Timeout); err == nil && d > 0 {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	round := RoundID(a.name, idx)
	p := sa.Params(round, len(values))
	if err := cohort.RunClient(ctx, out.Conn(), p, secagg.ClientID(sa.Member), secagg.FromInt64s(values)); err != nil {
		c.n.sendFailures.Add(1)
		c.log.Warn().Err(err).Str("pipeline", a.name).Str("round", round).Msg("secure aggregation: this collector's window is not in the cohort's sum")
		return
	}
	c.n.aggregates.Add(int64(len(values)))
}

// aggregateDoc is the JSON document of one released partition (ingest/edge.Aggregate reads it).
type aggregateDoc struct {
	Metric      string            `json:"metric"`
	Algo        string            `json:"algo"`
	Partition   map[string]string `json:"partition"`
	WindowStart time.Time         `json:"window_start"`
	WindowEnd   time.Time         `json:"window_end"`
	Value       float64           `json:"value"`
	Units       int64             `json:"units,omitempty"`
	Suppressed  bool              `json:"suppressed,omitempty"`
	Statement   dp.Statement      `json:"statement"`
}
