package trivy

// This file is kept identical in ingest/trivy and ingest/grype (but for the package clause).

import (
	"regexp"
	"strings"
)

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// imageDigest reads the digest of "repo@sha256:<hex>" or of a bare "sha256:<hex>"; ok is false
// for anything else.
func imageDigest(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if !sha256Digest.MatchString(s) {
		return "", false
	}
	return s, true
}

// imageName is an image reference without its digest: "a/b:1@sha256:…" → "a/b:1".
func imageName(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "@"); i > 0 {
		ref = ref[:i]
	}
	return ref
}

// imageTag reads the tag of an image reference: "ghcr.io/a/b:1.2@sha256:…" → "1.2". A port in
// the registry host ("localhost:5000/b") is no tag.
func imageTag(ref string) string {
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

// versionRange says which versions a finding covers, as far as the scanner tells: below the fix
// when there is exactly one fixed version, else the installed version.
func versionRange(installed string, fixed []string) string {
	if len(fixed) == 1 {
		return "<" + fixed[0]
	}
	if installed = strings.TrimSpace(installed); installed != "" {
		return "=" + installed
	}
	return ""
}
