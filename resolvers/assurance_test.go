package resolvers_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestDefeaterTriageAndAttestations drives the signals case through its defeater: an open
// critical KEV defeater undermines the top claim; accepting it as residual risk (with an
// approver and an expiry) lifts that; an attestation supporting the refutation refutes it.
func TestDefeaterTriageAndAttestations(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin, other := testenv.NewTwin(t, db), testenv.NewTwin(t, db)
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	vars := map[string]any{"t": twin}
	api.MustData(t, token, `mutation($t: String!) { upsertServices(twin: $t, input: [{name: "traffic-signal", criticality: HIGH}]) { nodesCreated } }`, vars, nil)
	data, err := os.ReadFile("../analytics/assurancecase/testdata/signals.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api.MustData(t, token, `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "signals", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "signals.gsn.yaml", "content": string(data)}}}, nil)
	type element struct {
		ID, Status, Reasons string
		Defeater            *struct{ State, Approver string }
		History             []struct{ From, To, Cause string }
	}
	elements := func() map[string]element {
		t.Helper()
		var out struct {
			AssuranceCase struct{ Elements []element }
		}
		api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "signals") { elements { id status reasons defeater { state approver } history { from to cause } } } }`, vars, &out)
		m := map[string]element{}
		for _, e := range out.AssuranceCase.Elements {
			m[e.ID] = e
		}
		return m
	}
	// waitFor polls until the element has the status (live evaluation follows change events).
	waitFor := func(id, status string) element {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			e := elements()[id]
			if e.Status == status {
				return e
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s (%s), want %s", id, e.Status, e.Reasons, status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	g1 := waitFor("G1", "UNDERMINED")
	if !strings.Contains(g1.Reasons, "DEFEATER_OPEN") || !strings.Contains(g1.Reasons, "CG1") {
		t.Errorf("G1 undermined for %s", g1.Reasons)
	}
	var prio struct {
		Service struct {
			MonitoringPriority struct {
				Score         int
				Level         string
				WeakestStatus string
				WeakestClaims []struct{ ID string }
			}
		}
	}
	api.MustData(t, token, `query($t: String!) { service(twin: $t, name: "traffic-signal") { monitoringPriority { score level weakestStatus weakestClaims { id } } } }`, vars, &prio)
	if p := prio.Service.MonitoringPriority; p.Score != 12 || p.Level != "CRITICAL" || p.WeakestStatus != "UNDERMINED" || len(p.WeakestClaims) != 1 || p.WeakestClaims[0].ID != "G1" {
		t.Errorf("monitoring priority: %+v", p)
	}

	triage := `mutation($t: String!, $d: ID!, $in: DefeaterTriageInput!) { triageDefeater(twin: $t, case: "signals", defeater: $d, input: $in) { id status defeater { state approver } } }`
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	bad := []struct {
		name string
		d    string
		in   map[string]any
		code string
	}{
		{"not a defeater", "G1", map[string]any{"state": "REFUTED"}, "BAD_USER_INPUT"},
		{"no such defeater", "CG9", map[string]any{"state": "REFUTED"}, "BAD_USER_INPUT"},
		{"residual without an approver", "CG1", map[string]any{"state": "ACCEPTED_RESIDUAL", "rationale": "r", "expires": expires}, "BAD_USER_INPUT"},
		{"residual in the past", "CG1", map[string]any{"state": "ACCEPTED_RESIDUAL", "approver": "a", "rationale": "r", "expires": "2020-01-01T00:00:00Z"}, "BAD_USER_INPUT"},
		{"an unknown state", "CG1", map[string]any{"state": "IGNORED"}, "BAD_USER_INPUT"},
		{"an approver without acceptance", "CG1", map[string]any{"state": "SUSTAINED", "approver": "a"}, "BAD_USER_INPUT"},
		{"a probability out of range", "CG1", map[string]any{"state": "SUSTAINED", "probability": 2}, "BAD_USER_INPUT"},
	}
	for _, b := range bad {
		if r := api.Do(t, token, triage, map[string]any{"t": twin, "d": b.d, "in": b.in}); r.Code() != b.code {
			t.Errorf("%s: %+v", b.name, r.Errors)
		}
	}
	if e := elements()["CG1"]; e.Defeater.State != "OPEN" || len(e.History) != 1 || strings.Contains(e.History[0].Cause, "triage") {
		t.Fatalf("refused triage changed CG1: %+v", e)
	}
	api.MustData(t, token, triage, map[string]any{"t": twin, "d": "CG1", "in": map[string]any{"state": "ACCEPTED_RESIDUAL",
		"approver": "ciso@city.example", "rationale": "compensating WAF rule", "expires": expires, "note": "review in a month"}}, nil)
	g1 = waitFor("G1", "UNKNOWN") // the argument itself still lacks evidence
	if strings.Contains(g1.Reasons, "DEFEATER_OPEN") {
		t.Errorf("an accepted defeater still open: %s", g1.Reasons)
	}
	cg1 := elements()["CG1"]
	decided := slices.ContainsFunc(cg1.History, func(h struct{ From, To, Cause string }) bool {
		return h.From == "OPEN" && h.To == "ACCEPTED_RESIDUAL" && strings.Contains(h.Cause, "review in a month")
	})
	if cg1.Defeater.State != "ACCEPTED_RESIDUAL" || cg1.Defeater.Approver != "ciso@city.example" || !decided || cg1.Status != "SUPPORTED" ||
		!strings.Contains(cg1.Reasons, "RESIDUAL_ACCEPTED") {
		t.Errorf("CG1 after triage: %+v", cg1)
	}

	// Reopen it, then refute it with evidence: an attestation of the VEX review.
	api.MustData(t, token, triage, map[string]any{"t": twin, "d": "CG1", "in": map[string]any{"state": "OPEN"}}, nil)
	waitFor("G1", "UNDERMINED")
	svc := graph.ID(graph.LabelService, twin, "traffic-signal")
	attest := `mutation($t: String!, $in: AttestationInput!) { attest(twin: $t, input: $in) { id subject by verdict expires } }`
	for name, in := range map[string]map[string]any{
		"no such subject":      {"id": "a1", "subject": graph.ID(graph.LabelService, twin, "ghost"), "statement": "s", "topic": "vex-review", "expires": expires},
		"another twin's":       {"id": "a1", "subject": graph.ID(graph.LabelService, other, "traffic-signal"), "statement": "s", "topic": "vex-review", "expires": expires},
		"expired":              {"id": "a1", "subject": svc, "statement": "s", "topic": "vex-review", "expires": "2020-01-01T00:00:00Z"},
		"a verdict of no kind": {"id": "a1", "subject": svc, "statement": "s", "topic": "vex-review", "expires": expires, "verdict": "MAYBE"},
		"a malformed subject":  {"id": "a1", "subject": "!!", "statement": "s", "topic": "vex-review", "expires": expires},
	} {
		if r := api.Do(t, token, attest, map[string]any{"t": twin, "in": in}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("attestation with %s: %+v", name, r.Errors)
		}
	}
	var att struct {
		Attest struct{ ID, Subject, By, Verdict string }
	}
	api.MustData(t, token, attest, map[string]any{"t": twin, "in": map[string]any{"id": "vex-2026-11", "subject": svc,
		"statement": "CVE-2026-31337 does not affect the service", "topic": "vex-review", "expires": expires}}, &att)
	if att.Attest.By != "apitest" || att.Attest.Verdict != "PASS" || att.Attest.Subject != svc {
		t.Errorf("attest: %+v", att)
	}
	waitFor("CSn1", "SUPPORTED")
	g1 = waitFor("G1", "UNKNOWN")
	if strings.Contains(g1.Reasons, "DEFEATER_OPEN") || strings.Contains(g1.Reasons, "DEFEATED") {
		t.Errorf("the refuted defeater still counts: %s", g1.Reasons)
	}
}

// TestEditAssuranceCase edits a stored case element by element: each edit set is validated
// and stored as the next version, or refused whole naming the elements.
func TestEditAssuranceCase(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin := testenv.NewTwin(t, db)
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	vars := map[string]any{"t": twin}
	api.MustData(t, token, `mutation($t: String!) { upsertServices(twin: $t, input: [{name: "traffic-signal"}, {name: "cameras"}]) { nodesCreated } }`, vars, nil)
	data, err := os.ReadFile("../analytics/assurancecase/testdata/signals.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api.MustData(t, token, `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "signals", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "signals.gsn.yaml", "content": string(data)}}}, nil)
	const edit = `mutation($t: String!, $e: [GsnElementEdit!]!) { editAssuranceCase(twin: $t, id: "signals", edits: $e) {
  version elements { id text supportedBy about evidence status } } }`
	bad := []struct {
		name    string
		edits   []map[string]any
		element string
	}{
		{"removing a referenced element", []map[string]any{{"id": "CSn1", "remove": true}}, "CG2"},
		{"a new id without a type prefix", []map[string]any{{"id": "X1", "text": "x"}}, "X1"},
		{"removing what is not there", []map[string]any{{"id": "Sn9", "remove": true}}, "Sn9"},
		{"an evidence spec that is not JSON", []map[string]any{{"id": "Sn2", "evidence": "kind: scan_fresh"}}, "Sn2"},
		{"an invalid evidence spec", []map[string]any{{"id": "Sn2", "evidence": `{"kind": "scan_fresh"}`}}, "Sn2"},
		{"a subject the twin lacks", []map[string]any{{"id": "G1", "about": []string{"Service/nope"}}}, ""},
		{"a link to nothing", []map[string]any{{"id": "S1", "supportedBy": []string{"Sn1", "Sn7"}}}, "S1"},
		{"an unknown module", []map[string]any{{"id": "Sn5", "module": "nope", "text": "x"}}, "Sn5"},
	}
	for _, b := range bad {
		r := api.Do(t, token, edit, map[string]any{"t": twin, "e": b.edits})
		if r.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %+v", b.name, r.Errors)
			continue
		}
		if detail, _ := json.Marshal(r.Errors); b.element != "" && !strings.Contains(string(detail), `"element":"`+b.element+`"`) {
			t.Errorf("%s: the problems do not name %s: %s", b.name, b.element, detail)
		}
	}
	var out struct {
		EditAssuranceCase struct {
			Version  int
			Elements []struct {
				ID, Text    string
				SupportedBy []string
				About       []string
				Evidence    *string
				Status      *string
			}
		}
	}
	api.MustData(t, token, edit, map[string]any{"t": twin, "e": []map[string]any{
		{"id": "Sn4", "text": "No runtime alert about the cameras", "evidence": `{"kind":"no_runtime_alerts","subject":{"service":"cameras"},"window":"1h","alerts":{"field":"event_type","kinds":["alert"]},"heartbeat":{"site":"north","within":"10m"}}`},
		{"id": "S1", "supportedBy": []string{"Sn1", "Sn2", "Sn4"}},
		{"id": "G1", "text": "The signal and camera services have no known exploitable vulnerabilities", "about": []string{"Service/traffic-signal", "Service/cameras"}},
	}}, &out)
	c := out.EditAssuranceCase
	if c.Version != 2 {
		t.Errorf("version %d after one accepted edit and %d refused", c.Version, len(bad))
	}
	byID := map[string]int{}
	for i, e := range c.Elements {
		byID[e.ID] = i
	}
	sn4, ok := byID["Sn4"]
	if !ok || c.Elements[sn4].Evidence == nil || !strings.Contains(*c.Elements[sn4].Evidence, "no_runtime_alerts") || c.Elements[sn4].Status == nil {
		t.Fatalf("Sn4 not added and evaluated: %+v", c.Elements)
	}
	if s1 := c.Elements[byID["S1"]]; !slices.Equal(s1.SupportedBy, []string{"Sn1", "Sn2", "Sn4"}) {
		t.Errorf("S1 supported by %v", s1.SupportedBy)
	}
	if g1 := c.Elements[byID["G1"]]; !strings.HasPrefix(g1.Text, "The signal and camera") || len(g1.About) != 2 {
		t.Errorf("G1 %+v", g1)
	}
	// The edited case exports as gsn2x with the new element in it.
	var exp struct{ AssuranceCase struct{ Export string } }
	api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "signals") { export } }`, vars, &exp)
	if !strings.Contains(exp.AssuranceCase.Export, "Sn4:") || !strings.Contains(exp.AssuranceCase.Export, "no_runtime_alerts") {
		t.Errorf("export after edit:\n%s", exp.AssuranceCase.Export)
	}
}

// TestConcurrentEditsKeepEachOther sends edits of different elements of one case at once:
// each is applied to the newest version (again, when another was stored between its read and
// its save), so every edit is in the final case, and each stored a version of its own.
func TestConcurrentEditsKeepEachOther(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin := testenv.NewTwin(t, db)
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	const editors = 4
	caseYAML := "G1:\n  text: the goal\n  supportedBy: [Sn1, Sn2, Sn3, Sn4]\n"
	for i := 1; i <= editors; i++ {
		caseYAML += fmt.Sprintf("Sn%d:\n  text: solution %d\n", i, i)
	}
	api.MustData(t, token, `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "c", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "c.gsn.yaml", "content": caseYAML}}}, nil)
	var wg sync.WaitGroup
	for i := 1; i <= editors; i++ {
		wg.Go(func() {
			r := api.Do(t, token, `mutation($t: String!, $e: [GsnElementEdit!]!) { editAssuranceCase(twin: $t, id: "c", edits: $e) { version } }`,
				map[string]any{"t": twin, "e": []map[string]any{{"id": fmt.Sprintf("Sn%d", i), "text": fmt.Sprintf("edited by editor %d", i)}}})
			if len(r.Errors) > 0 {
				t.Errorf("editor %d: %+v", i, r.Errors)
			}
		})
	}
	wg.Wait()
	var out struct {
		AssuranceCase struct {
			Version  int
			Elements []struct{ ID, Text string }
		}
	}
	api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "c") { version elements { id text } } }`, map[string]any{"t": twin}, &out)
	if out.AssuranceCase.Version != 1+editors {
		t.Errorf("version %d after %d edits", out.AssuranceCase.Version, editors)
	}
	for _, e := range out.AssuranceCase.Elements {
		if strings.HasPrefix(e.ID, "Sn") && e.Text != "edited by editor "+e.ID[2:] {
			t.Errorf("%s: %q (an edit was lost)", e.ID, e.Text)
		}
	}
}

// TestEvidenceDecidesAnUntriagedDefeater: a defeater may carry evidence that its doubt holds
// (here, a KEV vulnerability in the twin). Untriaged, the evidence sustains or refutes it as the
// twin changes; a person's triage (a false positive refuted) stands until it is reopened.
func TestEvidenceDecidesAnUntriagedDefeater(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin := testenv.NewTwin(t, db)
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	vars := map[string]any{"t": twin}
	api.MustData(t, token, `mutation($t: String!) { upsertServices(twin: $t, input: [{name: "portal"}]) { nodesCreated } }`, vars, nil)
	const caseYAML = `G1:
  text: The portal is not exposed to known exploited vulnerabilities
  supportedBy: [Sn1]
  sectwinAbout: [Service/portal]
Sn1:
  text: The portal is in the twin
  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: "MATCH (s:Service {twin: $twin, name: 'portal'}) RETURN s", expect: some}}
CG1:
  text: A known exploited vulnerability is in the twin
  challenges: G1
  sectwinDefeater: {kind: rebutting, severity: critical, kev: true}
  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: "MATCH (v:Vulnerability {twin: $twin}) WHERE v.kev RETURN v"}}
`
	api.MustData(t, token, `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "kev", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "kev.gsn.yaml", "content": caseYAML}}}, nil)
	statusOf := func(id string) (string, string) {
		var out struct {
			AssuranceCase struct {
				Elements []struct{ ID, Status, Reasons string }
			}
		}
		api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "kev") { elements { id status reasons } } }`, vars, &out)
		for _, e := range out.AssuranceCase.Elements {
			if e.ID == id {
				return e.Status, e.Reasons
			}
		}
		return "", ""
	}
	waitFor := func(status, code string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s, reasons := statusOf("G1")
			if s == status && strings.Contains(reasons, code) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("G1 is %s (%s), want %s with %s", s, reasons, status, code)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	setKEV := func(kev bool) {
		api.MustData(t, token, `mutation($t: String!, $k: Boolean!) { upsertVulnerabilities(twin: $t, input: [{vulnerabilityId: "CVE-2026-1", severity: CRITICAL, kev: $k}]) { nodesCreated } }`,
			map[string]any{"t": twin, "k": kev}, nil)
	}
	triage := func(state string) {
		api.MustData(t, token, `mutation($t: String!, $s: String!) { triageDefeater(twin: $t, case: "kev", defeater: "CG1", input: {state: $s}) { id } }`,
			map[string]any{"t": twin, "s": state}, nil)
	}
	waitFor("SUPPORTED", "")
	setKEV(true)
	waitFor("UNDERMINED", "DEFEATED")
	triage("REFUTED") // a false positive, says the analyst
	waitFor("SUPPORTED", "")
	triage("OPEN") // reopened: the evidence decides again
	waitFor("UNDERMINED", "DEFEATED")
	setKEV(false)
	waitFor("SUPPORTED", "")
}

// TestNewCVEReachesEveryServiceContainingTheComponent: a vulnerability on a component that no
// vulnerability affected before dirties the leaves about every artifact containing it, though
// none of them read that component; the clean scans before it become KNOWLEDGE_STALE.
func TestNewCVEReachesEveryServiceContainingTheComponent(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	twin := testenv.NewTwin(t, db)
	token := api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	vars := map[string]any{"t": twin}
	api.MustData(t, token, `mutation($t: String!) {
  upsertServices(twin: $t, input: [{name: "signals"}, {name: "cameras"}]) { nodesCreated }
  upsertArtifacts(twin: $t, input: [{digest: "sha256:aa", name: "signals"}, {digest: "sha256:bb", name: "cameras"}]) { nodesCreated }
  upsertComponents(twin: $t, input: [{purl: "pkg:npm/minimist@1.2.0", name: "minimist", version: "1.2.0"}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: RUNS, from: {type: SERVICE, key: "signals"}, to: {type: ARTIFACT, key: "sha256:aa"}},
    {type: RUNS, from: {type: SERVICE, key: "cameras"}, to: {type: ARTIFACT, key: "sha256:bb"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:aa"}, to: {type: COMPONENT, key: "pkg:npm/minimist@1.2.0"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:bb"}, to: {type: COMPONENT, key: "pkg:npm/minimist@1.2.0"}}]) { edgesCreated } }`, vars, nil)
	for _, a := range []string{"sha256:aa", "sha256:bb"} {
		if err := db.RecordScanRun(context.Background(), twin, graph.ScanRunRecord{Format: "cyclonedx", Tool: "syft", Artifact: a,
			Source: "cyclonedx:sha256:" + a[7:], Collected: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	const caseYAML = `G1:
  text: Neither service has an open critical vulnerability
  supportedBy: [Sn1, Sn2]
Sn1:
  text: signals
  sectwinEvidence: {kind: no_open_vulns, subject: {service: signals}, window: 7d, scan: [cyclonedx], vulns: {min_severity: CRITICAL}}
Sn2:
  text: cameras
  sectwinEvidence: {kind: no_open_vulns, subject: {service: cameras}, window: 7d, scan: [cyclonedx], vulns: {min_severity: CRITICAL}}
`
	api.MustData(t, token, `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "c", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "c.gsn.yaml", "content": caseYAML}}}, nil)
	status := func() map[string]string {
		var out struct {
			AssuranceCase struct{ Elements []struct{ ID, Status string } }
		}
		api.MustData(t, token, `query($t: String!) { assuranceCase(twin: $t, id: "c") { elements { id status } } }`, vars, &out)
		m := map[string]string{}
		for _, e := range out.AssuranceCase.Elements {
			m[e.ID] = e.Status
		}
		return m
	}
	if s := status(); s["Sn1"] != "SUPPORTED" || s["Sn2"] != "SUPPORTED" {
		t.Fatalf("before the CVE: %v", s)
	}
	api.MustData(t, token, `mutation($t: String!) {
  upsertVulnerabilities(twin: $t, input: [{vulnerabilityId: "CVE-2026-2", severity: CRITICAL}]) { nodesCreated }
  link(twin: $t, edges: [{type: AFFECTS, from: {type: VULNERABILITY, key: "CVE-2026-2"}, to: {type: COMPONENT, key: "pkg:npm/minimist@1.2.0"}}]) { edgesCreated } }`, vars, nil)
	deadline := time.Now().Add(20 * time.Second)
	// The scans predate the twin's knowledge of the CVE: both leaves are KNOWLEDGE_STALE.
	for s := status(); s["Sn1"] != "UNKNOWN" || s["Sn2"] != "UNKNOWN" || s["G1"] != "UNKNOWN"; s = status() {
		if time.Now().After(deadline) {
			t.Fatalf("after the CVE: %v", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
