package evidence

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestWatch(t *testing.T) {
	collected := now.Add(-day)
	vulnSpec := func(subject Subject) Spec {
		s := spec(KindNoOpenVulns, 7*day)
		s.Subject, s.Scan, s.Vulns = &subject, []string{"trivy"}, &VulnCriteria{MinSeverity: "HIGH"}
		return s
	}
	exposed := func() *fakeStore {
		st := baseStore()
		st.scans = []ScanRun{scan("1", newDigest, collected)}
		st.exposures = []Exposure{{Vulnerability: "Vulnerability:CVE-1", VulnerabilityID: "CVE-1", Severity: "LOW", Status: "affected",
			Component: "pkg:npm/a@1", Artifacts: []string{newDigest}}}
		return st
	}
	twinSpec := vulnSpec(Subject{Twin: true})
	cypher := spec(KindCypherCheck, day)
	cypher.Cypher = &CypherCheck{Query: "MATCH (n:Service {twin: $twin}) RETURN n LIMIT 1"}
	tests := []struct {
		name    string
		st      *fakeStore
		s       Spec
		watched []Dependency // must match
		ignored []Dependency // must not
		same    bool         // Watch equals Dependencies
	}{
		{name: "a service's vulnerabilities watch what was read", st: exposed(), s: vulnSpec(Subject{Service: "payment-api"}),
			watched: []Dependency{{LabelService, "payment-api"}, {LabelArtifact, newDigest}, {LabelComponent, "pkg:npm/a@1"},
				{LabelVulnerability, "CVE-1"}, {LabelArtifact, oldDigest}, {LabelContents, newDigest}},
			ignored: []Dependency{{LabelComponent, "pkg:npm/b@1"}, {LabelVulnerability, "CVE-2"}, {LabelService, "other"}, {LabelEdgeEvent, "x"}}},
		{name: "a missing subject watches the subject", st: &fakeStore{}, s: vulnSpec(Subject{Service: "ghost"}),
			watched: []Dependency{{LabelService, "ghost"}}, ignored: []Dependency{{LabelComponent, "pkg:npm/a@1"}}},
		{name: "the whole twin watches labels", st: exposed(), s: twinSpec, same: true},
		{name: "a cypher check watches everything", st: &fakeStore{}, s: cypher, same: true,
			watched: []Dependency{{"Anything", "x"}}},
		{name: "a failed evaluation falls back", st: &fakeStore{err: errors.New("down")}, s: vulnSpec(Subject{Service: "payment-api"}), same: true,
			watched: []Dependency{{LabelComponent, "pkg:npm/b@1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := Evaluate(context.Background(), tt.st, "tw", tt.s, now)
			w := Watch(tt.s, r)
			if tt.same && !slices.Equal(w, Dependencies(tt.s)) {
				t.Errorf("Watch %v, want Dependencies %v", w, Dependencies(tt.s))
			}
			for _, d := range tt.watched {
				if !Matches(w, d.Label, d.Key) {
					t.Errorf("%v not watched by %v", d, w)
				}
			}
			for _, d := range tt.ignored {
				if Matches(w, d.Label, d.Key) {
					t.Errorf("%v watched by %v", d, w)
				}
			}
			if !slices.IsSortedFunc(w, func(a, b Dependency) int {
				if a.Label != b.Label {
					return strings.Compare(a.Label, b.Label)
				}
				return strings.Compare(a.Key, b.Key)
			}) {
				t.Errorf("not sorted: %v", w)
			}
		})
	}
}
