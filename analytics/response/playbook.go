package response

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/sectwin/sectwin/edge/secret"
	"github.com/sectwin/sectwin/internal/yamldoc"
)

// Version is the playbook file version this package reads.
const Version = 1

// Limits of a playbook file.
const (
	MaxFileBytes = 1 << 20 // a file
	MaxPlaybooks = 256     // playbooks in a file
	MaxActions   = 16      // actions in a playbook
	MaxExprBytes = 4096    // an expression
	MaxRate      = 10000   // rate.max
	MinRatePer   = time.Second
	MaxRatePer   = 24 * time.Hour
)

// SubjectPrefix starts every subject a publish action computes, so that a playbook cannot
// publish into telemetry (and trigger itself) or into another component's subjects.
const SubjectPrefix = "sectwin.response."

// defaultRate is the rate limit of a playbook without one: 10 triggers a minute, one bucket.
var defaultRate = rateSpec{Max: 10, Per: time.Minute}

// SecretFunc resolves a secret reference (env:NAME or file:PATH). secret.Load is the default;
// its errors name the reference, never the value.
type SecretFunc func(ref string) (secret.Value, error)

// Problem is one thing wrong with a playbook file.
type Problem struct {
	File     string
	Line     int    // 1-based; 0 when unknown
	Playbook string // the playbook's name, when known
	Path     string // the field, such as "when" or "actions[1].webhook.secret"
	Message  string
}

// String formats the problem as "file:line: playbook NAME: path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Playbook != "" {
		fmt.Fprintf(&b, ": playbook %s", p.Playbook)
	}
	if p.Path != "" {
		b.WriteString(": " + p.Path)
	}
	return b.String() + ": " + p.Message
}

// LoadError lists every problem found in a playbook file, in line order. A file with any
// problem is refused as a whole.
type LoadError struct{ Problems []Problem }

// Error lists the problems, one a line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Set is a loaded playbook file: every condition and expression compiled, every secret
// resolved. It is immutable and safe for concurrent use.
type Set struct {
	playbooks []*playbook
}

// Names returns the playbooks' names in file order.
func (s *Set) Names() []string {
	names := make([]string, len(s.playbooks))
	for i, p := range s.playbooks {
		names[i] = p.name
	}
	return names
}

// The file as YAML.
type (
	fileSpec struct {
		Version   int            `yaml:"version"`
		Playbooks []playbookSpec `yaml:"playbooks"`
	}
	playbookSpec struct {
		Name        string       `yaml:"name"`
		Description string       `yaml:"description"`
		On          []string     `yaml:"on"`
		When        string       `yaml:"when"`
		Rate        *rateSpec    `yaml:"rate"`
		DryRun      bool         `yaml:"dry_run"`
		Actions     []actionSpec `yaml:"actions"`
	}
	rateSpec struct {
		Max int           `yaml:"max"`
		Per time.Duration `yaml:"per"`
		Key string        `yaml:"key"`
	}
	actionSpec struct {
		Quarantine *quarantineSpec `yaml:"quarantine"`
		Publish    *publishSpec    `yaml:"publish"`
		Webhook    *webhookSpec    `yaml:"webhook"`
		Finding    *findingSpec    `yaml:"finding"`
		Defeater   *defeaterSpec   `yaml:"defeater"`
	}
	quarantineSpec struct {
		Entity string `yaml:"entity"`
		Reason string `yaml:"reason"`
	}
	publishSpec struct {
		Subject string `yaml:"subject"`
	}
	webhookSpec struct {
		URL    string `yaml:"url"`
		Secret string `yaml:"secret"`
	}
	findingSpec struct {
		Entity   string `yaml:"entity"`
		Title    string `yaml:"title"`
		Severity string `yaml:"severity"`
		Message  string `yaml:"message"`
	}
	defeaterSpec struct {
		Entity   string `yaml:"entity"`
		Kind     string `yaml:"kind"`
		Severity string `yaml:"severity"`
		Text     string `yaml:"text"`
		Evidence string `yaml:"evidence"`
	}
)

// A compiled playbook.
type (
	playbook struct {
		name    string
		on      []Kind
		when    *vm.Program
		max     int
		per     time.Duration
		key     *vm.Program // nil: one bucket for the playbook
		dryRun  bool
		actions []action
	}
	// action holds an action's expressions (nil: the default) and literals.
	action struct {
		kind                                          ActionKind
		entity, reason, subject, title, message, text *vm.Program
		url                                           string
		secret                                        secret.Value
		severity, defeaterKind, evidence              string
	}
)

var (
	nameRE             = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	lineRE             = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownFieldRE     = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	findingSeverities  = []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}
	defeaterSeverities = []string{"low", "medium", "high", "critical"}
	defeaterKinds      = []string{"rebutting", "undercutting", "undermining"}
	defeaterEvidence   = []string{DefeaterEvidenceTrigger, DefeaterEvidenceNone}
)

// Load reads and compiles a playbook file, resolving secrets with secret.Load.
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	return Parse(path, data, nil)
}

// Parse reads and compiles a playbook file; file names it in problems. secrets resolves
// secret references (nil: secret.Load). Any problem refuses the whole file: the error is a
// *LoadError listing every one with its line.
func Parse(file string, data []byte, secrets SecretFunc) (*Set, error) {
	if secrets == nil {
		secrets = secret.Load
	}
	ps := &problems{file: file}
	if len(data) > MaxFileBytes {
		ps.add(0, "", "", "the file is larger than %d bytes", MaxFileBytes)
		return nil, ps.err()
	}
	root, yerr := yamldoc.Read(data)
	switch {
	case yerr != nil && yerr.Kind == yamldoc.SecondDocument:
		ps.add(yerr.Line, "", "", "a second YAML document: a playbook file holds one")
		return nil, ps.err()
	case yerr != nil:
		ps.add(yerr.Line, "", "", "%s", yerr.Message)
		return nil, ps.err()
	case root == nil:
		ps.add(0, "", "", "the file is empty; start from docs/playbooks.md")
		return nil, ps.err()
	case root.Kind != yaml.MappingNode:
		ps.add(root.Line, "", "", "the file must be a mapping with version and playbooks")
		return nil, ps.err()
	}
	var spec fileSpec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := yamldoc.DecodeStrict(dec, &spec); err != nil {
		ps.yamlErr(err)
		return nil, ps.err()
	}

	if spec.Version != Version {
		ps.add(keyLine(root, "version"), "", "version", "must be %d (got %d)", Version, spec.Version)
	}
	pbNodes := yamldoc.Child(root, "playbooks")
	switch {
	case len(spec.Playbooks) == 0:
		ps.add(keyLine(root, "playbooks"), "", "playbooks", "at least one playbook is required")
	case len(spec.Playbooks) > MaxPlaybooks:
		ps.add(keyLine(root, "playbooks"), "", "playbooks", "at most %d playbooks (got %d)", MaxPlaybooks, len(spec.Playbooks))
	}
	set := &Set{}
	seen := map[string]bool{}
	for i, pb := range spec.Playbooks {
		c := &compiler{ps: ps, node: item(pbNodes, i), name: pb.Name, secrets: secrets}
		if c.node == nil {
			c.node = root
		}
		switch {
		case !nameRE.MatchString(pb.Name):
			c.name = ""
			c.add(c.line("name"), "name", "required: 1-64 lower-case letters, digits, '-' or '_' (playbooks[%d])", i)
		case seen[pb.Name]:
			c.add(c.line("name"), "name", "a second playbook with this name")
		}
		seen[pb.Name] = true
		if p := c.playbook(pb); p != nil {
			set.playbooks = append(set.playbooks, p)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// compiler compiles one playbook, adding its problems.
type compiler struct {
	ps      *problems
	node    *yaml.Node // the playbook's mapping
	name    string
	secrets SecretFunc
}

func (c *compiler) add(line int, path, format string, args ...any) {
	c.ps.add(line, c.name, path, format, args...)
}

func (c *compiler) line(key string) int {
	if l := keyLine(c.node, key); l > 0 {
		return l
	}
	return c.node.Line
}

func (c *compiler) playbook(pb playbookSpec) *playbook {
	before := len(c.ps.list)
	p := &playbook{name: pb.Name, dryRun: pb.DryRun}

	if len(pb.On) == 0 {
		c.add(c.line("on"), "on", "required: the trigger kinds, some of %s", kindList())
	}
	for _, k := range pb.On {
		switch {
		case !validKind(Kind(k)):
			c.add(c.line("on"), "on", "unknown trigger kind %q (one of %s)", k, kindList())
		case slices.Contains(p.on, Kind(k)):
			c.add(c.line("on"), "on", "%s is listed twice", k)
		default:
			p.on = append(p.on, Kind(k))
		}
	}

	if strings.TrimSpace(pb.When) == "" {
		c.add(c.line("when"), "when", `required: a condition such as 'trigger.severity == "CRITICAL"' (or 'true')`)
	} else {
		p.when = c.expr(yamldoc.Child(c.node, "when"), "when", pb.When, true)
	}

	rate := defaultRate
	if pb.Rate != nil {
		rate = *pb.Rate
		rn := yamldoc.Child(c.node, "rate")
		if rn == nil {
			rn = c.node
		}
		if rate.Max < 1 || rate.Max > MaxRate {
			c.add(lineOr(keyLine(rn, "max"), rn.Line), "rate.max", "must be 1 to %d (got %d)", MaxRate, rate.Max)
		}
		if rate.Per < MinRatePer || rate.Per > MaxRatePer {
			c.add(lineOr(keyLine(rn, "per"), rn.Line), "rate.per", "must be a duration from %s to %s, such as 1m (got %s)", MinRatePer, MaxRatePer, rate.Per)
		}
		if rate.Key != "" {
			p.key = c.expr(yamldoc.Child(rn, "key"), "rate.key", rate.Key, false)
		}
	}
	p.max, p.per = rate.Max, rate.Per

	an := yamldoc.Child(c.node, "actions")
	switch {
	case len(pb.Actions) == 0:
		c.add(c.line("actions"), "actions", "at least one action is required (%s)", actionList())
	case len(pb.Actions) > MaxActions:
		c.add(c.line("actions"), "actions", "at most %d actions (got %d)", MaxActions, len(pb.Actions))
	}
	for i, as := range pb.Actions {
		n := item(an, i)
		if n == nil {
			n = c.node
		}
		if a, ok := c.action(n, fmt.Sprintf("actions[%d]", i), as); ok {
			p.actions = append(p.actions, a)
		}
	}
	if len(c.ps.list) > before {
		return nil
	}
	return p
}

// action compiles one action; n is its item in the actions list.
func (c *compiler) action(n *yaml.Node, at string, as actionSpec) (action, bool) {
	set := 0
	for _, ok := range []bool{as.Quarantine != nil, as.Publish != nil, as.Webhook != nil, as.Finding != nil, as.Defeater != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		c.add(n.Line, at, "each action is a mapping with exactly one of %s and its fields", actionList())
		return action{}, false
	}
	body := n
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		body = n.Content[1]
	}
	before := len(c.ps.list)
	field := func(key string) (*yaml.Node, int) {
		if v := yamldoc.Child(body, key); v != nil {
			return v, v.Line
		}
		return nil, body.Line
	}
	// required compiles a required string expression, optional one that may be absent.
	required := func(kind ActionKind, key, src, hint string) *vm.Program {
		v, line := field(key)
		if strings.TrimSpace(src) == "" {
			c.add(line, at+"."+string(kind)+"."+key, "required: %s", hint)
			return nil
		}
		return c.expr(v, at+"."+string(kind)+"."+key, src, false)
	}
	optional := func(kind ActionKind, key, src string) *vm.Program {
		if src == "" {
			return nil
		}
		v, _ := field(key)
		return c.expr(v, at+"."+string(kind)+"."+key, src, false)
	}
	oneOf := func(kind ActionKind, key, val string, allowed []string, fold func(string) string) string {
		_, line := field(key)
		if v := fold(val); slices.Contains(allowed, v) {
			return v
		}
		c.add(line, at+"."+string(kind)+"."+key, "must be one of %s (got %q)", strings.Join(allowed, ", "), val)
		return ""
	}

	var a action
	switch {
	case as.Quarantine != nil:
		q := as.Quarantine
		a = action{kind: ActionQuarantine,
			entity: optional(ActionQuarantine, "entity", q.Entity),
			reason: optional(ActionQuarantine, "reason", q.Reason)}
	case as.Publish != nil:
		a = action{kind: ActionPublish,
			subject: required(ActionPublish, "subject", as.Publish.Subject, `an expression such as '"`+SubjectPrefix+`" + trigger.twin'`)}
		if a.subject != nil {
			c.checkSubject(at, a.subject, body)
		}
	case as.Webhook != nil:
		w := as.Webhook
		a = action{kind: ActionWebhook, url: w.URL}
		_, urlLine := field("url")
		if err := checkURL(w.URL); err != nil {
			c.add(urlLine, at+".webhook.url", "%v", err)
		}
		v, secretLine := field("secret")
		if w.Secret == "" {
			c.add(secretLine, at+".webhook.secret", "required: the signing secret's reference, env:NAME or file:PATH")
		} else if s, err := c.secrets(w.Secret); err != nil {
			c.add(lineOr(lineOf(v), secretLine), at+".webhook.secret", "%v", err)
		} else {
			a.secret = s
		}
	case as.Finding != nil:
		f := as.Finding
		a = action{kind: ActionFinding,
			entity:   optional(ActionFinding, "entity", f.Entity),
			title:    required(ActionFinding, "title", f.Title, `an expression such as '"DMZ host reached the core: " + trigger.entity'`),
			message:  optional(ActionFinding, "message", f.Message),
			severity: oneOf(ActionFinding, "severity", f.Severity, findingSeverities, strings.ToUpper)}
	case as.Defeater != nil:
		d := as.Defeater
		a = action{kind: ActionDefeater,
			entity:       optional(ActionDefeater, "entity", d.Entity),
			text:         optional(ActionDefeater, "text", d.Text),
			defeaterKind: oneOf(ActionDefeater, "kind", d.Kind, defeaterKinds, strings.ToLower),
			severity:     oneOf(ActionDefeater, "severity", d.Severity, defeaterSeverities, strings.ToLower)}
		if d.Evidence == "" {
			a.evidence = DefeaterEvidenceTrigger
		} else {
			a.evidence = oneOf(ActionDefeater, "evidence", d.Evidence, defeaterEvidence, strings.ToLower)
		}
	}
	return a, len(c.ps.list) == before
}

// checkSubject evaluates a publish subject over an empty trigger and refuses one that
// evaluates, but outside SubjectPrefix (a constant subject, say): a subject that depends on the
// trigger is checked again when it runs.
func (c *compiler) checkSubject(at string, prog *vm.Program, body *yaml.Node) {
	out, err := expr.Run(prog, envOf(Trigger{}))
	if s, ok := out.(string); err == nil && ok && !strings.HasPrefix(s, SubjectPrefix) {
		v := yamldoc.Child(body, "subject")
		c.add(lineOr(lineOf(v), body.Line), at+".publish.subject", "must start with %q (got %q)", SubjectPrefix, s)
	}
}

// expr compiles an expression over the trigger: a condition (boolean) or a string. n is its
// YAML node, for lines.
func (c *compiler) expr(n *yaml.Node, path, src string, boolean bool) *vm.Program {
	line := lineOf(n)
	if line == 0 {
		line = c.node.Line
	}
	if len(src) > MaxExprBytes {
		c.add(line, path, "the expression is longer than %d bytes", MaxExprBytes)
		return nil
	}
	opts := []expr.Option{expr.Env(exprEnv{}), expr.AsKind(reflect.String)}
	if boolean {
		opts[1] = expr.AsBool()
	}
	prog, err := compileExpr(src, opts...)
	if err == nil {
		return prog
	}
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
		if fe.Line > 1 {
			line += fe.Line - 1
		}
		if n != nil && (n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle) {
			line++ // a block scalar starts on the line after its indicator
		}
		if fe.Column >= 0 && fe.Snippet != "" {
			msg += fmt.Sprintf(" (column %d)", fe.Column+1)
		}
	}
	msg = strings.NewReplacer("type response.exprTrigger", "trigger", "response.exprTrigger", "trigger",
		"response.exprEnv", "the environment").Replace(msg)
	what := "the expression"
	if boolean {
		what = "the condition"
		msg = strings.Replace(msg, "expected bool, but got", "must be true or false, not", 1)
	} else {
		msg = strings.Replace(msg, "expected string, but got", "must give a string, not", 1)
	}
	if strings.Contains(src, "{{") {
		msg += "; fields are expr-lang expressions, not templates: write trigger.entity, or '\"text \" + trigger.entity'"
	}
	c.add(line, path, "%s %q is invalid: %s", what, clip(src, 120), msg)
	return nil
}

// compileExpr compiles, turning a panic of the compiler into an error.
func compileExpr(src string, opts ...expr.Option) (prog *vm.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("expression compiler failed: %v", r)
		}
	}()
	return expr.Compile(src, opts...)
}

// checkURL accepts an absolute http or https URL without user information (which would be
// printed with the URL).
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required: the URL to POST to, such as https://soc.example/hook")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("must be an http or https URL (got scheme %q)", u.Scheme)
	case u.Host == "":
		return errors.New("must name a host")
	case u.User != nil:
		return errors.New("must not hold credentials: the request is signed with the secret")
	}
	return nil
}

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func actionList() string {
	var s []string
	for _, k := range ActionKinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(line int, playbook, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Playbook: playbook, Path: path, Message: fmt.Sprintf(format, args...)})
}

// yamlErr splits the YAML library's errors into lines, in this package's words.
func (ps *problems) yamlErr(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		line := 0
		if g := lineRE.FindStringSubmatch(m); g != nil {
			line, _ = strconv.Atoi(g[1])
			m = g[2]
		}
		if g := unknownFieldRE.FindStringSubmatch(m); g != nil {
			if g[2] == "response.actionSpec" {
				m = fmt.Sprintf("unknown action %s (one of %s)", g[1], actionList())
			} else {
				m = "unknown field " + g[1]
			}
		}
		if strings.HasSuffix(m, "into time.Duration") {
			m += " (a duration such as 30s, 1m or 1h)"
		}
		ps.add(line, "", "", "%s", m)
	}
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int { return a.Line - b.Line })
	return &LoadError{Problems: ps.list}
}

// keyLine is the line of key in mapping n, or 0.
func keyLine(n *yaml.Node, key string) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

// item is the i-th item of sequence n, or nil.
func item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func lineOr(line, fallback int) int {
	if line > 0 {
		return line
	}
	return fallback
}
