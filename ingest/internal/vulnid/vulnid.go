// Package vulnid spells advisory ids the canonical way, so that the same CVE or GHSA advisory
// has the same Vulnerability key whatever scanner reported it.
package vulnid

import (
	"regexp"
	"strings"
)

var (
	cvePrefix  = regexp.MustCompile(`^(?i:CVE)-[0-9]{4}-[0-9]{4,}`)
	ghsaPrefix = regexp.MustCompile(`^(?i:GHSA)(-[0-9A-Za-z]{4}){3}`)
)

// Normalize trims an advisory id and spells CVE ids in upper case ("CVE-2021-44228") and GHSA
// ids with a lower-case body ("GHSA-jfh8-c2jp-5v3q"). Other ids are only trimmed.
func Normalize(id string) string {
	id = strings.TrimSpace(id)
	if m := cvePrefix.FindString(id); m != "" && len(m) == len(id) {
		return strings.ToUpper(id)
	}
	if m := ghsaPrefix.FindString(id); m != "" && len(m) == len(id) {
		return "GHSA" + strings.ToLower(id[4:])
	}
	return id
}

// Prefix finds a CVE or GHSA id at the start of s, ended by the end of s or by a character that
// is neither a letter nor a digit, and returns it normalised: "CVE-2005-2541-tar" →
// "CVE-2005-2541". ok is false when s does not start with one.
func Prefix(s string) (id string, ok bool) {
	s = strings.TrimSpace(s)
	for _, re := range []*regexp.Regexp{cvePrefix, ghsaPrefix} {
		m := re.FindString(s)
		if m == "" {
			continue
		}
		if len(m) < len(s) {
			c := s[len(m)]
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				continue
			}
		}
		return Normalize(m), true
	}
	return "", false
}
