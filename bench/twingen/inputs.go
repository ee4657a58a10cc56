package twingen

import (
	"cmp"
	"slices"
	"strings"
)

// Inputs for benchmarks: keys that give queries non-trivial answers, and the answers' sizes as
// the generated twin has them, to check what a query returns.

// DependencyCount is how many components purl reaches over 1 to depth DEPENDS_ON hops, and the
// greatest distance at which one is first reached; (0, 0) for an unknown purl.
func (t *Twin) DependencyCount(purl string, depth int) (n, deepest int) {
	c := slices.Index(t.keys[t.off[lComponent]:t.off[lComponent+1]], purl)
	if c < 0 {
		return 0, 0
	}
	return t.reach(int32(c), depth)
}

func (t *Twin) reach(c int32, depth int) (n, deepest int) {
	seen := map[int32]bool{c: true}
	frontier := []int32{c}
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		var next []int32
		for _, x := range frontier {
			for _, y := range t.deps[x] {
				if !seen[y] {
					seen[y] = true
					next = append(next, y)
				}
			}
		}
		if len(next) > 0 {
			deepest = d
		}
		n += len(next)
		frontier = next
	}
	return n, deepest
}

// DeepPurls returns up to n purls of components whose dependencies go at least depth hops deep
// and reach many components, varied (not only the very largest trees), deterministic.
func (t *Twin) DeepPurls(n, depth int) []string {
	comps := t.count(lComponent)
	step := max(1, comps/4000)
	type cand struct {
		c     int32
		reach int
	}
	var cands []cand
	for c := 0; c < comps; c += step {
		if r, d := t.reach(int32(c), depth); d == depth {
			cands = append(cands, cand{int32(c), r})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(b.reach-a.reach, int(a.c-b.c)) })
	return spread(cands[:min(len(cands), 4*n)], n, func(x cand) string { return t.keys[t.gi(lComponent, int(x.c))] })
}

// spread takes n items evenly from a sorted list.
func spread[T any](list []T, n int, key func(T) string) []string {
	var out []string
	for i := range min(n, len(list)) {
		out = append(out, key(list[i*len(list)/min(n, len(list))]))
	}
	return out
}

// index of services by the artifacts they run, and of artifacts by the components they contain.
func (t *Twin) serviceIndex() (runners map[int32][]int32, holders map[int32][]int32) {
	runners, holders = map[int32][]int32{}, map[int32][]int32{}
	for _, e := range t.edges {
		switch e.typ {
		case eRuns:
			runners[e.to] = append(runners[e.to], e.from)
		case eContains:
			holders[e.to] = append(holders[e.to], e.from)
		}
	}
	return runners, holders
}

// affected returns the services (global indexes, sorted) that run an artifact containing a
// component the vulnerability (global index) affects.
func (t *Twin) affected(v int32, runners, holders map[int32][]int32, affects map[int32][]int32) []int32 {
	var out []int32
	for _, c := range affects[v] {
		for _, a := range holders[c] {
			for _, s := range runners[a] {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func (t *Twin) affectsIndex() map[int32][]int32 {
	out := map[int32][]int32{}
	for _, e := range t.edges {
		if e.typ == eAffects {
			out[e.from] = append(out[e.from], e.to)
		}
	}
	return out
}

// AffectedServices returns the names of the services that carry a component the vulnerability
// affects (Service RUNS Artifact CONTAINS Component), sorted.
func (t *Twin) AffectedServices(vulnID string) []string {
	v := slices.Index(t.keys[t.off[lVulnerability]:t.off[lVulnerability+1]], vulnID)
	if v < 0 {
		return nil
	}
	runners, holders := t.serviceIndex()
	var out []string
	for _, s := range t.affected(t.gi(lVulnerability, v), runners, holders, t.affectsIndex()) {
		out = append(out, t.keys[s])
	}
	slices.Sort(out)
	return out
}

// VulnsWithServices returns up to n vulnerability ids that reach between 2 and maxServices
// running services, spread over that range, those reaching most first; deterministic.
func (t *Twin) VulnsWithServices(n, maxServices int) []string {
	runners, holders := t.serviceIndex()
	affects := t.affectsIndex()
	type cand struct {
		v        int32
		services int
	}
	var cands []cand
	for v := t.off[lVulnerability]; v < t.off[lVulnerability+1]; v++ {
		if k := len(t.affected(v, runners, holders, affects)); k >= 2 && k <= maxServices {
			cands = append(cands, cand{v, k})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(b.services-a.services, int(a.v-b.v)) })
	return spread(cands, n, func(x cand) string { return t.keys[x.v] })
}

// PurlPrefixes returns the purl prefixes of the ecosystems ("pkg:npm/", "pkg:maven/"…) and of
// npm scopes ("pkg:npm/%40") that at least least components start with.
func (t *Twin) PurlPrefixes(least int) []string {
	var out []string
	for _, p := range []string{"pkg:npm/", "pkg:maven/", "pkg:pypi/", "pkg:golang/", "pkg:npm/%40"} {
		if t.CountPrefix(p) >= least {
			out = append(out, p)
		}
	}
	return out
}

// CountPrefix is how many components' purls start with prefix.
func (t *Twin) CountPrefix(prefix string) int {
	n := 0
	for _, k := range t.keys[t.off[lComponent]:t.off[lComponent+1]] {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}
