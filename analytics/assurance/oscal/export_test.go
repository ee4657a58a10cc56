package oscal

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json with the current output")

// golden compares got with testdata/name.golden.json, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs from the output at line %d:\n got: %s\nwant: %s\n(run go test -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs from the output in length: %d lines, want %d (run go test -update if the change is intended)", path, len(gl), len(wl))
	}
}

func TestExportGolden(t *testing.T) {
	out := mustExport(t, sampleInput())
	golden(t, "sample", out)

	// A case without coverage, evidence or defeaters: include-all, claim targets only.
	in := sampleInput()
	in.Coverage, in.Evidence, in.Defeaters = nil, nil, nil
	in.Results = slices.DeleteFunc(in.Results, func(r Result) bool { return strings.HasPrefix(r.Element, "D") })
	in.Case.PlanHref, in.Case.ToolVersion = "", ""
	golden(t, "minimal", mustExport(t, in))
}

func TestExportDeterministic(t *testing.T) {
	in := sampleInput()
	want := mustExport(t, in)
	if again := mustExport(t, in); !bytes.Equal(again, want) {
		t.Fatal("exporting the same input twice gave different bytes")
	}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 42))
		got := mustExport(t, shuffled(in, r))
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: shuffled input gave different bytes", seed)
		}
	}
	// The shuffling must reach the output: the input itself was not changed.
	if got := mustExport(t, in); !bytes.Equal(got, want) {
		t.Fatal("shuffling changed the input")
	}
}

func TestExportStructure(t *testing.T) {
	for name, in := range map[string]Input{"sample": sampleInput(), "assurance": assuranceInput(t)} {
		out := mustExport(t, in)
		if problems := validate(out); len(problems) > 0 {
			t.Errorf("%s:\n%s", name, strings.Join(problems, "\n"))
		}
	}
}

// TestValidateCatches checks that validate, which the other tests rely on, does fail.
func TestValidateCatches(t *testing.T) {
	out := mustExport(t, sampleInput())
	type doc = map[string]any
	at := func(d doc, path ...any) any {
		var v any = d
		for _, p := range path {
			switch p := p.(type) {
			case string:
				v = v.(map[string]any)[p]
			case int:
				v = v.([]any)[p]
			}
		}
		return v
	}
	res := func(d doc) map[string]any { return at(d, "assessment-results", "results", 0).(map[string]any) }
	mutations := map[string]func(d doc){
		"no metadata title": func(d doc) { delete(at(d, "assessment-results", "metadata").(map[string]any), "title") },
		"no oscal-version":  func(d doc) { delete(at(d, "assessment-results", "metadata").(map[string]any), "oscal-version") },
		"no import-ap href": func(d doc) { delete(at(d, "assessment-results", "import-ap").(map[string]any), "href") },
		"no result start":   func(d doc) { delete(res(d), "start") },
		"no result description": func(d doc) {
			delete(res(d), "description")
		},
		"dangling observation": func(d doc) {
			f := at(d, "assessment-results", "results", 0, "findings", 0, "related-observations", 0).(map[string]any)
			f["observation-uuid"] = "11111111-1111-5111-8111-111111111111"
		},
		"dangling risk": func(d doc) {
			for _, f := range res(d)["findings"].([]any) {
				if rr, ok := f.(map[string]any)["related-risks"].([]any); ok {
					rr[0].(map[string]any)["risk-uuid"] = "11111111-1111-5111-8111-111111111111"
					return
				}
			}
		},
		"dangling import-ap": func(d doc) {
			at(d, "assessment-results", "import-ap").(map[string]any)["href"] = "#11111111-1111-5111-8111-111111111111"
		},
		"duplicate uuid": func(d doc) {
			fs := res(d)["findings"].([]any)
			fs[1].(map[string]any)["uuid"] = fs[0].(map[string]any)["uuid"]
		},
		"v4 uuid": func(d doc) { res(d)["uuid"] = "9b2c6d1e-3f4a-4b5c-8d6e-7f8091a2b3c4" },
		"local time": func(d doc) {
			res(d)["end"] = "2026-03-01T13:00:00+01:00"
		},
		"empty methods": func(d doc) {
			at(d, "assessment-results", "results", 0, "observations", 0).(map[string]any)["methods"] = []any{}
		},
		"partial state": func(d doc) {
			at(d, "assessment-results", "results", 0, "findings", 0, "target", "status").(map[string]any)["state"] = "partially-satisfied"
		},
		"multi-line prop": func(d doc) {
			at(d, "assessment-results", "results", 0, "findings", 0, "props", 0).(map[string]any)["value"] = "a\nb"
		},
		"no risk statement": func(d doc) {
			delete(at(d, "assessment-results", "results", 0, "risks", 0).(map[string]any), "statement")
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			var d doc
			if err := json.Unmarshal(out, &d); err != nil {
				t.Fatal(err)
			}
			mutate(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if problems := validate(b); len(problems) == 0 {
				t.Error("validate found no problem")
			}
		})
	}
}

// decoded is the part of an exported document the behaviour tests look at.
type decoded struct {
	AssessmentResults struct {
		Metadata struct {
			Parties []party `json:"parties"`
		} `json:"metadata"`
		ImportAP importAP `json:"import-ap"`
		Results  []struct {
			Start            string           `json:"start"`
			End              string           `json:"end"`
			ReviewedControls reviewedControls `json:"reviewed-controls"`
			Observations     []observation    `json:"observations"`
			Risks            []risk           `json:"risks"`
			Findings         []finding        `json:"findings"`
		} `json:"results"`
		BackMatter backMatter `json:"back-matter"`
	} `json:"assessment-results"`
}

func decode(t *testing.T, b []byte) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.AssessmentResults.Results) != 1 {
		t.Fatalf("%d results, want 1", len(d.AssessmentResults.Results))
	}
	return d
}

func prop(props []property, name string) []string {
	var vs []string
	for _, p := range props {
		if p.Name == name && p.NS == NS {
			vs = append(vs, p.Value)
		}
	}
	return vs
}

func TestExportMapping(t *testing.T) {
	in := sampleInput()
	d := decode(t, mustExport(t, in))
	r := d.AssessmentResults.Results[0]

	// Findings: one per claim and covered control, or one per claim without coverage.
	type key struct{ claim, target string }
	got := map[key]finding{}
	for _, f := range r.Findings {
		got[key{prop(f.Props, "claim-id")[0], f.Target.TargetID}] = f
	}
	want := map[key]string{ // → sectwin status
		{"G1", "claim-G1"}: "UNDERMINED",
		{"G2", "ra-5"}:     "SUPPORTED", {"G2", "si-2"}: "SUPPORTED",
		{"G3", "si-4"}:  "UNDERMINED",
		{"G4", "ca-8"}:  "UNKNOWN",
		{"G5", "si-12"}: "UNDEVELOPED",
		{"G6", "ra-5"}:  "SUPPORTED", {"G6", "sr-3"}: "SUPPORTED",
	}
	if len(got) != len(want) || len(r.Findings) != len(want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	riskStatus := map[string]string{}
	for _, rk := range r.Risks {
		riskStatus[rk.UUID] = rk.Status
	}
	for k, status := range want {
		f, ok := got[k]
		if !ok {
			t.Errorf("no finding for claim %s and target %s", k.claim, k.target)
			continue
		}
		if s := prop(f.Props, "status"); len(s) != 1 || s[0] != status {
			t.Errorf("%v: status props %v, want %s", k, s, status)
		}
		wantState, wantReason := "not-satisfied", map[string]string{"UNDERMINED": "fail", "UNKNOWN": "other", "UNDEVELOPED": "other"}[status]
		if status == "SUPPORTED" {
			wantState, wantReason = "satisfied", "pass"
		}
		if f.Target.Status.State != wantState || f.Target.Status.Reason != wantReason {
			t.Errorf("%v: target status %+v, want %s/%s", k, f.Target.Status, wantState, wantReason)
		}
		// An undermined claim relates its open risk.
		var open int
		for _, rr := range f.RelatedRisks {
			if riskStatus[rr.RiskUUID] == "open" {
				open++
			}
		}
		if wantOpen := map[bool]int{true: 1}[status == "UNDERMINED"]; k.claim != "G1" && open != wantOpen {
			t.Errorf("%v: %d open risks related, want %d", k, open, wantOpen)
		}
	}

	// G1 rests on everything, so it relates every observation, the risk of its own, the
	// residual risk of D1 (on G2) and the expired one of D3 (on S1).
	g1 := got[key{"G1", "claim-G1"}]
	if len(g1.RelatedObservations) != len(in.Evidence) {
		t.Errorf("G1 relates %d observations, want %d", len(g1.RelatedObservations), len(in.Evidence))
	}
	if len(g1.RelatedRisks) != 3 {
		t.Errorf("G1 relates %d risks, want 3", len(g1.RelatedRisks))
	}
	if g := got[key{"G3", "si-4"}]; len(g.RelatedObservations) != 2 {
		t.Errorf("G3 relates %d observations, want 2 (ev-alert-7, ev-hb-1)", len(g.RelatedObservations))
	}
	g2 := got[key{"G2", "ra-5"}]
	if len(g2.RelatedRisks) != 1 || riskStatus[g2.RelatedRisks[0].RiskUUID] != "deviation-approved" {
		t.Errorf("G2 related risks %v, want D1's deviation-approved risk", g2.RelatedRisks)
	}

	// Risks: G1 and G3 open; D1 deviation-approved with a log entry; D3 open (expired).
	var statuses []string
	for _, rk := range r.Risks {
		statuses = append(statuses, rk.Title+": "+rk.Status)
	}
	wantRisks := []string{
		"Claim G1 is undermined: open",
		"Claim G3 is undermined: open",
		"Accepted residual risk: defeater D1: deviation-approved",
		"Accepted residual risk: defeater D3: open",
	}
	if !slices.Equal(statuses, wantRisks) {
		t.Errorf("risks %q, want %q", statuses, wantRisks)
	}
	d1 := r.Risks[2]
	if d1.Deadline != "2026-06-01T00:00:00Z" || d1.RiskLog == nil || d1.RiskLog.Entries[0].StatusChange != "deviation-approved" ||
		d1.RiskLog.Entries[0].Start != "2026-02-15T10:00:00Z" {
		t.Errorf("D1 risk: deadline %s, log %+v", d1.Deadline, d1.RiskLog)
	}
	if r.Risks[3].RiskLog != nil {
		t.Error("D3 has a risk log without an approval time")
	}
	if n := len(d.AssessmentResults.Metadata.Parties); n != 2 {
		t.Errorf("%d parties, want 2 (alice, carol)", n)
	}

	// Observations: methods, types and hashes.
	byID := map[string]observation{}
	for _, o := range r.Observations {
		byID[prop(o.Props, "evidence-id")[0]] = o
	}
	wantObs := map[string]string{
		"ev-scan-1": "TEST control-objective", "ev-sast-1": "TEST control-objective",
		"ev-alert-7": "TEST control-objective finding", "ev-hb-1": "TEST control-objective",
		"ev-pentest-2025": "TEST control-objective historic", "ev-vex-1": "EXAMINE control-objective",
		"ev-att-1": "EXAMINE control-objective", "ev-test-1": "TEST control-objective",
	}
	for id, w := range wantObs {
		o := byID[id]
		if g := strings.Join(append(slices.Clone(o.Methods), o.Types...), " "); g != w {
			t.Errorf("%s: %q, want %q", id, g, w)
		}
	}
	if o := byID["ev-pentest-2025"]; o.Collected != "2025-02-01T08:30:00Z" || o.Expires != "2026-02-01T08:30:00Z" {
		t.Errorf("pen-test times %s – %s, want UTC", o.Collected, o.Expires)
	}
	if s := prop(byID["ev-sast-1"].Props, "sha256"); len(s) != 1 {
		t.Errorf("ev-sast-1 (digest, no href) sha256 props %v", s)
	}
	hashes := map[string]string{}
	for _, rs := range d.AssessmentResults.BackMatter.Resources {
		for _, l := range rs.Rlinks {
			for _, h := range l.Hashes {
				hashes[l.Href] = h.Algorithm + ":" + h.Value
			}
		}
	}
	if h := hashes["https://evidence.example/prod/ev-scan-1.json"]; h != "SHA-256:59ad1b2fc74287ded1bba7af67765d23ad4a49f1ae51902cc2ed3f8ebee96cfa" {
		t.Errorf("scan hash %q", h)
	}
	if len(hashes) != 2 {
		t.Errorf("%d hashed resources, want 2", len(hashes))
	}
	if o := byID["ev-alert-7"]; len(o.RelevantEvidence) != 1 || !strings.HasPrefix(o.RelevantEvidence[0].Href, "#") {
		t.Errorf("ev-alert-7 relevant evidence %+v, want a back-matter reference", o.RelevantEvidence)
	}

	// The result spans the evidence collection up to the export.
	if r.Start != "2025-02-01T08:30:00Z" || r.End != "2026-03-01T12:00:00Z" {
		t.Errorf("result %s – %s", r.Start, r.End)
	}
	var controls []string
	for _, s := range r.ReviewedControls.ControlSelections {
		for _, c := range s.IncludeControls {
			controls = append(controls, c.ControlID)
		}
	}
	if w := []string{"ca-8", "ra-5", "si-12", "si-2", "si-4", "sr-3"}; !slices.Equal(controls, w) {
		t.Errorf("reviewed controls %v, want %v", controls, w)
	}
}

// TestExportStableUUIDs checks that uuids depend on their subjects only: a later export of a
// changed case keeps the uuids of what did not change.
func TestExportStableUUIDs(t *testing.T) {
	in := sampleInput()
	a := decode(t, mustExport(t, in))
	in.Case.Generated = in.Case.Generated.Add(time.Hour)
	in.Case.Version = "8"
	for i := range in.Results {
		if in.Results[i].Element == "G4" {
			in.Results[i].Status, in.Results[i].Reasons = assurance.Supported, nil
		}
	}
	b := decode(t, mustExport(t, in))
	fa, fb := a.AssessmentResults.Results[0].Findings, b.AssessmentResults.Results[0].Findings
	if len(fa) != len(fb) {
		t.Fatalf("%d findings, then %d", len(fa), len(fb))
	}
	for i := range fa {
		if fa[i].UUID != fb[i].UUID {
			t.Errorf("finding %s changed uuid", fa[i].Title)
		}
	}
	if a.AssessmentResults.ImportAP != b.AssessmentResults.ImportAP {
		t.Error("the plan reference changed")
	}
}

func TestExportInvalid(t *testing.T) {
	cases := map[string]struct {
		edit func(in *Input)
		want string
	}{
		"no twin":            {func(in *Input) { in.Case.Twin = "" }, "twin"},
		"no version":         {func(in *Input) { in.Case.Version = " " }, "version is empty"},
		"no generated time":  {func(in *Input) { in.Case.Generated = time.Time{} }, "generated time is zero"},
		"start after export": {func(in *Input) { in.Case.Start = gen.Add(time.Second) }, "is after generated"},
		"duplicate element":  {func(in *Input) { in.Elements = append(in.Elements, in.Elements[0]) }, "element G1: duplicate id"},
		"element kind":       {func(in *Input) { in.Elements[0].Kind = assurance.KindDefeater }, "invalid kind"},
		"dangling support":   {func(in *Input) { in.Elements[0].SupportedBy = []string{"S9"} }, `supported by unknown element "S9"`},
		"claim without result": {func(in *Input) {
			in.Results = slices.DeleteFunc(in.Results, func(r Result) bool { return r.Element == "G4" })
		}, "claim G4: no result"},
		"result of nothing":  {func(in *Input) { in.Results = append(in.Results, Result{Element: "X", Status: assurance.Supported}) }, `unknown element "X"`},
		"zero status":        {func(in *Input) { in.Results[0].Status = 0 }, "invalid status"},
		"bad code":           {func(in *Input) { in.Results[0].Reasons[0].Code = 200 }, "invalid reason code"},
		"bad confidence":     {func(in *Input) { in.Results[0].Confidence = 1.5 }, "confidence"},
		"evidence id":        {func(in *Input) { in.Evidence[0].ID = "ev\n1" }, "evidence"},
		"evidence collected": {func(in *Input) { in.Evidence[0].Collected = time.Time{} }, "collected time is zero"},
		"evidence verdict":   {func(in *Input) { in.Evidence[0].Verdict = "OK" }, "invalid verdict"},
		"evidence solution":  {func(in *Input) { in.Evidence[0].Solution = "G1" }, "is not a Solution"},
		"evidence digest":    {func(in *Input) { in.Evidence[0].Digest = "md5:abc" }, "is not a SHA-256"},
		"evidence expiry":    {func(in *Input) { in.Evidence[0].Expires = in.Evidence[0].Collected.Add(-1) }, "before collected"},
		"defeater target":    {func(in *Input) { in.Defeaters[0].Challenges = []string{"G9"} }, `challenges unknown element "G9"`},
		"acceptance":         {func(in *Input) { in.Defeaters[0].Acceptance.Approver = "" }, "without approver"},
		"defeater clash":     {func(in *Input) { in.Defeaters[0].ID = "G1" }, "defeater G1: duplicate id"},
		"coverage claim":     {func(in *Input) { in.Coverage["Sn1"] = []string{"ac-2"} }, `"Sn1" is not a claim`},
		"control token":      {func(in *Input) { in.Coverage["G2"] = []string{"AC-2(1)"} }, `control id "AC-2(1)" is not an OSCAL token`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := sampleInput()
			c.edit(&in)
			_, err := Export(in)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want ErrInvalidInput mentioning %q", err, c.want)
			}
		})
	}
	// Every problem is listed, not only the first.
	in := sampleInput()
	in.Case.Twin, in.Evidence[0].Verdict = "", "OK"
	if _, err := Export(in); err == nil || !strings.Contains(err.Error(), "twin") || !strings.Contains(err.Error(), "verdict") {
		t.Fatalf("error %v, want both problems", err)
	}
}

func TestUUIDv5(t *testing.T) {
	// RFC 9562, appendix A.4: the DNS namespace and "www.example.com".
	dns := uuidBytes("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	if got := uuidV5(dns, "www.example.com"); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("uuidV5 = %s, want RFC 9562's 2ed6657d-e927-568b-95e1-2665a8aea6a2", got)
	}
	if got := uuidV5(uuidBytes(namespaceURL), "https://sectwin.dev/ns/oscal"); got != Namespace {
		t.Errorf("Namespace = %s, want %s", Namespace, got)
	}
	// Part lists are encoded unambiguously.
	if newUUID("finding", "a/b", "c") == newUUID("finding", "a", "b/c") || newUUID("x", "ab") == newUUID("x", "a", "b") {
		t.Error("different part lists give the same uuid")
	}
}

func TestClaimToken(t *testing.T) {
	seen := map[string]string{}
	for _, id := range []string{"G1", "G_1", "G 1", "G%1", "g-1.a", "1234-uuid", "Gé", "G_20", "G 20"} {
		tok := claimToken(id)
		if !isToken(tok) || !tokenRE.MatchString(tok) {
			t.Errorf("claimToken(%q) = %q is not a token", id, tok)
		}
		if other, dup := seen[tok]; dup {
			t.Errorf("claimToken(%q) = claimToken(%q) = %q", id, other, tok)
		}
		seen[tok] = id
	}
	for s, want := range map[string]bool{"ac-2": true, "ra-5.2": true, "_x": true, "2fa": false, "AC-2(1)": false, "": false, "a b": false} {
		if isToken(s) != want {
			t.Errorf("isToken(%q) = %v", s, !want)
		}
	}
}
