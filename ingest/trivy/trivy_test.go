package trivy

import (
	"os"
	"slices"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

const (
	purlOpenSSL = "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"
	purlLibSSL  = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"
	purlLibc    = "pkg:generic/libc6@2.36-9"
	purlBad     = "pkg:generic/bad@1"
)

func TestParseImage(t *testing.T) {
	data, err := os.ReadFile("testdata/image.trivy.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.CheckDoc(t, format, doc)
	ingesttest.CheckPurls(t, doc)
	if doc.Version != "2" {
		t.Errorf("Version %q, want 2", doc.Version)
	}
	wantSubject := ingest.Subject{Name: "registry.example.com/shop/api:1.4.2", Version: "1.4.2", Type: "IMAGE",
		Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
	if doc.Subject == nil || *doc.Subject != wantSubject {
		t.Errorf("Subject %+v, want %+v (the digest of RepoDigests, not the ImageID)", doc.Subject, wantSubject)
	}
	if want := (ingest.Counts{Components: 7, Relationships: 5, Vulnerabilities: 5, Results: 5}); doc.Counts != want {
		t.Errorf("Counts %+v, want %+v", doc.Counts, want)
	}
	wantComps := []string{purlOpenSSL, purlLibSSL, purlLibc, "pkg:npm/app@1.0.0", "pkg:npm/lodash@4.17.20", "pkg:npm/jest@29.0.0", purlBad}
	if !slices.Equal(doc.Components, wantComps) {
		t.Errorf("Components %v, want %v", doc.Components, wantComps)
	}

	comps := ingesttest.NodesOf(doc, graph.LabelComponent)
	if c := comps[purlOpenSSL]; c["name"] != "openssl" || c["version"] != "3.0.11-1~deb12u2" || !slices.Equal(c["licenses"].([]string), []string{"Apache-2.0"}) {
		t.Errorf("openssl %v", c)
	}

	deps := ingesttest.EdgesOf(doc, "DEPENDS_ON")
	wantDeps := map[string]map[string]any{
		purlOpenSSL + " → " + purlLibSSL:             {"direct": true},
		purlLibSSL + " → " + purlLibc:                {"direct": true},
		"pkg:npm/app@1.0.0 → pkg:npm/lodash@4.17.20": {"direct": true},
		"pkg:npm/app@1.0.0 → pkg:npm/jest@29.0.0":    {"direct": true, "scope": "dev"},
	}
	if len(deps) != len(wantDeps) {
		t.Errorf("DEPENDS_ON %v, want %v", deps, wantDeps)
	}
	for k, want := range wantDeps {
		if got, ok := deps[k]; !ok || !ingesttest.SameProps(got, want) {
			t.Errorf("DEPENDS_ON %s = %v, want %v", k, got, want)
		}
	}

	vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
	if len(vulns) != 3 {
		t.Errorf("vulnerabilities %v, want 3", vulns)
	}
	tests := []struct {
		id   string
		want map[string]any
	}{
		{"CVE-2024-0727", map[string]any{"summary": "openssl: denial of service via null dereference", "severity": "MEDIUM",
			"cvssScore": 6.1, "cvssVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", "cwes": []string{"CWE-476"}, "aliases": []string{"DSA-5678-1"}}},
		{"CVE-2023-4911", map[string]any{"summary": "glibc: buffer overflow in ld.so leading to privilege escalation", "severity": "HIGH",
			"cvssScore": 7.2, "cvssVector": "AV:L/AC:L/Au:N/C:C/I:C/A:C"}},
		{"GHSA-35jh-r3h4-6jhm", map[string]any{"summary": "lodash: command injection via template", "severity": "HIGH",
			"cvssScore": 7.2, "cvssVector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}},
	}
	for _, tt := range tests {
		if got := vulns[tt.id]; !ingesttest.SameProps(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.id, got, tt.want)
		}
	}

	affects := ingesttest.EdgesOf(doc, "AFFECTS")
	wantAffects := map[string]map[string]any{
		"CVE-2024-0727 → " + purlLibSSL:                {"versionRange": "<3.0.13-1~deb12u1", "fixedVersion": "3.0.13-1~deb12u1", "status": "affected"},
		"CVE-2024-0727 → " + purlOpenSSL:               {"versionRange": "=3.0.11-1~deb12u2", "fixedVersion": "3.0.13-1~deb12u1, 3.0.14-1", "status": "affected"},
		"CVE-2023-4911 → " + purlLibc:                  {"versionRange": "=2.36-9", "status": "affected"},
		"GHSA-35jh-r3h4-6jhm → pkg:npm/lodash@4.17.20": {"versionRange": "<4.17.21", "fixedVersion": "4.17.21", "status": "affected"},
	}
	if len(affects) != len(wantAffects) {
		t.Errorf("AFFECTS %v, want %v", affects, wantAffects)
	}
	for k, want := range wantAffects {
		if got, ok := affects[k]; !ok || !ingesttest.SameProps(got, want) {
			t.Errorf("AFFECTS %s = %v, want %v", k, got, want)
		}
	}

	findings := map[string]map[string]any{}
	for _, p := range ingesttest.NodesOf(doc, graph.LabelFinding) {
		findings[p["ruleId"].(string)] = p
	}
	wantFindings := map[string]map[string]any{
		"DS002": {"tool": "trivy", "ruleId": "DS002", "severity": "HIGH", "status": "OPEN", "location": "Dockerfile:1",
			"message": "Image user should not be 'root': Specify at least 1 USER command in Dockerfile with non-root user as argument"},
		"DS026": {"tool": "trivy", "ruleId": "DS026", "severity": "LOW", "status": "FIXED", "location": "Dockerfile", "message": "No HEALTHCHECK defined"},
		"AVD-DS-0001": {"tool": "trivy", "ruleId": "AVD-DS-0001", "severity": "MEDIUM", "status": "SUPPRESSED", "location": "Dockerfile:3",
			"message": "':latest' tag used: Specify a tag in the 'FROM' statement for image 'alpine'"},
		"aws-access-key-id": {"tool": "trivy", "ruleId": "aws-access-key-id", "severity": "CRITICAL", "status": "OPEN", "location": "config/.env:2", "message": "AWS Access Key ID"},
		"private-key":       {"tool": "trivy", "ruleId": "private-key", "severity": "UNKNOWN", "status": "OPEN", "location": "config/.env:10", "message": "Asymmetric Private Key"},
	}
	if len(findings) != len(wantFindings) {
		t.Errorf("findings %v, want %v", findings, wantFindings)
	}
	for k, want := range wantFindings {
		if got := findings[k]; !ingesttest.SameProps(got, want) {
			t.Errorf("finding %s = %v, want %v", k, got, want)
		}
	}

	wantWarnings := []string{
		"Results[0].Packages[2].Identifier.PURL",        // libc6 without a purl
		"Results[1].Packages[3].Identifier.PURL",        // "not a purl"
		"Results[0].Packages[1].DependsOn[1]",           // ghost@1.0
		"Results[1].Vulnerabilities[1].VulnerabilityID", // empty id
		"Results[3].Secrets[1].Severity",                // SEVERE
	}
	var got []string
	for _, w := range doc.Warnings {
		got = append(got, w.Path)
	}
	if !slices.Equal(got, wantWarnings) {
		t.Errorf("warnings %v, want %v", doc.Warnings, wantWarnings)
	}
}

func TestTolerated(t *testing.T) {
	const digest = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	tests := []struct {
		name, doc string
		warnings  []string // paths
		check     func(t *testing.T, doc *ingest.Document)
	}{
		{name: "no SchemaVersion", doc: `{"ArtifactName":".","ArtifactType":"filesystem","Results":[]}`, warnings: []string{"SchemaVersion"},
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Version != "" || doc.Subject != nil {
					t.Errorf("Version %q, Subject %v: a filesystem scan declares neither", doc.Version, doc.Subject)
				}
			}},
		{name: "SchemaVersion as a string", doc: `{"SchemaVersion":"2","ArtifactName":"x","Results":null}`, warnings: []string{"SchemaVersion"}},
		{name: "SchemaVersion 3", doc: `{"SchemaVersion":3,"ArtifactName":"x"}`, warnings: []string{"SchemaVersion"},
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Version != "3" {
					t.Errorf("Version %q, want the declared 3", doc.Version)
				}
			}},
		{name: "image without repo digests", doc: `{"SchemaVersion":2,"ArtifactName":"app:1@` + digest + `","ArtifactType":"container_image","Metadata":{"ImageID":"` + digest + `","RepoDigests":["app@sha1:abc"]}}`,
			warnings: []string{"Metadata.RepoDigests[0]"},
			check: func(t *testing.T, doc *ingest.Document) {
				if want := (ingest.Subject{Name: "app:1", Version: "1", Digest: digest, Type: "IMAGE"}); doc.Subject == nil || *doc.Subject != want {
					t.Errorf("Subject %+v, want %+v", doc.Subject, want)
				}
			}},
		{name: "dependency in another result", doc: `{"SchemaVersion":2,"Results":[
			{"Target":"a","Packages":[{"ID":"a@1","Name":"a","Version":"1","Identifier":{"PURL":"pkg:npm/a@1"},"DependsOn":["b@2"]}]},
			{"Target":"b","Packages":[{"Name":"b","Version":"2","Identifier":{"PURL":"pkg:npm/b@2"}}]}]}`,
			check: func(t *testing.T, doc *ingest.Document) {
				if _, ok := ingesttest.EdgesOf(doc, "DEPENDS_ON")["pkg:npm/a@1 → pkg:npm/b@2"]; !ok || doc.Counts.Relationships != 1 {
					t.Errorf("DEPENDS_ON %v; counts %+v", ingesttest.EdgesOf(doc, "DEPENDS_ON"), doc.Counts)
				}
			}},
		{name: "package without purl or name", doc: `{"SchemaVersion":2,"Results":[{"Packages":[{"Version":"1","DependsOn":["x@1"]}]}]}`,
			warnings: []string{"Results[0].Packages[0].Identifier.PURL"},
			check: func(t *testing.T, doc *ingest.Document) {
				if doc.Counts.Components != 1 || doc.Counts.Relationships != 1 || len(doc.Components) != 0 {
					t.Errorf("counts %+v, components %v", doc.Counts, doc.Components)
				}
			}},
		{name: "rpm epoch and release", doc: `{"SchemaVersion":2,"Results":[{"Packages":[{"Name":"bash","Version":"5.1","Release":"2.el9","Epoch":1}],
			"Vulnerabilities":[{"VulnerabilityID":"CVE-2022-3715","PkgName":"bash","InstalledVersion":"1:5.1-2.el9","Severity":"LOW"}]}]}`,
			warnings: []string{"Results[0].Packages[0].Identifier.PURL"},
			check: func(t *testing.T, doc *ingest.Document) {
				if !slices.Equal(doc.Components, []string{"pkg:generic/bash@1:5.1-2.el9"}) || len(ingesttest.EdgesOf(doc, "AFFECTS")) != 1 {
					t.Errorf("components %v, AFFECTS %v: the vulnerability should find the package by name and version", doc.Components, ingesttest.EdgesOf(doc, "AFFECTS"))
				}
			}},
		{name: "bad CVSS score", doc: `{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1",
			"CVSS":{"nvd":{"V3Score":12,"V3Vector":"x"},"redhat":{"V3Score":"n/a"},"ghsa":{"V3Score":4.2,"V3Vector":"CVSS:3.1/y"}}}]}]}`,
			warnings: []string{"Results[0].Vulnerabilities[0].PkgIdentifier.PURL", "Results[0].Vulnerabilities[0].CVSS.nvd", "Results[0].Vulnerabilities[0].CVSS.redhat"},
			check: func(t *testing.T, doc *ingest.Document) {
				if v := ingesttest.NodesOf(doc, graph.LabelVulnerability)["CVE-1"]; v["cvssScore"] != 4.2 || v["cvssVector"] != "CVSS:3.1/y" {
					t.Errorf("CVE-1 %v", v)
				}
			}},
		{name: "unknown statuses", doc: `{"SchemaVersion":2,"Results":[{"Target":"main.tf","Misconfigurations":[{"ID":"AVD-AWS-0086","Severity":"HIGH","Status":"WAIVED"}],
			"Vulnerabilities":[{"VulnerabilityID":"CVE-2","PkgName":"p","InstalledVersion":"1","Status":"not_affected"},{"VulnerabilityID":"CVE-3","PkgName":"p","InstalledVersion":"1","Status":"maybe"}]}]}`,
			warnings: []string{"Results[0].Vulnerabilities[0].PkgIdentifier.PURL", "Results[0].Vulnerabilities[1].PkgIdentifier.PURL", "Results[0].Vulnerabilities[1].Status", "Results[0].Misconfigurations[0].Status"},
			check: func(t *testing.T, doc *ingest.Document) {
				a := ingesttest.EdgesOf(doc, "AFFECTS")
				if a["CVE-2 → pkg:generic/p@1"]["status"] != "not_affected" || a["CVE-3 → pkg:generic/p@1"]["status"] != "affected" {
					t.Errorf("AFFECTS %v", a)
				}
				for _, f := range ingesttest.NodesOf(doc, graph.LabelFinding) {
					if f["status"] != "OPEN" || f["location"] != "main.tf" {
						t.Errorf("finding %v", f)
					}
				}
			}},
		{name: "null entries", doc: `{"SchemaVersion":2,"Metadata":null,"Results":[null,{"Packages":[null],"Vulnerabilities":[null],"Secrets":[null],"Misconfigurations":[null]}]}`,
			warnings: []string{"Results[1].Packages[0].Identifier.PURL", "Results[1].Vulnerabilities[0].VulnerabilityID"},
			check: func(t *testing.T, doc *ingest.Document) {
				if want := (ingest.Counts{Components: 1, Vulnerabilities: 1, Results: 2}); doc.Counts != want {
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
		{name: "malformed", doc: "{\n  \"SchemaVersion\": 2,\n  \"Results\": [,]\n}", line: 3, col: 15, msgContains: "malformed JSON"},
		{name: "truncated", doc: `{"SchemaVersion": 2, "Results": [`, line: 1, col: 34, msgContains: "unexpected end"},
		{name: "schema version 1", doc: `[{"Target":"x","Vulnerabilities":[]}]`, line: 1, col: 1, msgContains: "before SchemaVersion 2"},
		{name: "cyclonedx", doc: `{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{},"components":[]}`, msgContains: "this is a cyclonedx document"},
		{name: "grype", doc: `{"matches":[],"source":{"type":"image"},"descriptor":{"name":"grype"}}`, msgContains: "this is a grype document"},
		{name: "sarif", doc: `{"version":"2.1.0","runs":[]}`, msgContains: "this is a sarif document"},
		{name: "Results not an array", doc: `{"SchemaVersion":2,"Results":{}}`, path: "Results", msgContains: "Results is a JSON object"},
		{name: "Metadata not an object", doc: `{"SchemaVersion":2,"Metadata":[]}`, path: "Metadata", msgContains: "Metadata is a JSON array"},
		{name: "name not a string", doc: "{\"SchemaVersion\":2,\"Results\":[{\"Packages\":[\n{\"Name\":5}]}]}", line: 2, col: 9,
			path: "Results.Packages.Name", msgContains: "JSON number, want a string"},
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
