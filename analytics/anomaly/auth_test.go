package anomaly

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// authAt is an event at t0 + sec seconds.
func authAt(sec float64, principal, src string, success bool, ref string) AuthEvent {
	return AuthEvent{Time: t0.Add(time.Duration(sec * float64(time.Second))), Principal: principal, Src: src, Success: success, Ref: ref}
}

func fail(sec float64, principal, ref string) AuthEvent {
	return authAt(sec, principal, "10.0.0.7", false, ref)
}
func ok(sec float64, principal, ref string) AuthEvent {
	return authAt(sec, principal, "10.0.0.7", true, ref)
}

// bf is an expected finding: the event index it comes at, whether it is a success, and its
// evidence refs.
type bf struct {
	at        int
	succeeded bool
	refs      []string
	span      time.Duration
}

func TestBruteForce(t *testing.T) {
	opt := BruteForceOptions{Failures: 3, Window: time.Minute}
	tests := []struct {
		name   string
		opt    BruteForceOptions
		events []AuthEvent
		want   []bf
	}{
		{
			name:   "three failures in a minute",
			events: []AuthEvent{fail(0, "alice", "f1"), fail(10, "alice", "f2"), fail(20, "alice", "f3")},
			want:   []bf{{at: 2, refs: []string{"f1", "f2", "f3"}, span: 20 * time.Second}},
		},
		{
			name:   "window is half-open: a failure exactly a window before is out",
			events: []AuthEvent{fail(0, "alice", "f1"), fail(30, "alice", "f2"), fail(60, "alice", "f3")},
			want:   nil,
		},
		{
			name:   "just inside the window",
			events: []AuthEvent{fail(0, "alice", "f1"), fail(30, "alice", "f2"), fail(59.999, "alice", "f3")},
			want:   []bf{{at: 2, refs: []string{"f1", "f2", "f3"}, span: 59999 * time.Millisecond}},
		},
		{
			name: "the window slides",
			events: []AuthEvent{
				fail(0, "alice", "f1"), fail(50, "alice", "f2"), fail(70, "alice", "f3"), // f1 out at 70
				fail(100, "alice", "f4"), // f2, f3, f4 within (40, 100]
			},
			want: []bf{{at: 3, refs: []string{"f2", "f3", "f4"}, span: 50 * time.Second}},
		},
		{
			name: "keys are apart",
			events: []AuthEvent{
				fail(0, "alice", "a1"), fail(1, "bob", "b1"), fail(2, "alice", "a2"), fail(3, "bob", "b2"),
				fail(4, "bob", "b3"),
			},
			want: []bf{{at: 4, refs: []string{"b1", "b2", "b3"}, span: 3 * time.Second}},
		},
		{
			name: "one report per window, again once a window has passed since it",
			events: []AuthEvent{
				fail(0, "alice", "f1"), fail(1, "alice", "f2"), fail(2, "alice", "f3"), // report at 2
				fail(3, "alice", "f4"), fail(61, "alice", "f5"), // last report at 2 > 61 − 60: none
				fail(62, "alice", "f6"), // 2 ≤ 62 − 60, and f4 f5 f6 in (2, 62]: report
				fail(63, "alice", "f7"), // last report at 62: none
			},
			want: []bf{
				{at: 2, refs: []string{"f1", "f2", "f3"}, span: 2 * time.Second},
				{at: 5, refs: []string{"f4", "f5", "f6"}, span: 59 * time.Second},
			},
		},
		{
			name: "suppressed while the last report is inside the window",
			events: []AuthEvent{
				fail(0, "alice", "f1"), fail(1, "alice", "f2"), fail(2, "alice", "f3"), // report at 2
				fail(40, "alice", "f4"), fail(50, "alice", "f5"), fail(61.5, "alice", "f6"), // 2 ≤ 1.5: no
				fail(62, "alice", "f7"), // 2 ≤ 2: report (f5, f6, f7)
			},
			want: []bf{
				{at: 2, refs: []string{"f1", "f2", "f3"}, span: 2 * time.Second},
				{at: 6, refs: []string{"f5", "f6", "f7"}, span: 12 * time.Second},
			},
		},
		{
			name: "brute force succeeded",
			events: []AuthEvent{
				fail(0, "alice", "f1"), fail(1, "alice", "f2"), fail(2, "alice", "f3"), ok(30, "alice", "s1"),
				ok(40, "alice", "s2"), // a second success in the window is not reported again
			},
			want: []bf{
				{at: 2, refs: []string{"f1", "f2", "f3"}, span: 2 * time.Second},
				{at: 3, succeeded: true, refs: []string{"f1", "f2", "f3", "s1"}, span: 30 * time.Second},
			},
		},
		{
			name: "success exactly a window after the oldest failure is not",
			events: []AuthEvent{
				fail(0, "alice", "f1"), fail(1, "alice", "f2"), fail(2, "alice", "f3"), ok(60, "alice", "s1"),
			},
			want: []bf{{at: 2, refs: []string{"f1", "f2", "f3"}, span: 2 * time.Second}},
		},
		{
			name:   "success after too few failures",
			events: []AuthEvent{fail(0, "alice", "f1"), fail(1, "alice", "f2"), ok(2, "alice", "s1")},
			want:   nil,
		},
		{
			name:   "success first is not tracked",
			events: []AuthEvent{ok(0, "alice", "s1"), fail(1, "alice", "f1"), fail(2, "alice", "f2")},
			want:   nil,
		},
		{
			name: "by source: password spraying",
			opt:  BruteForceOptions{By: BySource, Failures: 3, Window: time.Minute},
			events: []AuthEvent{
				authAt(0, "alice", "203.0.113.5", false, "f1"), authAt(1, "bob", "203.0.113.5", false, "f2"),
				authAt(2, "carol", "198.51.100.1", false, "x"), authAt(3, "dave", "203.0.113.5", false, "f3"),
				authAt(4, "erin", "203.0.113.5", true, "s1"),
			},
			want: []bf{
				{at: 3, refs: []string{"f1", "f2", "f3"}, span: 3 * time.Second},
				{at: 4, succeeded: true, refs: []string{"f1", "f2", "f3", "s1"}, span: 4 * time.Second},
			},
		},
		{
			name:   "by source ignores events without a source",
			opt:    BruteForceOptions{By: BySource, Failures: 1, Window: time.Minute},
			events: []AuthEvent{authAt(0, "alice", "", false, "f1")},
			want:   nil,
		},
		{
			name: "the least recently active key is forgotten",
			opt:  BruteForceOptions{Failures: 2, Window: time.Minute, MaxKeys: 2},
			events: []AuthEvent{
				fail(0, "alice", "a1"), fail(1, "bob", "b1"), fail(2, "carol", "c1"), // alice forgotten
				fail(3, "alice", "a2"), // alice has 1 failure again; bob forgotten
				fail(4, "carol", "c2"), // carol: 2
			},
			want: []bf{{at: 4, refs: []string{"c1", "c2"}, span: 2 * time.Second}},
		},
		{
			name:   "one failure is enough when N is 1",
			opt:    BruteForceOptions{Failures: 1, Window: time.Second},
			events: []AuthEvent{fail(0, "alice", "f1"), fail(0.5, "alice", "f2"), fail(1, "alice", "f3")},
			want: []bf{
				{at: 0, refs: []string{"f1"}, span: 0},
				{at: 2, refs: []string{"f3"}, span: 0},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opt
			if o.Failures == 0 {
				o = opt
			}
			d, err := NewBruteForce(o)
			if err != nil {
				t.Fatal(err)
			}
			var got []bf
			for i, ev := range tc.events {
				f, err := d.Observe(ev)
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if f == nil {
					continue
				}
				b := bf{at: i, succeeded: f.Succeeded, span: f.Span}
				for j, e := range f.Evidence {
					b.refs = append(b.refs, e.Ref)
					if j > 0 && e.Time.Before(f.Evidence[j-1].Time) {
						t.Errorf("event %d: evidence out of order", i)
					}
				}
				if want := 1 - float64(f.Span)/float64(d.Options().Window); f.Score != want || f.Score <= 0 || f.Score > 1 {
					t.Errorf("event %d: score %v, want %v in (0, 1]", i, f.Score, want)
				}
				if !f.Time.Equal(ev.Time) || f.Failures != d.Options().Failures || f.By != d.Options().By {
					t.Errorf("event %d: %+v", i, f)
				}
				got = append(got, b)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.at != w.at || g.succeeded != w.succeeded || g.span != w.span || !equalStrings(g.refs, w.refs) {
					t.Errorf("finding %d: %+v, want %+v", i, g, w)
				}
			}
			if d.Keys() > d.Options().MaxKeys {
				t.Errorf("%d keys, max %d", d.Keys(), d.Options().MaxKeys)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBruteForceBadInput(t *testing.T) {
	d, _ := NewBruteForce(BruteForceOptions{Failures: 3, Window: time.Minute})
	for _, ev := range []AuthEvent{fail(0, "alice", "f1"), fail(10, "alice", "f2")} {
		if _, err := d.Observe(ev); err != nil {
			t.Fatal(err)
		}
	}
	bad := []struct {
		ev   AuthEvent
		want error
	}{
		{fail(5, "alice", "late"), ErrOutOfOrder},
		{ok(5, "alice", "late"), ErrOutOfOrder},
		{AuthEvent{Principal: "alice"}, ErrInvalidTime}, // zero time
		{AuthEvent{Principal: "alice", Time: time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)}, ErrInvalidTime},
		{AuthEvent{Principal: "alice", Time: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalidTime},
	}
	for _, b := range bad {
		if f, err := d.Observe(b.ev); f != nil || !errors.Is(err, b.want) {
			t.Errorf("Observe(%+v) = %v, %v; want nil, %v", b.ev, f, err, b.want)
		}
	}
	// Nothing changed: the third failure completes the original two.
	f, err := d.Observe(fail(10, "alice", "f3"))
	if err != nil || f == nil || !equalStrings([]string{f.Evidence[0].Ref, f.Evidence[1].Ref, f.Evidence[2].Ref}, []string{"f1", "f2", "f3"}) {
		t.Errorf("after bad input: %+v, %v", f, err)
	}
	if f, err := d.Observe(AuthEvent{Time: t0.Add(time.Hour)}); f != nil || err != nil {
		t.Errorf("no principal: %v, %v; want ignored", f, err)
	}
	for _, o := range []BruteForceOptions{
		{Failures: -1}, {Failures: 4097}, {Window: -time.Second}, {Window: 400 * 24 * time.Hour},
		{MaxKeys: -1}, {MaxKeys: MaxCapacity + 1}, {By: 2},
	} {
		if _, err := NewBruteForce(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewBruteForce(%+v): %v", o, err)
		}
	}
}

func TestBruteForceExplanation(t *testing.T) {
	d, _ := NewBruteForce(BruteForceOptions{Failures: 2})
	d.Observe(fail(0, "alice", ""))
	f, _ := d.Observe(fail(150, "alice", ""))
	if got, want := f.Explanation(), "2 failed logins for principal alice within 2m30s (window 5m0s)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	f, _ = d.Observe(ok(151, "alice", ""))
	if got, want := f.Explanation(), "brute force for principal alice succeeded: a success after 2 failed logins within 2m31s (window 5m0s)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

var (
	paris  = LatLon{Lat: 48.8566, Lon: 2.3522}
	nyc    = LatLon{Lat: 40.7128, Lon: -74.0060}
	london = LatLon{Lat: 51.5074, Lon: -0.1278}
)

func TestDistanceKm(t *testing.T) {
	quarter := math.Pi / 2 * EarthRadiusKm
	tests := []struct {
		a, b LatLon
		want float64
		tol  float64
	}{
		{LatLon{0, 0}, LatLon{0, 0}, 0, 0},
		{LatLon{0, 0}, LatLon{0, 90}, quarter, 1e-9},
		{LatLon{0, 0}, LatLon{90, 0}, quarter, 1e-9},
		{LatLon{0, 0}, LatLon{0, 180}, 2 * quarter, 1e-6},
		{LatLon{90, 0}, LatLon{-90, 0}, 2 * quarter, 1e-6},
		{LatLon{0, 179.5}, LatLon{0, -179.5}, math.Pi / 180 * EarthRadiusKm, 1e-9}, // across the antimeridian
		{paris, nyc, 5837.2, 1},                                                    // published great-circle figure, ±1 km
		{paris, london, 343.9, 0.5},                                                // same
	}
	for _, tc := range tests {
		for _, ab := range [][2]LatLon{{tc.a, tc.b}, {tc.b, tc.a}} {
			if got := DistanceKm(ab[0], ab[1]); math.Abs(got-tc.want) > tc.tol {
				t.Errorf("DistanceKm(%v, %v) = %v, want %v ± %v", ab[0], ab[1], got, tc.want, tc.tol)
			}
		}
	}
	// Against the spherical law of cosines, which is exact but ill-conditioned for short
	// distances, so only for points far apart.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		a := LatLon{Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180}
		b := LatLon{Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180}
		r := math.Pi / 180
		c := math.Sin(a.Lat*r)*math.Sin(b.Lat*r) + math.Cos(a.Lat*r)*math.Cos(b.Lat*r)*math.Cos((b.Lon-a.Lon)*r)
		want := EarthRadiusKm * math.Acos(math.Max(-1, math.Min(1, c)))
		if want > 100 && want < 19900 && math.Abs(DistanceKm(a, b)-want) > 1e-6 {
			t.Fatalf("DistanceKm(%v, %v) = %v, law of cosines %v", a, b, DistanceKm(a, b), want)
		}
	}
}

func TestParseLatLon(t *testing.T) {
	good := map[string]LatLon{
		"48.8566,2.3522":     paris,
		" 40.7128 , -74.006": {40.7128, -74.006},
		"-90,180":            {-90, 180},
		"90,-180":            {90, -180},
		"0,0":                {0, 0},
	}
	for s, want := range good {
		if got, err := ParseLatLon(s); err != nil || got != want {
			t.Errorf("ParseLatLon(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "48.8", "48.8,", ",2.3", "a,b", "91,0", "-90.5,0", "0,180.01", "NaN,0", "0,Inf", "1,2,3", "1;2"} {
		if _, err := ParseLatLon(s); !errors.Is(err, ErrInvalidLocation) {
			t.Errorf("ParseLatLon(%q): %v, want ErrInvalidLocation", s, err)
		}
	}
}

func login(sec float64, principal string, at LatLon, ref string) AuthEvent {
	return AuthEvent{Time: t0.Add(time.Duration(sec * float64(time.Second))), Principal: principal, Success: true, Location: at.String(), Ref: ref}
}

func TestTravel(t *testing.T) {
	dParisNYC := DistanceKm(paris, nyc)
	// The gap at which Paris → NYC takes exactly 900 km/h, to the nanosecond below.
	edge := dParisNYC / 900 * 3600
	tests := []struct {
		name   string
		opt    TravelOptions
		events []AuthEvent
		at     []int      // indexes of the events with a finding
		refs   [][]string // their evidence
	}{
		{
			name:   "Paris then New York an hour later",
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(3600, "alice", nyc, "l2")},
			at:     []int{1}, refs: [][]string{{"l1", "l2"}},
		},
		{
			name:   "Paris then New York ten hours later",
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(36000, "alice", nyc, "l2")},
		},
		{
			name:   "just too fast",
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(edge-0.001, "alice", nyc, "l2")},
			at:     []int{1}, refs: [][]string{{"l1", "l2"}},
		},
		{
			name:   "just possible",
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(edge+0.001, "alice", nyc, "l2")},
		},
		{
			name:   "at the same time from two places",
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(0, "alice", london, "l2")},
			at:     []int{1}, refs: [][]string{{"l1", "l2"}},
		},
		{
			name:   "same place at the same time",
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(0, "alice", paris, "l2")},
		},
		{
			name:   "within the minimum distance",
			opt:    TravelOptions{MinDistanceKm: 400},
			events: []AuthEvent{login(0, "alice", paris, "l1"), login(60, "alice", london, "l2")},
		},
		{
			name: "each login replaces the last; principals apart",
			events: []AuthEvent{
				login(0, "alice", paris, "a1"), login(10, "bob", nyc, "b1"),
				login(3600, "alice", nyc, "a2"), // flagged
				login(7200, "alice", nyc, "a3"), // against a2: no travel
				login(7300, "bob", nyc, "b2"),
				login(7400, "alice", london, "a4"), // against a3: flagged
			},
			at: []int{2, 5}, refs: [][]string{{"a1", "a2"}, {"a3", "a4"}},
		},
		{
			name: "failures and unlocated logins are ignored",
			events: []AuthEvent{
				login(0, "alice", paris, "l1"),
				{Time: t0.Add(time.Minute), Principal: "alice", Location: nyc.String(), Ref: "failed"},
				{Time: t0.Add(2 * time.Minute), Principal: "alice", Success: true, Ref: "unlocated"},
				login(36000, "alice", nyc, "l2"),
			},
		},
		{
			name: "the least recently active principal is forgotten",
			opt:  TravelOptions{MaxPrincipals: 1},
			events: []AuthEvent{
				login(0, "alice", paris, "a1"), login(1, "bob", london, "b1"), login(2, "alice", nyc, "a2"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewTravel(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			var at []int
			var refs [][]string
			for i, ev := range tc.events {
				f, err := d.Observe(ev)
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if f == nil {
					continue
				}
				at = append(at, i)
				refs = append(refs, []string{f.Evidence[0].Ref, f.Evidence[1].Ref})
				if !(f.Score > 0 && f.Score <= 1) || math.IsNaN(f.SpeedKmh) || math.IsInf(f.SpeedKmh, 0) {
					t.Errorf("event %d: %+v", i, f)
				}
				if want := DistanceKm(f.From, f.To); f.DistanceKm != want {
					t.Errorf("event %d: distance %v, want %v", i, f.DistanceKm, want)
				}
			}
			if !equalInts(at, tc.at) || len(refs) != len(tc.refs) {
				t.Fatalf("findings at %v (%v), want %v (%v)", at, refs, tc.at, tc.refs)
			}
			for i := range refs {
				if !equalStrings(refs[i], tc.refs[i]) {
					t.Errorf("finding %d evidence %v, want %v", i, refs[i], tc.refs[i])
				}
			}
		})
	}
}

func TestTravelFindingAndBadInput(t *testing.T) {
	d, _ := NewTravel(TravelOptions{})
	d.Observe(login(0, "alice", paris, "l1"))
	f, err := d.Observe(login(3600, "alice", nyc, "l2"))
	if err != nil || f == nil {
		t.Fatalf("%v, %v", f, err)
	}
	dist := DistanceKm(paris, nyc)
	if f.Gap != time.Hour || !approx(f.SpeedKmh, dist) || !approx(f.Score, 1-900/dist) || f.MaxSpeedKmh != 900 {
		t.Errorf("%+v", f)
	}
	want := "alice logged in from 48.8566,2.3522 then from 40.7128,-74.006, 5837 km away, 1h0m0s later: 5837 km/h, above 900 km/h"
	if got := f.Explanation(); got != want {
		t.Errorf("%q, want %q", got, want)
	}
	f, _ = d.Observe(login(3600, "alice", london, "l3"))
	if f == nil || f.SpeedKmh != 0 || f.Score != 1 ||
		f.Explanation() != "alice logged in from 40.7128,-74.006 and from 51.5074,-0.1278, 5570 km away, at the same time" {
		t.Errorf("simultaneous: %+v %q", f, f.Explanation())
	}

	bad := []struct {
		ev   AuthEvent
		want error
	}{
		{login(10, "alice", paris, "late"), ErrOutOfOrder},
		{AuthEvent{Time: t0.Add(2 * time.Hour), Principal: "alice", Success: true, Location: "400,0"}, ErrInvalidLocation},
		{AuthEvent{Time: t0.Add(2 * time.Hour), Principal: "alice", Success: true, Location: "NaN,NaN"}, ErrInvalidLocation},
		{AuthEvent{Principal: "alice", Success: true, Location: "1,1"}, ErrInvalidTime},
	}
	for _, b := range bad {
		if f, err := d.Observe(b.ev); f != nil || !errors.Is(err, b.want) {
			t.Errorf("Observe(%+v) = %v, %v; want nil, %v", b.ev, f, err, b.want)
		}
	}
	// Nothing changed: London (the last login) to Paris ten hours later is fine.
	if f, err := d.Observe(login(36000+3600, "alice", paris, "l4")); f != nil || err != nil {
		t.Errorf("after bad input: %+v, %v", f, err)
	}
	for _, o := range []TravelOptions{
		{MaxSpeedKmh: -1}, {MaxSpeedKmh: math.NaN()}, {MaxSpeedKmh: math.Inf(1)}, {MinDistanceKm: -1},
		{MinDistanceKm: math.NaN()}, {MaxPrincipals: -1},
	} {
		if _, err := NewTravel(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewTravel(%+v): %v", o, err)
		}
	}
}

// Many keys through a small LRU keep the invariants: bounded, every finding's evidence inside
// its window, oldest first.
func TestBruteForceManyKeys(t *testing.T) {
	const n, window = 4, 10 * time.Second
	d, _ := NewBruteForce(BruteForceOptions{Failures: n, Window: window, MaxKeys: 16})
	rng := rand.New(rand.NewPCG(5, 6))
	sec, findings := 0.0, 0
	for i := range 20000 {
		sec += rng.Float64() / 2
		ev := authAt(sec, "u"+strconv.Itoa(rng.IntN(24)), "", rng.IntN(10) == 0, strconv.Itoa(i))
		f, err := d.Observe(ev)
		if err != nil {
			t.Fatal(err)
		}
		if d.Keys() > 16 {
			t.Fatalf("%d keys", d.Keys())
		}
		if f == nil {
			continue
		}
		findings++
		want := n
		if f.Succeeded {
			want++
		}
		if len(f.Evidence) != want || ev.Time.Sub(f.Evidence[0].Time) >= window || f.Span != ev.Time.Sub(f.Evidence[0].Time) {
			t.Fatalf("event %d: %+v", i, f)
		}
		for j := 1; j < len(f.Evidence); j++ {
			if f.Evidence[j].Time.Before(f.Evidence[j-1].Time) {
				t.Fatalf("event %d: evidence out of order", i)
			}
		}
	}
	if findings == 0 {
		t.Error("no finding: the test exercised too little")
	}
}
