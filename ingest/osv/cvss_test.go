package osv

import (
	"testing"
)

// TestCVSSScore checks computed base scores against scores from an independent implementation
// (the cvss package on PyPI, RedHat's, which follows FIRST's calculators): a seeded sample of
// every base vector of each version, and vectors with temporal, threat and environmental
// metrics, which do not change the base score. During development the whole space (729 v2,
// 2,592 v3.0, 2,592 v3.1 and 104,976 v4.0 base vectors) was compared and agreed.
func TestCVSSScore(t *testing.T) {
	tests := []struct {
		vector string
		want   float64
	}{
		{"AV:A/AC:M/Au:M/C:N/I:C/A:P", 5.4},
		{"AV:L/AC:M/Au:N/C:C/I:N/A:P", 5.4},
		{"AV:A/AC:M/Au:N/C:C/I:C/A:C", 7.9},
		{"AV:N/AC:L/Au:M/C:C/I:N/A:N", 6.1},
		{"AV:L/AC:H/Au:S/C:C/I:P/A:P", 5.0},
		{"AV:L/AC:H/Au:N/C:C/I:N/A:C", 5.6},
		{"AV:N/AC:H/Au:N/C:N/I:C/A:C", 7.1},
		{"AV:L/AC:M/Au:M/C:P/I:C/A:N", 4.8},
		{"AV:A/AC:M/Au:S/C:C/I:P/A:C", 7.0},
		{"AV:N/AC:M/Au:S/C:N/I:N/A:C", 6.3},
		{"AV:L/AC:H/Au:N/C:N/I:P/A:C", 4.7},
		{"AV:N/AC:H/Au:S/C:N/I:C/A:N", 4.9},
		{"CVSS:3.0/AV:A/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:H", 5.2},
		{"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:H", 9.6},
		{"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:L", 8.9},
		{"CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:C/C:N/I:L/A:H", 6.4},
		{"CVSS:3.0/AV:L/AC:H/PR:N/UI:R/S:C/C:L/I:H/A:N", 6.3},
		{"CVSS:3.0/AV:N/AC:L/PR:H/UI:R/S:U/C:L/I:N/A:L", 3.5},
		{"CVSS:3.0/AV:A/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L", 5.0},
		{"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8},
		{"CVSS:3.0/AV:P/AC:L/PR:H/UI:R/S:C/C:L/I:N/A:L", 3.4},
		{"CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:H/A:L", 5.8},
		{"CVSS:3.0/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:N", 0.0},
		{"CVSS:3.0/AV:P/AC:H/PR:N/UI:N/S:C/C:N/I:L/A:H", 5.7},
		{"CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:N/I:L/A:H", 5.4},
		{"CVSS:3.1/AV:A/AC:L/PR:H/UI:N/S:C/C:N/I:L/A:N", 3.4},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:C/C:N/I:H/A:H", 6.5},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:C/C:H/I:L/A:L", 6.0},
		{"CVSS:3.1/AV:P/AC:H/PR:L/UI:N/S:U/C:L/I:H/A:N", 4.6},
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:H/A:L", 8.2},
		{"CVSS:3.1/AV:P/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N", 3.4},
		{"CVSS:3.1/AV:P/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:L", 2.9},
		{"CVSS:3.1/AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:L/A:L", 6.2},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4},
		{"CVSS:3.1/AV:A/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:N", 4.8},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:L", 8.9},
		{"CVSS:3.1/AV:P/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:H", 5.3},
		{"CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:L/A:N", 5.0},
		{"CVSS:3.1/AV:A/AC:H/PR:L/UI:R/S:C/C:N/I:N/A:L", 2.6},
		{"CVSS:3.1/AV:L/AC:H/PR:N/UI:R/S:C/C:L/I:N/A:H", 6.3},
		{"CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:C/C:N/I:L/A:N", 3.0},
		{"CVSS:3.1/AV:P/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.1},
		{"CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:C/C:N/I:L/A:N", 3.5},
		{"CVSS:3.1/AV:P/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:L", 2.9},
		{"CVSS:3.1/AV:A/AC:H/PR:H/UI:R/S:U/C:N/I:L/A:H", 4.6},
		{"CVSS:3.1/AV:P/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
		{"CVSS:3.1/AV:A/AC:L/PR:N/UI:R/S:C/C:L/I:H/A:N", 7.4},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:N/A:N", 3.4},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:L/VI:N/VA:H/SC:L/SI:H/SA:L", 5.8},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:N/VC:N/VI:H/VA:H/SC:N/SI:N/SA:H", 6.9},
		{"CVSS:4.0/AV:P/AC:L/AT:N/PR:H/UI:N/VC:N/VI:L/VA:N/SC:L/SI:N/SA:L", 2.4},
		{"CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:N/VC:N/VI:L/VA:H/SC:H/SI:H/SA:H", 7.2},
		{"CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:N/VC:N/VI:N/VA:L/SC:N/SI:L/SA:H", 4.8},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 1.8},
		{"CVSS:4.0/AV:L/AC:H/AT:N/PR:H/UI:A/VC:L/VI:L/VA:L/SC:H/SI:H/SA:H", 2.4},
		{"CVSS:4.0/AV:P/AC:H/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:L", 5.4},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:H/VI:N/VA:L/SC:N/SI:L/SA:H", 7.0},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:N/UI:A/VC:L/VI:L/VA:H/SC:N/SI:H/SA:L", 6.9},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:N/VI:H/VA:L/SC:L/SI:H/SA:H", 7.2},
		{"CVSS:4.0/AV:P/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:N/SI:N/SA:N", 5.2},
		{"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:L/SA:L", 8.6},
		{"CVSS:4.0/AV:L/AC:L/AT:P/PR:H/UI:A/VC:H/VI:N/VA:H/SC:N/SI:L/SA:N", 4.4},
		{"CVSS:4.0/AV:P/AC:L/AT:P/PR:L/UI:A/VC:L/VI:H/VA:H/SC:H/SI:H/SA:H", 6.1},
		{"CVSS:4.0/AV:L/AC:H/AT:N/PR:L/UI:A/VC:L/VI:N/VA:L/SC:H/SI:N/SA:H", 2.1},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:N/VI:L/VA:N/SC:N/SI:H/SA:N", 4.1},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:P/VC:N/VI:H/VA:N/SC:H/SI:H/SA:L", 5.9},
		{"CVSS:4.0/AV:A/AC:H/AT:N/PR:N/UI:A/VC:L/VI:L/VA:L/SC:H/SI:H/SA:H", 5.2},
		{"CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:A/VC:N/VI:H/VA:L/SC:H/SI:N/SA:L", 6.9},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:N/VC:H/VI:N/VA:L/SC:L/SI:N/SA:L", 5.7},
		{"CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:H/SC:N/SI:N/SA:N", 5.9},
		{"CVSS:4.0/AV:A/AC:H/AT:P/PR:N/UI:A/VC:H/VI:H/VA:H/SC:H/SI:N/SA:N", 8.5},
		{"CVSS:4.0/AV:A/AC:L/AT:P/PR:H/UI:A/VC:N/VI:N/VA:H/SC:H/SI:N/SA:H", 5.8},
		{"CVSS:4.0/AV:A/AC:L/AT:N/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 2.4},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:P/VC:N/VI:L/VA:L/SC:H/SI:N/SA:N", 1.8},
		{"CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:A/VC:H/VI:N/VA:N/SC:N/SI:H/SA:H", 7.0},
		{"CVSS:4.0/AV:P/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:H/SC:H/SI:N/SA:L", 5.8},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:A/VC:H/VI:L/VA:N/SC:N/SI:H/SA:H", 5.8},
		{"CVSS:4.0/AV:A/AC:L/AT:N/PR:H/UI:P/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 2.4},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:N/VI:H/VA:L/SC:L/SI:H/SA:H", 7.1},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:P/VC:H/VI:N/VA:L/SC:L/SI:L/SA:N", 4.3},
		{"CVSS:4.0/AV:A/AC:L/AT:P/PR:H/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:H", 2.0},
		{"CVSS:4.0/AV:L/AC:H/AT:N/PR:L/UI:P/VC:L/VI:H/VA:N/SC:L/SI:N/SA:H", 5.7},
		{"CVSS:4.0/AV:L/AC:L/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:L/SI:L/SA:N", 5.4},
		{"CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:P/VC:N/VI:H/VA:N/SC:L/SI:H/SA:N", 5.7},
		{"CVSS:4.0/AV:P/AC:H/AT:N/PR:L/UI:A/VC:H/VI:L/VA:L/SC:H/SI:H/SA:N", 5.9},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:A/VC:N/VI:H/VA:H/SC:N/SI:L/SA:N", 5.2},
		{"CVSS:4.0/AV:A/AC:L/AT:P/PR:H/UI:N/VC:N/VI:H/VA:N/SC:N/SI:L/SA:H", 6.9},
		{"CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:P/VC:L/VI:L/VA:L/SC:H/SI:L/SA:N", 4.2},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:H/VI:L/VA:L/SC:L/SI:H/SA:H", 7.2},
		{"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:H/VI:N/VA:H/SC:H/SI:L/SA:L", 7.2},
		{"CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:A/VC:H/VI:H/VA:L/SC:H/SI:L/SA:N", 8.4},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:L/VA:L/SC:N/SI:L/SA:H", 8.3},
		{"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:L/SA:H", 4.8},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:N/UI:P/VC:H/VI:L/VA:H/SC:L/SI:L/SA:N", 4.6},
		{"CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:P/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L", 1.0},
		{"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:L/SA:H", 9.0},
		{"CVSS:4.0/AV:L/AC:L/AT:P/PR:H/UI:N/VC:N/VI:N/VA:H/SC:N/SI:H/SA:H", 6.9},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:L/SC:H/SI:L/SA:H", 6.2},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:P/VC:H/VI:H/VA:L/SC:H/SI:N/SA:N", 9.2},
		{"CVSS:4.0/AV:P/AC:L/AT:P/PR:L/UI:N/VC:H/VI:L/VA:H/SC:N/SI:L/SA:N", 4.6},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:N/VI:N/VA:L/SC:N/SI:L/SA:H", 4.8},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:N/UI:A/VC:L/VI:L/VA:H/SC:L/SI:N/SA:L", 4.4},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:N/UI:P/VC:L/VI:H/VA:H/SC:H/SI:L/SA:N", 7.0},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:P/VC:H/VI:H/VA:H/SC:N/SI:H/SA:N", 6.8},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:N/VC:N/VI:L/VA:N/SC:N/SI:H/SA:H", 2.1},
		{"CVSS:4.0/AV:A/AC:H/AT:N/PR:N/UI:A/VC:L/VI:H/VA:N/SC:H/SI:H/SA:N", 7.0},
		{"CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:P/VC:H/VI:L/VA:L/SC:H/SI:L/SA:H", 6.0},
		{"CVSS:4.0/AV:P/AC:L/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:N/SA:N", 6.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C", 9.8},
		{"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N/CR:H/MAV:L", 4.7},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C", 7.5},
		{"(AV:N/AC:M/Au:N/C:N/I:P/A:N)", 4.3},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L/MAV:P/S:P/U:Amber", 9.3},
		{"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:H/VI:L/VA:N/SC:H/SI:L/SA:N/E:U/CR:L/MAV:P/S:P/U:Amber", 5.7},
	}
	for _, tt := range tests {
		got, _, err := cvssScore(tt.vector)
		if err != nil || got != tt.want {
			t.Errorf("cvssScore(%s) = %v, %v; want %v", tt.vector, got, err, tt.want)
		}
	}
}

func TestCVSSScoreErrors(t *testing.T) {
	for _, v := range []string{
		"", "CVSS:3.1/", "CVSS:3.1/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:1",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "CVSS:5.0/AV:N", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Purple",
		"AV:N/AC:L/Au:N/C:P/I:P", "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:X", "AV:N:L/AC:L/Au:N/C:P/I:P/A:P", "high",
	} {
		if s, _, err := cvssScore(v); err == nil {
			t.Errorf("cvssScore(%q) = %v, want an error", v, s)
		}
	}
}

func TestSeverityOfScore(t *testing.T) {
	tests := []struct {
		score   float64
		version int
		want    string
	}{
		{0, 3, "NONE"}, {0.1, 3, "LOW"}, {3.9, 4, "LOW"}, {4, 3, "MEDIUM"}, {6.9, 3, "MEDIUM"}, {7, 4, "HIGH"},
		{8.9, 3, "HIGH"}, {9, 3, "CRITICAL"}, {10, 4, "CRITICAL"},
		{0, 2, "LOW"}, {3.9, 2, "LOW"}, {4, 2, "MEDIUM"}, {7, 2, "HIGH"}, {10, 2, "HIGH"},
	}
	for _, tt := range tests {
		if got := severityOfScore(tt.score, tt.version); got != tt.want {
			t.Errorf("severityOfScore(%v, v%d) = %s, want %s", tt.score, tt.version, got, tt.want)
		}
	}
}
