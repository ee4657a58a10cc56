// Package text holds the string handling every ingest parser needs: cutting to a byte bound
// without splitting a character, cleaning what graph would refuse, and picking the first value
// given.
package text

import (
	"strings"
	"unicode/utf8"
)

// Cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Clean trims s and replaces invalid UTF-8, which graph refuses, with U+FFFD.
func Clean(s string) string {
	return strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
}

// First returns the first of its arguments that is not blank, trimmed; "" when all are.
func First(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}
