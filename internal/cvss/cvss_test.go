package cvss

import (
	"math"
	"testing"
)

func TestExploitability3(t *testing.T) {
	tests := []struct {
		av, ac, pr, ui string
		changed        bool
		want           float64
		ok             bool
	}{
		{"N", "L", "N", "N", false, 3.887, true}, // the maximum
		{"N", "L", "L", "N", true, 3.110, true},  // PR:L weighs 0.68 with a changed scope
		{"N", "L", "L", "N", false, 2.835, true}, // and 0.62 without
		{"P", "H", "H", "R", false, 0.122, true}, // the minimum
		{"X", "L", "N", "N", false, 0, false},
		{"N", "L", "N", "", false, 0, false},
	}
	for _, tt := range tests {
		got, ok := Exploitability3(tt.av, tt.ac, tt.pr, tt.ui, tt.changed)
		if ok != tt.ok || math.Abs(got-tt.want) > 0.001 {
			t.Errorf("Exploitability3(%s, %s, %s, %s, %t) = %.4f, %t; want %.3f, %t", tt.av, tt.ac, tt.pr, tt.ui, tt.changed, got, ok, tt.want, tt.ok)
		}
	}
}
