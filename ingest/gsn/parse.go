package gsn

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sectwin/sectwin/internal/yamldoc"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds one gsn2x file, so that a parse stays cheap on any input.
const MaxFileSize = 8 << 20

// moduleKey is the top-level key of the module header.
const moduleKey = "module"

// Parse reads one gsn2x YAML file. name is the file's name (its path within a set of files); it
// names the module when the file has no module header, as in gsn2x. Element order, every known
// key and every unknown key (a layer) are kept, so that Export writes the same model back.
//
// Parse checks the file's form only: YAML syntax, the shape of each element and the type of each
// value. It fails with an *Error listing every problem, each with its line, element id and rule
// (P01–P04). The gsn2x validation rules are applied by Validate, NewCase and ParseSet.
func Parse(name string, data []byte) (*Module, error) {
	ds := &diagnostics{}
	m := parse(name, data, ds)
	if err := ds.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// parser reads one file.
type parser struct {
	file   string
	module string // for diagnostics: the module name once known
	ds     *diagnostics
	z      normalizer
}

func (p *parser) add(rule string, pos Position, element, format string, args ...any) {
	p.ds.add(Diagnostic{
		Severity: SeverityError, Rule: rule, Module: p.module, File: p.file, Pos: pos, Element: element,
		Message: fmt.Sprintf(format, args...),
	})
}

func posOf(n *yaml.Node) Position { return Position{Line: n.Line, Column: n.Column} }

func parse(name string, data []byte, ds *diagnostics) (mod *Module) {
	p := &parser{file: name, module: name, ds: ds, z: normalizer{budget: maxValueNodes}}
	defer func() {
		// A bug of the YAML library (or of this parser) must not crash a server handling an
		// upload: report it as a problem with the file.
		if r := recover(); r != nil {
			p.add(RuleSyntax, Position{}, "", "the file could not be read: %v", r)
			mod = nil
		}
	}()
	m := &Module{File: name, Name: name}
	if len(data) > MaxFileSize {
		p.add(RuleSyntax, Position{}, "", "file is %d bytes; the limit is %d", len(data), MaxFileSize)
		return nil
	}
	if pos, bad := invalidUTF8(data); bad {
		p.add(RuleSyntax, pos, "", "not UTF-8 text")
		return nil
	}
	root := p.readDocument(data)
	if root == nil {
		return m // empty file: a module without elements (or a syntax error, already reported)
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return m
	}
	if root.Kind != yaml.MappingNode {
		p.add(RuleShape, posOf(root), "", "a gsn2x file is a mapping of element ids to elements; got %s", describe(root))
		return nil
	}
	// The header first, so that the problems of elements name their module.
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Kind == yaml.ScalarNode && k.ShortTag() != "!!merge" && k.Value == moduleKey {
			p.header(m, k, root.Content[i+1])
			break
		}
	}
	p.module = m.Name
	seen := map[string]Position{}
	headerSeen := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		id, ok := p.key(k, "")
		if !ok {
			continue
		}
		if id == moduleKey {
			if headerSeen {
				p.add(RuleDuplicate, posOf(k), "", "module header given twice (first at line %d)", m.HeaderPos.Line)
			}
			headerSeen = true
			continue
		}
		if first, dup := seen[id]; dup {
			p.add(RuleDuplicate, posOf(k), id, "element %s given twice in this file (first at line %d)", id, first.Line)
			continue
		}
		seen[id] = posOf(k)
		if e := p.element(id, k, v); e != nil {
			e.Module = m.Name
			m.Elements = append(m.Elements, e)
		}
	}
	return m
}

// key reads a mapping key: a scalar, not a merge key.
func (p *parser) key(k *yaml.Node, element string) (string, bool) {
	k = deref(k)
	if k == nil || k.Kind != yaml.ScalarNode {
		p.add(RuleShape, posOfNode(k), element, "keys must be scalars (ids or attribute names); got %s", describe(k))
		return "", false
	}
	if k.ShortTag() == "!!merge" {
		p.add(RuleShape, posOf(k), element, "YAML merge keys (<<) are not supported; write the keys out")
		return "", false
	}
	return k.Value, true
}

func posOfNode(n *yaml.Node) Position {
	if n == nil {
		return Position{}
	}
	return posOf(n)
}

// deref follows aliases to the node they name (nil for a dangling or looping alias).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// element reads one element.
func (p *parser) element(id string, k, v *yaml.Node) *Element {
	e := &Element{ID: id, Type: TypeFromID(id), Pos: posOf(k)}
	v = deref(v)
	if v == nil {
		p.add(RuleShape, posOf(k), id, "element %s: unresolvable YAML alias", id)
		return nil
	}
	if isNull(v) {
		return e // "G1:" with nothing: an element without attributes
	}
	if v.Kind != yaml.MappingNode {
		p.add(RuleShape, posOf(v), id, "element %s must be a mapping of attributes; got %s", id, describe(v))
		return nil
	}
	seen := map[string]Position{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		kn, vn := v.Content[i], v.Content[i+1]
		key, ok := p.key(kn, id)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			p.add(RuleDuplicate, posOf(kn), id, "element %s: %s given twice (first at line %d)", id, key, first.Line)
			continue
		}
		seen[key] = posOf(kn)
		if e.keys == nil {
			e.keys = map[string]Position{}
		}
		e.keys[key] = posOf(kn)
		if !p.attribute(e, key, kn, vn) {
			continue
		}
	}
	return e
}

// attribute reads one key of an element; false when it reported a problem.
func (p *parser) attribute(e *Element, key string, kn, vn *yaml.Node) bool {
	id := e.ID
	bad := func(format string, args ...any) bool {
		p.add(RuleValue, posOf(kn), id, "element %s: %s: %s", id, key, fmt.Sprintf(format, args...))
		return false
	}
	n := deref(vn)
	if n == nil {
		return bad("unresolvable YAML alias")
	}
	if isNull(n) && isKnownKey(key) {
		return true // a known key without a value is the same as leaving it out
	}
	var ok bool
	switch key {
	case "text":
		e.Text, ok = p.scalar(n)
		if !ok {
			return bad("want text, got %s", describe(n))
		}
	case "nodeType":
		s, ok := p.scalar(n)
		if !ok || !Type(s).Valid() {
			return bad("want one of %s, got %s", typeNames(), describe(n))
		}
		e.Type, e.ExplicitType = Type(s), true
	case "supportedBy":
		if e.SupportedBy, ok = p.ids(n); !ok {
			return bad("want an id or a list of ids, got %s", describe(n))
		}
	case "inContextOf":
		if e.InContextOf, ok = p.ids(n); !ok {
			return bad("want an id or a list of ids, got %s", describe(n))
		}
	case "defeatedRelation":
		if e.DefeatedRelation, ok = p.ids(n); !ok {
			return bad("want an id or a list of ids, got %s", describe(n))
		}
	case "classes":
		if e.Classes, ok = p.ids(n); !ok {
			return bad("want a list of class names, got %s", describe(n))
		}
	case "undeveloped":
		if e.Undeveloped, ok = boolean(n); !ok {
			return bad("want true or false, got %s", describe(n))
		}
	case "defeated":
		if e.Defeated, ok = boolean(n); !ok {
			return bad("want true or false, got %s", describe(n))
		}
	case "url":
		if e.URL, ok = p.scalar(n); !ok {
			return bad("want a URL, got %s", describe(n))
		}
	case "rankIncrement":
		i, ok := integer(n, 0, math.MaxInt32)
		if !ok {
			return bad("want a whole number ≥ 0, got %s", describe(n))
		}
		e.RankIncrement = &i
	case "charWrap":
		i, ok := integer(n, 0, math.MaxUint32)
		if !ok {
			return bad("want a whole number ≥ 0, got %s", describe(n))
		}
		e.CharWrap = &i
	case "horizontalIndex":
		h, msg := horizontalIndex(n)
		if h == nil {
			return bad("%s", msg)
		}
		e.HorizontalIndex = h
	case "acp":
		acps, msg := p.acp(n)
		if msg != "" {
			return bad("%s", msg)
		}
		e.ACP = acps
	case "challenges":
		s, ok := p.scalar(n)
		if !ok {
			return bad("want an element id or a relation \"X -> Y\", got %s", describe(n))
		}
		c := ParseChallenge(s)
		e.Challenges = &c
	default:
		v, err := p.z.value(n)
		if err != nil {
			return bad("%v", err)
		}
		e.Layers = append(e.Layers, Layer{Key: key, Value: v})
	}
	return true
}

// knownKeys are the element keys gsn2x interprets; all others are layers.
var knownKeys = []string{
	"text", "nodeType", "supportedBy", "inContextOf", "undeveloped", "url", "classes", "rankIncrement",
	"horizontalIndex", "charWrap", "acp", "challenges", "defeated", "defeatedRelation",
}

func isKnownKey(k string) bool { return slices.Contains(knownKeys, k) }

func typeNames() string {
	s := make([]string, len(Types()))
	for i, t := range Types() {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// scalar reads a scalar as text. gsn2x's ids and texts are strings; a number or a boolean is read
// as the text written (export then quotes it).
func (p *parser) scalar(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", false
	}
	return n.Value, true
}

// ids reads an id or a list of ids (gsn2x accepts both for supportedBy, inContextOf and
// defeatedRelation).
func (p *parser) ids(n *yaml.Node) ([]string, bool) {
	if s, ok := p.scalar(n); ok {
		return []string{s}, true
	}
	if n.Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		c = deref(c)
		if c == nil {
			return nil, false
		}
		s, ok := p.scalar(c)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, true // [] is the same as leaving the key out
	}
	return out, true
}

func boolean(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, false
	}
	var b bool
	if n.Decode(&b) != nil {
		return false, false
	}
	return b, true
}

func integer(n *yaml.Node, lo, hi int64) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, false
	}
	var i int64
	if n.Decode(&i) != nil || i < lo || i > hi {
		return 0, false
	}
	return int(i), true
}

// horizontalIndex reads {relative: n}, {absolute: n}, {absolute: last}, or the tagged scalars
// "!relative n" and "!absolute n|last" that gsn2x's YAML library also accepts.
func horizontalIndex(n *yaml.Node) (*HorizontalIndex, string) {
	const want = "want {relative: <whole number>} or {absolute: <whole number ≥ 0> or last}"
	var kind string
	var val *yaml.Node
	switch {
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		k := deref(n.Content[0])
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, want
		}
		kind, val = k.Value, deref(n.Content[1])
	case n.Kind == yaml.ScalarNode && (n.Tag == "!relative" || n.Tag == "!absolute"):
		kind = strings.TrimPrefix(n.Tag, "!")
		val = &yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}
		// Resolve the scalar's own tag: the explicit tag replaced it.
		var probe yaml.Node
		if err := yaml.Unmarshal([]byte(n.Value), &probe); err == nil && len(probe.Content) == 1 {
			val = probe.Content[0]
		}
	default:
		return nil, want + ", got " + describe(n)
	}
	if val == nil {
		return nil, want
	}
	switch kind {
	case "relative":
		i, ok := integer(val, math.MinInt32, math.MaxInt32)
		if !ok {
			return nil, want + ", got relative: " + describe(val)
		}
		return &HorizontalIndex{Index: i}, ""
	case "absolute":
		if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!str" && val.Value == "last" {
			return &HorizontalIndex{Absolute: true, Last: true}, ""
		}
		i, ok := integer(val, 0, math.MaxUint32)
		if !ok {
			return nil, want + ", got absolute: " + describe(val)
		}
		return &HorizontalIndex{Absolute: true, Index: i}, ""
	}
	return nil, want + ", got " + strconv.Quote(kind)
}

// acp reads the assurance claim points: a mapping of names to an id or a list of ids.
func (p *parser) acp(n *yaml.Node) ([]ACP, string) {
	if n.Kind != yaml.MappingNode {
		return nil, "want a mapping of claim point names to ids, got " + describe(n)
	}
	out := make([]ACP, 0, len(n.Content)/2)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return nil, "claim point names must be scalars"
		}
		if seen[k.Value] {
			return nil, fmt.Sprintf("claim point %s given twice", k.Value)
		}
		seen[k.Value] = true
		v := deref(n.Content[i+1])
		if v == nil {
			return nil, "unresolvable YAML alias"
		}
		ids, ok := p.ids(v)
		if !ok {
			return nil, fmt.Sprintf("claim point %s: want an id or a list of ids, got %s", k.Value, describe(v))
		}
		out = append(out, ACP{Name: k.Value, Targets: ids})
	}
	if len(out) == 0 {
		return nil, ""
	}
	return out, ""
}

// header reads the module: header.
func (p *parser) header(m *Module, k, v *yaml.Node) {
	m.Header, m.HeaderPos = true, posOf(k)
	v = deref(v)
	if v == nil || v.Kind != yaml.MappingNode {
		p.add(RuleShape, posOf(k), "", "the module header must be a mapping with at least a name; got %s", describe(v))
		return
	}
	bad := func(kn *yaml.Node, format string, args ...any) {
		p.add(RuleValue, posOf(kn), "", "module header: %s", fmt.Sprintf(format, args...))
	}
	hasName := false
	seen := map[string]Position{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		kn := v.Content[i]
		key, ok := p.key(kn, "")
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			p.add(RuleDuplicate, posOf(kn), "", "module header: %s given twice (first at line %d)", key, first.Line)
			continue
		}
		seen[key] = posOf(kn)
		n := deref(v.Content[i+1])
		if n == nil {
			bad(kn, "%s: unresolvable YAML alias", key)
			continue
		}
		if isNull(n) && key != "additionalInformation" && slices.Contains(headerKeys, key) {
			if key == "name" {
				bad(kn, "name has no value")
				hasName = true
			}
			continue
		}
		switch key {
		case "name":
			hasName = true
			s, ok := p.scalar(n)
			if !ok {
				bad(kn, "name: want text, got %s", describe(n))
				continue
			}
			m.Name = s
		case "brief":
			s, ok := p.scalar(n)
			if !ok {
				bad(kn, "brief: want text, got %s", describe(n))
				continue
			}
			m.Brief = s
		case "uses":
			ids, ok := p.ids(n)
			if !ok {
				bad(kn, "uses: want a list of file names, got %s", describe(n))
				continue
			}
			m.Uses = ids
		case "stylesheets":
			ids, ok := p.ids(n)
			if !ok {
				bad(kn, "stylesheets: want a list of file names or URLs, got %s", describe(n))
				continue
			}
			m.Stylesheets = ids
		case "extends":
			m.Extends = p.extends(kn, n)
		case "additionalInformation":
			val, err := p.z.value(n)
			if err != nil {
				bad(kn, "additionalInformation %v", err)
				continue
			}
			m.AdditionalInformation = val
		case "horizontalIndex":
			h, msg := horizontalIndex(n)
			if h == nil {
				bad(kn, "horizontalIndex: %s", msg)
				continue
			}
			m.HorizontalIndex = h
		case "rankIncrement":
			i, ok := integer(n, 0, math.MaxInt32)
			if !ok {
				bad(kn, "rankIncrement: want a whole number ≥ 0, got %s", describe(n))
				continue
			}
			m.RankIncrement = &i
		case "charWrap":
			i, ok := integer(n, 0, math.MaxUint32)
			if !ok {
				bad(kn, "charWrap: want a whole number ≥ 0, got %s", describe(n))
				continue
			}
			m.CharWrap = &i
		default:
			val, err := p.z.value(n)
			if err != nil {
				bad(kn, "%s %v", key, err)
				continue
			}
			m.Extra = append(m.Extra, Layer{Key: key, Value: val})
		}
	}
	if !hasName {
		p.add(RuleValue, posOf(k), "", "the module header has no name")
	}
}

// headerKeys are the module header keys gsn2x interprets.
var headerKeys = []string{"name", "brief", "uses", "stylesheets", "extends", "additionalInformation", "horizontalIndex", "rankIncrement", "charWrap"}

// extends reads module.extends: a list of {module: name, develops: {foreign id: [local ids]}}.
func (p *parser) extends(kn, n *yaml.Node) []Extends {
	bad := func(at *yaml.Node, format string, args ...any) {
		p.add(RuleValue, posOf(at), "", "module header: extends: %s", fmt.Sprintf(format, args...))
	}
	if n.Kind != yaml.SequenceNode {
		bad(kn, "want a list of {module: <name>, develops: {<element>: [<elements>]}}, got %s", describe(n))
		return nil
	}
	out := make([]Extends, 0, len(n.Content))
	for _, item := range n.Content {
		item = deref(item)
		if item == nil || item.Kind != yaml.MappingNode {
			bad(kn, "want {module: <name>, develops: {<element>: [<elements>]}}, got %s", describe(item))
			continue
		}
		x := Extends{Pos: posOf(item)}
		hasModule, hasDevelops := false, false
		for i := 0; i+1 < len(item.Content); i += 2 {
			key, ok := p.key(item.Content[i], "")
			if !ok {
				continue
			}
			v := deref(item.Content[i+1])
			if v == nil {
				bad(item.Content[i], "unresolvable YAML alias")
				continue
			}
			switch key {
			case "module":
				s, ok := p.scalar(v)
				if !ok || hasModule {
					bad(item.Content[i], "module: want one module name, got %s", describe(v))
					continue
				}
				x.Module, hasModule = s, true
			case "develops":
				if hasDevelops {
					bad(item.Content[i], "develops given twice")
					continue
				}
				x.Develops, hasDevelops = p.develops(item.Content[i], v), true
			default:
				bad(item.Content[i], "unknown key %q (want module and develops)", key)
			}
		}
		if !hasModule {
			bad(item, "an entry names no module")
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (p *parser) develops(kn, v *yaml.Node) []Develop {
	var out []Develop
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.add(RuleValue, posOf(kn), "", "module header: extends: develops: want a mapping of elements to the elements developing them, got %s", describe(v))
		return nil
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		id, ok := p.key(v.Content[i], "")
		if !ok {
			continue
		}
		if seen[id] {
			p.add(RuleDuplicate, posOf(v.Content[i]), id, "module header: extends: develops: %s given twice", id)
			continue
		}
		seen[id] = true
		n := deref(v.Content[i+1])
		var by []string
		if n != nil && !isNull(n) {
			by, ok = p.ids(n)
		}
		if n == nil || !ok {
			p.add(RuleValue, posOf(v.Content[i]), id, "module header: extends: develops: %s: want a list of ids, got %s", id, describe(n))
			continue
		}
		out = append(out, Develop{Element: id, By: by})
	}
	return out
}

// invalidUTF8 finds the first byte of data that is not UTF-8.
func invalidUTF8(data []byte) (Position, bool) {
	if utf8.Valid(data) {
		return Position{}, false
	}
	pos := Position{Line: 1, Column: 1}
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return pos, true
		}
		if r == '\n' {
			pos.Line, pos.Column = pos.Line+1, 1
		} else {
			pos.Column++
		}
		data = data[size:]
	}
	return pos, true
}

// readDocument parses data into its one YAML document and returns the root node, nil when the file
// is empty or after reporting a problem.
func (p *parser) readDocument(data []byte) *yaml.Node {
	root, err := yamldoc.Read(data)
	switch {
	case err == nil:
		return root
	case err.Kind == yamldoc.SecondDocument:
		p.add(RuleSyntax, Position{Line: err.Line, Column: err.Column}, "", "a second YAML document: a gsn2x file holds one")
	case err.Kind == yamldoc.ParserFailed:
		p.add(RuleSyntax, Position{}, "", "%s", err.Message)
	default:
		p.add(RuleSyntax, Position{Line: err.Line}, "", "%s", err.Message)
	}
	return nil
}

// describe says what a node is, for "want X, got Y".
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
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
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("text %q", v)
	case "!!int":
		return "number " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!null":
		return "nothing (null)"
	}
	return fmt.Sprintf("a value tagged %s", n.Tag)
}
