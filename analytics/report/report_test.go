package report

import (
	"math"
	"slices"
	"testing"
)

func TestSeverityFor(t *testing.T) {
	tests := []struct {
		pct  float64
		want string
	}{
		{100, SeverityCritical},
		{95, SeverityCritical},
		{94.99, SeverityHigh},
		{80, SeverityHigh},
		{79.99, SeverityModerate},
		{40, SeverityModerate},
		{39.99, SeverityLow},
		{0, SeverityLow},
		{math.NaN(), SeverityLow},
	}
	for _, tt := range tests {
		if got := SeverityFor(tt.pct); got != tt.want {
			t.Errorf("SeverityFor(%v) = %s, want %s", tt.pct, got, tt.want)
		}
	}
}

func TestNewExposure(t *testing.T) {
	tests := []struct {
		name             string
		entries, exposed int
		wantPct          float64
		wantSeverity     string
	}{
		{"no entry points", 0, 0, 0, SeverityLow},
		{"all exposed", 4, 4, 100, SeverityCritical},
		{"half", 10, 5, 50, SeverityModerate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewExposure(tt.entries, tt.exposed, 3, 1, 0.25)
			if e.ExposurePct != tt.wantPct || e.Severity != tt.wantSeverity {
				t.Errorf("got %v %s, want %v %s", e.ExposurePct, e.Severity, tt.wantPct, tt.wantSeverity)
			}
			if e.CrownJewels != 3 || e.ReachableJewels != 1 || e.CompromiseEstimate != 0.25 {
				t.Errorf("counts not kept: %+v", e)
			}
		})
	}
}

func TestPathKeyAndNodeIDs(t *testing.T) {
	a, b, c := node("a", "Service", "A"), node("b", "Host", "B"), node("c", "DataStore", "C")
	tests := []struct {
		name string
		p    Path
		want string
	}{
		{"hops", Path{Entry: a, Target: c, Hops: []Hop{{From: a, To: b}, {From: b, To: c}}}, "a>b>c"},
		{"no hops, distinct target", Path{Entry: a, Target: c}, "a>c"},
		{"entry is the target", Path{Entry: a, Target: a}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PathKey(tt.p.NodeIDs()...); got != tt.want {
				t.Errorf("key = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	path := func(key string, rank int, l float64) Path { return Path{Key: key, Rank: rank, Likelihood: l} }
	keys := func(ss []PathSummary) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Key)
		}
		return out
	}
	tests := []struct {
		name                  string
		prev, cur             []Path
		nilPrev               bool
		wantNew, wantResolved []string
		wantChanged           []string
	}{
		{name: "no previous report: all new", nilPrev: true,
			cur: []Path{path("a", 1, .5), path("b", 2, .4)}, wantNew: []string{"a", "b"}},
		{name: "identical", prev: []Path{path("a", 1, .5)}, cur: []Path{path("a", 1, .5)}},
		{name: "under 1% up is not a change", prev: []Path{path("a", 1, .5)}, cur: []Path{path("a", 1, .5049)}},
		{name: "just under 1% down is not a change", prev: []Path{path("a", 1, .5)}, cur: []Path{path("a", 1, .4951)}},
		{name: "more than 1% up", prev: []Path{path("a", 1, .5)}, cur: []Path{path("a", 1, .5051)}, wantChanged: []string{"a"}},
		{name: "more than 1% down", prev: []Path{path("a", 1, .5)}, cur: []Path{path("a", 1, .49)}, wantChanged: []string{"a"}},
		{name: "from zero", prev: []Path{path("a", 1, 0)}, cur: []Path{path("a", 1, 1e-9)}, wantChanged: []string{"a"}},
		{name: "new, resolved and changed, in report order",
			prev:    []Path{path("gone1", 1, .9), path("a", 2, .5), path("gone2", 3, .1)},
			cur:     []Path{path("n2", 1, .95), path("a", 2, .6), path("n1", 3, .2)},
			wantNew: []string{"n2", "n1"}, wantResolved: []string{"gone1", "gone2"}, wantChanged: []string{"a"}},
		{name: "duplicate keys count once",
			prev: []Path{path("x", 1, .5), path("x", 2, .5)}, cur: []Path{path("y", 1, .5), path("y", 2, .4)},
			wantNew: []string{"y"}, wantResolved: []string{"x"}},
		{name: "empty key falls back to the node ids",
			prev: []Path{{Rank: 1, Likelihood: .5, Entry: node("e", "", ""), Hops: []Hop{{To: node("j", "", "")}}}},
			cur:  []Path{{Rank: 1, Key: "e>j", Likelihood: .5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prev *Report
			if !tt.nilPrev {
				prev = &Report{Paths: tt.prev}
			}
			d := Diff(prev, &Report{Paths: tt.cur})
			if d.New == nil || d.Resolved == nil || d.Changed == nil {
				t.Fatalf("nil list in %+v", d)
			}
			if got := keys(d.New); !slices.Equal(got, tt.wantNew) {
				t.Errorf("new = %v, want %v", got, tt.wantNew)
			}
			if got := keys(d.Resolved); !slices.Equal(got, tt.wantResolved) {
				t.Errorf("resolved = %v, want %v", got, tt.wantResolved)
			}
			var changed []string
			for _, c := range d.Changed {
				changed = append(changed, c.Key)
			}
			if !slices.Equal(changed, tt.wantChanged) {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
		})
	}
}

func TestDiffCarriesDetails(t *testing.T) {
	r := fixedReport()
	d := r.Delta
	if len(d.Changed) != 1 || d.Changed[0].Before != 0.40 || d.Changed[0].After != 0.4536 || d.Changed[0].Rank != 1 ||
		d.Changed[0].Entry.Name != "internet-lb" {
		t.Errorf("changed = %+v", d.Changed)
	}
	if len(d.New) != 1 || d.New[0].HopCount != 2 || d.New[0].Rank != 2 || !slices.Equal(d.New[0].Techniques, r.Paths[1].Techniques) {
		t.Errorf("new = %+v", d.New)
	}
	if len(d.Resolved) != 1 || d.Resolved[0].Rank != 3 || d.Resolved[0].Likelihood != 0.1 {
		t.Errorf("resolved = %+v", d.Resolved)
	}
}
