package transform

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sectwin/sectwin/internal/yamldoc"
	"go.yaml.in/yaml/v3"
)

// ErrInvalidConfig is matched (errors.Is) by every *ConfigError.
var ErrInvalidConfig = errors.New("invalid transform config")

// MaxConfigBytes bounds what Parse reads.
const MaxConfigBytes = 1 << 20

// Problem is one thing wrong with a config.
type Problem struct {
	File    string // "" when the config did not come from a file
	Line    int    // 1-based; 0 when unknown
	Path    string // the field, e.g. pipelines.netflow.generalize.src_ip.ipv4_prefix
	Message string
	Err     error // the underlying error, if any (a key file's fs.ErrNotExist)
}

// String formats the problem as "file:line: path: message".
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ConfigError lists every problem found in a config. It matches ErrInvalidConfig, and the
// problems' underlying errors, with errors.Is.
type ConfigError struct {
	Problems []Problem
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

func (e *ConfigError) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// seg is one step of a field path: a mapping key or a list index.
type seg struct {
	key   string
	index int // -1 for a key
}

const rawIndex = -2

func key(k string) seg { return seg{key: k, index: -1} }
func idx(i int) seg    { return seg{index: i} }

// raw is a path prefix that is already rendered ("pipelines.netflow").
func raw(s string) seg { return seg{key: s, index: rawIndex} }

// render writes a path the way errors show it: a.b[2].c, with keys that hold dots or
// brackets quoted: generalize["id.orig_h"].ipv4_prefix.
func render(path []seg) string {
	var b strings.Builder
	for _, s := range path {
		switch {
		case s.index >= 0:
			fmt.Fprintf(&b, "[%d]", s.index)
		case s.index == rawIndex:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		case s.key == "" || strings.ContainsAny(s.key, ".[]\" \t\n"):
			b.WriteString("[" + strconv.Quote(s.key) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// lineOf finds the line of path below n: the key's line for a mapping key, the item's for a
// list index; where the path leaves the YAML (a default, a missing field), the last line found.
func lineOf(n *yaml.Node, path []seg) int {
	if n == nil {
		return 0
	}
	line := n.Line
	for _, s := range path {
		switch {
		case n.Kind == yaml.MappingNode && s.index < 0:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s.key {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
			if next == nil {
				return line
			}
			n = next
		case n.Kind == yaml.SequenceNode && s.index >= 0 && s.index < len(n.Content):
			n = n.Content[s.index]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// problems collects what is wrong, positioned in a YAML tree when there is one.
type problems struct {
	file   string
	prefix []seg      // where the config sits in its file (pipelines, name)
	root   *yaml.Node // the config's node, for lines
	list   []Problem
}

const maxProblems = 100

func (ps *problems) add(path []seg, err error, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		return
	}
	full := append(slices.Clone(ps.prefix), path...)
	ps.list = append(ps.list, Problem{File: ps.file, Line: lineOf(ps.root, path), Path: render(full), Message: fmt.Sprintf(format, args...), Err: err})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int { return a.Line - b.Line })
	return &ConfigError{Problems: slices.Clone(ps.list)}
}

// Document is a parsed transform config file:
//
//	pipelines:
//	  <name>: <Config>
//
// Other top-level sections (an edge.yaml's) are left to their owners, as is each pipeline's
// aggregate section.
type Document struct {
	File      string
	Pipelines map[string]Config
	nodes     map[string]*yaml.Node
}

// foreignKeys are pipeline sections that other edge packages own and validate.
var foreignKeys = []string{"aggregate"}

var pipelineName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Parse reads a config file strictly: YAML syntax errors, unknown fields, wrong types,
// duplicate keys, aliases and merge keys are problems with the file's line. Values are
// checked by Compile.
func Parse(file string, data []byte) (*Document, error) {
	ps := &problems{file: file}
	if len(data) > MaxConfigBytes {
		ps.add(nil, nil, "config is %d bytes; the limit is %d", len(data), MaxConfigBytes)
		return nil, ps.err()
	}
	root := readYAML(data, ps)
	if root == nil {
		return nil, ps.err()
	}
	ps.root = root
	doc := &Document{File: file, Pipelines: map[string]Config{}, nodes: map[string]*yaml.Node{}}
	if root.Kind != yaml.MappingNode {
		ps.add(nil, nil, "want a mapping with a pipelines section, got %s", describe(root))
		return nil, ps.err()
	}
	var pipes *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "pipelines" {
			if pipes != nil {
				ps.add([]seg{key("pipelines")}, nil, "given twice")
				return nil, ps.err()
			}
			pipes = root.Content[i+1]
		}
	}
	switch {
	case pipes == nil:
		ps.add(nil, nil, "no pipelines section")
		return nil, ps.err()
	case pipes.Kind != yaml.MappingNode:
		ps.add([]seg{key("pipelines")}, nil, "want a mapping of pipeline names to their configs, got %s", describe(pipes))
		return nil, ps.err()
	}
	for i := 0; i+1 < len(pipes.Content); i += 2 {
		k, v := pipes.Content[i], pipes.Content[i+1]
		at := []seg{key("pipelines"), key(k.Value)}
		if k.Kind != yaml.ScalarNode || !pipelineName.MatchString(k.Value) {
			ps.add(at, nil, "a pipeline name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
			continue
		}
		if _, dup := doc.nodes[k.Value]; dup {
			ps.add(at, nil, "pipeline given twice")
			continue
		}
		doc.nodes[k.Value] = v
		before := len(ps.list)
		checkNode(ps, v, reflect.TypeFor[Config](), at)
		if len(ps.list) > before {
			continue
		}
		var cfg Config
		if err := decodeNode(v, &cfg); err != nil {
			ps.add(at, nil, "%v", err)
			continue
		}
		doc.Pipelines[k.Value] = cfg
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return doc, nil
}

// decodeNode decodes a checked node, turning a panic of the YAML library into an error.
func decodeNode(n *yaml.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML decoder failed: %v", r)
		}
	}()
	return n.Decode(v)
}

// Names lists the document's pipelines, sorted.
func (d *Document) Names() []string {
	names := make([]string, 0, len(d.Pipelines))
	for n := range d.Pipelines {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Compile compiles every pipeline; problems name the file and line.
func (d *Document) Compile(opts ...Option) (map[string]*Plan, error) {
	plans := map[string]*Plan{}
	var all []Problem
	for _, name := range d.Names() {
		o := append(slices.Clone(opts), WithSource(d.File, render([]seg{key("pipelines"), key(name)}), d.nodes[name]))
		p, err := Compile(d.Pipelines[name], o...)
		var ce *ConfigError
		switch {
		case errors.As(err, &ce):
			all = append(all, ce.Problems...)
		case err != nil:
			return nil, err
		default:
			plans[name] = p
		}
	}
	if len(all) > 0 {
		return nil, &ConfigError{Problems: all}
	}
	return plans, nil
}

// readYAML parses the single document of data; nil after adding problems.
func readYAML(data []byte, ps *problems) *yaml.Node {
	root, err := yamldoc.Read(data)
	switch {
	case err != nil && err.Kind == yamldoc.SecondDocument:
		ps.list = append(ps.list, Problem{File: ps.file, Line: err.Line, Message: "a second YAML document: a config file holds one"})
		return nil
	case err != nil && err.Kind == yamldoc.ParserFailed:
		ps.add(nil, nil, "%s", err.Message)
		return nil
	case err != nil:
		ps.list = append(ps.list, Problem{File: ps.file, Line: err.Line, Message: err.Message})
		return nil
	case root == nil:
		ps.add(nil, nil, "empty config: no YAML document")
	}
	return root
}

// checkNode checks n against Go type t strictly, so that decoding cannot silently drop or
// convert anything: mappings for structs (known fields only, once each) and maps, lists for
// slices, and scalars of the right YAML type.
func checkNode(ps *problems, n *yaml.Node, t reflect.Type, path []seg) {
	at := func(format string, args ...any) { ps.addAt(n, path, format, args...) }
	if n.Kind == yaml.AliasNode {
		at("YAML aliases (*%s) are not supported; write the value out", n.Value)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null is the same as leaving the field out
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkNode(ps, n, t.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			at("want a mapping, got %s", describe(n))
			return
		}
		fields, names := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := append(slices.Clone(path), key(k.Value))
			if k.ShortTag() == "!!merge" {
				ps.addAt(k, path, "YAML merge keys (<<) are not supported; write the fields out")
				continue
			}
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				ps.addAt(k, path, "want a field name, got %s", describe(k))
				continue
			}
			if first, dup := seen[k.Value]; dup {
				ps.addAt(k, kp, "given twice (first at line %d)", first)
				continue
			}
			seen[k.Value] = k.Line
			f, ok := fields[k.Value]
			if !ok {
				if t == reflect.TypeFor[Config]() && slices.Contains(foreignKeys, k.Value) {
					continue
				}
				ps.addAt(k, kp, "unknown field%s; allowed: %s", suggest(k.Value, names), strings.Join(names, ", "))
				continue
			}
			checkNode(ps, v, f, kp)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			at("want a mapping, got %s", describe(n))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := append(slices.Clone(path), key(k.Value))
			if k.ShortTag() == "!!merge" {
				ps.addAt(k, path, "YAML merge keys (<<) are not supported; write the fields out")
				continue
			}
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				ps.addAt(k, path, "want a field name, got %s (quote it)", describe(k))
				continue
			}
			if first, dup := seen[k.Value]; dup {
				ps.addAt(k, kp, "given twice (first at line %d)", first)
				continue
			}
			seen[k.Value] = k.Line
			checkNode(ps, v, t.Elem(), kp)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			at("want a list, got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			checkNode(ps, item, t.Elem(), append(slices.Clone(path), idx(i)))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			at("want a string, got %s", describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			at("want true or false, got %s", describe(n))
		}
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			at("want an integer, got %s", describe(n))
		}
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil {
			at("want a number, got %s", describe(n))
		}
	case reflect.Interface:
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!bool":
			var v any
			if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
				at("want a string, number or boolean, got %s", describe(n))
			}
		default:
			at("want a string, number or boolean, got %s", describe(n))
		}
	default:
		at("unsupported field type %s", t)
	}
}

// addAt adds a problem at a node's own line.
func (ps *problems) addAt(n *yaml.Node, path []seg, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		return
	}
	ps.list = append(ps.list, Problem{File: ps.file, Line: n.Line, Path: render(path), Message: fmt.Sprintf(format, args...)})
}

// yamlFields maps a struct's yaml names to field types.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	return fields, names
}

// suggest hints at the field a misspelt one meant: one at most two edits away, ignoring case.
func suggest(name string, names []string) string {
	for _, n := range names {
		if editDistance(strings.ToLower(n), strings.ToLower(name), 2) <= 2 {
			return fmt.Sprintf(" (did you mean %s?)", n)
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b, or limit+1 once it exceeds limit.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 || abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// describe says what a node is, for "want X, got Y"; it quotes at most 40 bytes.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("string %q", v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("a value tagged %s", n.Tag)
}
