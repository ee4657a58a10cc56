// Package purl holds the package-URL helpers the ingest parsers share: normalisation through
// packageurl-go, the pkg:generic identity of packages that have no usable purl, and the digest
// an OCI purl carries.
package purl

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/package-url/packageurl-go"

	"github.com/sectwin/sectwin/ingest/internal/text"
)

// MaxLen bounds a purl used as a node key: graph refuses longer keys.
const MaxLen = 2048

// maxNameLen bounds the name of a generic purl made for a component whose name is too long for
// a key; a hash qualifier keeps such identities apart.
const maxNameLen = 256

// Normalize parses s as a package URL and returns its canonical form (lower-case type, sorted
// and escaped qualifiers, percent-encoding as the spec requires), so that the same package has
// the same key whatever wrote it. Surrounding spaces are ignored. It fails on anything
// packageurl-go refuses (or panics on), on non-UTF-8 input, on a purl whose canonical form never
// settles, and on results longer than MaxLen.
func Normalize(s string) (purl string, err error) {
	defer func() {
		if r := recover(); r != nil {
			purl, err = "", fmt.Errorf("unreadable package URL: %v", r)
		}
	}()
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty purl")
	}
	if !utf8.ValidString(s) {
		return "", errors.New("purl is not valid UTF-8")
	}
	out := s
	// Canonicalise until the form is stable: one round is enough for well-formed purls, a
	// second absorbs the rare input whose decoding changes on re-parsing.
	for range 3 {
		p, err := packageurl.FromString(out)
		if err != nil {
			return "", err
		}
		next := p.ToString()
		if next == out {
			break
		}
		out = next
	}
	if p, err := packageurl.FromString(out); err != nil || p.ToString() != out {
		return "", fmt.Errorf("purl %q has no stable canonical form", text.Cut(s, 200))
	}
	if len(out) > MaxLen {
		return "", fmt.Errorf("purl is longer than %d bytes", MaxLen)
	}
	return out, nil
}

// Qualifier is one key=value pair added to a generic identity to tell apart components that
// would otherwise share one.
type Qualifier struct{ Key, Value string }

// Generic returns the stable identity of a component without a usable purl:
// pkg:generic/<name>@<version>, escaped by packageurl-go, with the given qualifiers. An empty
// version is left out. Names (and qualifier values) that would make the purl longer than MaxLen
// are cut, and a sha256 qualifier over the full input keeps cut identities apart. The result
// always passes Normalize unchanged.
func Generic(name, version string, qs ...Qualifier) string {
	name = strings.ToValidUTF8(strings.TrimSpace(name), "\uFFFD")
	version = strings.ToValidUTF8(strings.TrimSpace(version), "\uFFFD")
	if name == "" {
		name = "unnamed"
	}
	var quals packageurl.Qualifiers
	for _, q := range qs {
		quals = append(quals, packageurl.Qualifier{Key: q.Key, Value: strings.ToValidUTF8(q.Value, "\uFFFD")})
	}
	p := packageurl.NewPackageURL(packageurl.TypeGeneric, "", name, version, quals, "")
	s := p.ToString()
	if len(s) <= MaxLen {
		if n, err := Normalize(s); err == nil && n == s {
			return s
		}
	}
	// Too long, or not stable under re-parsing: keep a readable prefix and a hash of the whole.
	h := sha256.New()
	h.Write([]byte(name + "\x00" + version))
	for _, q := range qs {
		h.Write([]byte("\x00" + q.Key + "=" + q.Value))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	p = packageurl.NewPackageURL(packageurl.TypeGeneric, "", text.Cut(name, maxNameLen), text.Cut(version, maxNameLen),
		packageurl.Qualifiers{{Key: "sha256", Value: sum}}, "")
	s = p.ToString()
	if n, err := Normalize(s); err == nil && n == s {
		return s
	}
	return "pkg:generic/unnamed?sha256=" + sum
}

// OCIDigest returns the "sha256:<hex>" digest that an OCI purl carries as its version
// (pkg:oci/name@sha256%3A…), or "" when p is not such a purl.
func OCIDigest(p string) string {
	u, err := packageurl.FromString(p)
	if err != nil || u.Type != packageurl.TypeOCI {
		return ""
	}
	return Digest("sha256", strings.TrimPrefix(strings.ToLower(u.Version), "sha256:"))
}

// Digest returns "<alg>:<hex>" when value is a hex digest of the length alg ("sha256",
// "sha512") calls for, else "".
func Digest(alg, value string) string {
	value = strings.ToLower(strings.TrimSpace(value))
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if want == 0 || len(value) != want {
		return ""
	}
	if _, err := hex.DecodeString(value); err != nil {
		return ""
	}
	return alg + ":" + value
}
