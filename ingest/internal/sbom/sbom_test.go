package sbom_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/sbom"
)

func newReader() *sbom.Reader { return &sbom.Reader{Doc: &ingest.Document{}} }

func TestWarn(t *testing.T) {
	r := newReader()
	for i := range sbom.MaxWarnings + 10 {
		r.Warn(fmt.Sprint(i), "m")
	}
	ws := r.Doc.Warnings
	if len(ws) != sbom.MaxWarnings || ws[0] != (ingest.Warning{Path: "0", Message: "m"}) {
		t.Fatalf("%d warnings, first %v", len(ws), ws[0])
	}
	if last := ws[len(ws)-1]; last != (ingest.Warning{Message: "too many warnings; the rest are left out"}) {
		t.Errorf("last warning %v", last)
	}
}

func TestArrayAndEntry(t *testing.T) {
	type entry struct {
		Name string    `json:"name"`
		Tags []string  `json:"tags"`
		N    int       `json:"n"`
		T    time.Time `json:"t"`
	}
	tests := []struct {
		name, raw string
		ok        bool
		want      entry
		warning   ingest.Warning
	}{
		{name: "an entry", raw: `{"name":"a","tags":["x"],"n":2}`, ok: true, want: entry{Name: "a", Tags: []string{"x"}, N: 2}},
		{name: "a member of the wrong kind", raw: `{"name":"a","tags":"x","n":2}`, ok: true, want: entry{Name: "a", N: 2},
			warning: ingest.Warning{Path: "e[0].tags", Message: "a JSON string where an array is expected; ignored (later mismatches in this entry go unreported)"}},
		{name: "not an object", raw: `["a"]`, warning: ingest.Warning{Path: "e[0]", Message: "not an object; skipped"}},
		{name: "null", raw: `null`, warning: ingest.Warning{Path: "e[0]", Message: "not an object; skipped"}},
		{name: "unreadable", raw: `{"t": "not a time"}`, warning: ingest.Warning{Path: "e[0]", Message: "cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader()
			items := r.Array(json.RawMessage(`[`+tt.raw+`]`), "e")
			if len(items) != 1 {
				t.Fatalf("Array = %v", items)
			}
			var e entry
			if ok := r.Entry(items[0], "e[0]", &e); ok != tt.ok || ok && !reflect.DeepEqual(e, tt.want) {
				t.Errorf("Entry = %v, %+v; want %v, %+v", ok, e, tt.ok, tt.want)
			}
			ws := r.Doc.Warnings
			switch {
			case tt.warning == (ingest.Warning{}) && len(ws) > 0:
				t.Errorf("warnings %v", ws)
			case tt.warning != (ingest.Warning{}) && (len(ws) != 1 || ws[0].Path != tt.warning.Path || !strings.HasPrefix(ws[0].Message, tt.warning.Message)):
				t.Errorf("warnings %v, want %v", ws, tt.warning)
			}
		})
	}
	for raw, warned := range map[string]bool{``: false, `null`: false, ` null `: false, `[]`: false, `{}`: true, `"a"`: true} {
		r := newReader()
		if got := r.Array(json.RawMessage(raw), "a"); got != nil && len(got) != 0 || (len(r.Doc.Warnings) > 0) != warned {
			t.Errorf("Array(%q) = %v, warnings %v", raw, got, r.Doc.Warnings)
		}
	}
}

func TestListComponent(t *testing.T) {
	r := newReader()
	for _, k := range []string{"a", "b", "a", "c", "b"} {
		r.ListComponent(k)
	}
	if want := []string{"a", "b", "c"}; !reflect.DeepEqual(r.Doc.Components, want) {
		t.Errorf("Components = %v, want %v", r.Doc.Components, want)
	}
}

func TestKeys(t *testing.T) {
	comps := []*sbom.Component{
		{Path: "c[0]", ID: "a", Name: "zlib", Version: "1.3"},
		{Path: "c[1]", ID: "b", Name: "zlib", Version: "1.3"},
		{Path: "c[2]", Name: "zlib", Version: "1.3"},
		{Path: "c[3]", ID: "d", Purl: "pkg:generic/zlib@1.3"},
		{Path: "c[4]", ID: "e", Name: "", Version: "2"},
		{Path: "c[5]", ID: "f", Purl: "pkg:npm/x@1"},
		{Path: "c[6]", ID: "g", Purl: "pkg:npm/x@1"},
	}
	r := newReader()
	taken := r.Keys(comps, "bom-ref", "component")
	want := []string{
		"pkg:generic/zlib@1.3?bom-ref=a", // the plain identity belongs to c[3]'s purl
		"pkg:generic/zlib@1.3?bom-ref=b",
		"pkg:generic/zlib@1.3?path=c%5B2%5D",
		"pkg:generic/zlib@1.3",
		"pkg:generic/e@2", // no name: the ID stands for it
		"pkg:npm/x@1",
		"pkg:npm/x@1", // a purl is shared, not set apart
	}
	for i, c := range comps {
		if c.Key != want[i] {
			t.Errorf("%s: key %q, want %q", c.Path, c.Key, want[i])
		}
		if !taken[c.Key] {
			t.Errorf("%s: key %q not among those taken", c.Path, c.Key)
		}
	}
	if len(taken) != 6 {
		t.Errorf("taken %v", taken)
	}
	var got []string
	for _, w := range r.Doc.Warnings {
		got = append(got, w.Path)
	}
	if want := []string{"c[0]", "c[1]", "c[2]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("warnings at %v, want %v: %v", got, want, r.Doc.Warnings)
	}
	if w := r.Doc.Warnings[1].Message; w != "no purl, and its identity pkg:generic/zlib@1.3 is taken by another component; identified as pkg:generic/zlib@1.3?bom-ref=b" {
		t.Errorf("warning %q", w)
	}
}

func TestComponent(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		c       sbom.Component
		props   map[string]any
		subject ingest.Subject
	}{
		{name: "full",
			c:       sbom.Component{ID: "r", Key: "pkg:npm/a@1", Purl: "pkg:npm/a@1", Name: "a", Version: "1", Type: "library", Supplier: "ACME", Hashes: []string{"sha1:00", "sha256:" + hex}, Licenses: []string{"MIT"}},
			props:   map[string]any{"name": "a", "version": "1", "type": "library", "supplier": "ACME", "hashes": []string{"sha1:00", "sha256:" + hex}, "licenses": []string{"MIT"}},
			subject: ingest.Subject{Name: "a", Version: "1", Purl: "pkg:npm/a@1", Type: "PACKAGE", Digest: "sha256:" + hex}},
		{name: "bare",
			c:       sbom.Component{ID: " SPDXRef-x ", Key: "pkg:generic/SPDXRef-x"},
			props:   map[string]any{},
			subject: ingest.Subject{Name: "SPDXRef-x", Purl: "pkg:generic/SPDXRef-x", Type: "PACKAGE"}},
		{name: "image with an OCI purl",
			c:       sbom.Component{Key: "pkg:oci/app@sha256%3A" + hex, Purl: "pkg:oci/app@sha256%3A" + hex, Name: "app", Type: "container"},
			props:   map[string]any{"name": "app", "type": "container"},
			subject: ingest.Subject{Name: "app", Purl: "pkg:oci/app@sha256%3A" + hex, Type: "IMAGE", Digest: "sha256:" + hex}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Props(); !reflect.DeepEqual(got, tt.props) {
				t.Errorf("Props = %v, want %v", got, tt.props)
			}
			if got := tt.c.Subject(); *got != tt.subject {
				t.Errorf("Subject = %+v, want %+v", *got, tt.subject)
			}
		})
	}
}

func TestSubjectType(t *testing.T) {
	tests := map[string]string{
		"":                      "PACKAGE",
		"application":           "PACKAGE",
		"library":               "PACKAGE",
		"framework":             "PACKAGE",
		"platform":              "PACKAGE",
		"container":             "IMAGE",
		"firmware":              "FIRMWARE",
		"source":                "SOURCE",
		strings.Repeat("x", 60): strings.Repeat("X", 50),
	}
	for in, want := range tests {
		if got := sbom.SubjectType(in); got != want {
			t.Errorf("SubjectType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHash(t *testing.T) {
	tests := []struct{ alg, value, want string }{
		{"SHA-256", " ABCDEF01 ", "sha256:abcdef01"},
		{"SHA256", "abcdef01", "sha256:abcdef01"},
		{"SHA3-256", "00", "sha3-256:00"},
		{"BLAKE2b-256", "ff", "blake2b-256:ff"},
		{"MD5", "d41d8cd98f00b204e9800998ecf8427e", "md5:d41d8cd98f00b204e9800998ecf8427e"},
		{"SHA-256", "xyz", ""},
		{"SHA-256", "", ""},
		{"", "00", ""},
		{"SHA-256", strings.Repeat("a", 1025), ""},
		{strings.Repeat("a", 33), "00", ""},
	}
	for _, tt := range tests {
		if got := sbom.Hash(tt.alg, tt.value); got != tt.want {
			t.Errorf("Hash(%q, %q) = %q, want %q", tt.alg, tt.value, got, tt.want)
		}
	}
}

func TestSetString(t *testing.T) {
	props := map[string]any{}
	sbom.SetString(props, "a", "x")
	sbom.SetString(props, "b", "")
	if !reflect.DeepEqual(props, map[string]any{"a": "x"}) {
		t.Errorf("props %v", props)
	}
}

func TestRootError(t *testing.T) {
	tests := []struct {
		name, doc string
		want      ingest.ParseError
	}{
		{name: "empty", doc: " \n", want: ingest.ParseError{Format: "f", Msg: "empty document"}},
		{name: "malformed", doc: "{\n  \"a\": }", want: ingest.ParseError{Format: "f", Line: 2, Column: 8, Msg: "malformed JSON: invalid character '}' looking for beginning of value"}},
		{name: "truncated", doc: `{"a": [`, want: ingest.ParseError{Format: "f", Line: 1, Column: 8, Msg: "malformed JSON: unexpected end of JSON input"}},
		{name: "array", doc: `[1]`, want: ingest.ParseError{Format: "f", Msg: "not an F document: the document is a JSON array, not an object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var top struct{ A []int }
			err := json.Unmarshal([]byte(tt.doc), &top)
			if err == nil {
				t.Fatal("no error")
			}
			if got := sbom.RootError("f", "not an F document", []byte(tt.doc), err); *got != tt.want {
				t.Errorf("RootError = %+v, want %+v", *got, tt.want)
			}
		})
	}
	if got := sbom.RootError("f", "x", []byte("{}"), errors.New("boom")); got.Msg != "boom" {
		t.Errorf("other error: %+v", *got)
	}
}
