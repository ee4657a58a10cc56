// Package collector is the edge collector behind `sectwin edge`: it reads telemetry from its
// inputs, decodes it, minimises each record (edge/transform), and releases either the minimised
// records (the real-time lane) or differentially private aggregates of a window (the aggregate
// lane, edge/dp, with every release reserved in the budget ledger, edge/budget, before it
// leaves). Everything released carries a privacy manifest (edge/audit).
//
// Docs: docs/edge.md.
package collector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sectwin/sectwin/edge/cohort"
	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/dp"
	"github.com/sectwin/sectwin/edge/output"
	"github.com/sectwin/sectwin/edge/secagg"
	"github.com/sectwin/sectwin/edge/secret"
	"github.com/sectwin/sectwin/edge/transform"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/yamldoc"
)

// Version is the config version this collector reads.
const Version = 1

// MaxConfigBytes bounds a config file.
const MaxConfigBytes = 1 << 20

// Config is an edge.yaml.
type Config struct {
	Version int    `yaml:"version"`
	Site    string `yaml:"site"` // this collector's site, in subjects and manifests
	Twin    string `yaml:"twin"` // the twin its releases belong to
	// DeadLetter is the local file malformed and oversized records are written to (their
	// input, line, reason and size; their raw bytes only with DeadLetterRaw).
	DeadLetter    string `yaml:"dead_letter"`
	DeadLetterRaw bool   `yaml:"dead_letter_raw"`
	// Ledger is the privacy budget ledger file; required when a pipeline aggregates.
	Ledger         string `yaml:"ledger"`
	MaxRecordBytes int    `yaml:"max_record_bytes"`
	// Metrics, when set, serves the collector's counters for Prometheus.
	Metrics   *MetricsConfig      `yaml:"metrics"`
	Inputs    []InputConfig       `yaml:"inputs"`
	Outputs   []OutputConfig      `yaml:"outputs"`
	Pipelines map[string]Pipeline `yaml:"pipelines"`

	file  string
	hash  string
	nodes map[string]*yaml.Node // pipeline name → its node, for line numbers
}

// Hash is the SHA-256 of the config file: the config hash in every privacy manifest.
func (c *Config) Hash() string { return c.hash }

// InputConfig is one input.
type InputConfig struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"` // stdin, file, http or mqtt
	Decoder  string `yaml:"decoder"`
	Pipeline string `yaml:"pipeline"`
	// file
	Path      string `yaml:"path"`
	FromStart bool   `yaml:"from_start"`
	// http
	Listen   string `yaml:"listen"`
	HTTPPath string `yaml:"http_path"`
	TokenRef string `yaml:"token_ref"`
	// mqtt
	Broker      string   `yaml:"broker"`
	Topics      []string `yaml:"topics"`
	QoS         int      `yaml:"qos"`
	ClientID    string   `yaml:"client_id"`
	Username    string   `yaml:"username"`
	PasswordRef string   `yaml:"password_ref"`
}

// OutputConfig is one output.
type OutputConfig struct {
	Name string `yaml:"name"`
	// Type is stdout, nats (releases to the EDGE stream) or telemetry (releases mapped to the
	// operations twin's telemetry events on the TELEMETRY stream, over NATS).
	Type        string `yaml:"type"`
	URL         string `yaml:"url"`
	TokenRef    string `yaml:"token_ref"`
	User        string `yaml:"user"`
	PasswordRef string `yaml:"password_ref"`
	CredsFile   string `yaml:"creds_file"`
	CAFile      string `yaml:"ca_file"`
}

// Pipeline is one pipeline: the transforms of edge/transform inline, then where releases go.
type Pipeline struct {
	transform.Config `yaml:",inline"`
	// Outputs names the outputs releases go to; empty means all of them.
	Outputs []string `yaml:"outputs"`
	// Link names the twin element releases describe.
	Link *Link `yaml:"link"`
	// ReleaseEvents releases each minimised record. It defaults to true without an aggregate
	// section and false with one (a record released as it is would bypass the DP of the
	// aggregates).
	ReleaseEvents *bool      `yaml:"release_events"`
	Aggregate     *Aggregate `yaml:"aggregate"`
}

// Link names the twin element (a Zone, Service, Host or DataStore) a pipeline's releases
// describe: a fixed key, or the value of a record field (before transforms).
type Link struct {
	Label string `yaml:"label"`
	Key   string `yaml:"key"`
	Field string `yaml:"field"`
}

// Aggregate is a pipeline's aggregate lane: DP metrics per window over declared public
// partitions.
type Aggregate struct {
	// Window is the length of the tumbling windows (processing time), such as 15m.
	Window string `yaml:"window"`
	// GroupBy are the record fields (after transforms) that form a partition, in order.
	GroupBy []string `yaml:"group_by"`
	// Partitions declares, for each GroupBy field, its public values; records with other
	// values are counted and dropped. Every combination is released, zeros included.
	Partitions map[string][]string `yaml:"partitions"`
	Metrics    []Metric            `yaml:"metrics"`
	// MinUnits suppresses partitions with fewer distinct units (defence in depth, not DP).
	MinUnits int64        `yaml:"min_units"`
	Budget   BudgetConfig `yaml:"budget"`
	// SecureAggregation sends each window's noisy values, masked, to the cohort's regional
	// aggregator (`sectwin edge aggregate`) instead of releasing them: it learns only the
	// cohort's sum.
	SecureAggregation *SecureAggregation `yaml:"secure_aggregation"`
}

// SecureAggregation places a collector in a cohort. Members and Threshold must be the same in
// every member's config and in the aggregator's.
type SecureAggregation struct {
	Cohort    string `yaml:"cohort"`
	Member    int    `yaml:"member"` // this collector's id in the cohort, 1…
	Members   []int  `yaml:"members"`
	Threshold int    `yaml:"threshold"` // the fewest survivors a round needs; more than half the members
	// Output is the nats output whose server carries the rounds.
	Output string `yaml:"output"`
	// Timeout bounds one round from this collector's side; 0 means 60 s.
	Timeout string `yaml:"timeout"`
}

// Params are the round parameters of a window of this aggregate, of length values per round.
func (s *SecureAggregation) Params(round string, length int) secagg.Params {
	members := make([]secagg.ClientID, len(s.Members))
	for i, m := range s.Members {
		members[i] = secagg.ClientID(m)
	}
	return secagg.Params{Cohort: s.Cohort, Round: round, Members: members, Threshold: s.Threshold, Length: length}
}

// RoundID names the round of a pipeline's window: one subject token.
func RoundID(pipeline string, windowIndex int64) string {
	return fmt.Sprintf("%s-w%d", pipeline, windowIndex)
}

// Length is the number of values a window of this aggregate releases: each metric's partitions,
// metric by metric.
func (a *Aggregate) Length() int {
	n := 1
	for _, f := range a.GroupBy {
		n *= len(a.Partitions[f])
	}
	return n * len(a.Metrics)
}

// Metric is one DP metric, such as {name: bytes, algo: DP-Sum, field: bytes, epsilon: 1.0,
// bounds: [0, 100]}.
type Metric struct {
	Name    string  `yaml:"name"`
	Algo    string  `yaml:"algo"`
	Field   string  `yaml:"field"` // the value summed or averaged; none for DP-Count
	Epsilon float64 `yaml:"epsilon"`
	Bounds  []int64 `yaml:"bounds"`
	// MaxPartitions is L0; MaxContributions is L∞ for DP-Count.
	MaxPartitions    int64 `yaml:"max_partitions"`
	MaxContributions int64 `yaml:"max_contributions"`
	Scale            int64 `yaml:"scale"`
}

// BudgetConfig is the budget of a pipeline's privacy unit.
type BudgetConfig struct {
	Epsilon float64 `yaml:"epsilon"` // the total ε the guarantee allows
	// Guarantee is event, w_event or unit; W is the window count of w_event.
	Guarantee string `yaml:"guarantee"`
	W         int64  `yaml:"w"`
}

// Problem is one thing wrong with a config, with its file, line and field path.
type Problem struct {
	File    string
	Line    int
	Path    string
	Message string
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Message)
	}
	return fmt.Sprintf("%s: %s", loc, p.Message)
}

// ConfigError lists every problem found in a config.
type ConfigError struct{ Problems []Problem }

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	lineRE    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	inputKind = []string{"stdin", "file", "http", "mqtt"}
)

// Parse reads and validates a config: YAML syntax, unknown fields and wrong types first (with
// their lines), then every value, including compiling each pipeline's transforms (which loads
// their keys: a missing key file is an error naming it).
func Parse(file string, data []byte, keys transform.Keys) (*Config, map[string]*transform.Plan, error) {
	ps := &problems{file: file}
	if len(data) > MaxConfigBytes {
		ps.add(0, "", "config is %d bytes; the limit is %d", len(data), MaxConfigBytes)
		return nil, nil, ps.err()
	}
	top, yerr := yamldoc.Read(data)
	switch {
	case yerr != nil && yerr.Kind == yamldoc.SecondDocument:
		ps.add(yerr.Line, "", "a second YAML document: an edge config holds one")
		return nil, nil, ps.err()
	case yerr != nil:
		ps.add(yerr.Line, "", "%s", yerr.Message)
		return nil, nil, ps.err()
	case top == nil:
		ps.add(0, "", "the config is empty; start from docs/edge.md")
		return nil, nil, ps.err()
	}
	cfg := &Config{file: file, nodes: map[string]*yaml.Node{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := yamldoc.DecodeStrict(dec, cfg); err != nil {
		ps.yamlErr(err)
		return nil, nil, ps.err()
	}
	sum := sha256.Sum256(data)
	cfg.hash = hex.EncodeToString(sum[:])
	lineOf := func(key string) int {
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == key {
				return top.Content[i].Line
			}
		}
		return 0
	}
	if pipes := yamldoc.Child(top, "pipelines"); pipes != nil {
		for i := 0; i+1 < len(pipes.Content); i += 2 {
			cfg.nodes[pipes.Content[i].Value] = pipes.Content[i+1]
		}
	}
	itemLine := func(section string, i int) int {
		if n := yamldoc.Child(top, section); n != nil && i < len(n.Content) {
			return n.Content[i].Line
		}
		return lineOf(section)
	}

	if cfg.Version != Version {
		ps.add(lineOf("version"), "version", "must be %d (got %d)", Version, cfg.Version)
	}
	if !nameRE.MatchString(cfg.Site) {
		ps.add(lineOf("site"), "site", "required: 1-64 lower-case letters, digits, '-' or '_'")
	}
	if !nameRE.MatchString(cfg.Twin) {
		ps.add(lineOf("twin"), "twin", "required: the name of the twin releases belong to")
	}
	if cfg.DeadLetter == "" {
		ps.add(0, "dead_letter", "required: a local file for malformed records")
	}
	if cfg.MaxRecordBytes < 0 || cfg.MaxRecordBytes > 64<<20 {
		ps.add(lineOf("max_record_bytes"), "max_record_bytes", "must be 0 (1 MiB) to 64 MiB")
	}
	if len(cfg.Pipelines) == 0 {
		ps.add(0, "pipelines", "at least one pipeline is required")
	}
	if m := cfg.Metrics; m != nil {
		if m.Listen == "" {
			ps.add(lineOf("metrics"), "metrics.listen", "required, such as 127.0.0.1:9464")
		}
		if err := secret.CheckRef(m.TokenRef); err != nil {
			ps.add(lineOf("metrics"), "metrics.token_ref", "required (metrics need authentication): %v", err)
		}
	}
	outputs := map[string]bool{}
	for i, o := range cfg.Outputs {
		at, line := fmt.Sprintf("outputs[%d]", i), itemLine("outputs", i)
		switch {
		case !nameRE.MatchString(o.Name):
			ps.add(line, at+".name", "required: 1-64 lower-case letters, digits, '-' or '_'")
		case outputs[o.Name]:
			ps.add(line, at+".name", "output %s is declared twice", o.Name)
		}
		outputs[o.Name] = true
		switch o.Type {
		case "stdout":
		case "nats", "telemetry":
			if o.URL == "" {
				ps.add(line, at+".url", "required for a %s output, such as nats://127.0.0.1:4222", o.Type)
			}
			for _, ref := range []struct{ field, ref string }{{"token_ref", o.TokenRef}, {"password_ref", o.PasswordRef}} {
				if ref.ref != "" {
					if err := secret.CheckRef(ref.ref); err != nil {
						ps.add(line, at+"."+ref.field, "%v", err)
					}
				}
			}
		default:
			ps.add(line, at+".type", "must be stdout, nats or telemetry (got %q)", o.Type)
		}
	}
	if len(cfg.Outputs) == 0 {
		ps.add(0, "outputs", "at least one output is required (stdout, nats or telemetry)")
	}
	inputs := map[string]bool{}
	for i, in := range cfg.Inputs {
		at, line := fmt.Sprintf("inputs[%d]", i), itemLine("inputs", i)
		if !nameRE.MatchString(in.Name) {
			ps.add(line, at+".name", "required: 1-64 lower-case letters, digits, '-' or '_'")
		} else if inputs[in.Name] {
			ps.add(line, at+".name", "input %s is declared twice", in.Name)
		}
		inputs[in.Name] = true
		if !slices.Contains(decode.Names(), in.Decoder) {
			ps.add(line, at+".decoder", "must be one of %s (got %q)", strings.Join(decode.Names(), ", "), in.Decoder)
		}
		if _, ok := cfg.Pipelines[in.Pipeline]; !ok {
			ps.add(line, at+".pipeline", "names no pipeline (got %q)", in.Pipeline)
		}
		switch in.Type {
		case "stdin":
		case "file":
			if in.Path == "" {
				ps.add(line, at+".path", "required for a file input")
			}
		case "http":
			if in.Listen == "" {
				ps.add(line, at+".listen", "required for an http input, such as 127.0.0.1:9400")
			}
			if err := secret.CheckRef(in.TokenRef); err != nil {
				ps.add(line, at+".token_ref", "required for an http input: %v", err)
			}
		case "mqtt":
			if in.Broker == "" || len(in.Topics) == 0 {
				ps.add(line, at, "an mqtt input needs a broker (tcp://host:1883) and topics")
			}
			if in.QoS < 0 || in.QoS > 2 {
				ps.add(line, at+".qos", "must be 0, 1 or 2")
			}
			if in.PasswordRef != "" {
				if err := secret.CheckRef(in.PasswordRef); err != nil {
					ps.add(line, at+".password_ref", "%v", err)
				}
			}
		default:
			ps.add(line, at+".type", "must be one of %s (got %q)", strings.Join(inputKind, ", "), in.Type)
		}
	}
	if len(cfg.Inputs) == 0 {
		ps.add(0, "inputs", "at least one input is required")
	}
	plans := map[string]*transform.Plan{}
	names := make([]string, 0, len(cfg.Pipelines))
	for name := range cfg.Pipelines {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := cfg.Pipelines[name]
		at := "pipelines." + name
		node := cfg.nodes[name]
		line := 0
		if node != nil {
			line = node.Line
		}
		if !nameRE.MatchString(name) {
			ps.add(line, at, "a pipeline name is 1-64 lower-case letters, digits, '-' or '_'")
		}
		for _, o := range p.Outputs {
			if !outputs[o] {
				ps.add(line, at+".outputs", "names no output (got %q)", o)
			}
		}
		if l := p.Link; l != nil {
			switch {
			case !slices.Contains(graph.EdgeLinkLabels, l.Label):
				ps.add(line, at+".link.label", "must be one of %s", strings.Join(graph.EdgeLinkLabels, ", "))
			case (l.Key == "") == (l.Field == ""):
				ps.add(line, at+".link", "give exactly one of key (a fixed element) or field (a record field naming it)")
			}
		}
		if a := p.Aggregate; a != nil {
			checkAggregate(ps, line, at+".aggregate", p, a)
			if cfg.Ledger == "" {
				ps.add(line, at+".aggregate", "aggregates need a budget ledger: set ledger to a local file")
			}
			if sa := p.Aggregate.SecureAggregation; sa != nil {
				if i := slices.IndexFunc(cfg.Outputs, func(o OutputConfig) bool { return o.Name == sa.Output }); i < 0 || cfg.Outputs[i].Type != "nats" {
					ps.add(line, at+".aggregate.secure_aggregation.output", "must name a nats output (got %q)", sa.Output)
				}
			}
		}
		opts := []transform.Option{transform.WithSource(file, at, node)}
		if keys != nil {
			opts = append(opts, transform.WithKeys(keys))
		}
		plan, err := transform.Compile(p.Config, opts...)
		if err != nil {
			var ce *transform.ConfigError
			if errors.As(err, &ce) {
				for _, tp := range ce.Problems {
					ps.list = append(ps.list, Problem{File: file, Line: tp.Line, Path: tp.Path, Message: tp.Message})
				}
			} else {
				ps.add(line, at, "%v", err)
			}
			continue
		}
		plans[name] = plan
	}
	if err := ps.err(); err != nil {
		return nil, nil, err
	}
	return cfg, plans, nil
}

func checkAggregate(ps *problems, line int, at string, p Pipeline, a *Aggregate) {
	if d, err := time.ParseDuration(a.Window); err != nil || d < time.Second || d > 7*24*time.Hour {
		ps.add(line, at+".window", "must be a duration from 1s to 168h, such as 15m (got %q)", a.Window)
	}
	if p.PrivacyUnit == "" {
		ps.add(line, at, "aggregates need the pipeline's privacy_unit: the field whose value DP protects")
	}
	for _, f := range a.GroupBy {
		if len(a.Partitions[f]) == 0 {
			ps.add(line, at+".partitions."+f, "declare the public values of group_by field %s", f)
		}
	}
	for f := range a.Partitions {
		if !slices.Contains(a.GroupBy, f) {
			ps.add(line, at+".partitions."+f, "is not a group_by field")
		}
	}
	if len(a.Metrics) == 0 {
		ps.add(line, at+".metrics", "at least one metric is required")
	}
	seen := map[string]bool{}
	for i, m := range a.Metrics {
		mat := fmt.Sprintf("%s.metrics[%d]", at, i)
		if _, err := m.MetricConfig(); err != nil {
			ps.add(line, mat, "%v", err)
		}
		if m.Algo != string(dp.AlgoCount) && m.Field == "" {
			ps.add(line, mat+".field", "%s needs the field whose values it aggregates", m.Algo)
		}
		if seen[m.Name] {
			ps.add(line, mat+".name", "metric %s is declared twice", m.Name)
		}
		seen[m.Name] = true
	}
	if _, _, err := a.Budget.Limits(); err != nil {
		ps.add(line, at+".budget", "%v", err)
	}
	if sa := a.SecureAggregation; sa != nil {
		checkSecureAggregation(ps, line, at+".secure_aggregation", sa, a.Length())
	}
}

func checkSecureAggregation(ps *problems, line int, at string, sa *SecureAggregation, length int) {
	if err := cohortName(sa.Cohort); err != nil {
		ps.add(line, at+".cohort", "%v", err)
	}
	if !slices.Contains(sa.Members, sa.Member) {
		ps.add(line, at+".member", "must be one of members")
	}
	if sa.Timeout != "" {
		if d, err := time.ParseDuration(sa.Timeout); err != nil || d <= 0 {
			ps.add(line, at+".timeout", "must be a positive duration such as 60s")
		}
	}
	p := sa.Params("check", max(length, 1))
	if err := p.Validate(); err != nil {
		ps.add(line, at, "%v", err)
	}
}

// MetricConfig is the metric as edge/dp takes it, validated.
func (m Metric) MetricConfig() (dp.MetricConfig, error) {
	eps, err := dp.EpsilonFromFloat(m.Epsilon)
	if err != nil {
		return dp.MetricConfig{}, err
	}
	c := dp.MetricConfig{Name: m.Name, Algo: dp.Algo(m.Algo), Epsilon: eps, Bounds: m.Bounds, MaxPartitions: m.MaxPartitions,
		MaxContributionsPerPartition: m.MaxContributions, Scale: m.Scale}
	if err := c.Validate(); err != nil {
		return dp.MetricConfig{}, err
	}
	return c, nil
}

// Limits are the budget's cap and guarantee, validated.
func (b BudgetConfig) Limits() (dp.Epsilon, dp.Guarantee, error) {
	eps, err := dp.EpsilonFromFloat(b.Epsilon)
	if err != nil {
		return 0, dp.Guarantee{}, fmt.Errorf("epsilon: %w", err)
	}
	g := dp.Guarantee{Kind: dp.GuaranteeKind(b.Guarantee), W: b.W}
	if err := g.Validate(); err != nil {
		return 0, dp.Guarantee{}, fmt.Errorf("guarantee must be event, w_event (with w) or unit: %w", err)
	}
	return eps, g, nil
}

// PartitionKeys are the declared public partitions: the cross product of the group_by fields'
// values, in order, keys joined by dp.PartitionSeparator (one empty key without group_by).
func (a *Aggregate) PartitionKeys() ([]string, error) {
	if len(a.GroupBy) == 0 {
		return []string{""}, nil
	}
	dims := make([][]string, len(a.GroupBy))
	for i, f := range a.GroupBy {
		dims[i] = a.Partitions[f]
	}
	return dp.CrossPartitions(dims...)
}

// PartitionFields splits a partition key back into its group_by fields.
func (a *Aggregate) PartitionFields(key string) map[string]string {
	out := make(map[string]string, len(a.GroupBy))
	if len(a.GroupBy) == 0 {
		return out
	}
	vals := strings.Split(key, dp.PartitionSeparator)
	for i, f := range a.GroupBy {
		if i < len(vals) {
			out[f] = vals[i]
		}
	}
	return out
}

// Open opens the output for a collector (or regional aggregator) of twin at site: stdout
// writes to stdout, nats releases to the EDGE stream, telemetry sends telemetry events to the
// TELEMETRY stream.
func (o OutputConfig) Open(ctx context.Context, twin, site string, stdout io.Writer) (output.Output, error) {
	switch o.Type {
	case "stdout":
		return output.NewStdout(o.Name, stdout), nil
	case "telemetry":
		nc, err := o.natsConfig(bus.StreamTelemetry)
		if err != nil {
			return nil, err
		}
		return output.DialTelemetry(ctx, nc, twin, site)
	}
	return o.DialNATS(ctx, bus.StreamEdge)
}

// DialNATS connects a nats output, loading its secrets from their references, and checks that
// stream (when given) exists.
func (o OutputConfig) DialNATS(ctx context.Context, stream string) (*output.NATS, error) {
	nc, err := o.natsConfig(stream)
	if err != nil {
		return nil, err
	}
	return output.DialNATS(ctx, nc)
}

func (o OutputConfig) natsConfig(stream string) (output.NATSConfig, error) {
	nc := output.NATSConfig{Name: o.Name, URL: o.URL, User: o.User, CredsFile: o.CredsFile, CAFile: o.CAFile, Stream: stream}
	var err error
	if o.TokenRef != "" {
		if nc.Token, err = secret.Load(o.TokenRef); err != nil {
			return nc, fmt.Errorf("output %s: %w", o.Name, err)
		}
	}
	if o.PasswordRef != "" {
		if nc.Password, err = secret.Load(o.PasswordRef); err != nil {
			return nc, fmt.Errorf("output %s: %w", o.Name, err)
		}
	}
	return nc, nil
}

type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(line int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

// yamlErr splits the YAML library's errors into lines.
func (ps *problems) yamlErr(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if g := lineRE.FindStringSubmatch(m); g != nil {
			var line int
			fmt.Sscan(g[1], &line)
			ps.add(line, "", "%s", g[2])
			continue
		}
		ps.add(0, "", "%s", m)
	}
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int { return a.Line - b.Line })
	return &ConfigError{Problems: ps.list}
}

func cohortName(s string) error { return cohort.CheckName("cohort", s) }
