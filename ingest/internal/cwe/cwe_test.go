package cwe_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/cwe"
)

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"CWE-79":         "CWE-79",
		" cwe-79 ":       "CWE-79",
		"CWE_079":        "CWE-79",
		"cwe 1321":       "CWE-1321",
		"CWE79":          "CWE-79",
		"79":             "CWE-79",
		"-79":            "CWE-79",
		"CWE-0":          "CWE-0",
		"CWE-1234567":    "CWE-1234567",
		"CWE-12345678":   "", // too many digits
		"NVD-CWE-noinfo": "",
		"NVD-CWE-Other":  "",
		"CWE-":           "",
		"CWE--79":        "",
		"CWE-79a":        "",
		"CAPEC-66":       "",
		"":               "",
		"injection":      "",
	}
	for in, want := range tests {
		got, ok := cwe.Normalize(in)
		if got != want || ok != (want != "") {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestPlaceholder(t *testing.T) {
	for in, want := range map[string]bool{"NVD-CWE-noinfo": true, " nvd-cwe-Other": true, "NVD-CWE": false, "CWE-79": false, "": false} {
		if got := cwe.Placeholder(in); got != want {
			t.Errorf("Placeholder(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestList(t *testing.T) {
	var bad []string
	got := cwe.List([]string{"CWE-79", " cwe-89", "79", "NVD-CWE-noinfo", "", "  ", "bogus", "CWE_0089", "CWE-1"},
		func(i int, s string) { bad = append(bad, fmt.Sprint(i, ":", s)) })
	if want := []string{"CWE-79", "CWE-89", "CWE-1"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	if want := []string{"6:bogus"}; !slices.Equal(bad, want) {
		t.Errorf("bad entries %q, want %q", bad, want)
	}
	if got := cwe.List([]string{"x", "CWE-2"}, nil); !slices.Equal(got, []string{"CWE-2"}) {
		t.Errorf("List without bad = %q", got)
	}
	if got := cwe.List(nil, nil); len(got) != 0 {
		t.Errorf("List(nil) = %q", got)
	}
}
