package osv

// CVSS base scores computed from vectors: OSV records carry vectors, not scores, and no CVSS
// library is among the module's dependencies. Versions 2.0, 3.0, 3.1 and 4.0 are read; only the
// base metrics count (temporal, threat, environmental and supplemental metrics are accepted
// and ignored), so the score is the base score the vector's producer published.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sectwin/sectwin/ingest/internal/severity"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/internal/cvss"
)

// cvssScore parses a vector and returns its base score and CVSS major version (2, 3 or 4).
func cvssScore(vector string) (score float64, version int, err error) {
	v := strings.TrimSpace(vector)
	switch {
	case strings.HasPrefix(v, "CVSS:4.0/"):
		s, err := cvss4(v[len("CVSS:4.0/"):])
		return s, 4, err
	case strings.HasPrefix(v, "CVSS:3.1/"):
		s, err := cvss3(v[len("CVSS:3.1/"):], true)
		return s, 3, err
	case strings.HasPrefix(v, "CVSS:3.0/"):
		s, err := cvss3(v[len("CVSS:3.0/"):], false)
		return s, 3, err
	case strings.HasPrefix(v, "CVSS:"):
		return 0, 0, fmt.Errorf("unknown CVSS version in %q", text.Cut(v, 20))
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "("), ")")
	v = strings.TrimPrefix(v, "CVSS:2.0/")
	s, err := cvss2(v)
	return s, 2, err
}

// metrics splits "K:V/K:V" into a map, checking every key against allowed (key → the values it
// may take, space-separated) and refusing repeats. required lists the keys that must be there.
func metrics(v string, allowed map[string]string, required []string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(v, "/") {
		k, val, ok := strings.Cut(part, ":")
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("%q is not a metric:value pair", text.Cut(part, 20))
		}
		vals, known := allowed[k]
		if !known {
			return nil, fmt.Errorf("unknown metric %q", text.Cut(k, 20))
		}
		if !slices.Contains(strings.Fields(vals), val) {
			return nil, fmt.Errorf("metric %s cannot be %q", k, text.Cut(val, 20))
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("metric %s given twice", k)
		}
		out[k] = val
	}
	for _, k := range required {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("base metric %s is missing", k)
		}
	}
	return out, nil
}

// CVSS v2.0 (https://www.first.org/cvss/v2/guide, section 3.2.1).

var cvss2Metrics = map[string]string{
	"AV": "L A N", "AC": "H M L", "Au": "M S N", "C": "N P C", "I": "N P C", "A": "N P C",
	"E": "U POC F H ND", "RL": "OF TF W U ND", "RC": "UC UR C ND",
	"CDP": "N L LM MH H ND", "TD": "N L M H ND", "CR": "L M H ND", "IR": "L M H ND", "AR": "L M H ND",
}

func cvss2(v string) (float64, error) {
	m, err := metrics(v, cvss2Metrics, []string{"AV", "AC", "Au", "C", "I", "A"})
	if err != nil {
		return 0, err
	}
	av := map[string]float64{"L": 0.395, "A": 0.646, "N": 1.0}[m["AV"]]
	ac := map[string]float64{"H": 0.35, "M": 0.61, "L": 0.71}[m["AC"]]
	au := map[string]float64{"M": 0.45, "S": 0.56, "N": 0.704}[m["Au"]]
	cia := map[string]float64{"N": 0, "P": 0.275, "C": 0.660}
	impact := 10.41 * (1 - (1-cia[m["C"]])*(1-cia[m["I"]])*(1-cia[m["A"]]))
	exploitability := 20 * av * ac * au
	f := 1.176
	if impact == 0 {
		f = 0
	}
	return round1(((0.6 * impact) + (0.4 * exploitability) - 1.5) * f), nil
}

// round1 rounds half up to one decimal, absorbing the binary error of the products above.
func round1(x float64) float64 {
	return math.Floor(x*10+0.5+1e-9) / 10
}

// CVSS v3.0 and v3.1 (https://www.first.org/cvss/v3.1/specification-document, section 7).

var cvss3Metrics = map[string]string{
	"AV": "N A L P", "AC": "L H", "PR": "N L H", "UI": "N R", "S": "U C", "C": "H L N", "I": "H L N", "A": "H L N",
	"E": "X U P F H", "RL": "X O T W U", "RC": "X U R C",
	"CR": "X L M H", "IR": "X L M H", "AR": "X L M H",
	"MAV": "X N A L P", "MAC": "X L H", "MPR": "X N L H", "MUI": "X N R", "MS": "X U C",
	"MC": "X H L N", "MI": "X H L N", "MA": "X H L N",
}

func cvss3(v string, v31 bool) (float64, error) {
	m, err := metrics(v, cvss3Metrics, []string{"AV", "AC", "PR", "UI", "S", "C", "I", "A"})
	if err != nil {
		return 0, err
	}
	changed := m["S"] == "C"
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	iss := 1 - (1-cia[m["C"]])*(1-cia[m["I"]])*(1-cia[m["A"]])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	exploitability, _ := cvss.Exploitability3(m["AV"], m["AC"], m["PR"], m["UI"], changed) // metrics validated them
	if impact <= 0 {
		return 0, nil
	}
	roundUp := roundUp30
	if v31 {
		roundUp = roundUp31
	}
	if changed {
		return roundUp(math.Min(1.08*(impact+exploitability), 10)), nil
	}
	return roundUp(math.Min(impact+exploitability, 10)), nil
}

// roundUp31 is CVSS v3.1's Roundup (Appendix A), which works on integers to avoid binary error.
func roundUp31(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// roundUp30 is CVSS v3.0's round up to one decimal.
func roundUp30(x float64) float64 {
	return math.Ceil(x*10) / 10
}

// CVSS v4.0 (https://www.first.org/cvss/v4.0/specification-document, section 8): the score of
// the vector's MacroVector, from FIRST's table, less the mean of its proportional distances to
// the next lower MacroVectors. Threat and environmental metrics are taken as not defined (E:A,
// CR/IR/AR:H, no modified metrics): this is the CVSS-B score.

var cvss4Metrics = map[string]string{
	"AV": "N A L P", "AC": "L H", "AT": "N P", "PR": "N L H", "UI": "N P A",
	"VC": "H L N", "VI": "H L N", "VA": "H L N", "SC": "H L N", "SI": "H L N", "SA": "H L N",
	"E": "X A P U", "CR": "X H M L", "IR": "X H M L", "AR": "X H M L",
	"MAV": "X N A L P", "MAC": "X L H", "MAT": "X N P", "MPR": "X N L H", "MUI": "X N P A",
	"MVC": "X H L N", "MVI": "X H L N", "MVA": "X H L N", "MSC": "X H L N", "MSI": "X S H L N", "MSA": "X S H L N",
	"S": "X N P", "AU": "X N Y", "R": "X A U I", "V": "X D C", "RE": "X L M H", "U": "X Clear Green Amber Red",
}

// maxMetrics4 reads the highest-severity vectors below, whose SI and SA may be S.
var maxMetrics4 = map[string]string{
	"AV": "N A L P", "AC": "L H", "AT": "N P", "PR": "N L H", "UI": "N P A",
	"VC": "H L N", "VI": "H L N", "VA": "H L N", "SC": "H L N", "SI": "S H L N", "SA": "S H L N",
	"E": "A P U", "CR": "H M L", "IR": "H M L", "AR": "H M L",
}

var errUnknownMacro = errors.New("no score for this MacroVector")

func cvss4(v string) (float64, error) {
	m, err := metrics(v, cvss4Metrics,
		[]string{"AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"})
	if err != nil {
		return 0, err
	}
	// Base metrics only; the worst case for the threat and requirement metrics.
	base := map[string]string{"E": "A", "CR": "H", "IR": "H", "AR": "H"}
	for _, k := range []string{"AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"} {
		base[k] = m[k]
	}
	return cvss4Base(base)
}

// cvss4Base scores a full set of effective metric values (E, CR, IR, AR included).
func cvss4Base(m map[string]string) (float64, error) {
	if m["VC"] == "N" && m["VI"] == "N" && m["VA"] == "N" && m["SC"] == "N" && m["SI"] == "N" && m["SA"] == "N" {
		return 0, nil
	}
	eq := macroVector(m)
	value, ok := lookup4(eq)
	if !ok {
		return 0, errUnknownMacro
	}
	lower := func(d [6]int) (float64, bool) { return lookup4(d) }
	next := func(i int) [6]int { d := eq; d[i]++; return d }
	eq1Lower, has1 := lower(next(0))
	eq2Lower, has2 := lower(next(1))
	var eq36Lower float64
	var has36 bool
	switch {
	case eq[2] == 0 && eq[5] == 0:
		// Two ways down: take the higher.
		left, hasL := lower([6]int{eq[0], eq[1], eq[2], eq[3], eq[4], eq[5] + 1})
		right, hasR := lower([6]int{eq[0], eq[1], eq[2] + 1, eq[3], eq[4], eq[5]})
		switch {
		case hasL && hasR:
			eq36Lower, has36 = math.Max(left, right), true
		case hasR:
			eq36Lower, has36 = right, true
		case hasL:
			eq36Lower, has36 = left, true
		}
	case eq[2] == 1 && eq[5] == 0:
		eq36Lower, has36 = lower([6]int{eq[0], eq[1], eq[2], eq[3], eq[4], eq[5] + 1})
	case eq[2] == 2 && eq[5] == 1:
		has36 = false // 21 → 32 does not exist
	default: // 01 → 11, 11 → 21
		eq36Lower, has36 = lower([6]int{eq[0], eq[1], eq[2] + 1, eq[3], eq[4], eq[5]})
	}
	eq4Lower, has4 := lower(next(3))
	_, has5 := lower(next(4))

	// The severity distance to the highest-severity vector of the MacroVector that is at least
	// as severe as this one.
	var maxes []map[string]string
	for _, a := range maxComposed[0][eq[0]] {
		for _, b := range maxComposed[1][eq[1]] {
			for _, c := range maxEQ36[eq[2]][eq[5]] {
				for _, d := range maxComposed[3][eq[3]] {
					for _, e := range maxComposed[4][eq[4]] {
						mv, _ := metrics(a+"/"+b+"/"+c+"/"+d+"/"+e, maxMetrics4, nil)
						maxes = append(maxes, mv)
					}
				}
			}
		}
	}
	var dist map[string]float64
	for _, mv := range maxes {
		dist = map[string]float64{}
		neg := false
		for k, lv := range levels4 {
			d := lv[m[k]] - lv[mv[k]]
			dist[k] = d
			neg = neg || d < 0
		}
		if !neg {
			break
		}
	}
	const step = 0.1
	cur1 := dist["AV"] + dist["PR"] + dist["UI"]
	cur2 := dist["AC"] + dist["AT"]
	cur36 := dist["VC"] + dist["VI"] + dist["VA"] + dist["CR"] + dist["IR"] + dist["AR"]
	cur4 := dist["SC"] + dist["SI"] + dist["SA"]

	n, sum := 0, 0.0
	if has1 {
		n++
		sum += (value - eq1Lower) * (cur1 / (float64(maxSeverity4.eq1[eq[0]]) * step))
	}
	if has2 {
		n++
		sum += (value - eq2Lower) * (cur2 / (float64(maxSeverity4.eq2[eq[1]]) * step))
	}
	if has36 {
		n++
		sum += (value - eq36Lower) * (cur36 / (float64(maxSeverity4.eq36[eq[2]][eq[5]]) * step))
	}
	if has4 {
		n++
		sum += (value - eq4Lower) * (cur4 / (float64(maxSeverity4.eq4[eq[3]]) * step))
	}
	if has5 {
		n++ // the proportion for EQ5 is always 0
	}
	if n > 0 {
		value -= sum / float64(n)
	}
	value = math.Min(math.Max(value, 0), 10)
	// Rounded half up, with FIRST's epsilon absorbing binary error (8.6 - 7.15 is 1.4499…).
	return math.Floor((value+1e-6)*10+0.5) / 10, nil
}

// macroVector returns the six equivalence-class levels (EQ1…EQ6) of a vector.
func macroVector(m map[string]string) [6]int {
	var eq [6]int
	av, pr, ui := m["AV"], m["PR"], m["UI"]
	switch {
	case av == "N" && pr == "N" && ui == "N":
		eq[0] = 0
	case (av == "N" || pr == "N" || ui == "N") && av != "P":
		eq[0] = 1
	default:
		eq[0] = 2
	}
	if !(m["AC"] == "L" && m["AT"] == "N") {
		eq[1] = 1
	}
	vc, vi, va := m["VC"], m["VI"], m["VA"]
	switch {
	case vc == "H" && vi == "H":
		eq[2] = 0
	case vc == "H" || vi == "H" || va == "H":
		eq[2] = 1
	default:
		eq[2] = 2
	}
	switch {
	case m["MSI"] == "S" || m["MSA"] == "S":
		eq[3] = 0
	case m["SC"] == "H" || m["SI"] == "H" || m["SA"] == "H":
		eq[3] = 1
	default:
		eq[3] = 2
	}
	eq[4] = map[string]int{"A": 0, "P": 1, "U": 2}[m["E"]]
	if !(m["CR"] == "H" && vc == "H" || m["IR"] == "H" && vi == "H" || m["AR"] == "H" && va == "H") {
		eq[5] = 1
	}
	return eq
}

// levels4 are the metric values' severity levels used for distances.
var levels4 = map[string]map[string]float64{
	"AV": {"N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3},
	"PR": {"N": 0.0, "L": 0.1, "H": 0.2},
	"UI": {"N": 0.0, "P": 0.1, "A": 0.2},
	"AC": {"L": 0.0, "H": 0.1},
	"AT": {"N": 0.0, "P": 0.1},
	"VC": {"H": 0.0, "L": 0.1, "N": 0.2},
	"VI": {"H": 0.0, "L": 0.1, "N": 0.2},
	"VA": {"H": 0.0, "L": 0.1, "N": 0.2},
	"SC": {"H": 0.1, "L": 0.2, "N": 0.3},
	"SI": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
	"SA": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
	"CR": {"H": 0.0, "M": 0.1, "L": 0.2},
	"IR": {"H": 0.0, "M": 0.1, "L": 0.2},
	"AR": {"H": 0.0, "M": 0.1, "L": 0.2},
}

// maxComposed lists, per equivalence class and level, the highest-severity metric values
// (EQ1, EQ2, -, EQ4, EQ5; EQ3 and EQ6 go together in maxEQ36).
var maxComposed = [5]map[int][]string{
	{0: {"AV:N/PR:N/UI:N"}, 1: {"AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"}, 2: {"AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"}},
	{0: {"AC:L/AT:N"}, 1: {"AC:H/AT:N", "AC:L/AT:P"}},
	nil,
	{0: {"SC:H/SI:S/SA:S"}, 1: {"SC:H/SI:H/SA:H"}, 2: {"SC:L/SI:L/SA:L"}},
	{0: {"E:A"}, 1: {"E:P"}, 2: {"E:U"}},
}

var maxEQ36 = map[int]map[int][]string{
	0: {0: {"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"}, 1: {"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"}},
	1: {0: {"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"},
		1: {"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"}},
	2: {1: {"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"}},
}

// maxSeverity4 are the depths of the MacroVectors (their largest severity distance, plus one),
// in steps of 0.1.
var maxSeverity4 = struct {
	eq1, eq2, eq4 map[int]int
	eq36          map[int]map[int]int
}{
	eq1:  map[int]int{0: 1, 1: 4, 2: 5},
	eq2:  map[int]int{0: 1, 1: 2},
	eq36: map[int]map[int]int{0: {0: 7, 1: 6}, 1: {0: 8, 1: 8}, 2: {1: 10}},
	eq4:  map[int]int{0: 6, 1: 5, 2: 4},
}

// lookup4 returns the score of a MacroVector from FIRST's table, or false when there is no such
// MacroVector.
func lookup4(eq [6]int) (float64, bool) {
	if eq[0] > 2 || eq[1] > 1 || eq[2] > 2 || eq[3] > 2 || eq[4] > 2 || eq[5] > 1 || eq[2] == 2 && eq[5] == 0 {
		return 0, false
	}
	// Rows hold EQ3/EQ4/EQ5/EQ6 for one EQ1/EQ2 pair, in order: EQ3 0 and 1 have EQ6 0 and 1,
	// EQ3 2 only EQ6 1.
	i := 0
	for e3 := range 3 {
		for e4 := range 3 {
			for e5 := range 3 {
				for e6 := range 2 {
					if e3 == 2 && e6 == 0 {
						continue
					}
					if e3 == eq[2] && e4 == eq[3] && e5 == eq[4] && e6 == eq[5] {
						return float64(macroScores[eq[0]*2+eq[1]][i]) / 10, true
					}
					i++
				}
			}
		}
	}
	return 0, false
}

// macroScores are FIRST's MacroVector scores, in tenths, one row per EQ1/EQ2 pair (00, 01, 10,
// 11, 20, 21), 45 MacroVectors a row in the order lookup4 walks them.
var macroScores = [6][45]uint8{
	{ // EQ1 0, EQ2 0
		100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68,
		98, 95, 95, 92, 90, 84, 93, 92, 89, 81, 81, 65, 88, 80, 78, 70, 69, 48,
		92, 82, 72, 79, 69, 50, 69, 55, 27,
	},
	{ // EQ1 0, EQ2 1
		99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71, 92, 81, 82, 71, 72, 53,
		95, 93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52, 50, 30,
		86, 75, 52, 71, 52, 29, 63, 29, 17,
	},
	{ // EQ1 1, EQ2 0
		98, 95, 94, 87, 91, 81, 94, 89, 86, 74, 77, 64, 87, 75, 74, 63, 63, 49,
		94, 89, 88, 77, 76, 67, 86, 76, 74, 58, 59, 50, 72, 57, 57, 52, 52, 25,
		83, 70, 54, 65, 58, 26, 53, 21, 13,
	},
	{ // EQ1 1, EQ2 1
		95, 90, 88, 76, 76, 70, 90, 77, 75, 62, 61, 53, 77, 66, 68, 59, 52, 30,
		89, 78, 76, 67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29, 24, 16,
		71, 59, 30, 58, 26, 15, 23, 13, 6,
	},
	{ // EQ1 2, EQ2 0
		93, 87, 86, 72, 75, 58, 86, 74, 74, 61, 56, 34, 70, 54, 52, 40, 40, 22,
		85, 75, 74, 55, 62, 51, 72, 57, 55, 41, 46, 19, 53, 36, 34, 19, 19, 8,
		64, 51, 20, 47, 21, 11, 24, 9, 4,
	},
	{ // EQ1 2, EQ2 1
		88, 75, 73, 53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22, 20, 11,
		75, 55, 58, 45, 40, 21, 61, 51, 48, 18, 20, 9, 46, 18, 17, 7, 8, 2,
		53, 24, 14, 24, 12, 5, 10, 3, 1,
	},
}

// severityOfScore names the qualitative rating of a CVSS score (severity.FromCVSS): v2 has no
// NONE or CRITICAL.
func severityOfScore(score float64, version int) string {
	sev, _ := severity.FromCVSS(score)
	if version == 2 {
		switch sev {
		case severity.None:
			return severity.Low
		case severity.Critical:
			return severity.High
		}
	}
	return sev
}
