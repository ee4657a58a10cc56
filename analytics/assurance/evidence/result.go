package evidence

import (
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// Confidence constants.
const (
	// DegradedFactor scales the confidence of a DEGRADED verdict (the design's "confidence
	// penalty").
	DegradedFactor = 0.5
	// MaxCulprits bounds the culprits of one result; Result.Omitted counts the rest.
	MaxCulprits = 100
)

// DefaultWeight is w_kind, the weight of a kind's evidence in its leaf confidence when the spec
// sets none: 1 for evidence a machine collects, 0.8 for a manual attestation.
func DefaultWeight(k Kind) float64 {
	if k == KindAttestation {
		return 0.8
	}
	return 1
}

// Result is the evaluation of one spec at one instant: the design's leaf rules applied to the
// evidence found. LeafResult turns it into the input of analytics/assurance.
type Result struct {
	Spec string `json:"spec,omitempty"` // the spec's id
	Kind Kind   `json:"kind"`
	// Verdict is what the evidence says when the leaf rules got that far (PASS, FAIL,
	// DEGRADED, ERROR); empty when an earlier rule decided (missing, changed, stale, knowledge
	// stale, silent monitor).
	Verdict Verdict `json:"verdict,omitempty"`
	// Status is the leaf's status as Reason implies it (DEGRADED counts as SUPPORTED here; the
	// engine's strict mode makes it UNDERMINED).
	Status assurance.Status `json:"status"`
	// Reason is zero for a plain PASS.
	Reason  assurance.Code `json:"reason,omitzero"`
	Message string         `json:"message"`
	// Culprits are global ids to blame: the vulnerabilities, findings or alerts that fail the
	// spec, the artifacts without current evidence, the stale or failing scan runs and
	// attestations. At most MaxCulprits, most severe first.
	Culprits []string `json:"culprits,omitempty"`
	Omitted  int      `json:"omitted,omitempty"` // culprits left out
	// Evidence are the global ids of what the result rests on: scan runs, an attestation.
	Evidence []string `json:"evidence,omitempty"`
	// Confidence is w_kind × freshness (assurance.LeafConfidence), halved for DEGRADED, and 0
	// when the result is UNKNOWN.
	Confidence float64 `json:"confidence"`
	// Collected is when the evidence the verdict rests on was collected (for a live query,
	// when it ran).
	Collected time.Time `json:"collected,omitzero"`
	// Expires is the first instant at which the result no longer holds by time alone
	// (evidence collected + window, an attestation's expiry, a heartbeat deadline, an alert
	// leaving the window); zero if time alone never changes it.
	Expires time.Time `json:"expires,omitzero"`
	// OnExpiry is what the leaf becomes at Expires: EVIDENCE_STALE or MONITOR_SILENT.
	OnExpiry    assurance.Code `json:"onExpiry,omitzero"`
	EvaluatedAt time.Time      `json:"evaluatedAt"`
	// Reads are the nodes the evaluation read, sorted (see Watch); nil when it failed.
	Reads []Dependency `json:"reads,omitempty"`
}

// LeafResult converts r into the evidence verdict of a Solution. Status is left for the engine
// to derive from the reason, so that its strict mode decides what DEGRADED means.
func (r Result) LeafResult() assurance.LeafResult {
	return assurance.LeafResult{
		Reason:     r.Reason,
		Culprits:   append([]string(nil), r.Culprits...),
		Confidence: r.Confidence,
		Expires:    r.Expires,
		OnExpiry:   r.OnExpiry,
	}
}

// Leaves converts results into the leaf inputs of an assurance evaluator, keyed by the
// Solution each result is for.
func Leaves(bySolution map[string]Result) map[string]assurance.LeafResult {
	out := make(map[string]assurance.LeafResult, len(bySolution))
	for id, r := range bySolution {
		out[id] = r.LeafResult()
	}
	return out
}

// statusOf is the status a leaf reason implies (DEGRADED as SUPPORTED).
func statusOf(c assurance.Code) assurance.Status {
	switch c {
	case 0, assurance.EvidenceDegraded:
		return assurance.Supported
	case assurance.EvidenceFail:
		return assurance.Undermined
	}
	return assurance.Unknown
}

// reasonOf is the reason code of a verdict.
func reasonOf(v Verdict) assurance.Code {
	switch v {
	case Fail:
		return assurance.EvidenceFail
	case Degraded:
		return assurance.EvidenceDegraded
	case Error:
		return assurance.EvidenceError
	}
	return 0
}
