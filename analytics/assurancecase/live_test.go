package assurancecase

import (
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurance/evidence"
)

func TestDerivedAssessment(t *testing.T) {
	sev := assurance.Severity{Level: assurance.LevelCritical, KEV: true}
	accepted := assurance.Assessment{State: assurance.AcceptedResidual, Severity: sev,
		Acceptance: assurance.Acceptance{Approver: "a", Rationale: "r", Expires: time.Unix(1e10, 0)}}
	tests := []struct {
		name   string
		triage assurance.Assessment
		status assurance.Status // of the evidence about the doubt
		want   assurance.DefeaterState
	}{
		{"untriaged, the doubt is seen", assurance.Assessment{Severity: sev}, assurance.Undermined, assurance.Sustained},
		{"untriaged, nothing seen", assurance.Assessment{Severity: sev}, assurance.Supported, assurance.Refuted},
		{"untriaged, evidence missing", assurance.Assessment{Severity: sev}, assurance.Unknown, assurance.Open},
		{"a false positive stays refuted", assurance.Assessment{State: assurance.Refuted}, assurance.Undermined, assurance.Refuted},
		{"a confirmed doubt stays sustained", assurance.Assessment{State: assurance.Sustained}, assurance.Supported, assurance.Sustained},
		{"an accepted risk stays accepted", accepted, assurance.Undermined, assurance.AcceptedResidual},
	}
	for _, tt := range tests {
		got := derivedAssessment(tt.triage, evidence.Result{Status: tt.status})
		if got.State != tt.want || got.Severity != tt.triage.Severity {
			t.Errorf("%s: %v (%v), want %v", tt.name, got.State, got.Severity, tt.want)
		}
	}
}
