package attackanalysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/cvss"
)

// The probability model of attack steps. A step's probability is the chance that an attacker
// holding its source also gains its target, in the period EPSS speaks of (30 days):
//
//   - exploit steps take the best open vulnerability of the target that the rule's guard admits:
//     its EPSS when known, else a bucket of its CVSS v3 exploitability subscore, else a bucket of
//     its severity; a vulnerability in CISA's KEV catalogue is raised to at least 0.8
//     (p' = 1 − (1 − p)/5);
//   - other steps take their rule's base probability;
//   - declared controls on the target then multiply it down (controlFactors);
//   - an analyst's override replaces the result, and the computed value is kept beside it.

// exploitability buckets of the CVSS v3 exploitability subscore (8.22 × AV × AC × PR × UI,
// 0.12 to 3.89): the easiest (network, low complexity, no privileges, no interaction) are the
// likeliest.
var exploitabilityBuckets = []struct{ min, p float64 }{
	{3.8, 0.5}, {2.8, 0.3}, {1.8, 0.15}, {0, 0.05},
}

// severityBuckets are used when neither EPSS nor a CVSS vector is known.
var severityBuckets = map[string]float64{"CRITICAL": 0.4, "HIGH": 0.25, "MEDIUM": 0.1, "LOW": 0.03, "NONE": 0.01}

const unknownSeverityP = 0.1

// controlFactors say how much a control declared on a step's target lowers which rules' steps.
var controlFactors = map[string]map[string]float64{
	"WAF":        {"exposed-exploit": 0.5},
	"IPS":        {"exposed-exploit": 0.6, "reachable-exploit": 0.6},
	"EDR":        {"container-escape": 0.5, "exposed-exploit": 0.8, "reachable-exploit": 0.8},
	"MFA":        {"credential-use": 0.1, "datastore-network-access": 0.2},
	"PAM":        {"identity-access": 0.3},
	"ENCRYPTION": {"stored-credential": 0.3},
}

// vector is a parsed CVSS v3 base vector (the metrics exploitability needs).
type vector struct{ av, ac, pr, ui, scope string }

func parseVector(s string) (vector, bool) {
	var v vector
	if !strings.HasPrefix(s, "CVSS:3") {
		return v, false
	}
	for _, part := range strings.Split(s, "/")[1:] {
		k, val, ok := strings.Cut(part, ":")
		if !ok {
			return v, false
		}
		switch k {
		case "AV":
			v.av = val
		case "AC":
			v.ac = val
		case "PR":
			v.pr = val
		case "UI":
			v.ui = val
		case "S":
			v.scope = val
		}
	}
	return v, v.av != "" && v.ac != "" && v.pr != "" && v.ui != ""
}

// exploitability is the CVSS v3 exploitability subscore of v.
func (v vector) exploitability() (float64, bool) {
	return cvss.Exploitability3(v.av, v.ac, v.pr, v.ui, v.scope == "C")
}

// vulnProbability is the chance that v is exploited, and what it was based on.
func vulnProbability(v graph.VulnFact) (float64, string) {
	var p float64
	var basis string
	switch vec, ok := parseVector(v.Vector); {
	case v.EPSS != nil && *v.EPSS > 0:
		p, basis = math.Min(*v.EPSS, 1), fmt.Sprintf("EPSS %.3f", *v.EPSS)
	case ok:
		e, ok := vec.exploitability()
		if !ok {
			p, basis = unknownSeverityP, "unreadable CVSS vector"
			break
		}
		for _, b := range exploitabilityBuckets {
			if e >= b.min {
				p, basis = b.p, fmt.Sprintf("CVSS exploitability %.1f", e)
				break
			}
		}
	default:
		if sp, ok := severityBuckets[strings.ToUpper(v.Severity)]; ok {
			p, basis = sp, "severity "+strings.ToUpper(v.Severity)
		} else {
			p, basis = unknownSeverityP, "unknown severity"
		}
	}
	if v.KEV {
		p = 1 - (1-p)/5
		basis += ", in CISA KEV"
	}
	return p, basis
}

// admits is a rule's guard on one vulnerability: exposed services must be exploitable over the
// network; services reached inside a zone also over an adjacent network. An unknown vector is
// admitted (and said so), since most scanners do not report one.
func admits(rule string, v graph.VulnFact) (bool, string) {
	vec, ok := parseVector(v.Vector)
	if !ok {
		return true, "attack vector unknown, assumed network"
	}
	switch {
	case vec.av == "N":
		return true, ""
	case vec.av == "A" && rule == "reachable-exploit":
		return true, "adjacent network"
	}
	return false, ""
}

// step is one derived attack step before it is stored.
type step struct {
	from, to    int64
	rule        graph.AttackRule
	p, baseP    float64
	overridden  bool
	evidence    []string
	explanation string
}

// maxEvidence bounds the vulnerabilities listed as one step's evidence.
const maxEvidence = 10

// evaluate applies rule's guard and probability model to one fact; ok is false when the guard
// refuses every vulnerability of an exploit fact. Names turn internal ids into readable ones.
func evaluate(twin string, rule graph.AttackRule, f graph.AttackFact, name func(int64) string) (step, bool) {
	s := step{from: f.From, to: f.To, rule: rule, p: rule.Base}
	var why strings.Builder
	if rule.Exploit {
		type scored struct {
			v     graph.VulnFact
			p     float64
			basis string
		}
		var ok []scored
		for _, v := range f.Vulns {
			if pass, note := admits(rule.ID, v); pass {
				p, basis := vulnProbability(v)
				if note != "" {
					basis += "; " + note
				}
				ok = append(ok, scored{v, p, basis})
			}
		}
		if len(ok) == 0 {
			return s, false
		}
		slices.SortStableFunc(ok, func(a, b scored) int {
			if a.p != b.p {
				if a.p > b.p {
					return -1
				}
				return 1
			}
			return strings.Compare(a.v.ID, b.v.ID)
		})
		best := ok[0]
		s.p = best.p
		for i, sc := range ok {
			if i == maxEvidence {
				break
			}
			id := graph.ID(graph.LabelVulnerability, twin, sc.v.ID)
			if !slices.Contains(s.evidence, id) {
				s.evidence = append(s.evidence, id)
			}
		}
		fmt.Fprintf(&why, "exploit %s in %s (%s) on %s, %s", best.v.ID, best.v.Component, best.basis, name(f.To), describeDetail(f.Detail))
		if len(ok) > 1 {
			fmt.Fprintf(&why, "; %d more open vulnerabilities", len(ok)-1)
		}
	} else {
		fmt.Fprintf(&why, "%s → %s: %s (%s, base %.2f)", name(f.From), name(f.To), describeDetail(f.Detail), rule.ID, rule.Base)
	}
	for _, c := range f.Controls {
		if factor, ok := controlFactors[c][rule.ID]; ok {
			s.p *= factor
			fmt.Fprintf(&why, "; %s on %s ×%.2g", c, name(f.To), factor)
		}
	}
	s.baseP = s.p
	s.explanation = why.String()
	return s, s.p > 0
}

func describeDetail(d []string) string {
	if len(d) == 0 {
		return "declared"
	}
	return strings.Join(d, ", ")
}
