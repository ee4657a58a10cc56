package anomaly

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Authentication events are accepted from 1900-01-01 to 2200-01-01 UTC (exclusive), which keeps
// every time and window sum inside int64 nanoseconds.
const (
	minUnixSec = -2208988800 // 1900-01-01T00:00:00Z
	maxUnixSec = 7258118400  // 2200-01-01T00:00:00Z
	maxWindow  = 366 * 24 * time.Hour
)

// unixNano returns t in Unix nanoseconds, false when t is outside [1900, 2200).
func unixNano(t time.Time) (int64, bool) {
	if s := t.Unix(); s < minUnixSec || s >= maxUnixSec {
		return 0, false
	}
	return t.UnixNano(), true
}

// AuthEvent is one authentication attempt.
type AuthEvent struct {
	Time      time.Time
	Principal string // the user or service account; events without one are ignored
	Src       string // where the attempt came from; optional
	Success   bool
	// Location is where the attempt came from as "lat,lon" in decimal degrees, when known.
	Location string
	// Ref is the caller's reference to the event, returned as evidence.
	Ref string
}

// KeyBy says what a BruteForce detector counts failures per.
type KeyBy int

// Keys. ByPrincipal is the zero value.
const (
	ByPrincipal KeyBy = iota // failures against one account (guessing its password)
	BySource                 // failures from one source (guessing, or spraying many accounts)
)

// String is "principal" or "source".
func (k KeyBy) String() string {
	if k == BySource {
		return "source"
	}
	return "principal"
}

// BruteForceOptions configures a BruteForce. Zero fields take their defaults.
type BruteForceOptions struct {
	By KeyBy
	// Failures is N, how many failures within Window make a brute force. Default 10, at most
	// 4096.
	Failures int
	// Window is the length of the sliding window, half-open (t − Window, t]. Default 5m, at
	// most 366 days.
	Window time.Duration
	// MaxKeys bounds how many principals or sources are tracked at once; beyond it the least
	// recently active is forgotten. Default 100000. Memory is about 24·Failures + 120 bytes a
	// key plus the strings' bytes.
	MaxKeys int
}

func (o BruteForceOptions) withDefaults() (BruteForceOptions, error) {
	bad := func(name string, v any) (BruteForceOptions, error) {
		return o, fmt.Errorf("brute-force option %s = %v: %w", name, v, ErrInvalidOptions)
	}
	if o.By != ByPrincipal && o.By != BySource {
		return bad("By", o.By)
	}
	switch {
	case o.Failures == 0:
		o.Failures = 10
	case o.Failures < 1 || o.Failures > 4096:
		return bad("Failures", o.Failures)
	}
	switch {
	case o.Window == 0:
		o.Window = 5 * time.Minute
	case o.Window < 0 || o.Window > maxWindow:
		return bad("Window", o.Window)
	}
	switch {
	case o.MaxKeys == 0:
		o.MaxKeys = 100000
	case o.MaxKeys < 1 || o.MaxKeys > MaxCapacity:
		return bad("MaxKeys", o.MaxKeys)
	}
	return o, nil
}

// BruteForce detects password guessing per principal or per source: at least Failures failed
// logins within a sliding Window, and a success that follows them. Its zero value is not
// usable: build it with NewBruteForce.
//
// Each key keeps its Failures newest failures in a ring. A failure at t reports a brute force
// when the ring is full and its oldest failure is in (t − Window, t], unless the key already
// reported one in (t − Window, t]: at most one report per key per window length. A success at
// t reports "brute force succeeded" when the key holds Failures failures in (t − Window, t],
// unless the key already reported a success in (t − Window, t]; it does not clear the failures
// (a success from an account of its own must not let a source reset its count). A success on a
// key with no failures is not tracked.
//
// Events of one key must come in time order: one older than the key's newest returns
// ErrOutOfOrder and changes nothing (equal times are fine).
type BruteForce struct {
	opt   BruteForceOptions
	n     int
	keys  lru[string]
	state []bfKey
	times []int64 // ring of key slot s: times[s*n : (s+1)*n], Unix ns
	refs  []string
}

type bfKey struct {
	start, count int32 // ring: index of the oldest failure, number held
	newest       int64 // newest event time of the key
	lastAlert    int64
	lastSuccess  int64
	alerted      bool
	succeeded    bool
}

// NewBruteForce returns an empty detector.
func NewBruteForce(opt BruteForceOptions) (*BruteForce, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	return &BruteForce{opt: o, n: o.Failures, keys: newLRU[string](o.MaxKeys)}, nil
}

// Options returns the options in force, defaults filled in.
func (d *BruteForce) Options() BruteForceOptions { return d.opt }

// Keys is the number of keys tracked.
func (d *BruteForce) Keys() int { return d.keys.len() }

// BruteForceFinding is a brute force, or a brute force that succeeded.
type BruteForceFinding struct {
	By        KeyBy
	Key       string // the principal or the source
	Succeeded bool
	Time      time.Time // of the event that completed the pattern
	// Failures is how many failures the evidence holds (the detector's N); Span is the time
	// from the oldest of them to Time, less than Window.
	Failures int
	Span     time.Duration
	Window   time.Duration
	// Score is 1 − Span/Window, in (0, 1]: 1 when every attempt came at once.
	Score float64
	// Evidence is the failures, oldest first, then the success when Succeeded.
	Evidence []Evidence
}

// Observe takes one authentication event and returns a finding, or nil. Events without the
// key (the principal, or the source for BySource) are ignored. It returns ErrInvalidTime for a
// time outside [1900, 2200) and ErrOutOfOrder as documented on BruteForce; both change nothing.
// Observe allocates only for a finding and while the number of keys grows.
func (d *BruteForce) Observe(ev AuthEvent) (*BruteForceFinding, error) {
	key := ev.Principal
	if d.opt.By == BySource {
		key = ev.Src
	}
	if key == "" {
		return nil, nil
	}
	ns, ok := unixNano(ev.Time)
	if !ok {
		return nil, ErrInvalidTime
	}
	slot, found := d.keys.get(key)
	switch {
	case found && ns < d.state[slot].newest:
		return nil, ErrOutOfOrder
	case found:
		d.keys.touch(slot)
	case ev.Success:
		return nil, nil
	default:
		slot = d.addKey(key)
	}
	k := &d.state[slot]
	k.newest = ns
	cut := ns - int64(d.opt.Window) // in the window iff time > cut
	times := d.times[int(slot)*d.n : (int(slot)+1)*d.n]
	refs := d.refs[int(slot)*d.n : (int(slot)+1)*d.n]

	if ev.Success {
		if int(k.count) < d.n || times[k.start] <= cut || (k.succeeded && k.lastSuccess > cut) {
			return nil, nil
		}
		k.succeeded, k.lastSuccess = true, ns
		f := d.finding(key, k, times, refs, ns, true)
		f.Evidence = append(f.Evidence, Evidence{Ref: ev.Ref, Time: time.Unix(0, ns).UTC()})
		return f, nil
	}

	// Push the failure, overwriting the oldest when the ring is full.
	if int(k.count) < d.n {
		i := (int(k.start) + int(k.count)) % d.n
		times[i], refs[i] = ns, ev.Ref
		k.count++
	} else {
		times[k.start], refs[k.start] = ns, ev.Ref
		k.start = int32((int(k.start) + 1) % d.n)
	}
	if int(k.count) < d.n || times[k.start] <= cut || (k.alerted && k.lastAlert > cut) {
		return nil, nil
	}
	k.alerted, k.lastAlert = true, ns
	return d.finding(key, k, times, refs, ns, false), nil
}

// addKey gives key a slot, growing the per-key arrays or resetting an evicted key's slot.
func (d *BruteForce) addKey(key string) int32 {
	slot, evicted, _ := d.keys.add(key) // never full of pinned keys: BruteForce pins none
	if !evicted && int(slot) == len(d.state) {
		d.state = append(d.state, bfKey{})
		d.times = append(d.times, make([]int64, d.n)...)
		d.refs = append(d.refs, make([]string, d.n)...)
		return slot
	}
	d.state[slot] = bfKey{}
	clear(d.refs[int(slot)*d.n : (int(slot)+1)*d.n]) // let the evicted refs be collected
	return slot
}

func (d *BruteForce) finding(key string, k *bfKey, times []int64, refs []string, ns int64, succeeded bool) *BruteForceFinding {
	span := time.Duration(ns - times[k.start])
	f := &BruteForceFinding{
		By: d.opt.By, Key: key, Succeeded: succeeded, Time: time.Unix(0, ns).UTC(),
		Failures: d.n, Span: span, Window: d.opt.Window,
		Score:    1 - float64(span)/float64(d.opt.Window),
		Evidence: make([]Evidence, 0, d.n+1),
	}
	for j := range d.n {
		i := (int(k.start) + j) % d.n
		f.Evidence = append(f.Evidence, Evidence{Ref: refs[i], Time: time.Unix(0, times[i]).UTC()})
	}
	return f
}

// Explanation says in plain language what happened: "10 failed logins for principal alice
// within 2m30s (window 5m0s)", or "brute force on principal alice succeeded: a success after 10
// failed logins within 2m30s (window 5m0s)".
func (f BruteForceFinding) Explanation() string {
	who := "for principal "
	if f.By == BySource {
		who = "from source "
	}
	if f.Succeeded {
		return fmt.Sprintf("brute force %s%s succeeded: a success after %d failed logins within %v (window %v)",
			who, f.Key, f.Failures, f.Span, f.Window)
	}
	return fmt.Sprintf("%d failed logins %s%s within %v (window %v)", f.Failures, who, f.Key, f.Span, f.Window)
}

// EarthRadiusKm is the mean radius of the Earth (IUGG) used for great-circle distances.
const EarthRadiusKm = 6371.0088

// LatLon is a point in decimal degrees.
type LatLon struct {
	Lat, Lon float64
}

// String is "lat,lon".
func (p LatLon) String() string {
	return strconv.FormatFloat(p.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(p.Lon, 'f', -1, 64)
}

// ParseLatLon parses "lat,lon" in decimal degrees (spaces around either number allowed), with
// latitude in [−90, 90] and longitude in [−180, 180]; anything else returns ErrInvalidLocation.
func ParseLatLon(s string) (LatLon, error) {
	a, b, ok := strings.Cut(s, ",")
	if ok {
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err1 == nil && err2 == nil && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			return LatLon{Lat: lat, Lon: lon}, nil
		}
	}
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return LatLon{}, fmt.Errorf("location %q: %w", s, ErrInvalidLocation)
}

// DistanceKm is the great-circle distance between a and b on a sphere of radius EarthRadiusKm
// (the haversine formula, accurate to about 0.5% against the ellipsoid).
func DistanceKm(a, b LatLon) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := a.Lat*rad, b.Lat*rad
	sinDφ := math.Sin((b.Lat - a.Lat) * rad / 2)
	sinDλ := math.Sin((b.Lon - a.Lon) * rad / 2)
	h := sinDφ*sinDφ + math.Cos(φ1)*math.Cos(φ2)*sinDλ*sinDλ
	h = min(max(h, 0), 1)
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(h))
}

// TravelOptions configures a Travel. Zero fields take their defaults.
type TravelOptions struct {
	// MaxSpeedKmh is the fastest plausible travel. Default 900 (an airliner).
	MaxSpeedKmh float64
	// MinDistanceKm: distances at or below it never count (geolocation is approximate).
	// Default 0: every distance counts.
	MinDistanceKm float64
	// MaxPrincipals bounds how many principals are tracked at once; beyond it the least
	// recently active is forgotten. Default 100000. Memory is about 100 bytes a principal plus
	// the strings' bytes.
	MaxPrincipals int
}

func (o TravelOptions) withDefaults() (TravelOptions, error) {
	bad := func(name string, v any) (TravelOptions, error) {
		return o, fmt.Errorf("travel option %s = %v: %w", name, v, ErrInvalidOptions)
	}
	switch {
	case o.MaxSpeedKmh == 0:
		o.MaxSpeedKmh = 900
	case !(o.MaxSpeedKmh > 0 && o.MaxSpeedKmh <= 1e9):
		return bad("MaxSpeedKmh", o.MaxSpeedKmh)
	}
	if !(o.MinDistanceKm >= 0 && o.MinDistanceKm <= 1e9) {
		return bad("MinDistanceKm", o.MinDistanceKm)
	}
	switch {
	case o.MaxPrincipals == 0:
		o.MaxPrincipals = 100000
	case o.MaxPrincipals < 1 || o.MaxPrincipals > MaxCapacity:
		return bad("MaxPrincipals", o.MaxPrincipals)
	}
	return o, nil
}

// Travel detects impossible travel: two successive successful logins of one principal, from
// locations farther apart than MaxSpeedKmh could cover in the time between them (and farther
// than MinDistanceKm). Each principal keeps only its last located success; every located
// success replaces it, flagged or not. Its zero value is not usable: build it with NewTravel.
//
// A principal's logins must come in time order: one older than the last returns ErrOutOfOrder
// and changes nothing. Two logins at the same instant from different places are impossible
// travel.
type Travel struct {
	opt  TravelOptions
	keys lru[string]
	last []travelLast
}

type travelLast struct {
	ns  int64
	at  LatLon
	ref string
}

// NewTravel returns an empty detector.
func NewTravel(opt TravelOptions) (*Travel, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Travel{opt: o, keys: newLRU[string](o.MaxPrincipals)}, nil
}

// Options returns the options in force, defaults filled in.
func (d *Travel) Options() TravelOptions { return d.opt }

// TravelFinding is an impossible travel between two successful logins.
type TravelFinding struct {
	Principal  string
	From, To   LatLon
	Time       time.Time // of the second login
	DistanceKm float64
	Gap        time.Duration
	// SpeedKmh is DistanceKm over Gap; 0 when Gap is 0 (simultaneous logins).
	SpeedKmh    float64
	MaxSpeedKmh float64
	// Score is 1 − (MaxSpeedKmh·Gap)/DistanceKm, in (0, 1]: the share of the distance that
	// travel at MaxSpeedKmh could not cover.
	Score float64
	// Evidence is the two logins, the earlier first.
	Evidence []Evidence
}

// Observe takes one authentication event and returns a finding, or nil. Failures, and events
// without a principal or a location, are ignored. A location that does not parse returns
// ErrInvalidLocation (wrapped), a time outside [1900, 2200) ErrInvalidTime, and an out-of-order
// login ErrOutOfOrder; none changes anything. Observe allocates only for a finding, an
// unparsable location, and while the number of principals grows.
func (d *Travel) Observe(ev AuthEvent) (*TravelFinding, error) {
	if !ev.Success || ev.Principal == "" || ev.Location == "" {
		return nil, nil
	}
	ns, ok := unixNano(ev.Time)
	if !ok {
		return nil, ErrInvalidTime
	}
	at, err := ParseLatLon(ev.Location)
	if err != nil {
		return nil, err
	}
	cur := travelLast{ns: ns, at: at, ref: ev.Ref}
	slot, found := d.keys.get(ev.Principal)
	if !found {
		slot, evicted, _ := d.keys.add(ev.Principal)
		if !evicted && int(slot) == len(d.last) {
			d.last = append(d.last, cur)
		} else {
			d.last[slot] = cur
		}
		return nil, nil
	}
	prev := d.last[slot]
	if ns < prev.ns {
		return nil, ErrOutOfOrder
	}
	d.keys.touch(slot)
	d.last[slot] = cur

	dist := DistanceKm(prev.at, at)
	gapH := float64(ns-prev.ns) / float64(time.Hour)
	allowed := d.opt.MaxSpeedKmh * gapH
	if dist <= d.opt.MinDistanceKm || dist <= allowed {
		return nil, nil
	}
	f := &TravelFinding{
		Principal: ev.Principal, From: prev.at, To: at, Time: time.Unix(0, ns).UTC(),
		DistanceKm: dist, Gap: time.Duration(ns - prev.ns), MaxSpeedKmh: d.opt.MaxSpeedKmh,
		Score: 1 - allowed/dist,
		Evidence: []Evidence{
			{Ref: prev.ref, Time: time.Unix(0, prev.ns).UTC()},
			{Ref: ev.Ref, Time: time.Unix(0, ns).UTC()},
		},
	}
	if gapH > 0 {
		f.SpeedKmh = dist / gapH
	}
	return f, nil
}

// Explanation says in plain language what happened: "alice logged in from 48.8566,2.3522 then
// from 40.7128,-74.006, 5837 km away, 1h0m0s later: 5837 km/h, above 900 km/h".
func (f TravelFinding) Explanation() string {
	if f.Gap == 0 {
		return fmt.Sprintf("%s logged in from %v and from %v, %.0f km away, at the same time",
			f.Principal, f.From, f.To, f.DistanceKm)
	}
	return fmt.Sprintf("%s logged in from %v then from %v, %.0f km away, %v later: %.0f km/h, above %.0f km/h",
		f.Principal, f.From, f.To, f.DistanceKm, f.Gap, f.SpeedKmh, f.MaxSpeedKmh)
}
