package decode

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Record is one decoded event: a flat map from field name to value. Nested objects of the
// source are flattened into dotted names ("alert.signature", "id.orig_h"). Values are string,
// json.Number, bool, nil, or []any of values (objects inside arrays are map[string]any).
// Transforms may also store float64, int and int64.
type Record map[string]any

// String returns the field's value if it is a string.
func (r Record) String(key string) (string, bool) {
	s, ok := r[key].(string)
	return s, ok
}

// Text returns a scalar field's value as text: strings as they are, numbers as written,
// booleans as true/false. ok is false for missing fields, null, arrays and objects.
func (r Record) Text(key string) (string, bool) {
	return ScalarText(r[key])
}

// ScalarText returns a scalar value as text (see Record.Text).
func ScalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

// MarshalJSON encodes the record as one JSON object with sorted keys.
func (r Record) MarshalJSON() ([]byte, error) {
	var e Encoder
	return e.Append(nil, r)
}

// AppendJSON appends the record as one JSON object with sorted keys (no newline).
func (r Record) AppendJSON(dst []byte) ([]byte, error) {
	var e Encoder
	return e.Append(dst, r)
}

// Encoder writes records as JSON objects with sorted keys, reusing its scratch space; it is
// not safe for concurrent use. Strings are escaped as encoding/json does except that <, > and &
// are not escaped; invalid UTF-8 becomes U+FFFD.
type Encoder struct {
	keys []string
}

// Append appends rec to dst.
func (e *Encoder) Append(dst []byte, rec Record) ([]byte, error) {
	e.keys = e.keys[:0]
	for k := range rec {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	dst = append(dst, '{')
	for i, k := range e.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, rec[k], 0); err != nil {
			return dst, fmt.Errorf("field %q: %w", k, err)
		}
	}
	return append(dst, '}'), nil
}

const maxEncodeDepth = 1000

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return dst, fmt.Errorf("nested deeper than %d", maxEncodeDepth)
	}
	switch v := v.(type) {
	case string:
		return appendString(dst, v), nil
	case json.Number:
		if !validNumber(string(v)) {
			return dst, fmt.Errorf("invalid number")
		}
		return append(dst, v...), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case nil:
		return append(dst, "null"...), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return dst, fmt.Errorf("unsupported number %v", v)
		}
		return strconv.AppendFloat(dst, v, 'g', -1, 64), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case []any:
		dst = append(dst, '[')
		for i, x := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, x, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValue(dst, v[k], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case Record:
		return appendValue(dst, map[string]any(v), depth)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	}
}

const hexDigits = "0123456789abcdef"

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}
