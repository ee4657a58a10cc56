package oscal

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// gen is when the sample case is exported.
var gen = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Global ids of the sample twin's elements (graph.ID of label, twin "prod" and key).
const (
	gidService    = "U2VydmljZR9wcm9kH3BheW1lbnQtc3Zj"            // Service payment-svc
	gidDeployment = "RGVwbG95bWVudB9wcm9kH3BheW1lbnQtc3ZjLXByb2Q" // Deployment payment-svc-prod
	gidComponent  = "Q29tcG9uZW50H3Byb2QfcGF5bWVudC1zdmM"         // Component payment-svc
)

// reason is a reason as the status engine writes it.
func reason(code assurance.Code, culprits ...string) assurance.Reason {
	phrase := map[assurance.Code]string{
		assurance.EvidenceFail:     "evidence verdict is FAIL",
		assurance.EvidenceStale:    "evidence is past its expiry or window",
		assurance.EvidenceDegraded: "evidence verdict is DEGRADED",
		assurance.NotDeveloped:     "argument is not developed",
		assurance.DefeaterOpen:     "defeater is untriaged or undecided",
		assurance.ResidualAccepted: "defeater is accepted as residual risk",
	}[code]
	return assurance.Reason{Code: code, Message: phrase + ": " + strings.Join(culprits, ", "), Culprits: culprits}
}

// sampleInput is a small case with every status, one evidence item of each kind, an undermined
// claim with a risk, an accepted residual defeater and an expired acceptance.
func sampleInput() Input {
	svc := Subject{ID: gidService, Label: "Service", Title: "payment-svc"}
	dep := Subject{ID: gidDeployment, Label: "Deployment", Title: "payment-svc-prod"}
	cmpnt := Subject{ID: gidComponent, Label: "Component"} // no title: the global id stands in
	sol := func(id, text string) Element {
		return Element{ID: id, Kind: assurance.KindSolution, Module: "payments", Text: text}
	}
	goal := func(id, text string, about []Subject, support ...string) Element {
		return Element{ID: id, Kind: assurance.KindGoal, Module: "payments", Text: text, About: about, SupportedBy: support}
	}
	res := func(id string, s assurance.Status, conf float64, rs ...assurance.Reason) Result {
		return Result{Element: id, Status: s, Confidence: conf, StatusAt: gen, Reasons: rs}
	}
	alert := reason(assurance.EvidenceFail, "Sn3", "ev-alert-7")
	return Input{
		Case: Case{Twin: "prod", ID: "payments", Name: "Payment service assurance", Version: "7", Generated: gen,
			ToolVersion: "0.9.0", PlanHref: "https://sectwin.example/twins/prod/cases/payments/assessment-plan.json"},
		Elements: []Element{
			goal("G1", "payment-svc keeps cardholder data confidential in operation.", []Subject{svc}, "S1"),
			{ID: "C1", Kind: assurance.KindContext, Module: "payments", Text: "payment-svc is not internet-exposed."},
			{ID: "S1", Kind: assurance.KindStrategy, Module: "payments", Text: "Argue over each threat to payment-svc.",
				SupportedBy: []string{"G2", "G3", "G4", "G5", "G6"}},
			goal("G2", "No known exploitable vulnerability in the deployed payment-svc image.", []Subject{dep, svc}, "Sn1", "Sn2"),
			goal("G3", "No attack on payment-svc is under way.", []Subject{svc}, "Sn3", "Sn4"),
			goal("G4", "payment-svc was penetration-tested within the last year.", nil, "Sn5"),
			goal("G5", "Cardholder data is deleted after its retention period.", nil),
			goal("G6", "Third-party dependencies are triaged\nand reviewed.", []Subject{cmpnt}, "Sn6", "Sn7", "Sn8"),
			sol("Sn1", "Container image scan"),
			sol("Sn2", "Static analysis"),
			sol("Sn3", "Runtime alerts"),
			sol("Sn4", "Runtime monitor heartbeat"),
			sol("Sn5", "Annual penetration test"),
			sol("Sn6", "VEX statements"),
			sol("Sn7", "Dependency review attestation"),
			sol("Sn8", "Dependency pinning tests"),
		},
		Results: []Result{
			res("G1", assurance.Undermined, 0, alert),
			res("C1", assurance.Supported, 1),
			res("S1", assurance.Undermined, 0, alert),
			res("G2", assurance.Supported, 0.81, reason(assurance.ResidualAccepted, "D1")),
			res("G3", assurance.Undermined, 0, alert),
			res("G4", assurance.Unknown, 0, reason(assurance.EvidenceStale, "Sn5")),
			res("G5", assurance.Undeveloped, 0, reason(assurance.NotDeveloped, "G5")),
			{Element: "G6", Status: assurance.Supported, Confidence: 0.7, StatusAt: gen, NextReevalAt: gen.Add(3 * time.Minute),
				Reasons: []assurance.Reason{reason(assurance.EvidenceDegraded, "Sn8")}},
			res("Sn1", assurance.Supported, 0.9),
			res("Sn2", assurance.Supported, 0.95),
			res("Sn3", assurance.Undermined, 0, alert),
			res("Sn4", assurance.Supported, 1),
			res("Sn5", assurance.Unknown, 0, reason(assurance.EvidenceStale, "Sn5")),
			res("Sn6", assurance.Supported, 0.9),
			res("Sn7", assurance.Supported, 0.8),
			res("Sn8", assurance.Supported, 0.7, reason(assurance.EvidenceDegraded, "Sn8")),
			{Element: "D1", Status: assurance.Supported, Confidence: 0.9, StatusAt: gen, Label: assurance.Out, Residual: true},
			{Element: "D2", Status: assurance.Supported, Confidence: 1, StatusAt: gen, Label: assurance.Out},
			{Element: "D3", Status: assurance.Unknown, Confidence: 0.5, StatusAt: gen, Label: assurance.In,
				Reasons: []assurance.Reason{reason(assurance.DefeaterOpen, "D3")}},
		},
		Evidence: []Evidence{
			{ID: "ev-scan-1", Kind: EvidenceVulnScan, Title: "Image scan", Solution: "Sn1", Subject: dep,
				SubjectDigest: "sha256:6105d6cc76af400325e94d588ce511be5bfdbb73b437dc51eca43917d7a43e3d",
				Collected:     gen.Add(-48 * time.Hour), Expires: gen.Add(5 * 24 * time.Hour), Verdict: VerdictPass, Collector: "grype 0.80",
				Href: "https://evidence.example/prod/ev-scan-1.json", Digest: "sha256:59AD1B2FC74287DED1BBA7AF67765D23AD4A49F1AE51902CC2ED3F8EBEE96CFA"},
			{ID: "ev-sast-1", Kind: EvidenceSAST, Solution: "Sn2", Subject: cmpnt, Collected: gen.Add(-72 * time.Hour),
				Expires: gen.Add(4 * 24 * time.Hour), Verdict: VerdictPass, Collector: "semgrep",
				Digest: "3d7a633113667effb8048d14ac399b71fccffe3fb0ce2d3079e843767517a03d"},
			{ID: "ev-alert-7", Kind: EvidenceRuntimeAlert, Title: "Outbound connection to a known C2 address", Solution: "Sn3",
				Subject: svc, Collected: gen.Add(-time.Hour), Verdict: VerdictFail, Collector: "falco",
				Href: "https://evidence.example/prod/ev-alert-7.json"},
			{ID: "ev-hb-1", Kind: EvidenceHeartbeat, Solution: "Sn4", Subject: svc, Collected: gen.Add(-2 * time.Minute),
				Expires: gen.Add(3 * time.Minute), Verdict: VerdictPass, Collector: "falco"},
			{ID: "ev-pentest-2025", Kind: EvidencePenTest, Title: "Annual penetration test 2025", Solution: "Sn5", Subject: svc,
				Collected: time.Date(2025, 2, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600)), Expires: time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC),
				Verdict: VerdictPass, Collector: "Example Security Ltd", Href: "https://evidence.example/prod/pentest-2025.pdf",
				Digest: "01ba02d06a6a2c7997f53541352c08af02b64272267df3ce1b7c175816041c25"},
			{ID: "ev-vex-1", Kind: EvidenceVEX, Title: "libfoo CVE-2025-0001 not_affected", Solution: "Sn6", Subject: cmpnt,
				Collected: gen.Add(-10 * 24 * time.Hour), Verdict: VerdictPass, Collector: "openvex"},
			{ID: "ev-att-1", Kind: EvidenceAttestation, Title: "Quarterly dependency review", Solution: "Sn7", Subject: cmpnt,
				Collected: gen.Add(-20 * 24 * time.Hour), Expires: gen.Add(70 * 24 * time.Hour), Verdict: VerdictPass,
				Collector: "bob@example.com"},
			{ID: "ev-test-1", Kind: EvidenceTest, Title: "Dependency pinning tests", Solution: "Sn8", Subject: cmpnt,
				Collected: gen.Add(-6 * time.Hour), Expires: gen.Add(6 * 24 * time.Hour), Verdict: VerdictDegraded, Collector: "ci"},
		},
		Defeaters: []Defeater{
			{ID: "D1", Module: "payments", Kind: assurance.Rebutting, Text: "CVE-2026-1234 in libfoo 1.2 affects the payment-svc image.",
				Source: "CVE-2026-1234", Challenges: []string{"G2"}, State: assurance.AcceptedResidual,
				Severity: assurance.Severity{Level: assurance.LevelHigh}, Probability: 0.3,
				Acceptance: Acceptance{Approver: "alice@example.com", Rationale: "Not reachable: the vulnerable parser is disabled by configuration; the fix ships in 2026-Q2.",
					Expires: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ApprovedAt: time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)}},
			{ID: "D2", Module: "payments", Kind: assurance.Undermining, Text: "The image scanner's vulnerability database may be outdated.",
				Challenges: []string{"Sn1"}, State: assurance.Refuted, Severity: assurance.Severity{Level: assurance.LevelMedium}},
			{ID: "D3", Module: "payments", Kind: assurance.Undercutting, Text: "The threat list may be incomplete.",
				Challenges: []string{"S1"}, State: assurance.AcceptedResidual, Severity: assurance.Severity{Level: assurance.LevelLow, KEV: false},
				Acceptance: Acceptance{Approver: "carol@example.com", Rationale: "Threat model review pending.", Expires: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}},
		},
		Coverage: map[string][]string{
			"G2": {"si-2", "ra-5", "si-2"},
			"G3": {"si-4"},
			"G4": {"ca-8"},
			"G5": {"si-12"},
			"G6": {"sr-3", "ra-5"},
		},
	}
}

// shuffled returns a deep copy of in with every slice shuffled.
func shuffled(in Input, r *rand.Rand) Input {
	sh := func(n int, swap func(i, j int)) { r.Shuffle(n, swap) }
	out := in
	out.Elements = slices.Clone(in.Elements)
	for i := range out.Elements {
		e := &out.Elements[i]
		e.About, e.SupportedBy = slices.Clone(e.About), slices.Clone(e.SupportedBy)
		sh(len(e.About), func(i, j int) { e.About[i], e.About[j] = e.About[j], e.About[i] })
		sh(len(e.SupportedBy), func(i, j int) { e.SupportedBy[i], e.SupportedBy[j] = e.SupportedBy[j], e.SupportedBy[i] })
	}
	sh(len(out.Elements), func(i, j int) { out.Elements[i], out.Elements[j] = out.Elements[j], out.Elements[i] })
	out.Results = slices.Clone(in.Results)
	for i := range out.Results {
		rs := slices.Clone(out.Results[i].Reasons)
		for k := range rs {
			rs[k].Culprits = slices.Clone(rs[k].Culprits)
			c := rs[k].Culprits
			sh(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		}
		sh(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		out.Results[i].Reasons = rs
	}
	sh(len(out.Results), func(i, j int) { out.Results[i], out.Results[j] = out.Results[j], out.Results[i] })
	out.Evidence = slices.Clone(in.Evidence)
	sh(len(out.Evidence), func(i, j int) { out.Evidence[i], out.Evidence[j] = out.Evidence[j], out.Evidence[i] })
	out.Defeaters = slices.Clone(in.Defeaters)
	for i := range out.Defeaters {
		c := slices.Clone(out.Defeaters[i].Challenges)
		sh(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		out.Defeaters[i].Challenges = c
	}
	sh(len(out.Defeaters), func(i, j int) { out.Defeaters[i], out.Defeaters[j] = out.Defeaters[j], out.Defeaters[i] })
	out.Coverage = map[string][]string{}
	for k, v := range in.Coverage {
		v = slices.Clone(v)
		sh(len(v), func(i, j int) { v[i], v[j] = v[j], v[i] })
		out.Coverage[k] = v
	}
	return out
}

var (
	uuidV5RE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tokenRE   = regexp.MustCompile(`^[_A-Za-z][_A-Za-z0-9.\-]*$`)
	propValRE = regexp.MustCompile(`^\S(.*\S)?$`)
)

// refKeys are the keys whose values refer to a uuid defined in the same document.
var refKeys = map[string]bool{
	"observation-uuid": true, "risk-uuid": true, "subject-uuid": true, "component-uuid": true,
	"actor-uuid": true, "party-uuid": true,
}

// timeKeys are the keys whose values are OSCAL date-times.
var timeKeys = map[string]bool{
	"last-modified": true, "published": true, "start": true, "end": true, "collected": true,
	"expires": true, "deadline": true,
}

// validate checks an exported document structurally, as far as this package's output goes,
// without trusting its types: every uuid a valid, unique UUIDv5; every reference (uuid
// references and "#uuid" hrefs) resolved; the fields OSCAL requires present; no empty array
// (OSCAL arrays have at least one item) or string; single-line titles and prop values;
// RFC 3339 UTC times; values of closed vocabularies in range. It returns every problem found.
func validate(raw []byte) []string {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []string{"not JSON: " + err.Error()}
	}

	uuids := map[string]string{} // uuid → path
	type ref struct{ path, uuid string }
	var refs, hrefs []ref
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				p := path + "." + k
				s, isString := c.(string)
				switch {
				case k == "uuid":
					if !isString || !uuidV5RE.MatchString(s) {
						bad("%s: %v is not a UUIDv5", p, c)
					} else if old, dup := uuids[s]; dup {
						bad("%s: uuid %s already used at %s", p, s, old)
					} else {
						uuids[s] = p
					}
				case refKeys[k]:
					refs = append(refs, ref{p, s})
				case k == "href" && strings.HasPrefix(s, "#"):
					hrefs = append(hrefs, ref{p, s[1:]})
				case timeKeys[k]:
					t, err := time.Parse(time.RFC3339Nano, s)
					if err != nil || !strings.HasSuffix(s, "Z") || t.Format(time.RFC3339Nano) != s {
						bad("%s: %q is not an RFC 3339 UTC time", p, s)
					}
				case k == "title" && strings.Contains(s, "\n"):
					bad("%s: title %q has a newline", p, s)
				}
				walk(p, c)
			}
		case []any:
			if len(v) == 0 {
				bad("%s: empty array", path)
			}
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		case string:
			if v == "" {
				bad("%s: empty string", path)
			}
		}
	}
	walk("", doc)
	for _, r := range refs {
		if _, ok := uuids[r.uuid]; !ok {
			bad("%s: %q refers to no uuid of the document", r.path, r.uuid)
		}
	}

	get := func(m any, keys ...string) any {
		for _, k := range keys {
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		}
		return m
	}
	str := func(m any, keys ...string) string { s, _ := get(m, keys...).(string); return s }
	list := func(m any, keys ...string) []any { l, _ := get(m, keys...).([]any); return l }
	require := func(path string, m any, keys ...string) {
		for _, k := range keys {
			if get(m, k) == nil {
				bad("%s: required %s missing", path, k)
			}
		}
	}
	oneOf := func(path, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			bad("%s: %q is not one of %v", path, v, allowed)
		}
	}

	ar := get(doc, "assessment-results")
	require(".assessment-results", ar, "uuid", "metadata", "import-ap", "results")
	require(".metadata", get(ar, "metadata"), "title", "last-modified", "version", "oscal-version")
	if v := str(ar, "metadata", "oscal-version"); !regexp.MustCompile(`^1\.1\.\d+$`).MatchString(v) {
		bad(".metadata.oscal-version: %q is not 1.1.x", v)
	}
	require(".import-ap", get(ar, "import-ap"), "href")
	resources := map[string]bool{}
	for i, r := range list(ar, "back-matter", "resources") {
		require(fmt.Sprintf(".back-matter.resources[%d]", i), r, "uuid")
		resources[str(r, "uuid")] = true
		for j, l := range list(r, "rlinks") {
			require(fmt.Sprintf(".back-matter.resources[%d].rlinks[%d]", i, j), l, "href")
			for k, h := range list(l, "hashes") {
				oneOf(fmt.Sprintf(".back-matter.resources[%d].rlinks[%d].hashes[%d]", i, j, k), str(h, "algorithm"), "SHA-256")
				if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(str(h, "value")) {
					bad(".back-matter.resources[%d]: hash %q is not a SHA-256", i, str(h, "value"))
				}
			}
		}
	}
	for _, h := range hrefs {
		if !resources[h.uuid] {
			bad("%s: #%s is no back-matter resource", h.path, h.uuid)
		}
	}
	results := list(ar, "results")
	if len(results) == 0 {
		bad(".results: none")
	}
	for i, res := range results {
		p := fmt.Sprintf(".results[%d]", i)
		require(p, res, "uuid", "title", "description", "start", "reviewed-controls")
		if len(list(res, "reviewed-controls", "control-selections")) == 0 {
			bad("%s.reviewed-controls: no control-selections", p)
		}
		for j, o := range list(res, "observations") {
			q := fmt.Sprintf("%s.observations[%d]", p, j)
			require(q, o, "uuid", "description", "methods", "collected")
			for _, m := range list(o, "methods") {
				oneOf(q+".methods", m.(string), "EXAMINE", "INTERVIEW", "TEST", "UNKNOWN")
			}
			for _, t := range list(o, "types") {
				oneOf(q+".types", t.(string), "ssp-statement-issue", "control-objective", "mitigation", "finding", "historic")
			}
			for k, s := range list(o, "subjects") {
				require(fmt.Sprintf("%s.subjects[%d]", q, k), s, "subject-uuid", "type")
				oneOf(q+".subjects.type", str(s, "type"), "component", "inventory-item", "location", "party", "user", "resource")
			}
			for k, e := range list(o, "relevant-evidence") {
				require(fmt.Sprintf("%s.relevant-evidence[%d]", q, k), e, "description")
			}
		}
		for j, r := range list(res, "risks") {
			q := fmt.Sprintf("%s.risks[%d]", p, j)
			require(q, r, "uuid", "title", "description", "statement", "status")
			oneOf(q+".status", str(r, "status"), "open", "investigating", "remediating", "deviation-requested", "deviation-approved", "closed")
			for k, e := range list(r, "risk-log", "entries") {
				require(fmt.Sprintf("%s.risk-log.entries[%d]", q, k), e, "uuid", "start")
			}
		}
		for j, f := range list(res, "findings") {
			q := fmt.Sprintf("%s.findings[%d]", p, j)
			require(q, f, "uuid", "title", "description", "target")
			require(q+".target", get(f, "target"), "type", "target-id", "status")
			oneOf(q+".target.type", str(f, "target", "type"), "statement-id", "objective-id")
			if id := str(f, "target", "target-id"); !tokenRE.MatchString(id) {
				bad("%s.target.target-id: %q is not a token", q, id)
			}
			oneOf(q+".target.status.state", str(f, "target", "status", "state"), "satisfied", "not-satisfied")
			oneOf(q+".target.status.reason", str(f, "target", "status", "reason"), "pass", "fail", "other")
		}
		for j, c := range list(res, "local-definitions", "components") {
			require(fmt.Sprintf("%s.local-definitions.components[%d]", p, j), c, "uuid", "type", "title", "description", "status")
		}
		for j, c := range list(res, "local-definitions", "inventory-items") {
			require(fmt.Sprintf("%s.local-definitions.inventory-items[%d]", p, j), c, "uuid", "description")
		}
		if get(res, "local-definitions", "assessment-assets") != nil && len(list(res, "local-definitions", "assessment-assets", "assessment-platforms")) == 0 {
			bad("%s.local-definitions.assessment-assets: no assessment-platforms", p)
		}
	}

	// Props, wherever they are.
	var props func(path string, v any)
	props = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ps, ok := v["props"].([]any); ok {
				for i, pr := range ps {
					q := fmt.Sprintf("%s.props[%d]", path, i)
					require(q, pr, "name", "value")
					if !tokenRE.MatchString(str(pr, "name")) {
						bad("%s: name %q is not a token", q, str(pr, "name"))
					}
					if !propValRE.MatchString(str(pr, "value")) || strings.Contains(str(pr, "value"), "\n") {
						bad("%s: value %q is not a single trimmed line", q, str(pr, "value"))
					}
					if ns := str(pr, "ns"); ns != "" && ns != NS {
						bad("%s: namespace %q", q, ns)
					}
				}
			}
			for k, c := range v {
				props(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				props(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	props("", doc)
	slices.Sort(problems)
	return problems
}

func mustExport(t *testing.T, in Input) []byte {
	t.Helper()
	out, err := Export(in)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return out
}
