package severity_test

import (
	"math"
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/severity"
)

func TestRank(t *testing.T) {
	order := []string{severity.None, severity.Low, severity.Medium, severity.High, severity.Critical}
	for i, s := range order {
		if got := severity.Rank(s); got != i {
			t.Errorf("Rank(%q) = %d, want %d", s, got, i)
		}
	}
	for _, s := range []string{severity.Unknown, "", "high", "SEVERE"} {
		if got := severity.Rank(s); got != -1 {
			t.Errorf("Rank(%q) = %d, want -1 (below NONE)", s, got)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  ", "", true},
		{"critical", severity.Critical, true},
		{" High ", severity.High, true},
		{"important", severity.High, true},
		{"Moderate", severity.Medium, true},
		{"MEDIUM", severity.Medium, true},
		{"negligible", severity.Low, true},
		{"minor", severity.Low, true},
		{"low", severity.Low, true},
		{"info", severity.None, true},
		{"informational", severity.None, true},
		{"none", severity.None, true},
		{"unknown", severity.Unknown, true},
		{"unspecified", severity.Unknown, true},
		{"undefined", severity.Unknown, true},
		{"severe", severity.Unknown, false},
		{"9.8", severity.Unknown, false},
	}
	for _, tt := range tests {
		if got, ok := severity.Normalize(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFromCVSS(t *testing.T) {
	tests := []struct {
		score float64
		want  string
		ok    bool
	}{
		{0, severity.None, true},
		{0.1, severity.Low, true},
		{3.9, severity.Low, true},
		{4, severity.Medium, true},
		{6.9, severity.Medium, true},
		{7, severity.High, true},
		{8.9, severity.High, true},
		{9, severity.Critical, true},
		{10, severity.Critical, true},
		{-0.1, "", false},
		{10.1, "", false},
		{math.NaN(), "", false},
		{math.Inf(1), "", false},
	}
	for _, tt := range tests {
		if got, ok := severity.FromCVSS(tt.score); got != tt.want || ok != tt.ok {
			t.Errorf("FromCVSS(%v) = %q, %v; want %q, %v", tt.score, got, ok, tt.want, tt.ok)
		}
	}
}
