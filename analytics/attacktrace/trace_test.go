package attacktrace

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func alert(key, sev, tech string, first time.Time) Observation {
	return Observation{Kind: KindAlert, Key: key, Name: "rule-" + key, Severity: sev, Technique: tech, Count: 1, First: first, Last: first}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTechniqueMatches(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"T1190", "T1190", true},
		{"t1190", "T1190", true},
		{"T1078", "T1078.001", true},
		{"T1078.001", "T1078", true},
		{"T1078.001", "T1078.002", false},
		{"T1190", "T1210", false},
		{"", "T1190", false},
		{"", "", false},
	} {
		if got := TechniqueMatches(tc.a, tc.b); got != tc.want {
			t.Errorf("TechniqueMatches(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestWeight(t *testing.T) {
	p := Params{}
	for _, tc := range []struct {
		name string
		o    Observation
		step string
		now  time.Time
		want float64
	}{
		{"high alert", alert("a", "HIGH", "", t0), "T1190", t0, 0.4},
		{"severity any case", alert("a", "critical", "", t0), "", t0, 0.6},
		{"unknown severity", alert("a", "INFO", "", t0), "", t0, 0.05},
		{"matching technique corroborates twice", alert("a", "HIGH", "T1190", t0), "T1190", t0, 1 - 0.6*0.6},
		{"sub-technique matches", alert("a", "MEDIUM", "T1078.001", t0), "T1078", t0, 1 - 0.8*0.8},
		{"other technique does not", alert("a", "HIGH", "T1110", t0), "T1190", t0, 0.4},
		{"one half-life old", alert("a", "HIGH", "", t0), "", t0.Add(24 * time.Hour), 0.2},
		{"two half-lives old", alert("a", "HIGH", "", t0), "", t0.Add(48 * time.Hour), 0.1},
		{"ten times: two corroborations", Observation{Kind: KindAlert, Severity: "HIGH", Count: 10, First: t0, Last: t0}, "", t0, 1 - 0.6*0.6},
		{"anomaly new edge implies T1210", Observation{Kind: KindAnomaly, Name: "new_edge", Score: 1, First: t0}, "T1210", t0, 1 - 0.7*0.7},
		{"anomaly scaled by score", Observation{Kind: KindAnomaly, Name: "brute_force", Score: 0.5, First: t0}, "", t0, 0.15},
		{"rate z-score over 10", Observation{Kind: KindAnomaly, Name: "rate", Score: 5, First: t0}, "", t0, 0.1},
		{"rate z-score capped", Observation{Kind: KindAnomaly, Name: "rate", Score: 50, First: t0}, "", t0, 0.2},
		{"NaN score weighs nothing", Observation{Kind: KindAnomaly, Name: "rate", Score: math.NaN(), First: t0}, "", t0, 0},
		{"never certain", Observation{Kind: KindAlert, Severity: "CRITICAL", Technique: "T1190", Count: 1e9, First: t0}, "T1190", t0, maxWeight},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Weight(tc.o, tc.step, tc.now); !near(got, tc.want) {
				t.Errorf("weight %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStepRaise(t *testing.T) {
	p := Params{}
	for _, tc := range []struct {
		name  string
		prior float64
		obs   []Observation
		want  float64
	}{
		{"nothing observed", 0.3, nil, 0.3},
		{"one high alert", 0.3, []Observation{alert("a", "HIGH", "", t0)}, 1 - 0.7*0.6},
		{"two alerts, noisy-or", 0.1, []Observation{alert("a", "HIGH", "", t0), alert("b", "LOW", "", t0)}, 1 - 0.9*0.6*0.92},
		{"certain step stays certain", 1, []Observation{alert("a", "HIGH", "", t0)}, 1},
		{"impossible step gains the evidence", 0, []Observation{alert("a", "HIGH", "", t0)}, 0.4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, cs := p.StepRaise(tc.prior, "", tc.obs, t0)
			if !near(got, tc.want) {
				t.Fatalf("raised %v, want %v", got, tc.want)
			}
			var sum float64
			for i, c := range cs {
				sum += c.Raise
				if i > 0 && c.Weight > cs[i-1].Weight {
					t.Errorf("contributions not strongest first: %+v", cs)
				}
			}
			if !near(sum, got-tc.prior) {
				t.Errorf("shares add to %v, raise is %v", sum, got-tc.prior)
			}
		})
	}
	// The shares do not depend on the order of the observations.
	a, b := alert("a", "HIGH", "", t0), alert("b", "MEDIUM", "", t0)
	_, x := p.StepRaise(0.2, "", []Observation{a, b}, t0)
	_, y := p.StepRaise(0.2, "", []Observation{b, a}, t0)
	if x[0].Observation.Key != y[0].Observation.Key || !near(x[0].Raise, y[0].Raise) || !near(x[1].Raise, y[1].Raise) {
		t.Errorf("order matters: %+v vs %+v", x, y)
	}
	// At most MaxPerNode observations count.
	var many []Observation
	for i := range 30 {
		many = append(many, alert(string(rune('a'+i)), "LOW", "", t0))
	}
	if _, cs := (Params{MaxPerNode: 5}).StepRaise(0.1, "", many, t0); len(cs) != 5 {
		t.Errorf("%d contributions, want 5", len(cs))
	}
}

// hopsOf builds hops from priors and per-hop observations (nil: unobserved; transparent marks
// hops into zones and the like).
func hopsOf(p Params, priors []float64, obs [][]Observation, transparent []bool) []Hop {
	hops := make([]Hop, len(priors))
	for j := range priors {
		hops[j].Raised, hops[j].Observed = p.StepRaise(priors[j], "", obs[j], t0.Add(time.Hour))
		hops[j].Transparent = transparent != nil && transparent[j]
	}
	return hops
}

func TestSequenceRaisesMoreThanScattered(t *testing.T) {
	p := Params{}
	h := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	dmz, app, db := alert("dmz", "HIGH", "", h(0)), alert("app", "HIGH", "", h(10)), alert("db", "HIGH", "", h(20))
	priors := []float64{0.3, 1, 0.15, 0.6}
	zone := []bool{false, true, false, false}
	for _, tc := range []struct {
		name      string
		obs       [][]Observation
		transp    []bool
		wantLinks int
	}{
		{"in order across a zone", [][]Observation{{dmz}, nil, {app}, {db}}, zone, 2},
		{"out of order", [][]Observation{{db}, nil, {app}, {dmz}}, zone, 0},
		{"partly in order", [][]Observation{{dmz}, nil, {db}, {app}}, zone, 1},
		{"an unobserved service between breaks the chain", [][]Observation{{dmz}, nil, {app}, {db}}, nil, 1},
		{"one observed hop is no sequence", [][]Observation{{dmz}, nil, nil, nil}, zone, 0},
		{"same time counts as in order", [][]Observation{{dmz}, nil, {alert("app0", "HIGH", "", h(0))}, nil}, zone, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hops := hopsOf(p, priors, tc.obs, tc.transp)
			seq := p.Sequence(hops)
			if len(seq.Links) != tc.wantLinks {
				t.Fatalf("%d links, want %d: %+v", len(seq.Links), tc.wantLinks, seq.Links)
			}
			perHop := 1.0
			for _, x := range hops {
				perHop *= x.Raised
			}
			switch got := seq.Likelihood(); {
			case tc.wantLinks == 0 && !near(got, perHop):
				t.Errorf("no links, yet likelihood %v ≠ per-hop %v", got, perHop)
			case tc.wantLinks > 0 && got <= perHop:
				t.Errorf("sequence likelihood %v not above per-hop %v", got, perHop)
			}
			for _, l := range seq.Links {
				if !near(seq.P[l.To]-hops[l.To].Raised, l.Raise) || l.From >= l.To {
					t.Errorf("link %+v does not account for hop %d: %v → %v", l, l.To, hops[l.To].Raised, seq.P[l.To])
				}
			}
		})
	}
}

// bruteForce enumerates every choice of one observation or none per observed hop and returns
// the best path likelihood under the sequence rule.
func bruteForce(p Params, hops []Hop) float64 {
	p = p.WithDefaults()
	choice := make([]int, len(hops)) // -1: none
	best := 0.0
	var rec func(j int)
	rec = func(j int) {
		if j == len(hops) {
			l := 1.0
			prev, broken := -1, true
			for k, h := range hops {
				pk := h.Raised
				if len(h.Observed) > 0 {
					if !broken && prev >= 0 && choice[prev] >= 0 && choice[k] >= 0 {
						if w := p.linkWeight(hops[prev].Observed[choice[prev]], h.Observed[choice[k]]); w > 0 {
							pk = 1 - (1-pk)*(1-w)
						}
					}
					prev, broken = k, false
				} else if !h.Transparent {
					broken = true
				}
				l *= pk
			}
			best = max(best, l)
			return
		}
		for c := -1; c < len(hops[j].Observed); c++ {
			if c == -1 || len(hops[j].Observed) > 0 {
				choice[j] = c
				rec(j + 1)
			}
		}
	}
	rec(0)
	return best
}

func TestSequenceMatchesBruteForce(t *testing.T) {
	sevs := []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		p := Params{Link: 0.2 + 0.8*r.Float64()}
		n := 1 + r.IntN(6)
		priors := make([]float64, n)
		obs := make([][]Observation, n)
		transp := make([]bool, n)
		for j := range n {
			priors[j] = 0.01 + 0.99*r.Float64()
			transp[j] = r.IntN(4) == 0
			if transp[j] {
				continue
			}
			for k := range r.IntN(4) {
				obs[j] = append(obs[j], alert(string(rune('a'+j))+string(rune('a'+k)), sevs[r.IntN(4)], "", t0.Add(time.Duration(r.IntN(6))*time.Minute)))
			}
		}
		hops := hopsOf(p, priors, obs, transp)
		got, want := p.Sequence(hops).Likelihood(), bruteForce(p, hops)
		if math.Abs(got-want) > 1e-12*max(1, want) {
			t.Fatalf("seed %d: DP likelihood %v, brute force %v (hops %+v)", seed, got, want, hops)
		}
	}
}
