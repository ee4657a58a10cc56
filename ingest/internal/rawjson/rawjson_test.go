package rawjson_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
)

func TestKind(t *testing.T) {
	tests := map[string]string{
		"":          "nothing",
		"  ":        "nothing",
		`{"a":1}`:   "object",
		" [1] ":     "array",
		`"x"`:       "string",
		"true":      "boolean",
		"false":     "boolean",
		"null":      "null",
		"\n null ":  "null",
		"-1.5e3":    "number",
		"0":         "number",
		"\t{}\r\n ": "object",
	}
	for in, want := range tests {
		if got := rawjson.Kind([]byte(in)); got != want {
			t.Errorf("Kind(%q) = %q, want %q", in, got, want)
		}
		if got := rawjson.IsNull([]byte(in)); got != (want == "null") {
			t.Errorf("IsNull(%q) = %v", in, got)
		}
		if got := rawjson.IsObject([]byte(in)); got != (want == "object") {
			t.Errorf("IsObject(%q) = %v", in, got)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"a b"`, "a b", true},
		{`""`, "", true},
		{`"\u00e9"`, "é", true},
		{``, "", false},
		{`1.6`, "", false},
		{`null`, "", true}, // null leaves a string alone, as encoding/json does
		{`["a"]`, "", false},
	}
	for _, tt := range tests {
		if got, ok := rawjson.String([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("String(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTypeName(t *testing.T) {
	type named string
	tests := []struct {
		t    reflect.Type
		want string
	}{
		{nil, "another kind of value"},
		{reflect.TypeFor[struct{ A int }](), "an object"},
		{reflect.TypeFor[*struct{ A int }](), "an object"},
		{reflect.TypeFor[map[string]any](), "an object"},
		{reflect.TypeFor[[]string](), "an array"},
		{reflect.TypeFor[[2]int](), "an array"},
		{reflect.TypeFor[string](), "a string"},
		{reflect.TypeFor[named](), "a string"},
		{reflect.TypeFor[**string](), "a string"},
		{reflect.TypeFor[bool](), "a boolean"},
		{reflect.TypeFor[int64](), "a number"},
		{reflect.TypeFor[uint8](), "a number"},
		{reflect.TypeFor[float32](), "a number"},
		{reflect.TypeFor[any](), "another kind of value"},
		{reflect.TypeFor[chan int](), "another kind of value"},
	}
	for _, tt := range tests {
		if got := rawjson.TypeName(tt.t); got != tt.want {
			t.Errorf("TypeName(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestSyntaxErrorAt(t *testing.T) {
	tests := []struct {
		doc       string
		line, col int
	}{
		{"{\n  \"a\": [}\n", 2, 9},    // the } that fails
		{"{\"a\": [", 1, 8},           // the end of the input, just past the last byte
		{"", 1, 1},                    // nothing at all
		{"{\"a\": []} x", 1, 11},      // the x after the value
		{"{\"a\": 1}}", 1, 9},         // a failing last byte
		{"{\n\"é\": x}", 2, 7},        // columns count bytes
		{"\n\n{\"a\": tru", 3, 9},     // a cut literal: its last byte
		{"[1, 2,\n 3, ]\n", 2, 5},     // ] after a comma
		{"{\"a\":\"\x01\"}", 1, 7},    // a control character in a string
		{"{\"a\": 1 \"b\": 2}", 1, 9}, // a missing comma
	}
	for _, tt := range tests {
		var v any
		err := json.Unmarshal([]byte(tt.doc), &v)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%q: %v is not a syntax error", tt.doc, err)
		}
		if line, col := rawjson.SyntaxErrorAt([]byte(tt.doc), se); line != tt.line || col != tt.col {
			t.Errorf("SyntaxErrorAt(%q) (%v) = %d:%d, want %d:%d", tt.doc, se, line, col, tt.line, tt.col)
		}
	}
}

func TestDecodeError(t *testing.T) {
	type doc struct {
		Name  string            `json:"name"`
		Items []struct{ N int } `json:"items"`
		Flag  *bool             `json:"flag"`
	}
	tests := []struct {
		name, doc string
		line, col int
		path, msg string
	}{
		{name: "syntax", doc: "{\n\"name\": }", line: 2, col: 9, msg: "malformed JSON: invalid character '}' looking for beginning of value"},
		{name: "truncated", doc: `{"name": "x"`, line: 1, col: 13, msg: "malformed JSON: unexpected end of JSON input"},
		{name: "string wanted", doc: "{\n\"name\": 5}", line: 2, col: 9, path: "name", msg: "name is a JSON number, want a string"},
		{name: "array wanted", doc: `{"items": {}}`, line: 1, col: 11, path: "items", msg: "items is a JSON object, want an array"},
		{name: "object wanted", doc: `{"items": [true]}`, line: 1, col: 15, path: "items", msg: "items is a JSON bool, want an object"},
		{name: "boolean wanted", doc: `{"flag": "yes"}`, line: 1, col: 14, path: "flag", msg: "flag is a JSON string, want a boolean"},
		{name: "top level", doc: `[1]`, line: 1, col: 1, msg: "the document is a JSON array, want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := json.Unmarshal([]byte(tt.doc), &d)
			if err == nil {
				t.Fatal("no error")
			}
			pe := rawjson.DecodeError("test", []byte(tt.doc), err)
			want := &ingest.ParseError{Format: "test", Path: tt.path, Line: tt.line, Column: tt.col, Msg: tt.msg}
			if *pe != *want {
				t.Errorf("DecodeError = %+v, want %+v", *pe, *want)
			}
		})
	}
	if pe := rawjson.DecodeError("test", nil, errors.New("boom")); pe.Msg != "boom" || pe.Line != 0 {
		t.Errorf("other error: %+v", *pe)
	}
}

func TestTopLevel(t *testing.T) {
	tests := []struct {
		name, doc string
		keys      []string
		err       *ingest.ParseError
	}{
		{name: "object", doc: `{"a":1,"b":[2]}`, keys: []string{"a", "b"}},
		{name: "empty object", doc: ` {} `, keys: []string{}},
		{name: "empty", doc: "", err: &ingest.ParseError{Format: "f", Msg: "empty document"}},
		{name: "blank", doc: " \n\t", err: &ingest.ParseError{Format: "f", Msg: "empty document"}},
		{name: "array", doc: `[{}]`, err: &ingest.ParseError{Format: "f", Line: 1, Column: 1, Msg: "the document is a JSON array, want an object"}},
		{name: "string", doc: `"x"`, err: &ingest.ParseError{Format: "f", Line: 1, Column: 1, Msg: "the document is a JSON string, want an object"}},
		{name: "null", doc: `null`, err: &ingest.ParseError{Format: "f", Msg: "the document is JSON null, want an object"}},
		{name: "malformed", doc: "{\"a\":", err: &ingest.ParseError{Format: "f", Line: 1, Column: 6, Msg: "malformed JSON: unexpected end of JSON input"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := rawjson.TopLevel("f", []byte(tt.doc))
			if tt.err != nil {
				var pe *ingest.ParseError
				if !errors.As(err, &pe) || *pe != *tt.err {
					t.Fatalf("error %#v, want %+v", err, *tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tt.keys) {
				t.Errorf("keys %v, want %v", keys, tt.keys)
			}
			for _, k := range tt.keys {
				if _, ok := keys[k]; !ok {
					t.Errorf("no key %q in %v", k, keys)
				}
			}
		})
	}
}

func TestCheckKind(t *testing.T) {
	keys := map[string]json.RawMessage{"a": json.RawMessage(`[1]`), "o": json.RawMessage(`{}`), "n": json.RawMessage(`null`), "s": json.RawMessage(`"x"`)}
	tests := []struct {
		key, want string
		err       *ingest.ParseError
	}{
		{"a", "array", nil},
		{"o", "object", nil},
		{"n", "array", nil},
		{"missing", "array", nil},
		{"o", "array", &ingest.ParseError{Format: "f", Path: "o", Msg: "o is a JSON object, want an array"}},
		{"s", "object", &ingest.ParseError{Format: "f", Path: "s", Msg: "s is a JSON string, want an object"}},
	}
	for _, tt := range tests {
		err := rawjson.CheckKind("f", keys, tt.key, tt.want)
		if tt.err == nil {
			if err != nil {
				t.Errorf("CheckKind(%s, %s) = %v", tt.key, tt.want, err)
			}
			continue
		}
		var pe *ingest.ParseError
		if !errors.As(err, &pe) || *pe != *tt.err {
			t.Errorf("CheckKind(%s, %s) = %#v, want %+v", tt.key, tt.want, err, *tt.err)
		}
	}
}

func TestNotThisFormat(t *testing.T) {
	tests := []struct{ format, doc, want string }{
		{ingest.FormatTrivy, `{"version":"2.1.0","runs":[]}`, "this is a sarif document (why)"},
		{ingest.FormatSARIF, `{"version":"2.1.0","runs":[]}`, "why"},
		{ingest.FormatSARIF, `{"hello":"world"}`, "why"},
	}
	for _, tt := range tests {
		pe := rawjson.NotThisFormat(tt.format, []byte(tt.doc), "why")
		if pe.Format != tt.format || pe.Msg != tt.want {
			t.Errorf("NotThisFormat(%s, %s) = %+v, want %q", tt.format, tt.doc, *pe, tt.want)
		}
	}
}

func TestFlexNum(t *testing.T) {
	tests := []struct {
		in   string
		want rawjson.FlexNum
	}{
		{`7.5`, rawjson.FlexNum{V: 7.5, Set: true}},
		{` 0 `, rawjson.FlexNum{V: 0, Set: true}},
		{`"9.8"`, rawjson.FlexNum{V: 9.8, Set: true, Str: true}},
		{`" 1e1 "`, rawjson.FlexNum{V: 10, Set: true, Str: true}},
		{`null`, rawjson.FlexNum{}},
		{`""`, rawjson.FlexNum{}},
		{`"  "`, rawjson.FlexNum{}},
		{`"high"`, rawjson.FlexNum{Str: true, Bad: true, Raw: "high"}},
		{`"NaN"`, rawjson.FlexNum{Str: true, Bad: true, Raw: "NaN"}},
		{`"Inf"`, rawjson.FlexNum{Str: true, Bad: true, Raw: "Inf"}},
		{`true`, rawjson.FlexNum{Bad: true, Raw: "true"}},
		{`{"a":1}`, rawjson.FlexNum{Bad: true, Raw: `{"a":1}`}},
		{`"` + strings.Repeat("x", 50) + `"`, rawjson.FlexNum{Str: true, Bad: true, Raw: strings.Repeat("x", 40)}},
	}
	for _, tt := range tests {
		var n rawjson.FlexNum
		if err := n.UnmarshalJSON([]byte(tt.in)); err != nil || n != tt.want {
			t.Errorf("FlexNum(%s) = %+v, %v; want %+v", tt.in, n, err, tt.want)
		}
	}
	// Inside a document, a value that is no number costs nothing else.
	var v struct {
		A, B rawjson.FlexNum
		C    string
	}
	if err := json.Unmarshal([]byte(`{"A":[1],"B":"2","C":"c"}`), &v); err != nil || !v.A.Bad || v.B.V != 2 || v.C != "c" {
		t.Errorf("in a document: %+v, %v", v, err)
	}
}

func TestFlexInt(t *testing.T) {
	tests := []struct {
		in   string
		want rawjson.FlexInt
	}{
		{`2`, rawjson.FlexInt{V: 2, Set: true}},
		{`-3`, rawjson.FlexInt{V: -3, Set: true}},
		{`"2"`, rawjson.FlexInt{V: 2, Set: true, Str: true}},
		{`2.0`, rawjson.FlexInt{V: 2, Set: true}},
		{`2.5`, rawjson.FlexInt{Bad: true, Raw: "2.5"}},
		{`"2.5"`, rawjson.FlexInt{Bad: true, Raw: `"2.5"`}},
		{`4294967296`, rawjson.FlexInt{Bad: true, Raw: "4294967296"}},
		{`2147483648`, rawjson.FlexInt{V: 1 << 31, Set: true}},
		{`null`, rawjson.FlexInt{}},
		{`"x"`, rawjson.FlexInt{Str: true, Bad: true, Raw: "x"}},
	}
	for _, tt := range tests {
		var n rawjson.FlexInt
		if err := n.UnmarshalJSON([]byte(tt.in)); err != nil || n != tt.want {
			t.Errorf("FlexInt(%s) = %+v, %v; want %+v", tt.in, n, err, tt.want)
		}
	}
}
