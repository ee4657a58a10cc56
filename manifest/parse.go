package manifest

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sectwin/sectwin/internal/yamldoc"
	"go.yaml.in/yaml/v3"
)

// Limits on what one manifest may hold, so a parse stays cheap on any input.
const (
	maxProblems  = 200      // problems kept; more are counted
	maxStringLen = 64 << 10 // bytes of any string (graph's limit on string properties)
	maxKeyLen    = 2048     // bytes of a name or digest (graph's limit on keys)
	maxListLen   = 1000     // items of a property list: addresses, endpoints (graph's limit)
)

// Parse reads one manifest. file names it in problems. It fails with an *Error listing every
// problem found: YAML syntax, unknown fields, wrong types, missing or invalid values, duplicate
// names and dangling references.
func Parse(file string, data []byte) (*Manifest, error) {
	p := &problems{file: file}
	m := &Manifest{File: file, pos: map[string]*yaml.Node{}, bad: map[string]bool{}}
	if len(data) > MaxSize {
		p.add(Problem{Message: fmt.Sprintf("manifest is %d bytes; the limit is %d (4 MiB)", len(data), MaxSize)})
		return nil, p.err()
	}
	if line, col, ok := invalidUTF8(data); ok {
		p.add(Problem{Line: line, Column: col, Message: "not UTF-8 text: a manifest is UTF-8 (without a byte-order mark, or with the UTF-8 one)"})
		return nil, p.err()
	}
	root := readDocument(data, p)
	if root == nil {
		return nil, p.err()
	}
	d := &decoder{p: p, pos: m.pos, bad: m.bad}
	d.decode(root, "", reflect.ValueOf(m).Elem())
	m.check(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	// Anything check let through must also pass the model's own validation; if it does not,
	// that is a bug here, but it must not reach the graph as a half-explained failure.
	if err := m.Batch().Validate(); err != nil {
		p.add(Problem{Line: root.Line, Column: root.Column, Message: "does not map onto the twin model: " + err.Error()})
		return nil, p.err()
	}
	return m, nil
}

// invalidUTF8 finds the first byte of data that is not UTF-8. YAML also reads UTF-16 and UTF-32,
// but positions in problems are only meaningful for UTF-8, and editors write UTF-8.
func invalidUTF8(data []byte) (line, col int, found bool) {
	if utf8.Valid(data) {
		return 0, 0, false
	}
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line, col, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return line, col, true
}

// readDocument parses data into the one YAML document it must hold and returns its root node, or
// nil after adding problems. Empty documents (a lone "---", comments) are ignored.
func readDocument(data []byte, p *problems) *yaml.Node {
	root, err := yamldoc.Read(data)
	switch {
	case err != nil && err.Kind == yamldoc.SecondDocument:
		p.add(Problem{Line: err.Line, Column: err.Column, Message: "a second YAML document: a manifest file holds exactly one (split them into several files)"})
		return nil
	case err != nil:
		p.add(Problem{Line: err.Line, Message: err.Message})
		return nil
	case root == nil && len(p.list) == 0:
		p.add(Problem{Message: "empty manifest: no YAML document"})
	}
	return root
}

// problems collects what is wrong, up to maxProblems.
type problems struct {
	file    string
	list    []Problem
	dropped int
}

func (p *problems) add(pr Problem) {
	if len(p.list) >= maxProblems {
		p.dropped++
		return
	}
	pr.File = p.file
	p.list = append(p.list, pr)
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	list := slices.Clone(p.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if p.dropped > 0 {
		list = append(list, Problem{File: p.file, Message: fmt.Sprintf("and %d more problems", p.dropped)})
	}
	return &Error{Problems: list}
}

// decoder fills Go values from YAML nodes, strictly: the Go structs and their yaml tags are the
// format, unknown keys and mistyped values are problems, and every value's node is recorded by
// field path for later checks.
type decoder struct {
	p   *problems
	pos map[string]*yaml.Node
	bad map[string]bool
}

func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	d.bad[path] = true
	d.p.add(Problem{Line: n.Line, Column: n.Column, Field: path, Message: fmt.Sprintf(format, args...)})
}

var boolType = reflect.TypeFor[bool]()

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		d.add(n, path, "YAML aliases (*%s) are not supported in manifests; write the value out", n.Value)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null is the same as leaving the field out
	}
	d.pos[path] = n
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.add(n, path, "want a string, got %s", describe(n))
			return
		}
		if len(n.Value) > maxStringLen {
			d.add(n, path, "longer than %d bytes", maxStringLen)
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.add(n, path, "want an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Pointer: // *bool
		if v.Type().Elem() != boolType {
			panic("manifest: unsupported field type " + v.Type().String())
		}
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.add(n, path, "want true or false, got %s", describe(n))
			return
		}
		v.Set(reflect.ValueOf(&b))
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(n, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if path == "" {
				d.add(n, path, "a manifest is a mapping of apiVersion, kind, metadata and spec; got %s", describe(n))
			} else {
				d.add(n, path, "want a mapping, got %s", describe(n))
			}
			return
		}
		fields := fieldsOf(v.Type())
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				d.add(k, path, "YAML merge keys (<<) are not supported in manifests; write the fields out")
				continue
			}
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				d.add(k, path, "want a field name, got %s", describe(k))
				continue
			}
			fpath := join(path, k.Value)
			f, ok := fields.byName[k.Value]
			if !ok {
				d.add(k, fpath, "unknown field%s; allowed: %s", suggest(k.Value, fields.names), strings.Join(fields.names, ", "))
				continue
			}
			if first, dup := seen[k.Value]; dup {
				d.add(k, fpath, "given twice (first at line %d)", first.Line)
				continue
			}
			seen[k.Value] = k
			d.decode(val, fpath, v.FieldByIndex(f))
		}
	default:
		panic("manifest: unsupported field type " + v.Type().String())
	}
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// suggest hints at the field a misspelt one meant: same letters, other case.
func suggest(name string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %s?)", n)
		}
	}
	return ""
}

// describe says what a node is, for "want X, got Y".
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
		return "integer " + v + " (quote it to make it a string)"
	case "!!float":
		return "number " + v + " (quote it to make it a string)"
	case "!!bool":
		return "boolean " + v + " (quote it to make it a string)"
	case "!!timestamp":
		return "date " + v + " (quote it to make it a string)"
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("a value tagged %s", n.Tag)
}

// structFields is the YAML view of a struct type: field names to index paths, inline structs
// flattened.
type structFields struct {
	byName map[string][]int
	names  []string
}

var fieldCache sync.Map // reflect.Type → structFields

func fieldsOf(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	f := structFields{byName: map[string][]int{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, opt, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			idx := append(slices.Clone(index), i)
			switch {
			case name == "-":
			case opt == "inline":
				walk(sf.Type, idx)
			default:
				f.byName[name] = idx
				f.names = append(f.names, name)
			}
		}
	}
	walk(t, nil)
	fieldCache.Store(t, f)
	return f
}
