package decode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/sectwin/sectwin/edge/decode"
)

func jsonNumber(s string) json.Number { return json.Number(s) }

// stdFlatten decodes one JSON object with encoding/json and flattens it the way the decoders
// do. ok is false when encoding/json rejects it or it is not an object.
// collided reports keys that meet once flattened ({"a.b":1,"a":{"b":2}}).
func stdFlatten(data []byte) (rec decode.Record, collided, ok bool) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false, false
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, false, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, false
	}
	rec = decode.Record{}
	var flat func(prefix string, nested bool, m map[string]any)
	flat = func(prefix string, nested bool, m map[string]any) {
		for k, v := range m {
			if nested {
				k = prefix + "." + k
			}
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				flat(k, true, sub)
				continue
			}
			if _, dup := rec[k]; dup {
				collided = true
			}
			rec[k] = v
		}
	}
	flat("", false, m)
	return rec, collided, true
}

// hasDupInAnyObject reports whether any object in data repeats a key: encoding/json keeps the
// last value per object, the flat record may merge them.
func hasDupInAnyObject(data []byte) bool {
	d := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys map[string]bool // nil for an array
		key  bool            // the next token of this object is a key
	}
	var stack []frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if n := len(stack) - 1; n >= 0 && stack[n].keys != nil && stack[n].key {
				k := tok.(string)
				if stack[n].keys[k] {
					return true
				}
				stack[n].keys[k] = true
				stack[n].key = false
				continue
			}
		}
		if n := len(stack) - 1; n >= 0 && stack[n].keys != nil {
			stack[n].key = true // a value ended
		}
	}
}

// checkAgainstStdlib decodes one line with the json decoder and compares with encoding/json.
func checkAgainstStdlib(t *testing.T, line []byte) {
	t.Helper()
	if bytes.ContainsAny(line, "\n\r") {
		return // framing differs: one line per record
	}
	if t := bytes.TrimSpace(line); len(t) == 0 || t[0] != '{' {
		return // blank lines are skipped; arrays yield several records
	}
	want, collided, ok := stdFlatten(line)
	d := decode.NewJSON(bytes.NewReader(line), decode.Options{MaxDepth: 10000})
	got, err := d.Next(context.Background())
	if !ok {
		if err == nil {
			t.Fatalf("accepted what encoding/json rejects: %q → %v", line, got)
		}
		if !errors.Is(err, decode.ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("rejected what encoding/json accepts: %q: %v", line, err)
	}
	if collided || hasDupInAnyObject(line) {
		return
	}
	if !reflect.DeepEqual(map[string]any(got), map[string]any(want)) {
		t.Fatalf("%q\n got  %#v\n want %#v", line, got, want)
	}
}

func TestJSONAgainstStdlib(t *testing.T) {
	for _, s := range jsonSeeds {
		checkAgainstStdlib(t, []byte(s))
	}
}

var jsonSeeds = []string{
	`{}`,
	`{"a":1}`,
	` { "a" : [ 1 , 2 , { "b" : null } ] , "c" : { "d" : { "e" : true } } } `,
	`{"a":{}}`,
	`{"a":[]}`,
	`{"e":"\u00e9\ud83d\ude00\ud800x\udc00\\\/\"\b\f\n\r\t"}`,
	`{"bad":"\ud800\u0041"}`,
	"{\"utf8\":\"caf\xc3\xa9 \xff\xfe\"}",
	`{"n":-0,"m":0.5e-3,"big":123456789012345678901234567890,"e":1E+2}`,
	`{"n":01}`,
	`{"n":-}`,
	`{"n":1.}`,
	`{"n":.5}`,
	`{"n":1e}`,
	`{"a":tru}`,
	`{"a":nul}`,
	`{"a" 1}`,
	`{"a":1,}`,
	`{"a":1}}`,
	`{"a":1} x`,
	`{"a":[1,]}`,
	`{"a":"x` + "\x01" + `"}`,
	`{"a":"\x"}`,
	`{"a":"\u12G4"}`,
	`{"a":"unterminated}`,
	`{"a.b":1,"a":{"b":2}}`,
	`{"a":1,"a":2}`,
	`{1:2}`,
	`{"a":[[[[[]]]]]}`,
	`{"":{"a":1},"x":{"":{}}}`,
	`{"a":"\u0000"}`,
	"{\"a\":\t\"tab\"\t}",
}

// FuzzJSON: the json decoder never panics and agrees with encoding/json on what is valid and
// on the values of unambiguous objects; whatever the input, every record it yields encodes to
// valid JSON and every error is a record error or io.EOF.
func FuzzJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStdlib(t, data)
		checkStream(t, "json", data, nil)
	})
}

// checkStream decodes all of data and checks the invariants every decoder keeps, and check's
// for each record.
func checkStream(t *testing.T, name string, data []byte, check func(decode.Record) string) {
	t.Helper()
	d, err := decode.New(name, bytes.NewReader(data), decode.Options{MaxRecordBytes: 4096, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for i := 0; ; i++ {
		if i > len(data)+2 {
			t.Fatalf("more results than input bytes: the decoder does not advance")
		}
		rec, err := d.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || !decode.IsRecordError(err) {
				t.Fatalf("err = %v (%T), want a record error", err, err)
			}
			if de.Line < 1 || de.Line > lines || de.Reason == "" {
				t.Fatalf("bad error position or reason: %+v", de)
			}
			continue
		}
		if check != nil {
			if msg := check(rec); msg != "" {
				t.Fatalf("%s: %v", msg, rec)
			}
		}
		b, err := rec.AppendJSON(nil)
		if err != nil {
			t.Fatalf("record does not encode: %v", err)
		}
		if !json.Valid(b) {
			t.Fatalf("encoded record is not JSON: %s", b)
		}
	}
}
