package evidence

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors a spec is refused with; errors.Is finds them through ValidationErrors.
var (
	// ErrInvalid: the spec is malformed (a missing, unknown or out-of-range field).
	ErrInvalid = errors.New("invalid evidence spec")
	// ErrNotReadOnly: a cypher_check query could write, change the schema, administer the
	// server, call a procedure or read files.
	ErrNotReadOnly = errors.New("cypher check is not read-only")
	// ErrUnbounded: a cypher_check query has an unbounded (or too long) variable-length path,
	// or asks for more rows or time than allowed.
	ErrUnbounded = errors.New("cypher check is unbounded")
	// ErrBadQuery: the database refused a cypher_check query (syntax, types, parameters).
	// Stores wrap their error with it.
	ErrBadQuery = errors.New("cypher check query refused by the database")
)

// Bounds of specs.
const (
	// MaxWindow is the longest window (ten years).
	MaxWindow = 3653 * 24 * time.Hour
	// DefaultCypherRows and MaxCypherRows bound the rows a cypher_check reads.
	DefaultCypherRows = 100
	MaxCypherRows     = 10000
	// DefaultCypherTimeout and MaxCypherTimeout bound a cypher_check's time budget.
	DefaultCypherTimeout = 5 * time.Second
	MaxCypherTimeout     = 30 * time.Second
	// MaxPathLength is the longest variable-length path a cypher_check may match.
	MaxPathLength = 10

	maxText      = 2048  // names, keys, ids
	maxQuery     = 20000 // bytes of a cypher_check query
	maxList      = 100   // selectors, prefixes, tags, alert kinds, parameters
	maxParamList = 1000  // items of one list parameter
)

// ScanFormats are the ingest formats whose scans can be evidence.
var scanFormats = []string{"cyclonedx", "grype", "sarif", "spdx", "trivy"}

// ValidationError is one thing wrong with a spec: the field ("window", "subject.artifact",
// "cypher.query") and what is wrong with it. Err is ErrInvalid, ErrNotReadOnly or ErrUnbounded.
type ValidationError struct {
	Field   string
	Message string
	Err     error
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Unwrap returns Err.
func (e *ValidationError) Unwrap() error { return e.Err }

// ValidationErrors is everything wrong with a spec, sorted by field.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "evidence spec: " + strings.Join(parts, "; ")
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

type problems struct{ list ValidationErrors }

func (p *problems) add(field string, err error, format string, args ...any) {
	p.list = append(p.list, &ValidationError{Field: field, Message: fmt.Sprintf(format, args...), Err: err})
}

func (p *problems) bad(field, format string, args ...any) { p.add(field, ErrInvalid, format, args...) }

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b *ValidationError) int { return strings.Compare(a.Field, b.Field) })
	return p.list
}

// kindRule says what a kind takes.
type kindRule struct {
	subjects  []string // labels the subject may have; nil: no subject
	scan      bool     // takes (and requires) scan selectors
	onFail    bool     // takes on_fail
	blocks    []string // blocks it takes: the required ones, then optional ones prefixed with "?"
	scanSARIF bool     // scan selectors must be sarif
}

var kindRules = map[Kind]kindRule{
	KindNoOpenVulns:     {subjects: []string{LabelTwin, LabelService, LabelArtifact, LabelComponent}, scan: true, onFail: true, blocks: []string{"vulns"}},
	KindScanFresh:       {subjects: []string{LabelTwin, LabelService, LabelArtifact, LabelComponent}, scan: true},
	KindSARIFClean:      {subjects: []string{LabelTwin, LabelService, LabelArtifact}, scan: true, onFail: true, blocks: []string{"?findings"}, scanSARIF: true},
	KindNoRuntimeAlerts: {subjects: []string{LabelTwin, LabelService, LabelHost, LabelZone, LabelDataStore}, onFail: true, blocks: []string{"alerts", "heartbeat"}},
	KindHeartbeat:       {blocks: []string{"heartbeat"}},
	KindAttestation:     {subjects: []string{LabelTwin, LabelService, LabelArtifact, LabelComponent, LabelHost, LabelZone, LabelDataStore}, blocks: []string{"attestation"}},
	KindCypherCheck:     {onFail: true, blocks: []string{"cypher"}},
}

// Validate checks a spec and returns ValidationErrors naming every field at fault, or nil.
//
// Every spec needs a known kind and a window (0 < window ≤ MaxWindow). Then, by kind:
//   - no_open_vulns: subject (twin, service, artifact, component), scan, vulns.min_severity;
//     optional vulns.kev_only, vulns.min_epss, vulns.ignore_unrated, on_fail.
//   - scan_fresh: subject (twin, service, artifact, component), scan.
//   - sarif_clean: subject (twin, service, artifact), scan (sarif selectors); optional
//     findings, on_fail.
//   - no_runtime_alerts: subject (twin, service, host, zone, datastore), alerts (field, kinds),
//     heartbeat (site, within); optional heartbeat.pipeline, on_fail.
//   - heartbeat: heartbeat.site, optional heartbeat.pipeline; the window is the longest silence.
//   - attestation: subject (any), attestation.id or attestation.topic.
//   - cypher_check: cypher.query, read-only and bounded as far as can be told without a
//     database (CheckCypher); optional params, expect, max_rows, timeout, on_fail.
//
// A field a kind does not take is an error, so a typo'd spec never passes silently.
func (s Spec) Validate() error {
	var p problems
	if len(s.ID) > maxText || !utf8.ValidString(s.ID) {
		p.bad("id", "longer than %d bytes or not UTF-8", maxText)
	}
	rule, ok := kindRules[s.Kind]
	if !ok {
		if s.Kind == "" {
			p.bad("kind", "required: one of %s", kindList())
		} else {
			p.bad("kind", "%q is not one of %s", clip(string(s.Kind)), kindList())
		}
		return p.err()
	}
	w := s.Window.D()
	switch {
	case w == 0:
		p.bad("window", "required: how long evidence stays valid, such as 7d or 5m")
	case w < 0:
		p.bad("window", "%s is negative", s.Window)
	case w > MaxWindow:
		p.bad("window", "%s is longer than ten years", s.Window)
	}
	if math.IsNaN(s.Weight) || s.Weight < 0 || s.Weight > 1 {
		p.bad("weight", "%v is not in (0, 1]", s.Weight)
	}
	switch {
	case s.OnFail != "" && !rule.onFail:
		p.bad("on_fail", "not taken by kind %s", s.Kind)
	case s.OnFail != "" && s.OnFail != Fail && s.OnFail != Degraded:
		p.bad("on_fail", "%q is not FAIL or DEGRADED", clip(string(s.OnFail)))
	}
	s.validateSubject(&p, rule)
	s.validateScan(&p, rule)
	blocks := map[string]bool{"vulns": s.Vulns != nil, "findings": s.Findings != nil, "alerts": s.Alerts != nil,
		"heartbeat": s.Heartbeat != nil, "attestation": s.Attestation != nil, "cypher": s.Cypher != nil}
	for _, name := range mapKeys(blocks) {
		required, taken := slices.Contains(rule.blocks, name), slices.Contains(rule.blocks, "?"+name)
		switch {
		case required && !blocks[name]:
			p.bad(name, "required by kind %s", s.Kind)
		case blocks[name] && !required && !taken:
			p.bad(name, "not taken by kind %s", s.Kind)
		}
	}
	if s.Vulns != nil && rule.takes("vulns") {
		s.Vulns.validate(&p)
	}
	if s.Findings != nil && rule.takes("findings") {
		s.Findings.validate(&p)
	}
	if s.Alerts != nil && rule.takes("alerts") {
		s.Alerts.validate(&p)
	}
	if s.Heartbeat != nil && rule.takes("heartbeat") {
		s.Heartbeat.validate(&p, s.Kind)
	}
	if s.Attestation != nil && rule.takes("attestation") {
		a := s.Attestation
		switch {
		case (a.ID == "") == (a.Topic == ""):
			p.bad("attestation", "set exactly one of id and topic")
		case a.ID != "":
			checkName(&p, "attestation.id", a.ID)
		default:
			checkName(&p, "attestation.topic", a.Topic)
		}
	}
	if s.Cypher != nil && rule.takes("cypher") {
		s.Cypher.validate(&p)
	}
	return p.err()
}

func (r kindRule) takes(block string) bool {
	return slices.Contains(r.blocks, block) || slices.Contains(r.blocks, "?"+block)
}

func (s Spec) validateSubject(p *problems, rule kindRule) {
	if s.Subject == nil {
		if rule.subjects != nil {
			p.bad("subject", "required by kind %s: one of %s", s.Kind, labelFields(rule.subjects))
		}
		return
	}
	if rule.subjects == nil {
		p.bad("subject", "not taken by kind %s", s.Kind)
		return
	}
	sub := *s.Subject
	set := sub.fields()
	switch len(set) {
	case 0:
		p.bad("subject", "name one of %s", labelFields(rule.subjects))
		return
	case 1:
	default:
		p.bad("subject", "name one element, not %s", strings.Join(set, " and "))
		return
	}
	ref := sub.Ref()
	if !slices.Contains(rule.subjects, ref.Label) {
		p.bad("subject."+set[0], "kind %s takes a subject of %s", s.Kind, labelFields(rule.subjects))
	}
	if !sub.Twin {
		checkName(p, "subject."+set[0], ref.Key+ref.Name)
	}
	switch {
	case sub.Stage != "" && sub.Stage != StageBuild && sub.Stage != StageRunning:
		p.bad("subject.stage", "%q is not build or running", clip(string(sub.Stage)))
	case sub.Stage != "" && !(sub.Twin || ref.Label == LabelArtifact && ref.Name != ""):
		p.bad("subject.stage", "only for the twin and for an artifact given by name (a digest is its own stage)")
	}
}

// fields lists the subject fields that are set, in declaration order.
func (s Subject) fields() []string {
	var out []string
	if s.Twin {
		out = append(out, "twin")
	}
	for _, f := range []struct{ name, v string }{{"service", s.Service}, {"artifact", s.Artifact},
		{"component", s.Component}, {"host", s.Host}, {"zone", s.Zone}, {"datastore", s.DataStore}} {
		if f.v != "" {
			out = append(out, f.name)
		}
	}
	return out
}

func (s Spec) validateScan(p *problems, rule kindRule) {
	if !rule.scan {
		if len(s.Scan) > 0 {
			p.bad("scan", "not taken by kind %s", s.Kind)
		}
		return
	}
	if len(s.Scan) == 0 {
		p.bad("scan", "required by kind %s: the scans that count, such as [trivy] or [sarif:semgrep]", s.Kind)
		return
	}
	if len(s.Scan) > maxList {
		p.bad("scan", "more than %d selectors", maxList)
		return
	}
	seen := map[string]bool{}
	for i, sel := range s.Scan {
		field := fmt.Sprintf("scan[%d]", i)
		format, tool, hasTool := strings.Cut(sel, ":")
		switch {
		case !slices.Contains(scanFormats, format):
			p.bad(field, "%q: the format must be one of %s, optionally followed by :tool", clip(sel), strings.Join(scanFormats, ", "))
		case hasTool && (tool == "" || len(tool) > 100 || !printable(tool)):
			p.bad(field, "%q: the tool after the colon must be a name of 1 to 100 printable characters", clip(sel))
		case rule.scanSARIF && format != "sarif":
			p.bad(field, "%q: kind %s reads SARIF findings; use sarif or sarif:tool", clip(sel), s.Kind)
		case seen[strings.ToLower(sel)]:
			p.bad(field, "%q is listed twice", clip(sel))
		}
		seen[strings.ToLower(sel)] = true
	}
}

func (v *VulnCriteria) validate(p *problems) {
	if v.MinSeverity == "" {
		p.bad("vulns.min_severity", "required: LOW, MEDIUM, HIGH or CRITICAL")
	} else if severityRank(string(v.MinSeverity)) < 1 {
		p.bad("vulns.min_severity", "%q is not LOW, MEDIUM, HIGH or CRITICAL", clip(string(v.MinSeverity)))
	}
	if e := v.MinEPSS; e != nil && (math.IsNaN(*e) || *e < 0 || *e > 1) {
		p.bad("vulns.min_epss", "%v is not a probability in [0, 1]", *e)
	}
}

func (f *FindingCriteria) validate(p *problems) {
	checkList(p, "findings.rule_prefixes", f.RulePrefixes)
	checkList(p, "findings.tags", f.Tags)
	if f.MinSeverity != "" && severityRank(string(f.MinSeverity)) < 1 {
		p.bad("findings.min_severity", "%q is not LOW, MEDIUM, HIGH or CRITICAL", clip(string(f.MinSeverity)))
	}
}

func (a *AlertCriteria) validate(p *problems) {
	if a.Field == "" {
		p.bad("alerts.field", "required: the field of the released JSON that names the alert kind, such as event_type")
	} else {
		checkName(p, "alerts.field", a.Field)
	}
	if len(a.Kinds) == 0 {
		p.bad("alerts.kinds", "required: the values of alerts.field that are alerts, such as [alert]")
		return
	}
	checkList(p, "alerts.kinds", a.Kinds)
	for i, k := range a.Kinds {
		if strings.Contains(strings.TrimSuffix(k, "*"), "*") {
			p.bad(fmt.Sprintf("alerts.kinds[%d]", i), "%q: * may only end a value", clip(k))
		}
	}
}

func (h *HeartbeatSource) validate(p *problems, kind Kind) {
	if h.Site == "" {
		p.bad("heartbeat.site", "required: the edge collector site whose releases are the heartbeat")
	} else {
		checkName(p, "heartbeat.site", h.Site)
	}
	if h.Pipeline != "" {
		checkName(p, "heartbeat.pipeline", h.Pipeline)
	}
	w := h.Within.D()
	switch {
	case kind == KindHeartbeat && w != 0:
		p.bad("heartbeat.within", "not taken by kind heartbeat: its window is the longest silence")
	case kind != KindHeartbeat && w == 0:
		p.bad("heartbeat.within", "required: the longest silence of the monitor, such as 5m")
	case w < 0:
		p.bad("heartbeat.within", "%s is negative", h.Within)
	case w > MaxWindow:
		p.bad("heartbeat.within", "%s is longer than ten years", h.Within)
	}
}

func (c *CypherCheck) validate(p *problems) {
	switch {
	case strings.TrimSpace(c.Query) == "":
		p.bad("cypher.query", "required: a read-only query using $twin")
	case len(c.Query) > maxQuery:
		p.bad("cypher.query", "longer than %d bytes", maxQuery)
	case !utf8.ValidString(c.Query):
		p.bad("cypher.query", "not valid UTF-8")
	default:
		if err := CheckCypher(c.Query, mapKeys(c.Params)); err != nil {
			var le *lintError
			if errors.As(err, &le) {
				p.add("cypher.query", le.kind, "%s", le.msg)
			} else {
				p.bad("cypher.query", "%v", err)
			}
		}
	}
	if len(c.Params) > maxList {
		p.bad("cypher.params", "more than %d parameters", maxList)
	}
	for _, name := range mapKeys(c.Params) {
		field := "cypher.params." + clip(name)
		switch {
		case !isIdentifier(name):
			p.bad(field, "a parameter name is a letter or _ followed by letters, digits or _")
		case name == "twin":
			p.bad(field, "$twin is the twin's name, set by sectwin; it cannot be declared")
		default:
			if msg := paramProblem(c.Params[name]); msg != "" {
				p.bad(field, "%s", msg)
			}
		}
	}
	switch c.Expect {
	case "", ExpectNone, ExpectSome:
	default:
		p.bad("cypher.expect", "%q is not none or some", clip(string(c.Expect)))
	}
	switch {
	case c.MaxRows < 0:
		p.bad("cypher.max_rows", "%d is negative", c.MaxRows)
	case c.MaxRows > MaxCypherRows:
		p.add("cypher.max_rows", ErrUnbounded, "%d is more than %d", c.MaxRows, MaxCypherRows)
	}
	switch t := c.Timeout.D(); {
	case t < 0:
		p.bad("cypher.timeout", "%s is negative", c.Timeout)
	case t > MaxCypherTimeout:
		p.add("cypher.timeout", ErrUnbounded, "%s is longer than %s", c.Timeout, MaxCypherTimeout)
	case t != 0 && t < time.Millisecond:
		p.bad("cypher.timeout", "%s is shorter than 1ms", c.Timeout)
	}
}

// paramProblem says what is wrong with a parameter value, or "".
func paramProblem(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > maxText*2 || !utf8.ValidString(x) {
			return fmt.Sprintf("strings are at most %d bytes of UTF-8", maxText*2)
		}
	case bool, int64:
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "numbers must be finite"
		}
	case []any:
		if len(x) > maxParamList {
			return fmt.Sprintf("lists have at most %d items", maxParamList)
		}
		for _, e := range x {
			if _, isList := e.([]any); isList {
				return "lists hold strings, booleans or numbers, not lists"
			}
			if msg := paramProblem(e); msg != "" {
				return msg
			}
		}
	default:
		return fmt.Sprintf("%T: parameters are strings, booleans, numbers or lists of those", v)
	}
	return ""
}

func checkName(p *problems, field, v string) {
	switch {
	case v == "":
		p.bad(field, "empty")
	case len(v) > maxText:
		p.bad(field, "longer than %d bytes", maxText)
	case !utf8.ValidString(v):
		p.bad(field, "not valid UTF-8")
	case strings.TrimSpace(v) != v:
		p.bad(field, "%q has leading or trailing spaces", clip(v))
	case !printable(v):
		p.bad(field, "%q has control characters", clip(v))
	}
}

func checkList(p *problems, field string, vs []string) {
	if len(vs) > maxList {
		p.bad(field, "more than %d items", maxList)
		return
	}
	seen := map[string]bool{}
	for i, v := range vs {
		f := fmt.Sprintf("%s[%d]", field, i)
		checkName(p, f, v)
		if seen[v] {
			p.bad(f, "%q is listed twice", clip(v))
		}
		seen[v] = true
	}
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	i := 80
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func kindList() string {
	names := make([]string, 0, len(kindRules))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func labelFields(labels []string) string {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = subjectField[l]
	}
	return strings.Join(names, ", ")
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// severityRank orders severities: NONE 0, LOW 1, MEDIUM (or MODERATE) 2, HIGH 3, CRITICAL 4,
// and -1 for anything else (unrated).
func severityRank(s string) int {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "NONE":
		return 0
	case "LOW":
		return 1
	case "MEDIUM", "MODERATE":
		return 2
	case "HIGH":
		return 3
	case "CRITICAL":
		return 4
	}
	return -1
}
