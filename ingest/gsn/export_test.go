package gsn

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestFixturesRoundTrip: our fixtures, and awkward inputs, round-trip.
func TestFixturesRoundTrip(t *testing.T) {
	assertRoundTrip(t, "full.gsn.yaml", fixture(t, "full.gsn.yaml"))
	for name, data := range fixtureSet(t, "modular") {
		t.Run(name, func(t *testing.T) { assertRoundTrip(t, name, data) })
	}
	for name, src := range map[string]string{
		"crlf and one-space indent": "\r\nG1:\r\n text: a\r\n supportedBy: [Sn1]\r\n\r\nSn1:\r\n text: |\r\n  two\r\n  lines\r\n",
		"scalars for lists":         "G1:\n  supportedBy: Sn1\n  classes: one\nSn1: {}\n",
		"texts needing quotes":      "G1:\n  text: \"yes\"\nG2:\n  text: '123'\nG3:\n  text: \"a: b # c\"\nG4:\n  text: \"trailing \\nspace \\n\"\nG5:\n  text: \"\\ttab\\x01\"\n",
		"ids needing quotes":        "\"123\": {}\n\"true\": {}\n\"G1 -> G2\": {}\n\"\": {}\n\"module \": {}\n",
		"challenge forms":           "CG1:\n  challenges: ' G1 '\nCG2:\n  challenges: 'G1->G2 -> G3'\nCG3:\n  challenges: '-> G2'\n",
		"layer shapes":              "G1:\n  a: ~\n  b: [1, 2.5, true, null, \"x\"]\n  c: {k: {n: [v]}}\n  d: !custom tagged\n  e: 2001-12-14\n  f: !!binary aGk=\n  g: 0x1F\n  h: .inf\n  i: \"\"\n",
		"anchors and aliases":       "G1:\n  text: &t shared\n  supportedBy: &l [Sn1]\n  x: *l\nG2:\n  text: *t\nSn1: {}\n",
		"header only":               "module:\n  name: Empty\n",
		"header with empty lists":   "module:\n  name: M\n  uses: []\n  extends:\n    - module: T\n      develops: {}\nG1:\n  supportedBy: []\n  acp: {}\n",
		"nodeType redundant":        "G1:\n  nodeType: Goal\n",
		"empty":                     "",
	} {
		t.Run(name, func(t *testing.T) { assertRoundTrip(t, "x.gsn.yaml", []byte(src)) })
	}
}

// TestExportFormat pins the canonical form.
func TestExportFormat(t *testing.T) {
	m := mustParse(t, "m.gsn.yaml", `
module: {name: M, brief: Brief, uses: [a.yaml], extends: [{module: T, develops: {G9: [G1]}}], zz: 1}
G1:
  layer: x
  undeveloped: false
  inContextOf: C1
  text: Goal
  supportedBy: [Sn1, Sn2]
  horizontalIndex: {absolute: 2}
C1: {text: "multi\nline\n"}
X-1: {nodeType: Solution}
Sn1: ~
Sn2:
  acp: {ACP1: Sn2}
`)
	got, err := Export(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `module:
  name: M
  brief: Brief
  uses: [a.yaml]
  extends:
    - module: T
      develops:
        G9: [G1]
  zz: 1

G1:
  text: Goal
  supportedBy: [Sn1, Sn2]
  inContextOf: [C1]
  horizontalIndex:
    absolute: 2
  layer: x

C1:
  text: |
    multi
    line

X-1:
  nodeType: Solution

Sn1: {}

Sn2:
  acp:
    ACP1: [Sn2]
`
	if string(got) != want {
		t.Errorf("export:\n%s\nwant:\n%s", got, want)
	}
}

// TestExportNodeType: built elements get nodeType where the id does not say their type.
func TestExportNodeType(t *testing.T) {
	m := &Module{File: "built.yaml", Name: "built.yaml", Elements: []*Element{
		{ID: "8d3e", Type: Goal, Text: "uuid id", SupportedBy: []string{"Sn1"}},
		{ID: "Sn1", Type: Solution},
		{ID: "Sn2", Type: Context},
	}}
	out, err := Export(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "8d3e:\n  text: uuid id\n  nodeType: Goal\n  supportedBy: [Sn1]\n\nSn1: {}\n\nSn2:\n  nodeType: Context\n"
	if string(out) != want {
		t.Fatalf("export:\n%s\nwant:\n%s", out, want)
	}
	back := mustParse(t, "built.yaml", string(out))
	for _, e := range m.Elements {
		if b := back.Element(e.ID); b == nil || b.Type != e.Type {
			t.Errorf("%s read back as %+v", e.ID, b)
		}
	}
	if !strings.Contains(string(mustExport(t, &Module{File: "f", Name: "Named"})), "name: Named") {
		t.Error("a module named otherwise than its file has no header")
	}
}

func mustExport(t *testing.T, m *Module) []byte {
	t.Helper()
	b, err := Export(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportAnnotations: status goes into layers and classes, replacing earlier annotations, and
// the module is not changed.
func TestExportAnnotations(t *testing.T) {
	m := mustParse(t, "a.yaml", "G1:\n  text: Goal\n  classes: [mine, st-unknown]\n  sectwinStatus: UNKNOWN\n  other: kept\n  supportedBy: [Sn1]\nSn1: {}\n")
	before := m.Clone()
	ann := Annotations{
		"G1":  {Status: StatusUndermined, Reasons: []string{"EVIDENCE_FAIL", "DEFEATED"}},
		"Sn1": {Status: StatusSupported},
		"G9":  {Status: StatusUnknown}, // not in the module: ignored
	}
	out, err := Export(m, ann)
	if err != nil {
		t.Fatal(err)
	}
	want := "G1:\n  text: Goal\n  supportedBy: [Sn1]\n  classes: [mine, st-undermined]\n  sectwinStatus: UNDERMINED\n  other: kept\n  sectwinReasons:\n    - EVIDENCE_FAIL\n    - DEFEATED\n\nSn1:\n  classes: [st-supported]\n  sectwinStatus: SUPPORTED\n"
	if string(out) != want {
		t.Errorf("export:\n%s\nwant:\n%s", out, want)
	}
	if !m.Equal(before) || !reflect.DeepEqual(m.Element("G1").Classes, []string{"mine", "st-unknown"}) {
		t.Error("Export changed the module")
	}
	back := mustParse(t, "a.yaml", string(out))
	if v, _ := back.Element("G1").Layer(LayerReasons); !reflect.DeepEqual(v.Strings(), []string{"EVIDENCE_FAIL", "DEFEATED"}) {
		t.Errorf("reasons read back as %v", v.Strings())
	}
	again, err := Export(back, ann)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("re-annotating an annotated export changes it:\n%s", again)
	}
	for _, s := range []Status{StatusSupported, StatusUndermined, StatusUnknown, StatusUndeveloped} {
		if !slices.Contains(statusClasses, s.Class()) || !strings.Contains(StatusCSS, "."+s.Class()) {
			t.Errorf("status %s: class %q not styled", s, s.Class())
		}
	}
}

// TestCaseExport writes every module of a modular case.
func TestCaseExport(t *testing.T) {
	files := fixtureSet(t, "modular")
	c, err := ParseSet(files)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Export(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(files) {
		t.Fatalf("%d files exported, want %d", len(out), len(files))
	}
	c2, err := ParseSet(out)
	if err != nil {
		t.Fatalf("the export is not a valid case: %v", err)
	}
	for i, m := range c.Modules {
		if !m.Equal(c2.Modules[i]) {
			t.Errorf("module %s differs after the round trip", m.Name)
		}
	}
}

func TestJSON(t *testing.T) {
	c, err := ParseSet(map[string][]byte{"full.gsn.yaml": fixture(t, "full.gsn.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.JSON(Annotations{"G1": {Status: StatusUndermined, Reasons: []string{"EVIDENCE_FAIL"}}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int
		Modules  []map[string]any
		Elements []map[string]any
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != JSONVersion || len(doc.Modules) != 1 || len(doc.Elements) != len(c.Elements()) {
		t.Fatalf("doc: version %d, %d modules, %d elements", doc.Version, len(doc.Modules), len(doc.Elements))
	}
	byID := map[string]map[string]any{}
	for _, e := range doc.Elements {
		byID[e["id"].(string)] = e
	}
	g1 := byID["G1"]
	if g1["status"] != "UNDERMINED" || !reflect.DeepEqual(g1["reasons"], []any{"EVIDENCE_FAIL"}) || g1["type"] != "Goal" || g1["module"] != "Payments" {
		t.Errorf("G1: %v", g1)
	}
	if !reflect.DeepEqual(g1["layers"], []any{map[string]any{"key": "owner", "value": "alice"}, map[string]any{"key": "sectwinStatus", "value": "SUPPORTED"}}) {
		t.Errorf("G1 layers: %v", g1["layers"])
	}
	if !reflect.DeepEqual(byID["CSn2"]["challenges"], map[string]any{"relation": map[string]any{"from": "G2", "to": "Sn1"}}) ||
		!reflect.DeepEqual(byID["CG1"]["challenges"], map[string]any{"element": "Sn2"}) {
		t.Errorf("challenges: %v %v", byID["CSn2"]["challenges"], byID["CG1"]["challenges"])
	}
	if !reflect.DeepEqual(byID["A1"]["supportedBy"], []any{}) || byID["A1"]["undeveloped"] != false {
		t.Errorf("A1 lacks the always-present fields: %v", byID["A1"])
	}
	if !reflect.DeepEqual(byID["G3"]["horizontalIndex"], map[string]any{"absolute": "last"}) ||
		!reflect.DeepEqual(byID["J1"]["horizontalIndex"], map[string]any{"relative": -1.0}) {
		t.Errorf("horizontalIndex: %v %v", byID["G3"]["horizontalIndex"], byID["J1"]["horizontalIndex"])
	}
	sn1, _ := json.Marshal(byID["Sn1"]["layers"])
	if string(sn1) != `[{"key":"evidence","value":{"kind":"vulnerability-scan","tools":["grype","trivy"],"window":"7d"}}]` {
		t.Errorf("Sn1 layers: %s", sn1)
	}
	if !bytes.Contains(out, []byte(`"value": {
            "kind": "vulnerability-scan",
            "window": "7d",`)) {
		t.Errorf("a mapping layer does not keep its order:\n%s", out)
	}
	assertMatchesSchema(t, out)

	// Extensions show as developedBy.
	mc, err := ParseSet(fixtureSet(t, "modular"))
	if err != nil {
		t.Fatal(err)
	}
	mout, err := mc.JSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mout, []byte(`"developedBy": [
        "G11"
      ]`)) {
		t.Errorf("G10 is not developed by G11:\n%s", mout)
	}
	assertMatchesSchema(t, mout)
}

// assertMatchesSchema checks an export against the schema's object definitions: no property the
// schema does not declare, every required one present.
func assertMatchesSchema(t *testing.T, out []byte) {
	t.Helper()
	var schema struct {
		Required   []string
		Properties map[string]any
		Defs       map[string]struct {
			Required   []string
			Properties map[string]any
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	check := func(what string, obj map[string]any, props map[string]any, required []string) {
		var keys []string
		for k := range obj {
			keys = append(keys, k)
			if _, ok := props[k]; !ok {
				t.Errorf("%s: property %q is not in the schema", what, k)
			}
		}
		sort.Strings(keys)
		for _, r := range required {
			if _, ok := obj[r]; !ok {
				t.Errorf("%s: required %q missing (has %v)", what, r, keys)
			}
		}
	}
	check("case", doc, schema.Properties, schema.Required)
	for _, m := range doc["modules"].([]any) {
		check("module", m.(map[string]any), schema.Defs["module"].Properties, schema.Defs["module"].Required)
	}
	for _, e := range doc["elements"].([]any) {
		check("element", e.(map[string]any), schema.Defs["element"].Properties, schema.Defs["element"].Required)
	}
}

// TestExportRefuses what gsn2x YAML cannot say.
func TestExportRefuses(t *testing.T) {
	for name, m := range map[string]*Module{
		"element named module": {Elements: []*Element{{ID: "module", Type: Goal}}},
		"duplicate id":         {Elements: []*Element{{ID: "G1", Type: Goal}, {ID: "G1", Type: Goal}}},
		"layer named text":     {Elements: []*Element{{ID: "G1", Type: Goal, Layers: []Layer{{Key: "text", Value: StringValue("x")}}}}},
		"duplicate layer":      {Elements: []*Element{{ID: "G1", Type: Goal, Layers: []Layer{{Key: "a"}, {Key: "a"}}}}},
		"header key as extra":  {Name: "M", Extra: []Layer{{Key: "brief", Value: StringValue("x")}}},
	} {
		if _, err := Export(m, nil); err == nil {
			t.Errorf("%s: exported", name)
		}
	}
}
