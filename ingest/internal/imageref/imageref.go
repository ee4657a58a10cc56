// Package imageref reads container image references as scanners report them
// ("ghcr.io/org/app:1.2@sha256:…"): the digest, the name without it, and the tag.
package imageref

import (
	"regexp"
	"strings"
)

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Digest reads the digest of "repository@sha256:<hex>" or of a bare "sha256:<hex>" (lower-case
// hex); ok is false for anything else.
func Digest(s string) (digest string, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if !sha256Digest.MatchString(s) {
		return "", false
	}
	return s, true
}

// Name is an image reference without its digest: "a/b:1@sha256:…" → "a/b:1".
func Name(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "@"); i > 0 {
		ref = ref[:i]
	}
	return ref
}

// Tag reads the tag of an image reference: "ghcr.io/a/b:1.2@sha256:…" → "1.2". A port in the
// registry host ("localhost:5000/b") is no tag; "" when there is none.
func Tag(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if c := strings.LastIndex(ref, ":"); c > slash {
		return ref[c+1:]
	}
	return ""
}
