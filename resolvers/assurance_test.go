package resolvers_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestAssuranceCaseImportExport imports a gsn2x case about a twin's service through GraphQL,
// reads it back, exports it in every format, and refuses bad cases whole with element-level
// problems.
func TestAssuranceCaseImportExport(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin, other := testenv.NewTwin(t, db), testenv.NewTwin(t, db)
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	vars := map[string]any{"t": twin}
	api.MustData(t, token, `mutation($t: String!) { upsertServices(twin: $t, input: [{name: "traffic-signal", criticality: CRITICAL}]) { nodesCreated } }`, vars, nil)
	data, err := os.ReadFile("../analytics/assurancecase/testdata/signals.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const imp = `mutation($t: String!, $files: [CaseFileInput!]!) {
  importAssuranceCase(twin: $t, id: "signals", name: "Traffic signals", files: $files) { id version elements { id type } } }`
	files := []map[string]any{{"name": "signals.gsn.yaml", "content": string(data)}}
	var out struct {
		ImportAssuranceCase struct {
			ID       string
			Version  int
			Elements []struct{ ID, Type string }
		}
	}
	api.MustData(t, token, imp, map[string]any{"t": twin, "files": files}, &out)
	if out.ImportAssuranceCase.Version != 1 || len(out.ImportAssuranceCase.Elements) != 8 {
		t.Fatalf("import: %+v", out)
	}
	var got struct {
		AssuranceCase struct {
			Name     string
			Elements []struct {
				ID, Type string
				About    []string
				Evidence *string
				Defeater *struct {
					Kind, Severity string
					Kev            bool
				}
				Refutes []string
				History []struct{ To string }
			}
			Gsn, JSON, SVG string
		}
	}
	api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "signals") { name
  elements { id type about evidence defeater { kind severity kev } refutes history { to } }
  gsn: export(format: GSN2X) json: export(format: JSON) svg: export(format: SVG) } }`, vars, &got)
	c := got.AssuranceCase
	if c.Name != "Traffic signals" {
		t.Errorf("name %q", c.Name)
	}
	for _, e := range c.Elements {
		switch e.ID {
		case "G1":
			if len(e.About) != 1 || e.About[0] != graph.ID(graph.LabelService, twin, "traffic-signal") {
				t.Errorf("G1 about %v", e.About)
			}
		case "Sn1":
			if e.Evidence == nil || !strings.Contains(*e.Evidence, "no_open_vulns") {
				t.Errorf("Sn1 evidence %v", e.Evidence)
			}
		case "CG1":
			if e.Type != "Defeater" || e.Defeater == nil || e.Defeater.Kind != "rebutting" || !e.Defeater.Kev {
				t.Errorf("CG1 %+v", e)
			}
		case "CG2":
			if len(e.Refutes) != 1 || e.Refutes[0] != "CG1" {
				t.Errorf("CG2 refutes %v", e.Refutes)
			}
		}
	}
	if !strings.Contains(c.Gsn, "G1:") || !strings.Contains(c.Gsn, "sectwinAbout") {
		t.Errorf("gsn2x export:\n%s", c.Gsn)
	}
	if !strings.Contains(c.JSON, `"version":1`) && !strings.Contains(c.JSON, `"version": 1`) {
		t.Errorf("JSON export: %.300s", c.JSON)
	}
	if err := xml.Unmarshal([]byte(c.SVG), new(struct{})); err != nil || !strings.Contains(c.SVG, ">CG1<") || !strings.Contains(c.SVG, "traffic&#45;signal service") {
		t.Errorf("SVG export (%v): %.300s", err, c.SVG)
	}

	// Importing again makes version 2; a bad case is refused whole and names its elements.
	api.MustData(t, token, imp, map[string]any{"t": twin, "files": files}, &out)
	if out.ImportAssuranceCase.Version != 2 {
		t.Errorf("re-import version %d", out.ImportAssuranceCase.Version)
	}
	bad := []struct{ name, yaml, element string }{
		{"a cycle", "G1:\n  text: a\n  supportedBy: [G2]\nG2:\n  text: b\n  supportedBy: [G1]\n", ""},
		{"a dangling reference", "G1:\n  text: a\n  supportedBy: [Sn9]\n", "G1"},
		{"a wrong link type", "G1:\n  text: a\n  supportedBy: [C1]\nC1:\n  text: c\n", "G1"},
		{"a subject the twin lacks", "G1:\n  text: a\n  supportedBy: [Sn1]\n  sectwinAbout: [Service/nope]\nSn1:\n  text: s\n", ""},
		{"a bad evidence layer", "G1:\n  text: a\n  supportedBy: [Sn1]\nSn1:\n  text: s\n  sectwinEvidence: words\n", "Sn1"},
		{"not YAML", "G1: [\n", ""},
		{"an evidence spec without a window", "G1:\n  text: a\n  supportedBy: [Sn1]\nSn1:\n  text: s\n  sectwinEvidence: {kind: scan_fresh, subject: {service: traffic-signal}, scan: [grype]}\n", "Sn1"},
		{"a cypher check that writes", "G1:\n  text: a\n  supportedBy: [Sn1]\nSn1:\n  text: s\n  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: 'MATCH (n {twin: $twin}) DETACH DELETE n'}}\n", "Sn1"},
		{"an unbounded cypher check", "G1:\n  text: a\n  supportedBy: [Sn1]\nSn1:\n  text: s\n  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: 'MATCH p = (a {twin: $twin})-[*]->(b) RETURN p'}}\n", "Sn1"},
		{"a cypher check the database refuses", "G1:\n  text: a\n  supportedBy: [Sn1]\nSn1:\n  text: s\n  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: 'MATCH (n {twin: $twin}) RETURN n.x + '}}\n", "Sn1"},
	}
	for _, b := range bad {
		r := api.Do(t, token, imp, map[string]any{"t": twin, "files": []map[string]any{{"name": "x.gsn.yaml", "content": b.yaml}}})
		if r.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %+v", b.name, r.Errors)
			continue
		}
		detail, _ := json.Marshal(r.Errors)
		if b.element != "" && !strings.Contains(string(detail), `"element":"`+b.element+`"`) {
			t.Errorf("%s: the problems do not name %s: %s", b.name, b.element, detail)
		}
	}
	var after struct{ AssuranceCase struct{ Version int } }
	api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "signals") { version } }`, vars, &after)
	if after.AssuranceCase.Version != 2 {
		t.Errorf("a refused import changed the case: version %d", after.AssuranceCase.Version)
	}

	// Another twin's cases are invisible, and so is a delete there.
	if r := api.Do(t, token, `query($t: String!) { assuranceCases(twin: $t) { id } }`, map[string]any{"t": other}); r.Code() != "NOT_FOUND" {
		t.Errorf("other twin: %+v", r.Errors)
	}
	var del struct{ DeleteAssuranceCase bool }
	api.MustData(t, token, `mutation($t: String!) { deleteAssuranceCase(twin: $t, id: "signals") }`, vars, &del)
	if !del.DeleteAssuranceCase {
		t.Error("delete found nothing")
	}
	var none struct{ AssuranceCases []struct{ ID string } }
	api.MustData(t, token, `query($t: String!) { assuranceCases(twin: $t) { id } }`, vars, &none)
	if len(none.AssuranceCases) != 0 {
		t.Errorf("after delete: %+v", none)
	}
}
