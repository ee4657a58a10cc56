// Package cwe reads CWE ids (Common Weakness Enumeration) as advisories and catalogues spell
// them, so that a weakness has one spelling whatever wrote it.
package cwe

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/sectwin/sectwin/ingest/internal/batch"
)

var id = regexp.MustCompile(`^(?i:CWE)?[-_ ]?([0-9]{1,7})$`)

// Normalize spells a CWE id CWE-<n> ("cwe_079", "79" → "CWE-79"), whatever its case and
// surrounding space; ok is false for anything that is not one ("NVD-CWE-noinfo", words).
func Normalize(s string) (cwe string, ok bool) {
	m := id.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return "", false
	}
	return "CWE-" + strconv.Itoa(n), true
}

// Placeholder reports whether s is one of NVD's placeholders (NVD-CWE-noinfo, NVD-CWE-Other),
// which say only that there is no CWE id to give.
func Placeholder(s string) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "NVD-CWE-")
}

// List normalises a list of CWE ids (Normalize), keeping the order and dropping repeats. Blank
// entries and NVD's placeholders are dropped silently; bad, when not nil, is called with the
// index and text of every other entry that is not a CWE id, which is dropped too.
func List(in []string, bad func(i int, s string)) []string {
	var out []string
	for i, s := range in {
		c, ok := Normalize(s)
		if !ok {
			if bad != nil && !Placeholder(s) && strings.TrimSpace(s) != "" {
				bad(i, s)
			}
			continue
		}
		out = append(out, c)
	}
	return batch.Compact(out)
}
