package gsn

import (
	_ "embed"
	"encoding/json"
	"slices"
)

// JSONVersion is the version of the JSON export's schema. It changes only when a field changes
// meaning or is removed; fields may be added within a version.
const JSONVersion = 1

//go:embed schema.v1.json
var jsonSchema []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of the JSON export, version JSONVersion.
func JSONSchema() []byte { return slices.Clone(jsonSchema) }

// The JSON export, version 1. See schema.v1.json for the description of every field.
type (
	jsonCase struct {
		Version  int           `json:"version"`
		Modules  []jsonModule  `json:"modules"`
		Elements []jsonElement `json:"elements"`
	}
	jsonModule struct {
		Name                  string      `json:"name"`
		File                  string      `json:"file"`
		Brief                 string      `json:"brief,omitempty"`
		Uses                  []string    `json:"uses,omitempty"`
		Stylesheets           []string    `json:"stylesheets,omitempty"`
		Extends               []jsonExt   `json:"extends,omitempty"`
		AdditionalInformation *Value      `json:"additionalInformation,omitempty"`
		HorizontalIndex       *jsonHIndex `json:"horizontalIndex,omitempty"`
		RankIncrement         *int        `json:"rankIncrement,omitempty"`
		CharWrap              *int        `json:"charWrap,omitempty"`
		Extra                 []jsonLayer `json:"extra,omitempty"`
	}
	jsonExt struct {
		Module   string        `json:"module"`
		Develops []jsonDevelop `json:"develops"`
	}
	jsonDevelop struct {
		Element string   `json:"element"`
		By      []string `json:"by"`
	}
	jsonElement struct {
		ID               string         `json:"id"`
		Type             Type           `json:"type"`
		Module           string         `json:"module"`
		Text             string         `json:"text"`
		SupportedBy      []string       `json:"supportedBy"`
		InContextOf      []string       `json:"inContextOf"`
		Undeveloped      bool           `json:"undeveloped"`
		DevelopedBy      []string       `json:"developedBy,omitempty"`
		Challenges       *jsonChallenge `json:"challenges,omitempty"`
		Defeated         bool           `json:"defeated,omitempty"`
		DefeatedRelation []string       `json:"defeatedRelation,omitempty"`
		URL              string         `json:"url,omitempty"`
		Classes          []string       `json:"classes,omitempty"`
		ACP              []jsonACP      `json:"acp,omitempty"`
		RankIncrement    *int           `json:"rankIncrement,omitempty"`
		HorizontalIndex  *jsonHIndex    `json:"horizontalIndex,omitempty"`
		CharWrap         *int           `json:"charWrap,omitempty"`
		Layers           []jsonLayer    `json:"layers,omitempty"`
		Status           Status         `json:"status,omitempty"`
		Reasons          []string       `json:"reasons,omitempty"`
	}
	jsonChallenge struct {
		Element  string        `json:"element,omitempty"`
		Relation *jsonRelation `json:"relation,omitempty"`
	}
	jsonRelation struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	jsonACP struct {
		Name    string   `json:"name"`
		Targets []string `json:"targets"`
	}
	jsonHIndex struct {
		Relative *int `json:"relative,omitempty"`
		Absolute any  `json:"absolute,omitempty"` // a whole number or "last"
	}
	jsonLayer struct {
		Key   string `json:"key"`
		Value Value  `json:"value"`
	}
)

// JSON writes the case as JSON, schema version JSONVersion (JSONSchema describes it):
//
//	{"version": 1,
//	 "modules": [{"name", "file", "brief"?, "uses"?, "stylesheets"?, "extends"?: [{"module", "develops": [{"element", "by"}]}], "additionalInformation"?, ...}],
//	 "elements": [{"id", "type", "module", "text", "supportedBy", "inContextOf", "undeveloped",
//	               "developedBy"?, "challenges"?: {"element"} | {"relation": {"from", "to"}},
//	               "defeated"?, "defeatedRelation"?, "url"?, "classes"?, "acp"?: [{"name", "targets"}],
//	               "rankIncrement"?, "horizontalIndex"?, "charWrap"?, "layers"?: [{"key", "value"}],
//	               "status"?, "reasons"?}]}
//
// Modules and elements are in the case's order, lists in the order written. type is the
// effective type; developedBy lists the elements of other modules developing an undeveloped
// element (module.extends); status and reasons come from the annotations.
func (c *Case) JSON(ann Annotations) ([]byte, error) {
	doc := jsonCase{Version: JSONVersion, Modules: []jsonModule{}, Elements: []jsonElement{}}
	for _, m := range c.Modules {
		jm := jsonModule{
			Name: m.Name, File: m.File, Brief: m.Brief, Uses: m.Uses, Stylesheets: m.Stylesheets,
			HorizontalIndex: jsonHorizontalIndex(m.HorizontalIndex), RankIncrement: m.RankIncrement,
			CharWrap: m.CharWrap, Extra: jsonLayers(m.Extra),
		}
		if !m.AdditionalInformation.IsZero() {
			v := m.AdditionalInformation
			jm.AdditionalInformation = &v
		}
		for _, x := range m.Extends {
			jx := jsonExt{Module: x.Module, Develops: []jsonDevelop{}}
			for _, d := range x.Develops {
				jx.Develops = append(jx.Develops, jsonDevelop{Element: d.Element, By: nonNil(d.By)})
			}
			jm.Extends = append(jm.Extends, jx)
		}
		doc.Modules = append(doc.Modules, jm)
		for _, e := range m.Elements {
			je := jsonElement{
				ID: e.ID, Type: e.Type, Module: m.Name, Text: e.Text,
				SupportedBy: nonNil(e.SupportedBy), InContextOf: nonNil(e.InContextOf), Undeveloped: e.Undeveloped,
				DevelopedBy: c.develops[e.ID], Defeated: e.Defeated, DefeatedRelation: e.DefeatedRelation,
				URL: e.URL, Classes: e.Classes, RankIncrement: e.RankIncrement,
				HorizontalIndex: jsonHorizontalIndex(e.HorizontalIndex), CharWrap: e.CharWrap,
				Layers: jsonLayers(e.Layers),
			}
			if ch := e.Challenges; ch != nil {
				if ch.Relation {
					je.Challenges = &jsonChallenge{Relation: &jsonRelation{From: ch.Target, To: ch.To}}
				} else {
					je.Challenges = &jsonChallenge{Element: ch.Target}
				}
			}
			for _, a := range e.ACP {
				je.ACP = append(je.ACP, jsonACP{Name: a.Name, Targets: nonNil(a.Targets)})
			}
			if a, ok := ann[e.ID]; ok {
				je.Status, je.Reasons = a.Status, a.Reasons
			}
			doc.Elements = append(doc.Elements, je)
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func jsonHorizontalIndex(h *HorizontalIndex) *jsonHIndex {
	switch {
	case h == nil:
		return nil
	case h.Absolute && h.Last:
		return &jsonHIndex{Absolute: "last"}
	case h.Absolute:
		return &jsonHIndex{Absolute: h.Index}
	}
	i := h.Index
	return &jsonHIndex{Relative: &i}
}

func jsonLayers(ls []Layer) []jsonLayer {
	var out []jsonLayer
	for _, l := range ls {
		out = append(out, jsonLayer{Key: l.Key, Value: l.Value})
	}
	return out
}
