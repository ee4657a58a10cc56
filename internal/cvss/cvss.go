// Package cvss holds the CVSS v3 exploitability weights that both the OSV parser (base scores,
// ingest/osv) and the attack-path probability model (analytics/attackanalysis) need, so the
// specification's table is written once.
package cvss

// Exploitability3 is the CVSS v3.0/v3.1 exploitability subscore, 8.22 × AV × AC × PR × UI
// (specification section 7.1), from the metrics' one-letter values. scopeChanged selects the
// Privileges Required weights of a changed scope. ok is false when a value is not one the
// specification defines.
func Exploitability3(av, ac, pr, ui string, scopeChanged bool) (float64, bool) {
	avw, ok1 := map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}[av]
	acw, ok2 := map[string]float64{"L": 0.77, "H": 0.44}[ac]
	prs := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if scopeChanged {
		prs = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	prw, ok3 := prs[pr]
	uiw, ok4 := map[string]float64{"N": 0.85, "R": 0.62}[ui]
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, false
	}
	return 8.22 * avw * acw * prw * uiw, true
}
