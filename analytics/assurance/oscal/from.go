package oscal

import (
	"slices"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// FromAssurance fills what the status engine knows of an Input: every element of m (id, kind,
// module, SUPPORTED_BY links, the element an away element stands for), every defeater (kind,
// challenges, triage) and the results, all computed at statusAt. The model carries the initial
// triage of the defeaters; triage, if not nil, gives their current one by id (as last given to
// assurance.Evaluator.Set or Update).
//
// The caller adds the rest: Case, the elements' Text and About, the defeaters' Text, Source and
// Acceptance.ApprovedAt, Evidence and Coverage.
func FromAssurance(m *assurance.Model, results []assurance.ElementResult, statusAt time.Time, triage map[string]assurance.Assessment) Input {
	var in Input
	for _, id := range m.IDs() {
		if e, ok := m.Element(id); ok {
			el := Element{ID: id, Kind: e.Kind, Module: e.Module, SupportedBy: slices.Clone(m.SupportedBy(id))}
			if e.Away != nil {
				el.AwayOf = e.Away.ID
			}
			in.Elements = append(in.Elements, el)
			continue
		}
		d, ok := m.Defeater(id)
		if !ok {
			continue
		}
		a := d.Assessment
		if t, ok := triage[id]; ok {
			a = t
		}
		in.Defeaters = append(in.Defeaters, Defeater{
			ID:          id,
			Module:      d.Module,
			Kind:        d.Kind,
			Challenges:  slices.Clone(d.Challenges),
			State:       a.State,
			Severity:    a.Severity,
			Probability: a.Probability,
			Acceptance: Acceptance{
				Approver:  a.Acceptance.Approver,
				Rationale: a.Acceptance.Rationale,
				Expires:   a.Acceptance.Expires,
			},
		})
	}
	for _, r := range results {
		in.Results = append(in.Results, Result{
			Element:      r.ID,
			Status:       r.Status,
			Reasons:      slices.Clone(r.Reasons),
			Confidence:   r.Confidence,
			StatusAt:     statusAt,
			NextReevalAt: r.NextReevalAt,
			Label:        r.Label,
			Residual:     r.Residual,
		})
	}
	return in
}
