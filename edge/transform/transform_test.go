package transform_test

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/transform"
)

func compile(t testing.TB, cfg transform.Config, opts ...transform.Option) *transform.Plan {
	t.Helper()
	opts = append([]transform.Option{transform.WithKeys(testKeys()), transform.WithClock(clock(q1))}, opts...)
	p, err := transform.Compile(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t testing.TB, p *transform.Plan, rec decode.Record) decode.Record {
	t.Helper()
	out, dropped, err := p.Apply(rec)
	if err != nil || dropped {
		t.Fatalf("Apply: dropped %v, err %v", dropped, err)
	}
	return out
}

func n(s string) json.Number { return json.Number(s) }
func ip(v, v6 int) transform.Generalize {
	return transform.Generalize{IPv4Prefix: &v, IPv6Prefix: &v6}
}
func intp(i int) *int              { return &i }
func floatp(f float64) *float64    { return &f }
func boolp(b bool) *bool           { return &b }
func same(a, b decode.Record) bool { return reflect.DeepEqual(map[string]any(a), map[string]any(b)) }

func TestAllowlist(t *testing.T) {
	in := func() decode.Record {
		return decode.Record{"a": "1", "b": n("2"), "http.url": "/x", "http.req.method": "GET", "httpx": "y", "ign": "me@corp.test", "ip": "10.1.2.3"}
	}
	for _, tc := range []struct {
		name string
		cfg  transform.Config
		want decode.Record
	}{
		{"empty list drops everything", transform.Config{}, decode.Record{}},
		{"exact and prefix", transform.Config{AllowFields: []string{"a", "http.*"}}, decode.Record{"a": "1", "http.url": "/x", "http.req.method": "GET"}},
		{"allow all", transform.Config{AllowAllFields: true}, in()},
		{"ignored are kept untouched", transform.Config{IgnoredFields: []string{"ign"}, BlockedValues: []string{`\S+@\S+`}}, decode.Record{"ign": "me@corp.test"}},
		{"transformed fields are kept", transform.Config{Generalize: map[string]transform.Generalize{"ip": ip(8, 32)}}, decode.Record{"ip": "10.0.0.0/8"}},
		{"unknown names are dropped", transform.Config{AllowFields: []string{"zzz", "a.*"}}, decode.Record{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := apply(t, compile(t, tc.cfg), in()); !same(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMasking(t *testing.T) {
	email := `[\w.+-]+@[\w-]+(\.[\w-]+)+`
	for _, tc := range []struct {
		name     string
		cfg      transform.Config
		in, want decode.Record
	}{
		{"blocked key masks the whole value",
			transform.Config{AllowAllFields: true, BlockedKeyPatterns: []string{"(?i)pass", "token$"}},
			decode.Record{"Password": "p", "auth.token": n("123"), "list.token": []any{"a"}, "tokens": "x", "nil.token": nil},
			decode.Record{"Password": "****", "auth.token": "****", "list.token": "****", "tokens": "x", "nil.token": nil}},
		{"blocked values mask matches; allowed values win per match",
			transform.Config{AllowAllFields: true, BlockedValues: []string{email, `\b\d{4}-\d{4}\b`}, AllowedValues: []string{`[\w.+-]+@example\.com`}},
			decode.Record{"msg": "from a@b.org to c@example.com, PIN 1234-5678", "n": n("12345678"), "arr": []any{"x@y.net", n("1"), []any{"deep@z.io"}}},
			decode.Record{"msg": "from **** to c@example.com, PIN ****", "n": n("12345678"), "arr": []any{"****", n("1"), []any{"****"}}}},
		{"redact_all_types scans numbers and booleans",
			transform.Config{AllowAllFields: true, BlockedValues: []string{`^4\d{15}$`, `true`}, RedactAllTypes: true},
			decode.Record{"card": n("4111111111111111"), "ok": true, "f": 4.5, "other": n("5")},
			decode.Record{"card": "****", "ok": "****", "f": 4.5, "other": n("5")}},
		{"objects inside arrays: keys and values",
			transform.Config{AllowAllFields: true, BlockedKeyPatterns: []string{"^secret$"}, BlockedValues: []string{email}},
			decode.Record{"a": []any{map[string]any{"secret": "s", "mail": "q@r.st", "n": n("1")}}},
			decode.Record{"a": []any{map[string]any{"secret": "****", "mail": "****", "n": n("1")}}}},
		{"pseudonymised and generalised fields are not masked",
			transform.Config{AllowAllFields: true, BlockedKeyPatterns: []string{"ip"}, BlockedValues: []string{`\d+\.\d+\.\d+\.\d+`}, Generalize: map[string]transform.Generalize{"src_ip": ip(24, 48)}},
			decode.Record{"src_ip": "10.1.2.3", "dst_ip": "10.9.9.9", "note": "to 10.9.9.9"},
			decode.Record{"src_ip": "10.1.2.0/24", "dst_ip": "****", "note": "to ****"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := apply(t, compile(t, tc.cfg), tc.in); !same(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestGeneralizeIP(t *testing.T) {
	p := compile(t, transform.Config{Generalize: map[string]transform.Generalize{"a": ip(24, 48)}})
	only4 := compile(t, transform.Config{Generalize: map[string]transform.Generalize{"a": {IPv4Prefix: intp(16)}}})
	for _, tc := range []struct {
		plan    *transform.Plan
		in, out any
	}{
		{p, "192.168.10.23", "192.168.10.0/24"},
		{p, " 192.168.10.23 ", "192.168.10.0/24"},
		{p, "2001:db8:abcd:12::1", "2001:db8:abcd::/48"},
		{p, "::ffff:10.1.2.3", "10.1.2.0/24"},
		{p, "fe80::1%eth0", "fe80::/48"},
		{p, "[2001:db8::1]", "2001:db8::/48"},
		{p, "10.1.2.3/28", "10.1.2.0/24"},
		{p, "10.1.2.3/16", "10.1.0.0/16"},
		{p, "::ffff:10.1.2.3/112", "10.1.0.0/16"},
		{p, "example.com", "****"},
		{p, n("167772161"), "****"},
		{p, []any{"10.0.0.1", "x", nil}, []any{"10.0.0.0/24", "****", nil}},
		{only4, "10.200.3.4", "10.200.0.0/16"},
		{only4, "2001:db8:1:2:3::4", "2001:db8:1::/48"}, // the other family defaults to /48
	} {
		got := apply(t, tc.plan, decode.Record{"a": tc.in})
		if !reflect.DeepEqual(got["a"], tc.out) {
			t.Errorf("%v → %v, want %v", tc.in, got["a"], tc.out)
		}
	}
}

func TestGeneralizeTime(t *testing.T) {
	plans := map[string]*transform.Plan{}
	for _, b := range []string{"1m", "1h", "24h", "100ms", "15m"} {
		plans[b] = compile(t, transform.Config{Generalize: map[string]transform.Generalize{"ts": {Bucket: b}}})
	}
	for _, tc := range []struct {
		bucket  string
		in, out any
	}{
		{"1m", "2026-02-10T09:15:42.123456Z", "2026-02-10T09:15:00Z"},
		{"1m", "2026-02-10T09:15:42+05:30", "2026-02-10T09:15:00+05:30"},
		{"1h", "2026-02-10T09:15:42+05:30", "2026-02-10T08:30:00+05:30"},  // aligned to UTC hours: 03:00Z
		{"1m", "2016-06-08T20:01:52.875791+0000", "2016-06-08T20:01:00Z"}, // Suricata's offset form
		{"1m", "2025-03-01 03:04:05", "2025-03-01T03:04:00"},
		{"24h", "2025-03-01", "2025-03-01"},
		{"1h", "2025-03-01", "2025-03-01T00:00:00"},
		{"100ms", "2025-03-01T03:04:05.789Z", "2025-03-01T03:04:05.7Z"},
		{"1m", "2016-12-07T11:10:00Z/2016-12-07T11:15:30Z", "2016-12-07T11:10:00Z/2016-12-07T11:15:00Z"},
		{"1m", n("1741000000.123456"), n("1740999960")},
		{"100ms", n("1741000000.123456"), n("1741000000.1")},
		{"1m", n("22.335172"), n("0")},                             // Zeek's relative timestamps
		{"1m", n("1470327477881781397"), n("1470327420000000000")}, // ns
		{"15m", n("1741000000123"), n("1740999600000")},            // ms
		{"1m", n("1.741e9"), n("1740999960")},
		{"1m", 1741000000.9, n("1740999960")},
		{"1m", "1741000000", "1740999960"},
		{"1m", n("-61"), n("-120")},
		{"1m", "yesterday", "****"},
		{"1m", "2026-02-30T00:00:00Z", "****"},
		{"1m", true, "****"},
		{"1m", []any{"2026-02-10T09:15:42Z", "x"}, []any{"2026-02-10T09:15:00Z", "****"}},
	} {
		got := apply(t, plans[tc.bucket], decode.Record{"ts": tc.in})
		if !reflect.DeepEqual(got["ts"], tc.out) {
			t.Errorf("%s: %v → %#v, want %#v", tc.bucket, tc.in, got["ts"], tc.out)
		}
	}
}

// TestGeohashVectors checks the encoder against published geohashes.
func TestGeohashVectors(t *testing.T) {
	for _, tc := range []struct {
		lat, lon float64
		want     string
	}{
		{57.64911, 10.40744, "u4pruydqqvj"}, // Wikipedia's example
		{42.6, -5.6, "ezs42"},
		{37.8324, 112.5584, "ww8p1r4t8"},
		{-25.382708, -49.265506, "6gkzwgjzn820"},
		{0, 0, "s0000"},
		{-90, -180, "00000"},
		{90, 180, "zzzzz"},
	} {
		p := compile(t, transform.Config{Generalize: map[string]transform.Generalize{"pos": {Geohash: intp(len(tc.want))}}})
		got := apply(t, p, decode.Record{"pos": fmt.Sprintf("%v,%v", tc.lat, tc.lon)})
		if got["pos"] != tc.want {
			t.Errorf("geohash(%v, %v) = %v, want %s", tc.lat, tc.lon, got["pos"], tc.want)
		}
	}
}

func TestGeneralizeGeo(t *testing.T) {
	gh := compile(t, transform.Config{Generalize: map[string]transform.Generalize{
		"loc": {Geohash: intp(5)}, "gps.lat": {Geohash: intp(5), LonField: "gps.lon"},
	}})
	got := apply(t, gh, decode.Record{
		"loc":     []any{n("-5.6"), n("42.6")}, // GeoJSON: lon, lat
		"gps.lat": n("42.6"), "gps.lon": n("-5.6"),
	})
	if want := (decode.Record{"loc": "ezs42", "gps.lat": "ezs42"}); !same(got, want) {
		t.Errorf("geohash: got %v, want %v", got, want)
	}
	got = apply(t, gh, decode.Record{"loc": []any{[]any{n("-5.6"), n("42.6")}, []any{n("10.40744"), n("57.64911")}}})
	if want := []any{"ezs42", "u4pru"}; !reflect.DeepEqual(got["loc"], want) {
		t.Errorf("line string: %v", got["loc"])
	}
	got = apply(t, gh, decode.Record{"loc": map[string]any{"latitude": 42.6, "longitude": -5.6, "alt": 3}})
	if got["loc"] != "ezs42" {
		t.Errorf("object: %v", got["loc"])
	}
	for _, bad := range []decode.Record{
		{"loc": []any{n("-5.6"), n("95")}},
		{"loc": "north pole"},
		{"loc": []any{"a", "b"}},
		{"gps.lat": n("42.6")},
		{"gps.lat": "x", "gps.lon": n("1")},
	} {
		got := apply(t, gh, bad)
		for k, v := range got {
			if v != "****" {
				t.Errorf("%v: %s = %v, want masked", bad, k, v)
			}
		}
	}

	const cell = 500.0
	grid := compile(t, transform.Config{Generalize: map[string]transform.Generalize{
		"loc": {GridM: floatp(cell)}, "lat": {GridM: floatp(cell), LonField: "lon"},
	}})
	for _, pt := range [][2]float64{{41.14961, -8.61099}, {-33.8688, 151.2093}, {0.0001, -0.0001}, {89.99, 179.99}, {64.1466, -21.9426}} {
		lat, lon := pt[0], pt[1]
		out := apply(t, grid, decode.Record{"lat": lat, "lon": strconv.FormatFloat(lon, 'f', -1, 64), "loc": []any{lon, lat}})
		glat, _ := strconv.ParseFloat(string(out["lat"].(json.Number)), 64)
		glon, _ := strconv.ParseFloat(out["lon"].(string), 64) // a string stays a string
		if d := metres(lat, lon, glat, glon); d > cell*0.75 {
			t.Errorf("(%v,%v) snapped %.0f m away to (%v,%v)", lat, lon, d, glat, glon)
		}
		pos := out["loc"].([]any)
		if pos[0] != out["lon"].(string) && string(pos[0].(json.Number)) != out["lon"] {
			t.Errorf("array and pair disagree: %v vs %v,%v", pos, out["lat"], out["lon"])
		}
		// Snapping is idempotent: a cell centre stays put.
		again := apply(t, grid, decode.Record{"lat": glat, "lon": glon})
		if string(again["lat"].(json.Number)) != string(out["lat"].(json.Number)) {
			t.Errorf("not idempotent: %v → %v", out["lat"], again["lat"])
		}
	}
	// Points in the same cell become the same point.
	a := apply(t, grid, decode.Record{"loc": []any{-8.61099, 41.14961}})
	b := apply(t, grid, decode.Record{"loc": []any{-8.61098, 41.14962}})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("neighbours differ: %v vs %v", a, b)
	}
}

// metres is the haversine distance.
func metres(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6_371_000
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

func TestNumericBuckets(t *testing.T) {
	p := compile(t, transform.Config{Generalize: map[string]transform.Generalize{"b": {Buckets: []float64{0, 100, 1000, 1e4}}}})
	for _, tc := range []struct{ in, out any }{
		{n("5"), n("0")}, {n("100"), n("100")}, {n("999.9"), n("100")}, {n("1e5"), n("10000")},
		{n("-3"), n("0")}, {"250", "100"}, {7, n("0")}, {"many", "****"}, {false, "****"},
	} {
		if got := apply(t, p, decode.Record{"b": tc.in})["b"]; !reflect.DeepEqual(got, tc.out) {
			t.Errorf("%v → %#v, want %#v", tc.in, got, tc.out)
		}
	}
}

func TestPseudonymize(t *testing.T) {
	cfg := transform.Config{Pseudonymize: &transform.Pseudonymize{Fields: []string{"user", "ids"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: "quarterly"}}
	p := compile(t, cfg)
	got := apply(t, p, decode.Record{"user": "alice", "ids": []any{"alice", n("42"), nil, map[string]any{"x": 1}}})

	// The documented derivation, computed independently.
	epochKey, err := hkdf.Key(sha256.New, testKey, []byte("sectwin/edge/pseudonymize/v1"), "sectwin/edge/pseudonymize/v1|k|2026q1", 32)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, epochKey)
	mac.Write([]byte("alice"))
	want := "k2026q1:" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
	if got["user"] != want {
		t.Errorf("user = %v, want %s", got["user"], want)
	}
	ids := got["ids"].([]any)
	if ids[0] != want || ids[2] != nil || ids[3] != "****" {
		t.Errorf("ids = %v", ids)
	}
	num := apply(t, p, decode.Record{"user": "42"})["user"]
	if ids[1] != num {
		t.Errorf("42 and \"42\" differ: %v %v", ids[1], num)
	}

	// hmac-sha512 has the same shape, a different value.
	cfg512 := cfg
	cfg512.Pseudonymize = &transform.Pseudonymize{Fields: []string{"user"}, Fn: "hmac-sha512", KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: "quarterly"}
	s512 := apply(t, compile(t, cfg512), decode.Record{"user": "alice"})["user"].(string)
	if s512 == want || len(s512) != len(want) {
		t.Errorf("sha512 pseudonym %q", s512)
	}

	// Epoch labels.
	for _, tc := range []struct {
		rotation string
		at       time.Time
		prefix   string
	}{
		{"", q1, "k:"},
		{"none", q1, "k:"},
		{"daily", q1, "k20260210:"},
		{"weekly", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "k2026w01:"},
		{"weekly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "k2026w53:"},
		{"monthly", q1, "k2026m02:"},
		{"quarterly", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "k2026q4:"},
		{"quarterly", time.Date(2026, 4, 1, 0, 30, 0, 0, time.FixedZone("x", 2*3600)), "k2026q1:"}, // epochs are UTC
		{"yearly", q1, "k2026:"},
	} {
		c := transform.Config{Pseudonymize: &transform.Pseudonymize{Fields: []string{"u"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: tc.rotation}}
		s := apply(t, compile(t, c, transform.WithClock(clock(tc.at))), decode.Record{"u": "x"})["u"].(string)
		if len(s) != len(tc.prefix)+22 || s[:len(tc.prefix)] != tc.prefix {
			t.Errorf("%s at %v: %q, want prefix %s", tc.rotation, tc.at, s, tc.prefix)
		}
	}
}

// TestPseudonymRotatesWhileRunning: one plan, its clock crossing an epoch boundary.
func TestPseudonymRotatesWhileRunning(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC)
	p := compile(t, transform.Config{Pseudonymize: &transform.Pseudonymize{Fields: []string{"u"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: "quarterly"}},
		transform.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	a := apply(t, p, decode.Record{"u": "x"})["u"]
	a2 := apply(t, p, decode.Record{"u": "x"})["u"]
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	b := apply(t, p, decode.Record{"u": "x"})["u"]
	if a != a2 || a == b {
		t.Errorf("q1 %v %v, q2 %v", a, a2, b)
	}
}

func TestDrop(t *testing.T) {
	p := compile(t, transform.Config{AllowFields: []string{"x"}, Drop: []transform.DropRule{
		{Field: "event_type", Equals: "stats"},
		{Field: "dest_port", In: []any{53, "123"}},
		{Field: "http.url", Matches: `^/health`},
		{Field: "probe", Exists: boolp(true)},
		{Field: "x", Exists: boolp(false)},
		{Field: "ratio", Equals: 0.5},
	}})
	for _, tc := range []struct {
		rec  decode.Record
		drop bool
	}{
		{decode.Record{"x": 1, "event_type": "stats"}, true},
		{decode.Record{"x": 1, "event_type": "alert"}, false},
		{decode.Record{"x": 1, "dest_port": n("53")}, true},
		{decode.Record{"x": 1, "dest_port": n("53.0")}, true},
		{decode.Record{"x": 1, "dest_port": "123"}, true},
		{decode.Record{"x": 1, "dest_port": n("443")}, false},
		{decode.Record{"x": 1, "http.url": "/healthz"}, true},
		{decode.Record{"x": 1, "http.url": "/api/health"}, false},
		{decode.Record{"x": 1, "probe": nil}, true},
		{decode.Record{"y": 1}, true},
		{decode.Record{"x": 1, "ratio": n("0.50")}, true},
		{decode.Record{"x": 1, "event_type": []any{"stats"}}, false},
	} {
		out, dropped, err := p.Apply(tc.rec)
		if err != nil || dropped != tc.drop || (dropped && out != nil) {
			t.Errorf("%v: dropped %v (out %v, err %v), want %v", tc.rec, dropped, out, err, tc.drop)
		}
	}
	if s := p.Stats(); s.Dropped != 8 || s.Records != 12 {
		t.Errorf("stats %+v", s)
	}
}

func TestBound(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	tick := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	p := compile(t, transform.Config{PrivacyUnit: "src_ip", AllowFields: []string{"v"}, Bound: &transform.Bound{MaxRecords: 2, Window: "1m", MaxUnits: 3}},
		transform.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	admit := func(unit any) bool {
		rec := decode.Record{"v": 1}
		if unit != nil {
			rec["src_ip"] = unit
		}
		_, dropped, err := p.Apply(rec)
		if err != nil {
			t.Fatal(err)
		}
		return !dropped
	}
	got := []bool{admit("a"), admit("a"), admit("a"), admit("b"), admit(nil), admit(nil), admit(nil), admit("c"), admit("c")}
	if want := []bool{true, true, false, true, true, true, false, false, false}; !reflect.DeepEqual(got, want) {
		// c is the fourth unit ("a", "b", missing): over max_units, so refused.
		t.Errorf("got %v, want %v", got, want)
	}
	tick(time.Minute)
	if !admit("a") || !admit("c") {
		t.Error("a new window did not reset the counts")
	}
	if s := p.Stats(); s.Bounded != 4 {
		t.Errorf("bounded %d, want 4", s.Bounded)
	}

	// Concurrent use: exactly max per unit get through.
	var wg sync.WaitGroup
	var admitted sync.Map
	tick(time.Minute)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if admit(fmt.Sprint("u", j%2)) {
					admitted.Store(fmt.Sprint(i, "-", j), true)
				}
			}
		}()
	}
	wg.Wait()
	count := 0
	admitted.Range(func(any, any) bool { count++; return true })
	if count != 4 {
		t.Errorf("%d admitted concurrently, want 2 units × 2", count)
	}
}

func TestSummaryAndStats(t *testing.T) {
	p := compile(t, transform.Config{
		AllowFields: []string{"note", "ts"}, IgnoredFields: []string{"raw"}, Summary: "info",
		BlockedKeyPatterns: []string{"secret"}, BlockedValues: []string{`\d{3}`},
		Generalize:   map[string]transform.Generalize{"ts": {Bucket: "1m"}, "ip": ip(24, 48)},
		Pseudonymize: &transform.Pseudonymize{Fields: []string{"user"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k"},
	})
	out := apply(t, p, decode.Record{"note": "call 123 or 456", "ts": "bad", "ip": "10.0.0.1", "user": "u", "raw": "777", "gone": 1, "gone2": 2, "secret": "x"})
	want := map[string]int64{"redaction.redacted.count": 3, "redaction.masked.count": 3, "redaction.ignored.count": 1, "redaction.generalized.count": 1, "redaction.pseudonymized.count": 1}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s = %v, want %d", k, out[k], v)
		}
	}
	s := p.Stats()
	if s != (transform.Stats{Records: 1, FieldsRemoved: 3, ValuesMasked: 2, Ignored: 1, Generalized: 1, GeneralizeFailed: 1, Pseudonymized: 1}) {
		t.Errorf("stats %+v", s)
	}
}

func TestApplyUnsupportedValue(t *testing.T) {
	p := compile(t, transform.Config{AllowAllFields: true, BlockedValues: []string{"x"}})
	_, _, err := p.Apply(decode.Record{"a": struct{ X string }{"x"}})
	if !errors.Is(err, transform.ErrUnsupportedValue) {
		t.Errorf("err = %v, want ErrUnsupportedValue", err)
	}
	if out, dropped, err := p.Apply(nil); err != nil || dropped || len(out) != 0 {
		t.Errorf("nil record: %v %v %v", out, dropped, err)
	}
}

// TestGeohashBisection: the encoder agrees with the textbook bisection on random points.
func TestGeohashBisection(t *testing.T) {
	bisect := func(lat, lon float64, precision int) string {
		const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
		latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
		var out []byte
		even := true
		for len(out) < precision {
			ch := 0
			for bit := 4; bit >= 0; bit-- {
				if even {
					if mid := (lonLo + lonHi) / 2; lon >= mid {
						ch |= 1 << bit
						lonLo = mid
					} else {
						lonHi = mid
					}
				} else {
					if mid := (latLo + latHi) / 2; lat >= mid {
						ch |= 1 << bit
						latLo = mid
					} else {
						latHi = mid
					}
				}
				even = !even
			}
			out = append(out, alphabet[ch])
		}
		return string(out)
	}
	p := compile(t, transform.Config{Generalize: map[string]transform.Generalize{"pos": {Geohash: intp(12)}}})
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		lat, lon := r.Float64()*180-90, r.Float64()*360-180
		got := apply(t, p, decode.Record{"pos": []any{lon, lat}})["pos"]
		if want := bisect(lat, lon, 12); got != want {
			t.Fatalf("(%v, %v): %v, bisection %s", lat, lon, got, want)
		}
	}
}

// TestGeneralizeThenPseudonymize: a field both generalised and pseudonymised gets the
// pseudonym of its generalised value; one that cannot be generalised stays masked.
func TestGeneralizeThenPseudonymize(t *testing.T) {
	both := compile(t, transform.Config{
		Generalize:   map[string]transform.Generalize{"ip": ip(24, 48), "lat": {Geohash: intp(5), LonField: "lon"}},
		Pseudonymize: &transform.Pseudonymize{Fields: []string{"ip", "lat"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k"},
	})
	only := compile(t, transform.Config{Pseudonymize: &transform.Pseudonymize{Fields: []string{"ip", "lat"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k"}})
	got := apply(t, both, decode.Record{"ip": "10.1.2.3", "lat": n("42.6"), "lon": n("-5.6")})
	want := apply(t, only, decode.Record{"ip": "10.1.2.0/24", "lat": "ezs42"})
	if !same(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := apply(t, both, decode.Record{"ip": "nope", "lat": "x", "lon": n("1")}); !same(got, decode.Record{"ip": "****", "lat": "****", "lon": "****"}) {
		t.Errorf("unparseable: %v", got)
	}
}

func TestKeyID(t *testing.T) {
	p := compile(t, transform.Config{Pseudonymize: &transform.Pseudonymize{Fields: []string{"u"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: "quarterly"}})
	if got := p.KeyID(); got != "k2026q1" {
		t.Errorf("KeyID = %q, want k2026q1", got)
	}
	if got := compile(t, transform.Config{}).KeyID(); got != "" {
		t.Errorf("KeyID without pseudonyms = %q", got)
	}
}
