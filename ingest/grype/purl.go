package grype

// This file is kept identical in ingest/trivy and ingest/grype (but for the package clause).

import (
	"fmt"
	"strings"

	"github.com/package-url/packageurl-go"
)

// normPurl parses a package URL and returns its canonical spelling (packageurl-go's String:
// lower-case type, sorted qualifiers, canonical escaping), so that the same package has the
// same key whatever wrote it. Like ingest/internal/purl, it re-parses until the spelling is
// stable, and refuses a purl whose spelling never settles.
func normPurl(s string) (purl string, err error) {
	defer func() {
		if r := recover(); r != nil {
			purl, err = "", fmt.Errorf("unreadable package URL: %v", r)
		}
	}()
	out := strings.TrimSpace(s)
	for range 3 {
		p, err := packageurl.FromString(out)
		if err != nil {
			return "", err
		}
		next := p.String()
		if next == out {
			return out, nil
		}
		out = next
	}
	if p, err := packageurl.FromString(out); err != nil || p.String() != out {
		return "", fmt.Errorf("%q has no stable canonical spelling", clip(s, 200))
	}
	return out, nil
}

// genericPurl is pkg:generic/name@version, for a package that has no usable purl.
func genericPurl(name, version string) (string, bool) {
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if name == "" {
		return "", false
	}
	p, err := normPurl(packageurl.NewPackageURL(packageurl.TypeGeneric, "", name, version, nil, "").String())
	return p, err == nil
}

// purlFor is the key of a package: its purl when it has a readable one, else
// pkg:generic/name@version with a warning. ok is false, with a warning, when there is neither.
func (b *builder) purlFor(path, purl, name, version string) (string, bool) {
	if strings.TrimSpace(purl) != "" {
		p, err := normPurl(purl)
		if err == nil {
			return p, true
		}
		if g, ok := genericPurl(name, version); ok {
			b.warn("bad purl", path, "purl %q is not a package URL (%v); used %s", clip(purl, 200), err, g)
			return g, true
		}
		b.warn("no package", path, "purl %q is not a package URL (%v) and there is no name; skipped", clip(purl, 200), err)
		return "", false
	}
	if g, ok := genericPurl(name, version); ok {
		b.warn("no purl", path, "no purl; used %s", g)
		return g, true
	}
	b.warn("no package", path, "neither a purl nor a package name; skipped")
	return "", false
}
