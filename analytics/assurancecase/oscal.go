package assurancecase

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/analytics/assurance/oscal"
	"github.com/sectwin/sectwin/graph"
)

// OSCAL exports a stored case with its stored statuses, and the evidence results behind its
// Solutions (from live evaluation; nil exports no observations), as an OSCAL assessment-results
// document.
func OSCAL(c graph.AssuranceCase, statuses []graph.CaseStatus, leaves map[string]evidence.Result, now time.Time, toolVersion string) ([]byte, error) {
	m, err := ToModel(c)
	if err != nil {
		return nil, err
	}
	results := make([]assurance.ElementResult, 0, len(statuses))
	var statusAt time.Time
	for _, s := range statuses {
		var st assurance.Status
		if err := st.UnmarshalText([]byte(s.Status)); err != nil {
			return nil, fmt.Errorf("element %s: stored status: %w", s.Element, err)
		}
		var reasons []assurance.Reason
		if s.Reasons != "" {
			if err := json.Unmarshal([]byte(s.Reasons), &reasons); err != nil {
				return nil, fmt.Errorf("element %s: stored reasons: %w", s.Element, err)
			}
		}
		results = append(results, assurance.ElementResult{ID: s.Element,
			Result: assurance.Result{Status: st, Reasons: reasons, Confidence: s.Confidence, NextReevalAt: s.NextReevalAt}})
		if s.At.After(statusAt) {
			statusAt = s.At
		}
	}
	if statusAt.IsZero() {
		statusAt = now
	}
	in := oscal.FromAssurance(m, results, statusAt, nil)
	in.Case = oscal.Case{Twin: c.Twin, ID: c.ID, Name: c.Name, Version: strconv.Itoa(c.Version), Generated: now, ToolVersion: toolVersion}
	byID := map[string]graph.CaseElement{}
	for _, e := range c.Elements {
		byID[e.ID] = e
	}
	for i := range in.Elements {
		e := byID[in.Elements[i].ID]
		in.Elements[i].Text = e.Text
		for _, a := range e.About {
			in.Elements[i].About = append(in.Elements[i].About, oscal.Subject{ID: graph.ID(a.Label, c.Twin, a.Key), Label: a.Label, Title: a.Key})
		}
	}
	for i := range in.Defeaters {
		in.Defeaters[i].Text = byID[in.Defeaters[i].ID].Text
	}
	for id, r := range leaves {
		if r.Collected.IsZero() || r.Verdict == "" {
			continue // no evidence was found: nothing to observe
		}
		in.Evidence = append(in.Evidence, oscal.Evidence{ID: id + "@" + r.Collected.UTC().Format(time.RFC3339), Kind: oscalKind(r.Kind),
			Title: r.Message, Solution: id, Collected: r.Collected, Expires: r.Expires, Verdict: oscal.Verdict(r.Verdict), Collector: "sectwin"})
	}
	return oscal.Export(in)
}

func oscalKind(k evidence.Kind) oscal.EvidenceKind {
	switch k {
	case evidence.KindNoOpenVulns, evidence.KindScanFresh:
		return oscal.EvidenceVulnScan
	case evidence.KindSARIFClean:
		return oscal.EvidenceSAST
	case evidence.KindNoRuntimeAlerts, evidence.KindHeartbeat:
		return oscal.EvidenceHeartbeat
	case evidence.KindAttestation:
		return oscal.EvidenceAttestation
	case evidence.KindCypherCheck:
		return oscal.EvidenceTest
	}
	return oscal.EvidenceKind(k)
}
