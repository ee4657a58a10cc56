// Package rawjson holds the JSON reading the ingest parsers share: the kind of a raw value,
// numbers that may arrive as strings, and *ingest.ParseErrors that say where and why a document
// could not be decoded.
package rawjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/text"
)

// Kind names the kind of a raw JSON value: "object", "array", "string", "number", "boolean" or
// "null", and "nothing" for an absent (empty) value. It looks at the first byte only: raw is
// expected to be valid JSON.
func Kind(raw []byte) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// IsNull reports whether raw is JSON null.
func IsNull(raw []byte) bool { return Kind(raw) == "null" }

// IsObject reports whether raw is a JSON object.
func IsObject(raw []byte) bool { return Kind(raw) == "object" }

// String reads raw as a JSON string; ok is false when it is absent or anything else.
func String(raw []byte) (s string, ok bool) {
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// TypeName names what a Go type decodes from the way a JSON reader would: "an object", "an
// array", "a string", "a boolean", "a number", else "another kind of value".
func TypeName(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another kind of value"
}

// SyntaxErrorAt converts the offset of a *json.SyntaxError on data into the 1-based line and
// column (in bytes) of the byte that failed. The offset is just past that byte, or the end of
// data when the input ended too early.
func SyntaxErrorAt(data []byte, se *json.SyntaxError) (line, col int) {
	off := min(max(se.Offset, 0), int64(len(data)))
	if off > 0 && !strings.Contains(se.Error(), "unexpected end") {
		off-- // point at the byte that failed, not past it
	}
	return ingest.LineCol(data, off)
}

// DecodeError turns an encoding/json error on data into a *ingest.ParseError of format: a
// syntax error with the line and column it happened at, a type mismatch with the path of the
// member, its position and what it should be.
func DecodeError(format string, data []byte, err error) *ingest.ParseError {
	pe := &ingest.ParseError{Format: format, Msg: err.Error()}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		pe.Line, pe.Column = SyntaxErrorAt(data, se)
		pe.Msg = "malformed JSON: " + se.Error()
	case errors.As(err, &te):
		pe.Path = te.Field
		if te.Offset > 0 {
			pe.Line, pe.Column = ingest.LineCol(data, te.Offset-1)
		}
		want := "another type"
		if te.Type != nil {
			want = TypeName(te.Type)
		}
		field := te.Field
		if field == "" {
			field = "the document"
		}
		pe.Msg = fmt.Sprintf("%s is a JSON %s, want %s", field, te.Value, want)
	}
	return pe
}

// TopLevel reads the top-level members of a document of format. It fails with a
// *ingest.ParseError on an empty document, malformed JSON, or anything but an object.
func TopLevel(format string, data []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ingest.ParseError{Format: format, Msg: "empty document"}
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &ingest.ParseError{Format: format, Line: 1, Column: 1,
				Msg: fmt.Sprintf("the document is a JSON %s, want an object", te.Value)}
		}
		return nil, DecodeError(format, data, err)
	}
	if keys == nil {
		return nil, &ingest.ParseError{Format: format, Msg: "the document is JSON null, want an object"}
	}
	return keys, nil
}

// CheckKind fails with a *ingest.ParseError at path key when the top-level member key is there
// but is neither null nor a JSON value of kind want ("array", "object"; see Kind).
func CheckKind(format string, keys map[string]json.RawMessage, key, want string) error {
	raw, ok := keys[key]
	if !ok {
		return nil
	}
	if got := Kind(raw); got != want && got != "null" {
		return &ingest.ParseError{Format: format, Path: key, Msg: fmt.Sprintf("%s is a JSON %s, want an %s", key, got, want)}
	}
	return nil
}

// NotThisFormat says why data is not a document of format, naming the format it is when
// ingest.Detect recognises another.
func NotThisFormat(format string, data []byte, why string) *ingest.ParseError {
	if f, err := ingest.Detect(data); err == nil && f != format {
		why = fmt.Sprintf("this is a %s document (%s)", f, why)
	}
	return &ingest.ParseError{Format: format, Msg: why}
}

// FlexNum is a JSON number that may also arrive as a numeric string. It never fails to decode:
// anything else leaves it unset, with Bad and Raw saying what was there.
type FlexNum struct {
	V   float64
	Set bool   // a number was read
	Str bool   // it came as a string
	Bad bool   // something that is not a number was there
	Raw string // what was there, cut to 40 bytes, when Bad
}

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (n *FlexNum) UnmarshalJSON(b []byte) error {
	*n = FlexNum{}
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			n.Bad, n.Raw = true, text.Cut(s, 40)
			return nil
		}
		str = strings.TrimSpace(str)
		if str == "" {
			return nil
		}
		n.Str, s = true, str
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		n.Bad, n.Raw = true, text.Cut(s, 40)
		return nil
	}
	n.V, n.Set = f, true
	return nil
}

// FlexInt is a FlexNum that must be a whole number of at most 2³¹ in magnitude.
type FlexInt struct {
	V   int
	Set bool
	Str bool
	Bad bool
	Raw string
}

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	var f FlexNum
	_ = f.UnmarshalJSON(b)
	*n = FlexInt{Str: f.Str, Bad: f.Bad, Raw: f.Raw}
	if !f.Set {
		return nil
	}
	if f.V != math.Trunc(f.V) || math.Abs(f.V) > 1<<31 {
		n.Bad, n.Raw, n.Str = true, text.Cut(strings.TrimSpace(string(b)), 40), false
		return nil
	}
	n.V, n.Set = int(f.V), true
	return nil
}
