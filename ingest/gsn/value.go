package gsn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Value is a YAML value kept as written, for the keys whose content gsn2x does not interpret:
// layers, additionalInformation and other module header keys. Scalars keep their text and tag,
// lists and maps their order; comments, anchors, styles and positions are dropped, so a value
// exports the same way however it was written. The zero Value is "absent".
type Value struct {
	node *yaml.Node
}

// StringValue makes a string value.
func StringValue(s string) Value {
	return Value{node: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}}
}

// ListValue makes a list of strings.
func ListValue(items ...string) Value {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, s := range items {
		n.Content = append(n.Content, StringValue(s).node)
	}
	return Value{node: n}
}

// IsZero reports whether the value is absent.
func (v Value) IsZero() bool { return v.node == nil }

// Node returns a copy of the value as a YAML node (nil when absent).
func (v Value) Node() *yaml.Node {
	if v.node == nil {
		return nil
	}
	return v.clone().node
}

// String gives a scalar's text, or the YAML text of a list or map ("" when absent).
func (v Value) String() string {
	if v.node == nil {
		return ""
	}
	if v.node.Kind == yaml.ScalarNode {
		return v.node.Value
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v.node); err != nil {
		return ""
	}
	_ = enc.Close()
	return b.String()
}

// Strings gives a string's or a list of scalars' items; nil for other values.
func (v Value) Strings() []string {
	switch {
	case v.node == nil:
		return nil
	case v.node.Kind == yaml.ScalarNode:
		return []string{v.node.Value}
	case v.node.Kind == yaml.SequenceNode:
		out := make([]string, 0, len(v.node.Content))
		for _, c := range v.node.Content {
			if c.Kind != yaml.ScalarNode {
				return nil
			}
			out = append(out, c.Value)
		}
		return out
	}
	return nil
}

func (v Value) clone() Value {
	if v.node == nil {
		return v
	}
	return Value{node: cloneNode(v.node)}
}

func cloneNode(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			c.Content[i] = cloneNode(x)
		}
	}
	return &c
}

// MarshalJSON writes the value as JSON: strings, numbers, booleans and null as such, lists as
// arrays and maps as objects in their YAML order. Numbers JSON cannot hold (.inf, .nan, integers
// beyond 64 bits) and scalars of other tags are written as their text.
func (v Value) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v.node); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	if n == nil {
		b.WriteString("null")
		return nil
	}
	switch n.Kind {
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	switch n.Tag {
	case "!!null":
		b.WriteString("null")
		return nil
	case "!!bool":
		var x bool
		if n.Decode(&x) == nil {
			b.WriteString(strconv.FormatBool(x))
			return nil
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			b.WriteString(strconv.FormatInt(i, 10))
			return nil
		}
		var u uint64
		if n.Decode(&u) == nil {
			b.WriteString(strconv.FormatUint(u, 10))
			return nil
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			s, err := json.Marshal(f)
			if err == nil {
				b.Write(s)
				return nil
			}
		}
	}
	s, err := json.Marshal(n.Value)
	if err != nil {
		return err
	}
	b.Write(s)
	return nil
}

// normalizer turns parsed YAML nodes into Values: aliases expanded (within a budget, so that a
// billion-laughs document cannot blow up), tags in short form, styles, comments, anchors and
// positions dropped.
type normalizer struct {
	budget int // nodes that may still be created
}

// maxValueNodes bounds the nodes all of one file's values may hold once aliases are expanded.
const maxValueNodes = 100_000

var errValueTooLarge = &valueError{"holds too many nodes once YAML aliases are expanded (limit 100000)"}

type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

func (z *normalizer) value(n *yaml.Node) (Value, error) {
	c, err := z.node(n, 0)
	if err != nil {
		return Value{}, err
	}
	return Value{node: c}, nil
}

func (z *normalizer) node(n *yaml.Node, depth int) (*yaml.Node, error) {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil || depth > 1000 {
			return nil, &valueError{"has an unresolvable YAML alias"}
		}
		n = n.Alias
		depth++
	}
	if depth > 1000 {
		return nil, &valueError{"is nested too deeply"}
	}
	z.budget--
	if z.budget < 0 {
		return nil, errValueTooLarge
	}
	c := &yaml.Node{Kind: n.Kind, Tag: n.ShortTag(), Value: n.Value}
	switch n.Kind {
	case yaml.ScalarNode:
		if c.Tag == "!!null" {
			c.Value = "null" // "~", "null" and nothing are the same value
		}
		if c.Tag == "!!merge" {
			// Only meaningful as a key; as text it is the string "<<".
			c.Tag = "!!str"
		}
		if c.Tag == "!!binary" || strings.HasPrefix(c.Tag, "!!") && !knownTag(c.Tag) {
			// Keep the text, drop a tag the encoder could write back differently.
			c.Tag = "!!str"
		}
	case yaml.SequenceNode, yaml.MappingNode:
		c.Content = make([]*yaml.Node, 0, len(n.Content))
		for _, x := range n.Content {
			cx, err := z.node(x, depth+1)
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, cx)
		}
		if n.Kind == yaml.MappingNode {
			seen := map[string]bool{}
			for i := 0; i < len(c.Content); i += 2 {
				k := c.Content[i]
				if k.Kind != yaml.ScalarNode {
					return nil, &valueError{"has a key that is not a scalar"}
				}
				if seen[k.Value] {
					return nil, &valueError{fmt.Sprintf("has the key %q twice", k.Value)}
				}
				seen[k.Value] = true
			}
		}
	default:
		return nil, &valueError{"is not a YAML value"}
	}
	return c, nil
}

func knownTag(t string) bool {
	switch t {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!seq", "!!map", "!!timestamp":
		return true
	}
	return false
}

// ParseValue reads one YAML (or JSON) value, such as a layer's map, normalised as Parse
// normalises layers.
func ParseValue(data []byte) (Value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Value{}, fmt.Errorf("not a YAML value: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return Value{}, errors.New("not a YAML value: empty")
	}
	z := normalizer{budget: maxValueNodes}
	return z.value(doc.Content[0])
}
