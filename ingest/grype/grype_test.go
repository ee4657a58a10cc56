package grype

import (
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

const (
	purlLog4j   = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
	purlBusybox = "pkg:generic/busybox@1.36.0"
	purlLeftPad = "pkg:generic/left-pad@1.0.0"
)

func parseFile(t *testing.T, name string) *ingest.Document {
	t.Helper()
	doc := ingesttest.ParseFile(t, Parse, name)
	ingesttest.CheckDoc(t, format, doc)
	ingesttest.CheckPurls(t, doc)
	return doc
}

func TestParseImage(t *testing.T) {
	doc := parseFile(t, "testdata/image.grype.json")
	if doc.Version != "0.80.0" {
		t.Errorf("Version %q, want grype's 0.80.0", doc.Version)
	}
	wantSubject := ingest.Subject{Name: "registry.example.com/shop/api:1.4.2", Version: "1.4.2", Type: "IMAGE",
		Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
	if doc.Subject == nil || *doc.Subject != wantSubject {
		t.Errorf("Subject %+v, want %+v (the repo digest first)", doc.Subject, wantSubject)
	}
	if want := (ingest.Counts{Components: 3, Vulnerabilities: 6}); doc.Counts != want {
		t.Errorf("Counts %+v, want %+v", doc.Counts, want)
	}
	if want := []string{purlLog4j, purlBusybox, purlLeftPad}; !slices.Equal(doc.Components, want) {
		t.Errorf("Components %v, want %v", doc.Components, want)
	}
	comps := ingesttest.NodesOf(doc, graph.LabelComponent)
	wantComps := map[string]map[string]any{
		purlLog4j:   {"name": "log4j-core", "version": "2.14.1", "licenses": []string{"Apache-2.0"}},
		purlBusybox: {"name": "busybox", "version": "1.36.0"},
		purlLeftPad: {"name": "left-pad", "version": "1.0.0", "licenses": []string{"MIT", "Apache-2.0"}},
	}
	for k, want := range wantComps {
		if !ingesttest.SameProps(comps[k], want) {
			t.Errorf("component %s = %v, want %v", k, comps[k], want)
		}
	}

	vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
	tests := []struct {
		id   string
		want map[string]any
	}{
		{"GHSA-jfh8-c2jp-5v3q", map[string]any{ // own CVSS v3; description, EPSS and KEV from the related CVE
			"severity": "CRITICAL", "aliases": []string{"CVE-2021-44228"},
			"summary":   "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints.",
			"cvssScore": 9.0, "cvssVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "epss": 0.97, "kev": true}},
		{"CVE-2021-44228", map[string]any{ // CVSS and description from NVD's record of itself; no alias to itself
			"severity": "CRITICAL", "summary": "NVD: Apache Log4j2 JNDI features do not protect against attacker controlled endpoints.",
			"cvssScore": 10.0, "cvssVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "epss": 0.94, "kev": true}},
		{"CVE-2022-1234", map[string]any{"severity": "LOW", "summary": "A negligible flaw.", "cvssScore": 5.0, "cvssVector": "AV:N/AC:L/Au:N/C:N/I:N/A:P"}},
		{"CVE-2023-0001", map[string]any{"severity": "UNKNOWN"}},
	}
	if len(vulns) != len(tests) {
		t.Errorf("vulnerabilities %v, want %d", vulns, len(tests))
	}
	for _, tt := range tests {
		if !ingesttest.SameProps(vulns[tt.id], tt.want) {
			t.Errorf("%s = %v, want %v", tt.id, vulns[tt.id], tt.want)
		}
	}

	affects := ingesttest.EdgesOf(doc, "AFFECTS")
	wantAffects := map[string]map[string]any{
		"GHSA-jfh8-c2jp-5v3q → " + purlLog4j: {"versionRange": "<2.15.0", "fixedVersion": "2.15.0", "status": "affected"},
		"CVE-2021-44228 → " + purlLog4j:      {"versionRange": "=2.14.1", "fixedVersion": "2.15.0, 2.12.2", "status": "affected"},
		"CVE-2022-1234 → " + purlBusybox:     {"versionRange": "=1.36.0", "status": "affected"},
		"CVE-2022-1234 → " + purlLog4j:       {"versionRange": "<2.17.0", "fixedVersion": "2.17.0", "status": "affected"},
		"CVE-2023-0001 → " + purlLeftPad:     {"versionRange": "=1.0.0", "status": "affected"},
	}
	if len(affects) != len(wantAffects) {
		t.Errorf("AFFECTS %v, want %v", affects, wantAffects)
	}
	for k, want := range wantAffects {
		if !ingesttest.SameProps(affects[k], want) {
			t.Errorf("AFFECTS %s = %v, want %v", k, affects[k], want)
		}
	}

	wantWarnings := []string{
		"matches[2].artifact.purl",              // no purl
		"matches[4].artifact.purl",              // pkg:npm/ has no name
		"matches[4].artifact.licenses[2]",       // 5
		"matches[4].vulnerability.severity",     // Serious
		"matches[4].vulnerability.epss[0].epss", // 1.7
		"matches[5].vulnerability.id",           // empty
	}
	var got []string
	for _, w := range doc.Warnings {
		got = append(got, w.Path)
	}
	if !slices.Equal(got, wantWarnings) {
		t.Errorf("warnings %v, want at %v", doc.Warnings, wantWarnings)
	}
}

func TestParseLegacy(t *testing.T) {
	doc := parseFile(t, "testdata/legacy.grype.json")
	wantSubject := ingest.Subject{Name: "example/legacy:1.0", Version: "1.0", Type: "IMAGE",
		Digest: "sha256:6666666666666666666666666666666666666666666666666666666666666666"}
	if doc.Subject == nil || *doc.Subject != wantSubject {
		t.Errorf("Subject %+v, want %+v (no repo digest: the manifest digest)", doc.Subject, wantSubject)
	}
	if want := (ingest.Counts{Components: 2, Vulnerabilities: 2}); doc.Counts != want {
		t.Errorf("Counts %+v, want %+v", doc.Counts, want)
	}
	vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
	if want := map[string]any{"severity": "MEDIUM", "cvssScore": 7.8, "cvssVector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}; !ingesttest.SameProps(vulns["CVE-2019-18276"], want) {
		t.Errorf("CVE-2019-18276 = %v, want %v (cvssV3 before cvssV2)", vulns["CVE-2019-18276"], want)
	}
	if want := map[string]any{"severity": "UNKNOWN", "cvssScore": 5.0, "cvssVector": "AV:N/AC:L/Au:N/C:P/I:N/A:N"}; !ingesttest.SameProps(vulns["CVE-2018-6829"], want) {
		t.Errorf("CVE-2018-6829 = %v, want %v", vulns["CVE-2018-6829"], want)
	}
	a := ingesttest.EdgesOf(doc, "AFFECTS")["CVE-2019-18276 → pkg:deb/debian/bash@5.0-4?arch=amd64"]
	if want := map[string]any{"versionRange": "<5.1-2", "fixedVersion": "5.1-2", "status": "affected"}; !ingesttest.SameProps(a, want) {
		t.Errorf("AFFECTS %v, want %v (fixedInVersion)", a, want)
	}
	if len(doc.Warnings) != 1 || doc.Warnings[0].Path != "matches" || !strings.Contains(doc.Warnings[0].Message, "2 matches in the early grype layout") {
		t.Errorf("warnings %v, want one about the legacy layout", doc.Warnings)
	}
}

func TestTolerated(t *testing.T) {
	tests := []struct {
		name, doc string
		warnings  []string
		check     func(t *testing.T, doc *ingest.Document)
	}{
		{name: "no matches", doc: `{"matches":[],"source":{"type":"image","target":{"userInput":"alpine:3.20","imageID":"sha256:7777777777777777777777777777777777777777777777777777777777777777"}},"descriptor":{"name":"grype","version":"0.94.0"}}`,
			check: func(t *testing.T, doc *ingest.Document) {
				want := ingest.Subject{Name: "alpine:3.20", Version: "3.20", Type: "IMAGE", Digest: "sha256:7777777777777777777777777777777777777777777777777777777777777777"}
				if doc.Subject == nil || *doc.Subject != want || !doc.Batch.Empty() {
					t.Errorf("Subject %+v, batch %+v", doc.Subject, doc.Batch)
				}
			}},
		{name: "matches null", doc: `{"matches":null}`},
		{name: "directory source", doc: `{"matches":[{"vulnerability":{"id":"CVE-1","severity":"High"},"artifact":{"name":"a","version":"1","purl":"pkg:pypi/a@1"}}],"source":{"type":"directory","target":"/src"}}`,
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Subject != nil || !slices.Equal(doc.Components, []string{"pkg:pypi/a@1"}) {
					t.Errorf("Subject %+v, components %v", doc.Subject, doc.Components)
				}
			}},
		{name: "image target not an object", doc: `{"matches":[],"source":{"type":"image","target":"alpine"}}`, warnings: []string{"source.target"}},
		{name: "bad digests", doc: `{"matches":[],"source":{"type":"image","target":{"userInput":"a:1","repoDigests":["a@sha256:XYZ"],"manifestDigest":"md5:1"}}}`,
			warnings: []string{"source.target.repoDigests[0]", "source.target.manifestDigest"},
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Subject == nil || doc.Subject.Digest != "" || doc.Subject.Name != "a:1" {
					t.Errorf("Subject %+v", doc.Subject)
				}
			}},
		{name: "scores as strings and out of range", doc: `{"matches":[{"vulnerability":{"id":"CVE-1","cvss":[{"version":"3.1","vector":"v1","metrics":{"baseScore":"6.5"}},{"version":"3.0","metrics":{"baseScore":11}}],"epss":[{"epss":"0.5"}]},"artifact":{"name":"a","version":"1","purl":"pkg:pypi/a@1"}}]}`,
			warnings: []string{"matches[0].vulnerability.cvss[1].metrics.baseScore"},
			check: func(t *testing.T, doc *ingest.Document) {
				if v := ingesttest.NodesOf(doc, graph.LabelVulnerability)["CVE-1"]; v["cvssScore"] != 6.5 || v["cvssVector"] != "v1" || v["epss"] != 0.5 {
					t.Errorf("CVE-1 %v", v)
				}
			}},
		{name: "licenses not an array", doc: `{"matches":[{"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a","version":"1","purl":"pkg:pypi/a@1","licenses":"MIT"}}]}`,
			warnings: []string{"matches[0].artifact.licenses"}},
		{name: "artifact without purl or name", doc: `{"matches":[{"vulnerability":{"id":"CVE-1","severity":"low"},"artifact":{"version":"1"}}]}`,
			warnings: []string{"matches[0].artifact.purl"},
			check: func(t *testing.T, doc *ingest.Document) {
				if len(doc.Components) != 0 || len(ingesttest.NodesOf(doc, graph.LabelVulnerability)) != 1 || len(doc.Batch.Edges) != 0 || doc.Counts.Components != 1 {
					t.Errorf("components %v, batch %+v, counts %+v", doc.Components, doc.Batch, doc.Counts)
				}
			}},
		{name: "null entries", doc: `{"matches":[null,{"vulnerability":null,"artifact":null,"relatedVulnerabilities":[null]}],"source":null,"descriptor":null}`,
			warnings: []string{"matches[0].vulnerability.id", "matches[1].vulnerability.id"},
			check: func(t *testing.T, doc *ingest.Document) {
				if want := (ingest.Counts{Components: 1, Vulnerabilities: 2}); doc.Counts != want {
					t.Errorf("counts %+v, want %+v", doc.Counts, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			ingesttest.CheckPurls(t, doc)
			var got []string
			for _, w := range doc.Warnings {
				got = append(got, w.Path)
			}
			if !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %v, want at %v", doc.Warnings, tt.warnings)
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
		{name: "malformed", doc: "{\n  \"matches\": [\n    {\"vulnerability\": {\"id\": \"CVE-1\"}}\n    {}\n  ]\n}", line: 4, col: 5, msgContains: "malformed JSON"},
		{name: "array", doc: `[]`, line: 1, col: 1, msgContains: "JSON array, want an object"},
		{name: "trivy", doc: `{"SchemaVersion":2,"ArtifactName":"x","Results":[]}`, msgContains: "this is a trivy document"},
		{name: "cyclonedx", doc: `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, msgContains: "this is a cyclonedx document"},
		{name: "unknown", doc: `{"vulnerabilities":[]}`, msgContains: "has a matches array"},
		{name: "matches not an array", doc: `{"matches":{"id":"x"}}`, path: "matches", msgContains: "matches is a JSON object"},
		{name: "id not a string", doc: "{\"matches\":[{\"vulnerability\":\n{\"id\":[1]}}]}", line: 2, col: 7,
			path: "matches.vulnerability.id", msgContains: "JSON array, want a string"},
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
