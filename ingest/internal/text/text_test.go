package text_test

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/text"
)

func TestCut(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"abc", 0, ""},
		{"éé", 3, "é"}, // é is two bytes: the second is not split
		{"éé", 4, "éé"},
		{"a€", 3, "a"}, // € is three bytes
		{"a€", 4, "a€"},
		{"\xff\xfe", 1, "\xff"}, // invalid UTF-8 is cut like single bytes
	}
	for _, tt := range tests {
		if got := text.Cut(tt.s, tt.n); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := map[string]string{
		"":             "",
		"  a b \n":     "a b",
		"a\xffb":       "a\uFFFDb",
		" \xff\xfe ":   "\uFFFD",
		"MIT OR 0BSD ": "MIT OR 0BSD",
	}
	for in, want := range tests {
		if got := text.Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFirst(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"", " ", "\t"}, ""},
		{[]string{" a ", "b"}, "a"},
		{[]string{"", " b "}, "b"},
	}
	for _, tt := range tests {
		if got := text.First(tt.in...); got != tt.want {
			t.Errorf("First(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
