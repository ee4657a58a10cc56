package assurancecase

import (
	"context"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/graph"
)

// TwinEvidence is evidence.Store over the twin in Neo4j: graph.DB names its methods after
// what they read (EvidenceSubject, …) to keep them apart from its other reads.
type TwinEvidence struct{ DB *graph.DB }

var _ evidence.Store = TwinEvidence{}

func (t TwinEvidence) Subject(ctx context.Context, twin string, s evidence.SubjectRef) (evidence.SubjectFacts, error) {
	return t.DB.EvidenceSubject(ctx, twin, s)
}

func (t TwinEvidence) ScanRuns(ctx context.Context, twin string, artifacts, formats []string) ([]evidence.ScanRun, error) {
	return t.DB.EvidenceScanRuns(ctx, twin, artifacts, formats)
}

func (t TwinEvidence) Exposures(ctx context.Context, twin string, scope evidence.ExposureScope) ([]evidence.Exposure, error) {
	return t.DB.EvidenceExposures(ctx, twin, scope)
}

func (t TwinEvidence) Findings(ctx context.Context, twin string, artifacts, sources []string) ([]evidence.Finding, error) {
	return t.DB.EvidenceFindings(ctx, twin, artifacts, sources)
}

func (t TwinEvidence) Events(ctx context.Context, twin string, q evidence.EventQuery, fn func(evidence.Event) error) error {
	return t.DB.EvidenceEvents(ctx, twin, q, fn)
}

func (t TwinEvidence) LatestRelease(ctx context.Context, twin, site, pipeline string) (time.Time, error) {
	return t.DB.LatestRelease(ctx, twin, site, pipeline)
}

func (t TwinEvidence) Attestations(ctx context.Context, twin string, q evidence.AttestationQuery) ([]evidence.Attestation, error) {
	return t.DB.EvidenceAttestations(ctx, twin, q)
}

func (t TwinEvidence) ExplainCypher(ctx context.Context, twin string, q evidence.CypherQuery) (evidence.CypherPlan, error) {
	return t.DB.ExplainCypher(ctx, twin, q)
}

func (t TwinEvidence) RunCypher(ctx context.Context, twin string, q evidence.CypherQuery, accept func(evidence.CypherPlan) error) (evidence.CypherRows, error) {
	return t.DB.RunCypher(ctx, twin, q, accept)
}
