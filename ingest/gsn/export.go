package gsn

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Status is the computed status of an argument node (see docs: assurance, section 3).
type Status string

// The four statuses.
const (
	StatusSupported   Status = "SUPPORTED"
	StatusUndermined  Status = "UNDERMINED"
	StatusUnknown     Status = "UNKNOWN"
	StatusUndeveloped Status = "UNDEVELOPED"
)

// Class is the CSS class export and rendering give an element with this status:
// st-supported, st-undermined, st-unknown, st-undeveloped ("" for other values).
func (s Status) Class() string {
	switch s {
	case StatusSupported, StatusUndermined, StatusUnknown, StatusUndeveloped:
		return "st-" + strings.ToLower(string(s))
	}
	return ""
}

// statusClasses are the classes export manages: a re-export replaces them.
var statusClasses = []string{"st-supported", "st-undermined", "st-unknown", "st-undeveloped"}

// Annotation is what the caller knows of an element beyond the argument: its status and the
// reasons for it (reason codes or text).
type Annotation struct {
	Status  Status
	Reasons []string
}

// Annotations maps element ids to their annotations.
type Annotations map[string]Annotation

// The layer keys export writes annotations to. gsn2x shows them with -l sectwinStatus.
const (
	LayerStatus  = "sectwinStatus"
	LayerReasons = "sectwinReasons"
)

// StatusCSS is a stylesheet colouring gsn2x's SVG by the status classes export writes; give it to
// gsn2x with -s, or name it in module.stylesheets.
const StatusCSS = `/* sectwin status colours for gsn2x */
.st-supported path, .st-supported rect, .st-supported ellipse, .st-supported polygon { fill: #c8e6c9; stroke: #2e7d32; }
.st-undermined path, .st-undermined rect, .st-undermined ellipse, .st-undermined polygon { fill: #ffcdd2; stroke: #c62828; }
.st-unknown path, .st-unknown rect, .st-unknown ellipse, .st-unknown polygon { fill: #ffe0b2; stroke: #ef6c00; }
.st-undeveloped path, .st-undeveloped rect, .st-undeveloped ellipse, .st-undeveloped polygon { fill: #e0e0e0; stroke: #616161; }
`

// Export writes a module as gsn2x YAML: the header (when the module has one), then the elements
// in order, a blank line between them. Ids are written as they are; nodeType is written when the
// file gave it or when the id's prefix does not imply the type; lists of ids are written in flow
// style; layers follow the known keys in their order.
//
// With annotations, each annotated element gets the layers sectwinStatus and sectwinReasons
// (replacing earlier values) and its status class (st-supported, st-undermined, st-unknown or
// st-undeveloped, replacing an earlier status class). The module itself is not changed.
//
// Export's output parses back to an equal module, and exporting that gives the same bytes.
func Export(m *Module, ann Annotations) ([]byte, error) {
	if err := exportable(m); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	chunk := func(key string, value *yaml.Node) error {
		if out.Len() > 0 {
			out.WriteByte('\n')
		}
		doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str(key), value}}
		enc := yaml.NewEncoder(&out)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("gsn: export %s: %w", key, err)
		}
		return enc.Close()
	}
	if m.hasHeader() {
		if err := chunk(moduleKey, headerNode(m)); err != nil {
			return nil, err
		}
	}
	for _, e := range m.Elements {
		if err := chunk(e.ID, elementNode(annotate(e, ann))); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

// Export writes every module of the case as gsn2x YAML, keyed by the modules' file names.
func (c *Case) Export(ann Annotations) (map[string][]byte, error) {
	out := make(map[string][]byte, len(c.Modules))
	for _, m := range c.Modules {
		b, err := Export(m, ann)
		if err != nil {
			return nil, err
		}
		out[m.File] = b
	}
	return out, nil
}

// exportable refuses what a module built in code may hold but gsn2x YAML cannot say: an element
// named module (that key is the header), an id or a key given twice, a layer named like a known
// key.
func exportable(m *Module) error {
	ids := map[string]bool{}
	for _, e := range m.Elements {
		if e.ID == moduleKey {
			return fmt.Errorf("gsn: export %s: an element cannot have the id %q (it names the module header)", m.File, moduleKey)
		}
		if ids[e.ID] {
			return fmt.Errorf("gsn: export %s: element %s is given twice", m.File, e.ID)
		}
		ids[e.ID] = true
		if err := layerKeys(e.Layers, knownKeys); err != nil {
			return fmt.Errorf("gsn: export %s: element %s: %w", m.File, e.ID, err)
		}
	}
	if err := layerKeys(m.Extra, headerKeys); err != nil {
		return fmt.Errorf("gsn: export %s: module header: %w", m.File, err)
	}
	return nil
}

func layerKeys(ls []Layer, known []string) error {
	seen := map[string]bool{}
	for _, l := range ls {
		if slices.Contains(known, l.Key) {
			return fmt.Errorf("layer %q has the name of a gsn2x key", l.Key)
		}
		if seen[l.Key] {
			return fmt.Errorf("layer %q is given twice", l.Key)
		}
		seen[l.Key] = true
	}
	return nil
}

// annotate returns e with its annotation written into layers and classes (e itself when it has
// none).
func annotate(e *Element, ann Annotations) *Element {
	a, ok := ann[e.ID]
	if !ok {
		return e
	}
	c := e.Clone()
	if a.Status != "" {
		setLayer(c, LayerStatus, StringValue(string(a.Status)))
	}
	if len(a.Reasons) > 0 {
		setLayer(c, LayerReasons, ListValue(a.Reasons...))
	}
	if cls := a.Status.Class(); cls != "" {
		c.Classes = slices.DeleteFunc(c.Classes, func(s string) bool { return slices.Contains(statusClasses, s) })
		c.Classes = append(c.Classes, cls)
	}
	return c
}

func setLayer(e *Element, key string, v Value) {
	for i := range e.Layers {
		if e.Layers[i].Key == key {
			e.Layers[i].Value = v
			return
		}
	}
	e.Layers = append(e.Layers, Layer{Key: key, Value: v})
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func intNode(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// flowList writes ids as [a, b].
func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

type mapping struct{ n *yaml.Node }

func newMapping() mapping { return mapping{&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}} }

func (m mapping) add(key string, v *yaml.Node) { m.n.Content = append(m.n.Content, str(key), v) }

func hindexNode(h *HorizontalIndex) *yaml.Node {
	m := newMapping()
	switch {
	case h.Absolute && h.Last:
		m.add("absolute", str("last"))
	case h.Absolute:
		m.add("absolute", intNode(h.Index))
	default:
		m.add("relative", intNode(h.Index))
	}
	return m.n
}

// elementNode builds an element's YAML: known keys in a fixed order, then the layers.
func elementNode(e *Element) *yaml.Node {
	m := newMapping()
	if e.Text != "" {
		m.add("text", str(e.Text))
	}
	if e.Type != "" && (e.ExplicitType || TypeFromID(e.ID) != e.Type) {
		m.add("nodeType", str(string(e.Type)))
	}
	if len(e.SupportedBy) > 0 {
		m.add("supportedBy", flowList(e.SupportedBy))
	}
	if len(e.InContextOf) > 0 {
		m.add("inContextOf", flowList(e.InContextOf))
	}
	if e.Challenges != nil {
		m.add("challenges", str(e.Challenges.String()))
	}
	if e.Undeveloped {
		m.add("undeveloped", boolNode(true))
	}
	if e.Defeated {
		m.add("defeated", boolNode(true))
	}
	if len(e.DefeatedRelation) > 0 {
		m.add("defeatedRelation", flowList(e.DefeatedRelation))
	}
	if e.URL != "" {
		m.add("url", str(e.URL))
	}
	if len(e.Classes) > 0 {
		m.add("classes", flowList(e.Classes))
	}
	if len(e.ACP) > 0 {
		acp := newMapping()
		for _, a := range e.ACP {
			acp.add(a.Name, flowList(a.Targets))
		}
		m.add("acp", acp.n)
	}
	if e.RankIncrement != nil {
		m.add("rankIncrement", intNode(*e.RankIncrement))
	}
	if e.HorizontalIndex != nil {
		m.add("horizontalIndex", hindexNode(e.HorizontalIndex))
	}
	if e.CharWrap != nil {
		m.add("charWrap", intNode(*e.CharWrap))
	}
	for _, l := range e.Layers {
		m.add(l.Key, valueNode(l.Value))
	}
	if len(m.n.Content) == 0 {
		m.n.Style = yaml.FlowStyle // G1: {}
	}
	return m.n
}

// valueNode writes a kept value (null when absent).
func valueNode(v Value) *yaml.Node {
	if v.node == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return v.clone().node
}

// headerNode builds the module header.
func headerNode(mod *Module) *yaml.Node {
	m := newMapping()
	m.add("name", str(mod.Name))
	if mod.Brief != "" {
		m.add("brief", str(mod.Brief))
	}
	if len(mod.Uses) > 0 {
		m.add("uses", flowList(mod.Uses))
	}
	if len(mod.Stylesheets) > 0 {
		m.add("stylesheets", flowList(mod.Stylesheets))
	}
	if len(mod.Extends) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, x := range mod.Extends {
			item := newMapping()
			item.add("module", str(x.Module))
			dev := newMapping()
			for _, d := range x.Develops {
				dev.add(d.Element, flowList(d.By))
			}
			if len(x.Develops) == 0 {
				dev.n.Style = yaml.FlowStyle
			}
			item.add("develops", dev.n)
			list.Content = append(list.Content, item.n)
		}
		m.add("extends", list)
	}
	if !mod.AdditionalInformation.IsZero() {
		m.add("additionalInformation", valueNode(mod.AdditionalInformation))
	}
	if mod.HorizontalIndex != nil {
		m.add("horizontalIndex", hindexNode(mod.HorizontalIndex))
	}
	if mod.RankIncrement != nil {
		m.add("rankIncrement", intNode(*mod.RankIncrement))
	}
	if mod.CharWrap != nil {
		m.add("charWrap", intNode(*mod.CharWrap))
	}
	for _, l := range mod.Extra {
		m.add(l.Key, valueNode(l.Value))
	}
	return m.n
}
