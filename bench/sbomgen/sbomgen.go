// Package sbomgen writes synthetic CycloneDX 1.6 JSON SBOMs, seeded, for ingest tests and
// benchmarks: n components with purls, m dependency edges and v vulnerabilities.
package sbomgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// Spec sizes an SBOM.
type Spec struct {
	Seed            uint64
	Components      int
	Dependencies    int // dependsOn entries in total
	Vulnerabilities int
	Subject         string // metadata.component name; its version is "1.0.0"
	CriticalEvery   int    // every n-th vulnerability is CRITICAL (0: none)
}

// Expected counts what the SBOM holds.
type Expected struct {
	Components, Dependencies, Vulnerabilities, Affects int
}

// CycloneDX returns the SBOM and what it holds.
func CycloneDX(s Spec) ([]byte, Expected) {
	rng := rand.New(rand.NewPCG(s.Seed, 0x5b0a))
	type comp struct {
		BomRef  string `json:"bom-ref"`
		Type    string `json:"type"`
		Name    string `json:"name"`
		Version string `json:"version"`
		Purl    string `json:"purl"`
	}
	comps := make([]comp, s.Components)
	for i := range comps {
		name := fmt.Sprintf("lib-%d-%x", i, rng.Uint32()&0xffff)
		ver := fmt.Sprintf("%d.%d.%d", rng.IntN(5), rng.IntN(20), rng.IntN(30))
		purl := fmt.Sprintf("pkg:npm/%s@%s", name, ver)
		comps[i] = comp{BomRef: purl, Type: "library", Name: name, Version: ver, Purl: purl}
	}
	// Dependencies: each edge from a component to one earlier in the list (a DAG), skewed
	// towards the first components, so that popular libraries have many dependents.
	deps := map[int]map[int]bool{}
	edges := 0
	for edges < s.Dependencies && s.Components > 1 {
		from := 1 + rng.IntN(s.Components-1)
		to := int(float64(from) * rng.Float64() * rng.Float64())
		if deps[from] == nil {
			deps[from] = map[int]bool{}
		}
		if deps[from][to] {
			continue
		}
		deps[from][to] = true
		edges++
	}
	type dependency struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	}
	var depList []dependency
	for i := range comps {
		if len(deps[i]) == 0 {
			continue
		}
		d := dependency{Ref: comps[i].BomRef}
		for j := range comps { // in index order: deterministic
			if deps[i][j] {
				d.DependsOn = append(d.DependsOn, comps[j].BomRef)
			}
		}
		depList = append(depList, d)
	}
	type affect struct {
		Ref string `json:"ref"`
	}
	type rating struct {
		Score    float64 `json:"score"`
		Severity string  `json:"severity"`
		Method   string  `json:"method"`
	}
	type vuln struct {
		ID      string   `json:"id"`
		Ratings []rating `json:"ratings"`
		Affects []affect `json:"affects"`
	}
	vulns := make([]vuln, s.Vulnerabilities)
	affects := 0
	for i := range vulns {
		sev, score := "high", 7.5
		if s.CriticalEvery > 0 && i%s.CriticalEvery == 0 {
			sev, score = "critical", 9.8
		}
		v := vuln{ID: fmt.Sprintf("CVE-2099-%05d", i), Ratings: []rating{{Score: score, Severity: sev, Method: "CVSSv31"}}}
		n := 1 + rng.IntN(3)
		seen := map[int]bool{}
		for range n {
			c := rng.IntN(max(s.Components, 1))
			if s.Components == 0 || seen[c] {
				continue
			}
			seen[c] = true
			v.Affects = append(v.Affects, affect{Ref: comps[c].BomRef})
			affects++
		}
		vulns[i] = v
	}
	doc := map[string]any{
		"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
		"serialNumber": fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012x", s.Seed),
		"metadata": map[string]any{"component": map[string]any{
			"bom-ref": "subject", "type": "application", "name": s.Subject, "version": "1.0.0",
			"purl": fmt.Sprintf("pkg:generic/%s@1.0.0", s.Subject)}},
		"components":      comps,
		"dependencies":    depList,
		"vulnerabilities": vulns,
	}
	data, _ := json.Marshal(doc)
	return data, Expected{Components: s.Components, Dependencies: edges, Vulnerabilities: s.Vulnerabilities, Affects: affects}
}
