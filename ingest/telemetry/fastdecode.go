package telemetry

import (
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The fast path of decodeEvent.
//
// The slow path (decodeEventSlow) reads an event five times: json.Valid, precheck's map, the
// CloudEvents SDK, setPayload's map and setPayload's Decoder. fastDecode reads it once, with a
// small strict scanner, straight into the Event, and then runs the same ValidateAt. It only
// says yes or "don't know": whenever anything is wrong or merely unusual it returns false and
// decodeEvent runs the slow path, which gives the error (or, rarely, accepts). So errors keep
// their exact text by construction, and the fast path must only be shown never to accept what
// the slow path refuses, and to build the same Event when both accept
// (FuzzDecodeFastMatchesSlow checks both).
//
// Why a hand-written scanner rather than jsoniter's Iterator (which the SDK uses): the
// Iterator is lenient (Skip does not validate, an empty key ends ReadObject, strings are not
// checked for UTF-8), so json.Valid would still be needed in front of it; the scanner below
// accepts only a strict subset of JSON (objects, strings and numbers, nothing else), so what
// it accepts json.Valid accepts too, in the same single pass, without allocating per token.
//
// The subset, and why each part decodes exactly as the slow path does:
//   - JSON white space only around the object (bytes.TrimSpace also trims Unicode spaces and
//     \v, \f, which json.Valid would then refuse or see differently: fall back).
//   - Keys without escapes, each at most once (duplicates are order-dependent in the SDK and
//     last-wins in encoding/json: fall back).
//   - Strings: valid UTF-8 (encoding/json replaces invalid bytes with U+FFFD, jsoniter keeps
//     them), and escapes other than UTF-16 surrogates (both decoders agree on \" \\ \/ \b \f
//     \n \r \t and \uXXXX outside D800–DFFF; they differ on lone surrogates).
//   - Envelope: specversion "1.0", id, source, type io.sectwin.telemetry.<kind>, time (parsed
//     by the same time.Parse(time.RFC3339Nano) the SDK and precheck use), optional subject,
//     datacontenttype application/json (with parameters: see fastContentType), sectwintwin, and
//     data: all strings but data; null only for subject (precheck and the SDK take it as
//     absent) and extensions (the SDK deletes an extension set to null). Source is taken as written: ValidateAt requires
//     url.Parse(source).String() == source, which is exactly when the SDK's URIRef reads back
//     the same string. Other keys are extensions the SDK accepts and the slow path ignores:
//     lower-case letters and digits (the SDK lower-cases names, so upper case could collide),
//     at most 20 of them (the spec's bound), not dataschema, schemaurl or
//     datacontentencoding (which the SDK reads specially), with a string value.
//   - Payload: an object of the kind's fields only (case-sensitive, as setPayload's map check
//     is), every required one present; strings where the struct has strings, integer
//     literals that strconv.ParseInt accepts where it has ints (encoding/json parses the same
//     literal with the same function), and numbers that strconv.ParseFloat accepts for
//     Metric.Value; null, which encoding/json takes as "leave the zero value", only for the
//     optional fields (the slow path refuses a null required field).
//     When data comes before type (encoders that sort keys), it is skipped and read again once
//     the kind is known.
//
// Strings in the Event are substrings of one copy of the input: one allocation for all of
// them, and nothing aliases the caller's buffer (a NATS message's data may be reused).

// fastMaxExtensions bounds the extension attributes other than sectwintwin the fast path reads.
const fastMaxExtensions = 20

// Envelope attributes, as bits of what was seen.
const (
	fSpec = 1 << iota
	fID
	fSource
	fType
	fTime
	fSubject
	fContentType
	fTwin
	fData
)

// fastDecode is decodeEvent for the common case; false means "use the slow path".
func fastDecode(data []byte, twin, kind string, now time.Time) (Event, bool) {
	if len(data) > MaxEventBytes {
		return Event{}, false
	}
	d := fastScanner{s: string(data)}
	ev, ok := d.envelope(twin, kind)
	if !ok || ev.ValidateAt(now) != nil {
		return Event{}, false
	}
	return ev, true
}

// fastScanner reads s from i.
type fastScanner struct {
	s string
	i int
}

func (d *fastScanner) envelope(twin, kind string) (ev Event, ok bool) {
	if !d.consume('{') {
		return Event{}, false
	}
	var (
		seen        uint32
		exts        [fastMaxExtensions]string
		nexts       int
		typ, ts, ct string
		dataAt      = -1
		twinNull    bool
	)
	for {
		k, ok := d.key()
		if !ok {
			return Event{}, false
		}
		var bit uint32
		switch k {
		case "specversion":
			bit = fSpec
			var v string
			v, ok = d.str()
			ok = ok && v == "1.0"
		case "id":
			bit = fID
			ev.ID, ok = d.str()
		case "source":
			bit = fSource
			ev.Source, ok = d.str()
		case "type":
			bit = fType
			typ, ok = d.str()
			if ok {
				ev.Kind, ok = strings.CutPrefix(typ, typePrefix)
				ok = ok && isKind(ev.Kind) && (kind == "" || ev.Kind == kind)
			}
		case "time":
			bit = fTime
			ts, ok = d.str()
		case "subject":
			bit = fSubject
			ev.Subject, ok = d.optStr() // null is absent to precheck and to the SDK
		case "datacontenttype":
			bit = fContentType
			ct, ok = d.str()
			ok = ok && fastContentType(ct)
		case TwinExtension:
			bit = fTwin
			// The SDK deletes an extension set to null: as if absent.
			if twinNull = d.null(); !twinNull {
				ev.Twin, ok = d.str()
			}
		case "data":
			bit = fData
			if seen&fData != 0 {
				return Event{}, false
			}
			if seen&fType != 0 {
				ok = d.payload(&ev)
			} else {
				d.ws()
				dataAt = d.i
				ok = d.skipFlatObject()
			}
		default:
			if !fastExtensionName(k) || nexts == len(exts) {
				return Event{}, false
			}
			for _, x := range exts[:nexts] {
				if x == k {
					return Event{}, false
				}
			}
			exts[nexts] = k
			nexts++
			_, ok = d.optStr()
		}
		if !ok || seen&bit != 0 {
			return Event{}, false
		}
		seen |= bit
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			break
		}
		return Event{}, false
	}
	d.ws()
	const required = fSpec | fID | fSource | fType | fTime | fData
	if d.i != len(d.s) || seen&required != required {
		return Event{}, false
	}
	if dataAt >= 0 {
		d.i = dataAt
		if !d.payload(&ev) {
			return Event{}, false
		}
	}
	if seen&fTwin == 0 || twinNull {
		if twin == "" {
			return Event{}, false
		}
		ev.Twin = twin
	} else if twin != "" && ev.Twin != twin {
		return Event{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || t.IsZero() {
		return Event{}, false
	}
	ev.Time = t
	return ev, true
}

// fastContentType reports whether the slow path takes ct as JSON: precheck parses it to
// application/json, the SDK's Validate parses it, and the SDK reads data as JSON when the part
// before any ';', trimmed, is exactly application/json (case-sensitive, unlike precheck).
func fastContentType(ct string) bool {
	switch ct {
	case ContentType, ContentType + "; charset=utf-8", ContentType + ";charset=utf-8":
		return true
	}
	i := strings.IndexByte(ct, ';')
	if i < 0 || strings.TrimSpace(ct[:i]) != ContentType {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == ContentType
}

// fastExtensionName reports whether name is an extension the fast path may skip: one the SDK
// stores as written and the slow path ignores.
func fastExtensionName(name string) bool {
	if name == "" || len(name) > 20 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	switch name {
	case "dataschema", "schemaurl", "datacontentencoding":
		return false
	}
	return true
}

// payload reads the data object into the payload ev.Kind names.
func (d *fastScanner) payload(ev *Event) bool {
	switch ev.Kind {
	case KindFlow:
		ev.Flow = &Flow{}
		return d.flow(ev.Flow)
	case KindAuth:
		ev.Auth = &Auth{}
		return d.auth(ev.Auth)
	case KindAlert:
		ev.Alert = &Alert{}
		return d.alert(ev.Alert)
	case KindMetric:
		ev.Metric = &Metric{}
		return d.metric(ev.Metric)
	case KindDeploy:
		ev.Deploy = &Deploy{}
		return d.deploy(ev.Deploy)
	}
	return false
}

// object reads an object whose values field reads; field returns the key's bit (0 for an
// unknown key) and whether its value was read. It returns the bits seen, or false for a
// duplicate, an unknown key or a bad value.
func (d *fastScanner) object(field func(k string) (uint32, bool)) (uint32, bool) {
	if !d.consume('{') {
		return 0, false
	}
	var seen uint32
	if d.consume('}') {
		return 0, true
	}
	for {
		k, ok := d.key()
		if !ok {
			return 0, false
		}
		bit, ok := field(k)
		if !ok || bit == 0 || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return seen, true
		}
		return 0, false
	}
}

func (d *fastScanner) flow(f *Flow) bool {
	seen, ok := d.object(func(k string) (bit uint32, ok bool) {
		switch k {
		case "src":
			f.Src, ok = d.str()
			return 1 << 0, ok
		case "dst":
			f.Dst, ok = d.str()
			return 1 << 1, ok
		case "port":
			var n int64
			n, ok = d.int(strconv.IntSize)
			f.Port = int(n)
			return 1 << 2, ok
		case "proto":
			f.Proto, ok = d.str()
			return 1 << 3, ok
		case "bytes":
			f.Bytes, ok = d.int(64)
			return 1 << 4, ok
		case "packets":
			f.Packets, ok = d.optInt()
			return 1 << 5, ok
		case "count":
			f.Count, ok = d.optInt()
			return 1 << 6, ok
		}
		return 0, false
	})
	const required = 1<<5 - 1
	return ok && seen&required == required
}

func (d *fastScanner) auth(a *Auth) bool {
	seen, ok := d.object(func(k string) (bit uint32, ok bool) {
		switch k {
		case "principal":
			a.Principal, ok = d.str()
			return 1 << 0, ok
		case "outcome":
			a.Outcome, ok = d.str()
			return 1 << 1, ok
		case "src":
			a.Src, ok = d.optStr()
			return 1 << 2, ok
		case "target":
			a.Target, ok = d.optStr()
			return 1 << 3, ok
		case "method":
			a.Method, ok = d.optStr()
			return 1 << 4, ok
		case "location":
			a.Location, ok = d.optStr()
			return 1 << 5, ok
		}
		return 0, false
	})
	const required = 1<<2 - 1
	return ok && seen&required == required
}

func (d *fastScanner) alert(a *Alert) bool {
	seen, ok := d.object(func(k string) (bit uint32, ok bool) {
		switch k {
		case "source":
			a.Source, ok = d.str()
			return 1 << 0, ok
		case "rule":
			a.Rule, ok = d.str()
			return 1 << 1, ok
		case "severity":
			a.Severity, ok = d.str()
			return 1 << 2, ok
		case "entity":
			a.Entity, ok = d.str()
			return 1 << 3, ok
		case "message":
			a.Message, ok = d.optStr()
			return 1 << 4, ok
		case "technique":
			a.Technique, ok = d.optStr()
			return 1 << 5, ok
		}
		return 0, false
	})
	const required = 1<<4 - 1
	return ok && seen&required == required
}

func (d *fastScanner) metric(m *Metric) bool {
	seen, ok := d.object(func(k string) (bit uint32, ok bool) {
		switch k {
		case "entity":
			m.Entity, ok = d.str()
			return 1 << 0, ok
		case "name":
			m.Name, ok = d.str()
			return 1 << 1, ok
		case "value":
			m.Value, ok = d.float()
			return 1 << 2, ok
		case "unit":
			m.Unit, ok = d.optStr()
			return 1 << 3, ok
		}
		return 0, false
	})
	const required = 1<<3 - 1
	return ok && seen&required == required
}

func (d *fastScanner) deploy(p *Deploy) bool {
	seen, ok := d.object(func(k string) (bit uint32, ok bool) {
		switch k {
		case "service":
			p.Service, ok = d.str()
			return 1 << 0, ok
		case "digest":
			p.Digest, ok = d.str()
			return 1 << 1, ok
		case "host":
			p.Host, ok = d.optStr()
			return 1 << 2, ok
		}
		return 0, false
	})
	const required = 1<<2 - 1
	return ok && seen&required == required
}

// skipFlatObject skips an object of strings, numbers and nulls with distinct keys without escapes:
// the only data a payload can hold.
func (d *fastScanner) skipFlatObject() bool {
	var keys [16]string
	n := 0
	_, ok := d.object(func(k string) (uint32, bool) {
		if n == len(keys) {
			return 0, false
		}
		for _, x := range keys[:n] {
			if x == k {
				return 0, false
			}
		}
		keys[n] = k
		bit := uint32(1) << n
		n++
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == '"' {
			_, ok := d.str()
			return bit, ok
		}
		if d.null() {
			return bit, true
		}
		_, _, ok := d.number()
		return bit, ok
	})
	return ok
}

// null reads a null, if it is next.
func (d *fastScanner) null() bool {
	d.ws()
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += len("null")
		return true
	}
	return false
}

// optStr reads a string or null (""), as encoding/json does for an optional field.
func (d *fastScanner) optStr() (string, bool) {
	if d.null() {
		return "", true
	}
	return d.str()
}

// optInt reads an int64 or null (0), as encoding/json does for an optional field.
func (d *fastScanner) optInt() (int64, bool) {
	if d.null() {
		return 0, true
	}
	return d.int(64)
}

func (d *fastScanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, if it is next.
func (d *fastScanner) consume(c byte) bool {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// key reads an object key without escapes and the colon after it.
func (d *fastScanner) key() (string, bool) {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	for j := start; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			d.i = j + 1
			if !d.consume(':') {
				return "", false
			}
			return d.s[start:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", false
		}
	}
	return "", false
}

// str reads a string: valid UTF-8, escapes decoded, surrogate escapes refused.
func (d *fastScanner) str() (string, bool) {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	ascii, escaped := true, false
	for j := start; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			raw := d.s[start:j]
			// The escapes are ASCII, so the literal is valid UTF-8 exactly when every run of
			// bytes between them is.
			if !ascii && !utf8.ValidString(raw) {
				return "", false
			}
			d.i = j + 1
			if escaped {
				return unescape(raw)
			}
			return raw, true
		case c == '\\':
			escaped = true
			j++ // skip the escaped byte (which may be '"'); unescape checks it
		case c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// unescape decodes the escapes of a string literal's inside.
func unescape(raw string) (string, bool) {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			b = append(b, raw[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return "", false
			}
			var r rune
			for _, h := range []byte(raw[i+1 : i+5]) {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | rune(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return "", false
				}
			}
			if 0xD800 <= r && r <= 0xDFFF {
				return "", false
			}
			b = utf8.AppendRune(b, r)
			i += 4
		default:
			return "", false
		}
	}
	return string(b), true
}

// number reads a number literal as JSON's grammar has it; isInt is false when it has a
// fraction or an exponent.
func (d *fastScanner) number() (lit string, isInt, ok bool) {
	d.ws()
	s, start, j := d.s, d.i, d.i
	digits := func() bool {
		k := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case !digits():
		return "", false, false
	}
	isInt = true
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			return "", false, false
		}
		isInt = false
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			return "", false, false
		}
		isInt = false
	}
	d.i = j
	return s[start:j], isInt, true
}

// int reads an integer literal that fits in bits, as encoding/json does for an int field.
func (d *fastScanner) int(bits int) (int64, bool) {
	lit, isInt, ok := d.number()
	if !ok || !isInt {
		return 0, false
	}
	n, err := strconv.ParseInt(lit, 10, bits)
	return n, err == nil
}

// float reads a number as encoding/json does for a float64 field.
func (d *fastScanner) float() (float64, bool) {
	lit, _, ok := d.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	return f, err == nil
}
