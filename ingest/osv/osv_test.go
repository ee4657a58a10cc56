package osv

import (
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

func TestAdvisory(t *testing.T) {
	tests := []struct {
		file     string
		version  string
		id       string
		props    map[string]any
		warnings []string
		affected []Affected
	}{
		{
			file: "ghsa-full.osv.json", version: "1.6.0", id: "GHSA-abcd-2345-wxyz",
			props: map[string]any{ // v3 preferred to v4, the higher v3; GitHub's own rating unused
				"aliases": []string{"CVE-2024-0001"}, "summary": "Prototype pollution in example-lib",
				"severity": "HIGH", "cvssScore": 8.8, "cvssVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
				"cwes": []string{"CWE-79", "CWE-1321"},
			},
			warnings: []string{
				"database_specific.cwe_ids[3]",    // bogus
				"severity[3].score",               // unreadable vector
				"affected[1].package.purl",        // purl with a version
				"affected[1].ranges[0].events[1]", // fixed and limit in one event
				"affected[1].ranges[0].events[2]", // empty event
				"affected[1].ranges[1].type",      // BOGUS
				"affected[3].package",             // no purl type for the ecosystem
			},
			affected: []Affected{
				{VulnerabilityID: "GHSA-abcd-2345-wxyz", Purl: "pkg:npm/%40example/lib", Ecosystem: "npm", Name: "@example/lib",
					Ranges: []Range{{Type: "SEMVER", Events: []Event{{Introduced: "0"}, {Fixed: "1.4.2"}, {Introduced: "2.0.0-beta.1"}, {LastAffected: "2.1.0"}}}}},
				{VulnerabilityID: "GHSA-abcd-2345-wxyz", Purl: "pkg:pypi/example-lib", Ecosystem: "PyPI", Name: "Example_Lib",
					Ranges: []Range{
						{Type: "ECOSYSTEM", Events: []Event{{Introduced: "1.0"}, {Fixed: "1.4.2rc1", Limit: "x"}}},
						{Type: "BOGUS", Events: []Event{{Introduced: "0"}}},
						{Type: "GIT", Repo: "https://example.com/lib.git", Events: []Event{{Introduced: "0"}, {Fixed: "abc123"}}},
					},
					Versions: []string{"1.0", "1.1", "1.2", "1.3", "1.4.0", "1.4.1", "1.4.2rc0"}},
				{VulnerabilityID: "GHSA-abcd-2345-wxyz", Purl: "pkg:maven/org.example/example-core", Ecosystem: "Maven", Name: "org.example:example-core",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "1.0.0"}, {Fixed: "1.0.3.Final"}}}}},
				{VulnerabilityID: "GHSA-abcd-2345-wxyz", Ecosystem: "Unheard", Name: "thing", Versions: []string{"1"}},
			},
		},
		{
			file: "alpine.osv.json", id: "ALPINE-CVE-2023-0002",
			props: map[string]any{"aliases": []string{"CVE-2023-0002"}, "summary": "A flaw in libexample.",
				"severity": "HIGH", "cvssScore": 7.5, "cvssVector": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
			affected: []Affected{
				{VulnerabilityID: "ALPINE-CVE-2023-0002", Purl: "pkg:apk/alpine/libexample", Ecosystem: "Alpine:v3.17", Name: "libexample",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "1.2.3-r2"}}}}},
				{VulnerabilityID: "ALPINE-CVE-2023-0002", Purl: "pkg:apk/alpine/libexample", Ecosystem: "Alpine:v3.18", Name: "libexample",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "1.2.4_p1-r0"}}}}},
				{VulnerabilityID: "ALPINE-CVE-2023-0002", Purl: "pkg:deb/debian/libexample", Ecosystem: "Debian:12", Name: "libexample",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "1:1.2.3-1+deb12u1"}}}}},
				{VulnerabilityID: "ALPINE-CVE-2023-0002", Purl: "pkg:rpm/redhat/libexample", Ecosystem: "Red Hat:enterprise_linux:9::appstream", Name: "libexample",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "0:1.2.3-4.el9_2"}}}}},
			},
		},
		{
			file: "rating.osv.json", version: "1.7.0", id: "UBUNTU-CVE-2024-0003",
			props:    map[string]any{"summary": "Details only.", "severity": "HIGH"},
			warnings: []string{"severity[1]"},
			affected: []Affected{{VulnerabilityID: "UBUNTU-CVE-2024-0003", Purl: "pkg:deb/ubuntu/example?arch=source", Ecosystem: "Ubuntu:22.04:LTS", Name: "example",
				Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "1.0-1ubuntu0.1"}}}}}},
		},
		{
			file: "withdrawn.osv.json", id: "GO-2024-9999",
			props:    map[string]any{"summary": "Withdrawn: not a vulnerability"},
			warnings: []string{"database_specific.severity", "withdrawn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, affected, err := Advisory(ingesttest.ReadFile(t, "testdata/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			if doc.Version != tt.version {
				t.Errorf("Version %q, want %q", doc.Version, tt.version)
			}
			if want := (ingest.Counts{Vulnerabilities: 1}); doc.Counts != want {
				t.Errorf("Counts %+v, want %+v", doc.Counts, want)
			}
			if len(doc.Batch.Nodes) != 1 || len(doc.Batch.Edges) != 0 || len(doc.Components) != 0 {
				t.Errorf("batch %+v, want one node", doc.Batch)
			}
			vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			if !ingesttest.SameProps(vulns[tt.id], tt.props) {
				t.Errorf("%s = %v, want %v (nodes %v)", tt.id, vulns[tt.id], tt.props, vulns)
			}
			if got := ingesttest.WarningPaths(doc); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %v, want at %v", doc.Warnings, tt.warnings)
			}
			if len(affected) != len(tt.affected) {
				t.Fatalf("%d affected, want %d: %+v", len(affected), len(tt.affected), affected)
			}
			for i := range affected {
				if !sameAffected(affected[i], tt.affected[i]) {
					t.Errorf("affected[%d] = %+v, want %+v", i, affected[i], tt.affected[i])
				}
			}
			parsed, err := Parse(ingesttest.ReadFile(t, "testdata/"+tt.file))
			if err != nil || len(parsed.Batch.Nodes) != 1 {
				t.Errorf("Parse = %v, %v; want Advisory's document", parsed, err)
			}
		})
	}
}

func sameAffected(a, b Affected) bool {
	if a.VulnerabilityID != b.VulnerabilityID || a.Purl != b.Purl || a.Ecosystem != b.Ecosystem || a.Name != b.Name ||
		!slices.Equal(a.Versions, b.Versions) || len(a.Ranges) != len(b.Ranges) {
		return false
	}
	for i := range a.Ranges {
		if a.Ranges[i].Type != b.Ranges[i].Type || a.Ranges[i].Repo != b.Ranges[i].Repo || !slices.Equal(a.Ranges[i].Events, b.Ranges[i].Events) {
			return false
		}
	}
	return true
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		line, col int    // 0: not checked
		msg       string // a part of the message
	}{
		{"empty", ``, 0, 0, "empty document"},
		{"malformed", "{\n  \"id\": \"X\",\n  \"modified\": ]\n}", 3, 15, "malformed JSON"},
		{"truncated", "{\"id\": \"X\", \"affected\": [", 1, 26, "malformed JSON"},
		{"array", `[{"id":"X"}]`, 1, 1, "JSON array, want an object"},
		{"null", `null`, 0, 0, "JSON null"},
		{"no id", `{"summary":"x","affected":[]}`, 0, 0, "has an id"},
		{"no OSV field", `{"id":"X","name":"y"}`, 0, 0, "OSV fields"},
		{"CycloneDX", `{"bomFormat":"CycloneDX","specVersion":"1.5","id":"x","vulnerabilities":[]}`, 0, 0, "cyclonedx document"},
		{"OpenVEX", `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","statements":[]}`, 0, 0, "has an id"},
		{"id type", "{\"id\": 5,\n \"modified\": \"x\"}", 1, 8, "id is a JSON number, want a string"},
		{"affected type", `{"id":"X","affected":{}}`, 0, 0, "affected is a JSON object, want an array"},
		{"event type", `{"id":"X","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":0}]}]}]}`, 0, 0, "want a string"},
		{"blank id", `{"id":"  ","modified":"x"}`, 0, 0, "id is empty"},
		{"long id", `{"id":"` + strings.Repeat("x", 3000) + `","modified":"x"}`, 0, 0, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, affected, err := Advisory([]byte(tt.doc))
			if err == nil || doc != nil || affected != nil {
				t.Fatalf("Advisory = %v, %v, %v; want an error", doc, affected, err)
			}
			pe := ingesttest.AsParseError(t, format, err)
			if tt.line > 0 && (pe.Line != tt.line || pe.Column != tt.col) {
				t.Errorf("at line %d, column %d; want %d, %d (%v)", pe.Line, pe.Column, tt.line, tt.col, pe)
			}
			if !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", pe.Error(), tt.msg)
			}
		})
	}
}

// TestOrderings checks each ordering on lists in ascending order: every earlier version is
// older than every later one, and each equals itself.
func TestOrderings(t *testing.T) {
	tests := []struct {
		name   string
		cmp    comparator
		sorted [][]string // each inner list holds versions that compare equal
	}{
		{"semver", compareSemver, [][]string{{"0.0.1"}, {"1.0.0-alpha"}, {"1.0.0-alpha.1"}, {"1.0.0-alpha.beta"}, {"1.0.0-beta"},
			{"1.0.0-beta.2"}, {"1.0.0-beta.11"}, {"1.0.0-rc.1"}, {"1.0.0", "v1.0.0", "1.0", "1", "1.0.0+build.5"}, {"1.0.1"},
			{"1.2.0"}, {"1.10.0"}, {"2.0.0-0.20200101-abcdef"}, {"2.0.0"}, {"18446744073709551617.0.0"}}},
		{"pep440", comparePEP440, [][]string{{"0.9"}, {"1.0.dev1"}, {"1.0a1", "1.0alpha1", "1.0-a.1"}, {"1.0a2.dev1"}, {"1.0a2"},
			{"1.0b1"}, {"1.0rc1", "1.0c1", "1.0pre1", "1.0-preview-1"}, {"1.0", "1.0.0", "v1.0"}, {"1.0+local.1"}, {"1.0+local.2"},
			{"1.0.post1.dev1"}, {"1.0.post1", "1.0-1", "1.0r1", "1.0.rev1"}, {"1.0.1"}, {"1.1"}, {"1!0.1"}}},
		{"dpkg", compareDpkg, [][]string{{"0.9-1"}, {"1.0~rc1-1"}, {"1.0-1", "1.0-01", "0:1.0-1"}, {"1.0-1ubuntu0.1"}, {"1.0-1+deb12u1"},
			{"1.0-2"}, {"1.0a-1"}, {"1.0.1-1"}, {"1.10-1"}, {"1:0.1-1"}, {"2:0.0.1"}}},
		{"rpm", compareRpm, [][]string{{"1.0~rc1-1"}, {"1.0-1.el9", "0:1.0-1.el9"}, {"1.0-1.el9_2"}, {"1.0-2.el9"}, {"1.0^git1-1"},
			{"1.0a-1"}, {"1.0.1-1"}, {"1.10-1"}, {"1:0.9-1"}}},
		{"apk", compareApk, [][]string{{"1.0_alpha1"}, {"1.0_beta2"}, {"1.0_rc1"}, {"1.0", "1.0-r0"}, {"1.0-r1"}, {"1.0_p1"}, {"1.0a"},
			{"1.0b-r3"}, {"1.0.1"}, {"1.0.2k-r0"}, {"1.0.2q-r0"}, {"1.1"}, {"1.10"}}},
		{"generic", compareGeneric, [][]string{{"0.9"}, {"1.0-dev"}, {"1.0-alpha-1", "1.0a1", "1.0.alpha1"}, {"1.0-beta-2"}, {"1.0-M1"},
			{"1.0-zeta"}, {"1.0-RC1", "1.0.CR1"}, {"1.0-SNAPSHOT"}, {"1.0", "1.0.0", "1.0.Final", "1.0.GA", "v1.0", "0:1.0", "1.0+build"},
			{"1.0a"}, {"1.0-SP1", "1.0-post1"}, {"1.0.1"}, {"1.0.2"}, {"1.0.2q"}, {"1.0.10"}, {"2"}, {"1:0.1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, group := range tt.sorted {
				for j, other := range tt.sorted {
					for _, a := range group {
						for _, b := range other {
							c, ok := tt.cmp(a, b)
							if want := sign(i - j); !ok || c != want {
								t.Errorf("compare(%q, %q) = %d, %v; want %d", a, b, c, ok, want)
							}
						}
					}
				}
			}
		})
	}
	unreadable := []struct {
		name string
		cmp  comparator
		v    string
	}{
		{"semver", compareSemver, "1.0.0.0"}, {"semver", compareSemver, "one"}, {"semver", compareSemver, "1.0.0-"},
		{"pep440", comparePEP440, "1.0-foo"}, {"dpkg", compareDpkg, "a:1.0"}, {"dpkg", compareDpkg, "1.0 beta"},
		{"rpm", compareRpm, "x:1"}, {"apk", compareApk, "1.0-foo"}, {"generic", compareGeneric, "latest"},
		{"generic", compareGeneric, strings.Repeat("1", 300)},
	}
	for _, u := range unreadable {
		if _, ok := u.cmp(u.v, "1.0"); ok {
			t.Errorf("%s reads %q", u.name, u.v)
		}
	}
}

func TestAffects(t *testing.T) {
	adv := map[string][]Affected{}
	for _, f := range []string{"ghsa-full.osv.json", "alpine.osv.json", "rating.osv.json"} {
		_, a, err := Advisory(ingesttest.ReadFile(t, "testdata/"+f))
		if err != nil {
			t.Fatal(err)
		}
		adv[f] = a
	}
	ghsa, distro, rating := adv["ghsa-full.osv.json"], adv["alpine.osv.json"], adv["rating.osv.json"]
	tests := []struct {
		name          string
		a             Affected
		purl, version string
		affected      bool
		fixed         string
		ok            bool
	}{
		{"semver in first interval", ghsa[0], "pkg:npm/%40example/lib@1.4.1", "", true, "1.4.2", true},
		{"semver from zero", ghsa[0], "pkg:npm/@example/lib@0.0.1", "", true, "1.4.2", true},
		{"semver fixed", ghsa[0], "pkg:npm/%40example/lib@1.4.2", "", false, "", true},
		{"semver between intervals", ghsa[0], "pkg:npm/%40example/lib@2.0.0-beta.0", "", false, "", true},
		{"semver pre-release introduced", ghsa[0], "pkg:npm/%40example/lib@2.0.0-beta.1", "", true, "", true},
		{"semver last_affected", ghsa[0], "pkg:npm/%40example/lib@2.1.0", "", true, "", true},
		{"semver after last_affected", ghsa[0], "pkg:npm/%40example/lib@2.1.1", "", false, "", true},
		{"version argument wins", ghsa[0], "pkg:npm/%40example/lib@9.9.9", "1.0.0", true, "1.4.2", true},
		{"another package", ghsa[0], "pkg:npm/lib@1.0.0", "", false, "", true},
		{"another type", ghsa[0], "pkg:pypi/lib@1.0.0", "", false, "", true},
		{"no version", ghsa[0], "pkg:npm/%40example/lib", "", false, "", false},
		{"unreadable purl", ghsa[0], "npm:lib@1", "", false, "", false},
		{"no purl: version only", ghsa[0], "", "1.3.0", true, "1.4.2", true},
		{"pep440 in range and versions", ghsa[1], "pkg:pypi/Example_Lib@1.4.2rc0", "", true, "1.4.2rc1", true},
		{"pep440 in range", ghsa[1], "pkg:pypi/example-lib@1.2", "", true, "1.4.2rc1", true},
		{"pep440 outside, unknown range type", ghsa[1], "pkg:pypi/example-lib@1.4.2", "", false, "", false},
		{"maven generic in range", ghsa[2], "pkg:maven/org.example/example-core@1.0.3-RC1", "", true, "1.0.3.Final", true},
		{"maven generic fixed", ghsa[2], "pkg:maven/org.example/example-core@1.0.3", "", false, "", true},
		{"maven generic service pack", ghsa[2], "pkg:maven/org.example/example-core@1.0.3-SP1", "", false, "", true},
		{"maven generic unreadable", ghsa[2], "pkg:maven/org.example/example-core@latest", "", false, "", false},
		{"no record purl", ghsa[3], "pkg:generic/thing@1", "", false, "", false},
		{"no record purl, version listed", ghsa[3], "", "1", true, "", true},
		{"no record purl, version not listed", ghsa[3], "", "2", false, "", true},
		{"apk in release", distro[0], "pkg:apk/alpine/libexample@1.2.3-r1?arch=x86_64&distro=alpine-3.17.2", "", true, "1.2.3-r2", true},
		{"apk other release", distro[0], "pkg:apk/alpine/libexample@1.2.3-r1?distro=alpine-3.18.0", "", false, "", true},
		{"apk no release", distro[0], "pkg:apk/alpine/libexample@1.2.3-r2", "", false, "", true},
		{"apk by upstream", distro[0], "pkg:apk/alpine/libexample-dev@1.2.3-r1?distro=alpine-3.17.2&upstream=libexample", "", true, "1.2.3-r2", true},
		{"apk suffix", distro[1], "pkg:apk/alpine/libexample@1.2.4-r0?distro=alpine-3.18.1", "", true, "1.2.4_p1-r0", true},
		{"apk suffix fixed", distro[1], "pkg:apk/alpine/libexample@1.2.4_p1-r0?distro=alpine-3.18.1", "", false, "", true},
		{"apk pre-release", distro[1], "pkg:apk/alpine/libexample@1.2.4_rc1-r0", "", true, "1.2.4_p1-r0", true},
		{"dpkg epoch", distro[2], "pkg:deb/debian/libexample@1.2.4-1?distro=debian-12", "", true, "1:1.2.3-1+deb12u1", true},
		{"dpkg in range", distro[2], "pkg:deb/debian/libexample@1:1.2.3-1?distro=debian-12.5", "", true, "1:1.2.3-1+deb12u1", true},
		{"dpkg fixed", distro[2], "pkg:deb/debian/libexample@1:1.2.3-1+deb12u1?distro=debian-12", "", false, "", true},
		{"dpkg other release", distro[2], "pkg:deb/debian/libexample@1:1.2.3-1?distro=debian-11", "", false, "", true},
		{"dpkg code name", distro[2], "pkg:deb/debian/libexample@1:1.2.3-1?distro=bookworm", "", true, "1:1.2.3-1+deb12u1", true},
		{"dpkg by upstream", distro[2], "pkg:deb/debian/libexample1@1:1.2.3-1?upstream=libexample%401%3A1.2.3-1", "", true, "1:1.2.3-1+deb12u1", true},
		{"rpm in range", distro[3], "pkg:rpm/redhat/libexample@1.2.3-3.el9?arch=x86_64&distro=rhel-9.2", "", true, "0:1.2.3-4.el9_2", true},
		{"rpm namespace alias", distro[3], "pkg:rpm/rhel/libexample@1.2.3-3.el9", "", true, "0:1.2.3-4.el9_2", true},
		{"rpm fixed", distro[3], "pkg:rpm/redhat/libexample@1.2.3-4.el9_2", "", false, "", true},
		{"rpm other release", distro[3], "pkg:rpm/redhat/libexample@1.2.3-3.el8?distro=rhel-8.6", "", false, "", true},
		{"ubuntu", rating[0], "pkg:deb/ubuntu/example@1.0-1?distro=ubuntu-22.04", "", true, "1.0-1ubuntu0.1", true},
		{"ubuntu fixed", rating[0], "pkg:deb/ubuntu/example@1.0-1ubuntu0.1?distro=ubuntu-22.04", "", false, "", true},
		{"ubuntu other release", rating[0], "pkg:deb/ubuntu/example@1.0-1?distro=ubuntu-20.04", "", false, "", true},
		{"git only", Affected{Purl: "pkg:generic/x", Ranges: []Range{{Type: "GIT", Events: []Event{{Introduced: "0"}}}}}, "pkg:generic/x@1.0", "", false, "", false},
		{"git resolved by versions", Affected{Purl: "pkg:generic/x", Versions: []string{"1.0"}, Ranges: []Range{{Type: "GIT", Events: []Event{{Introduced: "0"}}}}}, "pkg:generic/x@1.1", "", false, "", true},
		{"unreadable event", Affected{Purl: "pkg:golang/x", Ecosystem: "Go", Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "abc"}}}}}, "pkg:golang/x@v1.0.0", "", false, "", false},
		{"go versions with v", Affected{Purl: "pkg:golang/x", Ecosystem: "Go", Versions: []string{"1.0.0"}}, "pkg:golang/x@v1.0.0", "", true, "", true},
		{"introduced and fixed at one version", Affected{Purl: "pkg:npm/x", Ecosystem: "npm", Ranges: []Range{{Type: "SEMVER", Events: []Event{{Introduced: "1.0.0"}, {Fixed: "1.0.0"}}}}}, "pkg:npm/x@1.0.0", "", false, "", true},
		{"unsorted events", Affected{Purl: "pkg:npm/x", Ecosystem: "npm", Ranges: []Range{{Type: "SEMVER", Events: []Event{{Fixed: "2.0.0"}, {Introduced: "1.5.0"}, {Fixed: "1.2.0"}, {Introduced: "0"}}}}}, "pkg:npm/x@1.6.0", "", true, "2.0.0", true},
		{"earliest fix of two ranges", Affected{Purl: "pkg:npm/x", Ecosystem: "npm", Ranges: []Range{
			{Type: "SEMVER", Events: []Event{{Introduced: "0"}, {Fixed: "3.0.0"}}}, {Type: "ECOSYSTEM", Events: []Event{{Introduced: "1.0.0"}, {Fixed: "1.5.0"}}}}},
			"pkg:npm/x@1.2.0", "", true, "1.5.0", true},
		{"affected despite an undecided range", Affected{Purl: "pkg:npm/x", Ecosystem: "npm", Ranges: []Range{
			{Type: "GIT", Events: []Event{{Introduced: "0"}}}, {Type: "SEMVER", Events: []Event{{Introduced: "0"}}}}},
			"pkg:npm/x@1.2.0", "", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			affected, fixed, ok := Affects(tt.a, tt.purl, tt.version)
			if affected != tt.affected || fixed != tt.fixed || ok != tt.ok {
				t.Errorf("Affects(%s, %q) = %v, %q, %v; want %v, %q, %v", tt.purl, tt.version, affected, fixed, ok, tt.affected, tt.fixed, tt.ok)
			}
		})
	}
}

func TestEcosystemPurl(t *testing.T) {
	tests := []struct{ eco, name, want string }{
		{"npm", "@scope/pkg", "pkg:npm/%40scope/pkg"},
		{"npm", "left-pad", "pkg:npm/left-pad"},
		{"PyPI", "Django_Rest", "pkg:pypi/django-rest"},
		{"Go", "github.com/Gin-Gonic/gin", "pkg:golang/github.com/gin-gonic/gin"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "pkg:maven/org.apache.logging.log4j/log4j-core"},
		{"crates.io", "serde", "pkg:cargo/serde"},
		{"Packagist", "laravel/framework", "pkg:composer/laravel/framework"},
		{"RubyGems", "rails", "pkg:gem/rails"},
		{"Debian:12", "openssl", "pkg:deb/debian/openssl"},
		{"Alpine:v3.18", "openssl", "pkg:apk/alpine/openssl"},
		{"Rocky Linux:9", "openssl", "pkg:rpm/rocky-linux/openssl"},
		{"OSS-Fuzz", "thing", ""},
		{"npm", "", ""},
	}
	for _, tt := range tests {
		if got := ecosystemPurl(tt.eco, tt.name); got != tt.want {
			t.Errorf("ecosystemPurl(%q, %q) = %q, want %q", tt.eco, tt.name, got, tt.want)
		}
	}
}
