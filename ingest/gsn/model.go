package gsn

import (
	"reflect"
	"strings"
)

// Type is the GSN type of an element, spelt as gsn2x's nodeType values.
type Type string

// The element types gsn2x knows: the six core GSN elements and the two of the Dialectic Extension.
const (
	Goal            Type = "Goal"
	Strategy        Type = "Strategy"
	Solution        Type = "Solution"
	Context         Type = "Context"
	Assumption      Type = "Assumption"
	Justification   Type = "Justification"
	CounterGoal     Type = "CounterGoal"
	CounterSolution Type = "CounterSolution"
)

// Types returns every element type.
func Types() []Type {
	return []Type{Goal, Strategy, Solution, Context, Assumption, Justification, CounterGoal, CounterSolution}
}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, v := range Types() {
		if t == v {
			return true
		}
	}
	return false
}

// TypeFromID gives the type an id's prefix implies, as gsn2x reads it: CG, G, CSn, Sn, S, C, A, J
// (longest prefix first); "" when no prefix matches.
func TypeFromID(id string) Type {
	switch {
	case strings.HasPrefix(id, "CG"):
		return CounterGoal
	case strings.HasPrefix(id, "G"):
		return Goal
	case strings.HasPrefix(id, "CSn"):
		return CounterSolution
	case strings.HasPrefix(id, "Sn"):
		return Solution
	case strings.HasPrefix(id, "S"):
		return Strategy
	case strings.HasPrefix(id, "C"):
		return Context
	case strings.HasPrefix(id, "A"):
		return Assumption
	case strings.HasPrefix(id, "J"):
		return Justification
	}
	return ""
}

// Position is a place in a source file: 1-based line and column, zero when unknown (elements built
// in code rather than parsed).
type Position struct {
	Line, Column int
}

// Element is one GSN element: a YAML map entry keyed by its id.
type Element struct {
	ID string
	// Type is the element's type: nodeType when the file gives one, otherwise what the id's prefix
	// implies; "" when neither says (validation rule V01).
	Type Type
	// ExplicitType records that the file gave nodeType. Export writes nodeType when it is set, or
	// when the id's prefix does not imply Type.
	ExplicitType bool
	// Module is the name of the module (file) the element belongs to.
	Module string

	Text        string
	SupportedBy []string // ids, in the order written
	InContextOf []string // ids, in the order written
	Undeveloped bool
	URL         string
	Classes     []string // CSS classes for the SVG
	// Layout hints, kept for the round trip (nil when not given).
	RankIncrement   *int
	HorizontalIndex *HorizontalIndex
	CharWrap        *int
	// ACP are the assurance claim points on the element and on its relations, in the order written.
	ACP []ACP
	// Dialectic extension.
	Challenges       *Challenge // nil when the element challenges nothing
	Defeated         bool
	DefeatedRelation []string // targets of this element's relations that are defeated

	// Layers are the keys gsn2x does not know, in the order written; gsn2x shows them with -l.
	Layers []Layer

	// Pos is where the element's id is written; zero for elements built in code.
	Pos Position
	// keys records where each attribute's key is written, for problems about one attribute.
	keys map[string]Position
}

// Layer is an unknown element key kept with its value.
type Layer struct {
	Key   string
	Value Value
}

// Layer returns the value of the layer named key and whether the element has it.
func (e *Element) Layer(key string) (Value, bool) {
	for _, l := range e.Layers {
		if l.Key == key {
			return l.Value, true
		}
	}
	return Value{}, false
}

// posOf gives the position of an attribute's key, or of the element when the attribute is not
// written (or the element was built in code).
func (e *Element) posOf(key string) Position {
	if p, ok := e.keys[key]; ok {
		return p
	}
	return e.Pos
}

// ACP is an assurance claim point: a name and the ids it is attached to (the element's own id for
// a claim point on the element, a connected element's id for one on that relation).
type ACP struct {
	Name    string
	Targets []string
}

// Challenge is what a CounterGoal or CounterSolution challenges: an element, or a relation written
// "X -> Y" in gsn2x.
type Challenge struct {
	Target   string // the challenged element, or the source X of the challenged relation
	Relation bool   // a relation is challenged, not an element
	To       string // the target Y of the challenged relation
}

// String writes the challenge as gsn2x does: "X" or "X -> Y".
func (c Challenge) String() string {
	if c.Relation {
		return c.Target + " -> " + c.To
	}
	return c.Target
}

// ParseChallenge reads gsn2x's challenges value: "X -> Y" challenges the relation from X to Y
// (both trimmed), anything else challenges the element named exactly so.
func ParseChallenge(s string) Challenge {
	if l, r, ok := strings.Cut(s, "->"); ok {
		return Challenge{Target: strings.TrimSpace(l), Relation: true, To: strings.TrimSpace(r)}
	}
	return Challenge{Target: s}
}

// HorizontalIndex is gsn2x's horizontalIndex layout hint: {relative: n} or {absolute: n|last}.
type HorizontalIndex struct {
	Absolute bool // an absolute position; otherwise an offset relative to the computed one
	Last     bool // absolute: last (Index is then 0)
	Index    int  // the position (absolute, ≥ 0) or the offset (relative)
}

// Extends is one entry of a module header's extends list: this module develops undeveloped
// elements of Module.
type Extends struct {
	Module   string
	Develops []Develop
	Pos      Position
}

// Develop says that the local elements By develop the foreign, undeveloped element Element.
type Develop struct {
	Element string
	By      []string
}

// Module is one gsn2x file: an optional module header and the elements, in file order.
type Module struct {
	// File is the name the file was parsed under (a path in a set of files).
	File string
	// Name is the module's name: the header's name, or File when the file has no header (as gsn2x
	// names such modules).
	Name string
	// Header records that the file has a module: header. Export writes one when it is set or when
	// any header field is set.
	Header                bool
	Brief                 string
	Uses                  []string // files this module uses, relative to File's directory
	Stylesheets           []string
	Extends               []Extends
	AdditionalInformation Value
	HorizontalIndex       *HorizontalIndex
	RankIncrement         *int
	CharWrap              *int
	// Extra are other header keys, kept in order.
	Extra []Layer
	// HeaderPos is where the module: key is written.
	HeaderPos Position

	Elements []*Element
}

// Element returns the module's element with the given id, or nil.
func (m *Module) Element(id string) *Element {
	for _, e := range m.Elements {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// hasHeader reports whether export writes a module header.
func (m *Module) hasHeader() bool {
	return m.Header || m.Brief != "" || len(m.Uses) > 0 || len(m.Stylesheets) > 0 || len(m.Extends) > 0 ||
		!m.AdditionalInformation.IsZero() || m.HorizontalIndex != nil || m.RankIncrement != nil ||
		m.CharWrap != nil || len(m.Extra) > 0 || (m.Name != "" && m.Name != m.File)
}

// Equal reports whether two modules hold the same model: every field but source positions.
func (m *Module) Equal(o *Module) bool {
	if m == nil || o == nil {
		return m == o
	}
	return reflect.DeepEqual(m.withoutPositions(), o.withoutPositions())
}

// withoutPositions copies m with every source position cleared.
func (m *Module) withoutPositions() *Module {
	c := *m
	c.HeaderPos = Position{}
	c.Extends = make([]Extends, len(m.Extends))
	for i, x := range m.Extends {
		x.Pos = Position{}
		c.Extends[i] = x
	}
	c.Elements = make([]*Element, len(m.Elements))
	for i, e := range m.Elements {
		ce := *e
		ce.Pos, ce.keys = Position{}, nil
		c.Elements[i] = &ce
	}
	return &c
}

// Clone returns a deep copy of m, safe to change without touching m.
func (m *Module) Clone() *Module {
	c := *m
	c.Uses = cloneStrings(m.Uses)
	c.Stylesheets = cloneStrings(m.Stylesheets)
	c.Extends = make([]Extends, len(m.Extends))
	for i, x := range m.Extends {
		x.Develops = make([]Develop, len(x.Develops))
		for j, d := range m.Extends[i].Develops {
			d.By = cloneStrings(d.By)
			x.Develops[j] = d
		}
		c.Extends[i] = x
	}
	c.AdditionalInformation = m.AdditionalInformation.clone()
	c.HorizontalIndex = clonePtr(m.HorizontalIndex)
	c.RankIncrement = clonePtr(m.RankIncrement)
	c.CharWrap = clonePtr(m.CharWrap)
	c.Extra = cloneLayers(m.Extra)
	c.Elements = make([]*Element, len(m.Elements))
	for i, e := range m.Elements {
		c.Elements[i] = e.Clone()
	}
	if m.Extends == nil {
		c.Extends = nil
	}
	return &c
}

// Clone returns a deep copy of e.
func (e *Element) Clone() *Element {
	c := *e
	c.SupportedBy = cloneStrings(e.SupportedBy)
	c.InContextOf = cloneStrings(e.InContextOf)
	c.Classes = cloneStrings(e.Classes)
	c.RankIncrement = clonePtr(e.RankIncrement)
	c.HorizontalIndex = clonePtr(e.HorizontalIndex)
	c.CharWrap = clonePtr(e.CharWrap)
	if e.ACP != nil {
		c.ACP = make([]ACP, len(e.ACP))
		for i, a := range e.ACP {
			c.ACP[i] = ACP{Name: a.Name, Targets: cloneStrings(a.Targets)}
		}
	}
	c.Challenges = clonePtr(e.Challenges)
	c.DefeatedRelation = cloneStrings(e.DefeatedRelation)
	c.Layers = cloneLayers(e.Layers)
	if e.keys != nil {
		c.keys = make(map[string]Position, len(e.keys))
		for k, v := range e.keys {
			c.keys[k] = v
		}
	}
	return &c
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneLayers(ls []Layer) []Layer {
	if ls == nil {
		return nil
	}
	c := make([]Layer, len(ls))
	for i, l := range ls {
		c[i] = Layer{Key: l.Key, Value: l.Value.clone()}
	}
	return c
}
