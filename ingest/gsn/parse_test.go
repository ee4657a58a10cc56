package gsn

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixture reads a file of testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureSet reads every file under a testdata folder, keyed by path relative to it.
func fixtureSet(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := filepath.Join("testdata", dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func mustParse(t *testing.T, name, src string) *Module {
	t.Helper()
	m, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestParseFixture(t *testing.T) {
	m, err := Parse("full.gsn.yaml", fixture(t, "full.gsn.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Payments" || !m.Header || m.Brief != "The payment service is acceptably secure" {
		t.Errorf("header: %+v", m)
	}
	if m.HeaderPos.Line != 3 {
		t.Errorf("header at line %d, want 3", m.HeaderPos.Line)
	}
	if got := m.AdditionalInformation.String(); got != "owner: platform-security\nreviewed: 2025-01-31\n" {
		t.Errorf("additionalInformation %q", got)
	}
	if len(m.Extra) != 1 || m.Extra[0].Key != "sectwinCase" || m.Extra[0].Value.String() != "payments-v1" {
		t.Errorf("extra header keys %+v", m.Extra)
	}
	if m.CharWrap == nil || *m.CharWrap != 30 || m.HorizontalIndex == nil || *m.HorizontalIndex != (HorizontalIndex{Absolute: true}) {
		t.Errorf("header layout %v %v", m.CharWrap, m.HorizontalIndex)
	}
	var ids []string
	for _, e := range m.Elements {
		ids = append(ids, e.ID)
		if e.Module != "Payments" {
			t.Errorf("%s in module %q", e.ID, e.Module)
		}
	}
	want := []string{"G1", "C1", "A1", "S1", "J1", "G2", "Sn1", "G3", "9f1c6a52-0000-4000-8000-000000000001", "Sn2", "CG1", "CSn1", "CSn2"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("element order %v, want %v", ids, want)
	}

	g1 := m.Element("G1")
	if g1.Text != `The payment service is "secure" against <script> & friends: ünïcödé ✓` || g1.Pos.Line != 15 {
		t.Errorf("G1 %q at %v", g1.Text, g1.Pos)
	}
	if !reflect.DeepEqual(g1.ACP, []ACP{{"ACP1", []string{"G1"}}, {"ACP2", []string{"S1", "C1"}}}) {
		t.Errorf("G1 acp %+v", g1.ACP)
	}
	if len(g1.Layers) != 2 || g1.Layers[0].Key != "owner" || g1.Layers[1].Key != "sectwinStatus" {
		t.Errorf("G1 layers %+v", g1.Layers)
	}
	if v, ok := g1.Layer("owner"); !ok || v.String() != "alice" {
		t.Errorf("G1 owner layer %v %v", v, ok)
	}
	if c1 := m.Element("C1"); c1.Text != "Deployment:\n- prod cluster \"eu-1\"\n- <internal> only & nowhere else\n" || c1.URL != "https://example.org/context?a=1&b=2" {
		t.Errorf("C1 %q %q", c1.Text, c1.URL)
	}
	if s1 := m.Element("S1"); !reflect.DeepEqual(s1.InContextOf, []string{"J1"}) || *s1.RankIncrement != 1 || s1.Type != Strategy {
		t.Errorf("S1 %+v", s1)
	}
	if j1 := m.Element("J1"); *j1.HorizontalIndex != (HorizontalIndex{Index: -1}) {
		t.Errorf("J1 %+v", j1.HorizontalIndex)
	}
	g2 := m.Element("G2")
	if v, _ := g2.Layer("tags"); !reflect.DeepEqual(v.Strings(), []string{"cve", "sbom"}) {
		t.Errorf("G2 tags %v", v.Strings())
	}
	if !reflect.DeepEqual(g2.DefeatedRelation, []string{"Sn1"}) || *g2.CharWrap != 20 {
		t.Errorf("G2 %+v", g2)
	}
	if g3 := m.Element("G3"); !g3.Undeveloped || *g3.HorizontalIndex != (HorizontalIndex{Absolute: true, Last: true}) {
		t.Errorf("G3 %+v", g3)
	}
	if u := m.Element("9f1c6a52-0000-4000-8000-000000000001"); u.Type != Goal || !u.ExplicitType || !reflect.DeepEqual(u.SupportedBy, []string{"Sn2"}) {
		t.Errorf("uuid element %+v", u)
	}
	if e := m.Element("CG1"); e.Type != CounterGoal || *e.Challenges != (Challenge{Target: "Sn2"}) {
		t.Errorf("CG1 %+v", e)
	}
	if e := m.Element("CSn2"); e.Type != CounterSolution || *e.Challenges != (Challenge{Target: "G2", Relation: true, To: "Sn1"}) {
		t.Errorf("CSn2 %+v", e.Challenges)
	}
	if !m.Element("Sn2").Defeated {
		t.Error("Sn2 not defeated")
	}
}

func TestTypeFromID(t *testing.T) {
	for id, want := range map[string]Type{
		"G1": Goal, "S1": Strategy, "Sn1": Solution, "C1": Context, "A1": Assumption, "J1": Justification,
		"CG1": CounterGoal, "CSn1": CounterSolution, "G2.1": Goal, "Sx": Strategy, "CS": Context, "X1": "", "": "", "g1": "",
	} {
		if got := TypeFromID(id); got != want {
			t.Errorf("TypeFromID(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestParseLenient: what gsn2x accepts, Parse accepts.
func TestParseLenient(t *testing.T) {
	m := mustParse(t, "lenient.yaml", "\r\nG1:\r\n  supportedBy: Sn1\r\n  inContextOf: ~\r\n  text: 42\r\nSn1:\r\nG2: {}\r\nG3:\r\n  horizontalIndex: !relative -2\r\n  undeveloped: false\r\n  layer: ~\r\n")
	g1 := m.Element("G1")
	if !reflect.DeepEqual(g1.SupportedBy, []string{"Sn1"}) || g1.InContextOf != nil || g1.Text != "42" {
		t.Errorf("G1 %+v", g1)
	}
	if m.Element("Sn1") == nil || m.Element("G2") == nil {
		t.Error("elements without attributes are missing")
	}
	g3 := m.Element("G3")
	if g3.HorizontalIndex == nil || *g3.HorizontalIndex != (HorizontalIndex{Index: -2}) {
		t.Errorf("tagged horizontalIndex: %+v", g3.HorizontalIndex)
	}
	if v, ok := g3.Layer("layer"); !ok || v.String() != "null" {
		t.Errorf("null layer %v %v", v, ok)
	}
	if g3.Pos.Line != 8 {
		t.Errorf("CRLF positions: G3 at line %d, want 8", g3.Pos.Line)
	}
	if m := mustParse(t, "empty.yaml", "# nothing here\n"); len(m.Elements) != 0 || m.Name != "empty.yaml" {
		t.Errorf("empty file: %+v", m)
	}
}

// TestParseErrors: one minimal bad file per problem, with its rule, element and line.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src     string
		rule, element string
		line          int
		msg           string
	}{
		{"syntax", "G1:\n  text: [unclosed\n", RuleSyntax, "", 2, "YAML syntax"},
		{"tab indentation", "G1:\n\ttext: x\n", RuleSyntax, "", 2, "YAML syntax"},
		{"invalid UTF-8", "G1:\n  text: \xff\n", RuleSyntax, "", 2, "not UTF-8"},
		{"two documents", "G1: {}\n---\nG2: {}\n", RuleSyntax, "", 3, "second YAML document"},
		{"not a mapping", "- G1\n- G2\n", RuleShape, "", 1, "mapping of element ids"},
		{"element not a mapping", "G1: a goal\n", RuleShape, "G1", 1, "must be a mapping"},
		{"key not a scalar", "G1:\n  [a]: b\n", RuleShape, "G1", 2, "keys must be scalars"},
		{"merge key", "base: &b {text: x}\nG1:\n  <<: *b\n", RuleShape, "G1", 3, "merge keys"},
		{"duplicate element", "G1: {}\nG1: {}\n", RuleDuplicate, "G1", 2, "given twice"},
		{"duplicate attribute", "G1:\n  text: a\n  text: b\n", RuleDuplicate, "G1", 3, "text given twice"},
		{"undeveloped not a boolean", "G1:\n  undeveloped: yes\n", RuleValue, "G1", 2, "want true or false"},
		{"unknown nodeType", "X1:\n  nodeType: Claim\n", RuleValue, "X1", 2, "want one of Goal"},
		{"supportedBy a mapping", "G1:\n  supportedBy: {a: b}\n", RuleValue, "G1", 2, "want an id or a list"},
		{"supportedBy nested list", "G1:\n  supportedBy: [[Sn1]]\n", RuleValue, "G1", 2, "want an id or a list"},
		{"rankIncrement negative", "G1:\n  rankIncrement: -1\n", RuleValue, "G1", 2, "whole number"},
		{"charWrap text", "G1:\n  charWrap: wide\n", RuleValue, "G1", 2, "whole number"},
		{"horizontalIndex unknown kind", "G1:\n  horizontalIndex:\n    sideways: 1\n", RuleValue, "G1", 2, "relative"},
		{"horizontalIndex absolute negative", "G1:\n  horizontalIndex:\n    absolute: -1\n", RuleValue, "G1", 2, "absolute"},
		{"acp a list", "G1:\n  acp: [C1]\n", RuleValue, "G1", 2, "mapping of claim point names"},
		{"acp a boolean", "G1:\n  acp:\n    ACP1: [true, {}]\n", RuleValue, "G1", 2, "claim point ACP1"},
		{"challenges a list", "CG1:\n  challenges: [G1, G2]\n", RuleValue, "CG1", 2, "relation"},
		{"text a list", "G1:\n  text: [a]\n", RuleValue, "G1", 2, "want text"},
		{"header without name", "module:\n  brief: x\nG1: {}\n", RuleValue, "", 1, "no name"},
		{"header not a mapping", "module: Main\nG1: {}\n", RuleShape, "", 1, "module header"},
		{"extends not a list", "module:\n  name: M\n  extends: {module: T}\nG1: {}\n", RuleValue, "", 3, "extends"},
		{"extends unknown key", "module:\n  name: M\n  extends:\n    - module: T\n      develop: {G1: [G2]}\nG2: {}\n", RuleValue, "", 5, "unknown key"},
		{"alias bomb", aliasBomb(), RuleValue, "G1", 0, "too many nodes"},
		{"layer with a key twice", "G1:\n  layer: {a: 1, a: 2}\n", RuleValue, "G1", 2, `has the key "a" twice`},
		{"layer with a list as key", "G1:\n  layer: {[a]: 1}\n", RuleValue, "G1", 2, "not a scalar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.gsn.yaml", []byte(tc.src))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			for _, d := range perr.Diagnostics {
				if d.Rule == tc.rule && d.Element == tc.element && (tc.line == 0 || d.Pos.Line == tc.line) && strings.Contains(d.Message, tc.msg) {
					if d.File != "bad.gsn.yaml" || d.Severity != SeverityError {
						t.Errorf("diagnostic %+v", d)
					}
					return
				}
			}
			t.Errorf("no %s diagnostic for %q at line %d containing %q in:\n%v", tc.rule, tc.element, tc.line, tc.msg, err)
		})
	}
}

// aliasBomb nests aliases so that expanding them would make billions of nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(": &a")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(" [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a")
			b.WriteString(string(rune('0' + i - 1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("G1:\n  layer: *a9\n")
	return b.String()
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse("big.yaml", make([]byte, MaxFileSize+1))
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("bad.gsn.yaml", []byte("module:\n  name: Main\nG1:\n  undeveloped: maybe\n"))
	want := `bad.gsn.yaml:4:3: Error: (Main) P03: element G1: undeveloped: want true or false, got text "maybe"`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n%v\nwant\n%s", err, want)
	}
}
