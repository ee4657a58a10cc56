package decode

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonParser is a small JSON parser that writes objects straight into a flat Record (nested
// objects become dotted keys), keeps numbers as json.Number and interns keys, so a record costs
// few allocations. It accepts exactly what encoding/json accepts (RFC 8259), and like it
// replaces invalid UTF-8 and unpaired surrogates in strings with U+FFFD.
type jsonParser struct {
	data     []byte
	pos      int
	maxDepth int
	path     []byte // dotted key of the object being flattened
	sbuf     []byte // unescaped string
	keys     keyCache
	dups     int // keys assigned more than once in the last record
}

// syntaxError is a parse failure at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg + " at byte " + strconv.Itoa(e.off+1) }

func (p *jsonParser) fail(msg string) error { return &syntaxError{off: p.pos, msg: msg} }

// reset points the parser at a new input.
func (p *jsonParser) reset(data []byte) {
	p.data, p.pos, p.dups = data, 0, 0
	p.path = p.path[:0]
	if p.maxDepth <= 0 {
		p.maxDepth = DefaultMaxDepth
	}
}

func (p *jsonParser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// atEnd reports whether only whitespace is left.
func (p *jsonParser) atEnd() bool {
	p.skipWS()
	return p.pos == len(p.data)
}

// peek returns the next non-space byte, or 0 at the end.
func (p *jsonParser) peek() byte {
	p.skipWS()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// object flattens the object at p.pos into rec, its keys prefixed with p.path (plus a dot when
// the object is nested). An empty nested object is kept as an empty map under its key.
func (p *jsonParser) object(rec Record, depth int, nested bool) error {
	if depth > p.maxDepth {
		return p.fail("nested deeper than " + strconv.Itoa(p.maxDepth))
	}
	p.pos++ // {
	if p.peek() == '}' {
		p.pos++
		if nested {
			p.set(rec, map[string]any{})
		}
		return nil
	}
	plen := len(p.path)
	for {
		if p.peek() != '"' {
			return p.fail("want a quoted key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if nested {
			p.path = append(p.path[:plen], '.')
			p.path = append(p.path, key...)
		} else {
			p.path = append(p.path[:0], key...)
		}
		if p.peek() != ':' {
			return p.fail("want ':' after a key")
		}
		p.pos++
		if p.peek() == '{' {
			if err := p.object(rec, depth+1, true); err != nil {
				return err
			}
		} else {
			v, err := p.value(depth + 1)
			if err != nil {
				return err
			}
			p.set(rec, v)
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.path = p.path[:plen]
			return nil
		default:
			return p.fail("want ',' or '}' after an object member")
		}
	}
}

func (p *jsonParser) set(rec Record, v any) {
	k := p.keys.intern(p.path)
	if _, dup := rec[k]; dup {
		p.dups++
	}
	rec[k] = v
}

// value parses any JSON value; objects become map[string]any.
func (p *jsonParser) value(depth int) (any, error) {
	switch c := p.peek(); {
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return string(s), nil
	case c == '{':
		return p.tree(depth)
	case c == '[':
		return p.array(depth)
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 0 && p.pos == len(p.data):
		return nil, p.fail("unexpected end of input")
	default:
		return nil, p.fail("unexpected byte " + strconv.QuoteRuneToASCII(rune(c)))
	}
}

// tree parses an object into a map.
func (p *jsonParser) tree(depth int) (map[string]any, error) {
	if depth > p.maxDepth {
		return nil, p.fail("nested deeper than " + strconv.Itoa(p.maxDepth))
	}
	p.pos++ // {
	m := map[string]any{}
	if p.peek() == '}' {
		p.pos++
		return m, nil
	}
	for {
		if p.peek() != '"' {
			return nil, p.fail("want a quoted key")
		}
		kb, err := p.str()
		if err != nil {
			return nil, err
		}
		k := p.keys.intern(kb)
		if p.peek() != ':' {
			return nil, p.fail("want ':' after a key")
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			p.dups++
		}
		m[k] = v
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m, nil
		default:
			return nil, p.fail("want ',' or '}' after an object member")
		}
	}
}

func (p *jsonParser) array(depth int) ([]any, error) {
	if depth > p.maxDepth {
		return nil, p.fail("nested deeper than " + strconv.Itoa(p.maxDepth))
	}
	p.pos++ // [
	a := []any{}
	if p.peek() == ']' {
		p.pos++
		return a, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a, nil
		default:
			return nil, p.fail("want ',' or ']' after an array element")
		}
	}
}

func (p *jsonParser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.fail("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *jsonParser) number() (json.Number, error) {
	d, start := p.data, p.pos
	i := start
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		p.pos = i
		return "", p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			p.pos = i
			return "", p.fail("invalid number: want a digit after '.'")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			p.pos = i
			return "", p.fail("invalid number: want a digit in the exponent")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	p.pos = i
	return json.Number(d[start:i]), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// str parses the string at p.pos and returns its unescaped bytes, which are valid until the
// next call (they point into the input or into p.sbuf).
func (p *jsonParser) str() ([]byte, error) {
	d := p.data
	start := p.pos + 1
	ascii := true
	for i := start; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '"':
			s := d[start:i]
			if ascii || utf8.Valid(s) {
				p.pos = i + 1
				return s, nil
			}
			return p.slowStr(start)
		case c == '\\':
			return p.slowStr(start)
		case c < 0x20:
			p.pos = i
			return nil, p.fail("control character in a string")
		case c >= 0x80:
			ascii = false
		}
	}
	p.pos = len(d)
	return nil, p.fail("unterminated string")
}

// slowStr unescapes a string that has escapes or invalid UTF-8, the way encoding/json does.
func (p *jsonParser) slowStr(start int) ([]byte, error) {
	d := p.data
	b := p.sbuf[:0]
	for i := start; i < len(d); {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.sbuf = b
			return b, nil
		case c == '\\':
			if i+1 >= len(d) {
				p.pos = i
				return nil, p.fail("unterminated string")
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				i += 2
			case 'b':
				b = append(b, '\b')
				i += 2
			case 'f':
				b = append(b, '\f')
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 'r':
				b = append(b, '\r')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'u':
				r := hex4(d[i:])
				if r < 0 {
					p.pos = i
					return nil, p.fail("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2 := hex4(d[i:]); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							break
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				p.pos = i
				return nil, p.fail("invalid escape")
			}
		case c < 0x20:
			p.pos = i
			return nil, p.fail("control character in a string")
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[i:i+size]...)
			}
			i += size
		}
	}
	p.sbuf = b
	p.pos = len(d)
	return nil, p.fail("unterminated string")
}

// hex4 reads `\uXXXX` at the start of s and returns the code unit, or -1.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// keyCache interns field names: records of one source repeat the same keys, so most keys cost
// a map lookup instead of an allocation. It is bounded, so hostile input cannot grow it.
type keyCache struct {
	m map[string]string
}

const maxCachedKeys = 4096

func (c *keyCache) intern(b []byte) string {
	if s, ok := c.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= 128 {
		if c.m == nil {
			c.m = make(map[string]string, 64)
		}
		if len(c.m) < maxCachedKeys {
			c.m[s] = s
		}
	}
	return s
}
