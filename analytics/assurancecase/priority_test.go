package assurancecase

import (
	"testing"

	"github.com/sectwin/sectwin/analytics/assurance"
)

func TestPriority(t *testing.T) {
	tests := []struct {
		crit    string
		jewel   bool
		weakest assurance.Status
		score   int
		level   string
	}{
		{"", false, assurance.Supported, 1, "LOW"},
		{"LOW", false, 0, 2, "LOW"},
		{"MEDIUM", false, assurance.Undeveloped, 4, "MEDIUM"},
		{"HIGH", false, assurance.Unknown, 9, "HIGH"},
		{"CRITICAL", false, assurance.Supported, 4, "MEDIUM"},
		{"CRITICAL", false, assurance.Undermined, 16, "CRITICAL"},
		{"LOW", true, assurance.Unknown, 12, "CRITICAL"},
		{"HIGH", false, assurance.Undermined, 12, "CRITICAL"},
		{"bogus", false, assurance.Undermined, 4, "MEDIUM"},
	}
	for _, tt := range tests {
		score, level := Priority(tt.crit, tt.jewel, tt.weakest)
		if score != tt.score || level != tt.level {
			t.Errorf("Priority(%q, %v, %v) = %d %s, want %d %s", tt.crit, tt.jewel, tt.weakest, score, level, tt.score, tt.level)
		}
	}
	// A weaker claim never lowers the priority.
	order := []assurance.Status{assurance.Supported, assurance.Undeveloped, assurance.Unknown, assurance.Undermined}
	for _, crit := range []string{"", "MEDIUM", "HIGH", "CRITICAL"} {
		prev := 0
		for _, s := range order {
			score, _ := Priority(crit, false, s)
			if score < prev {
				t.Errorf("%s: %v lowers the score to %d", crit, s, score)
			}
			prev = score
		}
	}
}
