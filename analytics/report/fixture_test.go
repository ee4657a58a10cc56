package report

import (
	"fmt"
	"time"
)

// evil is a user-controlled name that must never reach a rendering unescaped.
const evil = `<script>alert(1)</script>`

func node(id, label, name string) NodeRef {
	return NodeRef{ID: id, Label: label, Name: name}
}

func jewel(id, label, name string) NodeRef {
	return NodeRef{ID: id, Label: label, Name: name, Criticality: "critical", CrownJewel: true}
}

// fixedReport is the report of the golden files: three paths, one of them through a node
// named like a script, with a delta against a previous run.
func fixedReport() *Report {
	lb := node("U2VydmljZR9wcm9kH2xi", "Service", "internet-lb")
	web := node("U2VydmljZR9wcm9kH3dlYg", "Service", "web | frontend")
	vpn := node("U2VydmljZR9wcm9kH3Zwbg", "Service", "vpn-gateway")
	hostile := node("SG9zdB9wcm9kH2V2aWw", "Host", evil)
	ci := node("SWRlbnRpdHkfcHJvZB9jaQ", "Identity", "ci-deployer")
	db := jewel("RGF0YVN0b3JlH3Byb2QfZGI", "DataStore", "customers-db")
	vault := jewel("RGF0YVN0b3JlH3Byb2QfdmF1bHQ", "DataStore", "vault \"prod\"\nsecrets")

	p1 := Path{
		Rank: 1, Likelihood: 0.4536, Entry: lb, Target: db,
		Hops: []Hop{
			{From: lb, To: web, Probability: 0.9, UntracedProbability: 0.6, Technique: "T1190", Rule: "exposed-service",
				Explanation: "internet-lb forwards to web", Evidence: []string{"CVE-2024-3094 (KEV)", "route 443 → 8080"}},
			{From: web, To: ci, Probability: 0.7, Technique: "T1552.001", Rule: "credential-in-env",
				Explanation: "web's environment holds ci-deployer's token", Evidence: []string{"finding F-12"}},
			{From: ci, To: db, Probability: 0.72, Technique: "T1078.004", Rule: "iam-can-read",
				Explanation: "ci-deployer can read customers-db"},
		},
		Techniques:     []string{"T1190", "T1552.001", "T1078.004"},
		Explanation:    "Exploit the exposed web tier, steal the CI token, read the database.",
		ImpactedAssets: []NodeRef{web, ci, db},
		BaseLikelihood: 0.2016,
		SequenceLinks:  1,
		Trace: []TraceEntry{
			{Hop: 0, On: web, Kind: "ALERT", Key: "a1", Name: "ET WEB OGNL injection", Source: "suricata", Severity: "HIGH",
				Technique: "T1190", Count: 3, FirstSeen: time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC), LastSeen: time.Date(2025, 3, 1, 11, 20, 0, 0, time.UTC),
				Message: "exploit attempt " + evil, Weight: 0.71, Raise: 0.3, TechniqueMatch: true, LinkedFromHop: -1},
			{Hop: 2, On: db, Via: "db-01", Kind: "ANOMALY", Key: "n1", Name: "new_edge", Source: "anomaly", Score: 1,
				FirstSeen: time.Date(2025, 3, 1, 11, 30, 0, 0, time.UTC), LastSeen: time.Date(2025, 3, 1, 11, 30, 0, 0, time.UTC),
				Message: "first connection | " + evil, Weight: 0.3, Raise: 0.12, LinkedFromHop: 0, LinkedFromKey: "a1", LinkRaise: 0.04},
		},
	}
	p2 := Path{
		Rank: 2, Likelihood: 0.2, Entry: vpn, Target: vault,
		Hops: []Hop{
			{From: vpn, To: hostile, Probability: 0.5, Technique: "T1133", Rule: "vpn-" + evil,
				Explanation: "pivot through " + evil, Evidence: []string{evil}},
			{From: hostile, To: vault, Probability: 0.4, Technique: "T1021 | `lateral`", Rule: "ssh-trust",
				Explanation: "line one\nline two | pipe"},
		},
		Techniques:     []string{"T1133", "T1021 | `lateral`"},
		Explanation:    evil + " is on the way",
		ImpactedAssets: []NodeRef{hostile, vault},
	}
	p3 := Path{
		Rank: 3, Likelihood: 0.0004, Entry: lb, Target: vault,
		Hops: []Hop{
			{From: lb, To: vault, Probability: 0.0004, Technique: "T1190", Rule: "direct"},
		},
		Techniques: []string{"T1190"},
	}
	for _, p := range []*Path{&p1, &p2, &p3} {
		p.Key = PathKey(p.NodeIDs()...)
	}
	prev := &Report{ID: "run-41", Paths: []Path{
		{Rank: 1, Key: p1.Key, Likelihood: 0.40, Entry: lb, Target: db, Hops: p1.Hops},
		{Rank: 2, Key: p3.Key, Likelihood: 0.0004, Entry: lb, Target: vault, Hops: p3.Hops},
		{Rank: 3, Key: PathKey(vpn.ID, db.ID), Likelihood: 0.1, Entry: vpn, Target: db,
			Hops: []Hop{{From: vpn, To: db, Probability: 0.1}}},
	}}
	r := &Report{
		ID:          "run-42",
		Twin:        "prod-eu",
		Schedule:    "nightly",
		GeneratedAt: time.Date(2026, 3, 14, 2, 0, 5, 0, time.UTC),
		Duration:    1234 * time.Millisecond,
		Exposure:    NewExposure(12, 10, 4, 2, 0.5628),
		Paths:       []Path{p1, p2, p3},
		ChokePoints: []ChokePoint{
			{Node: ci, IsDominator: true, PathsBlockedPct: 33.3, MassRemoved: 0.4536, JewelsProtected: 1},
			{Node: hostile, PathsBlockedPct: 33.3, MassRemoved: 0.2, JewelsProtected: 1},
		},
		FixPlan: FixPlan{
			Actions: []FixAction{
				{Target: ci, Description: "rotate the token and move it to a secret store", MassRemovedPct: 69.4},
				{Target: hostile, Edge: "SSH trust → " + evil, Description: "remove the SSH trust | " + evil, MassRemovedPct: 30.6},
			},
			RemovedPct:         99.9,
			ResidualLikelihood: 0.0004,
		},
		PreviousID: prev.ID,
	}
	r.Delta = Diff(prev, r)
	return r
}

// emptyReport is a first report with no paths at all.
func emptyReport() *Report {
	return &Report{
		ID:          "run-1",
		Twin:        "staging",
		Schedule:    OnDemand,
		GeneratedAt: time.Date(2026, 3, 14, 2, 0, 0, 0, time.UTC),
		Exposure:    NewExposure(3, 0, 1, 0, 0),
	}
}

// hugeReport has n paths of 6 hops each.
func hugeReport(n int) *Report {
	r := &Report{ID: "huge", Twin: "big", Schedule: "hourly", GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range n {
		var hops []Hop
		prev := node(fmt.Sprintf("e%d", i), "Service", fmt.Sprintf("entry-%d", i))
		entry := prev
		for j := range 6 {
			to := node(fmt.Sprintf("n%d-%d", i, j), "Host", fmt.Sprintf("host-%d-%d", i, j))
			hops = append(hops, Hop{From: prev, To: to, Probability: 0.9, Technique: "T1021", Evidence: []string{"e"}})
			prev = to
		}
		p := Path{Rank: i + 1, Likelihood: 0.5 / float64(i+1), Entry: entry, Target: prev, Hops: hops, Techniques: []string{"T1021"}}
		p.Key = PathKey(p.NodeIDs()...)
		r.Paths = append(r.Paths, p)
	}
	r.Delta = Diff(nil, r)
	return r
}
