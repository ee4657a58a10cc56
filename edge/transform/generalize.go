package transform

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

type genKind int

const (
	genIP genKind = iota + 1
	genTime
	genGeo
	genNum
)

// generalizer coarsens one field.
type generalizer struct {
	field    string
	kind     genKind
	v4, v6   int
	bucket   time.Duration
	geohash  int
	gridM    float64
	lonField string
	buckets  []float64
	memo     atomic.Pointer[timeMemo]
}

// value generalises a field's value; ok is false when it cannot be.
func (g *generalizer) value(v any) (any, bool) {
	if g.kind == genGeo {
		return g.geo(v, 0)
	}
	return g.each(v)
}

// each generalises a scalar, or each element of a list (masking elements that fail).
func (g *generalizer) each(v any) (any, bool) {
	if list, ok := v.([]any); ok {
		for i, e := range list {
			if e == nil {
				continue
			}
			if ne, ok := g.scalar(e); ok {
				list[i] = ne
			} else {
				list[i] = mask
			}
		}
		return list, true
	}
	return g.scalar(v)
}

func (g *generalizer) scalar(v any) (any, bool) {
	switch g.kind {
	case genIP:
		if s, ok := v.(string); ok {
			return generalizeIP(s, g.v4, g.v6)
		}
	case genTime:
		return g.time(v)
	case genNum:
		return g.number(v)
	}
	return nil, false
}

// generalizeIP turns an address (or a prefix) into its prefix: "a.b.c.0/24". IPv4-mapped
// IPv6 addresses are treated as IPv4, zones are dropped, and a prefix longer than the one
// given keeps its own length.
func generalizeIP(s string, v4, v6 int) (any, bool) {
	s = strings.TrimSpace(s)
	bits := -1
	var a netip.Addr
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, false
		}
		a, bits = p.Addr(), p.Bits()
		if a.Is4In6() {
			bits = max(0, bits-96)
		}
	} else {
		var err error
		if a, err = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err != nil {
			return nil, false
		}
	}
	a = a.WithZone("").Unmap()
	want := v6
	if a.Is4() {
		want = v4
	}
	if bits >= 0 && bits < want {
		want = bits
	}
	p, err := a.Prefix(want)
	if err != nil {
		return nil, false
	}
	var buf [64]byte
	return string(p.AppendTo(buf[:0])), true
}

// timeLayouts are the timestamp forms generalised, tried in order.
var timeLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.999999999Z0700", true}, // Suricata: +0000
	{"2006-01-02 15:04:05.999999999Z07:00", true},
	{"2006-01-02 15:04:05.999999999Z0700", true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02 15:04:05.999999999", false},
	{"2006-01-02", false},
}

func (g *generalizer) time(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		if a, b, ok := strings.Cut(x, "/"); ok { // an ISO 8601 interval
			ta, okA := g.timeText(a)
			tb, okB := g.timeText(b)
			return ta + "/" + tb, okA && okB
		}
		return g.timeString(x)
	case json.Number:
		s, ok := g.epoch(string(x))
		return json.Number(s), ok
	case float64, int, int64:
		text, _ := decode.ScalarText(x)
		s, ok := g.epoch(text)
		return json.Number(s), ok
	}
	return nil, false
}

// looksEpoch tells a number written as text from a date.
func looksEpoch(s string) bool {
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		return false // YYYY-MM-DD...
	}
	c := s[0]
	return (c >= '0' && c <= '9' || c == '-') && !strings.ContainsAny(s, ":T ") && strings.Count(s, "-") <= 1
}

func (g *generalizer) timeText(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if looksEpoch(s) {
		return g.epoch(s) // epoch seconds (or ms, µs, ns) as text
	}
	t, layout, ok := g.bucketTime(s)
	if !ok {
		return "", false
	}
	var buf [64]byte
	return string(t.AppendFormat(buf[:0], layout)), true
}

// timeMemo is the last timestamp string a generalizer wrote. Events come roughly in time
// order, so most fall in the same bucket as the one before and reuse its (boxed) string.
type timeMemo struct {
	ns     int64
	offset int
	layout string
	out    any
}

// timeString is timeText for a whole field value, memoised.
func (g *generalizer) timeString(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if s == "" || looksEpoch(s) {
		return g.timeText(s)
	}
	t, layout, ok := g.bucketTime(s)
	if !ok {
		return nil, false
	}
	ns := t.UnixNano()
	_, offset := t.Zone()
	if m := g.memo.Load(); m != nil && m.ns == ns && m.offset == offset && m.layout == layout {
		return m.out, true
	}
	var buf [64]byte
	out := any(string(t.AppendFormat(buf[:0], layout)))
	g.memo.Store(&timeMemo{ns: ns, offset: offset, layout: layout, out: out})
	return out, true
}

// bucketTime parses a date and returns the start of its bucket, in the date's zone, and the
// layout to write it in.
func (g *generalizer) bucketTime(s string) (time.Time, string, bool) {
	for _, l := range timeLayouts {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		if t.Year() < 1678 || t.Year() > 2261 { // outside int64 nanoseconds
			return time.Time{}, "", false
		}
		t2 := time.Unix(0, floorDiv(t.UnixNano(), int64(g.bucket))).In(t.Location())
		sub := g.bucket%time.Second != 0
		switch {
		case l.layout == "2006-01-02" && g.bucket%(24*time.Hour) == 0:
			return t2, "2006-01-02", true
		case l.zoned && sub:
			return t2, time.RFC3339Nano, true
		case l.zoned:
			return t2, time.RFC3339, true
		case sub:
			return t2, "2006-01-02T15:04:05.999999999", true
		default:
			return t2, "2006-01-02T15:04:05", true
		}
	}
	return time.Time{}, "", false
}

// epoch truncates an epoch timestamp written as a decimal number. Its unit is read from its
// size: below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else
// nanoseconds. The result is in the same unit.
func (g *generalizer) epoch(s string) (string, bool) {
	ns, unit, ok := parseEpoch(strings.TrimSpace(s))
	if !ok {
		return "", false
	}
	return formatEpoch(floorDiv(ns, int64(g.bucket)), unit), true
}

func unitOf(x float64) int64 {
	switch {
	case x < 1e11:
		return 1e9
	case x < 1e14:
		return 1e6
	case x < 1e17:
		return 1e3
	}
	return 1
}

func unitDigits(unit int64) int {
	return len(strconv.FormatInt(unit, 10)) - 1
}

func parseEpoch(s string) (ns, unit int64, ok bool) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, 0, false
		}
		unit = unitOf(math.Abs(f))
		x := math.Floor(f * float64(unit))
		if math.Abs(x) > 9e18 {
			return 0, 0, false
		}
		return int64(x), unit, true
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, dot := strings.Cut(s, ".")
	if !allDigits(ip) || (dot && !allDigits(fp)) {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	unit = unitOf(float64(n))
	if n > math.MaxInt64/unit-1 {
		return 0, 0, false
	}
	ns = n * unit
	if d := unitDigits(unit); d > 0 && fp != "" {
		fp = (fp + strings.Repeat("0", d))[:d]
		f, _ := strconv.ParseInt(fp, 10, 64)
		ns += f
	}
	if neg {
		ns = -ns
	}
	return ns, unit, true
}

func formatEpoch(ns, unit int64) string {
	neg := ns < 0
	a := ns
	if neg {
		a = -ns
	}
	q, r := a/unit, a%unit
	s := strconv.FormatInt(q, 10)
	if r != 0 {
		frac := strconv.FormatInt(r, 10)
		frac = strings.Repeat("0", unitDigits(unit)-len(frac)) + frac
		s += "." + strings.TrimRight(frac, "0")
	}
	if neg && (q != 0 || r != 0) {
		s = "-" + s
	}
	return s
}

// floorDiv rounds n down to a multiple of d (toward −∞).
func floorDiv(n, d int64) int64 {
	m := n % d
	if m < 0 {
		m += d
	}
	return n - m
}

func (g *generalizer) number(v any) (any, bool) {
	f, ok := number(v)
	if !ok {
		return nil, false
	}
	i := sort.SearchFloat64s(g.buckets, f) // first boundary ≥ f
	if i == len(g.buckets) || g.buckets[i] != f {
		i--
	}
	text := strconv.FormatFloat(g.buckets[max(i, 0)], 'f', -1, 64)
	if _, isString := v.(string); isString {
		return text, true
	}
	return json.Number(text), true
}

const maxGeoDepth = 16

// geo generalises a position or geometry: a GeoJSON position [lon, lat(, alt)] (altitude is
// dropped), a list of them (nested as in lines and polygons), a "lat,lon" string, or an
// object with lat/latitude and lon/lng/longitude. Any bad part fails the whole value.
func (g *generalizer) geo(v any, depth int) (any, bool) {
	if depth > maxGeoDepth {
		return nil, false
	}
	switch x := v.(type) {
	case string:
		a, b, ok := strings.Cut(x, ",")
		if !ok {
			return nil, false
		}
		lat, err1 := parseFloat(a)
		lon, err2 := parseFloat(b)
		if err1 != nil || err2 != nil || !validLatLon(lat, lon) {
			return nil, false
		}
		if g.geohash > 0 {
			return geohash(lat, lon, g.geohash), true
		}
		latC, lonC := g.grid(lat, lon)
		return coord(latC) + "," + coord(lonC), true
	case []any:
		if len(x) >= 2 && isNum(x[0]) && isNum(x[1]) {
			lon, _ := number(x[0])
			lat, _ := number(x[1])
			if !validLatLon(lat, lon) {
				return nil, false
			}
			if g.geohash > 0 {
				return geohash(lat, lon, g.geohash), true
			}
			latC, lonC := g.grid(lat, lon)
			return []any{json.Number(coord(lonC)), json.Number(coord(latC))}, true
		}
		out := make([]any, len(x))
		for i, e := range x {
			ne, ok := g.geo(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = ne
		}
		return out, true
	case map[string]any:
		latK, lonK := pick(x, "lat", "latitude"), pick(x, "lon", "lng", "longitude")
		if latK == "" || lonK == "" {
			return nil, false
		}
		lat, ok1 := number(x[latK])
		lon, ok2 := number(x[lonK])
		if !ok1 || !ok2 || !validLatLon(lat, lon) {
			return nil, false
		}
		if g.geohash > 0 {
			return geohash(lat, lon, g.geohash), true
		}
		latC, lonC := g.grid(lat, lon)
		return map[string]any{latK: json.Number(coord(latC)), lonK: json.Number(coord(lonC))}, true
	}
	return nil, false
}

// applyPair generalises a latitude field together with its longitude field. A pair with a
// part missing or unreadable is masked. It reports whether the pair was generalised.
func (g *generalizer) applyPair(rec decode.Record, t *tally) bool {
	latV, hasLat := rec[g.field]
	lonV, hasLon := rec[g.lonField]
	if latV == nil && lonV == nil {
		return false
	}
	lat, ok1 := number(latV)
	lon, ok2 := number(lonV)
	if !ok1 || !ok2 || !validLatLon(lat, lon) {
		for _, f := range []struct {
			name string
			has  bool
		}{{g.field, hasLat}, {g.lonField, hasLon}} {
			if f.has {
				rec[f.name] = mask
				t.genFailed++
			}
		}
		return false
	}
	t.generalized++
	if g.geohash > 0 {
		rec[g.field] = geohash(lat, lon, g.geohash)
		delete(rec, g.lonField)
		return true
	}
	latC, lonC := g.grid(lat, lon)
	rec[g.field], rec[g.lonField] = sameType(latV, coord(latC)), sameType(lonV, coord(lonC))
	return true
}

func sameType(orig any, text string) any {
	if _, ok := orig.(string); ok {
		return text
	}
	return json.Number(text)
}

// metresPerDegree is the length of a degree of latitude (and of longitude at the equator).
const metresPerDegree = 111_320.0

// grid snaps a point to the centre of its cell in a grid of g.gridM metres: rows of equal
// latitude height, each cut into cells as wide (in metres) at the row's centre latitude.
func (g *generalizer) grid(lat, lon float64) (float64, float64) {
	dlat := math.Min(g.gridM/metresPerDegree, 180)
	i := math.Floor((lat + 90) / dlat)
	latC := math.Min(-90+(i+0.5)*dlat, 90)
	dlon := 360.0
	if c := math.Cos(latC * math.Pi / 180); c > 1e-9 {
		dlon = math.Min(g.gridM/(metresPerDegree*c), 360)
	}
	j := math.Floor((lon + 180) / dlon)
	lonC := math.Min(-180+(j+0.5)*dlon, 180)
	return latC, lonC
}

// coord formats a coordinate with at most 6 decimals (about 0.1 m).
func coord(x float64) string {
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], x, 'f', 6, 64)
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	b = bytes.TrimSuffix(b, []byte("."))
	if string(b) == "-0" {
		return "0"
	}
	return string(b)
}

func validLatLon(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

func isNum(v any) bool {
	switch v.(type) {
	case json.Number, float64, int, int64:
		return true
	}
	return false
}

func pick(m map[string]any, names ...string) string {
	for _, n := range names {
		if _, ok := m[n]; ok {
			return n
		}
	}
	return ""
}

func parseFloat(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geohash encodes a point with precision characters (1..12): longitude and latitude bits
// interleaved, longitude first, five to a base-32 character. Each coordinate is quantised to
// 30 bits, which is what bisecting its range 30 times gives.
func geohash(lat, lon float64, precision int) string {
	la := quantize30((lat + 90) / 180)
	lo := quantize30((lon + 180) / 360)
	bits := spread(lo)<<1 | spread(la) // 60 bits: lon, lat, lon, lat, ... from the top
	var buf [12]byte
	for i := range precision {
		buf[i] = geohashAlphabet[(bits>>(55-5*uint(i)))&31]
	}
	return string(buf[:precision])
}

// quantize30 maps [0, 1] to 0..2^30-1.
func quantize30(f float64) uint64 {
	q := uint64(math.Max(0, math.Floor(f*(1<<30))))
	return min(q, 1<<30-1)
}

// spread puts the 30 bits of x at the even bit positions 0, 2, ..., 58.
func spread(x uint64) uint64 {
	x &= 1<<30 - 1
	x = (x | x<<16) & 0x0000_FFFF_0000_FFFF
	x = (x | x<<8) & 0x00FF_00FF_00FF_00FF
	x = (x | x<<4) & 0x0F0F_0F0F_0F0F_0F0F
	x = (x | x<<2) & 0x3333_3333_3333_3333
	x = (x | x<<1) & 0x5555_5555_5555_5555
	return x
}
