package osv

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"testing"
)

// TestDpkgAgainstDpkg compares compareDpkg with dpkg itself on seeded random versions, where
// dpkg is installed.
func TestDpkgAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg is not installed: the ordering is checked by TestOrderings only")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{".", "~rc", "+deb", "a", "b", ".0", "~", "+", "ubuntu", "-"}
	random := func() string {
		s := ""
		if rng.IntN(5) == 0 {
			s = fmt.Sprintf("%d:", rng.IntN(3))
		}
		s += fmt.Sprint(rng.IntN(12))
		for range rng.IntN(5) {
			s += parts[rng.IntN(len(parts))] + fmt.Sprint(rng.IntN(20))
		}
		return s
	}
	holds := func(a, op, b string) bool { return exec.Command(dpkg, "--compare-versions", a, op, b).Run() == nil }
	for range 150 {
		a, b := random(), random()
		want := 0
		switch {
		case holds(a, "lt", b):
			want = -1
		case holds(a, "gt", b):
			want = 1
		}
		if got, ok := compareDpkg(a, b); !ok || got != want {
			t.Errorf("compareDpkg(%q, %q) = %d, %v; dpkg says %d", a, b, got, ok, want)
		}
	}
}
