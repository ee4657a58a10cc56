package grype

// This file is kept identical in ingest/trivy and ingest/grype (but for the package clause).

import (
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
)

func TestNormPurl(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pkg:npm/lodash@4.17.21", "pkg:npm/lodash@4.17.21"},
		{" pkg:NPM/lodash@4.17.21 ", "pkg:npm/lodash@4.17.21"},
		{"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12.5&arch=amd64", "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"},
		{"pkg:deb/debian/bash@5.0-4+deb10u1?arch=amd64", "pkg:deb/debian/bash@5.0-4%2Bdeb10u1?arch=amd64"},
		{"pkg:npm/%40babel/core@7.24.0", "pkg:npm/%40babel/core@7.24.0"},
		{"pkg:golang/github.com/gin-gonic/gin@v1.9.1#binding", "pkg:golang/github.com/gin-gonic/gin@v1.9.1#binding"},
		{"not a purl", ""},
		{"pkg:npm/", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := normPurl(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("normPurl(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if got != "" {
			if again, err := normPurl(got); again != got || err != nil {
				t.Errorf("normPurl(%q) = %q, %v: not stable", got, again, err)
			}
		}
	}
	for _, tt := range []struct{ name, version, want string }{
		{"libc6", "2.36-9", "pkg:generic/libc6@2.36-9"},
		{"org.example:lib", "1.0+b1", "pkg:generic/org.example:lib@1.0%2Bb1"},
		{"a/b c", "", "pkg:generic/a%2Fb%20c"},
		{" ", "1", ""},
	} {
		if got, ok := genericPurl(tt.name, tt.version); got != tt.want || ok != (tt.want != "") {
			t.Errorf("genericPurl(%q, %q) = %q, %v; want %q", tt.name, tt.version, got, ok, tt.want)
		}
	}
}

// checkPurls checks that every Component key is a purl in its canonical spelling.
func checkPurls(t testing.TB, doc *ingest.Document) {
	t.Helper()
	for _, n := range doc.Batch.Nodes {
		if n.Label != graph.LabelComponent {
			continue
		}
		if p, err := normPurl(n.Key); err != nil || p != n.Key {
			t.Errorf("component key %q is not a canonical purl: %q, %v", n.Key, p, err)
		}
	}
}
