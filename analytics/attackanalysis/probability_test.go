package attackanalysis

import (
	"math"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
)

func f64(v float64) *float64 { return &v }

func TestVulnProbability(t *testing.T) {
	tests := []struct {
		name  string
		v     graph.VulnFact
		want  float64
		basis string
	}{
		{"EPSS wins", graph.VulnFact{EPSS: f64(0.42), Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, 0.42, "EPSS 0.420"},
		{"easiest vector", graph.VulnFact{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, 0.5, "CVSS exploitability 3.9"},
		{"local, high complexity", graph.VulnFact{Vector: "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H"}, 0.05, "CVSS exploitability"},
		{"severity only", graph.VulnFact{Severity: "high"}, 0.25, "severity HIGH"},
		{"nothing known", graph.VulnFact{}, unknownSeverityP, "unknown severity"},
		{"KEV raises", graph.VulnFact{Severity: "LOW", KEV: true}, 1 - (1-0.03)/5, "in CISA KEV"},
		{"zero EPSS falls back", graph.VulnFact{EPSS: f64(0), Severity: "CRITICAL"}, 0.4, "severity CRITICAL"},
	}
	for _, tt := range tests {
		p, basis := vulnProbability(tt.v)
		if math.Abs(p-tt.want) > 1e-9 || !strings.Contains(basis, tt.basis) {
			t.Errorf("%s: %v (%s), want %v (%s)", tt.name, p, basis, tt.want, tt.basis)
		}
	}
}

func TestGuards(t *testing.T) {
	tests := []struct {
		rule, vector string
		want         bool
	}{
		{"exposed-exploit", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", true},
		{"exposed-exploit", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", false},
		{"reachable-exploit", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", true},
		{"reachable-exploit", "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", false},
		{"exposed-exploit", "", true}, // unknown vector: assumed network, and said so
	}
	for _, tt := range tests {
		if got, _ := admits(tt.rule, graph.VulnFact{Vector: tt.vector}); got != tt.want {
			t.Errorf("admits(%s, %q) = %t, want %t", tt.rule, tt.vector, got, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	exposed, _ := graph.AttackRuleByID("exposed-exploit")
	foothold, _ := graph.AttackRuleByID("foothold")
	name := func(id int64) string { return map[int64]string{1: "zone internet", 2: "service web"}[id] }
	local := graph.VulnFact{ID: "CVE-L", Vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
	remote := graph.VulnFact{ID: "CVE-R", EPSS: f64(0.8), Component: "pkg:npm/x@1"}

	if _, ok := evaluate("t", exposed, graph.AttackFact{From: 1, To: 2, Vulns: []graph.VulnFact{local}}, name); ok {
		t.Error("a local-only vulnerability made an exposed-exploit step")
	}
	s, ok := evaluate("t", exposed, graph.AttackFact{From: 1, To: 2, Controls: []string{"WAF"}, Detail: []string{"tcp/443"},
		Vulns: []graph.VulnFact{local, remote}}, name)
	if !ok || math.Abs(s.p-0.4) > 1e-9 || s.baseP != s.p {
		t.Fatalf("WAF should halve EPSS 0.8: %+v", s)
	}
	if len(s.evidence) != 1 || s.evidence[0] != graph.ID(graph.LabelVulnerability, "t", "CVE-R") ||
		!strings.Contains(s.explanation, "CVE-R") || !strings.Contains(s.explanation, "WAF") {
		t.Errorf("evidence %v, explanation %q", s.evidence, s.explanation)
	}
	if s, ok := evaluate("t", foothold, graph.AttackFact{From: 2, To: 1}, name); !ok || s.p != 1 || len(s.evidence) != 0 {
		t.Errorf("foothold: %+v", s)
	}
}
