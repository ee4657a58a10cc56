package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Kind is what an evidence spec checks.
type Kind string

// The kinds of evidence spec.
const (
	// KindNoOpenVulns: no open vulnerability at or above a severity on the subject's components.
	KindNoOpenVulns Kind = "no_open_vulns"
	// KindScanFresh: a scan of the subject's current digest no older than the window.
	KindScanFresh Kind = "scan_fresh"
	// KindSARIFClean: no open finding of a rule family in the subject's newest SARIF scan.
	KindSARIFClean Kind = "sarif_clean"
	// KindNoRuntimeAlerts: no runtime alert about the subject within the window, from a monitor
	// whose heartbeat is alive.
	KindNoRuntimeAlerts Kind = "no_runtime_alerts"
	// KindHeartbeat: a monitor released something within the window.
	KindHeartbeat Kind = "heartbeat"
	// KindAttestation: a manual attestation, valid until it expires.
	KindAttestation Kind = "attestation"
	// KindCypherCheck: a read-only, bounded Cypher query over the twin returns no rows (or some).
	KindCypherCheck Kind = "cypher_check"
)

// Kinds lists every kind, in the order of the documentation.
func Kinds() []Kind {
	return []Kind{KindNoOpenVulns, KindScanFresh, KindSARIFClean, KindNoRuntimeAlerts, KindHeartbeat, KindAttestation, KindCypherCheck}
}

// Stage says which digest of an artifact is current: the newest build (dev claims) or what
// services run (ops claims).
type Stage string

// The stages. The zero Stage is StageBuild.
const (
	StageBuild   Stage = "build"
	StageRunning Stage = "running"
)

// Severity is a vulnerability or finding severity: LOW, MEDIUM, HIGH or CRITICAL (any case).
type Severity string

// Verdict is what a piece of evidence says.
type Verdict string

// The verdicts of the design's leaf rules.
const (
	Pass     Verdict = "PASS"
	Fail     Verdict = "FAIL"
	Error    Verdict = "ERROR"
	Degraded Verdict = "DEGRADED"
)

// Expect is what a cypher_check wants its query to return.
type Expect string

// The expectations. The zero Expect is ExpectNone.
const (
	ExpectNone Expect = "none" // PASS when the query returns no rows
	ExpectSome Expect = "some" // PASS when it returns at least one
)

// Spec is a declarative evidence spec: what to read from the twin about which subject, and
// how long the evidence it finds stays valid. Common fields come first; the blocks after them
// belong to one kind each (see Validate for which kind takes which).
type Spec struct {
	// ID names the spec in results and messages (optional).
	ID   string `json:"id,omitempty" yaml:"id,omitempty"`
	Kind Kind   `json:"kind" yaml:"kind"`
	// Subject is what the evidence must be about. Every kind but heartbeat and cypher_check
	// requires one.
	Subject *Subject `json:"subject,omitempty" yaml:"subject,omitempty"`
	// Window is how long evidence stays valid after it was collected (the design's W). It is
	// required: for no_runtime_alerts it is how far back alerts count, for heartbeat the
	// longest silence, for cypher_check how long a result holds before the query runs again.
	Window Duration `json:"window" yaml:"window"`
	// Weight is w_kind in (0, 1] for the leaf confidence; zero means DefaultWeight(Kind).
	Weight float64 `json:"weight,omitempty" yaml:"weight,omitempty"`
	// OnFail is the verdict when the data violates the spec: FAIL (the default) or DEGRADED.
	// It applies to no_open_vulns, sarif_clean, no_runtime_alerts and cypher_check.
	OnFail Verdict `json:"on_fail,omitempty" yaml:"on_fail,omitempty"`
	// Scan selects the scans that count as evidence, as "format" or "format:tool"
	// (trivy, grype, cyclonedx, spdx, sarif:semgrep): the newest scan by any of them counts.
	// Required by no_open_vulns, scan_fresh and sarif_clean (sarif formats only).
	Scan []string `json:"scan,omitempty" yaml:"scan,omitempty"`

	Vulns       *VulnCriteria        `json:"vulns,omitempty" yaml:"vulns,omitempty"`             // no_open_vulns (required)
	Findings    *FindingCriteria     `json:"findings,omitempty" yaml:"findings,omitempty"`       // sarif_clean (optional)
	Alerts      *AlertCriteria       `json:"alerts,omitempty" yaml:"alerts,omitempty"`           // no_runtime_alerts (required)
	Heartbeat   *HeartbeatSource     `json:"heartbeat,omitempty" yaml:"heartbeat,omitempty"`     // no_runtime_alerts, heartbeat (required)
	Attestation *AttestationSelector `json:"attestation,omitempty" yaml:"attestation,omitempty"` // attestation (required)
	Cypher      *CypherCheck         `json:"cypher,omitempty" yaml:"cypher,omitempty"`           // cypher_check (required)
}

// Subject names one element of the twin, or the whole twin: exactly one field but Stage is set.
type Subject struct {
	Twin    bool   `json:"twin,omitempty" yaml:"twin,omitempty"`
	Service string `json:"service,omitempty" yaml:"service,omitempty"`
	// Artifact is a digest ("sha256:…" or "sha512:…"), which pins that digest, or an artifact
	// name, whose current digest Stage picks.
	Artifact  string `json:"artifact,omitempty" yaml:"artifact,omitempty"`
	Component string `json:"component,omitempty" yaml:"component,omitempty"` // a purl
	Host      string `json:"host,omitempty" yaml:"host,omitempty"`
	Zone      string `json:"zone,omitempty" yaml:"zone,omitempty"`
	DataStore string `json:"datastore,omitempty" yaml:"datastore,omitempty"`
	// Stage picks the current digests of an artifact given by name, and of the whole twin:
	// build (the default: the newest digest of each name) or running (the digests services RUN).
	Stage Stage `json:"stage,omitempty" yaml:"stage,omitempty"`
}

// VulnCriteria say which open vulnerabilities undermine a no_open_vulns spec. All conditions
// must hold for a vulnerability to count.
type VulnCriteria struct {
	// MinSeverity is the lowest severity that counts: LOW, MEDIUM, HIGH or CRITICAL. A
	// vulnerability without a severity is rated from its CVSS score.
	MinSeverity Severity `json:"min_severity" yaml:"min_severity"`
	// KEVOnly counts only vulnerabilities in CISA's Known Exploited Vulnerabilities catalogue.
	KEVOnly bool `json:"kev_only,omitempty" yaml:"kev_only,omitempty"`
	// MinEPSS counts only vulnerabilities whose EPSS probability is at least this (0 to 1).
	MinEPSS *float64 `json:"min_epss,omitempty" yaml:"min_epss,omitempty"`
	// IgnoreUnrated skips vulnerabilities with neither severity nor CVSS score, and (with
	// MinEPSS) those without an EPSS probability. By default they count: what cannot be shown
	// to be below the bar is not.
	IgnoreUnrated bool `json:"ignore_unrated,omitempty" yaml:"ignore_unrated,omitempty"`
}

// FindingCriteria say which open findings undermine a sarif_clean spec: those of the rule
// family (a rule id with one of the prefixes, or one of the tags; every rule when both are
// empty) at or above MinSeverity (when set).
type FindingCriteria struct {
	RulePrefixes []string `json:"rule_prefixes,omitempty" yaml:"rule_prefixes,omitempty"`
	Tags         []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	MinSeverity  Severity `json:"min_severity,omitempty" yaml:"min_severity,omitempty"`
}

// AlertCriteria say which runtime events are alerts: those whose released JSON has Field
// (a flat name such as "alert.signature", or a dotted path into nested objects) with one of
// the Kinds as its value (case-insensitive; a trailing * matches a prefix, "*" alone any value).
type AlertCriteria struct {
	Field string   `json:"field" yaml:"field"`
	Kinds []string `json:"kinds" yaml:"kinds"`
}

// HeartbeatSource names a monitor: the edge collector site (and optionally one of its
// pipelines) whose releases (EdgeEvent or EdgeAggregate) prove it alive.
type HeartbeatSource struct {
	Site     string `json:"site" yaml:"site"`
	Pipeline string `json:"pipeline,omitempty" yaml:"pipeline,omitempty"`
	// Within is the longest silence allowed; required by no_runtime_alerts. The heartbeat
	// kind takes its spec's window instead.
	Within Duration `json:"within,omitempty" yaml:"within,omitempty"`
}

// AttestationSelector picks attestations: one by id, or the newest with a topic.
type AttestationSelector struct {
	ID    string `json:"id,omitempty" yaml:"id,omitempty"`
	Topic string `json:"topic,omitempty" yaml:"topic,omitempty"`
}

// CypherCheck is a read-only query over the twin. It may use $twin (it must, to scope itself)
// and the declared Params, nothing else; it runs with a row limit and a time budget.
type CypherCheck struct {
	Query string `json:"query" yaml:"query"`
	// Params are strings, booleans, numbers or lists of those.
	Params map[string]any `json:"params,omitempty" yaml:"params,omitempty"`
	Expect Expect         `json:"expect,omitempty" yaml:"expect,omitempty"`
	// MaxRows bounds the rows read (DefaultCypherRows when zero, at most MaxCypherRows).
	MaxRows int `json:"max_rows,omitempty" yaml:"max_rows,omitempty"`
	// Timeout is the query's time budget (DefaultCypherTimeout when zero, at most
	// MaxCypherTimeout).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Duration is a time.Duration written as Go writes durations ("90s", "1h30m"), plus days
// ("7d") and weeks ("2w"): "1d12h" is 36 hours.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes whole days as days: "7d", "1d12h", "5m".
func (d Duration) String() string {
	x := time.Duration(d)
	if x == 0 {
		return "0s"
	}
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	const day = 24 * time.Hour
	var b strings.Builder
	b.WriteString(sign)
	if days := x / day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		x -= days * day
	}
	if x > 0 {
		s := x.String()
		// time.Duration writes 36h as "36h0m0s": drop the zero tails.
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	x, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = x
	return nil
}

// ParseDuration reads a Duration: a sequence of decimal numbers with units, Go's (ns, us, µs,
// ms, s, m, h) plus d (24h) and w (7d), such as "7d", "1d12h" or "1.5h".
func ParseDuration(s string) (Duration, error) {
	in := s
	if s == "" {
		return 0, errors.New("empty duration")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		j := i
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		num, unit := s[:i], s[i:j]
		s = s[j:]
		var mult time.Duration
		switch unit {
		case "d":
			mult = 24 * time.Hour
		case "w":
			mult = 7 * 24 * time.Hour
		default:
			// Go's units, one at a time, so that "1d12h" mixes both.
			x, err := time.ParseDuration(num + unit)
			if err != nil || num == "" {
				return 0, fmt.Errorf("duration %q: want a number and a unit (ns, us, ms, s, m, h, d, w), such as 7d or 90s", in)
			}
			if sum := total + x; sum < total {
				return 0, fmt.Errorf("duration %q is too long", in)
			}
			total += x
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" || strings.Count(num, ".") > 1 {
			return 0, fmt.Errorf("duration %q: want a number and a unit (ns, us, ms, s, m, h, d, w), such as 7d or 90s", in)
		}
		x := f * float64(mult)
		if x > float64(1<<62) {
			return 0, fmt.Errorf("duration %q is too long", in)
		}
		if sum := total + time.Duration(x); sum < total {
			return 0, fmt.Errorf("duration %q is too long", in)
		}
		total += time.Duration(x)
	}
	if neg {
		total = -total
	}
	return Duration(total), nil
}

// ParseYAML reads one spec from YAML, refusing unknown fields and trailing documents, and
// validates it (see Spec.Validate).
func ParseYAML(data []byte) (Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, errors.New("evidence spec: empty document")
		}
		return Spec{}, fmt.Errorf("evidence spec: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Spec{}, errors.New("evidence spec: more than one YAML document")
	}
	s.normalize()
	return s, s.Validate()
}

// ParseJSON reads one spec from JSON, refusing unknown fields and trailing data, and
// validates it (see Spec.Validate).
func ParseJSON(data []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("evidence spec: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Spec{}, errors.New("evidence spec: trailing data after the JSON object")
	}
	s.normalize()
	return s, s.Validate()
}

// normalize puts what parsing read into canonical form: severities upper case, cypher
// parameters as int64, float64, string, bool or lists of those.
func (s *Spec) normalize() {
	if s.Vulns != nil {
		s.Vulns.MinSeverity = Severity(strings.ToUpper(string(s.Vulns.MinSeverity)))
	}
	if s.Findings != nil {
		s.Findings.MinSeverity = Severity(strings.ToUpper(string(s.Findings.MinSeverity)))
	}
	s.OnFail = Verdict(strings.ToUpper(string(s.OnFail)))
	if s.Cypher != nil {
		for k, v := range s.Cypher.Params {
			if n, ok := normalizeParam(v); ok {
				s.Cypher.Params[k] = n
			}
		}
	}
}

// normalizeParam converts a decoded parameter value to the types Neo4j takes; ok is false for
// values a parameter cannot be (maps, null, nested lists).
func normalizeParam(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float32:
		return float64(x), true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil {
			return f, true
		}
		return nil, false
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if _, isList := e.([]any); isList {
				return nil, false
			}
			n, ok := normalizeParam(e)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	return nil, false
}
