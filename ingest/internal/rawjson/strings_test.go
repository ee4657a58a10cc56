package rawjson_test

import (
	"slices"
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/rawjson"
)

func TestStrings(t *testing.T) {
	tests := map[string][]string{
		``:          nil,
		`null`:      nil,
		`""`:        nil,
		`"CWE-79"`:  {"CWE-79"},
		` "a b" `:   {"a b"},
		`5`:         nil,
		`true`:      nil,
		`{"a":"b"}`: nil,
		`[]`:        nil,
		`["a", "", null, 5, {}, ["c"], "b", "a"]`: {"a", "b", "a"},
		`[null]`:  nil,
		`[" x "]`: {" x "},
	}
	for in, want := range tests {
		if got := rawjson.Strings([]byte(in)); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("Strings(%s) = %#v, want %#v", in, got, want)
		}
	}
}
