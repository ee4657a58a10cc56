package imageref_test

import (
	"strings"
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/imageref"
)

func TestDigest(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"sha256:" + hex, "sha256:" + hex, true},
		{" ghcr.io/a/b@sha256:" + hex + " ", "sha256:" + hex, true},
		{"a/b:1@sha256:" + hex, "sha256:" + hex, true},
		{"a@b@sha256:" + hex, "sha256:" + hex, true},
		{"sha256:" + strings.ToUpper(hex), "", false},
		{"sha256:" + hex[:10], "", false},
		{"sha512:" + hex + hex, "", false},
		{"a/b@sha256:x", "", false},
		{"a/b:1", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := imageref.Digest(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Digest(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestName(t *testing.T) {
	tests := map[string]string{
		"":                           "",
		" alpine:3.19 ":              "alpine:3.19",
		"ghcr.io/a/b:1@sha256:abc":   "ghcr.io/a/b:1",
		"a/b@sha256:abc":             "a/b",
		"@sha256:abc":                "@sha256:abc", // nothing before the digest: left alone
		"localhost:5000/app:2@x@y":   "localhost:5000/app:2",
		"registry.example.com/a/b/c": "registry.example.com/a/b/c",
	}
	for in, want := range tests {
		if got := imageref.Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTag(t *testing.T) {
	tests := map[string]string{
		"":                            "",
		"alpine":                      "",
		"alpine:3.19":                 "3.19",
		" ghcr.io/a/b:1.2@sha256:x ":  "1.2",
		"localhost:5000/b":            "",
		"localhost:5000/b:latest":     "latest",
		"a/b@sha256:abc":              "",
		"repo/app:1.2 (debian 10.13)": "1.2 (debian 10.13)", // callers cut targets first
	}
	for in, want := range tests {
		if got := imageref.Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
}
