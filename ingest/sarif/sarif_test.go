package sarif

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// findingAt finds the finding of a rule at a location.
func findingAt(t *testing.T, doc *ingest.Document, ruleID, loc string) (string, map[string]any) {
	t.Helper()
	for k, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
		if p["ruleId"] == ruleID && (p["location"] == loc || loc == "" && p["location"] == nil) {
			return k, p
		}
	}
	t.Fatalf("no finding of %s at %q", ruleID, loc)
	return "", nil
}

func TestParseMultiRun(t *testing.T) {
	data, err := os.ReadFile("testdata/multi-run.sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.CheckDoc(t, format, doc)
	if doc.Version != "2.1.0" || doc.Subject != nil || len(doc.Components) != 0 {
		t.Errorf("Version %q, Subject %v, Components %v", doc.Version, doc.Subject, doc.Components)
	}
	if want := (ingest.Counts{Results: 11}); doc.Counts != want {
		t.Errorf("Counts = %+v, want %+v", doc.Counts, want)
	}
	// Results 0 and 4 share their partial fingerprints, rule and file: one finding.
	if n := len(ingesttest.NodesOf(doc, graph.LabelFinding)); n != 10 {
		t.Errorf("%d findings, want 10", n)
	}

	tests := []struct {
		name, ruleID, loc           string
		tool, severity, status, msg string
	}{
		{"security-severity 8.8, partial fingerprints", "js/sql-injection", "src/app.js:10:5", "CodeQL", "HIGH", "OPEN", "This query depends on a user-provided value."},
		{"level from the rule's default; suppressed in source; uri from run.artifacts", "js/xss", "src/a.js:3", "CodeQL", "LOW", "SUPPRESSED", "Cross-site scripting vulnerability."},
		{"message string with arguments; suppression under review", "js/taint", "src/b.js", "CodeQL", "MEDIUM", "OPEN", "Value x flows to sink {unchanged}"},
		{"rule in an extension; logical location; message from the rule", "js/ext-rule", "app.handler", "CodeQL", "LOW", "OPEN", "A rule from a query pack"},
		{"kind pass", "js/xss", "src/c.js", "CodeQL", "NONE", "FIXED", "No cross-site scripting here."},
		{"absent since the baseline; no location", "js/sql-injection", "", "CodeQL", "HIGH", "FIXED", "Fixed since the baseline."},
		{"trivy CVE rule", "CVE-2021-44228", "app/lib/log4j-core-2.14.1.jar:1:1", "Trivy", "CRITICAL", "OPEN", "Package: org.apache.logging.log4j:log4j-core\nInstalled Version: 2.14.1"},
		{"grype GHSA rule", "GHSA-JFH8-C2JP-5V3Q-log4j-core", "image//app/lib/log4j-core-2.14.1.jar", "Grype", "CRITICAL", "OPEN", "log4j-core 2.14.1 is vulnerable"},
		{"unknown level read as warning; unreadable security-severity", "cve-2021-45046-log4j-core", "image//app/lib/log4j-core-2.14.1.jar", "Grype", "MEDIUM", "OPEN", "log4j-core 2.14.1 is vulnerable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := findingAt(t, doc, tt.ruleID, tt.loc)
			for k, want := range map[string]string{"tool": tt.tool, "severity": tt.severity, "status": tt.status, "message": tt.msg} {
				if p[k] != want {
					t.Errorf("%s = %v, want %q", k, p[k], want)
				}
			}
		})
	}

	vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
	if len(vulns) != 3 {
		t.Errorf("vulnerabilities %v, want CVE-2021-44228, CVE-2021-45046, GHSA-jfh8-c2jp-5v3q", vulns)
	}
	log4shell := vulns["CVE-2021-44228"]
	if log4shell["severity"] != "CRITICAL" || log4shell["cvssScore"] != 10.0 ||
		log4shell["cvssVector"] != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" ||
		!strings.HasPrefix(log4shell["summary"].(string), "Apache Log4j2 JNDI") {
		t.Errorf("CVE-2021-44228 = %v", log4shell)
	}
	if v := vulns["CVE-2021-45046"]; v == nil || v["severity"] != nil {
		t.Errorf("CVE-2021-45046 = %v, want it without a severity (its security-severity is unreadable)", v)
	}
	if v := vulns["GHSA-jfh8-c2jp-5v3q"]; v == nil || v["severity"] != "CRITICAL" {
		t.Errorf("GHSA-jfh8-c2jp-5v3q = %v", v)
	}
	// Both the Trivy and the Grype finding identify Log4Shell.
	ids := 0
	for k := range ingesttest.EdgesOf(doc, "IDENTIFIES") {
		if strings.HasSuffix(k, " → CVE-2021-44228") {
			ids++
		}
	}
	if ids != 2 || len(ingesttest.EdgesOf(doc, "IDENTIFIES")) != 4 {
		t.Errorf("IDENTIFIES edges %v, want 4, two of them to CVE-2021-44228", ingesttest.EdgesOf(doc, "IDENTIFIES"))
	}

	wantWarnings := map[string]string{
		"runs[2].tool.driver.rules[1].properties.security-severity": "not a score",
		"runs[2].results[1].level":                                  "read as warning",
		"runs[2].results[2].ruleIndex":                              "out of range",
	}
	if len(doc.Warnings) != len(wantWarnings) {
		t.Errorf("warnings %v, want %d", doc.Warnings, len(wantWarnings))
	}
	for _, w := range doc.Warnings {
		if want, ok := wantWarnings[w.Path]; !ok || !strings.Contains(w.Message, want) {
			t.Errorf("unexpected warning %s: %s", w.Path, w.Message)
		}
	}
}

// oneResult is a log of one run of tool "T" with one rule and one result.
func oneResult(rule, result string) []byte {
	return fmt.Appendf(nil, `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T","rules":[%s]}},"results":[%s]}]}`, rule, result)
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		name, rule, result, want string
		warn                     bool
	}{
		{"score 0", `{"id":"r","properties":{"security-severity":"0"}}`, `{"ruleId":"r","level":"error"}`, "NONE", false},
		{"score 0.1", `{"id":"r","properties":{"security-severity":"0.1"}}`, `{"ruleId":"r"}`, "LOW", false},
		{"score 3.9", `{"id":"r","properties":{"security-severity":"3.9"}}`, `{"ruleId":"r"}`, "LOW", false},
		{"score 4.0", `{"id":"r","properties":{"security-severity":"4.0"}}`, `{"ruleId":"r"}`, "MEDIUM", false},
		{"score 6.9", `{"id":"r","properties":{"security-severity":"6.9"}}`, `{"ruleId":"r"}`, "MEDIUM", false},
		{"score 7", `{"id":"r","properties":{"security-severity":"7"}}`, `{"ruleId":"r"}`, "HIGH", false},
		{"score 8.9 as a number", `{"id":"r","properties":{"security-severity":8.9}}`, `{"ruleId":"r"}`, "HIGH", false},
		{"score 9.0", `{"id":"r","properties":{"security-severity":"9.0"}}`, `{"ruleId":"r"}`, "CRITICAL", false},
		{"score 10", `{"id":"r","properties":{"security-severity":"10"}}`, `{"ruleId":"r","level":"note"}`, "CRITICAL", false},
		{"score on the result wins", `{"id":"r","properties":{"security-severity":"10"}}`, `{"ruleId":"r","properties":{"security-severity":"2"}}`, "LOW", false},
		{"score 11: the level", `{"id":"r","properties":{"security-severity":"11"}}`, `{"ruleId":"r","level":"note"}`, "LOW", true},
		{"a severity word", `{"id":"r","properties":{"security-severity":"High"}}`, `{"ruleId":"r"}`, "HIGH", true},
		{"error", `{"id":"r"}`, `{"ruleId":"r","level":"error"}`, "HIGH", false},
		{"warning", `{"id":"r"}`, `{"ruleId":"r","level":"warning"}`, "MEDIUM", false},
		{"note", `{"id":"r"}`, `{"ruleId":"r","level":"note"}`, "LOW", false},
		{"none", `{"id":"r"}`, `{"ruleId":"r","level":"none"}`, "NONE", false},
		{"no level: warning", `{"id":"r"}`, `{"ruleId":"r"}`, "MEDIUM", false},
		{"no level: the rule's", `{"id":"r","defaultConfiguration":{"level":"error"}}`, `{"ruleId":"r"}`, "HIGH", false},
		{"not a failure: none", `{"id":"r","defaultConfiguration":{"level":"error"}}`, `{"ruleId":"r","kind":"informational"}`, "NONE", false},
		{"unknown level", `{"id":"r"}`, `{"ruleId":"r","level":"fatal"}`, "MEDIUM", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse(oneResult(tt.rule, tt.result))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
				if p["severity"] != tt.want {
					t.Errorf("severity %v, want %s", p["severity"], tt.want)
				}
			}
			if (len(doc.Warnings) > 0) != tt.warn {
				t.Errorf("warnings %v, want some: %v", doc.Warnings, tt.warn)
			}
		})
	}
}

func TestStatusAndFingerprint(t *testing.T) {
	key := func(t *testing.T, data []byte) (string, map[string]any) {
		t.Helper()
		doc, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		ingesttest.CheckDoc(t, format, doc)
		f := ingesttest.NodesOf(doc, graph.LabelFinding)
		if len(f) != 1 {
			t.Fatalf("%d findings, want 1", len(f))
		}
		for k, p := range f {
			return k, p
		}
		return "", nil
	}
	loc := `"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.go"},"region":{"startLine":4}}}]`
	base, _ := key(t, oneResult(`{"id":"r"}`, `{"ruleId":"r","message":{"text":"m"},`+loc+`}`))
	if again, _ := key(t, oneResult(`{"id":"r"}`, `{"ruleId":"r","message":{"text":"m"},`+loc+`}`)); again != base {
		t.Error("the fingerprint is not stable")
	}
	if other, _ := key(t, oneResult(`{"id":"r"}`, `{"ruleId":"r","message":{"text":"other"},`+loc+`}`)); other == base {
		t.Error("without fingerprints, the message is part of the identity")
	}
	withFP := func(msg, tool string) string {
		k, _ := key(t, []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"`+tool+`"}},"results":[{"ruleId":"r","message":{"text":"`+msg+`"},"partialFingerprints":{"h":"1"},`+loc+`}]}]}`))
		return k
	}
	if withFP("m", "T") != withFP("a new message", "T") {
		t.Error("with partial fingerprints, the message is not part of the identity")
	}
	if withFP("m", "T") == withFP("m", "U") {
		t.Error("fingerprints are not namespaced by tool")
	}

	tests := []struct {
		name, result, want string
	}{
		{"no suppressions", `{"ruleId":"r"}`, "OPEN"},
		{"empty suppressions", `{"ruleId":"r","suppressions":[]}`, "OPEN"},
		{"accepted", `{"ruleId":"r","suppressions":[{"kind":"external","status":"accepted"}]}`, "SUPPRESSED"},
		{"status absent", `{"ruleId":"r","suppressions":[{"kind":"inSource"}]}`, "SUPPRESSED"},
		{"rejected", `{"ruleId":"r","suppressions":[{"kind":"external","status":"rejected"}]}`, "OPEN"},
		{"accepted and under review", `{"ruleId":"r","suppressions":[{"status":"accepted"},{"status":"underReview"}]}`, "OPEN"},
		{"baseline absent", `{"ruleId":"r","baselineState":"absent"}`, "FIXED"},
		{"baseline new", `{"ruleId":"r","baselineState":"new"}`, "OPEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, p := key(t, oneResult(`{"id":"r"}`, tt.result)); p["status"] != tt.want {
				t.Errorf("status %v, want %s", p["status"], tt.want)
			}
		})
	}
}

func TestTolerated(t *testing.T) {
	tests := []struct {
		name, doc   string
		results     int
		findings    int
		warningPath string // "" for none
		check       func(t *testing.T, doc *ingest.Document)
	}{
		{name: "runs null (the tool did not start)", doc: `{"version":"2.1.0","runs":null}`},
		{name: "no version", doc: `{"runs":[]}`, warningPath: "version"},
		{name: "other version", doc: `{"version":"2.2","runs":[]}`, warningPath: "version",
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Version != "2.2" {
					t.Errorf("Version %q, want the declared 2.2", doc.Version)
				}
			}},
		{name: "no tool", doc: `{"version":"2.1.0","runs":[{"results":[{"ruleId":"r","message":{"text":"m"}}]}]}`,
			results: 1, findings: 1, warningPath: "runs[0].tool.driver"},
		{name: "results null", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":null}]}`},
		{name: "null entries", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T","rules":[null]}},"results":[{"ruleId":"r","ruleIndex":0,"locations":[null],"suppressions":[null]}]}]}`,
			results: 1, findings: 1, warningPath: "", check: func(t *testing.T, doc *ingest.Document) {
				for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if p["status"] != "OPEN" {
						t.Errorf("status %v: a null suppression suppresses nothing", p["status"])
					}
				}
			}},
		{name: "line as a string", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","locations":[{"physicalLocation":{"artifactLocation":{"uri":"f"},"region":{"startLine":"12"}}}]}]}]}`,
			results: 1, findings: 1, check: func(t *testing.T, doc *ingest.Document) {
				for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if p["location"] != "f:12" {
						t.Errorf("location %v, want f:12", p["location"])
					}
				}
			}},
		{name: "region without uri: the logical location", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","locations":[{"physicalLocation":{"region":{"startLine":3}},"logicalLocations":[{"name":"fn"}]}]}]}]}`,
			results: 1, findings: 1, check: func(t *testing.T, doc *ingest.Document) {
				for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if p["location"] != "fn" {
						t.Errorf("location %v, want fn", p["location"])
					}
				}
			}},
		{name: "line 0 and negative column are dropped", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","locations":[{"physicalLocation":{"artifactLocation":{"uri":"f"},"region":{"startLine":0,"startColumn":-1}}}]},{"ruleId":"r","locations":[{"physicalLocation":{"artifactLocation":{"uri":"g"},"region":{"startLine":2,"startColumn":-1}}}]}]}]}`,
			results: 2, findings: 2, check: func(t *testing.T, doc *ingest.Document) {
				for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if p["location"] != "f" && p["location"] != "g:2" {
						t.Errorf("location %v, want f or g:2", p["location"])
					}
				}
			}},
		{name: "analysis target", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","analysisTarget":{"uri":"pom.xml"}}]}]}`,
			results: 1, findings: 1, check: func(t *testing.T, doc *ingest.Document) {
				for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if p["location"] != "pom.xml" {
						t.Errorf("location %v, want pom.xml", p["location"])
					}
				}
			}},
		{name: "fingerprint not a string", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","fingerprints":{"v":7}}]}]}`,
			results: 1, findings: 1, warningPath: "runs[0].results[0].fingerprints.v"},
		{name: "artifact index out of range", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","locations":[{"physicalLocation":{"artifactLocation":{"index":3}}}]}]}]}`,
			results: 1, findings: 1, warningPath: "runs[0].results[0]"},
		{name: "hierarchical rule id", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"a","properties":{"security-severity":"9.5"}}]}},"results":[{"ruleId":"a/b"}]}]}`,
			results: 1, findings: 1, check: func(t *testing.T, doc *ingest.Document) {
				for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if p["severity"] != "CRITICAL" || p["ruleId"] != "a/b" {
						t.Errorf("finding %v, want rule a/b read with rule a's severity", p)
					}
				}
			}},
		{name: "a long message is cut", doc: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r","message":{"text":"` + strings.Repeat("é", 40000) + `"}}]}]}`,
			results: 1, findings: 1, warningPath: "runs[0].results[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			if doc.Counts.Results != tt.results || len(ingesttest.NodesOf(doc, graph.LabelFinding)) != tt.findings {
				t.Errorf("%d results, %d findings; want %d, %d", doc.Counts.Results, len(ingesttest.NodesOf(doc, graph.LabelFinding)), tt.results, tt.findings)
			}
			if tt.warningPath == "" && len(doc.Warnings) > 0 || tt.warningPath != "" && (len(doc.Warnings) != 1 || doc.Warnings[0].Path != tt.warningPath) {
				t.Errorf("warnings %v, want one at %q", doc.Warnings, tt.warningPath)
			}
			if tt.check != nil {
				tt.check(t, doc)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc         string
		line, col         int
		path, msgContains string
	}{
		{name: "empty", doc: "", msgContains: "empty document"},
		{name: "blank", doc: " \n\t", msgContains: "empty document"},
		{name: "malformed", doc: "{\n  \"version\": \"2.1.0\",\n  \"runs\": [}\n", line: 3, col: 12, msgContains: "malformed JSON"},
		{name: "truncated", doc: "{\"runs\": [", line: 1, col: 11, msgContains: "unexpected end"},
		{name: "trailing garbage", doc: "{\"runs\": []} x", line: 1, col: 14, msgContains: "after top-level value"},
		{name: "array", doc: `[{"runs":[]}]`, line: 1, col: 1, msgContains: "JSON array, want an object"},
		{name: "null", doc: `null`, msgContains: "null"},
		{name: "cyclonedx", doc: `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`, msgContains: "cyclonedx document"},
		{name: "trivy", doc: `{"SchemaVersion":2,"ArtifactName":"x","Results":[]}`, msgContains: "trivy document"},
		{name: "unknown object", doc: `{"hello":"world"}`, msgContains: "no"},
		{name: "runs not an array", doc: `{"version":"2.1.0","runs":{}}`, path: "runs", msgContains: "runs is a JSON object"},
		{name: "message not an object", doc: "{\"version\":\"2.1.0\",\"runs\":[{\"results\":[\n{\"message\":\"oops\"}]}]}", line: 2, col: 17, path: "runs.results.message", msgContains: "JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("no error; document %+v", doc)
			}
			ingesttest.CheckParseError(t, format, err, tt.line, tt.col, tt.path, tt.msgContains)
		})
	}
}
