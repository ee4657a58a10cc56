package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/internal/auth"
)

// Source names: what AdapterFor and Convert take. The first six are edge/decode's decoder
// names; falco and wazuh read JSON with the "json" decoder.
const (
	SourceJSON     = "json" // any of the shapes below, told apart record by record
	SourceSuricata = "suricata"
	SourceZeek     = "zeek"
	SourceFIWARE   = "fiware"
	SourceSSHD     = "sshd"
	SourceFlowCSV  = "flowcsv"
	SourceFalco    = "falco"
	SourceWazuh    = "wazuh"
)

// Sources lists the names AdapterFor knows, sorted.
func Sources() []string {
	return []string{SourceFalco, SourceFIWARE, SourceFlowCSV, SourceJSON, SourceSSHD, SourceSuricata, SourceWazuh, SourceZeek}
}

// ErrUnknownSource: AdapterFor or Convert was given a name that is not in Sources.
var ErrUnknownSource = errors.New("unknown telemetry source")

// ErrSkipped is matched by a *SkipError: the record is fine but the contract has no kind for
// it (a Suricata stats event, a Zeek dns log line, an sshd session message). Skipped records
// are counted by reason, not dead-lettered.
var ErrSkipped = errors.New("record skipped")

// SkipError says why a record gives no event. Reason is short and of low cardinality ("suricata
// event_type stats"), fit to be a metric label.
type SkipError struct{ Reason string }

// Error implements error.
func (e *SkipError) Error() string { return ErrSkipped.Error() + ": " + e.Reason }

// Unwrap returns ErrSkipped.
func (e *SkipError) Unwrap() error { return ErrSkipped }

func skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// Unknown stands for a required principal or entity that the source does not name: a Zeek
// ssh log has no user name, a Falco alert without host or container fields no entity.
const Unknown = "unknown"

// Adapter maps the records of one source, as edge/decode decodes them (and as the edge
// collector releases them, pseudonymised fields included), into telemetry events.
type Adapter interface {
	// Adapt maps one record into zero or more events, each with ID, Source, Time, Kind and
	// payload set and Twin left empty (Convert sets it). The ID is deterministic: the SHA-256
	// of the source name, the record (as JSON with sorted keys) and the event's index, so
	// converting the same input again yields the same (Source, ID) pairs and a consumer that
	// deduplicates on them stores each event once. A record the contract has no kind for
	// gives a *SkipError (ErrSkipped); a record that cannot be mapped gives an error matching
	// ErrMalformed. Any string is taken as an address, host, user or entity as it is: the
	// edge collector may have replaced it with a pseudonym ("k2026q1:…") or a prefix
	// ("198.51.100.0/24").
	Adapt(rec decode.Record) ([]Event, error)
}

// AdapterFor returns the adapter for a source name (see Sources).
func AdapterFor(source string) (Adapter, bool) {
	switch source {
	case SourceJSON:
		return autoAdapter{}, true
	case SourceSuricata:
		return suricataAdapter{}, true
	case SourceZeek:
		return zeekAdapter{}, true
	case SourceFIWARE:
		return fiwareAdapter{}, true
	case SourceSSHD:
		return sshdAdapter{}, true
	case SourceFlowCSV:
		return flowCSVAdapter{}, true
	case SourceFalco:
		return falcoAdapter{}, true
	case SourceWazuh:
		return wazuhAdapter{}, true
	}
	return nil, false
}

// DecoderFor returns the edge/decode decoder that reads a source's input.
func DecoderFor(source string) (string, bool) {
	switch source {
	case SourceFalco, SourceWazuh:
		return "json", true
	case SourceJSON, SourceSuricata, SourceZeek, SourceFIWARE, SourceSSHD, SourceFlowCSV:
		return source, true
	}
	return "", false
}

// DefaultSource is the CloudEvents source of the events an adapter makes, unless the
// Converter names another: "urn:sectwin:telemetry:<source>".
func DefaultSource(source string) string { return "urn:sectwin:telemetry:" + source }

// Stats counts what a conversion did.
type Stats struct {
	Records   int            // records read, good and bad
	Events    map[string]int // events produced, by kind
	Skipped   map[string]int // records that gave no event, by reason (see SkipError)
	Malformed int            // records dead-lettered: undecodable, unmappable or invalid
}

// EventCount is the number of events produced.
func (s Stats) EventCount() int {
	n := 0
	for _, c := range s.Events {
		n += c
	}
	return n
}

// maxSkipReasons bounds the size of Stats.Skipped; reasons beyond it are counted under "other".
const maxSkipReasons = 64

func (s *Stats) skipped(reason string) {
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	if _, ok := s.Skipped[reason]; !ok && len(s.Skipped) >= maxSkipReasons-1 {
		reason = "other"
	}
	s.Skipped[reason]++
}

// BadRecord is a record Convert dead-letters.
type BadRecord struct {
	Index int // 1-based position of the record in the input, good and bad records counted
	Line  int // the line it starts on, when the decoder failed on it; 0 otherwise
	// Raw is the record: the bytes read when the decoder failed on it, else the decoded record
	// as JSON. It may hold personal data: protect the dead letter queue like the input.
	Raw []byte
	Err error // matches ErrMalformed; says which field and why, without quoting the input
}

// Converter runs a decoder and its adapter over an input.
type Converter struct {
	Source string // the source name (see Sources)
	Twin   string // the twin every event belongs to
	// EventSource, when set, is the CloudEvents source of every event (the sensor, collector
	// or site); by default it is DefaultSource(Source).
	EventSource string
	// Decode tunes the decoder. When its Now is nil, Now is used.
	Decode decode.Options
	// Now is the clock events are validated against; nil means time.Now.
	Now func() time.Time
	// DeadLetter, when set, receives every record that is counted as Malformed.
	DeadLetter func(BadRecord)
}

// Convert decodes r as source, adapts each record and calls fn with each event for twin; see
// Converter.Run.
func Convert(ctx context.Context, source string, r io.Reader, twin string, fn func(Event) error) (Stats, error) {
	c := Converter{Source: source, Twin: twin}
	return c.Run(ctx, r, fn)
}

// Run decodes r, adapts each record and calls fn with each event, in input order. Each event's
// id is the adapter's (see Adapter) mixed with the record's position in the input: converting
// the same input again (or a longer version of it, as a log grows) gives the same ids, and
// identical records at different positions (two equal flow rows) stay distinct. Bad input
// never stops it: a record the decoder or the adapter rejects, or whose events do not
// validate, is counted as Malformed and handed to DeadLetter (none of its events is sent);
// a record the contract has no kind for is counted in Skipped. Run returns at the end of the
// input with a nil error, or early with the error of fn (wrapped), of the reader, or of ctx.
func (c *Converter) Run(ctx context.Context, r io.Reader, fn func(Event) error) (Stats, error) {
	st := Stats{Events: map[string]int{}, Skipped: map[string]int{}}
	ad, ok := AdapterFor(c.Source)
	decName, _ := DecoderFor(c.Source)
	if !ok {
		return st, fmt.Errorf("telemetry: convert %q: %w", c.Source, ErrUnknownSource)
	}
	if !auth.ValidTwinName(c.Twin) {
		return st, fmt.Errorf("telemetry: convert: %w", fieldErr(TwinExtension, "not a twin name"))
	}
	if c.EventSource != "" {
		if err := checkSource(c.EventSource); err != nil {
			return st, fmt.Errorf("telemetry: convert: %w", err)
		}
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	opts := c.Decode
	if opts.Now == nil {
		opts.Now = now
	}
	d, err := decode.New(decName, r, opts)
	if err != nil {
		return st, fmt.Errorf("telemetry: convert: %w", err)
	}
	bad := func(b BadRecord) {
		st.Malformed++
		if c.DeadLetter != nil {
			c.DeadLetter(b)
		}
	}
	for rec, err := range decode.Records(ctx, d) {
		if err != nil {
			if !decode.IsRecordError(err) {
				return st, fmt.Errorf("telemetry: convert %s: %w", c.Source, err)
			}
			st.Records++
			b := BadRecord{Index: st.Records, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
			if de, ok := errors.AsType[*decode.Error](err); ok {
				b.Line, b.Raw = de.Line, de.Raw
			}
			bad(b)
			continue
		}
		st.Records++
		evs, err := ad.Adapt(rec)
		if err == nil {
			err = c.finish(evs, st.Records, now())
		}
		if se, ok := errors.AsType[*SkipError](err); ok {
			st.skipped(se.Reason)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				err = fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			raw, _ := rec.AppendJSON(nil)
			bad(BadRecord{Index: st.Records, Raw: raw, Err: err})
			continue
		}
		for _, ev := range evs {
			if err := fn(ev); err != nil {
				return st, fmt.Errorf("telemetry: convert %s: %w", c.Source, err)
			}
			st.Events[ev.Kind]++
		}
	}
	return st, nil
}

// finish sets the twin (and source) of the events of the index-th record, mixes index into
// their ids, and validates them all.
func (c *Converter) finish(evs []Event, index int, now time.Time) error {
	for i := range evs {
		evs[i].ID = positionID(evs[i].ID, index)
		evs[i].Twin = c.Twin
		if c.EventSource != "" {
			evs[i].Source = c.EventSource
		}
		if err := evs[i].ValidateAt(now); err != nil {
			return err
		}
	}
	return nil
}

// positionID mixes a record's 1-based position in the input into an adapter's event id: the
// SHA-256 of both, in hex.
func positionID(id string, index int) string {
	h := sha256.New()
	h.Write([]byte(id))
	var n [9]byte
	binary.BigEndian.PutUint64(n[1:], uint64(index))
	h.Write(n[:])
	return hex.EncodeToString(h.Sum(nil))
}

// newEvent starts the i-th event of a record from source.
func newEvent(source string, rec decode.Record, i int, t time.Time) Event {
	return Event{ID: eventID(source, rec, i), Source: DefaultSource(source), Time: t}
}

// eventID is the SHA-256 of the source name, the record as JSON with sorted keys and the
// event's index within the record, in hex.
func eventID(source string, rec decode.Record, i int) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	b, err := rec.AppendJSON(nil)
	if err != nil { // a value AppendJSON cannot write: fall back to the keys and their text
		b = b[:0]
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range rec {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			s, _ := decode.ScalarText(rec[k])
			b = append(b, k...)
			b = append(b, 0)
			b = append(b, s...)
			b = append(b, 0)
		}
	}
	h.Write(b)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(i))
	h.Write(n[:])
	return hex.EncodeToString(h.Sum(nil))
}

// view reads a record's fields, optionally under a prefix (Wazuh alerts inside an OpenSearch
// hit are under "_source.").
type view struct {
	rec    decode.Record
	prefix string
}

func (v view) get(key string) (any, bool) {
	x, ok := v.rec[v.prefix+key]
	if !ok || x == nil {
		return nil, false
	}
	return x, true
}

func (v view) has(key string) bool {
	_, ok := v.get(key)
	return ok
}

// text returns a scalar field as trimmed, valid UTF-8 text; false when missing, null,
// empty or not a scalar.
func (v view) text(key string) (string, bool) {
	x, ok := v.get(key)
	if !ok {
		return "", false
	}
	s, ok := scalarText(x)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	return s, s != ""
}

// first returns the first of keys that has text.
func (v view) first(keys ...string) (string, bool) {
	for _, k := range keys {
		if s, ok := v.text(k); ok {
			return s, true
		}
	}
	return "", false
}

// firstOr is first with a default.
func (v view) firstOr(def string, keys ...string) string {
	if s, ok := v.first(keys...); ok {
		return s
	}
	return def
}

// strings returns a field that is a string or an array of strings, as a slice.
func (v view) strings(key string) []string {
	x, ok := v.get(key)
	if !ok {
		return nil
	}
	switch t := x.(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := scalarText(e); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		if s, ok := scalarText(t); ok {
			return []string{s}
		}
	}
	return nil
}

// number reads a numeric field: a JSON number, a Go number a transform stored, or text
// holding a decimal (or 0x hex) number. ok is false when the field is missing; an error means
// present but not a finite number.
func (v view) number(key string) (f float64, ok bool, err error) {
	x, present := v.get(key)
	if !present {
		return 0, false, nil
	}
	f, good := toFloat(x)
	if !good {
		if s, isStr := x.(string); isStr && strings.TrimSpace(s) == "" {
			return 0, false, nil
		}
		return 0, true, fieldErr("record."+key, "not a number")
	}
	return f, true, nil
}

func toFloat(x any) (float64, bool) {
	var f float64
	switch t := x.(type) {
	case json.Number:
		g, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return 0, false
		}
		f = g
	case float64:
		f = t
	case float32:
		f = float64(t)
	case int:
		f = float64(t)
	case int64:
		f = float64(t)
	case string:
		s := strings.TrimSpace(t)
		if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
			n, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				return 0, false
			}
			return float64(n), true
		}
		g, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		f = g
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// port reads a port number from the first of keys present; missing is 0.
func (v view) port(keys ...string) (int, error) {
	for _, k := range keys {
		f, ok, err := v.number(k)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if f != math.Trunc(f) || f < 0 || f > MaxPort {
			return 0, fieldErr("record."+k, "not a port number")
		}
		return int(f), nil
	}
	return 0, nil
}

// maxCount bounds the byte and packet counts an adapter accepts (about 4.6e18).
const maxCount = 1 << 62

// sum adds non-negative counts; missing fields count 0. found says whether any was present.
func (v view) sum(keys ...string) (total int64, found bool, err error) {
	for _, k := range keys {
		f, ok, err := v.number(k)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			continue
		}
		if f < 0 || f >= maxCount {
			return 0, false, fieldErr("record."+k, "not a count")
		}
		total += int64(f)
		if total >= maxCount {
			return 0, false, fieldErr("record."+k, "count out of range")
		}
		found = true
	}
	return total, found, nil
}

// time reads the first of keys present as a time; an error when none is, or it cannot be read.
func (v view) time(keys ...string) (time.Time, error) {
	for _, k := range keys {
		x, ok := v.get(k)
		if !ok {
			continue
		}
		t, err := parseTime(x)
		if err != nil {
			return time.Time{}, fieldErr("record."+k, "%v", err)
		}
		return t, nil
	}
	return time.Time{}, fieldErr("record."+strings.Join(keys, "|"), "no timestamp")
}

// timeLayouts are the timestamp forms the sources write, tried in order.
func timeLayouts() []string {
	return []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700", // Suricata, Wazuh: +0000
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999", // no zone: UTC
		"2006-01-02 15:04:05.999999999",
		"2006-01-02",
	}
}

// parseTime reads a timestamp: text in one of timeLayouts, an ISO 8601 interval
// ("start/end", read as its end), or epoch seconds, milliseconds, microseconds or nanoseconds
// (as a number or as text), told apart by size as the edge collector does.
func parseTime(x any) (time.Time, error) {
	if s, ok := x.(string); ok {
		s = strings.TrimSpace(s)
		if _, end, ok := strings.Cut(s, "/"); ok {
			s = strings.TrimSpace(end)
		}
		if s == "" {
			return time.Time{}, errors.New("empty timestamp")
		}
		if looksEpoch(s) {
			return epochTime(json.Number(s))
		}
		for _, l := range timeLayouts() {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, errors.New("not a timestamp")
	}
	return epochTime(x)
}

func looksEpoch(s string) bool {
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		return false
	}
	return !strings.ContainsAny(s, ":T ") && strings.Count(s, "-") <= 1 && (s[0] == '-' || s[0] >= '0' && s[0] <= '9')
}

func epochTime(x any) (time.Time, error) {
	var s string
	switch t := x.(type) {
	case json.Number:
		s = string(t)
	case string:
		s = strings.TrimSpace(t)
	default:
		f, ok := toFloat(x)
		if !ok {
			return time.Time{}, errors.New("not a timestamp")
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	digits, neg := strings.CutPrefix(s, "-")
	ip, fp, _ := strings.Cut(digits, ".")
	if ip == "" || !allDigits(ip) || !allDigits(fp) { // an exponent, or not a number
		f, ok := toFloat(s)
		if !ok {
			return time.Time{}, errors.New("not a timestamp")
		}
		ns := f * epochUnit(math.Abs(f))
		if math.Abs(ns) > 9e18 {
			return time.Time{}, errors.New("timestamp out of range")
		}
		return time.Unix(0, int64(ns)).UTC(), nil
	}
	n, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return time.Time{}, errors.New("timestamp out of range")
	}
	unit := int64(epochUnit(float64(n)))
	if n > math.MaxInt64/unit-1 {
		return time.Time{}, errors.New("timestamp out of range")
	}
	ns := n * unit
	if d := len(strconv.FormatInt(unit, 10)) - 1; d > 0 && fp != "" {
		f, _ := strconv.ParseInt((fp + strings.Repeat("0", d))[:d], 10, 64)
		ns += f
	}
	if neg {
		ns = -ns
	}
	return time.Unix(0, ns).UTC(), nil
}

// epochUnit is the size of an epoch timestamp's unit in nanoseconds, read from its magnitude:
// below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
func epochUnit(a float64) float64 {
	switch {
	case a < 1e11:
		return 1e9
	case a < 1e14:
		return 1e6
	case a < 1e17:
		return 1e3
	}
	return 1
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// scalarText is decode.ScalarText, also for the float64, int and int64 a transform may store.
func scalarText(x any) (string, bool) {
	switch t := x.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return "", false
		}
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	}
	return decode.ScalarText(x)
}

// truncate cuts s to at most max bytes on a rune boundary.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// message makes free text fit Alert.Message: valid UTF-8, no control characters but tabs and
// newlines, at most MaxMessageBytes.
func message(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= ' ' && r != 0x7f && !(r >= 0x80 && r < 0xa0) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return truncate(s, MaxMessageBytes)
}

// token makes a value from the input fit a skip reason: short and of a safe alphabet, else
// "other".
func token(s string) string {
	if s == "" || len(s) > 40 {
		return "other"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-:", r)) {
			return "other"
		}
	}
	return s
}

// technique returns the first ATT&CK technique id among ss.
func technique(ss []string) string {
	for _, s := range ss {
		s = strings.ToUpper(strings.TrimSpace(s))
		if techniqueRE.MatchString(s) {
			return s
		}
	}
	return ""
}

// flowPort is a flow's port: 0 for protocols without ports, whose "port" fields carry
// something else (Argus and Zeek put the ICMP type and code there).
func flowPort(proto string, port int) int {
	switch proto {
	case "icmp", "ipv6-icmp", "icmp6", "arp", "igmp":
		return 0
	}
	return port
}

// protoName names the IANA protocol numbers flow tables write.
func protoName(s string) string {
	switch s {
	case "1":
		return "icmp"
	case "2":
		return "igmp"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "47":
		return "gre"
	case "50":
		return "esp"
	case "58":
		return "ipv6-icmp"
	case "132":
		return "sctp"
	}
	return strings.ToLower(s)
}
