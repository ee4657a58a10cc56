package attackpath

// NoisyOR estimates the probability that at least one of the paths succeeds:
// 1 − Π(1 − Likelihood). It assumes the paths succeed independently, which holds only for
// paths that share no edge (and, strictly, no step that depends on another); paths that share
// edges make it overestimate, and cycles in the graph make any such estimate approximate
// (Wang et al., DBSec 2008). Pass EdgeDisjoint(paths) for a more defensible figure; label the
// result as an estimate.
func NoisyOR(paths []Path) float64 {
	miss := 1.0
	for _, p := range paths {
		miss *= 1 - min(max(p.Likelihood, 0), 1)
	}
	return 1 - miss
}

// EdgeDisjoint returns the paths, in order, that share no edge with an earlier returned path
// (greedily, so the most likely paths are kept).
func EdgeDisjoint(paths []Path) []Path {
	used := make(map[EdgeID]bool)
	var out []Path
next:
	for _, p := range paths {
		for _, e := range p.Edges {
			if used[e] {
				continue next
			}
		}
		for _, e := range p.Edges {
			used[e] = true
		}
		out = append(out, p)
	}
	return out
}
