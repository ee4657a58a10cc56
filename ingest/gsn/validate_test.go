package gsn

import (
	"errors"
	"strings"
	"testing"
)

// TestRules: one minimal case per rule, asserting the rule's code, severity and element, and that
// errors refuse the case while warnings do not.
func TestRules(t *testing.T) {
	type files = map[string]string
	one := func(src string) files { return files{"case.gsn.yaml": src} }
	for _, tc := range []struct {
		rule    string
		name    string
		files   files
		opts    Options
		sev     Severity
		element string
		line    int    // 0: not checked
		msg     string // a part of the message
	}{
		{"V01", "unknown type", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nX1:\n  text: no prefix\n"), Options{}, SeverityError, "X1", 4, "Element X1 is of unknown type"},
		{"V02", "goal neither supported nor undeveloped", one("G1:\n  text: a claim\n"), Options{}, SeverityWarning, "G1", 1, "Element G1 is undeveloped."},
		{"V02", "strategy neither supported nor undeveloped", one("G1:\n  supportedBy: [S1]\nS1: {}\n"), Options{}, SeverityWarning, "S1", 3, "Element S1 is undeveloped."},
		{"V03", "undeveloped with support", one("G1:\n  undeveloped: true\n  supportedBy: [Sn1]\nSn1: {}\n"), Options{}, SeverityError, "G1", 2, "Undeveloped element G1 has supporting arguments."},
		{"V04", "goal supported by a context", one("G1:\n  supportedBy: [C1]\nC1: {}\n"), Options{}, SeverityError, "G1", 2, "invalid type of reference C1 in supported by element"},
		{"V04", "goal in the context of a solution", one("G1:\n  supportedBy: [Sn1]\n  inContextOf: [Sn1]\nSn1: {}\n"), Options{}, SeverityError, "G1", 3, "invalid type of reference Sn1 in context"},
		{"V04", "solution supporting", one("G1:\n  supportedBy: [Sn1]\nSn1:\n  supportedBy: [G2]\nG2:\n  undeveloped: true\n"), Options{}, SeverityError, "Sn1", 4, "Element Sn1 has invalid type of reference G2 in supported by element."},
		{"V04", "context with a context", one("G1:\n  undeveloped: true\n  inContextOf: [C1]\nC1:\n  inContextOf: [C2]\nC2: {}\n"), Options{}, SeverityError, "C1", 5, "invalid type of reference C2 in context"},
		{"V04", "counter goal supported by a goal", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nCG1:\n  challenges: G1\n  supportedBy: [G2]\nG2:\n  undeveloped: true\n"), Options{}, SeverityError, "CG1", 6, "invalid type of reference G2"},
		{"V05", "duplicate reference", one("G1:\n  supportedBy: [Sn1, Sn1]\nSn1: {}\n"), Options{}, SeverityWarning, "G1", 2, "Element G1 has duplicate entry Sn1 in supported by element."},
		{"V06", "self reference", one("G1:\n  supportedBy: [G1]\n"), Options{}, SeverityError, "G1", 2, "Element G1 references itself in supported by element."},
		{"V07", "developing element of the wrong type", files{
			"t.yaml": "module: {name: T}\nG1:\n  undeveloped: true\n",
			"i.yaml": "module:\n  name: I\n  extends:\n    - module: T\n      develops: {G1: [C5]}\nC5: {}\n",
		}, Options{}, SeverityError, "C5", 1, "Element C5 is of wrong type."},
		{"V07", "developing element missing", files{
			"t.yaml": "module: {name: T}\nG1:\n  undeveloped: true\n",
			"i.yaml": "module:\n  name: I\n  extends:\n    - module: T\n      develops: {G1: [G7]}\nSn1: {}\n",
		}, Options{}, SeverityError, "G7", 1, "Element G7 in module I supposed to develop G1 in module T does not exist."},
		{"V08", "nodeType contradicts the prefix", one("G1:\n  supportedBy: [Sn1]\nSn1:\n  nodeType: Goal\n  undeveloped: true\n"), Options{ExtendedCheck: true}, SeverityWarning, "Sn1", 4, "Element Sn1 has type Goal, but ID indicates type Solution"},
		{"V09", "claim point on an unconnected element", one("G1:\n  supportedBy: [Sn1]\n  acp: {ACP1: Sn2}\nSn1: {}\nSn2: {}\n"), Options{}, SeverityError, "G1", 3, "assurance claim point ACP1 that references Sn2"},
		{"V10", "defeated but unchallenged", one("G1:\n  supportedBy: [Sn1]\nSn1:\n  defeated: true\n"), Options{}, SeverityError, "Sn1", 4, "Element Sn1 is marked as defeated, but no other element challenges it."},
		{"V11", "dialectic warning", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nCSn1:\n  challenges: Sn1\n"), Options{WarnDialectic: true}, SeverityWarning, "CSn1", 0, "Dialectic extension is used. See elements: CSn1"},
		{"V12", "a goal challenges", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nG2:\n  challenges: Sn1\n  undeveloped: true\n"), Options{}, SeverityError, "G2", 5, "G2 is not a CounterGoal nor CounterSolution"},
		{"V13", "defeated relation to an unrelated element", one("G1:\n  supportedBy: [Sn1]\n  defeatedRelation: Sn2\nSn1: {}\nSn2: {}\n"), Options{}, SeverityError, "G1", 3, "Relation from G1 to Sn2 is marked as defeated, but G1 has no relation to Sn2."},
		{"C01", "no top-level element", one("G1:\n  supportedBy: [G2]\nG2:\n  supportedBy: [G1]\n"), Options{}, SeverityError, "", 0, "There are no unreferenced elements found."},
		{"C01", "several top-level elements", one("G1:\n  undeveloped: true\nG2:\n  undeveloped: true\n"), Options{}, SeverityWarning, "G1", 0, "There is more than one unreferenced element: G1, G2."},
		{"C02", "top-level element not a goal", one("S1:\n  supportedBy: [Sn1]\nSn1: {}\n"), Options{}, SeverityError, "S1", 1, "The root element should be a goal, but S1 was found."},
		{"C03", "unresolved reference", one("G1:\n  supportedBy: [Sn9]\n"), Options{}, SeverityError, "G1", 2, `Element G1 has unresolved "supported by" element: Sn9`},
		{"C03", "unresolved context", one("G1:\n  undeveloped: true\n  inContextOf: C9\n"), Options{}, SeverityError, "G1", 3, `Element G1 has unresolved "in context of" element: C9`},
		{"C11", "a list written as one string", one("G1:\n  supportedBy: Sn1, Sn2\nSn1: {}\nSn2: {}\n"), Options{}, SeverityWarning, "G1", 2, "may be actually a list: Sn1, Sn2. Try writing [Sn1, Sn2] instead."},
		{"C04", "support cycle", one("G1:\n  supportedBy: [G2]\nG2:\n  supportedBy: [G3]\nG3:\n  supportedBy: [G2]\n"), Options{}, SeverityError, "G3", 6, "Cycle detected at element G3. Cycle is G2 -> G3 -> G2."},
		{"C06", "duplicate module name", files{
			"a.yaml": "module: {name: M}\nG1:\n  supportedBy: [Sn1]\n",
			"b.yaml": "module: {name: M}\nSn1: {}\n",
		}, Options{}, SeverityError, "", 1, "Module M in b.yaml was already present in a.yaml."},
		{"C07", "duplicate id across modules", files{
			"a.yaml": "G1:\n  supportedBy: [Sn1]\nSn1: {}\n",
			"b.yaml": "Sn1: {}\n",
		}, Options{}, SeverityError, "Sn1", 1, "Element Sn1 in b.yaml was already present in a.yaml."},
		{"C08", "unreachable island", one("G1:\n  undeveloped: true\nG2:\n  supportedBy: [G3]\nG3:\n  supportedBy: [G2]\n"), Options{}, SeverityError, "G2", 3, "The following element(s) are not reachable from the root element(s) (G1): G2, G3"},
		{"C09", "extended module missing", files{
			"i.yaml": "module:\n  name: I\n  extends:\n    - module: Nowhere\n      develops: {}\nG1:\n  undeveloped: true\n",
		}, Options{}, SeverityError, "", 4, "Module Nowhere is not found, but is supposed to be extended by module I."},
		{"C10", "extended element missing", files{
			"t.yaml": "module: {name: T}\nG1:\n  undeveloped: true\n",
			"i.yaml": "module:\n  name: I\n  extends:\n    - module: T\n      develops: {G9: [G2]}\nG2:\n  undeveloped: true\n",
		}, Options{}, SeverityError, "G9", 4, "Element G9 does not exist, but is supposed to be extended by G2."},
		{"C10", "extended element in another module", files{
			"t.yaml": "module: {name: T}\nG1:\n  supportedBy: [G3]\n",
			"u.yaml": "module: {name: U}\nG3:\n  undeveloped: true\n",
			"i.yaml": "module:\n  name: I\n  extends:\n    - module: T\n      develops: {G3: [G2]}\nG2:\n  undeveloped: true\n",
		}, Options{}, SeverityError, "G3", 4, "Element G3 does not exist in module T"},
		{"C10", "extended element not undeveloped", files{
			"t.yaml": "module: {name: T}\nG1:\n  supportedBy: [Sn1]\nSn1: {}\n",
			"i.yaml": "module:\n  name: I\n  extends:\n    - module: T\n      develops: {G1: [G2]}\nG2:\n  undeveloped: true\n",
		}, Options{}, SeverityError, "G1", 4, "Element G1 is not undeveloped, but is supposed to be extended by G2."},
		{"C12", "challenged relation with a missing end", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nCG1:\n  challenges: G1 -> Sn9\n  supportedBy: [CSn1]\nCSn1: {}\n"), Options{}, SeverityError, "CG1", 5, "Element CG1 challenges a relation, but element Sn9 of the relation does not exist."},
		{"C13", "challenges itself", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nCG1:\n  challenges: CG1\n  supportedBy: [CSn1]\nCSn1: {}\n"), Options{}, SeverityError, "CG1", 5, "Element CG1 challenges itself."},
		{"C14", "challenged element missing", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nCSn1:\n  challenges: Sn9\n"), Options{}, SeverityError, "CSn1", 5, "Element CSn1 challenges Sn9, but that element does not exist."},
		{"C15", "challenged relation to itself", one("G1:\n  supportedBy: [Sn1]\nSn1: {}\nCSn1:\n  challenges: G1 -> G1\n"), Options{}, SeverityError, "CSn1", 5, "Element CSn1 challenges a relation with both ends pointing to G1."},
		{"C16", "challenged relation that does not exist", one("G1:\n  supportedBy: [Sn1, Sn2]\nSn1: {}\nSn2: {}\nCSn1:\n  challenges: Sn1 -> Sn2\n"), Options{}, SeverityError, "CSn1", 6, "the referenced elements Sn1 and Sn2 do not have a relation"},
		{"", "empty module", files{"a.yaml": "G1:\n  undeveloped: true\n", "b.yaml": "module: {name: B}\n"}, Options{}, SeverityError, "", 1, "The module does not contain elements."},
		{RuleUses, "used file missing", files{"a.yaml": "module:\n  name: A\n  uses: [b.yaml]\nG1:\n  undeveloped: true\n"}, Options{}, SeverityError, "", 1, "module uses b.yaml, which is not among the files given"},
	} {
		t.Run(tc.rule+" "+tc.name, func(t *testing.T) {
			in := map[string][]byte{}
			for n, s := range tc.files {
				in[n] = []byte(s)
			}
			c, err := ParseSetOptions(in, tc.opts)
			var diags []Diagnostic
			// C11 is a hint given with the C03 error it explains.
			if tc.sev == SeverityError || tc.rule == "C11" {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want *Error", err)
				}
				diags = e.Diagnostics
			} else {
				if err != nil {
					t.Fatalf("a warning refused the case: %v", err)
				}
				diags = c.Warnings
			}
			for _, d := range diags {
				if d.Rule == tc.rule && d.Severity == tc.sev && d.Element == tc.element && strings.Contains(d.Message, tc.msg) {
					if tc.line != 0 && d.Pos.Line != tc.line {
						t.Errorf("%s at line %d, want %d", d, d.Pos.Line, tc.line)
					}
					if tc.element != "" && !strings.Contains(d.Message, tc.element) {
						t.Errorf("the message does not name the element: %s", d)
					}
					if tc.element != "" && d.File == "" {
						t.Errorf("no file: %+v", d)
					}
					return
				}
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.Location()+" "+d.String()+" [element "+d.Element+"]")
			}
			t.Errorf("no %s %s for %q containing %q; got:\n%s", tc.sev, tc.rule, tc.element, tc.msg, strings.Join(got, "\n"))
		})
	}
}

// TestValidateModule: the per-file rules on one module alone leave references to other modules to
// the case.
func TestValidateModule(t *testing.T) {
	m := mustParse(t, "sub.yaml", "G3:\n  supportedBy: [Sn1]\n  inContextOf: [J1]\n  acp: {ACP1: [J1, Sn1]}\n")
	if ds := m.Validate(Options{}); len(ds) != 0 {
		t.Errorf("diagnostics for a module referring to others: %v", ds)
	}
	m = mustParse(t, "bad.yaml", "module: {name: Bad}\nC1:\n  supportedBy: [C1]\n")
	var got []string
	for _, d := range m.Validate(Options{}) {
		got = append(got, d.String())
	}
	want := []string{
		"Error: (Bad) V06: Element C1 references itself in supported by element.",
		"Error: (Bad) V04: Element C1 has invalid type of reference C1 in supported by element.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDiagnosticFormat: gsn2x's message format.
func TestDiagnosticFormat(t *testing.T) {
	for _, tc := range []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{Severity: SeverityError, Rule: "V04", Module: "Main", Message: "Element G1 has invalid type of reference C1 in supported by element."},
			"Error: (Main) V04: Element G1 has invalid type of reference C1 in supported by element."},
		{Diagnostic{Severity: SeverityWarning, Rule: "C01", Message: "There is more than one unreferenced element: G1, G2."},
			"Warning: C01: There is more than one unreferenced element: G1, G2."},
		{Diagnostic{Severity: SeverityError, Module: "B", Message: "The module does not contain elements."},
			"Error: (B) The module does not contain elements."},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestModularCase: uses and extends resolve across files, in folders.
func TestModularCase(t *testing.T) {
	c, err := ParseSet(fixtureSet(t, "modular"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	var names []string
	for _, m := range c.Modules {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "Main,Sub,Template,Instance" {
		t.Errorf("module order %v: entry first, then what it uses in order", names)
	}
	if r := c.Roots(); len(r) != 1 || r[0] != "G1" {
		t.Errorf("roots %v", r)
	}
	if got := c.SupportedBy("G10"); len(got) != 1 || got[0] != "G11" || !c.Developed("G10") {
		t.Errorf("G10 supported by %v", got)
	}
	if c.Module("Sub").File != "argument/sub.gsn.yaml" || c.Element("C2").Module != "Sub" {
		t.Error("module lookup")
	}
	if len(c.Elements()) != 8 {
		t.Errorf("%d elements", len(c.Elements()))
	}
	// The used files must be given.
	files := fixtureSet(t, "modular")
	delete(files, "argument/sub.gsn.yaml")
	if _, err := ParseSet(files); err == nil || !strings.Contains(err.Error(), "argument/sub.gsn.yaml") {
		t.Errorf("missing used file: %v", err)
	}
}

// TestNewCaseBuilt validates modules built in code, as the twin does before exporting.
func TestNewCaseBuilt(t *testing.T) {
	m := &Module{File: "built", Name: "built", Elements: []*Element{
		{ID: "root", Type: Goal, SupportedBy: []string{"ev"}},
		{ID: "ev", Type: Solution},
	}}
	c, err := NewCase([]*Module{m}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Element("ev").Type != Solution || len(c.Warnings) != 0 {
		t.Errorf("case %+v", c)
	}
	if _, err := NewCase(nil, Options{}); err == nil || !strings.Contains(err.Error(), "No input elements are found.") {
		t.Errorf("empty case: %v", err)
	}
}

// TestExtensionErrors: a failed extension still gets the checks across modules, as gsn2x counts
// the errors and warnings of a template and a faulty instance.
func TestExtensionErrors(t *testing.T) {
	const template = "module: {name: tpl}\nG0:\n  supportedBy: [G1, G4]\nG1:\n  undeveloped: true\nG4:\n  supportedBy: [Sn42]\nSn42: {}\n"
	instance := func(module, develops string) string {
		return "module:\n  name: inst\n  extends:\n    - module: " + module + "\n      develops: {" + develops + ": [G2]}\nG2:\n  supportedBy: [Sn1]\nSn1: {}\n"
	}
	for _, tc := range []struct {
		name             string
		instance         string
		errors, warnings []string
	}{
		{"valid", instance("tpl", "G1"), nil, nil},
		{"missing module", instance("nowhere", "G1"), []string{"C09", "C10"}, []string{"C01"}},
		{"element of another module", instance("tpl", "G2"), []string{"C10"}, []string{"C01"}},
		{"missing element", instance("tpl", "G3"), []string{"C10"}, []string{"C01"}},
		{"developed element", instance("tpl", "G4"), []string{"C10"}, []string{"C01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseSet(map[string][]byte{"tpl.yaml": []byte(template), "inst.yaml": []byte(tc.instance)})
			var diags []Diagnostic
			var e *Error
			switch {
			case errors.As(err, &e):
				diags = e.Diagnostics
			case err != nil:
				t.Fatal(err)
			default:
				diags = c.Warnings
			}
			var errs, warns []string
			for _, d := range diags {
				if d.Severity == SeverityError {
					errs = append(errs, d.Rule)
				} else {
					warns = append(warns, d.Rule)
				}
			}
			if strings.Join(errs, ",") != strings.Join(tc.errors, ",") || strings.Join(warns, ",") != strings.Join(tc.warnings, ",") {
				t.Errorf("errors %v warnings %v, want %v %v\n%v", errs, warns, tc.errors, tc.warnings, err)
			}
		})
	}
}
