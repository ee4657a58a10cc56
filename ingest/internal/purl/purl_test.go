package purl_test

import (
	"strings"
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/purl"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		fails    bool
	}{
		{in: "pkg:npm/express@4.18.2", want: "pkg:npm/express@4.18.2"},
		{in: " pkg:NPM/%40types/node@20.1.0 ", want: "pkg:npm/%40types/node@20.1.0"},
		{in: "pkg:deb/ubuntu/libc6@2.35?distro=ubuntu-22.04&arch=amd64", want: "pkg:deb/ubuntu/libc6@2.35?arch=amd64&distro=ubuntu-22.04"},
		{in: "pkg:oci/ubuntu@sha256%3Aab?repository_url=index.docker.io%2Flibrary%2Fubuntu", want: "pkg:oci/ubuntu@sha256:ab?repository_url=index.docker.io%2Flibrary%2Fubuntu"},
		{in: "pkg:pypi/Django@4.2", want: "pkg:pypi/django@4.2"},
		{in: "not a purl", fails: true},
		{in: "", fails: true},
		{in: "pkg:/", fails: true},
		{in: "pkg:npm/a\xff@1", fails: true},
		{in: "pkg:npm/" + strings.Repeat("a", 3000), fails: true},
		// From the Trivy and Grype parsers' tests.
		{in: "pkg:npm/lodash@4.17.21", want: "pkg:npm/lodash@4.17.21"},
		{in: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12.5&arch=amd64", want: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"},
		{in: "pkg:deb/debian/bash@5.0-4+deb10u1?arch=amd64", want: "pkg:deb/debian/bash@5.0-4%2Bdeb10u1?arch=amd64"},
		{in: "pkg:npm/%40babel/core@7.24.0", want: "pkg:npm/%40babel/core@7.24.0"},
		{in: "pkg:golang/github.com/gin-gonic/gin@v1.9.1#binding", want: "pkg:golang/github.com/gin-gonic/gin@v1.9.1#binding"},
		{in: "pkg:npm/", fails: true},
	}
	for _, tt := range tests {
		got, err := purl.Normalize(tt.in)
		if (err != nil) != tt.fails || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, failure %v", tt.in, got, err, tt.want, tt.fails)
		}
		if err == nil {
			if again, err := purl.Normalize(got); err != nil || again != got {
				t.Errorf("Normalize(%q) = %q, %v: not stable", got, again, err)
			}
		}
	}
}

func TestGeneric(t *testing.T) {
	tests := []struct {
		name, version string
		qs            []purl.Qualifier
		want          string
	}{
		{"zlib", "1.3", nil, "pkg:generic/zlib@1.3"},
		{"zlib", "", nil, "pkg:generic/zlib"},
		{"", "", nil, "pkg:generic/unnamed"},
		{"odd name/with slash", "1 0", nil, "pkg:generic/odd%20name%2Fwith%20slash@1%200"},
		{"a@b?c#d", "1", nil, "pkg:generic/a%40b%3Fc%23d@1"},
		{"config.json", "", []purl.Qualifier{{Key: "bom-ref", Value: "twin b"}}, "pkg:generic/config.json?bom-ref=twin%20b"},
		// From the Trivy and Grype parsers' tests.
		{"libc6", "2.36-9", nil, "pkg:generic/libc6@2.36-9"},
		{"org.example:lib", "1.0+b1", nil, "pkg:generic/org.example:lib@1.0%2Bb1"},
		{"a/b c", "", nil, "pkg:generic/a%2Fb%20c"},
		{" ", "1", nil, "pkg:generic/unnamed@1"},
		{" zlib ", " 1.3 ", nil, "pkg:generic/zlib@1.3"},
		{"a\xffb", "1", nil, "pkg:generic/a%EF%BF%BDb@1"},
	}
	for _, tt := range tests {
		got := purl.Generic(tt.name, tt.version, tt.qs...)
		if got != tt.want {
			t.Errorf("Generic(%q, %q, %v) = %q, want %q", tt.name, tt.version, tt.qs, got, tt.want)
		}
		if n, err := purl.Normalize(got); err != nil || n != got {
			t.Errorf("Generic(%q) = %q does not normalise to itself: %q, %v", tt.name, got, n, err)
		}
	}
	long := purl.Generic(strings.Repeat("é", 2000), "1")
	if len(long) > purl.MaxLen || !strings.Contains(long, "?sha256=") {
		t.Errorf("long name: %q", long)
	}
	if other := purl.Generic(strings.Repeat("é", 2000)+"x", "1"); other == long {
		t.Errorf("two long names share the identity %q", long)
	}
}

func TestOCIDigest(t *testing.T) {
	hexd := strings.Repeat("ab", 32)
	tests := map[string]string{
		"pkg:oci/ubuntu@sha256:" + hexd + "?arch=amd64":    "sha256:" + hexd,
		"pkg:oci/ubuntu@sha256%3A" + strings.ToUpper(hexd): "sha256:" + hexd,
		"pkg:oci/ubuntu@latest":                            "",
		"pkg:oci/ubuntu@sha256:abc":                        "",
		"pkg:npm/ubuntu@sha256:" + hexd:                    "",
		"junk":                                             "",
	}
	for in, want := range tests {
		if got := purl.OCIDigest(in); got != want {
			t.Errorf("OCIDigest(%q) = %q, want %q", in, got, want)
		}
	}
}
